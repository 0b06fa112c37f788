//! Group commit on SQLite: concurrent registrations share transactions, and one that fails rolls back alone.

use chrono::{TimeZone, Utc};
use fengqiao_store::*;

fn new_case(i: usize, category: Option<&str>) -> NewCase {
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

#[tokio::test]
async fn a_failing_unit_rolls_back_alone_and_the_rest_commit()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::connect(&Store::sqlite_url_in(dir.path())).await?;
    store.migrate().await?;
    let at = Utc
        .with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
        .single()
        .expect("time");
    store
        .upsert_regions(
            &[NewRegion {
                code: "37".into(),
                name: "山东省".into(),
                parent_code: None,
                level: "province".into(),
            }],
            at,
            &[],
        )
        .await?;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        // Every tenth names a category that does not exist: its insert breaks a foreign key.
        let category = if i % 10 == 3 {
            Some("no.such.category")
        } else {
            None
        };
        let case = new_case(i, category);
        tasks.push(tokio::spawn(async move {
            store.create_case(&case, None, &[]).await
        }));
    }
    let mut created = Vec::new();
    let mut failed = 0;
    for task in tasks {
        match task.await? {
            Ok(CreateOutcome::Created(record)) => created.push(record.number.clone()),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => failed += 1,
        }
    }
    assert_eq!((created.len(), failed), (54, 6));
    created.sort();
    created.dedup();
    assert_eq!(created.len(), 54, "numbers are unique");
    let everything = CaseVisibility {
        path_prefixes: vec!["/".into()],
        units: Vec::new(),
    };
    let listed = store
        .list_cases(
            &everything,
            &CaseFilter::default(),
            Page {
                offset: 0,
                limit: 100,
            },
        )
        .await?;
    assert_eq!(listed.total, 54, "the failed units left nothing behind");
    let events: usize = {
        let mut n = 0;
        for case in &listed.items {
            n += store.case_events(case.id).await?.len();
        }
        n
    };
    assert_eq!(events, 54, "one event per committed case");
    Ok(())
}
