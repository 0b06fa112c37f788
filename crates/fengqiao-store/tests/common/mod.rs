//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use fengqiao_store::*;

/// A fresh database per backend: SQLite in `dir`, and PostgreSQL when `FQ_TEST_POSTGRES_URL` names a server
/// (a new database `fq_<tag>_…` on it).
pub async fn database_urls(dir: &std::path::Path, tag: &str) -> Vec<String> {
    let mut out = vec![Store::sqlite_url_in(dir)];
    match std::env::var("FQ_TEST_POSTGRES_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let unique = std::time::SystemTime::UNIX_EPOCH
                .elapsed()
                .map_or(0, |d| d.as_nanos());
            let name = format!("fq_{tag}_{}_{unique}", std::process::id());
            let admin = Store::connect(&admin_url).await.expect("postgres admin");
            admin
                .execute_raw(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            let i = admin_url.rfind('/').expect("database in the URL");
            out.push(format!("{}/{name}", &admin_url[..i]));
        }
        _ => assert!(
            std::env::var("FQ_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "FQ_REQUIRE_POSTGRES=1 but FQ_TEST_POSTGRES_URL is not set"
        ),
    }
    out
}

pub fn new_case(i: usize, category: Option<&str>) -> NewCase {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
        .single()
        .expect("time");
    NewCase {
        number_prefix: "37-20261123".into(),
        tracking_hash: format!("hash{i}"),
        kind: "request".into(),
        channel: "phone".into(),
        urgency: "normal".into(),
        title: format!("case {i}"),
        description: "路灯不亮".into(),
        tags: Vec::new(),
        address: String::new(),
        lng: None,
        lat: None,
        placement: "none".into(),
        grid_code: None,
        basic_grid_code: None,
        region_code: "37".into(),
        path: "/37/".into(),
        created_by: None,
        created_at: at,
        columns: CaseColumns {
            status: "registered".into(),
            category_code: category.map(str::to_string),
            owner_region: "37".into(),
            owner_path: "/37/".into(),
            lead_unit: None,
            units: Vec::new(),
            claimed_by: None,
            leader_owner: None,
            response_due: None,
            handling_due: None,
            follow_up_due: None,
            feedback_due: None,
            clock_paused: false,
            deadline_provisional: false,
            reopen_count: 0,
            merged_into: None,
            satisfaction: None,
            state: "{}".into(),
            accepted_at: None,
            resolved_at: None,
            closed_at: None,
        },
        parties: Vec::new(),
        event: EventDraft {
            name: "registered".into(),
            from_status: "registered".into(),
            to_status: "registered".into(),
            actor: "test".into(),
            at,
            detail: serde_json::json!({}),
        },
    }
}

/// The province's (`/37/`) rates over `[from, to)` asked at `now`, unnarrowed (on SQLite, whole local days and
/// months come from the rollup).
pub fn province_rates(
    from: chrono::DateTime<Utc>,
    to: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
) -> RateScope {
    RateScope {
        visibility: CaseVisibility {
            path_prefixes: vec!["/37/".into()],
            units: Vec::new(),
        },
        region_path: None,
        unit: None,
        grid_code: None,
        category: None,
        from,
        to,
        now,
    }
}
