//! Cases end to end: intake, the whole workflow, concurrency, idempotency, bad input, tracking, deadlines.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub fn dispute(key_phone: &str) -> Value {
    json!({
        "kind": "dispute",
        "channel": "walk_in",
        "category": "dispute.neighbour",
        "title": "邻居装修噪音扰民",
        "description": "楼上邻居夜间装修，噪音很大，协商无果。联系电话13912345678",
        "tags": ["repeat"],
        "address": "鲍店社区5号楼",
        "lng": 116.80,
        "lat": 35.40,
        "parties": [
            { "role": "applicant", "name": "刘建国", "phone": key_phone, "id_number": "11010519491231002X" },
            { "role": "respondent", "name": "王某" }
        ]
    })
}

pub struct Staff {
    pub clerk: String,
    pub dispatcher: String,
    pub county: String,
    pub police: String,
    pub justice: String,
    pub leader: String,
    pub leader_id: i64,
}

pub async fn staff(s: &Server) -> Staff {
    s.user(
        "clerk_a",
        "intake_clerk",
        &format!("region:{TOWN_A}"),
        false,
    )
    .await;
    s.user("disp_a", "dispatcher", &format!("region:{TOWN_A}"), false)
        .await;
    s.user("disp_county", "dispatcher", "region:370883", false)
        .await;
    s.user("police_a", "handler", &format!("dept:{}", s.dept_a), false)
        .await;
    s.user(
        "justice_a",
        "handler",
        &format!("dept:{}", s.town_units["justice_office"]),
        false,
    )
    .await;
    let leader_id = s
        .user("leader_a", "leader", &format!("region:{TOWN_A}"), false)
        .await;
    Staff {
        clerk: s.login("clerk_a").await,
        dispatcher: s.login("disp_a").await,
        county: s.login("disp_county").await,
        police: s.login("police_a").await,
        justice: s.login("justice_a").await,
        leader: s.login("leader_a").await,
        leader_id,
    }
}

/// Signs the same staff in again (after the pinned clock moved past their sessions).
pub async fn staff_again(s: &Server) -> Staff {
    Staff {
        clerk: s.login("clerk_a").await,
        dispatcher: s.login("disp_a").await,
        county: s.login("disp_county").await,
        police: s.login("police_a").await,
        justice: s.login("justice_a").await,
        leader: s.login("leader_a").await,
        leader_id: 0,
    }
}

pub async fn register(s: &Server, token: &str, body: Value) -> (i64, String, String) {
    let (status, answer) = s.post(token, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{}: {answer}", s.backend);
    (
        answer["case"]["id"].as_i64().unwrap(),
        answer["case"]["number"].as_str().unwrap().to_string(),
        answer["tracking_secret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_dispute_walks_the_whole_path_from_walk_in_to_archive() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        let justice = format!("dept:{}", s.town_units["justice_office"]);
        let police = format!("dept:{}", s.dept_a);

        // Intake at the window, with an idempotency key.
        let (status, first) = s
            .post_with(
                &t.clerk,
                "/api/v1/cases",
                &[("idempotency-key", "walkin-1")],
                dispute("13912345678"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {first}");
        let case = &first["case"];
        let id = case["id"].as_i64().unwrap();
        let number = case["number"].as_str().unwrap().to_string();
        assert!(
            number.starts_with(&format!("{TOWN_A}-20261123-")),
            "{number}"
        );
        assert_eq!(case["status"], "registered");
        assert_eq!(case["grid_code"], GRID_A);
        assert_eq!(case["owner_region"], TOWN_A);
        assert_eq!(case["parties"][0]["phone"], "139****5678");
        assert_eq!(case["parties"][0]["id_number"], "110105********002X");
        assert!(
            !case["description"]
                .as_str()
                .unwrap()
                .contains("13912345678"),
            "numbers in free text are masked"
        );
        let secret = first["tracking_secret"].as_str().unwrap().to_string();
        assert!(first["receipt"].as_str().unwrap().contains(&number));

        // The retry returns the same case; the key with another body is refused.
        let (status, again) = s
            .post_with(
                &t.clerk,
                "/api/v1/cases",
                &[("idempotency-key", "walkin-1")],
                dispute("13912345678"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {again}");
        assert_eq!(again["case"]["id"], id);
        assert_eq!(again["replayed"], true);
        let (status, body) = s
            .post_with(
                &t.clerk,
                "/api/v1/cases",
                &[("idempotency-key", "walkin-1")],
                dispute("13800000000"),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {body}"
        );
        assert_eq!(body["code"], "idempotency_key_reused");

        // Accept; the proposal follows the catalog (neighbour disputes go to the grid the case lies in).
        let case = s
            .act(
                &t.clerk,
                id,
                json!({ "action": "accept", "category": "dispute.neighbour" }),
            )
            .await;
        assert_eq!(case["status"], "accepted");
        assert!(case["handling_due"].is_string());
        let (_, proposal) = s
            .get(&t.dispatcher, &format!("/api/v1/cases/{id}/route-proposal"))
            .await;
        assert_eq!(
            proposal["lead"],
            format!("grid:{GRID_A}"),
            "{backend}: {proposal}"
        );

        // Dispatch to the police station, which returns it: not theirs.
        let case = s
            .act(
                &t.dispatcher,
                id,
                json!({ "action": "dispatch", "lead": police }),
            )
            .await;
        assert_eq!(case["status"], "dispatched");
        assert!(case["response_due"].is_string());
        let (_, inbox) = s.get(&t.police, "/api/v1/notifications").await;
        assert!(
            inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "assigned"),
            "{backend}: {inbox}"
        );
        let case = s
            .act(
                &t.police,
                id,
                json!({ "action": "return", "reason": "属民间纠纷，非治安案件" }),
            )
            .await;
        assert_eq!(case["status"], "returned");
        // The center redispatches: justice office leads, the police station assists (joint handling).
        let case = s
            .act(&t.dispatcher, id, json!({ "action": "rule_on_return", "decision": "redispatch", "lead": justice, "assisting": [police], "note": "司法所主办，派出所协办" }))
            .await;
        assert_eq!(case["status"], "dispatched");
        assert_eq!(case["units"].as_array().unwrap().len(), 2);
        // The police station now sees the case only because it assists.
        let (status, _) = s.get(&t.police, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let case = s.act(&t.justice, id, json!({ "action": "claim" })).await;
        assert_eq!(case["status"], "in_progress");
        s.act(&t.police, id, json!({ "action": "record_assist_part", "unit": police, "part": "已出警调查，双方情绪稳定" })).await;

        // Extension: requested, approved; the handling deadline moves later.
        let before = case["handling_due"].as_str().unwrap().to_string();
        let case = s.act(&t.justice, id, json!({ "action": "request_extension", "working_days": 3, "reason": "需等待物业提供监控" })).await;
        assert_eq!(
            (
                &case["pending_extension"]["working_days"],
                &case["pending_extension"]["reason"]
            ),
            (&json!(3), &json!("需等待物业提供监控")),
            "{backend}: the request waits for the center: {case}"
        );
        let case = s
            .act(
                &t.dispatcher,
                id,
                json!({ "action": "decide_extension", "approve": true, "note": "同意" }),
            )
            .await;
        assert!(
            case["handling_due"].as_str().unwrap() > before.as_str(),
            "{backend}: extended"
        );
        assert!(
            case["pending_extension"].is_null(),
            "{backend}: decided: {case}"
        );

        // Escalation to the county, and delegation back down to the town.
        let case = s
            .act(
                &t.justice,
                id,
                json!({ "action": "escalate", "reason": "涉及多个部门，需县级协调" }),
            )
            .await;
        assert_eq!(
            (case["status"].as_str(), case["owner_region"].as_str()),
            (Some("accepted"), Some("370883"))
        );
        let case = s
            .act(
                &t.county,
                id,
                json!({ "action": "delegate", "to_region": TOWN_A, "reason": "已协调，交镇办理" }),
            )
            .await;
        assert_eq!(case["owner_region"], TOWN_A);
        s.act(
            &t.dispatcher,
            id,
            json!({ "action": "dispatch", "lead": justice }),
        )
        .await;
        s.act(&t.justice, id, json!({ "action": "claim" })).await;

        // Supervision and leader ownership.
        s.act(
            &t.leader,
            id,
            json!({ "action": "supervise", "due": "2026-12-01T09:00:00Z", "note": "请加快办理" }),
        )
        .await;
        let case = s
            .act(
                &t.dispatcher,
                id,
                json!({ "action": "assign_leader", "leader_user_id": t.leader_id }),
            )
            .await;
        assert_eq!(case["leader_owner"], t.leader_id);

        // Resolution, review, a dissatisfied follow-up, reopening.
        s.act(
            &t.justice,
            id,
            json!({ "action": "resolve", "result": "双方达成口头协议，夜间不再施工" }),
        )
        .await;
        let case = s
            .act(&t.dispatcher, id, json!({ "action": "approve_review" }))
            .await;
        assert_eq!(case["status"], "awaiting_follow_up");
        assert!(case["follow_up_due"].is_string());
        let case = s
            .act(
                &t.dispatcher,
                id,
                json!({ "action": "follow_up", "outcome": "dissatisfied", "note": "仍有噪音" }),
            )
            .await;
        assert_eq!(
            (case["status"].as_str(), case["satisfaction"].as_str()),
            (Some("closed"), Some("dissatisfied"))
        );
        // Closed means immutable: a note is refused.
        let (status, body) = s
            .post(
                &t.clerk,
                &format!("/api/v1/cases/{id}/actions"),
                json!({ "action": "add_note", "text": "补充" }),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}: {body}");
        assert_eq!(body["code"], "illegal_transition");
        assert_eq!(body["fields"][0]["field"], "action");
        let case = s
            .act(
                &t.dispatcher,
                id,
                json!({ "action": "reopen", "reason": "群众不满意，重新办理" }),
            )
            .await;
        assert_eq!(
            (case["status"].as_str(), case["reopen_count"].as_i64()),
            (Some("accepted"), Some(1))
        );
        s.act(
            &t.dispatcher,
            id,
            json!({ "action": "dispatch", "lead": justice }),
        )
        .await;
        s.act(&t.justice, id, json!({ "action": "claim" })).await;
        s.act(
            &t.justice,
            id,
            json!({ "action": "resolve", "result": "签订书面调解协议，施工时间限定在白天" }),
        )
        .await;
        s.act(&t.dispatcher, id, json!({ "action": "approve_review" }))
            .await;
        s.act(
            &t.dispatcher,
            id,
            json!({ "action": "follow_up", "outcome": "satisfied", "note": "" }),
        )
        .await;
        let case = s
            .act(&t.dispatcher, id, json!({ "action": "archive" }))
            .await;
        assert_eq!(case["status"], "archived");

        // The timeline holds one event per step, and the audit trail one record per step.
        let (_, timeline) = s
            .get(&t.dispatcher, &format!("/api/v1/cases/{id}/timeline"))
            .await;
        let names: Vec<&str> = timeline
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "registered",
                "accepted",
                "dispatched",
                "returned",
                "return_ruled",
                "claimed",
                "assist_part_recorded",
                "extension_requested",
                "extension_approved",
                "escalated",
                "delegated",
                "dispatched",
                "claimed",
                "supervised",
                "leader_assigned",
                "resolved",
                "review_approved",
                "followed_up",
                "reopened",
                "dispatched",
                "claimed",
                "resolved",
                "review_approved",
                "followed_up",
                "archived"
            ],
            "{backend}"
        );
        // Who acted is named: every staff step carries the user's display name.
        for e in timeline.as_array().unwrap() {
            if e["actor"].as_str().unwrap().starts_with("user:") {
                assert!(
                    e["actor_name"].as_str().is_some_and(|n| !n.is_empty()),
                    "{backend}: {e}"
                );
            }
        }
        let audit = s.audit("case.").await;
        let for_case: Vec<_> = audit
            .iter()
            .filter(|r| r.object == format!("case:{number}") && r.result == "ok")
            .collect();
        assert_eq!(
            for_case.len(),
            names.len(),
            "{backend}: one audit record per step"
        );

        // The citizen tracks it with the receipt's number and secret; a wrong secret finds nothing.
        let response = s
            .http
            .get(s.url(&format!(
                "/api/v1/public/track?number={number}&secret={secret}"
            )))
            .send()
            .await?;
        let (status, tracked) = decode(response).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {tracked}");
        assert_eq!(tracked["status"], "archived");
        assert!(
            !tracked.to_string().contains("刘建国") && !tracked.to_string().contains("13912345678"),
            "no personal data on the public view"
        );
        let response = s
            .http
            .get(s.url(&format!(
                "/api/v1/public/track?number={number}&secret=WRONG1"
            )))
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    Ok(())
}

#[tokio::test]
async fn twenty_concurrent_claims_one_wins_the_rest_get_409() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        let (id, _, _) = register(&s, &t.clerk, dispute("13912345678")).await;
        s.act(
            &t.clerk,
            id,
            json!({ "action": "accept", "category": "dispute.neighbour" }),
        )
        .await;
        s.act(
            &t.dispatcher,
            id,
            json!({ "action": "dispatch", "lead": format!("dept:{}", s.dept_a) }),
        )
        .await;
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let http = s.http.clone();
            let url = s.url(&format!("/api/v1/cases/{id}/actions"));
            let token = t.police.clone();
            tasks.push(tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({ "action": "claim" }))
                    .send()
                    .await
                    .map(|r| r.status())
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await??);
        }
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let conflict = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((ok, conflict), (1, 19), "{backend}: {statuses:?}");
        let (_, timeline) = s
            .get(&t.dispatcher, &format!("/api/v1/cases/{id}/timeline"))
            .await;
        assert_eq!(
            timeline
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["name"] == "claimed")
                .count(),
            1,
            "{backend}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn an_idempotency_key_retried_ten_times_at_once_makes_one_case() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let http = s.http.clone();
            let url = s.url("/api/v1/cases");
            let token = t.clerk.clone();
            tasks.push(tokio::spawn(async move {
                let response = http
                    .post(url)
                    .bearer_auth(token)
                    .header("idempotency-key", "retry-storm")
                    .json(&dispute("13912345678"))
                    .send()
                    .await?;
                let status = response.status();
                let body: Value = response.json().await?;
                Ok::<_, reqwest::Error>((status, body["case"]["id"].as_i64()))
            }));
        }
        let mut ids = Vec::new();
        for task in tasks {
            let (status, id) = task.await??;
            assert!(
                status == StatusCode::CREATED || status == StatusCode::OK,
                "{backend}: {status}"
            );
            ids.push(id.expect("a case id"));
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{backend}: {ids:?}");
        let (_, list) = s.get(&t.dispatcher, "/api/v1/cases").await;
        assert_eq!(list["total"], 1, "{backend}");
    }
    Ok(())
}

#[tokio::test]
async fn bad_input_is_refused_by_field_and_changes_nothing() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        let mut body = dispute("139123");
        body["category"] = json!("dispute.no_such_thing");
        body["parties"][0]["id_number"] = json!("110105194912310021");
        let (status, answer) = s.post(&t.clerk, "/api/v1/cases", body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {answer}"
        );
        let fields: Vec<&str> = answer["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        for field in ["category", "parties[0].phone", "parties[0].id_number"] {
            assert!(fields.contains(&field), "{backend}: {field} in {fields:?}");
        }
        let mut far = dispute("13912345678");
        far["lng"] = json!(121.47);
        far["lat"] = json!(31.23);
        let (status, answer) = s.post(&t.clerk, "/api/v1/cases", far).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            (
                answer["fields"][0]["field"].as_str(),
                answer["fields"][0]["code"].as_str()
            ),
            (Some("lng"), Some("outside_area"))
        );
        let (_, list) = s.get(&t.dispatcher, "/api/v1/cases").await;
        assert_eq!(list["total"], 0, "{backend}: nothing was registered");

        // Transitions not allowed for the role or the state.
        let (id, _, _) = register(&s, &t.clerk, dispute("13912345678")).await;
        let (status, answer) = s
            .post(
                &t.dispatcher,
                &format!("/api/v1/cases/{id}/actions"),
                json!({ "action": "dispatch", "lead": format!("dept:{}", s.dept_a) }),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "{backend}: registered cases are accepted first: {answer}"
        );
        assert_eq!(answer["code"], "illegal_transition");
        s.act(
            &t.clerk,
            id,
            json!({ "action": "accept", "category": "dispute.neighbour" }),
        )
        .await;
        let (status, answer) = s
            .post(
                &t.clerk,
                &format!("/api/v1/cases/{id}/actions"),
                json!({ "action": "dispatch", "lead": format!("dept:{}", s.dept_a) }),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{backend}: clerks do not dispatch: {answer}"
        );
        assert_eq!(answer["code"], "not_allowed");
        let (status, answer) = s
            .post(
                &t.police,
                &format!("/api/v1/cases/{id}/actions"),
                json!({ "action": "claim" }),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{backend}: not sent to the police yet, so not visible: {answer}"
        );
        let (status, answer) = s
            .post(
                &t.dispatcher,
                &format!("/api/v1/cases/{id}/actions"),
                json!({ "action": "dispatch", "lead": format!("dept:{}", s.dept_b) }),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: another town's unit: {answer}"
        );
        assert_eq!(answer["fields"][0]["code"], "out_of_territory");
        let (status, answer) = s
            .post(
                &t.dispatcher,
                &format!("/api/v1/cases/{id}/actions"),
                json!({ "action": "fly" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        let (_, case) = s.get(&t.dispatcher, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(
            (case["status"].as_str(), case["version"].as_i64()),
            (Some("accepted"), Some(2)),
            "{backend}: refused actions changed nothing"
        );
        // Stale version: 409.
        let (status, _) = s
            .post(
                &t.dispatcher,
                &format!("/api/v1/cases/{id}/actions?expected_version=1"),
                json!({ "action": "add_note", "text": "x" }),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);

        // Attachments: a real image is kept; a text file or an oversized one is refused.
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let response = s
            .http
            .post(s.url(&format!(
                "/api/v1/cases/{id}/attachments?file_name=photo.png"
            )))
            .bearer_auth(&t.clerk)
            .body(png.clone())
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::CREATED, "{backend}");
        let response = s
            .http
            .post(s.url(&format!(
                "/api/v1/cases/{id}/attachments?file_name=evil.png"
            )))
            .bearer_auth(&t.clerk)
            .body("not an image")
            .send()
            .await?;
        let (status, answer) = decode(response).await;
        assert_eq!(
            (status, answer["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("type")),
            "{answer}"
        );
        let mut big = png.clone();
        big.resize(2 * 1024 * 1024, 0);
        let response = s
            .http
            .post(s.url(&format!("/api/v1/cases/{id}/attachments?file_name=big.png")))
            .bearer_auth(&t.clerk)
            .body(big)
            .send()
            .await?;
        let (status, answer) = decode(response).await;
        assert_eq!(
            (status, answer["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("size")),
            "{answer}"
        );
        let (_, list) = s
            .get(&t.clerk, &format!("/api/v1/cases/{id}/attachments"))
            .await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{backend}");
        let response = s
            .http
            .get(s.url(&format!("/api/v1/cases/{id}/attachments/{}", list[0]["id"])))
            .bearer_auth(&t.clerk)
            .send()
            .await?;
        assert_eq!(response.bytes().await?.to_vec(), png);
    }
    Ok(())
}

#[tokio::test]
async fn citizens_submit_from_the_public_page_and_duplicates_are_offered() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        let citizen = json!({
            "kind": "request", "channel": "self_service", "title": "路灯不亮", "description": "鲍店社区门口路灯坏了三天",
            "lng": 116.801, "lat": 35.401, "parties": [{ "role": "reporter", "phone": "13912345678" }]
        });
        let post = |key: &'static str, body: Value| {
            let http = s.http.clone();
            let url = s.url("/api/v1/public/cases");
            async move {
                decode(
                    http.post(url)
                        .header("idempotency-key", key)
                        .header("x-device-id", "phone-abc")
                        .json(&body)
                        .send()
                        .await
                        .expect("send"),
                )
                .await
            }
        };
        // A phone on the public page must be verified by the code sent to it.
        let (status, answer) = post("c0", citizen.clone()).await;
        assert_eq!(
            (status, answer["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("verification_code")),
            "{backend}: {answer}"
        );
        let response = s
            .http
            .post(s.url("/api/v1/public/verification-codes"))
            .json(&json!({ "phone": "13912345678" }))
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{backend}");
        let response = s
            .http
            .post(s.url("/api/v1/public/verification-codes"))
            .json(&json!({ "phone": "13912345678" }))
            .send()
            .await?;
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{backend}: one code a minute"
        );
        let code = s.sms.last_code("13912345678").expect("a code was sent");
        let mut wrong = citizen.clone();
        wrong["verification_code"] = json!(if code == "000000" { "111111" } else { "000000" });
        let (status, answer) = post("c0", wrong).await;
        assert_eq!(
            (status, answer["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("wrong")),
            "{backend}"
        );
        let mut citizen = citizen.clone();
        citizen["verification_code"] = json!(code);
        let (status, answer) = post("c1", citizen.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {answer}");
        let number = answer["case"]["number"].as_str().unwrap().to_string();
        let secret = answer["tracking_secret"].as_str().unwrap().to_string();
        let (status, again) = post("c1", citizen.clone()).await;
        assert_eq!(
            (status, again["case"]["number"].as_str()),
            (StatusCode::OK, Some(number.as_str())),
            "{backend}: a retry replays (the used code is not asked again)"
        );
        let anonymous = json!({ "kind": "request", "channel": "self_service", "title": "建议", "description": "建议增设健身器材", "region_code": VILLAGE_A });
        let (status, answer) = post("c9", anonymous).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{backend}: anonymous submissions need no phone: {answer}"
        );
        // The public page must send a key, and only self-service cases.
        let response = s
            .http
            .post(s.url("/api/v1/public/cases"))
            .header("x-device-id", "phone-abc")
            .json(&citizen)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let mut walk_in = citizen.clone();
        walk_in["channel"] = json!("walk_in");
        let (status, answer) = post("c2", walk_in).await;
        assert_eq!(
            (status, answer["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("channel"))
        );
        let response = s
            .http
            .get(s.url(&format!(
                "/api/v1/public/track?number={number}&secret={}",
                secret.to_lowercase()
            )))
            .send()
            .await?;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{backend}: the secret is case-insensitive"
        );

        // At the window, the same phone or the same place brings the citizen's case up as a likely duplicate.
        let (_, found) = s
            .get(&t.clerk, "/api/v1/case-duplicates?phone=13912345678")
            .await;
        assert_eq!(
            found.as_array().map(Vec::len),
            Some(1),
            "{backend}: {found}"
        );
        let (_, found) = s
            .get(&t.clerk, "/api/v1/case-duplicates?lng=116.8012&lat=35.4009")
            .await;
        assert_eq!(found.as_array().map(Vec::len), Some(1), "{backend}");
        let (_, found) = s
            .get(&t.clerk, "/api/v1/case-duplicates?lng=116.9&lat=35.4")
            .await;
        assert_eq!(found.as_array().map(Vec::len), Some(0), "{backend}");
        // The clerk's own registration is merged into it, leaving the cohort.
        let mut same = citizen.clone();
        same["channel"] = json!("phone");
        let (dup, _, _) = register(&s, &t.clerk, same).await;
        let case = s
            .act(
                &t.clerk,
                dup,
                json!({ "action": "merge_into", "target_number": number }),
            )
            .await;
        assert_eq!(
            (case["status"].as_str(), case["merged_into"].as_str()),
            (Some("merged"), Some(number.as_str()))
        );
    }
    Ok(())
}

#[tokio::test]
async fn deadlines_follow_the_calendar_and_a_new_notice_recomputes_provisional_ones() -> TestResult
{
    for backend in backends() {
        let s = Server::start(backend).await;
        // 2026-12-29 + 5 working days runs into 2027, whose notice is not published yet.
        s.clock.advance(chrono::Duration::days(36));
        let t = staff(&s).await;
        let (id, _, _) = register(&s, &t.clerk, dispute("13912345678")).await;
        let case = s
            .act(
                &t.clerk,
                id,
                json!({ "action": "accept", "category": "dispute.neighbour" }),
            )
            .await;
        assert_eq!(case["deadline_provisional"], true, "{backend}: {case}");
        let provisional_due = case["handling_due"].as_str().unwrap().to_string();
        s.user("admin_a", "admin", "region:370883", false).await;
        let admin = s.login("admin_a").await;
        let notice = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-04,holiday,元旦\n2027-01-05,holiday,元旦\n2027-01-09,workday,元旦\n";
        let response = s
            .http
            .post(s.url("/api/v1/calendar/notices?year=2027"))
            .bearer_auth(&admin)
            .body(notice)
            .send()
            .await?;
        let (status, outcome) = decode(response).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {outcome}");
        assert!(outcome["recomputed_cases"].as_i64().unwrap() >= 1);
        let (_, case) = s.get(&t.dispatcher, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(case["deadline_provisional"], false, "{backend}");
        assert_ne!(
            case["handling_due"].as_str().unwrap(),
            provisional_due,
            "{backend}: the notice moved the deadline"
        );
        let (_, days) = s
            .get(
                &admin,
                "/api/v1/calendar/days?from=2027-01-01&to=2027-01-10",
            )
            .await;
        let working: Vec<bool> = days["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["working"].as_bool().unwrap())
            .collect();
        assert_eq!(
            working,
            [
                false, false, false, false, false, true, true, true, true, false
            ],
            "{backend}: {days}"
        );

        // The sweep turns a case red once past its deadline and tells the center.
        s.act(
            &t.dispatcher,
            id,
            json!({ "action": "dispatch", "lead": format!("dept:{}", s.dept_a) }),
        )
        .await;
        s.clock.advance(chrono::Duration::days(30));
        assert_eq!(s.app.sweep_deadlines().await?, 1, "{backend}");
        assert_eq!(
            s.app.sweep_deadlines().await?,
            0,
            "{backend}: once per tick"
        );
        let t = staff_again(&s).await;
        let (_, case) = s.get(&t.dispatcher, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(case["warning"], "red");
        let (_, inbox) = s
            .get(&t.dispatcher, "/api/v1/notifications?unread=true")
            .await;
        assert!(
            inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "overdue"),
            "{backend}: {inbox}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn admins_edit_the_catalog_and_unruled_returns_reach_the_lead() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        s.user("admin_a", "admin", "region:370883", false).await;
        let admin = s.login("admin_a").await;
        let response = s.http.put(s.url("/api/v1/categories/dispute.neighbour")).bearer_auth(&admin)
            .json(&json!({ "name": "邻里纠纷", "parent_code": "dispute", "handling": "7d", "grid_handles": "true" })).send().await?;
        let (status, category) = decode(response).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {category}");
        assert_eq!(
            category["limits"]["handling"],
            json!({ "unit": "working_days", "amount": 7 })
        );
        assert_eq!(
            category["limits"]["follow_up"]["amount"], 3,
            "{backend}: inherited from 矛盾纠纷"
        );
        let response = s
            .http
            .put(s.url("/api/v1/categories/dispute.neighbour"))
            .bearer_auth(&admin)
            .json(&json!({ "name": "邻里纠纷", "parent_code": "dispute", "handling": "7 weeks" }))
            .send()
            .await?;
        let (status, answer) = decode(response).await;
        assert_eq!(
            (status, answer["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("handling")),
            "{backend}: {answer}"
        );
        let response = s
            .http
            .put(s.url("/api/v1/categories/dispute.neighbour"))
            .bearer_auth(&t.dispatcher)
            .json(&json!({ "name": "x", "parent_code": "dispute" }))
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);

        // A return left unruled for a day goes to the center's lead.
        let (id, _, _) = register(&s, &t.clerk, dispute("13912345678")).await;
        s.act(
            &t.clerk,
            id,
            json!({ "action": "accept", "category": "dispute.neighbour" }),
        )
        .await;
        s.act(
            &t.dispatcher,
            id,
            json!({ "action": "dispatch", "lead": format!("dept:{}", s.dept_a) }),
        )
        .await;
        s.act(
            &t.police,
            id,
            json!({ "action": "return", "reason": "非本单位职责" }),
        )
        .await;
        s.clock.advance(chrono::Duration::hours(25));
        assert!(s.app.sweep_deadlines().await? >= 1, "{backend}");
        let leader = s.login("leader_a").await;
        let (_, inbox) = s.get(&leader, "/api/v1/notifications").await;
        assert!(
            inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "return_unruled"),
            "{backend}: {inbox}"
        );
        let clerk = s.login("clerk_a").await;
        let (_, clerk_inbox) = s.get(&clerk, "/api/v1/notifications").await;
        assert!(
            !clerk_inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "return_unruled"),
            "{backend}: only the lead"
        );
    }
    Ok(())
}

#[tokio::test]
async fn visitors_get_feedback_in_two_working_days_and_waiting_on_the_citizen_pauses_the_clock()
-> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        // Mon 2026-11-23, 10:00 local: feedback due by the end of Wed 2026-11-25 (local), i.e. 16:00 UTC.
        let (id, _, _) = register(&s, &t.clerk, dispute("13912345678")).await;
        let (_, case) = s.get(&t.clerk, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(
            case["feedback_due"], "2026-11-25T16:00:00Z",
            "{backend}: {case}"
        );
        let case = s
            .act(
                &t.clerk,
                id,
                json!({ "action": "give_feedback", "note": "已电话告知受理情况" }),
            )
            .await;
        assert!(case["feedback_due"].is_null());
        let (status, answer) = s
            .post(
                &t.clerk,
                &format!("/api/v1/cases/{id}/actions"),
                json!({ "action": "give_feedback", "note": "再次" }),
            )
            .await;
        assert_eq!(
            (status, answer["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("no_feedback_due")),
            "{backend}: {answer}"
        );

        // Disputes may pause while waiting on the citizen; the deadline moves by the working days it stood still.
        s.act(
            &t.clerk,
            id,
            json!({ "action": "accept", "category": "dispute.neighbour" }),
        )
        .await;
        s.act(&t.dispatcher, id, json!({ "action": "dispatch", "lead": format!("dept:{}", s.town_units["justice_office"]) })).await;
        let case = s.act(&t.justice, id, json!({ "action": "claim" })).await;
        let due = case["handling_due"].as_str().unwrap().to_string();
        let case = s
            .act(
                &t.justice,
                id,
                json!({ "action": "pause_clock", "reason": "等待当事人提供房屋产权证明" }),
            )
            .await;
        assert_eq!(case["clock_paused"], true);
        // Mon 10:00 → Thu 10:00: three working days stood still.
        s.clock.advance(chrono::Duration::days(3));
        let t = staff_again(&s).await;
        let case = s
            .act(
                &t.justice,
                id,
                json!({ "action": "resume_clock", "note": "材料已补齐" }),
            )
            .await;
        assert_eq!(case["clock_paused"], false);
        let moved = case["handling_due"].as_str().unwrap().to_string();
        assert!(moved > due, "{backend}: {due} → {moved}");
        let calendar = fengqiao_domain::calendar::WorkingCalendar::official();
        let expected = calendar
            .add_working_days(
                chrono::DateTime::parse_from_rfc3339(&due)?.with_timezone(&chrono::Utc),
                3,
            )
            .at;
        assert_eq!(
            moved,
            expected.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "{backend}"
        );
        // Consultations may not pause.
        let mut ask = dispute("13912345678");
        ask["category"] = json!("consultation");
        ask["kind"] = json!("request");
        let (other, _, _) = register(&s, &t.clerk, ask).await;
        s.act(
            &t.clerk,
            other,
            json!({ "action": "accept", "category": "consultation" }),
        )
        .await;
        s.act(&t.dispatcher, other, json!({ "action": "dispatch", "lead": format!("dept:{}", s.town_units["justice_office"]) })).await;
        s.act(&t.justice, other, json!({ "action": "claim" })).await;
        let (status, answer) = s
            .post(
                &t.justice,
                &format!("/api/v1/cases/{other}/actions"),
                json!({ "action": "pause_clock", "reason": "等待" }),
            )
            .await;
        assert_eq!(
            (status, answer["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("not_pausable")),
            "{backend}: {answer}"
        );
    }
    Ok(())
}
