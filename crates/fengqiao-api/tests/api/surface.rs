//! The API's surface: every route documented, errors shaped alike, health and metrics.

use crate::support::*;
use reqwest::StatusCode;
use std::collections::BTreeSet;

/// The routes Fengqiao serves. A route added to the router without documentation, or documented without
/// being served, fails one of the two tests below.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/audit/verify"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/auth/me"),
    ("get", "/api/v1/backlog-cases"),
    ("get", "/api/v1/backlog-cases/{id}"),
    ("post", "/api/v1/backlog-cases/{id}/actions"),
    ("get", "/api/v1/backlog-cases/{id}/history"),
    ("get", "/api/v1/bulletin"),
    ("get", "/api/v1/bulletin/export"),
    ("get", "/api/v1/calendar/days"),
    ("post", "/api/v1/calendar/notices"),
    ("get", "/api/v1/case-duplicates"),
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/export"),
    ("get", "/api/v1/cases/{id}"),
    ("post", "/api/v1/cases/{id}/actions"),
    ("get", "/api/v1/cases/{id}/attachments"),
    ("post", "/api/v1/cases/{id}/attachments"),
    ("get", "/api/v1/cases/{id}/attachments/{attachment_id}"),
    ("get", "/api/v1/cases/{id}/mediations"),
    ("post", "/api/v1/cases/{id}/mediations"),
    ("get", "/api/v1/cases/{id}/route-proposal"),
    ("get", "/api/v1/cases/{id}/timeline"),
    ("get", "/api/v1/categories"),
    ("post", "/api/v1/categories/import"),
    ("get", "/api/v1/categories/suggest"),
    ("put", "/api/v1/categories/{code}"),
    ("get", "/api/v1/committees"),
    ("post", "/api/v1/committees"),
    ("get", "/api/v1/committees/{id}"),
    ("get", "/api/v1/committees/{id}/mediators"),
    ("post", "/api/v1/committees/{id}/mediators"),
    ("get", "/api/v1/departments"),
    ("post", "/api/v1/departments"),
    ("get", "/api/v1/departments/{id}"),
    ("get", "/api/v1/grids"),
    ("post", "/api/v1/grids"),
    ("get", "/api/v1/grids/{code}"),
    ("put", "/api/v1/grids/{code}/staff"),
    ("get", "/api/v1/leaders"),
    ("get", "/api/v1/leaders/{id}/calendar"),
    ("get", "/api/v1/locate"),
    ("get", "/api/v1/mediation-figures"),
    ("get", "/api/v1/mediation-figures/mediations"),
    ("get", "/api/v1/mediations"),
    ("get", "/api/v1/mediations/{id}"),
    ("post", "/api/v1/mediations/{id}/actions"),
    ("get", "/api/v1/mediations/{id}/agreement"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/read"),
    ("get", "/api/v1/petition-figures"),
    ("get", "/api/v1/petitions"),
    ("post", "/api/v1/petitions"),
    ("get", "/api/v1/petitions/{id}"),
    ("post", "/api/v1/petitions/{id}/actions"),
    ("post", "/api/v1/petitions/{id}/backlog"),
    ("get", "/api/v1/petitions/{id}/history"),
    ("post", "/api/v1/petitions/{id}/unmask"),
    ("post", "/api/v1/public/cases"),
    ("post", "/api/v1/public/cases/{number}/photos"),
    ("post", "/api/v1/public/cases/{number}/rating"),
    ("get", "/api/v1/public/places"),
    ("get", "/api/v1/public/track"),
    ("post", "/api/v1/public/verification-codes"),
    ("get", "/api/v1/rates"),
    ("get", "/api/v1/rates/cases"),
    ("get", "/api/v1/rates/breakdown"),
    ("get", "/api/v1/case-points"),
    ("get", "/api/v1/reception-schedules"),
    ("post", "/api/v1/reception-schedules"),
    ("post", "/api/v1/reception-schedules/{id}/appointments"),
    ("post", "/api/v1/reception-schedules/{id}/receptions"),
    ("get", "/api/v1/receptions/{id}"),
    ("get", "/api/v1/regions"),
    ("post", "/api/v1/regions"),
    ("get", "/api/v1/regions/{code}"),
    ("get", "/api/v1/relabels"),
    ("get", "/api/v1/residents"),
    ("post", "/api/v1/residents"),
    ("get", "/api/v1/residents/{id}"),
    ("post", "/api/v1/residents/{id}/unmask"),
    ("post", "/api/v1/search/rebuild"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{id}"),
    ("patch", "/api/v1/users/{id}"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/readyz"),
];

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_served() -> TestResult {
    let s = Server::start("sqlite").await;
    let response = s.http.get(s.url("/api/openapi.json")).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: serde_json::Value = response.json().await?;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty()),
                    "{method} {path} documents its responses"
                );
                assert!(
                    operation.get("summary").is_some() || operation.get("description").is_some(),
                    "{method} {path} is described"
                );
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);

    // Every documented operation is answered by a handler, not by the "no such route" fallback.
    for (method, path) in &expected {
        let url = s.url(
            &path
                .replace("{id}", "1")
                .replace("{attachment_id}", "1")
                .replace("{code}", GRID_A),
        );
        let request = match method.as_str() {
            "get" => s.http.get(&url),
            "post" => s.http.post(&url),
            "put" => s.http.put(&url),
            "patch" => s.http.patch(&url),
            _ => s.http.delete(&url),
        };
        let response = request
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await?;
        let (status, body) = decode(response).await;
        assert_ne!(body["code"], "no_route", "{method} {path}: {status}");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
    let (status, body) = decode(s.http.get(s.url("/api/v1/nothing-here")).send().await?).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_route"))
    );
    Ok(())
}

#[tokio::test]
async fn errors_carry_a_code_and_both_languages() -> TestResult {
    let s = Server::start("sqlite").await;
    let (status, body) = decode(s.http.get(s.url("/api/v1/regions")).send().await?).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");
    assert!(
        !body["message_zh"].as_str().unwrap().is_empty()
            && !body["message_en"].as_str().unwrap().is_empty()
    );
    let (status, body) = decode(
        s.http
            .get(s.url("/api/v1/regions"))
            .bearer_auth("not-a-token")
            .send()
            .await?,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let (status, body) = s
        .post_anon(
            "/api/v1/auth/login",
            serde_json::json!({ "username": "", "password": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["fields"][0]["field"], "username");
    Ok(())
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let response = s.http.get(s.url("/healthz")).send().await?;
        assert_eq!(response.status(), StatusCode::OK);
        let response = s.http.get(s.url("/readyz")).send().await?;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        let metrics = s.http.get(s.url("/metrics")).send().await?.text().await?;
        assert!(
            metrics.contains("fengqiao_http_requests_total"),
            "{metrics}"
        );
        if backend == "sqlite" {
            assert!(
                metrics.contains(
                    "fengqiao_sqlite_group_commit_registrations_total{written=\"together\"}"
                ),
                "{metrics}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn migrations_run_from_empty_and_again_without_change() -> TestResult {
    for backend in backends() {
        let dir = tempfile::tempdir()?;
        let store = fresh_store(backend, dir.path()).await;
        store.migrate().await?;
        store.ping().await?;
        // The tables the foundation promises exist and are empty.
        for table in [
            "regions",
            "grids",
            "departments",
            "users",
            "user_roles",
            "sessions",
            "residents",
            "audit_log",
            "login_failures",
        ] {
            let n = store
                .execute_raw(&format!("DELETE FROM {table} WHERE 1 = 0"))
                .await?;
            assert_eq!(n, 0, "{backend} {table}");
        }
        assert_eq!(store.unsealed_audit_count().await?, 0);
    }
    Ok(())
}

/// The web front end's copy of the OpenAPI document (`web/openapi.json`, from which `npm run gen:api`
/// generates its TypeScript types; a Vitest test checks those against it) is the one the code describes.
/// `FQ_UPDATE_OPENAPI=1 cargo test -p fengqiao-api --test api openapi` rewrites it.
#[test]
fn the_web_front_ends_copy_of_the_openapi_document_is_current() -> TestResult {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/openapi.json");
    let current = serde_json::to_string_pretty(&fengqiao_api::openapi())? + "\n";
    if std::env::var_os("FQ_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &current)?;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "web/openapi.json is stale: run `FQ_UPDATE_OPENAPI=1 cargo test -p fengqiao-api --test api openapi`, then `npm run gen:api` in web/"
    );
    Ok(())
}
