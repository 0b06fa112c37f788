//! Sign-in, throttling, sessions, CSRF, and changes to a user taking effect on their next request.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn failed_logins_are_throttled_per_user_and_recorded() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        s.user(
            "clerk_a",
            "intake_clerk",
            &format!("region:{TOWN_A}"),
            false,
        )
        .await;
        for _ in 0..5 {
            let (status, body) = s
                .post_anon(
                    "/api/v1/auth/login",
                    json!({ "username": "clerk_a", "password": "wrong-password" }),
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}: {body}");
            assert_eq!(body["code"], "bad_credentials");
        }
        // Locked: even the right password is refused for the window, with Retry-After.
        let response = s
            .http
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({ "username": "clerk_a", "password": PASSWORD }))
            .send()
            .await?;
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{backend}"
        );
        assert!(response.headers().get("retry-after").is_some());
        // Unknown users fail the same way as wrong passwords.
        let (status, body) = s
            .post_anon(
                "/api/v1/auth/login",
                json!({ "username": "nobody", "password": "x" }),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
        );
        // After the window the right password works again.
        s.clock.advance(chrono::Duration::minutes(16));
        s.login("clerk_a").await;
        let logins = s.audit("auth.login").await;
        assert_eq!(
            logins.iter().filter(|r| r.result == "failed").count(),
            6,
            "{backend}"
        );
        assert_eq!(
            logins.iter().filter(|r| r.result == "throttled").count(),
            1,
            "{backend}"
        );
        assert_eq!(
            logins.iter().filter(|r| r.result == "ok").count(),
            1,
            "{backend}"
        );
        assert!(
            logins.iter().all(|r| r.source == "127.0.0.1"),
            "{backend}: the source address is recorded"
        );
    }
    Ok(())
}

#[tokio::test]
async fn logout_disable_and_moving_a_user_take_effect_at_once() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        let clerk_id = s
            .user(
                "clerk_a",
                "intake_clerk",
                &format!("region:{TOWN_A}"),
                false,
            )
            .await;
        s.user("sec", "security_admin", "region:370883", false)
            .await;
        let security = s.login("sec").await;

        // Logout ends the session on the server.
        let token = s.login("clerk_a").await;
        let (status, me) = s.get(&token, "/api/v1/auth/me").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {me}");
        assert_eq!(me["user"]["username"], "clerk_a");
        let response = s
            .http
            .post(s.url("/api/v1/auth/logout"))
            .bearer_auth(&token)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let (status, body) = s.get(&token, "/api/v1/auth/me").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{backend}"
        );

        // Moving the clerk to town B: their next request sees town B, not town A.
        let token = s.login("clerk_a").await;
        let (status, _) = s.get(&token, &format!("/api/v1/regions/{TOWN_A}")).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = s
            .patch(&security, &format!("/api/v1/users/{clerk_id}"), json!({ "roles": [{ "role": "intake_clerk", "scope": format!("region:{TOWN_B}") }] }))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let (status, _) = s.get(&token, &format!("/api/v1/regions/{TOWN_A}")).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{backend}: the old town is gone at once"
        );
        let (status, _) = s.get(&token, &format!("/api/v1/regions/{TOWN_B}")).await;
        assert_eq!(status, StatusCode::OK);

        // Disabling: the next request is refused, and so is a new login.
        let (status, _) = s
            .patch(
                &security,
                &format!("/api/v1/users/{clerk_id}"),
                json!({ "disabled": true }),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = s.get(&token, "/api/v1/auth/me").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
        let (status, _) = s
            .post_anon(
                "/api/v1/auth/login",
                json!({ "username": "clerk_a", "password": PASSWORD }),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");

        // Sessions also end when idle past the limit.
        let token = s.login("sec").await;
        s.clock.advance(chrono::Duration::hours(9));
        let (status, _) = s.get(&token, "/api/v1/auth/me").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
    }
    Ok(())
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_for_changes() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        s.user(
            "clerk_a",
            "intake_clerk",
            &format!("region:{TOWN_A}"),
            false,
        )
        .await;
        let response = s
            .http
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({ "username": "clerk_a", "password": PASSWORD }))
            .send()
            .await?;
        let cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("fq_session="))
            .expect("session cookie");
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Strict"),
            "{session}"
        );
        let (_, body) = decode(response).await;
        let csrf = body["csrf_token"].as_str().unwrap().to_string();
        let cookie = session.split(';').next().unwrap().to_string();

        // Reads work with the cookie alone.
        let response = s
            .http
            .get(s.url("/api/v1/auth/me"))
            .header("cookie", &cookie)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        // A change without the CSRF header is refused; with it, it goes through.
        let body = json!({ "name": "刘建国", "region_code": VILLAGE_A });
        let response = s
            .http
            .post(s.url("/api/v1/residents"))
            .header("cookie", &cookie)
            .json(&body)
            .send()
            .await?;
        let (status, answer) = decode(response).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("csrf")),
            "{backend}"
        );
        let response = s
            .http
            .post(s.url("/api/v1/residents"))
            .header("cookie", &cookie)
            .header("x-csrf-token", "forged")
            .json(&body)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = s
            .http
            .post(s.url("/api/v1/residents"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
    }
    Ok(())
}

#[tokio::test]
async fn granting_rights_stays_within_scope_and_apart_from_audit() -> TestResult {
    for backend in backends() {
        let s = Server::start(backend).await;
        s.user(
            "sec_a",
            "security_admin",
            &format!("region:{TOWN_A}"),
            false,
        )
        .await;
        s.user("admin_a", "admin", &format!("region:{TOWN_A}"), false)
            .await;
        s.user("aud", "auditor", "region:37", false).await;
        let security = s.login("sec_a").await;
        let admin = s.login("admin_a").await;
        let auditor = s.login("aud").await;

        let new_user = |scope: String| json!({ "username": "newclerk", "password": "Clerk@2026x", "roles": [{ "role": "intake_clerk", "scope": scope }] });
        // Outside the security admin's own scope: refused as not found, nothing created.
        let (status, _) = s
            .post(
                &security,
                "/api/v1/users",
                new_user(format!("region:{TOWN_B}")),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        assert!(s.app.store.credentials("newclerk").await?.is_none());
        // Inside: created.
        let (status, body) = s
            .post(
                &security,
                "/api/v1/users",
                new_user(format!("grid:{GRID_A}")),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["roles"][0]["scope"], format!("grid:{GRID_A}"));
        // Validation names the fields.
        let (status, body) = s.post(&security, "/api/v1/users", json!({ "username": "x!", "password": "short", "roles": [{ "role": "king", "scope": "region:3" }] })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        for field in ["username", "password", "roles[0].role", "roles[0].scope"] {
            assert!(fields.contains(&field), "{backend}: {field} in {fields:?}");
        }
        let (status, body) = s
            .post(&security, "/api/v1/users", json!({ "username": "hd", "password": "Clerk@2026x", "department_id": 999_999, "roles": [{ "role": "handler", "scope": format!("dept:{}", s.dept_a) }] }))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {body}"
        );
        assert_eq!(body["fields"][0]["field"], "department_id");
        let (status, body) = s
            .post(&security, "/api/v1/users", json!({ "username": "hd", "password": "Clerk@2026x", "department_id": s.dept_a, "roles": [{ "role": "handler", "scope": format!("dept:{}", s.dept_a) }] }))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["department_id"], s.dept_a);
        // Separation of duties: the admin manages no users, the security admin reads no audit, the auditor does nothing else.
        let (status, _) = s.get(&admin, "/api/v1/users").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = s.get(&security, "/api/v1/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = s.get(&security, "/api/v1/audit/verify").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = s.get(&auditor, "/api/v1/audit?action=user.create").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert!(body["total"].as_i64().unwrap() >= 1);
        let (status, _) = s.get(&auditor, "/api/v1/regions").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = s
            .post(
                &auditor,
                "/api/v1/residents",
                json!({ "name": "x", "region_code": VILLAGE_A }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Every refusal is on the record.
        assert!(s.audit("access.denied").await.len() >= 5, "{backend}");
    }
    Ok(())
}
