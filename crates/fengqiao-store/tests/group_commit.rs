//! Registration under concurrency: on SQLite concurrent registrations share group commits and one that fails
//! rolls back alone; on both backends (PostgreSQL when `FQ_TEST_POSTGRES_URL` is set) each is answered with its
//! own case and retries with one key make one case.

use chrono::{TimeZone, Utc};
use fengqiao_store::*;

mod common;
use common::new_case;

#[tokio::test]
async fn a_failing_unit_rolls_back_alone_and_the_rest_commit()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = province_store(&Store::sqlite_url_in(dir.path())).await?;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        // In every ten, one names a category that does not exist, one a region and one a resident: each insert
        // breaks a foreign key.
        let category = if i % 10 == 3 {
            Some("no.such.category")
        } else {
            None
        };
        let mut case = new_case(i, category);
        if i % 10 == 7 {
            case.region_code = "99".into();
        }
        if i % 10 == 5 {
            case.parties = vec![NewParty {
                role: "applicant".into(),
                name: format!("party {i}"),
                phone: None,
                id_number: None,
                resident_id: Some(999_999),
            }];
        }
        tasks.push(tokio::spawn(async move {
            store.create_case(&case, None, &[]).await
        }));
    }
    let mut created = Vec::new();
    let mut failed = 0;
    for task in tasks {
        match task.await? {
            Ok(CreateOutcome::Created(record)) => {
                answered_with_its_own_case(&store, &record).await?;
                created.push(record.number.clone());
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => failed += 1,
        }
    }
    assert_eq!((created.len(), failed), (42, 18));
    let counts = store.group_commit_counts().ok_or("SQLite has a writer")?;
    assert!(
        counts.one_by_one > 0 && counts.together + counts.one_by_one == 60,
        "the batches with a bad case were written one by one, the rest together: {counts:?}"
    );
    created.sort();
    created.dedup();
    assert_eq!(created.len(), 42, "numbers are unique");
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
    assert_eq!(listed.total, 42, "the failed units left nothing behind");
    let events: usize = {
        let mut n = 0;
        for case in &listed.items {
            n += store.case_events(case.id).await?.len();
        }
        n
    };
    assert_eq!(events, 42, "one event per committed case");
    // The batches that failed together were written one by one through the insert trigger: each committed
    // case counted once in the rollup, the failed ones not at all.
    let counts = store
        .rate_counts(&province_rates(day_of_registration()))
        .await?;
    assert_eq!((counts.received, counts.cohort), (42, 0));
    Ok(())
}

/// A batch that breaks a constraint while it writes (here the case number, after the counter was set back
/// behind the cases already numbered) is rolled back whole by SQLite itself (its statements are `OR ROLLBACK`):
/// its unit then fails one by one, nothing of it stays, and the writer goes on committing batches together.
#[tokio::test]
async fn a_batch_rolled_back_by_a_constraint_leaves_nothing_and_the_writer_going()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = province_store(&Store::sqlite_url_in(dir.path())).await?;
    for i in 0..3 {
        store.create_case(&new_case(i, None), None, &[]).await?;
    }
    let counter = |last: i64| -> Result<(), Box<dyn std::error::Error>> {
        let db = rusqlite::Connection::open(dir.path().join("fengqiao.db"))?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        db.execute("UPDATE case_numbers SET last = ?1", [last])?;
        Ok(())
    };
    let counts = || store.group_commit_counts().ok_or("SQLite has a writer");
    counter(1)?;
    let before = counts()?;
    let refused = store.create_case(&new_case(3, None), None, &[]).await;
    assert!(refused.is_err(), "a taken number is refused: {refused:?}");
    let after = counts()?;
    assert_eq!(
        (after.together, after.one_by_one),
        (before.together, before.one_by_one + 1),
        "the batch failed together, then its unit alone"
    );
    let everything = CaseVisibility {
        path_prefixes: vec!["/".into()],
        units: Vec::new(),
    };
    let page = Page {
        offset: 0,
        limit: 100,
    };
    let listed = store
        .list_cases(&everything, &CaseFilter::default(), page)
        .await?;
    assert_eq!(listed.total, 3, "nothing of the refused case stays");

    counter(3)?;
    let Ok(CreateOutcome::Created(record)) = store.create_case(&new_case(4, None), None, &[]).await
    else {
        panic!("the next registration commits");
    };
    answered_with_its_own_case(&store, &record).await?;
    assert_eq!(
        counts()?.together,
        after.together + 1,
        "and is written together"
    );
    let listed = store
        .list_cases(&everything, &CaseFilter::default(), page)
        .await?;
    assert_eq!(listed.total, 4);
    Ok(())
}

/// The local day the test cases are registered on (2026-11-23, UTC+8).
fn day_of_registration() -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let at = |d| {
        Utc.with_ymd_and_hms(2026, 11, d, 16, 0, 0)
            .single()
            .expect("time")
    };
    (at(22), at(23))
}

/// The province's rates over a period, asked at its end.
fn province_rates((from, to): (chrono::DateTime<Utc>, chrono::DateTime<Utc>)) -> RateScope {
    common::province_rates(from, to, to)
}

/// A migrated store holding the province the test cases are registered in.
async fn province_store(url: &str) -> Result<Store, Box<dyn std::error::Error>> {
    let store = Store::connect(url).await?;
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
    Ok(store)
}

/// A registration is answered with its own case's id (a group commit reads its cases' ids back by number).
async fn answered_with_its_own_case(
    store: &Store,
    record: &CaseRecord,
) -> Result<(), Box<dyn std::error::Error>> {
    let stored = store
        .get_case(record.id)
        .await?
        .ok_or("the answered id has no case")?;
    assert_eq!(
        (&stored.number, &stored.title),
        (&record.number, &record.title)
    );
    Ok(())
}

/// Case `i`'s units: `i % 3` of them, the first the lead.
fn units_of(i: usize) -> Vec<(String, String, Option<String>)> {
    (0..i % 3)
        .map(|k| {
            let role = if k == 0 { "lead" } else { "assist" };
            (
                format!("dept:{i}{k}"),
                role.to_string(),
                (k == 1).then(|| format!("part {i}")),
            )
        })
        .collect()
}

/// Case `i`'s parties: `(i + 1) % 3` of them, the first with a phone, every one of an even case with an ID number.
fn parties_of(i: usize) -> Vec<NewParty> {
    let sealed = |what: &str, k: usize| SealedValue {
        ciphertext: format!("{what}-enc-{i}-{k}"),
        blind_index: format!("{what}-hash-{i}-{k}"),
        masked: format!("{what}-mask-{i}-{k}"),
    };
    (0..(i + 1) % 3)
        .map(|k| NewParty {
            role: "applicant".into(),
            name: format!("party {i}-{k}"),
            phone: (k == 0).then(|| sealed("phone", k)),
            id_number: i.is_multiple_of(2).then(|| sealed("id", k)),
            resident_id: None,
        })
        .collect()
}

/// A party's name, its phone's ciphertext, and its ID number's blind index and mask.
fn sealed_fields(
    name: String,
    phone: Option<SealedValue>,
    id_number: Option<SealedValue>,
) -> [Option<String>; 4] {
    [
        Some(name),
        phone.map(|v| v.ciphertext),
        id_number.as_ref().map(|v| v.blind_index.clone()),
        id_number.map(|v| v.masked),
    ]
}

/// The units, parties and event written with case `i` hang off the case the writer answered with.
async fn hangs_off_its_own_case(
    store: &Store,
    record: &CaseRecord,
    i: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut units: Vec<(String, String, Option<String>)> = store
        .case_units(record.id)
        .await?
        .into_iter()
        .map(|u| (u.unit_key, u.role, u.part))
        .collect();
    units.sort();
    let mut expected = units_of(i);
    expected.sort();
    assert_eq!(units, expected, "the units of case {i}");
    let parties: Vec<[Option<String>; 4]> = store
        .case_parties(record.id)
        .await?
        .into_iter()
        .map(|p| sealed_fields(p.name, p.phone, p.id_number))
        .collect();
    let expected: Vec<_> = parties_of(i)
        .into_iter()
        .map(|p| sealed_fields(p.name, p.phone, p.id_number))
        .collect();
    assert_eq!(parties, expected, "the parties of case {i}");
    let events: Vec<String> = store
        .case_events(record.id)
        .await?
        .into_iter()
        .map(|e| e.actor)
        .collect();
    assert_eq!(events, [format!("clerk:{i}")], "the events of case {i}");
    Ok(())
}

#[tokio::test]
async fn registrations_committed_together_are_each_answered_with_their_own_case()
-> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    for url in common::database_urls(dir.path(), "together").await {
        let store = province_store(&url).await?;
        // Each with an audit record that names no object (the registration's): it is about the new case.
        // Times with fractions of a second (a whole millisecond for some, microseconds for others).
        let at = |i: usize| {
            new_case(0, None).created_at
                + chrono::Duration::microseconds(i as i64 * 1_000 + i as i64 % 2)
        };
        let tasks: Vec<_> = (0..48)
            .map(|i| {
                let store = store.clone();
                let mut case = new_case(i, None);
                case.created_at = at(i);
                case.event.at = case.created_at;
                case.columns.handling_due = Some(case.created_at + chrono::Duration::days(5));
                // Rows hanging off the case, a different number of each from case to case (none included),
                // so a batch's rows of each table are not one per case.
                case.columns.units = units_of(i);
                case.parties = parties_of(i);
                case.event.actor = format!("clerk:{i}");
                let audit = AuditDraft {
                    at: case.created_at,
                    actor: format!("user:{i}"),
                    action: "case.register".into(),
                    object: String::new(),
                    result: "ok".into(),
                    source: "test".into(),
                    detail: serde_json::json!({}),
                };
                tokio::spawn(async move { store.create_case(&case, None, &[audit]).await })
            })
            .collect();
        let mut numbers = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            match task.await?? {
                CreateOutcome::Created(record) => {
                    answered_with_its_own_case(&store, &record).await?;
                    let audit = store
                        .list_audit(
                            &AuditFilter {
                                object: Some(format!("case:{}", record.number)),
                                ..AuditFilter::default()
                            },
                            Page {
                                offset: 0,
                                limit: 10,
                            },
                        )
                        .await?;
                    let actors: Vec<&str> = audit.items.iter().map(|r| r.actor.as_str()).collect();
                    assert_eq!(actors, [format!("user:{i}")], "{url}");
                    hangs_off_its_own_case(&store, &record, i).await?;
                    numbers.push(record.number.clone());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        if url.starts_with("sqlite:") {
            // None fell back to one by one: what the test checks is what the batches wrote together.
            let counts = store.group_commit_counts().ok_or("SQLite has a writer")?;
            assert_eq!(
                (counts.together, counts.one_by_one),
                (48, 0),
                "written together"
            );
            // The batch is written on the writer's own connection; every time in it must be the text sqlx
            // writes for the same time (bound here), or it would compare and sort apart from the rows
            // written through sqlx.
            let pool = sqlx::SqlitePool::connect(&url).await?;
            for (i, number) in numbers.iter().enumerate() {
                let at = at(i);
                let same: bool = sqlx::query_scalar(
                    "SELECT c.created_at = ?2 AND c.updated_at = ?2 AND c.handling_due = ?3 AND e.at = ?2 \
                     AND a.at = ?2 FROM cases c JOIN case_events e ON e.case_id = c.id \
                     JOIN audit_log a ON a.object = 'case:' || c.number WHERE c.title = ?1",
                )
                .bind(format!("case {i}"))
                .bind(at)
                .bind(at + chrono::Duration::days(5))
                .fetch_one(&pool)
                .await?;
                assert!(
                    same,
                    "case {number}: its times are not stored as sqlx writes them"
                );
            }
            pool.close().await;
        }
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 48, "numbers are unique");
    }
    Ok(())
}

#[tokio::test]
async fn the_rates_count_each_case_of_a_group_commit_once() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    for url in common::database_urls(dir.path(), "rollup").await {
        let store = province_store(&url).await?;
        // 48 at once: every second accepted on registration, every fourth of those a dispute resolved on
        // time to the citizen's satisfaction, every third refused.
        let tasks: Vec<_> = (0..48)
            .map(|i| {
                let store = store.clone();
                let mut case = new_case(i, None);
                let at = case.created_at;
                let c = &mut case.columns;
                if i % 2 == 0 {
                    (c.status, c.accepted_at) = ("accepted".into(), Some(at));
                    c.handling_due = Some(at + chrono::Duration::days(5));
                    if i % 8 == 0 {
                        case.kind = "dispute".into();
                        (c.status, c.resolved_at) = ("closed".into(), Some(at));
                        c.satisfaction = Some("satisfied".into());
                    }
                } else if i % 3 == 0 {
                    c.status = "rejected".into();
                }
                tokio::spawn(async move { store.create_case(&case, None, &[]).await })
            })
            .collect();
        for task in tasks {
            assert!(matches!(task.await??, CreateOutcome::Created(_)));
        }
        let month = (
            Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0)
                .single()
                .expect("time"),
            Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0)
                .single()
                .expect("time"),
        );
        for period in [day_of_registration(), month] {
            let c = store.rate_counts(&province_rates(period)).await?;
            assert_eq!(
                (c.received, c.rejected, c.cohort),
                (48, 8, 24),
                "{url} {period:?}"
            );
            assert_eq!(
                (c.completion_numerator, c.on_time_numerator),
                (6, 6),
                "{url} {period:?}"
            );
            assert_eq!(
                (
                    c.satisfaction_numerator,
                    c.resolution_numerator,
                    c.resolution_denominator
                ),
                (6, 6, 6),
                "{url} {period:?}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn concurrent_retries_with_one_key_make_one_case() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    // The SQLite group commit, and PostgreSQL's one-statement registration with its fallback.
    for url in common::database_urls(dir.path(), "retries").await {
        let store = province_store(&url).await?;
        // 20 retries of one submission, 10 uses of a second key (half of them with another body), 10 without keys.
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = store.clone();
            let case = new_case(i, None);
            let key = match i {
                0..20 => Some(("device:1", "k1", "body-a")),
                20..25 => Some(("device:1", "k2", "body-a")),
                25..30 => Some(("device:1", "k2", "body-b")),
                _ => None,
            }
            .map(|(scope, key, hash)| IdempotencyDraft {
                scope: scope.into(),
                key: key.into(),
                request_hash: hash.into(),
            });
            tasks.push(tokio::spawn(async move {
                (i, store.create_case(&case, key.as_ref(), &[]).await)
            }));
        }
        let (mut created, mut replayed, mut reused) = (Vec::new(), Vec::new(), Vec::new());
        for task in tasks {
            let (i, outcome) = task.await?;
            match outcome? {
                CreateOutcome::Created(record) => {
                    answered_with_its_own_case(&store, &record).await?;
                    created.push((i, record.id))
                }
                CreateOutcome::Replayed(record) => replayed.push((i, record.id)),
                CreateOutcome::KeyReused => reused.push(i),
            }
        }
        assert_eq!(
            created.len(),
            12,
            "one case per key and one per keyless submission"
        );
        let first_k1 = created
            .iter()
            .find(|(i, _)| *i < 20)
            .expect("k1 made a case")
            .1;
        let k1_replays: Vec<_> = replayed.iter().filter(|(i, _)| *i < 20).collect();
        assert_eq!(k1_replays.len(), 19);
        assert!(k1_replays.iter().all(|(_, id)| *id == first_k1));
        // k2: whichever body came first made the case; the same body replays it, the other is refused.
        let (first_k2, k2_case) = *created
            .iter()
            .find(|(i, _)| (20..30).contains(i))
            .expect("k2 made a case");
        let same = |i: usize| (i < 25) == (first_k2 < 25);
        for (i, id) in replayed.iter().filter(|(i, _)| (20..30).contains(i)) {
            assert!(same(*i), "{i} replayed with another body");
            assert_eq!(*id, k2_case);
        }
        assert_eq!(reused.len(), 5);
        assert!(reused.iter().all(|i| !same(*i)));
        let everything = CaseVisibility {
            path_prefixes: vec!["/".into()],
            units: Vec::new(),
        };
        let listed = store
            .list_cases(&everything, &CaseFilter::default(), Page::default())
            .await?;
        assert_eq!(listed.total, 12, "no retry left a second case");
    }
    Ok(())
}
