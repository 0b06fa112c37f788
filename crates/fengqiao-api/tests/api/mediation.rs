//! Mediation and petitions end to end (issue 5's walk): a land dispute mediated in the village and failed →
//! multi-party mediation at the town with two departments → agreement → the agreement PDF (its text extracted)
//! → follow-up on day 25 performed; a petition registered at a reception day, flagged as repeat, made a
//! backlog case owned by a leader, extended once and closed with a commitment; the figures afterwards; and the
//! scope rules (a committee's mediator sees its cases only; a sensitive petitioner is masked).

use crate::cases::{register, staff, staff_again};
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn land_dispute() -> Value {
    json!({
        "kind": "dispute",
        "channel": "walk_in",
        "category": "dispute.land_contract",
        "title": "承包地地界纠纷",
        "description": "刘建国与王德胜因承包地地界发生争执，王德胜越界耕种。",
        "address": "鲍店社区东坡地",
        "lng": 116.80,
        "lat": 35.40,
        "parties": [
            { "role": "applicant", "name": "刘建国", "phone": "13912345678" },
            { "role": "respondent", "name": "王德胜" }
        ]
    })
}

/// Text of a PDF as poppler's `pdftotext` extracts it, whitespace removed.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agreement.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils; scripts/test installs it)");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

async fn get_bytes(s: &Server, token: &str, path: &str) -> (StatusCode, Vec<u8>) {
    let response = s
        .http
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn mediate(s: &Server, token: &str, id: i64, body: Value) -> Value {
    let (status, answer) = s
        .post(
            token,
            &format!("/api/v1/mediations/{id}/actions"),
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{} {body}: {answer}", s.backend);
    answer
}

#[tokio::test]
async fn a_land_dispute_goes_from_the_village_to_the_town_to_an_agreement_and_its_follow_up()
-> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        s.user("admin_c", "admin", "region:370883", false).await;
        let admin = s.login("admin_c").await;

        // Committees: the village's and the town's, and another town's (for scope).
        let committee = |name: &str, kind: &str, region: &str| {
            let body = json!({ "name": name, "kind": kind, "region_code": region });
            let s = &s;
            let admin = admin.clone();
            async move {
                let (status, c) = s.post(&admin, "/api/v1/committees", body).await;
                assert_eq!(status, StatusCode::CREATED, "{}: {c}", s.backend);
                c["id"].as_i64().unwrap()
            }
        };
        let village = committee("鲍店社区人民调解委员会", "village", VILLAGE_A).await;
        let town = committee("太平镇人民调解委员会", "town", TOWN_A).await;
        let other = committee("石墙镇人民调解委员会", "town", TOWN_B).await;
        let (status, dup) = s
            .post(
                &admin,
                "/api/v1/committees",
                json!({ "name": "太平镇人民调解委员会", "kind": "town", "region_code": TOWN_A }),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}: {dup}");

        let med_v_id = s
            .user("med_v", "mediator", &format!("committee:{village}"), false)
            .await;
        let med_t_id = s
            .user("med_t", "mediator", &format!("committee:{town}"), false)
            .await;
        s.user("med_o", "mediator", &format!("committee:{other}"), false)
            .await;
        for (c, user, name, kind, rota) in [
            (village, med_v_id, "村调解员", "staff", json!([])),
            (
                town,
                med_t_id,
                "镇人大代表",
                "deputy_or_member",
                json!([23, 28]),
            ),
        ] {
            let (status, m) = s
                .post(
                    &admin,
                    &format!("/api/v1/committees/{c}/mediators"),
                    json!({ "name": name, "kind": kind, "user_id": user, "rota_days": rota }),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{backend}: {m}");
        }
        let (status, bad) = s
            .post(
                &admin,
                &format!("/api/v1/committees/{town}/mediators"),
                json!({ "name": "x", "kind": "staff", "rota_days": [32] }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {bad}");
        assert_eq!(bad["fields"][0]["field"], "rota_days");
        let med_v = s.login("med_v").await;
        let med_t = s.login("med_t").await;
        let med_o = s.login("med_o").await;

        let (case_id, number, _) = register(&s, &t.clerk, land_dispute()).await;
        // Before any mediation, a committee's mediator sees nothing of the case.
        assert_eq!(
            s.get(&med_v, &format!("/api/v1/cases/{case_id}")).await.0,
            StatusCode::NOT_FOUND
        );

        // The dispatcher sends it to the village committee (people's mediation, handed over by the police).
        let open = json!({
            "committee_id": village,
            "mediator_user_id": med_v_id,
            "kind": "people",
            "linkage": { "kind": "police", "handing_office": "太平镇派出所" }
        });
        let (status, first) = s
            .post_with(
                &t.dispatcher,
                &format!("/api/v1/cases/{case_id}/mediations"),
                &[("idempotency-key", "open-1")],
                open.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {first}");
        assert_eq!(first["step"], "initial");
        let m1 = first["id"].as_i64().unwrap();
        let (status, again) = s
            .post_with(
                &t.dispatcher,
                &format!("/api/v1/cases/{case_id}/mediations"),
                &[("idempotency-key", "open-1")],
                open,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {again}");
        assert_eq!(again["id"], m1);
        let (status, reused) = s
            .post_with(
                &t.dispatcher,
                &format!("/api/v1/cases/{case_id}/mediations"),
                &[("idempotency-key", "open-1")],
                json!({ "committee_id": town, "kind": "people" }),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {reused}"
        );

        // Now the village mediator sees the case; another town's mediator sees neither case nor mediation.
        assert_eq!(
            s.get(&med_v, &format!("/api/v1/cases/{case_id}")).await.0,
            StatusCode::OK
        );
        let (status, listed) = s.get(&med_v, "/api/v1/cases").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed["total"], 1, "{backend}: {listed}");
        assert_eq!(
            s.get(&med_o, &format!("/api/v1/cases/{case_id}")).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            s.get(&med_o, &format!("/api/v1/mediations/{m1}")).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(s.get(&med_o, "/api/v1/cases").await.1["total"], 0);
        // Nor may they act on it (404, as if absent).
        let (status, _) = s
            .post(
                &med_o,
                &format!("/api/v1/mediations/{m1}/actions"),
                json!({"action": "follow_up", "performed": true, "settled": true, "note": ""}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The village session fails: next, multi-party mediation at the town with two departments.
        let justice = s.town_units["justice_office"];
        let center = s.town_units["comprehensive_governance_center"];
        mediate(
            &s,
            &med_v,
            m1,
            json!({
                "action": "record_session", "held_at": "2026-11-23T03:00:00Z", "place": "鲍店社区调解室",
                "attendees": ["刘建国", "王德胜", "村调解员"], "minutes": "双方各执一词，联系电话13912345678",
                "positions": "刘建国要求恢复原地界；王德胜认为原地界有误"
            }),
        )
        .await;
        let failed = mediate(
            &s,
            &med_v,
            m1,
            json!({
                "action": "conclude_failure", "reason": "双方分歧较大",
                "next": { "path": "multi_party", "committee_id": town, "departments": [justice, center] }
            }),
        )
        .await;
        assert_eq!(failed["status"], "failed");
        // Numbers typed into the minutes are masked.
        assert!(
            !failed.to_string().contains("13912345678"),
            "{backend}: {failed}"
        );

        // The town's mediator picks it up and sees the mediators' caseload first.
        let (status, mediators) = s
            .get(
                &med_t,
                &format!("/api/v1/committees/{town}/mediators?on=2026-11-23"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {mediators}");
        assert_eq!(mediators[0]["on_duty"], true);
        assert_eq!(mediators[0]["open_mediations"], 0);
        let (status, second) = s
            .post(
                &med_t,
                &format!("/api/v1/cases/{case_id}/mediations"),
                json!({
                    "committee_id": town, "mediator_user_id": med_t_id, "kind": "people",
                    "previous_mediation_id": m1, "departments": [justice, center]
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {second}");
        assert_eq!(second["step"], "multi_party");
        let m2 = second["id"].as_i64().unwrap();
        // The village mediator may not act on the town's mediation.
        let (status, refused) = s
            .post(
                &med_v,
                &format!("/api/v1/mediations/{m2}/actions"),
                json!({"action": "record_session", "held_at": "2026-11-24T03:00:00Z", "place": "x", "attendees": ["a"], "minutes": "m"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {refused}");

        mediate(
            &s,
            &med_t,
            m2,
            json!({
                "action": "hold_hearing", "held_at": "2026-11-24T02:00:00Z", "place": "太平镇综治中心听证室",
                "public": false, "panel": ["司法所所长", "综治中心主任", "镇人大代表"],
                "statements": "双方陈述地界争议的来由"
            }),
        )
        .await;
        mediate(
            &s,
            &med_t,
            m2,
            json!({
                "action": "record_session", "held_at": "2026-11-25T02:00:00Z", "online": true, "place": null,
                "attendees": ["刘建国", "王德胜", "司法所", "综治中心"], "minutes": "依据确权图重新确定地界"
            }),
        )
        .await;
        let agreed = mediate(
            &s,
            &med_t,
            m2,
            json!({
                "action": "conclude_agreement",
                "facts": "双方因承包地地界发生争议，经村调委会调解未果，转镇多元调解。",
                "terms": [
                    { "text": "以二〇一九年确权图为准重新确定地界", "amount_fen": null },
                    { "text": "王德胜补偿刘建国青苗损失", "amount_fen": 300000 }
                ],
                "performance_deadline": "2026-12-31"
            }),
        )
        .await;
        assert_eq!(agreed["status"], "agreed");
        assert_eq!(agreed["follow_up_overdue"], false);
        assert_eq!(agreed["follow_up_due"], "2026-12-23T16:00:00Z");
        // The follow-up desk's list: the agreement waits for its visit.
        let (status, due) = s
            .get(&t.leader, "/api/v1/mediations?follow_ups_due=true")
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {due}");
        assert_eq!(due["total"], 1, "{backend}: {due}");
        assert_eq!(due["items"][0]["id"], m2);
        mediate(
            &s,
            &med_t,
            m2,
            json!({ "action": "apply_judicial_confirmation", "court": "邹城市人民法院" }),
        )
        .await;
        let confirmed = mediate(
            &s,
            &med_t,
            m2,
            json!({ "action": "record_judicial_result", "confirmed": true, "note": "裁定协议有效" }),
        )
        .await;
        assert_eq!(confirmed["detail"]["judicial"]["confirmed"], true);

        // The agreement document: a PDF whose text holds the parties and the terms, and a DOCX.
        let (status, pdf) =
            get_bytes(&s, &med_t, &format!("/api/v1/mediations/{m2}/agreement")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdf_text(&pdf);
        for expected in [
            "人民调解协议书",
            "太平镇人民调解委员会",
            "申请人：刘建国",
            "被申请人：王德胜",
            "以二〇一九年确权图为准重新确定地界",
            "王德胜补偿刘建国青苗损失",
            "3000.00",
            "2026年12月31日",
            &number,
        ] {
            assert!(
                text.contains(expected),
                "{backend}: {expected} not in {text}"
            );
        }
        let (status, docx) = get_bytes(
            &s,
            &med_t,
            &format!("/api/v1/mediations/{m2}/agreement?format=docx"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&docx[..2], b"PK");
        assert_eq!(
            get_bytes(&s, &med_t, &format!("/api/v1/mediations/{m1}/agreement"))
                .await
                .0,
            StatusCode::CONFLICT,
            "a failed mediation has no agreement"
        );
        assert!(!s.audit("mediation.agreement_document").await.is_empty());

        // Day 25: the follow-up visit finds the agreement performed.
        s.clock.advance(chrono::Duration::days(25));
        let med_t = s.login("med_t").await;
        let visited = mediate(
            &s,
            &med_t,
            m2,
            json!({ "action": "follow_up", "performed": true, "settled": true, "note": "地界已重新确定，补偿款已付清" }),
        )
        .await;
        assert_eq!(visited["status"], "followed_up");
        assert_eq!(visited["performed"], true);
        assert_eq!(visited["follow_up_overdue"], false);

        // The case's history shows each step.
        let t = staff_again(&s).await;
        let (status, timeline) = s
            .get(&t.dispatcher, &format!("/api/v1/cases/{case_id}/timeline"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<&str> = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        for step in [
            "mediation_accepted",
            "mediation_session",
            "mediation_failed",
            "mediation_hearing",
            "mediation_agreed",
            "judicial_confirmation_applied",
            "judicial_confirmation_decided",
            "mediation_followed_up",
        ] {
            assert!(names.contains(&step), "{backend}: {step} not in {names:?}");
        }
        assert_eq!(
            names.iter().filter(|n| **n == "mediation_accepted").count(),
            2
        );
        let (_, mediations) = s
            .get(
                &t.dispatcher,
                &format!("/api/v1/cases/{case_id}/mediations"),
            )
            .await;
        assert_eq!(mediations.as_array().unwrap().len(), 2);

        // Figures: one failed at the village, one agreed and performed at the town → success rate 50%.
        let (status, figures) = s
            .get(
                &t.leader,
                "/api/v1/mediation-figures?from=2026-11-01&to=2026-12-31&group_by=committee",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {figures}");
        assert_eq!(figures["total"]["accepted"], 2);
        assert_eq!(figures["total"]["concluded"], 2);
        assert_eq!(figures["total"]["succeeded"], 1);
        assert_eq!(figures["total"]["performed"], 1);
        assert_eq!(figures["total"]["success_rate"], 0.5);
        let row = |key: i64| {
            figures["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"].as_str().and_then(|k| k.parse::<i64>().ok()) == Some(key))
                .cloned()
                .unwrap()
        };
        assert_eq!(row(village)["success_rate"], 0.0);
        assert_eq!(row(town)["success_rate"], 1.0);
        assert_eq!(row(town)["label"], "太平镇人民调解委员会");
        let (_, by_mediator) = s
            .get(
                &t.leader,
                "/api/v1/mediation-figures?from=2026-11-01&to=2026-12-31&group_by=mediator",
            )
            .await;
        assert_eq!(by_mediator["rows"].as_array().unwrap().len(), 2);
        let (_, by_kind) = s
            .get(
                &t.leader,
                "/api/v1/mediation-figures?from=2026-11-01&to=2026-12-31&group_by=category",
            )
            .await;
        assert_eq!(by_kind["rows"][0]["key"], "dispute.land_contract");
        let (status, drill) = s
            .get(
                &t.leader,
                &format!("/api/v1/mediation-figures/mediations?from=2026-11-01&to=2026-12-31&group_by=committee&key={town}&measure=succeeded"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {drill}");
        assert_eq!(drill.as_array().unwrap().len(), 1);
        assert_eq!(drill[0]["mediation_id"], m2);
        assert_eq!(drill[0]["case_id"], case_id);
        // The list, newest first, filtered by status and committee, paged.
        let list = |q: &'static str| {
            let token = t.leader.clone();
            let s = &s;
            async move {
                s.get(
                    &token,
                    &format!("/api/v1/mediations?from=2026-11-01&to=2026-12-31{q}"),
                )
                .await
            }
        };
        let (status, all) = list("").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {all}");
        assert_eq!(all["total"], 2, "{backend}: {all}");
        assert_eq!(all["items"][0]["id"], m2, "newest first");
        assert_eq!(all["items"][0]["committee_name"], "太平镇人民调解委员会");
        let (_, failed) = list("&status=failed").await;
        assert_eq!(failed["total"], 1);
        assert_ne!(failed["items"][0]["id"], m2);
        let (_, one_page) = list("&per_page=1&page=2").await;
        assert_eq!(
            (
                one_page["total"].as_i64(),
                one_page["items"].as_array().map(Vec::len)
            ),
            (Some(2), Some(1))
        );
        let (_, by_committee) = s
            .get(
                &t.leader,
                &format!("/api/v1/mediations?committee_id={town}"),
            )
            .await;
        assert_eq!(by_committee["total"], 1);
        let (_, none_due) = s
            .get(&t.leader, "/api/v1/mediations?follow_ups_due=true")
            .await;
        assert_eq!(none_due["total"], 0, "{backend}: followed up: {none_due}");
        let (status, body) = list("&status=done").await;
        assert_eq!(
            (status, body["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("status"))
        );
        // Another town's mediator counts nothing of this.
        let med_o = s.login("med_o").await;
        let (_, theirs) = s
            .get(
                &med_o,
                "/api/v1/mediation-figures?from=2026-11-01&to=2026-12-31",
            )
            .await;
        assert_eq!(theirs["total"]["accepted"], 0, "{backend}: {theirs}");
        let (_, their_list) = s.get(&med_o, "/api/v1/mediations").await;
        assert_eq!(their_list["total"], 0, "{backend}: {their_list}");
        // The mediator's success rate is visible to whoever chooses one.
        let (_, mediators) = s
            .get(
                &t.dispatcher,
                &format!("/api/v1/committees/{town}/mediators"),
            )
            .await;
        assert_eq!(mediators[0]["agreed"], 1, "{backend}: {mediators}");
        assert_eq!(mediators[0]["success_rate"], 1.0);
    }
    Ok(())
}

#[tokio::test]
async fn a_petition_at_a_reception_day_becomes_a_backlog_case_closed_with_a_commitment()
-> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        // A second village in town A that will petition nothing (零上访村).
        s.app
            .import_regions(&[fengqiao_app::org::RegionInput {
                code: "370883107002".into(),
                name: "后八里沟村".into(),
                parent_code: None,
            }])
            .await
            .unwrap();
        s.user("unmasker", "dispatcher", &format!("region:{TOWN_A}"), true)
            .await;
        let unmasker = s.login("unmasker").await;

        // The town leader receives every Monday at the town center.
        let (status, schedule) = s
            .post(
                &t.dispatcher,
                "/api/v1/reception-schedules",
                json!({
                    "leader_user_id": t.leader_id, "region_code": TOWN_A, "place": "太平镇综治中心接访室",
                    "cadence": { "every": "weekly", "weekday": 1 },
                    "valid_from": "2026-11-01", "valid_to": "2027-12-31"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {schedule}");
        let schedule_id = schedule["id"].as_i64().unwrap();
        // The leaders a dispatcher may choose from, by name.
        let (status, leaders) = s.get(&t.dispatcher, "/api/v1/leaders").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {leaders}");
        assert!(
            leaders
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["id"] == t.leader_id && l["display_name"].is_string()),
            "{backend}: {leaders}"
        );
        let (status, appointment) = s
            .post(
                &t.clerk,
                &format!("/api/v1/reception-schedules/{schedule_id}/appointments"),
                json!({ "day": "2026-11-30", "petitioner": "刘建国", "matter": "承包地补偿" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {appointment}");
        let (status, wrong_day) = s
            .post(
                &t.clerk,
                &format!("/api/v1/reception-schedules/{schedule_id}/appointments"),
                json!({ "day": "2026-11-24", "petitioner": "刘建国", "matter": "x" }),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {wrong_day}"
        );
        let (status, reception) = s
            .post(
                &t.dispatcher,
                &format!("/api/v1/reception-schedules/{schedule_id}/receptions"),
                json!({ "day": "2026-11-23", "notes": "领导接待群众来访" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {reception}");
        let reception_id = reception["id"].as_i64().unwrap();

        // A letter first, then the same petitioner comes in a group to the reception day: a repeat, a group.
        let petition = |channel: &str, head_count: u32, reception: Option<i64>, sensitive: bool| {
            json!({
                "channel": channel, "head_count": head_count, "petitioner_name": "刘建国",
                "phone": "13912345678", "id_number": "11010519491231002X", "sensitive": sensitive,
                "reception_id": reception, "category": "petition.appeal",
                "subject": "要求解决承包地补偿", "content": "多次反映承包地补偿未到位，电话13912345678",
                "region_code": VILLAGE_A, "received_region": TOWN_A
            })
        };
        let (status, letter) = s
            .post(
                &t.clerk,
                "/api/v1/petitions",
                petition("letter", 1, None, false),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {letter}");
        assert_eq!(letter["repeat"], false);
        assert_eq!(letter["petitioner_name"], "刘建国");
        let body = petition("visit", 6, Some(reception_id), true);
        let (status, visit) = s
            .post_with(
                &t.clerk,
                "/api/v1/petitions",
                &[("idempotency-key", "visit-1")],
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {visit}");
        let (status, replay) = s
            .post_with(
                &t.clerk,
                "/api/v1/petitions",
                &[("idempotency-key", "visit-1")],
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(replay["id"], visit["id"]);
        let pid = visit["id"].as_i64().unwrap();
        assert_eq!(visit["repeat"], true, "{backend}: {visit}");
        assert_eq!(visit["group"], true);
        assert_eq!(visit["skip_level"], false);
        assert_eq!(visit["current_due"], "2026-12-08T16:00:00Z");
        // A sensitive petitioner: name and numbers masked, free text too.
        assert_eq!(visit["petitioner_name"], "刘**");
        assert_eq!(visit["phone"], "139****5678");
        assert!(!visit.to_string().contains("13912345678"));
        let (status, _) = s
            .post(
                &t.clerk,
                &format!("/api/v1/petitions/{pid}/unmask"),
                json!({ "reason": "核实身份" }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, full) = s
            .post(
                &unmasker,
                &format!("/api/v1/petitions/{pid}/unmask"),
                json!({ "reason": "核实身份" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {full}");
        assert_eq!(full["petitioner_name"], "刘建国");
        assert_eq!(full["phone"], "13912345678");
        let unmasks = s.audit("petition.unmask").await;
        assert_eq!(unmasks.len(), 2);
        assert!(unmasks.iter().any(|a| a.result == "denied"));
        // Another town sees nothing of it.
        s.user("disp_b", "dispatcher", &format!("region:{TOWN_B}"), false)
            .await;
        let disp_b = s.login("disp_b").await;
        assert_eq!(
            s.get(&disp_b, &format!("/api/v1/petitions/{pid}")).await.0,
            StatusCode::NOT_FOUND
        );
        let (_, theirs) = s
            .get(&disp_b, "/api/v1/petitions?from=2026-11-01&to=2026-11-30")
            .await;
        assert_eq!(theirs, json!([]), "{backend}");
        let (_, ours) = s
            .get(
                &t.dispatcher,
                "/api/v1/petitions?from=2026-11-01&to=2026-11-30",
            )
            .await;
        assert_eq!(ours.as_array().unwrap().len(), 2, "{backend}: {ours}");
        // The reception lists the matter raised at it.
        let (_, held) = s
            .get(&t.leader, &format!("/api/v1/receptions/{reception_id}"))
            .await;
        assert_eq!(held["petitions"][0]["id"], pid, "{backend}: {held}");

        // Someone who went straight to the county: skip-level.
        let (status, skip) = s
            .post(
                &t.county,
                "/api/v1/petitions",
                json!({
                    "channel": "visit", "petitioner_name": "张三", "phone": "13800001111",
                    "subject": "宅基地纠纷", "content": "到市里反映", "region_code": VILLAGE_B, "received_region": "370883"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {skip}");
        assert_eq!(skip["skip_level"], true);
        assert_eq!(skip["repeat"], false);

        // Accepted, made a backlog case owned by the leader, extended once.
        let (status, accepted) = s
            .post(
                &t.clerk,
                &format!("/api/v1/petitions/{pid}/actions"),
                json!({ "action": "accept" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {accepted}");
        assert_eq!(accepted["current_due"], "2027-01-22T16:00:00Z");
        let (status, backlog) = s
            .post(
                &t.dispatcher,
                &format!("/api/v1/petitions/{pid}/backlog"),
                json!({
                    "leader_user_id": t.leader_id, "plan": "领导包案：核实补偿标准，协调村委会兑付",
                    "units": [format!("dept:{}", s.town_units["justice_office"])]
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {backlog}");
        let bid = backlog["id"].as_i64().unwrap();
        let (status, _) = s
            .post(
                &t.clerk,
                &format!("/api/v1/petitions/{pid}/actions"),
                json!({ "action": "request_extension", "days": 30, "reason": "需协调多个部门" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, refused) = s
            .post(
                &t.clerk,
                &format!("/api/v1/petitions/{pid}/actions"),
                json!({ "action": "decide_extension", "approve": true, "note": "" }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {refused}");
        let (status, extended) = s
            .post(
                &t.leader,
                &format!("/api/v1/petitions/{pid}/actions"),
                json!({ "action": "decide_extension", "approve": true, "note": "同意延期" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {extended}");
        assert_eq!(extended["current_due"], "2027-02-21T16:00:00Z");
        let (status, again) = s
            .post(
                &t.clerk,
                &format!("/api/v1/petitions/{pid}/actions"),
                json!({ "action": "request_extension", "days": 10, "reason": "再延" }),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {again}"
        );
        // The visitor hears back within 2 working days.
        assert!(
            extended["feedback_due"].is_string(),
            "{backend}: {extended}"
        );
        let (status, told) = s
            .post(
                &t.clerk,
                &format!("/api/v1/petitions/{pid}/actions"),
                json!({ "action": "give_feedback", "note": "已告知受理及包案安排" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {told}");
        assert_eq!(told["feedback_due"], Value::Null);
        assert_eq!(told["feedback_overdue"], false);
        assert_eq!(
            letter["feedback_due"],
            Value::Null,
            "letters get no visit feedback clock"
        );

        // The leader works the plan and closes it with the signed commitment.
        for body in [
            json!({ "action": "add_milestone", "title": "核实补偿标准", "due": "2026-12-10" }),
            json!({ "action": "add_milestone", "title": "兑付补偿款", "due": "2026-12-20" }),
            json!({ "action": "complete_milestone", "index": 0, "note": "已核实" }),
            json!({ "action": "set_status", "status": "basically_resolved", "note": "" }),
            json!({ "action": "complete_milestone", "index": 1, "note": "已兑付" }),
        ] {
            let (status, answer) = s
                .post(
                    &t.leader,
                    &format!("/api/v1/backlog-cases/{bid}/actions"),
                    body.clone(),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{backend} {body}: {answer}");
        }
        let (status, closed) = s
            .post(
                &t.leader,
                &format!("/api/v1/backlog-cases/{bid}/actions"),
                json!({
                    "action": "close_with_commitment", "signed_on": "2026-12-21", "signer": "刘建国",
                    "text": "本人反映的问题已得到解决，承诺息诉罢访。"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {closed}");
        assert_eq!(closed["status"], "resolved");
        assert_eq!(closed["progress_percent"], 100);
        assert!(closed["closed_at"].is_string());
        let (status, _) = s
            .post(
                &t.leader,
                &format!("/api/v1/backlog-cases/{bid}/actions"),
                json!({ "action": "set_status", "status": "in_progress", "note": "" }),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "a closed backlog case takes nothing"
        );
        let (_, history) = s
            .get(&t.leader, &format!("/api/v1/petitions/{pid}/history"))
            .await;
        let names: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "petition_registered",
                "petition_accepted",
                "backlog_opened",
                "petition_extension_requested",
                "petition_extension_approved",
                "petition_feedback_given"
            ],
            "{backend}"
        );

        // The leader's calendar: Mondays, with the reception held and the appointment booked.
        let (status, calendar) = s
            .get(
                &t.leader,
                &format!(
                    "/api/v1/leaders/{}/calendar?from=2026-11-23&to=2026-12-06",
                    t.leader_id
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {calendar}");
        let days: Vec<&str> = calendar
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["day"].as_str())
            .collect();
        assert_eq!(days, ["2026-11-23", "2026-11-30"]);
        assert_eq!(calendar[0]["receptions"][0]["id"], reception_id);
        assert_eq!(calendar[1]["appointments"][0]["petitioner"], "刘建国");

        // Figures for town A: two petitions (letter, visit), one repeat, one group of six; one of its two
        // villages petitioned nothing; the backlog case is resolved.
        let (status, figures) = s
            .get(
                &t.leader,
                "/api/v1/petition-figures?from=2026-11-01&to=2026-11-30",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {figures}");
        assert_eq!(figures["total"], 2);
        assert_eq!(figures["by_channel"], json!({ "letter": 1, "visit": 1 }));
        assert_eq!(figures["repeat"], 1);
        assert_eq!(figures["skip_level"], 0);
        assert_eq!(figures["group"], 1);
        assert_eq!(figures["group_head_count"], 6);
        assert_eq!(figures["villages"], 2);
        assert_eq!(figures["zero_petition_villages"], 1);
        assert_eq!(figures["zero_petition_share"], 0.5);
        assert_eq!(
            figures["zero_petition_village_codes"],
            json!(["370883107002"])
        );
        assert_eq!(figures["backlog_by_status"], json!({ "resolved": 1 }));
        assert_eq!(figures["backlog_closed"], 1);
        assert_eq!(figures["backlog_average_progress"], 100.0);
        // The county sees all three, one skip-level.
        let (_, county) = s
            .get(
                &t.county,
                "/api/v1/petition-figures?from=2026-11-01&to=2026-11-30",
            )
            .await;
        assert_eq!(county["total"], 3, "{backend}: {county}");
        assert_eq!(county["skip_level"], 1);
        assert_eq!(county["villages"], 3);
        assert_eq!(county["zero_petition_villages"], 1);
        // Outside its scope, a region is not found.
        assert_eq!(
            s.get(
                &t.leader,
                &format!(
                    "/api/v1/petition-figures?from=2026-11-01&to=2026-11-30&region_code={TOWN_B}"
                )
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
    }
    Ok(())
}
