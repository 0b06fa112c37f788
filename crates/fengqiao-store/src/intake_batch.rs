//! Registrations of one SQLite group commit written together: a few multi-row statements for the whole batch
//! instead of a dozen statements per case, sent to the connection in two requests, the second ending in COMMIT,
//! each answering in one row (each request to sqlx's SQLite connection, and each row or statement result it
//! sends back, is a hand-over between its worker thread and the writer's, and on a busy machine each hand-over
//! waits for a core). It writes exactly what `create_case_unit!` writes for each case; if anything fails, or a key
//! turns out to be claimed already, the writer rolls the transaction back and runs the cases one by one, so a
//! bad case still fails alone and a retried key replays its case.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use crate::common::micros;
use crate::writer::CreateUnit;
use crate::{AuditDraft, IdempotencyDraft, NewCase, StoreError, StoreResult};

/// One registration handed to the writer.
#[derive(Debug, Clone)]
pub(crate) struct CreateJob {
    pub case: NewCase,
    pub idempotency: Option<IdempotencyDraft>,
    pub audit: Vec<AuditDraft>,
    pub now: DateTime<Utc>,
}

/// Cases per multi-row INSERT (40 bound columns: 8,000 values, under SQLite's 32,766).
const CASES_PER_INSERT: usize = 200;
/// Narrow rows per multi-row INSERT.
const ROWS_PER_INSERT: usize = 1_000;

/// The batch's rollup (migration 0006): the insert trigger's counts, grouped by local day and by local month and
/// place over the batch's cases, the ones with an id above `rollup_by_batch.after_id` (the grouped statements of
/// migration 0003, limited to them).
static BATCH_ROLLUP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    const RESOLVED: &str = "('resolved', 'awaiting_follow_up', 'closed', 'archived')";
    const SATISFIED: &str =
        "c.satisfaction IS NOT NULL AND c.satisfaction IN ('satisfied', 'basically_satisfied'";
    // Counted in the cohort of the day (month) of acceptance, and received on the day (month) of registration.
    let cohort: [(&str, String); 11] = [
        ("cohort", "1".into()),
        ("completion", format!("(c.status IN {RESOLVED})")),
        (
            "on_time",
            format!(
                "(c.status IN {RESOLVED} AND c.handling_due IS NOT NULL AND c.resolved_at <= c.handling_due)"
            ),
        ),
        ("satisfied", format!("({SATISFIED}))")),
        ("sat_answered", format!("({SATISFIED}, 'dissatisfied'))")),
        (
            "dispute_resolved",
            format!("(c.kind = 'dispute' AND c.status IN ('closed', 'archived') AND {SATISFIED}))"),
        ),
        ("disputes", "(c.kind = 'dispute')".into()),
        (
            "unreachable",
            "(c.satisfaction IS NOT NULL AND c.satisfaction = 'unreachable')".into(),
        ),
        (
            "declined",
            "(c.satisfaction IS NOT NULL AND c.satisfaction = 'declined')".into(),
        ),
        ("resp_on_time", "c.responses_on_time".into()),
        ("resp_counted", "c.responses_counted".into()),
    ];
    let received: [(&str, String); 3] = [
        ("received", "1".into()),
        ("rejected", "(c.status = 'rejected')".into()),
        ("merged", "(c.status = 'merged')".into()),
    ];
    let cohort_only = " AND c.accepted_at IS NOT NULL AND c.status NOT IN ('merged', 'rejected')";
    let mut sql = Vec::new();
    for (table, key, local) in [
        (
            "rate_days",
            "day",
            "date(substr(c.{at}, 1, 19), '+8 hours')",
        ),
        (
            "rate_months",
            "month",
            "substr(date(substr(c.{at}, 1, 19), '+8 hours'), 1, 7)",
        ),
    ] {
        for (counters, at, only) in [
            (&cohort[..], "accepted_at", cohort_only),
            (&received[..], "created_at", ""),
        ] {
            let names: Vec<&str> = counters.iter().map(|(name, _)| *name).collect();
            let sums: Vec<String> = counters.iter().map(|(_, e)| format!("SUM({e})")).collect();
            let set: Vec<String> = names
                .iter()
                .map(|n| format!("{n} = {n} + excluded.{n}"))
                .collect();
            sql.push(format!(
                "INSERT INTO {table} ({key}, owner_path, path, {}) SELECT {}, c.owner_path, c.path, {} \
                 FROM cases c WHERE c.id > (SELECT after_id FROM rollup_by_batch){only} GROUP BY 1, 2, 3 \
                 ON CONFLICT ({key}, owner_path, path) DO UPDATE SET {};",
                names.join(", "),
                local.replace("{at}", at),
                sums.join(", "),
                set.join(", "),
            ));
        }
    }
    sql.join(" ")
});

/// Begins the group commit's transaction, writes the batch's registrations in it and commits it, answering each
/// in order (`Ok(Some(_))`: committed). `Ok(None)` when an idempotency key was claimed before (the units one by
/// one tell a replay from a reuse); after `Ok(None)` or an error, nothing was committed and the caller must roll
/// the transaction back (it may or may not have begun).
pub(crate) async fn create_batch(
    conn: &mut SqliteConnection,
    jobs: &[&CreateJob],
) -> StoreResult<Option<Vec<StoreResult<CreateUnit>>>> {
    // Idempotency keys: the first of each key in the batch claims it; a later one with the same key replays
    // the first (as it would in the next transaction).
    let mut first_of: HashMap<(&str, &str), usize> = HashMap::new();
    let mut repeat_of: HashMap<usize, usize> = HashMap::new();
    let mut claiming = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        if let Some(key) = &job.idempotency {
            match first_of.get(&(key.scope.as_str(), key.key.as_str())) {
                Some(&first) => {
                    repeat_of.insert(i, first);
                }
                None => {
                    first_of.insert((key.scope.as_str(), key.key.as_str()), i);
                    claiming.push(i);
                }
            }
        }
    }
    let creating: Vec<usize> = (0..jobs.len())
        .filter(|i| !repeat_of.contains_key(i))
        .collect();
    // Numbers: one increment per prefix for all of its cases, handed out in the batch's order.
    let mut per_prefix: Vec<(&str, i64)> = Vec::new();
    for &i in &creating {
        let prefix = jobs[i].case.number_prefix.as_str();
        match per_prefix.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, n)) => *n += 1,
            None => per_prefix.push((prefix, 1)),
        }
    }

    // First request: begin, take the numbers, claim the keys, and read back in one row how many keys were
    // claimed and where each prefix's numbers now end (one row, not one per key and prefix: each row is a
    // hand-over from the connection's thread). A key claimed before leaves the batch to the units one by one
    // (the numbers taken here are rolled back with it).
    if claiming.len() > ROWS_PER_INSERT || per_prefix.len() > ROWS_PER_INSERT {
        return Err(StoreError::Corrupt(format!(
            "a batch of {} registrations is larger than one statement takes",
            jobs.len()
        )));
    }
    let mut qb = QueryBuilder::<Sqlite>::new("BEGIN IMMEDIATE; ");
    qb.push("INSERT INTO case_numbers (prefix, last) ");
    qb.push_values(&per_prefix, |mut b, (prefix, n)| {
        b.push_bind(prefix.to_string()).push_bind(*n);
    });
    qb.push(" ON CONFLICT (prefix) DO UPDATE SET last = case_numbers.last + excluded.last; ");
    if !claiming.is_empty() {
        qb.push("INSERT INTO idempotency_keys (scope, key, request_hash, created_at) ");
        qb.push_values(&claiming, |mut b, &i| {
            let key = jobs[i]
                .idempotency
                .as_ref()
                .expect("claiming jobs have keys");
            b.push_bind(key.scope.clone())
                .push_bind(key.key.clone())
                .push_bind(key.request_hash.clone())
                .push_bind(micros(jobs[i].now));
        });
        // `changes()` below counts the keys this statement inserted.
        qb.push(" ON CONFLICT (scope, key) DO NOTHING; SELECT changes() AS claimed, ");
    } else {
        qb.push("SELECT 0 AS claimed, ");
    }
    qb.push("(SELECT json_group_object(prefix, last) FROM case_numbers WHERE prefix IN (");
    let mut prefixes = qb.separated(", ");
    for (prefix, _) in &per_prefix {
        prefixes.push_bind(prefix.to_string());
    }
    qb.push(")) AS numbers; ");
    let row = qb.build().fetch_one(&mut *conn).await?;
    let claimed: i64 = row.try_get("claimed")?;
    let lasts: HashMap<String, i64> =
        serde_json::from_str(&row.try_get::<String, _>("numbers")?)
            .map_err(|e| StoreError::Corrupt(format!("the batch's case numbers: {e}")))?;
    let mut next_seq: HashMap<String, i64> = HashMap::new();
    for (prefix, n) in &per_prefix {
        let last = lasts
            .get(*prefix)
            .copied()
            .ok_or_else(|| StoreError::Corrupt(format!("prefix {prefix} was not numbered")))?;
        next_seq.insert(prefix.to_string(), last - n + 1);
    }
    if claimed < claiming.len() as i64 {
        return Ok(None);
    }
    let mut numbers = Vec::with_capacity(creating.len());
    for &i in &creating {
        let prefix = jobs[i].case.number_prefix.as_str();
        let seq = next_seq
            .get_mut(prefix)
            .ok_or_else(|| StoreError::Corrupt(format!("prefix {prefix} was not numbered")))?;
        numbers.push(crate::cases::case_number(prefix, *seq));
        *seq += 1;
    }

    // Second request: the cases, and what hangs off them, which finds its case by its new number.
    let rows: Vec<(usize, &String)> = creating.iter().copied().zip(numbers.iter()).collect();
    // The rollup once for the batch (below) instead of the insert trigger's four statements per case.
    let mut qb = QueryBuilder::<Sqlite>::new(
        "INSERT INTO rollup_by_batch (id, after_id) SELECT 1, COALESCE(MAX(id), 0) FROM cases; ",
    );
    for chunk in rows.chunks(CASES_PER_INSERT) {
        qb.push(concat!(
            "INSERT INTO cases (",
            crate::cases::new_case_columns!(),
            ") "
        ));
        qb.push_values(chunk, |mut b, &(i, number)| {
            let case = &jobs[i].case;
            let c = &case.columns;
            let now = micros(jobs[i].now);
            b.push_bind(number.clone())
                .push_bind(case.tracking_hash.clone())
                .push_bind(case.kind.clone())
                .push_bind(case.channel.clone())
                .push_bind(case.urgency.clone())
                .push_bind(c.status.clone())
                .push_bind(c.category_code.clone())
                .push_bind(case.title.clone())
                .push_bind(case.description.clone())
                .push_bind(case.tags.join(" "))
                .push_bind(case.address.clone())
                .push_bind(case.lng)
                .push_bind(case.lat)
                .push_bind(case.placement.clone())
                .push_bind(case.grid_code.clone())
                .push_bind(case.basic_grid_code.clone())
                .push_bind(case.region_code.clone())
                .push_bind(case.path.clone())
                .push_bind(c.owner_region.clone())
                .push_bind(c.owner_path.clone())
                .push_bind(c.lead_unit.clone())
                .push_bind(c.claimed_by)
                .push_bind(c.leader_owner)
                .push_bind(c.response_due.map(micros))
                .push_bind(c.handling_due.map(micros))
                .push_bind(c.follow_up_due.map(micros))
                .push_bind(c.deadline_provisional)
                .push_bind(c.reopen_count)
                .push_bind(c.merged_into.clone())
                .push_bind(c.satisfaction.clone())
                .push_bind(c.state.clone())
                .push_bind(1i64)
                .push_bind(case.created_by)
                .push_bind(now)
                .push_bind(now)
                .push_bind(c.accepted_at.map(micros))
                .push_bind(c.resolved_at.map(micros))
                .push_bind(c.closed_at.map(micros))
                .push_bind(c.feedback_due.map(micros))
                .push_bind(c.clock_paused);
        });
        qb.push("; ");
    }

    let mut units = Vec::new();
    let mut parties = Vec::new();
    let mut events = Vec::new();
    let mut audit = Vec::new();
    let mut keyed = Vec::new();
    for &(i, number) in &rows {
        let case = &jobs[i].case;
        for (key, role, part) in &case.columns.units {
            units.push((number, key, role, part, &case.columns.status));
        }
        for party in &case.parties {
            parties.push((number, party));
        }
        events.push((number, &case.event));
        audit.extend(jobs[i].audit.iter().map(|draft| (number, draft)));
        if let Some(key) = &jobs[i].idempotency {
            keyed.push((number, key));
        }
    }
    const CASE_ID: &str = "(SELECT id FROM cases WHERE number = ";
    for chunk in keyed.chunks(ROWS_PER_INSERT) {
        qb.push("WITH claimed (scope, key, number) AS (");
        qb.push_values(chunk, |mut b, (number, key)| {
            b.push_bind(key.scope.clone())
                .push_bind(key.key.clone())
                .push_bind((*number).clone());
        });
        qb.push(
            ") UPDATE idempotency_keys SET case_id = (SELECT id FROM cases WHERE cases.number = claimed.number) \
             FROM claimed WHERE idempotency_keys.scope = claimed.scope AND idempotency_keys.key = claimed.key; ",
        );
    }
    for chunk in units.chunks(ROWS_PER_INSERT) {
        qb.push("INSERT INTO case_units (case_id, unit_key, role, part, status) ");
        qb.push_values(chunk, |mut b, (number, key, role, part, status)| {
            b.push(CASE_ID)
                .push_bind_unseparated((*number).clone())
                .push_unseparated(")")
                .push_bind((*key).clone())
                .push_bind((*role).clone())
                .push_bind((*part).clone())
                .push_bind((*status).clone());
        });
        qb.push("; ");
    }
    for chunk in parties.chunks(ROWS_PER_INSERT) {
        qb.push(
            "INSERT INTO case_parties (case_id, role, name, phone_enc, phone_hash, phone_mask, id_number_enc, id_number_hash, id_number_mask, resident_id) ",
        );
        qb.push_values(chunk, |mut b, (number, party)| {
            b.push(CASE_ID)
                .push_bind_unseparated((*number).clone())
                .push_unseparated(")")
                .push_bind(party.role.clone())
                .push_bind(party.name.clone())
                .push_bind(party.phone.as_ref().map(|v| v.ciphertext.clone()))
                .push_bind(party.phone.as_ref().map(|v| v.blind_index.clone()))
                .push_bind(party.phone.as_ref().map(|v| v.masked.clone()))
                .push_bind(party.id_number.as_ref().map(|v| v.ciphertext.clone()))
                .push_bind(party.id_number.as_ref().map(|v| v.blind_index.clone()))
                .push_bind(party.id_number.as_ref().map(|v| v.masked.clone()))
                .push_bind(party.resident_id);
        });
        qb.push("; ");
    }
    for chunk in events.chunks(ROWS_PER_INSERT) {
        qb.push(
            "INSERT INTO case_events (case_id, name, from_status, to_status, actor, at, detail) ",
        );
        qb.push_values(chunk, |mut b, (number, event)| {
            b.push(CASE_ID)
                .push_bind_unseparated((*number).clone())
                .push_unseparated(")")
                .push_bind(event.name.clone())
                .push_bind(event.from_status.clone())
                .push_bind(event.to_status.clone())
                .push_bind(event.actor.clone())
                .push_bind(micros(event.at))
                .push_bind(event.detail.to_string());
        });
        qb.push("; ");
    }
    for chunk in audit.chunks(ROWS_PER_INSERT) {
        qb.push("INSERT INTO audit_log (at, actor, action, object, result, source, detail) ");
        qb.push_values(chunk, |mut b, (number, draft)| {
            b.push_bind(micros(draft.at))
                .push_bind(draft.actor.clone())
                .push_bind(draft.action.clone())
                .push_bind(crate::cases::registration_audit_object(draft, number))
                .push_bind(draft.result.clone())
                .push_bind(draft.source.clone())
                .push_bind(draft.detail.to_string());
        });
        qb.push("; ");
    }
    qb.push(BATCH_ROLLUP.as_str());
    qb.push(" DELETE FROM rollup_by_batch; ");
    // The new cases' ids in one row, then COMMIT in the same request: the batch is committed when this
    // returns without an error, and nothing after this point may send it to the units one by one.
    qb.push("SELECT json_group_object(number, id) AS ids FROM cases WHERE number IN (");
    let mut listed = qb.separated(", ");
    for (_, number) in &rows {
        listed.push_bind((*number).clone());
    }
    qb.push("); COMMIT;");
    let ids: StoreResult<HashMap<String, i64>> = match qb.build().fetch_all(&mut *conn).await {
        Ok(rows) => rows
            .first()
            .ok_or_else(|| StoreError::Corrupt("the batch's ids were not read".into()))
            .and_then(|row| {
                row.try_get::<String, _>("ids")
                    .map_err(StoreError::from)
                    .and_then(|text| {
                        serde_json::from_str(&text)
                            .map_err(|e| StoreError::Corrupt(format!("the batch's case ids: {e}")))
                    })
            }),
        Err(e) => return Err(e.into()),
    };

    let mut outcome: Vec<Option<StoreResult<CreateUnit>>> = (0..jobs.len()).map(|_| None).collect();
    for &(i, number) in &rows {
        outcome[i] = Some(match &ids {
            Ok(ids) => ids
                .get(number)
                .map(|&id| CreateUnit::Created(id, number.clone()))
                .ok_or_else(|| StoreError::Corrupt(format!("case {number} was not inserted"))),
            Err(e) => Err(StoreError::Corrupt(format!(
                "the batch was committed but its ids could not be read: {e}"
            ))),
        });
    }
    // A repeated key replays the first of the batch.
    for (&i, &first) in &repeat_of {
        let same_body = jobs[i].idempotency.as_ref().map(|k| &k.request_hash)
            == jobs[first].idempotency.as_ref().map(|k| &k.request_hash);
        let case_id = match &outcome[first] {
            Some(Ok(CreateUnit::Created(id, _))) => Some(*id),
            Some(Ok(CreateUnit::Existing { case_id, .. })) => *case_id,
            _ => None,
        };
        outcome[i] = Some(Ok(CreateUnit::Existing { same_body, case_id }));
    }
    Ok(Some(
        outcome
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| {
                    Err(StoreError::Corrupt(
                        "a registration was not answered".into(),
                    ))
                })
            })
            .collect(),
    ))
}
