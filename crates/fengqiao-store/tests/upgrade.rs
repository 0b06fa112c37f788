//! Upgrading a database with cases from the released schema 0002 to the newest: migration 0003 fills the copied
//! status on `case_units` and the per-case response columns from the rows already there, so the inbox and the
//! response rate (响应率) read the same as before the upgrade. Runs on SQLite and, when
//! `FQ_TEST_POSTGRES_URL` is set, on PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use fengqiao_store::*;

mod common;

const T0: &str = "2026-11-02T02:00:00+00:00";

fn at(hours: f64) -> String {
    let t0 = DateTime::parse_from_rfc3339(T0).expect("time");
    (t0 + Duration::minutes((hours * 60.0) as i64))
        .with_timezone(&Utc)
        .to_rfc3339()
}

async fn stores(dir: &std::path::Path) -> Vec<Store> {
    let mut out = Vec::new();
    for url in common::database_urls(dir, "upgrade").await {
        out.push(Store::connect(&url).await.expect("connect"));
    }
    out
}

/// A case row as schema 0002 had it.
fn case_sql(id: i64, status: &str) -> String {
    format!(
        "INSERT INTO cases (id, number, tracking_hash, kind, channel, urgency, status, title, description, region_code, \
         path, owner_region, owner_path, lead_unit, state, version, created_at, updated_at, accepted_at) VALUES \
         ({id}, '37-20261102-000{id}', 'h', 'request', 'phone', 'normal', '{status}', 't', 'd', '37', '/37/', '37', \
         '/37/', 'dept:1', '{{}}', 3, '{t0}', '{t0}', '{t0}')",
        t0 = T0
    )
}

#[tokio::test]
async fn migration_0003_fills_the_copied_status_and_the_response_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        store.migrate_to(2).await.expect("migrate to 0002");
        let now = at(0.0);
        for sql in [
            format!(
                "INSERT INTO regions (code, name, level, path, created_at, updated_at) VALUES ('37', '山东省', 'province', '/37/', '{now}', '{now}')"
            ),
            case_sql(1, "in_progress"),
            case_sql(2, "dispatched"),
            "INSERT INTO case_units (case_id, unit_key, role) VALUES (1, 'dept:1', 'lead'), (2, 'dept:1', 'lead')"
                .to_string(),
            // Case 1: answered within its response limit.
            format!(
                "INSERT INTO case_dispatches (case_id, unit_key, dispatched_at, response_due, responded_at) VALUES (1, 'dept:1', '{}', '{}', '{}')",
                at(0.0),
                at(1.0),
                at(0.5)
            ),
            // Case 2: a dispatch that ended unanswered after its limit, then an open one not yet answered.
            format!(
                "INSERT INTO case_dispatches (case_id, unit_key, dispatched_at, response_due, ended_at) VALUES (2, 'dept:1', '{}', '{}', '{}')",
                at(0.0),
                at(1.0),
                at(2.0)
            ),
            format!(
                "INSERT INTO case_dispatches (case_id, unit_key, dispatched_at, response_due) VALUES (2, 'dept:1', '{}', '{}')",
                at(2.0),
                at(3.0)
            ),
        ] {
            store.execute_raw(&sql).await.expect(&sql);
        }
        store.migrate().await.expect("migrate to the newest");

        // The inbox finds each case through its unit's copied status.
        let units_only = CaseVisibility {
            path_prefixes: Vec::new(),
            units: vec!["dept:1".into()],
        };
        for (status, id) in [("in_progress", 1), ("dispatched", 2)] {
            let filter = CaseFilter {
                statuses: vec![status.into()],
                units: vec!["dept:1".into()],
                ..CaseFilter::default()
            };
            let found = store
                .list_cases(&units_only, &filter, Page::default())
                .await
                .expect("list");
            assert_eq!(
                found.items.iter().map(|c| c.id).collect::<Vec<_>>(),
                vec![id],
                "{status}"
            );
            assert_eq!(found.total, 1);
        }

        // The response rate counts dispatches as before: 1 answered in time; 1 answered, 1 ended late, and
        // the open one once its limit has passed.
        let time = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .expect("time")
                .with_timezone(&Utc)
        };
        let scope =
            |now: &str| common::province_rates(time(&at(-24.0)), time(&at(24.0)), time(now));
        let before = store.rate_counts(&scope(&at(2.5))).await.expect("rates");
        assert_eq!(
            (before.response_numerator, before.response_denominator),
            (1, 2)
        );
        let after = store.rate_counts(&scope(&at(4.0))).await.expect("rates");
        assert_eq!(
            (after.response_numerator, after.response_denominator),
            (1, 3)
        );
        assert_eq!(after.cohort, 2);
        // Over whole local days the SQLite store answers from the rollup the migration filled from the rows
        // already there; the figures are the same.
        let midnight = |day: u32| {
            fengqiao_domain::calendar::start_of_local_day(
                chrono::NaiveDate::from_ymd_opt(2026, 11, day).expect("date"),
            )
        };
        let whole_days = RateScope {
            from: midnight(1),
            to: midnight(4),
            ..scope(&at(4.0))
        };
        let rolled = store.rate_counts(&whole_days).await.expect("rates");
        assert_eq!(rolled, after, "{:?}", store.backend());
        assert_eq!((rolled.received, rolled.cohort), (2, 2));
        // The drill-down lists the cases behind each part.
        let listed = store
            .rate_cases(
                &scope(&at(4.0)),
                Figure::Response,
                Part::Denominator,
                Page::default(),
            )
            .await
            .expect("drill-down");
        assert_eq!(
            listed.items.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let listed = store
            .rate_cases(
                &scope(&at(4.0)),
                Figure::Response,
                Part::Numerator,
                Page::default(),
            )
            .await
            .expect("drill-down");
        assert_eq!(
            listed.items.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![1]
        );
    }
}
