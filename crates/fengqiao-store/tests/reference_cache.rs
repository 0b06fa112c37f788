//! The reference cache across servers: two stores on one database stand for two servers. What one changes, the
//! other sees at its next session query (at most a second later, or at its version check), and its own changes
//! at once; its own logouts and disabled users at once, another server's within a second. Case numbers stay
//! unique when both register at the same time. Runs on SQLite and, when `FQ_TEST_POSTGRES_URL` is set, on
//! PostgreSQL.

use chrono::{Duration, TimeZone, Utc};
use fengqiao_store::*;

mod common;

fn region(code: &str, name: &str, parent: Option<&str>, level: &str) -> NewRegion {
    NewRegion {
        code: code.into(),
        name: name.into(),
        parent_code: parent.map(str::to_string),
        level: level.into(),
    }
}

fn grant(scope: &str) -> RoleGrant {
    RoleGrant {
        role: "dispatcher".into(),
        scope: scope.into(),
    }
}

/// A dispatcher for region 37; returns the user's id.
async fn dispatcher(store: &Store, at: chrono::DateTime<Utc>) -> i64 {
    store
        .create_user(
            &NewUser {
                username: "d1".into(),
                display_name: "调度员".into(),
                password_hash: "x".into(),
                can_unmask: false,
                department_id: None,
                grid_code: None,
                home_path: "/37/".into(),
                roles: vec![grant("region:37")],
            },
            at,
            &[],
        )
        .await
        .expect("user")
}

/// A session for `user` under the token hash `token`, valid for eight hours from `at`.
async fn sign_in(store: &Store, token: &str, user: i64, at: chrono::DateTime<Utc>) {
    store
        .create_session(
            &NewSession {
                token_hash: token.into(),
                user_id: user,
                csrf_token: "c".into(),
                source: "test".into(),
                created_at: at,
                expires_at: at + Duration::hours(8),
            },
            &[],
        )
        .await
        .expect("session");
}

#[tokio::test]
async fn a_change_on_one_server_reaches_the_other_by_its_next_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let at = Utc
        .with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
        .single()
        .expect("time");
    for url in common::database_urls(dir.path(), "refcache").await {
        let a = Store::connect(&url).await.expect("connect");
        a.migrate().await.expect("migrate");
        let b = Store::connect(&url).await.expect("connect");
        let backend = format!("{:?}", a.backend());
        a.upsert_regions(
            &[
                region("37", "山东省", None, "province"),
                region("3708", "济宁市", Some("37"), "city"),
            ],
            at,
            &[],
        )
        .await
        .expect("regions");
        let user = dispatcher(&a, at).await;
        sign_in(&a, "t1", user, at).await;

        // B reads and keeps the region, the category-free lookups and the user's roles.
        let session = b.session("t1").await.expect("session").expect("found");
        assert_eq!(session.user.roles, vec![grant("region:37")], "{backend}");
        let name = |r: Option<RegionRecord>| r.expect("region").name;
        assert_eq!(name(b.get_region("3708").await.expect("read")), "济宁市");
        assert!(b.get_region("3709").await.expect("read").is_none());

        // A renames the city, adds a region B had looked up and found missing, and changes the user's roles.
        a.upsert_regions(
            &[
                region("3708", "济宁市（新）", Some("37"), "city"),
                region("3709", "泰安市", Some("37"), "city"),
            ],
            at,
            &[],
        )
        .await
        .expect("rename");
        a.update_user(
            user,
            &UserPatch {
                roles: Some((vec![grant("region:3708")], "/37/3708/".into())),
                ..Default::default()
            },
            at,
            &[],
        )
        .await
        .expect("roles");
        // A's own reads see its change at once.
        assert_eq!(
            name(a.get_region("3708").await.expect("read")),
            "济宁市（新）"
        );

        // B's next authenticated request after a second sees all of it (B keeps a session it read for a
        // second).
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let session = b.session("t1").await.expect("session").expect("found");
        assert_eq!(session.user.roles, vec![grant("region:3708")], "{backend}");
        assert_eq!(
            name(b.get_region("3708").await.expect("read")),
            "济宁市（新）"
        );
        assert_eq!(name(b.get_region("3709").await.expect("read")), "泰安市");

        // Work without a session checks the version itself.
        a.upsert_regions(&[region("3708", "济宁", Some("37"), "city")], at, &[])
            .await
            .expect("rename again");
        b.check_reference_version().await.expect("version");
        assert_eq!(name(b.get_region("3708").await.expect("read")), "济宁");
    }
}

#[tokio::test]
async fn a_kept_session_ends_at_once_here_and_within_a_second_elsewhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let at = Utc
        .with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
        .single()
        .expect("time");
    for url in common::database_urls(dir.path(), "sesscache").await {
        let a = Store::connect(&url).await.expect("connect");
        a.migrate().await.expect("migrate");
        let b = Store::connect(&url).await.expect("connect");
        let backend = format!("{:?}", a.backend());
        a.upsert_regions(&[region("37", "山东省", None, "province")], at, &[])
            .await
            .expect("regions");
        let user = dispatcher(&a, at).await;
        for token in ["t1", "t2"] {
            sign_in(&a, token, user, at).await;
        }
        // Both servers read (and keep) both sessions.
        for store in [&a, &b] {
            for token in ["t1", "t2"] {
                assert!(store.session(token).await.expect("read").is_some());
            }
        }
        // A logout on A ends the session on A at once; B may answer from what it kept for at most a second.
        assert!(a.delete_session("t1", &[]).await.expect("logout"));
        assert!(a.session("t1").await.expect("read").is_none(), "{backend}");
        // Disabling the user on A shows on A at once (its sessions are deleted with it).
        a.update_user(
            user,
            &UserPatch {
                disabled: Some(true),
                ..Default::default()
            },
            at,
            &[],
        )
        .await
        .expect("disable");
        assert!(a.session("t2").await.expect("read").is_none(), "{backend}");
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        for token in ["t1", "t2"] {
            assert!(
                b.session(token).await.expect("read").is_none(),
                "{backend}: {token} still answered on B after a second"
            );
        }
    }
}

#[tokio::test]
async fn two_servers_registering_at_once_hand_out_unique_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let at = Utc
        .with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
        .single()
        .expect("time");
    for url in common::database_urls(dir.path(), "numbers").await {
        let a = Store::connect(&url).await.expect("connect");
        a.migrate().await.expect("migrate");
        let b = Store::connect(&url).await.expect("connect");
        a.upsert_regions(&[region("37", "山东省", None, "province")], at, &[])
            .await
            .expect("regions");
        let mut tasks = Vec::new();
        for i in 0..60 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                match store
                    .create_case(&common::new_case(i, None), None, &[])
                    .await
                {
                    Ok(CreateOutcome::Created(record)) => record.number,
                    other => panic!("registration {i}: {other:?}"),
                }
            }));
        }
        let mut numbers = Vec::new();
        for task in tasks {
            numbers.push(task.await.expect("task"));
        }
        let distinct: std::collections::HashSet<&String> = numbers.iter().collect();
        assert_eq!(distinct.len(), 60, "{numbers:?}");
        assert!(
            numbers.iter().all(|n| n.starts_with("37-20261123-")),
            "{numbers:?}"
        );
    }
}
