//! Scope rules on the organisation, and point-to-grid (on the fixture and on the demo data).

use crate::support::*;
use geo::InteriorPoint;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_town_user_gets_404_for_the_other_town_and_lists_never_include_it() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        s.user(
            "clerk_a",
            "intake_clerk",
            &format!("region:{TOWN_A}"),
            false,
        )
        .await;
        s.user("county_admin", "admin", "region:370883", false)
            .await;
        let a = s.login("clerk_a").await;
        let county = s.login("county_admin").await;

        // Details: 404 (not 403, not data) for town B's region, village, grid and department.
        for path in [
            format!("/api/v1/regions/{TOWN_B}"),
            format!("/api/v1/regions/{VILLAGE_B}"),
            format!("/api/v1/grids/{GRID_B}"),
            format!("/api/v1/departments/{}", s.dept_b),
        ] {
            let (status, body) = s.get(&a, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {path}: {body}");
            assert_eq!(body["code"], "not_found", "{backend} {path}");
            assert!(body.get("name").is_none());
            let (status, _) = s.get(&county, &path).await;
            assert_eq!(status, StatusCode::OK, "{backend} county sees {path}");
        }
        // A code that exists nowhere looks the same as one out of scope.
        let (status, missing) = s.get(&a, "/api/v1/regions/370883199").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, out_of_scope) = s.get(&a, &format!("/api/v1/regions/{TOWN_B}")).await;
        assert_eq!(
            missing, out_of_scope,
            "{backend}: absent and out-of-scope answer alike"
        );

        // Own town: visible.
        let (status, body) = s.get(&a, &format!("/api/v1/regions/{TOWN_A}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["name"], "太平镇");

        // Lists and counts hold only town A.
        let (_, regions) = s.get(&a, "/api/v1/regions").await;
        assert_eq!(
            regions["total"], 2,
            "{backend}: town A and its village: {regions}"
        );
        assert!(
            regions["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["code"].as_str().unwrap().starts_with(TOWN_A))
        );
        let (_, grids) = s.get(&a, "/api/v1/grids").await;
        assert_eq!(grids["total"], 1, "{backend}");
        assert_eq!(grids["items"][0]["code"], GRID_A);
        let (_, grids) = s
            .get(&a, &format!("/api/v1/grids?region_code={TOWN_B}"))
            .await;
        assert_eq!(
            grids["total"], 0,
            "{backend}: filtering by another town yields nothing"
        );
        let (_, departments) = s.get(&a, "/api/v1/departments").await;
        assert_eq!(
            departments["total"], 4,
            "{backend}: the police station and three more town units"
        );
        assert!(
            departments["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["region_code"] == TOWN_A && d["id"] != s.dept_b)
        );
        let (_, county_regions) = s.get(&county, "/api/v1/regions").await;
        assert_eq!(
            county_regions["total"], 5,
            "{backend}: the county sees itself, both towns and villages"
        );

        // Each out-of-scope request is recorded as a denied access.
        let denied = s.audit("access.denied").await;
        assert!(
            denied
                .iter()
                .any(|r| r.object == format!("region:{TOWN_B}") && r.result == "out_of_scope"),
            "{backend}"
        );

        // An administrator of town A cannot create a region under town B.
        s.user("admin_a", "admin", &format!("region:{TOWN_A}"), false)
            .await;
        let admin_a = s.login("admin_a").await;
        let (status, _) = s
            .post(
                &admin_a,
                "/api/v1/regions",
                json!([{ "code": "370883108002", "name": "新村" }]),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, body) = s
            .post(
                &admin_a,
                "/api/v1/regions",
                json!([{ "code": "370883107002", "name": "新村" }]),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let (status, body) = s
            .post(
                &admin_a,
                "/api/v1/departments",
                json!({ "name": "石墙镇司法所", "kind": "justice_office", "region_code": TOWN_B }),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {body}");
    }
    Ok(())
}

#[tokio::test]
async fn points_are_placed_in_grids_in_any_coordinate_system() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        s.user(
            "clerk_a",
            "intake_clerk",
            &format!("region:{TOWN_A}"),
            false,
        )
        .await;
        let a = s.login("clerk_a").await;

        let (status, body) = s.get(&a, "/api/v1/locate?lng=116.8&lat=35.4").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["placement"]["placement"], "in_grid");
        assert_eq!(body["placement"]["grid"], GRID_A);
        assert_eq!(body["in_scope"], true);
        let codes: Vec<&str> = body["regions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["37", "3708", "370883", TOWN_A, VILLAGE_A]);

        // The same place as a GCJ-02 (AMap) and a BD-09 (Baidu) coordinate lands in the same grid.
        let here = fengqiao_geo::coords::LngLat {
            lng: 116.8,
            lat: 35.4,
        };
        for system in [
            fengqiao_geo::coords::CoordSystem::Gcj02,
            fengqiao_geo::coords::CoordSystem::Bd09,
        ] {
            let p = fengqiao_geo::coords::from_wgs84(system, here);
            assert!((p.lng - here.lng).abs() > 1e-4, "the systems differ here");
            let (_, body) = s
                .get(
                    &a,
                    &format!(
                        "/api/v1/locate?lng={}&lat={}&coord_system={}",
                        p.lng,
                        p.lat,
                        system.as_str()
                    ),
                )
                .await;
            assert_eq!(
                body["placement"]["grid"], GRID_A,
                "{backend} {system:?}: {body}"
            );
            assert!((body["lng"].as_f64().unwrap() - 116.8).abs() < 1e-6);
        }

        // Another town's grid: placed, but flagged out of the caller's scope.
        let (_, body) = s.get(&a, "/api/v1/locate?lng=116.9&lat=35.4").await;
        assert_eq!(body["placement"]["grid"], GRID_B);
        assert_eq!(body["in_scope"], false);
        // Between the grids: outside all grids, for the dispatcher to place.
        let (_, body) = s.get(&a, "/api/v1/locate?lng=116.85&lat=35.4").await;
        assert_eq!(
            body["placement"]["placement"], "outside_all_grids",
            "{backend}: {body}"
        );
        // Far away (Beijing): outside the deployment's area.
        let (_, body) = s.get(&a, "/api/v1/locate?lng=116.4&lat=39.9").await;
        assert_eq!(
            body["placement"]["placement"], "outside_area",
            "{backend}: {body}"
        );
        // Bad input: which field and why.
        let (status, body) = s.get(&a, "/api/v1/locate?lng=200&lat=35.4").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["fields"][0]["field"], "lng");
        let (status, body) = s
            .get(&a, "/api/v1/locate?lng=116.8&lat=35.4&coord_system=utm")
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["fields"][0]["field"], "coord_system");
    }
    Ok(())
}

#[tokio::test]
async fn grids_import_from_geojson_with_dedicated_grids_inside_basic_ones() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        s.user("admin_a", "admin", &format!("region:{TOWN_A}"), false)
            .await;
        let admin = s.login("admin_a").await;
        let school = serde_json::json!({
            "type": "FeatureCollection",
            "features": [{
                "type": "Feature",
                "properties": { "code": "370883107001801", "name": "太平镇中心小学", "kind": "dedicated" },
                "geometry": serde_json::from_str::<serde_json::Value>(&square(116.802, 35.402, 0.001))?
            }]
        });
        let response = s
            .http
            .post(s.url("/api/v1/grids"))
            .bearer_auth(&admin)
            .body(school.to_string())
            .send()
            .await?;
        let (status, body) = decode(response).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let (_, body) = s.get(&admin, "/api/v1/locate?lng=116.802&lat=35.402").await;
        assert_eq!(
            body["placement"]["grid"], "370883107001801",
            "{backend}: {body}"
        );
        assert_eq!(body["placement"]["kind"], "dedicated");
        assert_eq!(body["placement"]["basic_grid"], GRID_A);

        // A grid in another town is refused whole, and nothing is written.
        let other = serde_json::json!({
            "type": "FeatureCollection",
            "features": [
                { "type": "Feature", "properties": { "code": "370883107001002" }, "geometry": serde_json::from_str::<serde_json::Value>(&square(116.79, 35.39, 0.001))? },
                { "type": "Feature", "properties": { "code": "370883108001009" }, "geometry": serde_json::from_str::<serde_json::Value>(&square(116.9, 35.4, 0.001))? }
            ]
        });
        let response = s
            .http
            .post(s.url("/api/v1/grids"))
            .bearer_auth(&admin)
            .body(other.to_string())
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{backend}");
        assert!(
            s.app.store.get_grid("370883107001002").await?.is_none(),
            "{backend}: all or nothing"
        );
        // Broken GeoJSON: a clear error naming the field.
        let response = s.http.post(s.url("/api/v1/grids")).bearer_auth(&admin).body("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}]}").send().await?;
        let (status, body) = decode(response).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {body}"
        );
        assert!(
            !body["fields"][0]["message_zh"]
                .as_str()
                .unwrap_or("")
                .is_empty()
        );
    }
    Ok(())
}

#[tokio::test]
async fn point_to_grid_on_the_demo_data() -> TestResult {
    for backend in backends() {
        let dir = tempfile::tempdir()?;
        let store = fresh_store(backend, dir.path()).await;
        let keys = fengqiao_app::personal::PersonalDataKeys::from_master(&[3; 32])?;
        let clock = std::sync::Arc::new(fengqiao_app::clock::FixedClock::at(start_time()));
        let app =
            fengqiao_app::App::new(store, clock, keys, fengqiao_app::Settings::default()).await?;
        let divisions = include_str!("../../../fengqiao/demo/divisions.csv");
        let towns = include_str!("../../../fengqiao/demo/towns.csv");
        let summary = app.load_demo(divisions, towns).await?;
        assert!(
            summary.grids > 500 && summary.regions > 300,
            "{backend}: {summary:?}"
        );
        assert!(app.demo_loaded().await?);
        // The mediation and petition screens have something to show.
        assert_eq!(
            (
                summary.committees,
                summary.mediators,
                summary.reception_schedules
            ),
            (1, 5, 2),
            "{backend}"
        );

        // A county-wide dispatcher places points; every basic grid's interior point lands in that grid
        // (or in a dedicated grid inside it), and its village and town come along.
        app.add_user(&fengqiao_app::users::UserInput {
            username: "kelan".into(),
            display_name: None,
            password: PASSWORD.into(),
            roles: vec![fengqiao_app::users::GrantInput {
                role: "dispatcher".into(),
                scope: "region:140929".into(),
            }],
            can_unmask: false,
            department_id: None,
            grid_code: None,
        })
        .await?;
        let user = app.store.credentials("kelan").await?.expect("user");
        let actor = app
            .actor_for(
                app.store.get_user(user.user_id).await?.expect("user"),
                "test".into(),
                None,
            )
            .await?;
        let grids = app
            .grids(
                &actor,
                &fengqiao_store::GridFilter::default(),
                fengqiao_store::Page {
                    offset: 0,
                    limit: 1000,
                },
            )
            .await?;
        assert!(grids.total > 100, "{backend}: 岢岚县 has over 100 grids");
        let mut checked = 0;
        for grid in grids.items.iter().filter(|g| g.kind == "basic") {
            let shape = fengqiao_app::org::parse_geometry(&grid.geometry)?;
            let point = shape.interior_point().expect("interior point");
            let location = app
                .locate(
                    &actor,
                    point.x(),
                    point.y(),
                    fengqiao_geo::coords::CoordSystem::Wgs84,
                )
                .await?;
            match &location.placement {
                fengqiao_geo::index::Placement::InGrid {
                    grid: found,
                    basic_grid,
                    ..
                } => {
                    assert!(
                        found == &grid.code || basic_grid.as_deref() == Some(grid.code.as_str()),
                        "{backend}: {} → {found}",
                        grid.code
                    );
                }
                other => panic!("{backend}: {} → {other:?}", grid.code),
            }
            assert!(location.in_scope);
            assert_eq!(
                location.regions.last().map(|r| r.code.as_str()),
                Some(grid.village_code.as_str())
            );
            assert_eq!(
                location.regions.get(2).map(|r| r.code.as_str()),
                Some("140929")
            );
            checked += 1;
        }
        assert!(checked > 100);
        // The dedicated grids of 太平镇 sit inside basic grids: both are recorded.
        let dedicated = app
            .store
            .get_grid("370883107001801")
            .await?
            .expect("a dedicated demo grid");
        let point = fengqiao_app::org::parse_geometry(&dedicated.geometry)?
            .interior_point()
            .expect("point");
        let location = app
            .locate(
                &actor,
                point.x(),
                point.y(),
                fengqiao_geo::coords::CoordSystem::Wgs84,
            )
            .await?;
        match location.placement {
            fengqiao_geo::index::Placement::InGrid {
                grid, basic_grid, ..
            } => {
                assert_eq!(grid, dedicated.code);
                assert!(basic_grid.is_some_and(|b| b.starts_with("370883107001")));
            }
            other => panic!("{backend}: {other:?}"),
        }
        assert!(
            !location.in_scope,
            "{backend}: 太平镇 is outside 岢岚县's dispatcher's scope"
        );
    }
    Ok(())
}
