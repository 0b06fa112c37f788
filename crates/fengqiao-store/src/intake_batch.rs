//! Registrations of one SQLite group commit written together, on the writer's own connection to the database
//! file (rusqlite, on the writer's thread), with statements prepared once and run for each row.
//!
//! sqlx runs each SQLite connection on a worker thread of its own: every request to it, and every row it sends
//! back, is a hand-over between that thread and the caller's, and on a loaded 2-core machine each hand-over waits
//! for a core. With the writer's batches sent to sqlx as two multi-row requests, a third of the writer's time
//! went to such waits rather than to SQLite (the writer was busy 16.7 s of a 20 s run; the two threads' CPU
//! was 11.7 s). Here the writer's thread calls SQLite itself: no hand-over, no copy of the arguments.
//!
//! It writes exactly what `create_case_unit!` writes for each case, with times in sqlx's text form
//! (`sqlite_time`); if anything fails, or a key turns out to be claimed already, the writer rolls the
//! transaction back and runs the cases one by one on its sqlx connection, so a bad case still fails alone and a
//! retried key replays its case.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, params};

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

/// The batch's rollup (migration 0006): the insert trigger's counts, grouped by local day and by local month and
/// place over the batch's cases, the ones with an id above `rollup_by_batch.after_id` (the grouped statements of
/// migration 0003, limited to them).
static BATCH_ROLLUP: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
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
                 ON CONFLICT ({key}, owner_path, path) DO UPDATE SET {}",
                names.join(", "),
                local.replace("{at}", at),
                sums.join(", "),
                set.join(", "),
            ));
        }
    }
    sql
});

/// A time as sqlx writes a `DateTime<Utc>` to SQLite (RFC 3339, `T`, `+00:00`, the fraction only when there is
/// one), so rows written here sort and compare with every other row.
pub(crate) fn sqlite_time(at: DateTime<Utc>) -> String {
    micros(at).to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Opens the writer's own connection to the database file, set up like the pool's (WAL, foreign keys, the
/// busy timeout, the memory map) and like the writer's: commits that do not sync (`synchronous = NORMAL`,
/// the syncer makes them durable) nor checkpoint (the writer does that after answering), a 32 MiB page cache
/// for the index pages it keeps changing, and the statement journal in memory.
pub(crate) fn open(file: &std::path::Path) -> StoreResult<Connection> {
    let connection = Connection::open(file).map_err(failed)?;
    connection
        .busy_timeout(std::time::Duration::from_secs(10))
        .map_err(failed)?;
    connection
        .execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768; \
             PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 2147418112;",
        )
        .map_err(failed)?;
    let mode: String = connection
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .map_err(failed)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "the SQLite writer's connection: the database is in journal mode {mode}, not WAL"
        )));
    }
    connection.set_prepared_statement_cache_capacity(32);
    Ok(connection)
}

/// Copies the WAL back into the database (a passive checkpoint) on the writer's connection.
pub(crate) fn checkpoint(connection: &Connection) -> rusqlite::Result<()> {
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

/// Rolls back whatever transaction the connection has open.
pub(crate) fn roll_back(connection: &Connection) {
    if !connection.is_autocommit()
        && let Err(e) = connection.execute_batch("ROLLBACK")
    {
        tracing::warn!(error = %e, "group commit: ROLLBACK failed");
    }
}

fn failed(e: rusqlite::Error) -> StoreError {
    StoreError::Corrupt(format!("SQLite: {e}"))
}

/// Begins the group commit's transaction, writes the batch's registrations in it and commits it, answering each
/// in order (`Ok(Some(_))`: committed). `Ok(None)` when an idempotency key was claimed before (the units one by
/// one tell a replay from a reuse); after `Ok(None)` or an error, nothing was committed and the caller must roll
/// the transaction back (`roll_back`; it may or may not have begun).
pub(crate) fn create_batch(
    conn: &Connection,
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
                    claiming.push((i, key));
                }
            }
        }
    }
    // Numbers: one increment per prefix for all of its cases, handed out in the batch's order.
    let mut per_prefix: Vec<(&str, i64)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        if repeat_of.contains_key(&i) {
            continue;
        }
        let prefix = job.case.number_prefix.as_str();
        match per_prefix.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, n)) => *n += 1,
            None => per_prefix.push((prefix, 1)),
        }
    }

    conn.prepare_cached("BEGIN IMMEDIATE")
        .and_then(|mut s| s.execute([]))
        .map_err(failed)?;
    let mut next_seq: HashMap<&str, i64> = HashMap::new();
    {
        let mut number = conn
            .prepare_cached(
                "INSERT INTO case_numbers (prefix, last) VALUES (?1, ?2) ON CONFLICT (prefix) \
                 DO UPDATE SET last = case_numbers.last + excluded.last RETURNING last",
            )
            .map_err(failed)?;
        for &(prefix, n) in &per_prefix {
            let last: i64 = number
                .query_row(params![prefix, n], |row| row.get(0))
                .map_err(failed)?;
            next_seq.insert(prefix, last - n + 1);
        }
    }
    // A key claimed before leaves the batch to the units one by one (the numbers taken above are rolled back
    // with it).
    {
        let mut claim = conn
            .prepare_cached(
                "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (scope, key) DO NOTHING",
            )
            .map_err(failed)?;
        for &(i, key) in &claiming {
            if claim
                .execute(params![
                    key.scope,
                    key.key,
                    key.request_hash,
                    sqlite_time(jobs[i].now)
                ])
                .map_err(failed)?
                == 0
            {
                return Ok(None);
            }
        }
    }

    // The rollup once for the batch (below) instead of the insert trigger's four statements per case.
    conn.prepare_cached(
        "INSERT INTO rollup_by_batch (id, after_id) SELECT 1, COALESCE(MAX(id), 0) FROM cases",
    )
    .and_then(|mut s| s.execute([]))
    .map_err(failed)?;
    let mut outcome: Vec<Option<StoreResult<CreateUnit>>> = (0..jobs.len()).map(|_| None).collect();
    for (i, job) in jobs.iter().enumerate() {
        if repeat_of.contains_key(&i) {
            continue;
        }
        let prefix = job.case.number_prefix.as_str();
        let seq = next_seq
            .get_mut(prefix)
            .ok_or_else(|| StoreError::Corrupt(format!("prefix {prefix} was not numbered")))?;
        let number = crate::cases::case_number(prefix, *seq);
        *seq += 1;
        let id = insert_case(conn, job, &number).map_err(failed)?;
        outcome[i] = Some(Ok(CreateUnit::Created(id, number)));
    }
    for sql in BATCH_ROLLUP.iter() {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map_err(failed)?;
    }
    conn.prepare_cached("DELETE FROM rollup_by_batch")
        .and_then(|mut s| s.execute([]))
        .map_err(failed)?;
    conn.prepare_cached("COMMIT")
        .and_then(|mut s| s.execute([]))
        .map_err(failed)?;

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

/// One case and what hangs off it; the new case's id.
fn insert_case(conn: &Connection, job: &CreateJob, number: &str) -> rusqlite::Result<i64> {
    let case = &job.case;
    let c = &case.columns;
    let now = sqlite_time(job.now);
    let time = |at: Option<DateTime<Utc>>| at.map(sqlite_time);
    // The id from `last_insert_rowid` rather than `RETURNING`: SQLite keeps a statement's returned rows in an
    // ephemeral table, opened and freed for every case.
    conn.prepare_cached(concat!(
            "INSERT INTO cases (",
            crate::cases::new_case_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
             ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, 1, ?32, ?33, ?33, ?34, ?35, ?36, ?37, ?38)"
        ))?
        .execute(
            params![
                number,
                case.tracking_hash,
                case.kind,
                case.channel,
                case.urgency,
                c.status,
                c.category_code,
                case.title,
                case.description,
                case.tags.join(" "),
                case.address,
                case.lng,
                case.lat,
                case.placement,
                case.grid_code,
                case.basic_grid_code,
                case.region_code,
                case.path,
                c.owner_region,
                c.owner_path,
                c.lead_unit,
                c.claimed_by,
                c.leader_owner,
                time(c.response_due),
                time(c.handling_due),
                time(c.follow_up_due),
                c.deadline_provisional,
                c.reopen_count,
                c.merged_into,
                c.satisfaction,
                c.state,
                case.created_by,
                now,
                time(c.accepted_at),
                time(c.resolved_at),
                time(c.closed_at),
                time(c.feedback_due),
                c.clock_paused,
            ],
        )?;
    let id = conn.last_insert_rowid();
    if !c.units.is_empty() {
        let mut unit = conn.prepare_cached(
            "INSERT INTO case_units (case_id, unit_key, role, part, status) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (key, role, part) in &c.units {
            unit.execute(params![id, key, role, part, c.status])?;
        }
    }
    if !case.parties.is_empty() {
        let mut party = conn.prepare_cached(
            "INSERT INTO case_parties (case_id, role, name, phone_enc, phone_hash, phone_mask, id_number_enc, \
             id_number_hash, id_number_mask, resident_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for p in &case.parties {
            let (phone, id_number) = (p.phone.as_ref(), p.id_number.as_ref());
            party.execute(params![
                id,
                p.role,
                p.name,
                phone.map(|v| &v.ciphertext),
                phone.map(|v| &v.blind_index),
                phone.map(|v| &v.masked),
                id_number.map(|v| &v.ciphertext),
                id_number.map(|v| &v.blind_index),
                id_number.map(|v| &v.masked),
                p.resident_id,
            ])?;
        }
    }
    let event = &case.event;
    conn.prepare_cached(
        "INSERT INTO case_events (case_id, name, from_status, to_status, actor, at, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        id,
        event.name,
        event.from_status,
        event.to_status,
        event.actor,
        sqlite_time(event.at),
        event.detail.to_string(),
    ])?;
    if let Some(key) = &job.idempotency {
        conn.prepare_cached(
            "UPDATE idempotency_keys SET case_id = ?1 WHERE scope = ?2 AND key = ?3",
        )?
        .execute(params![id, key.scope, key.key])?;
    }
    if !job.audit.is_empty() {
        let mut audit = conn.prepare_cached(
            "INSERT INTO audit_log (at, actor, action, object, result, source, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for draft in &job.audit {
            audit.execute(params![
                sqlite_time(draft.at),
                draft.actor,
                draft.action,
                crate::cases::registration_audit_object(draft, number),
                draft.result,
                draft.source,
                draft.detail.to_string(),
            ])?;
        }
    }
    Ok(id)
}
