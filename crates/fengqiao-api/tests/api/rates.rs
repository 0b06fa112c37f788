//! The rates against a hand-computed fixture, with drill-downs, relabelling, reopening and scope.

use crate::cases::{dispute, register, staff, staff_again};
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn request(category: &str) -> Value {
    let mut body = dispute("13912345678");
    body["kind"] = json!("request");
    body["category"] = json!(category);
    body["title"] = json!("咨询低保办理");
    body
}

async fn drill(s: &Server, token: &str, query: &str, figure: &str, part: &str) -> BTreeSet<String> {
    let (status, page) = s
        .get(
            token,
            &format!("/api/v1/rates/cases?{query}&figure={figure}&part={part}&per_page=200"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{figure} {part}: {page}");
    let items = titles(&page);
    assert_eq!(
        page["total"].as_u64().unwrap() as usize,
        items.len(),
        "{figure} {part}"
    );
    items
}

/// The titles of a page's cases.
fn titles(page: &Value) -> BTreeSet<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap().to_string())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn rates_match_a_hand_computed_fixture_and_drill_down_to_their_cases() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        s.user("disp_b", "dispatcher", &format!("region:{TOWN_B}"), false)
            .await;
        let town_b = s.login("disp_b").await;
        let police = format!("dept:{}", s.dept_a);
        let titled = |mut body: Value, title: &str| {
            body["title"] = json!(title);
            body
        };
        // Monday 2026-11-23, 10:00 local. C1: a dispute resolved on time, the citizen satisfied.
        let (c1, n1, _) = register(&s, &t.clerk, titled(dispute("13912345678"), "C1")).await;
        for (token, action) in [
            (
                &t.clerk,
                json!({ "action": "accept", "category": "dispute.neighbour" }),
            ),
            (
                &t.dispatcher,
                json!({ "action": "dispatch", "lead": police }),
            ),
            (&t.police, json!({ "action": "claim" })),
            (
                &t.police,
                json!({ "action": "resolve", "result": "已调解" }),
            ),
            (&t.dispatcher, json!({ "action": "approve_review" })),
            (
                &t.dispatcher,
                json!({ "action": "follow_up", "outcome": "satisfied" }),
            ),
        ] {
            s.act(token, c1, action).await;
        }
        // C2: a consultation resolved on time, the citizen dissatisfied.
        let (c2, _, _) = register(&s, &t.clerk, titled(request("consultation"), "C2")).await;
        for (token, action) in [
            (
                &t.clerk,
                json!({ "action": "accept", "category": "consultation" }),
            ),
            (
                &t.dispatcher,
                json!({ "action": "dispatch", "lead": police }),
            ),
            (&t.police, json!({ "action": "claim" })),
            (
                &t.police,
                json!({ "action": "resolve", "result": "已答复" }),
            ),
            (&t.dispatcher, json!({ "action": "approve_review" })),
            (
                &t.dispatcher,
                json!({ "action": "follow_up", "outcome": "dissatisfied", "note": "不满意" }),
            ),
        ] {
            s.act(token, c2, action).await;
        }
        // C3: a consultation dispatched and never claimed: it will be open and overdue.
        let (c3, _, _) = register(&s, &t.clerk, titled(request("consultation"), "C3")).await;
        s.act(
            &t.clerk,
            c3,
            json!({ "action": "accept", "category": "consultation" }),
        )
        .await;
        s.act(
            &t.dispatcher,
            c3,
            json!({ "action": "dispatch", "lead": police }),
        )
        .await;
        // C4: a dispute resolved, followed up satisfied, then reopened: no longer resolved, no longer satisfied.
        let (c4, _, _) = register(&s, &t.clerk, titled(dispute("13912345678"), "C4")).await;
        for (token, action) in [
            (
                &t.clerk,
                json!({ "action": "accept", "category": "dispute.neighbour" }),
            ),
            (
                &t.dispatcher,
                json!({ "action": "dispatch", "lead": police }),
            ),
            (&t.police, json!({ "action": "claim" })),
            (
                &t.police,
                json!({ "action": "resolve", "result": "已处理" }),
            ),
            (&t.dispatcher, json!({ "action": "approve_review" })),
            (
                &t.dispatcher,
                json!({ "action": "follow_up", "outcome": "satisfied" }),
            ),
            (
                &t.dispatcher,
                json!({ "action": "reopen", "reason": "再次发生" }),
            ),
        ] {
            s.act(token, c4, action).await;
        }
        // C5 refused, C6 merged into C1: received, counted apart, not in the cohort.
        let (c5, _, _) = register(&s, &t.clerk, titled(request("consultation"), "C5")).await;
        s.act(
            &t.clerk,
            c5,
            json!({ "action": "reject", "reason": "不属于受理范围", "missing": [] }),
        )
        .await;
        let (c6, _, _) = register(&s, &t.clerk, titled(request("consultation"), "C6")).await;
        s.act(
            &t.clerk,
            c6,
            json!({ "action": "merge_into", "target_number": n1 }),
        )
        .await;
        // C8: accepted as a neighbour dispute, then relabelled a labour dispute (counts under its new category).
        let (c8, _, _) = register(&s, &t.clerk, titled(dispute("13912345678"), "C8")).await;
        s.act(
            &t.clerk,
            c8,
            json!({ "action": "accept", "category": "dispute.neighbour" }),
        )
        .await;
        s.act(&t.dispatcher, c8, json!({ "action": "change_category", "category": "dispute.labour", "reason": "实为劳务纠纷" })).await;
        // C7: another town's case.
        let mut other = titled(request("consultation"), "C7");
        other["lng"] = json!(116.9);
        let (c7, _, _) = register(&s, &t.county, other).await;
        s.act(
            &t.county,
            c7,
            json!({ "action": "accept", "category": "consultation" }),
        )
        .await;

        // Thursday: C3's one-day limit and its four-hour response limit have long passed.
        s.clock.advance(chrono::Duration::days(3));
        let t = staff_again(&s).await;
        let town_b = {
            let _ = town_b;
            s.login("disp_b").await
        };
        let query = format!("region_code={TOWN_A}&from=2026-11-23&to=2026-11-23");
        let (status, rates) = s.get(&t.leader, &format!("/api/v1/rates?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {rates}");
        let c = &rates["counts"];
        let got = |k: &str| c[k].as_i64().unwrap();
        assert_eq!(
            (
                got("received"),
                got("rejected"),
                got("merged"),
                got("cohort")
            ),
            (7, 1, 1, 5),
            "{backend}: {c}"
        );
        assert_eq!(
            rates["completion"],
            json!({ "numerator": 2, "denominator": 5, "rate": 0.4 }),
            "{backend}"
        );
        assert_eq!(
            (
                rates["on_time"]["numerator"].as_i64(),
                rates["on_time"]["denominator"].as_i64()
            ),
            (Some(2), Some(3)),
            "{backend}: open overdue C3 counts against"
        );
        assert_eq!(
            (
                rates["response"]["numerator"].as_i64(),
                rates["response"]["denominator"].as_i64()
            ),
            (Some(3), Some(4)),
            "{backend}"
        );
        assert_eq!(
            (
                rates["satisfaction"]["numerator"].as_i64(),
                rates["satisfaction"]["denominator"].as_i64()
            ),
            (Some(1), Some(2)),
            "{backend}"
        );
        assert_eq!(
            (
                rates["resolution"]["numerator"].as_i64(),
                rates["resolution"]["denominator"].as_i64()
            ),
            (Some(1), Some(3)),
            "{backend}"
        );

        // Every figure drills down to exactly the cases it counts.
        assert_eq!(
            drill(&s, &t.leader, &query, "cohort", "numerator").await,
            set(&["C1", "C2", "C3", "C4", "C8"]),
            "{backend}"
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "received", "numerator").await,
            set(&["C1", "C2", "C3", "C4", "C5", "C6", "C8"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "rejected", "numerator").await,
            set(&["C5"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "merged", "numerator").await,
            set(&["C6"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "completion", "numerator").await,
            set(&["C1", "C2"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "completion", "denominator").await,
            set(&["C1", "C2", "C3", "C4", "C8"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "on_time", "numerator").await,
            set(&["C1", "C2"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "on_time", "denominator").await,
            set(&["C1", "C2", "C3"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "response", "numerator").await,
            set(&["C1", "C2", "C4"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "response", "denominator").await,
            set(&["C1", "C2", "C3", "C4"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "satisfaction", "numerator").await,
            set(&["C1"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "satisfaction", "denominator").await,
            set(&["C1", "C2"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "resolution", "numerator").await,
            set(&["C1"])
        );
        assert_eq!(
            drill(&s, &t.leader, &query, "resolution", "denominator").await,
            set(&["C1", "C4", "C8"])
        );

        // Categories: the relabelled C8 counts under its current category only.
        let (_, neighbour) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates?{query}&category=dispute.neighbour"),
            )
            .await;
        assert_eq!(neighbour["counts"]["cohort"], 2, "{backend}: C1 and C4");
        let (_, labour) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates?{query}&category=dispute.labour"),
            )
            .await;
        assert_eq!(labour["counts"]["cohort"], 1, "{backend}: C8");
        let (_, disputes) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates?{query}&category=dispute"),
            )
            .await;
        assert_eq!(disputes["counts"]["cohort"], 3, "{backend}");
        // By unit: the police station's current cases (C4 was reopened, so it is with no unit now).
        let (_, by_unit) = s
            .get(&t.leader, &format!("/api/v1/rates?{query}&unit={police}"))
            .await;
        assert_eq!(
            by_unit["counts"]["cohort"], 3,
            "{backend}: C1, C2, C3: {by_unit}"
        );

        // Scope: town B's dispatcher sees only C7; asking for town A is "not found".
        let all_days = "from=2026-11-23&to=2026-11-23";
        let (_, b) = s.get(&town_b, &format!("/api/v1/rates?{all_days}")).await;
        assert_eq!(b["counts"]["cohort"], 1, "{backend}: {b}");
        assert_eq!(
            drill(&s, &town_b, all_days, "cohort", "numerator").await,
            set(&["C7"])
        );
        let (status, _) = s.get(&town_b, &format!("/api/v1/rates?{query}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        // The county sees both towns.
        let (_, county) = s.get(&t.county, &format!("/api/v1/rates?{all_days}")).await;
        assert_eq!(county["counts"]["cohort"], 6, "{backend}");
        // Breakdowns: every row's figures equal the rates asked for with the row's key as the filter (so each
        // row drills down the same way), and the rows of a partition add up to the whole.
        for (token, base, narrowed, by, filter) in [
            (&t.county, all_days, "", "region", "region_code"),
            (&t.leader, query.as_str(), "", "category", "category"),
            (
                &t.leader,
                query.as_str(),
                "&category=dispute",
                "category",
                "category",
            ),
            (&t.leader, query.as_str(), "", "grid", "grid_code"),
            (&t.leader, query.as_str(), "", "department", "unit"),
        ] {
            let (status, b) = s
                .get(
                    token,
                    &format!("/api/v1/rates/breakdown?{base}{narrowed}&by={by}"),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{backend} {by}: {b}");
            let rows = b["rows"].as_array().unwrap();
            assert!(!rows.is_empty(), "{backend} {by}: {b}");
            for row in rows {
                let key = row["key"].as_str().unwrap();
                let (_, one) = s
                    .get(token, &format!("/api/v1/rates?{base}&{filter}={key}"))
                    .await;
                assert_eq!(
                    row["rates"]["counts"], one["counts"],
                    "{backend} {by} {key}"
                );
                assert!(!row["name"].as_str().unwrap().is_empty());
            }
        }
        let (_, by_town) = s
            .get(
                &t.county,
                &format!("/api/v1/rates/breakdown?{all_days}&by=region"),
            )
            .await;
        let cohort_of = |b: &Value, key: &str| {
            b["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"] == key)
                .map(|r| r["rates"]["counts"]["cohort"].as_i64().unwrap())
        };
        assert_eq!(cohort_of(&by_town, TOWN_A), Some(5), "{backend}: {by_town}");
        assert_eq!(cohort_of(&by_town, TOWN_B), Some(1), "{backend}: {by_town}");
        let (_, by_category) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates/breakdown?{query}&by=category"),
            )
            .await;
        let total: i64 = by_category["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rates"]["counts"]["cohort"].as_i64().unwrap())
            .sum();
        assert_eq!(
            total, 5,
            "{backend}: one top category per case: {by_category}"
        );
        assert_eq!(cohort_of(&by_category, "dispute"), Some(3));
        let (_, by_dept) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates/breakdown?{query}&by=department"),
            )
            .await;
        assert_eq!(
            cohort_of(&by_dept, &police),
            Some(3),
            "{backend}: {by_dept}"
        );
        // A trend by day: Monday's cohort, nothing accepted on the other days; each day drills by its dates.
        let (status, trend) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates/breakdown?region_code={TOWN_A}&from=2026-11-22&to=2026-11-25&by=day"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {trend}");
        let cohorts: Vec<i64> = trend["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rates"]["counts"]["cohort"].as_i64().unwrap())
            .collect();
        assert_eq!(cohorts, [0, 5, 0, 0], "{backend}: {trend}");
        for row in trend["rows"].as_array().unwrap() {
            let day = row["key"].as_str().unwrap();
            let (_, one) = s
                .get(
                    &t.leader,
                    &format!("/api/v1/rates?region_code={TOWN_A}&from={day}&to={day}"),
                )
                .await;
            assert_eq!(row["rates"]["counts"], one["counts"], "{backend} {day}");
        }
        // A narrowed trend (by category: counted in one grouped pass, not from the rollup) agrees day by day.
        let (_, narrowed) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates/breakdown?region_code={TOWN_A}&category=dispute&from=2026-11-22&to=2026-11-25&by=day"),
            )
            .await;
        for row in narrowed["rows"].as_array().unwrap() {
            let day = row["key"].as_str().unwrap();
            let (_, one) = s
                .get(
                    &t.leader,
                    &format!(
                        "/api/v1/rates?region_code={TOWN_A}&category=dispute&from={day}&to={day}"
                    ),
                )
                .await;
            assert_eq!(
                row["rates"]["counts"], one["counts"],
                "{backend} dispute {day}"
            );
        }
        assert_eq!(
            narrowed["rows"][1]["rates"]["counts"]["cohort"], 3,
            "{backend}: {narrowed}"
        );
        // By month over a period starting mid-month: the months are clipped to the period.
        let (_, months) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates/breakdown?region_code={TOWN_A}&from=2026-10-15&to=2026-11-30&by=month"),
            )
            .await;
        let (_, november) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates?region_code={TOWN_A}&from=2026-11-01&to=2026-11-30"),
            )
            .await;
        assert_eq!(months["rows"][1]["key"], "2026-11", "{backend}: {months}");
        assert_eq!(
            months["rows"][1]["rates"]["counts"], november["counts"],
            "{backend}"
        );
        assert_eq!(months["rows"][0]["rates"]["from"], "2026-10-15");
        assert_eq!(trend["rows"][1]["key"], "2026-11-23");
        let (status, body) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates/breakdown?{query}&by=weekday"),
            )
            .await;
        assert_eq!(
            (status, body["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("by"))
        );
        let (status, body) = s
            .get(
                &t.leader,
                "/api/v1/rates/breakdown?from=2026-01-01&to=2026-12-31&by=day",
            )
            .await;
        assert_eq!(
            (status, body["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("to")),
            "too many days"
        );
        // The map: the county sees the cases of both towns registered on Monday as points; town B only its own.
        let box_query = format!("{all_days}&bbox=116,35,118,36&zoom=3");
        let (status, county_points) = s
            .get(&t.county, &format!("/api/v1/case-points?{box_query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {county_points}");
        let (_, b_points) = s
            .get(&town_b, &format!("/api/v1/case-points?{box_query}"))
            .await;
        let (_, b_rates) = s.get(&town_b, &format!("/api/v1/rates?{all_days}")).await;
        assert_eq!(
            b_points["total"], b_rates["counts"]["received"],
            "{backend}: {b_points}"
        );
        assert!(
            county_points["total"].as_i64().unwrap() > b_points["total"].as_i64().unwrap(),
            "{backend}: {county_points}"
        );
        // At a street-level zoom the cases spread into cells; a cell of one case names it.
        let (_, near) = s
            .get(
                &t.county,
                &format!("/api/v1/case-points?{all_days}&bbox=116,35,118,36&zoom=22"),
            )
            .await;
        let clusters = near["clusters"].as_array().unwrap();
        let counted: i64 = clusters.iter().map(|c| c["count"].as_i64().unwrap()).sum();
        assert_eq!(counted, county_points["total"].as_i64().unwrap());
        for c in clusters {
            assert_eq!(c["case_id"].is_null(), c["count"] != 1, "{backend}: {c}");
        }
        let (status, body) = s
            .get(
                &t.county,
                &format!("/api/v1/case-points?{all_days}&bbox=118,35,116,36&zoom=3"),
            )
            .await;
        assert_eq!(
            (status, body["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("bbox"))
        );
        let (status, _) = s
            .get(&t.police, &format!("/api/v1/case-points?{box_query}"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // A handler may not read the figures; bad input names the field.
        let (status, _) = s.get(&t.police, &format!("/api/v1/rates?{all_days}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = s
            .get(&t.leader, "/api/v1/rates?from=2026-11-23&to=2026-11-01")
            .await;
        assert_eq!(
            (status, body["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("to"))
        );
        let (status, body) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates/cases?{all_days}&figure=happiness"),
            )
            .await;
        assert_eq!(
            (status, body["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("figure"))
        );
        // The relabelling view shows C8's change with who and why; town B's dispatcher does not see it.
        let (_, relabels) = s.get(&t.leader, "/api/v1/relabels").await;
        assert_eq!(relabels["total"], 1, "{backend}: {relabels}");
        let r = &relabels["items"][0];
        assert_eq!(
            (
                r["from_category"].as_str(),
                r["to_category"].as_str(),
                r["reason"].as_str()
            ),
            (
                Some("dispute.neighbour"),
                Some("dispute.labour"),
                Some("实为劳务纠纷")
            )
        );
        let (_, none) = s.get(&town_b, "/api/v1/relabels").await;
        assert_eq!(none["total"], 0);

        // The daily bulletin for Monday, read on Thursday: seven registered, five accepted, two resolved (C4's
        // resolution was undone by reopening), nothing overdue yet at the end of Monday (C3's one-day limit ran
        // out at the end of Tuesday); Wednesday's bulletin lists C3 with the police station.
        let (status, b) = s
            .get(
                &t.leader,
                &format!("/api/v1/bulletin?region_code={TOWN_A}&date=2026-11-23"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {b}");
        let f = &b["figures"];
        assert_eq!(
            (
                f["registered"].as_i64(),
                f["accepted"].as_i64(),
                f["resolved"].as_i64(),
                f["overdue"].as_i64()
            ),
            (Some(7), Some(5), Some(2), Some(0)),
            "{backend}: {f}"
        );
        let (_, b) = s
            .get(
                &t.leader,
                &format!("/api/v1/bulletin?region_code={TOWN_A}&date=2026-11-25"),
            )
            .await;
        assert_eq!(b["figures"]["overdue"], 1, "{backend}: C3 by Wednesday");
        assert_eq!(b["figures"]["overdue_by_unit"][0]["label"], police);
        assert_eq!(b["unit_names"][&police], "太平镇派出所");
        let response = s
            .http
            .get(s.url(&format!(
                "/api/v1/bulletin/export?region_code={TOWN_A}&date=2026-11-25"
            )))
            .bearer_auth(&t.leader)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.bytes().await?.starts_with(b"PK"),
            "{backend}: an XLSX (zip) file"
        );
        let (status, _) = s
            .get(&town_b, &format!("/api/v1/bulletin?region_code={TOWN_A}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Supervision orders opened on Thursday count in town A's bulletin for Thursday and not in town B's.
        s.act(
            &t.leader,
            c3,
            json!({ "action": "supervise", "due": "2026-12-01T09:00:00Z", "note": "请加快办理" }),
        )
        .await;
        let (_, b) = s
            .get(
                &t.leader,
                &format!("/api/v1/bulletin?region_code={TOWN_A}&date=2026-11-26"),
            )
            .await;
        assert_eq!(
            (
                b["figures"]["supervision_opened"].as_i64(),
                b["figures"]["supervision_closed"].as_i64()
            ),
            (Some(1), Some(0)),
            "{backend}: {b}"
        );
        let (_, b) = s
            .get(
                &t.county,
                &format!("/api/v1/bulletin?region_code={TOWN_B}&date=2026-11-26"),
            )
            .await;
        assert_eq!(b["figures"]["supervision_opened"], 0, "{backend}: {b}");
        let _ = (c2, c3, c5, c6, c7, c8);
    }
    Ok(())
}

/// A case owned by a town other than the one it lies in (escalated to the county, then delegated to another
/// town) is in both towns' lists, queues and rates: the owner's by its owner, the place's by its place.
#[tokio::test]
async fn a_case_owned_away_from_its_place_counts_for_both_towns() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        s.user("disp_b", "dispatcher", &format!("region:{TOWN_B}"), false)
            .await;
        s.user("leader_b", "leader", &format!("region:{TOWN_B}"), false)
            .await;
        let (disp_b, leader_b) = (s.login("disp_b").await, s.login("leader_b").await);
        let mut body = request("consultation");
        body["title"] = json!("异地交办");
        let (moved, _, _) = register(&s, &t.clerk, body).await;
        let mut body = request("consultation");
        body["title"] = json!("本镇");
        let (stays, _, _) = register(&s, &t.clerk, body).await;
        for id in [moved, stays] {
            s.act(
                &t.clerk,
                id,
                json!({ "action": "accept", "category": "consultation" }),
            )
            .await;
        }
        s.act(
            &t.dispatcher,
            moved,
            json!({ "action": "escalate", "reason": "需县级协调" }),
        )
        .await;
        s.act(
            &t.county,
            moved,
            json!({ "action": "delegate", "to_region": TOWN_B, "reason": "交石墙镇办理" }),
        )
        .await;
        // Lists and queues: the owner's and the place's.
        for (token, query, expected) in [
            (&disp_b, "", set(&["异地交办"])),
            (&disp_b, "?queue=awaiting_dispatch", set(&["异地交办"])),
            (
                &disp_b,
                "?status=accepted&sort=deadline",
                set(&["异地交办"]),
            ),
            (&t.dispatcher, "", set(&["异地交办", "本镇"])),
            (
                &t.dispatcher,
                "?queue=awaiting_dispatch",
                set(&["异地交办", "本镇"]),
            ),
        ] {
            let (status, page) = s.get(token, &format!("/api/v1/cases{query}")).await;
            assert_eq!(status, StatusCode::OK, "{backend} {query}: {page}");
            assert_eq!(titles(&page), expected, "{backend} {query}: {page}");
            assert_eq!(page["total"].as_u64(), Some(expected.len() as u64));
        }
        // Rates: from the rollup (a whole day) and counted in one pass (narrowed by category), each drilling
        // down to the same cases.
        for (token, region, expected) in [
            (&leader_b, TOWN_B, set(&["异地交办"])),
            (&t.leader, TOWN_A, set(&["异地交办", "本镇"])),
        ] {
            for narrow in ["", "&category=consultation"] {
                let query = format!("region_code={region}&from=2026-11-23&to=2026-11-23{narrow}");
                let (status, rates) = s.get(token, &format!("/api/v1/rates?{query}")).await;
                assert_eq!(status, StatusCode::OK, "{backend}: {rates}");
                assert_eq!(
                    rates["counts"]["cohort"].as_u64(),
                    Some(expected.len() as u64),
                    "{backend} {query}: {rates}"
                );
                assert_eq!(
                    drill(&s, token, &query, "cohort", "denominator").await,
                    expected,
                    "{backend} {query}"
                );
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn queues_filter_sort_and_export_what_each_role_works_on() -> TestResult {
    use calamine::Reader;
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        let police = format!("dept:{}", s.dept_a);
        let titled = |mut body: Value, title: &str| {
            body["title"] = json!(title);
            body
        };
        let (new_case, _, _) =
            register(&s, &t.clerk, titled(dispute("13912345678"), "待受理")).await;
        let (waiting, _, _) =
            register(&s, &t.clerk, titled(request("consultation"), "待分派")).await;
        s.act(
            &t.clerk,
            waiting,
            json!({ "action": "accept", "category": "consultation" }),
        )
        .await;
        let (to_claim, _, _) =
            register(&s, &t.clerk, titled(dispute("13912345678"), "待签收")).await;
        s.act(
            &t.clerk,
            to_claim,
            json!({ "action": "accept", "category": "dispute.neighbour" }),
        )
        .await;
        s.act(
            &t.dispatcher,
            to_claim,
            json!({ "action": "dispatch", "lead": police }),
        )
        .await;
        let (in_hand, _, _) =
            register(&s, &t.clerk, titled(request("consultation"), "办理中")).await;
        s.act(
            &t.clerk,
            in_hand,
            json!({ "action": "accept", "category": "consultation" }),
        )
        .await;
        s.act(
            &t.dispatcher,
            in_hand,
            json!({ "action": "dispatch", "lead": police }),
        )
        .await;
        s.act(&t.police, in_hand, json!({ "action": "claim" }))
            .await;
        let (review, _, _) =
            register(&s, &t.clerk, titled(request("consultation"), "待审核")).await;
        for (token, action) in [
            (
                &t.clerk,
                json!({ "action": "accept", "category": "consultation" }),
            ),
            (
                &t.dispatcher,
                json!({ "action": "dispatch", "lead": police }),
            ),
            (&t.police, json!({ "action": "claim" })),
            (
                &t.police,
                json!({ "action": "resolve", "result": "已答复" }),
            ),
        ] {
            s.act(token, review, action).await;
        }
        let mut tagged = titled(request("consultation"), "群体性诉求");
        tagged["tags"] = json!(["group"]);
        tagged["channel"] = json!("hotline_12345");
        register(&s, &t.clerk, tagged).await;

        let (_, inbox) = s.get(&t.police, "/api/v1/cases?queue=inbox").await;
        assert_eq!(
            titles(&inbox),
            set(&["待签收", "办理中"]),
            "{backend}: {inbox}"
        );
        let (_, page) = s.get(&t.dispatcher, "/api/v1/cases?queue=new").await;
        assert_eq!(titles(&page), set(&["待受理", "群体性诉求"]), "{backend}");
        let (_, page) = s
            .get(&t.dispatcher, "/api/v1/cases?queue=awaiting_dispatch")
            .await;
        assert_eq!(titles(&page), set(&["待分派"]));
        let (_, page) = s
            .get(&t.dispatcher, "/api/v1/cases?queue=awaiting_review")
            .await;
        assert_eq!(titles(&page), set(&["待审核"]));
        let (_, page) = s
            .get(
                &t.dispatcher,
                "/api/v1/cases?tag=group&channel=hotline_12345",
            )
            .await;
        assert_eq!(titles(&page), set(&["群体性诉求"]));
        let (_, page) = s.get(&t.dispatcher, "/api/v1/cases?category=dispute").await;
        assert_eq!(titles(&page), set(&["待受理", "待签收"]));
        let (_, page) = s
            .get(
                &t.dispatcher,
                "/api/v1/cases?created_from=2026-11-24&created_to=2026-11-30",
            )
            .await;
        assert_eq!(
            page["total"], 0,
            "{backend}: nothing registered after today"
        );
        // Sorted by deadline: the one-day consultations come before the ten-day dispute; paging keeps the total.
        let (_, page) = s
            .get(
                &t.dispatcher,
                "/api/v1/cases?sort=deadline&status=accepted,dispatched,in_progress&per_page=2",
            )
            .await;
        assert_eq!(page["total"], 3, "{backend}");
        assert_eq!(
            titles(&page),
            set(&["待分派", "办理中"]),
            "{backend}: {page}"
        );
        let (status, body) = s.get(&t.dispatcher, "/api/v1/cases?queue=everything").await;
        assert_eq!(
            (status, body["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("queue"))
        );
        let (status, _) = s
            .get(
                &t.dispatcher,
                &format!("/api/v1/cases?region_code={TOWN_B}"),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{backend}: another town's region"
        );

        // Export the dispatcher's open cases to XLSX: the rows, the header, numbers masked, the export recorded.
        let response = s
            .http
            .get(s.url(
                "/api/v1/cases/export?status=registered,accepted,dispatched,in_progress,resolved",
            ))
            .bearer_auth(&t.dispatcher)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        assert_eq!(response.headers()["x-row-count"], "6");
        let bytes = response.bytes().await?.to_vec();
        let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))?;
        let sheet = workbook.worksheet_range("案件")?;
        assert_eq!(sheet.rows().count(), 7, "{backend}: header + 6 rows");
        let header: Vec<String> = sheet
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(header[0], "编号");
        let everything: String = sheet
            .rows()
            .flat_map(|r| r.iter().map(|c| c.to_string()))
            .collect();
        assert!(
            everything.contains("139****5678") && !everything.contains("13912345678"),
            "{backend}: masked in the export"
        );
        let exports = s.audit("case.export").await;
        assert_eq!(exports.len(), 1);
        assert_eq!(exports[0].detail["rows"], 6);
        let _ = new_case;
    }
    Ok(())
}

#[tokio::test]
async fn chinese_search_finds_words_inside_text_within_scope() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        s.user("disp_b", "dispatcher", &format!("region:{TOWN_B}"), false)
            .await;
        let town_b = s.login("disp_b").await;
        let mut noise = dispute("13912345678");
        noise["title"] = json!("夜间施工");
        noise["description"] = json!("楼上邻居夜间装修噪音很大，影响休息");
        let (noisy, _, _) = register(&s, &t.clerk, noise).await;
        let mut leak = request("livelihood.water_supply");
        leak["title"] = json!("巷口水管");
        leak["description"] = json!("巷口自来水管漏水严重，路面结冰");
        let (leaking, _, _) = register(&s, &t.clerk, leak).await;
        let mut elsewhere = request("urban_management.noise");
        elsewhere["title"] = json!("石墙镇噪音");
        elsewhere["description"] = json!("广场舞噪音扰民");
        elsewhere["lng"] = json!(116.9);
        register(&s, &t.county, elsewhere).await;
        // A note added later is searchable too, once the indexer has run (every server does so twice a second).
        s.act(
            &t.clerk,
            leaking,
            json!({ "action": "add_note", "text": "已联系物业维修井盖" }),
        )
        .await;
        let (cursor, indexed) = s.app.index_changes(None).await?;
        assert_eq!(indexed, 3, "{backend}");
        // Polling again re-indexes nothing that did not change; a change is indexed once.
        let (cursor, again) = s.app.index_changes(Some(cursor)).await?;
        assert_eq!(again, 0, "{backend}");
        s.act(
            &t.clerk,
            noisy,
            json!({ "action": "add_note", "text": "已约谈施工队" }),
        )
        .await;
        let (_, again) = s.app.index_changes(Some(cursor)).await?;
        assert_eq!(again, 1, "{backend}");

        let (status, found) = s.get(&t.dispatcher, "/api/v1/cases?q=噪音").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {found}");
        assert_eq!(
            titles(&found),
            set(&["夜间施工"]),
            "{backend}: town A's dispatcher never sees town B's case"
        );
        let (_, found) = s.get(&t.dispatcher, "/api/v1/cases?q=漏水").await;
        assert_eq!(titles(&found), set(&["巷口水管"]), "{backend}");
        let (_, found) = s.get(&t.dispatcher, "/api/v1/cases?q=井盖").await;
        assert_eq!(
            titles(&found),
            set(&["巷口水管"]),
            "{backend}: notes are searched"
        );
        let (_, found) = s.get(&t.county, "/api/v1/cases?q=噪音").await;
        assert_eq!(
            titles(&found),
            set(&["夜间施工", "石墙镇噪音"]),
            "{backend}: the county sees both towns"
        );
        let (_, found) = s.get(&town_b, "/api/v1/cases?q=噪音").await;
        assert_eq!(titles(&found), set(&["石墙镇噪音"]), "{backend}");
        // Search combines with the other filters.
        let (_, found) = s.get(&t.county, "/api/v1/cases?q=噪音&kind=dispute").await;
        assert_eq!(titles(&found), set(&["夜间施工"]), "{backend}");
        let (status, body) = s.get(&t.dispatcher, "/api/v1/cases?q=%20%20").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend}: a blank query is no query: {body}"
        );
        let (status, body) = s
            .get(&t.dispatcher, "/api/v1/cases?q=%EF%BC%8C%E3%80%82")
            .await;
        assert_eq!(
            (status, body["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("q")),
            "{backend}: punctuation only"
        );
        // Rebuilding from the database gives the same answers.
        s.user("admin_a", "admin", "region:370883", false).await;
        let admin = s.login("admin_a").await;
        let (status, rebuilt) = s.post(&admin, "/api/v1/search/rebuild", json!({})).await;
        assert_eq!(
            (status, rebuilt["indexed"].as_i64()),
            (StatusCode::OK, Some(3)),
            "{backend}: {rebuilt}"
        );
        let (_, found) = s.get(&t.dispatcher, "/api/v1/cases?q=漏水").await;
        assert_eq!(titles(&found), set(&["巷口水管"]), "{backend}");
        let _ = noisy;
    }
    Ok(())
}

#[tokio::test]
async fn a_poll_indexes_every_page_of_changes_once() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        for n in 0..7 {
            let mut case = request("livelihood.water_supply");
            case["title"] = json!(format!("{n}号楼井盖"));
            case["description"] = json!("井盖松动，夜间行人易绊倒");
            register(&s, &t.clerk, case).await;
        }
        // Pages of 2 and a commit once 3 are pending: four pages, two commits (after the second page and
        // after the last one).
        let (cursor, indexed) = s.app.index_changes_paged(None, 2, 3).await?;
        assert_eq!(indexed, 7, "{backend}");
        // An eighth case, and pages that end full (the poll's last page read is empty).
        let mut case = request("livelihood.water_supply");
        case["title"] = json!("7号楼井盖");
        case["description"] = json!("井盖松动，夜间行人易绊倒");
        register(&s, &t.clerk, case).await;
        let (cursor, indexed) = s.app.index_changes_paged(Some(cursor), 1, 5).await?;
        assert_eq!(indexed, 1, "{backend}");
        let (status, found) = s.get(&t.dispatcher, "/api/v1/cases?q=井盖").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {found}");
        assert_eq!(found["total"], 8, "{backend}: every page is searchable");
        assert_eq!(
            titles(&found),
            (0..8).map(|n| format!("{n}号楼井盖")).collect(),
            "{backend}"
        );
        let (_, again) = s.app.index_changes_paged(Some(cursor), 2, 3).await?;
        assert_eq!(again, 0, "{backend}: nothing is indexed twice");
    }
    Ok(())
}

#[tokio::test]
async fn a_change_that_commits_after_later_ones_is_still_indexed() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        let mut first = request("livelihood.water_supply");
        first["title"] = json!("东街水管");
        register(&s, &t.clerk, first).await;
        let (cursor, indexed) = s.app.index_changes(None).await?;
        assert_eq!(indexed, 1, "{backend}");
        s.clock.advance(chrono::Duration::seconds(2));
        let mut second = request("livelihood.water_supply");
        second["title"] = json!("西街水管");
        register(&s, &t.clerk, second).await;
        let (cursor, indexed) = s.app.index_changes(Some(cursor)).await?;
        assert_eq!(indexed, 1, "{backend}");
        // Nothing changed: the poll indexes nothing (and reads only past its cursor).
        let (cursor, indexed) = s.app.index_changes(Some(cursor)).await?;
        assert_eq!(indexed, 0, "{backend}");
        // A case stamped a second before the cursor, as if its transaction (or its server's clock) lagged.
        s.clock.advance(chrono::Duration::seconds(-1));
        let mut late = request("livelihood.water_supply");
        late["title"] = json!("南街井盖");
        late["description"] = json!("南街井盖松动，夜间行人易绊倒");
        register(&s, &t.clerk, late).await;
        s.clock.advance(chrono::Duration::seconds(2));
        let (cursor, indexed) = s.app.index_changes(Some(cursor)).await?;
        assert_eq!(
            indexed, 1,
            "{backend}: the late change is found below the cursor"
        );
        let (_, indexed) = s.app.index_changes(Some(cursor)).await?;
        assert_eq!(indexed, 0, "{backend}: and indexed once");
        let (status, found) = s.get(&t.dispatcher, "/api/v1/cases?q=井盖").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {found}");
        assert_eq!(found["total"], 1, "{backend}: {found}");
        assert_eq!(found["items"][0]["title"], "南街井盖", "{backend}");
    }
    Ok(())
}
