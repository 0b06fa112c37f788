//! The citizen's page (扫码点单): the place a QR code names, photos on a submission, the citizen's rating,
//! and the limit on public writes.

use crate::cases::staff;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn submission(title: &str) -> Value {
    json!({ "kind": "request", "channel": "self_service", "title": title,
            "description": "村口路灯坏了三天，晚上很黑", "region_code": VILLAGE_A })
}

async fn submit(s: &Server, device: &str, key: &str, body: &Value) -> (StatusCode, Value) {
    decode(
        s.http
            .post(s.url("/api/v1/public/cases"))
            .header("idempotency-key", key)
            .header("x-device-id", device)
            .json(body)
            .send()
            .await
            .expect("send"),
    )
    .await
}

async fn photo(
    s: &Server,
    number: &str,
    headers: &[(&str, &str)],
    file_name: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let mut request = s
        .http
        .post(s.url(&format!(
            "/api/v1/public/cases/{number}/photos?file_name={file_name}"
        )))
        .body(bytes.to_vec());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    decode(request.send().await.expect("send")).await
}

async fn rate(s: &Server, number: &str, body: Value) -> (StatusCode, Value) {
    decode(
        s.http
            .post(s.url(&format!("/api/v1/public/cases/{number}/rating")))
            .json(&body)
            .send()
            .await
            .expect("send"),
    )
    .await
}

async fn get_anon(s: &Server, path: &str) -> (StatusCode, Value) {
    decode(s.http.get(s.url(path)).send().await.expect("send")).await
}

async fn track(s: &Server, number: &str, secret: &str) -> (StatusCode, Value) {
    decode(
        s.http
            .get(s.url(&format!(
                "/api/v1/public/track?number={number}&secret={secret}"
            )))
            .send()
            .await
            .expect("send"),
    )
    .await
}

#[tokio::test]
async fn a_qr_code_names_its_village_or_service_hall() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let (status, place) =
            get_anon(&s, &format!("/api/v1/public/places?region={VILLAGE_A}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {place}");
        assert_eq!(
            (
                place["kind"].as_str(),
                place["name"].as_str(),
                place["region_code"].as_str()
            ),
            (Some("region"), Some("鲍店社区"), Some(VILLAGE_A)),
            "{backend}"
        );
        assert_eq!(place["full_name"], "邹城市 太平镇 鲍店社区", "{backend}");
        let hall = s.town_units["comprehensive_governance_center"];
        let (status, place) = get_anon(&s, &format!("/api/v1/public/places?hall={hall}")).await;
        assert_eq!(
            (
                status,
                place["name"].as_str(),
                place["region_code"].as_str()
            ),
            (StatusCode::OK, Some("太平镇综治中心"), Some(TOWN_A)),
            "{backend}: {place}"
        );
        // A police station is no service hall; an unknown village is not found; nothing named is a field error.
        let (status, _) = get_anon(&s, &format!("/api/v1/public/places?hall={}", s.dept_a)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, _) = get_anon(&s, "/api/v1/public/places?region=370883107999").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, answer) = get_anon(&s, "/api/v1/public/places").await;
        assert_eq!(
            (status, answer["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("region")),
            "{backend}"
        );
        let (status, answer) = get_anon(&s, "/api/v1/public/places?region=12ab").await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {answer}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn citizens_attach_photos_to_their_own_submission_once() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        let (status, answer) = submit(&s, "phone-1", "k1", &submission("路灯不亮")).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {answer}");
        let number = answer["case"]["number"].as_str().unwrap().to_string();
        let secret = answer["tracking_secret"].as_str().unwrap().to_string();
        let id = answer["case"]["id"].as_i64().unwrap();

        // By the receipt's secret.
        let (status, first) =
            photo(&s, &number, &[("x-tracking-secret", &secret)], "a.png", PNG).await;
        assert_eq!(
            (
                status,
                first["created"].as_bool(),
                first["content_type"].as_str()
            ),
            (StatusCode::CREATED, Some(true), Some("image/png")),
            "{backend}: {first}"
        );
        // A retry of the same photo stores nothing new.
        let (status, again) =
            photo(&s, &number, &[("x-tracking-secret", &secret)], "a.png", PNG).await;
        assert_eq!(
            (status, again["created"].as_bool(), again["id"].as_i64()),
            (StatusCode::OK, Some(false), first["id"].as_i64()),
            "{backend}: {again}"
        );
        // By the submitting device and its submission key (the page that lost the answer).
        let mut other = PNG.to_vec();
        other.push(1);
        let (status, answer) = photo(
            &s,
            &number,
            &[("x-device-id", "phone-1"), ("x-submission-key", "k1")],
            "b.png",
            &other,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {answer}");
        let (_, list) = s
            .get(&t.clerk, &format!("/api/v1/cases/{id}/attachments"))
            .await;
        assert_eq!(list.as_array().map(Vec::len), Some(2), "{backend}: {list}");
        let (_, tracked) = track(&s, &number, &secret).await;
        assert_eq!(tracked["attachments"], 2, "{backend}: {tracked}");

        // Wrong proofs look like an unknown case; none at all is a field error.
        for headers in [
            vec![("x-tracking-secret", "WRONG1")],
            vec![("x-device-id", "phone-2"), ("x-submission-key", "k1")],
            vec![("x-device-id", "phone-1"), ("x-submission-key", "k2")],
        ] {
            let (status, _) = photo(&s, &number, &headers, "c.png", PNG).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {headers:?}");
        }
        let (status, _) = photo(
            &s,
            "370883107-20261123-9999",
            &[("x-tracking-secret", &secret)],
            "c.png",
            PNG,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, answer) = photo(&s, &number, &[], "c.png", PNG).await;
        assert_eq!(
            (status, answer["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("X-Tracking-Secret")),
            "{backend}"
        );
        // Photos only, not empty, within the size limit, with a sound file name; nothing is stored.
        let (status, answer) = photo(
            &s,
            &number,
            &[("x-tracking-secret", &secret)],
            "x.pdf",
            b"%PDF-1.4 x",
        )
        .await;
        assert_eq!(
            (
                status,
                answer["fields"][0]["field"].as_str(),
                answer["fields"][0]["code"].as_str()
            ),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("file"), Some("type")),
            "{backend}: {answer}"
        );
        assert!(
            answer["fields"][0]["message_zh"]
                .as_str()
                .unwrap()
                .contains("照片")
        );
        let (status, _) = photo(&s, &number, &[("x-tracking-secret", &secret)], "e.png", b"").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let mut big = PNG.to_vec();
        big.resize(1024 * 1024 + 1, 0);
        let (status, answer) = photo(
            &s,
            &number,
            &[("x-tracking-secret", &secret)],
            "big.png",
            &big,
        )
        .await;
        assert_eq!(
            (status, answer["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("size")),
            "{backend}"
        );
        let (status, answer) = photo(
            &s,
            &number,
            &[("x-tracking-secret", &secret)],
            "..%2Fevil.png",
            &other,
        )
        .await;
        assert_eq!(
            (status, answer["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("file_name")),
            "{backend}"
        );
        // At most nine photos.
        for i in 0..7u8 {
            let mut bytes = PNG.to_vec();
            bytes.extend([9, i]);
            let (status, _) = photo(
                &s,
                &number,
                &[("x-tracking-secret", &secret)],
                "p.png",
                &bytes,
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{backend}: photo {i}");
        }
        let mut tenth = PNG.to_vec();
        tenth.extend([10, 10]);
        let (status, answer) = photo(
            &s,
            &number,
            &[("x-tracking-secret", &secret)],
            "p.png",
            &tenth,
        )
        .await;
        assert_eq!(
            (status, answer["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("too_many")),
            "{backend}"
        );
        let (_, list) = s
            .get(&t.clerk, &format!("/api/v1/cases/{id}/attachments"))
            .await;
        assert_eq!(list.as_array().map(Vec::len), Some(9), "{backend}");
    }
    Ok(())
}

#[tokio::test]
async fn citizens_rate_a_resolved_case_once_and_the_rate_counts_it() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let t = staff(&s).await;
        let (status, answer) = submit(&s, "phone-r", "r1", &submission("楼道堆放杂物")).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {answer}");
        let number = answer["case"]["number"].as_str().unwrap().to_string();
        let secret = answer["tracking_secret"].as_str().unwrap().to_string();
        let id = answer["case"]["id"].as_i64().unwrap();

        // Not yet resolved: nothing to rate.
        let (status, answer) = rate(
            &s,
            &number,
            json!({ "secret": secret, "outcome": "satisfied" }),
        )
        .await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::CONFLICT, Some("illegal_transition")),
            "{backend}: {answer}"
        );
        let law = format!("dept:{}", s.town_units["law_enforcement"]);
        s.user("enforce_a", "handler", &law, false).await;
        let enforce = s.login("enforce_a").await;
        s.act(
            &t.dispatcher,
            id,
            json!({ "action": "accept", "category": "consultation" }),
        )
        .await;
        s.act(
            &t.dispatcher,
            id,
            json!({ "action": "dispatch", "lead": law }),
        )
        .await;
        s.act(&enforce, id, json!({ "action": "claim" })).await;
        s.act(
            &enforce,
            id,
            json!({ "action": "resolve", "result": "已清理杂物，联系人13912345678" }),
        )
        .await;
        s.act(&t.dispatcher, id, json!({ "action": "approve_review" }))
            .await;

        // The outcome shows without staff names or phones.
        let (status, tracked) = track(&s, &number, &secret).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(tracked["can_rate"], true, "{backend}: {tracked}");
        let text = tracked.to_string();
        assert!(text.contains("已清理杂物"), "{backend}: {text}");
        assert!(
            !text.contains("13912345678") && !text.contains("enforce_a"),
            "{backend}: {text}"
        );

        // Bad input: a field error, nothing changes; a wrong secret: not found.
        let (status, answer) = rate(
            &s,
            &number,
            json!({ "secret": secret, "outcome": "unreachable" }),
        )
        .await;
        assert_eq!(
            (status, answer["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("outcome")),
            "{backend}: a citizen cannot be 'unreachable'"
        );
        let long = "很".repeat(501);
        let (status, answer) = rate(
            &s,
            &number,
            json!({ "secret": secret, "outcome": "satisfied", "comment": long }),
        )
        .await;
        assert_eq!(
            (status, answer["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("comment")),
            "{backend}"
        );
        let (status, _) = rate(
            &s,
            &number,
            json!({ "secret": "WRONG1", "outcome": "satisfied" }),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (_, tracked) = track(&s, &number, &secret).await;
        assert_eq!(
            (tracked["status"].as_str(), tracked["can_rate"].as_bool()),
            (Some("awaiting_follow_up"), Some(true))
        );

        let (status, rated) = rate(
            &s,
            &number,
            json!({ "secret": secret, "outcome": "basically_satisfied", "comment": "处理及时" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {rated}");
        assert_eq!(
            (
                rated["status"].as_str(),
                rated["satisfaction"].as_str(),
                rated["can_rate"].as_bool()
            ),
            (Some("closed"), Some("basically_satisfied"), Some(false)),
            "{backend}"
        );
        // A retry answers the same; another rating is refused; the history has one follow-up, by the citizen.
        let (status, again) = rate(
            &s,
            &number,
            json!({ "secret": secret, "outcome": "basically_satisfied", "comment": "处理及时" }),
        )
        .await;
        assert_eq!(
            (status, again["satisfaction"].as_str()),
            (StatusCode::OK, Some("basically_satisfied")),
            "{backend}"
        );
        let (status, answer) = rate(
            &s,
            &number,
            json!({ "secret": secret, "outcome": "dissatisfied" }),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}: {answer}");
        assert!(
            answer["message_zh"].as_str().unwrap().contains("已评价"),
            "{backend}: {answer}"
        );
        let (_, timeline) = s
            .get(&t.dispatcher, &format!("/api/v1/cases/{id}/timeline"))
            .await;
        let follow_ups: Vec<&Value> = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["name"] == "followed_up")
            .collect();
        assert_eq!(follow_ups.len(), 1, "{backend}: {timeline}");
        assert_eq!(follow_ups[0]["detail"]["by"], "citizen", "{backend}");
        let (_, case) = s.get(&t.dispatcher, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(
            (case["status"].as_str(), case["satisfaction"].as_str()),
            (Some("closed"), Some("basically_satisfied"))
        );

        // The satisfaction rate counts the citizen's answer like the follow-up desk's.
        let (status, rates) = s
            .get(
                &t.leader,
                &format!("/api/v1/rates?region_code={TOWN_A}&from=2026-11-23&to=2026-11-23"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {rates}");
        assert_eq!(
            (
                rates["satisfaction"]["numerator"].as_i64(),
                rates["satisfaction"]["denominator"].as_i64()
            ),
            (Some(1), Some(1)),
            "{backend}: {rates}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn public_writes_are_limited_per_device_and_the_limit_says_so() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let per_device = s.app.settings.public_writes_per_device;
        // Bad submissions count too (they cost the server the same), and change nothing.
        let bad =
            json!({ "kind": "request", "channel": "self_service", "title": "", "description": "" });
        for i in 0..per_device {
            let (status, _) = submit(&s, "busy-phone", &format!("b{i}"), &bad).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {i}");
        }
        let response = s
            .http
            .post(s.url("/api/v1/public/cases"))
            .header("idempotency-key", "over")
            .header("x-device-id", "busy-phone")
            .json(&submission("超出限制"))
            .send()
            .await?;
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{backend}"
        );
        assert!(response.headers().get("retry-after").is_some(), "{backend}");
        let (_, answer) = decode(response).await;
        assert_eq!(answer["code"], "rate_limited", "{backend}");
        assert!(
            answer["message_zh"]
                .as_str()
                .unwrap()
                .contains("提交过于频繁"),
            "{backend}: {answer}"
        );
        assert!(
            answer["message_en"].as_str().unwrap().contains("too many"),
            "{backend}"
        );
        let (status, _) = rate(&s, "x", json!({ "secret": "x", "outcome": "satisfied" })).await;
        assert_ne!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "{backend}: the rating without a device counts by address only"
        );
        let mut over = s
            .http
            .post(s.url("/api/v1/public/cases/x/photos?file_name=a.png"))
            .body(PNG.to_vec());
        over = over
            .header("x-device-id", "busy-phone")
            .header("x-tracking-secret", "x");
        assert_eq!(
            over.send().await?.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{backend}: photos count"
        );
        // Another phone on the same network still gets through; the device's window passes.
        let (status, answer) = submit(&s, "other-phone", "o1", &submission("另一部手机")).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {answer}");
        s.clock.advance(chrono::Duration::hours(1));
        let (status, answer) = submit(&s, "busy-phone", "later", &submission("一小时后")).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {answer}");
        // Nothing refused was registered: the two accepted submissions are all there is.
        let (status, replay) = submit(&s, "busy-phone", "later", &submission("一小时后")).await;
        assert_eq!(
            (status, replay["replayed"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{backend}"
        );
        assert_eq!(s.audit("case.register").await.len(), 2, "{backend}");
    }
    Ok(())
}

#[tokio::test]
async fn guessing_tracking_secrets_is_cut_off_per_address() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let (status, answer) = submit(&s, "phone-g", "g1", &submission("占道经营")).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {answer}");
        let number = answer["case"]["number"].as_str().unwrap().to_string();
        let secret = answer["tracking_secret"].as_str().unwrap().to_string();
        let misses = s.app.settings.public_misses_per_source;
        // Wrong secrets on tracking, photos and rating all count.
        for i in 0..misses {
            let (status, _) = match i % 3 {
                0 => track(&s, &number, &format!("WRONG{i}")).await,
                1 => photo(&s, &number, &[("x-tracking-secret", "WRONG")], "a.png", PNG).await,
                _ => {
                    rate(
                        &s,
                        &number,
                        json!({ "secret": "WRONG", "outcome": "satisfied" }),
                    )
                    .await
                }
            };
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: miss {i}");
        }
        let (status, answer) = track(&s, &number, &secret).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
            "{backend}: even the right pair waits once the address is over"
        );
        s.clock.advance(chrono::Duration::hours(1));
        let (status, tracked) = track(&s, &number, &secret).await;
        assert_eq!(
            (status, tracked["number"].as_str()),
            (StatusCode::OK, Some(number.as_str())),
            "{backend}"
        );
        // Right pairs do not count.
        for _ in 0..misses + 1 {
            let (status, _) = track(&s, &number, &secret).await;
            assert_eq!(status, StatusCode::OK, "{backend}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_grid_report_retried_with_its_key_and_photo_stays_one_case_with_one_photo() -> TestResult
{
    for backend in backends() {
        let s = Server::start(backend).await;
        s.user("grid_a", "grid_worker", &format!("grid:{GRID_A}"), false)
            .await;
        let worker = s.login("grid_a").await;
        let report = json!({ "kind": "grid_event", "channel": "grid_report", "title": "井盖缺失",
                             "description": "路口井盖缺失", "lng": 116.801, "lat": 35.401, "coord_system": "wgs84" });
        let mut ids = Vec::new();
        for expected in [StatusCode::CREATED, StatusCode::OK] {
            let (status, answer) = s
                .post_with(
                    &worker,
                    "/api/v1/cases",
                    &[("idempotency-key", "grid-k1")],
                    report.clone(),
                )
                .await;
            assert_eq!(status, expected, "{backend}: {answer}");
            let id = answer["case"]["id"].as_i64().unwrap();
            ids.push(id);
            let response = s
                .http
                .post(s.url(&format!("/api/v1/cases/{id}/attachments?file_name=p.png")))
                .bearer_auth(&worker)
                .body(PNG.to_vec())
                .send()
                .await?;
            assert_eq!(response.status(), StatusCode::CREATED, "{backend}");
        }
        assert_eq!(
            ids[0], ids[1],
            "{backend}: the key brings back the same case"
        );
        assert_eq!(
            answer_len(
                &s,
                &worker,
                &format!("/api/v1/cases/{}/attachments", ids[0])
            )
            .await,
            1,
            "{backend}: the same photo is stored once"
        );
        // The same key with another body is refused, and changes nothing.
        let mut other = report.clone();
        other["title"] = json!("另一件事");
        let (status, answer) = s
            .post_with(
                &worker,
                "/api/v1/cases",
                &[("idempotency-key", "grid-k1")],
                other,
            )
            .await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("idempotency_key_reused")
            ),
            "{backend}"
        );
        // My tasks: the inbox of the grid lists what the center sends to it.
        let (_, inbox) = s.get(&worker, "/api/v1/cases?queue=inbox").await;
        assert_eq!(inbox["total"], 0, "{backend}: {inbox}");
        let t = staff(&s).await;
        s.act(
            &t.dispatcher,
            ids[0],
            json!({ "action": "accept", "category": "grid_event" }),
        )
        .await;
        s.act(
            &t.dispatcher,
            ids[0],
            json!({ "action": "dispatch", "lead": format!("grid:{GRID_A}") }),
        )
        .await;
        let (_, inbox) = s.get(&worker, "/api/v1/cases?queue=inbox").await;
        assert_eq!(
            (inbox["total"].as_i64(), inbox["items"][0]["id"].as_i64()),
            (Some(1), Some(ids[0])),
            "{backend}: {inbox}"
        );
    }
    Ok(())
}

async fn answer_len(s: &Server, token: &str, path: &str) -> usize {
    s.get(token, path).await.1.as_array().map_or(0, Vec::len)
}
