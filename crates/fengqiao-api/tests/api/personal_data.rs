//! Personal data: encrypted at rest, found by keyed hash, masked unless granted, every unmask recorded.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

const ID_NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13912345678";

#[tokio::test]
async fn numbers_are_masked_and_unmasking_is_granted_and_recorded() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        s.user(
            "clerk_a",
            "intake_clerk",
            &format!("region:{TOWN_A}"),
            false,
        )
        .await;
        let dispatcher_id = s
            .user("disp_a", "dispatcher", &format!("region:{TOWN_A}"), true)
            .await;
        s.user(
            "clerk_b",
            "intake_clerk",
            &format!("region:{TOWN_B}"),
            false,
        )
        .await;
        let clerk = s.login("clerk_a").await;
        let dispatcher = s.login("disp_a").await;
        let clerk_b = s.login("clerk_b").await;

        let (status, created) = s
            .post(&clerk, "/api/v1/residents", json!({ "name": "刘建国", "id_number": ID_NUMBER, "phone": "139-1234-5678", "region_code": VILLAGE_A, "address": "鲍店社区3号，电话13912345678" }))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {created}");
        assert_eq!(created["id_number"], "110105********002X");
        assert_eq!(created["phone"], "139****5678");
        assert_eq!(created["masked"], true);
        assert!(
            !created["address"].as_str().unwrap().contains(PHONE),
            "numbers typed in free text are masked too"
        );
        let id = created["id"].as_i64().unwrap();

        // At rest: neither number appears in clear anywhere in the row.
        let record = s
            .app
            .store
            .get_resident(&fengqiao_store::Visibility::of(["/".to_string()]), id)
            .await?
            .expect("row");
        for value in [
            record.id_number.as_ref().unwrap(),
            record.phone.as_ref().unwrap(),
        ] {
            assert!(
                !value.ciphertext.contains(PHONE) && !value.ciphertext.contains("19491231"),
                "{backend}"
            );
            assert!(!value.blind_index.contains(PHONE));
        }

        // Lookup by phone (any spelling) and by ID number finds it, masked, within scope only.
        for query in [
            "phone=13912345678",
            "phone=%2B86%20139%201234%205678",
            "id_number=11010519491231002x",
        ] {
            let (status, found) = s.get(&clerk, &format!("/api/v1/residents?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{backend} {query}: {found}");
            assert_eq!(found["total"], 1, "{backend} {query}");
            assert_eq!(found["items"][0]["phone"], "139****5678");
        }
        let (_, found) = s.get(&clerk_b, "/api/v1/residents?phone=13912345678").await;
        assert_eq!(
            found["total"], 0,
            "{backend}: town B's clerk cannot find town A's resident"
        );
        let (status, _) = s.get(&clerk_b, &format!("/api/v1/residents/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The clerk holds no unmask grant: refused, and the attempt is recorded.
        let (status, body) = s
            .post(
                &clerk,
                &format!("/api/v1/residents/{id}/unmask"),
                json!({ "reason": "核实身份" }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: {body}");
        assert!(!body.to_string().contains(PHONE));
        // The dispatcher holds it: full numbers, with the reason recorded before they leave.
        let (status, body) = s
            .post(
                &dispatcher,
                &format!("/api/v1/residents/{id}/unmask"),
                json!({ "reason": "回访核实身份" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["id_number"], ID_NUMBER);
        assert_eq!(body["phone"], PHONE);
        assert_eq!(body["masked"], false);
        let unmasks = s.audit("resident.unmask").await;
        let ok: Vec<_> = unmasks.iter().filter(|r| r.result == "ok").collect();
        assert_eq!(ok.len(), 1, "{backend}");
        assert_eq!(ok[0].actor, format!("user:{dispatcher_id}"));
        assert_eq!(ok[0].object, format!("resident:{id}"));
        assert_eq!(ok[0].detail["reason"], "回访核实身份");
        assert!(
            unmasks.iter().any(|r| r.result == "denied"),
            "{backend}: the refused attempt is recorded too"
        );
        // A reason is required.
        let (status, body) = s
            .post(
                &dispatcher,
                &format!("/api/v1/residents/{id}/unmask"),
                json!({ "reason": "" }),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {body}"
        );
        assert_eq!(body["fields"][0]["field"], "reason");
    }
    Ok(())
}

#[tokio::test]
async fn bad_personal_numbers_are_refused_by_field_and_change_nothing() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        s.user(
            "clerk_a",
            "intake_clerk",
            &format!("region:{TOWN_A}"),
            false,
        )
        .await;
        let clerk = s.login("clerk_a").await;
        let (status, body) = s
            .post(&clerk, "/api/v1/residents", json!({ "name": "王", "id_number": "110105194912310021", "phone": "12345", "region_code": VILLAGE_A }))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {body}"
        );
        assert_eq!(body["code"], "validation");
        let fields: Vec<(&str, &str)> = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
            .collect();
        assert!(
            fields.contains(&("id_number", "checksum")),
            "{backend}: {fields:?}"
        );
        assert!(
            fields.iter().any(|(f, _)| *f == "phone"),
            "{backend}: {fields:?}"
        );
        for field in body["fields"].as_array().unwrap() {
            assert!(
                !field["message_zh"].as_str().unwrap().is_empty()
                    && !field["message_en"].as_str().unwrap().is_empty()
            );
        }
        let (_, list) = s.get(&clerk, "/api/v1/residents").await;
        assert_eq!(list["total"], 0, "{backend}: nothing was written");
        assert!(s.audit("resident.create").await.is_empty());
    }
    Ok(())
}
