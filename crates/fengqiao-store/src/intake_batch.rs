//! Registrations of one SQLite group commit written together, on the writer's own connection to the database
//! file (rusqlite, on the writer's thread): each table's rows of the whole batch in a few multi-row inserts
//! (`MultiRow`), with statements prepared once.
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
use std::sync::LazyLock;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::config::DbConfig;
use rusqlite::types::Null;
use rusqlite::{Connection, OptionalExtension, ToSql, params};

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
static BATCH_ROLLUP: LazyLock<Vec<String>> = LazyLock::new(|| {
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
                "INSERT OR ROLLBACK INTO {table} ({key}, owner_path, path, {}) SELECT {}, c.owner_path, c.path, {} \
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

/// Opens the writer's own connection to the database file, set up like the pool's (WAL, the busy timeout, the
/// memory map) and like the writer's: commits that do not sync (`synchronous = NORMAL`, the syncer makes them
/// durable) nor checkpoint (the writer does that after answering), a 32 MiB page cache for the index pages it
/// keeps changing, and the statement journal in memory.
///
/// It runs only the statements of this module, which never need a statement journal: any error rolls the
/// whole transaction back (their conflicts are `OR ROLLBACK`). SQLite keeps one anyway, a copy of every page a
/// statement changes, for a multi-row insert that may fail halfway: one that checks a foreign key or fires a
/// trigger. So this connection enforces neither:
/// - foreign keys: the rows hang off the cases inserted in the same transaction, and what they name outside
///   the batch (regions, categories, residents, which nothing deletes) is checked once per batch
///   (`references_exist`);
/// - triggers: the only one an insert here would fire is the rollup's on `cases`, which skips the batch's
///   cases anyway (the batch writes its rollup itself, `BATCH_ROLLUP`).
pub(crate) fn open(file: &std::path::Path) -> StoreResult<Connection> {
    let connection = Connection::open(file).map_err(failed)?;
    connection
        .busy_timeout(std::time::Duration::from_secs(10))
        .map_err(failed)?;
    connection
        .execute_batch(
            "PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768; \
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
    connection
        .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
        .map_err(failed)?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

/// Copies the WAL back into the database (a passive checkpoint) on the writer's connection.
pub(crate) fn checkpoint(connection: &Connection) -> rusqlite::Result<()> {
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

/// Checks, once per distinct value, that what the batch's rows name outside it exists: the cases' regions and
/// categories and the parties' residents (this connection does not enforce foreign keys, see `open`). An
/// error leaves the batch to the units one by one, where the missing one fails alone.
fn references_exist(conn: &Connection, jobs: &[&CreateJob]) -> StoreResult<()> {
    let mut regions: Vec<&str> = Vec::new();
    let mut categories: Vec<&str> = Vec::new();
    let mut residents: Vec<i64> = Vec::new();
    for job in jobs {
        let case = &job.case;
        regions.push(&case.region_code);
        categories.extend(case.columns.category_code.as_deref());
        residents.extend(case.parties.iter().filter_map(|p| p.resident_id));
    }
    regions.sort_unstable();
    regions.dedup();
    categories.sort_unstable();
    categories.dedup();
    residents.sort_unstable();
    residents.dedup();
    let exists = |sql: &str, value: &dyn ToSql, what: String| -> StoreResult<()> {
        let found = conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row([value], |_| Ok(())).optional())
            .map_err(failed)?;
        found.ok_or(StoreError::MissingReference(what))
    };
    for code in regions {
        exists(
            "SELECT 1 FROM regions WHERE code = ?1",
            &code,
            format!("region {code}"),
        )?;
    }
    for code in categories {
        exists(
            "SELECT 1 FROM categories WHERE code = ?1",
            &code,
            format!("category {code}"),
        )?;
    }
    for id in residents {
        exists(
            "SELECT 1 FROM residents WHERE id = ?1",
            &id,
            format!("resident {id}"),
        )?;
    }
    Ok(())
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
    references_exist(conn, jobs)?;
    let mut next_seq: HashMap<&str, i64> = HashMap::new();
    {
        let mut number = conn
            .prepare_cached(
                "INSERT OR ROLLBACK INTO case_numbers (prefix, last) VALUES (?1, ?2) ON CONFLICT (prefix) \
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
                "INSERT OR ROLLBACK INTO idempotency_keys (scope, key, request_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
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
        "INSERT OR ROLLBACK INTO rollup_by_batch (id, after_id) SELECT 1, COALESCE(MAX(id), 0) FROM cases",
    )
    .and_then(|mut s| s.execute([]))
    .map_err(failed)?;
    let mut written: Vec<(usize, String)> = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.iter().enumerate() {
        if repeat_of.contains_key(&i) {
            continue;
        }
        let prefix = job.case.number_prefix.as_str();
        let seq = next_seq
            .get_mut(prefix)
            .ok_or_else(|| StoreError::Corrupt(format!("prefix {prefix} was not numbered")))?;
        written.push((i, crate::cases::case_number(prefix, *seq)));
        *seq += 1;
    }
    let ids = insert_cases(conn, jobs, &written)?;
    let mut outcome: Vec<Option<StoreResult<CreateUnit>>> = (0..jobs.len()).map(|_| None).collect();
    for ((i, number), id) in written.into_iter().zip(ids) {
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

/// A multi-row `INSERT` of one table, as statement texts of `CHUNKS` rows each: a batch's rows go in as a few
/// statements (prepared once each) rather than one per row, so SQLite opens the table's and its indexes'
/// cursors once a statement, and an insert at the end of an index finds the cursor already there.
struct MultiRow {
    /// Values a row binds.
    width: usize,
    /// (rows, text), largest first.
    texts: Vec<(usize, String)>,
}

/// The rows of the statements `MultiRow` prepares.
const CHUNKS: [usize; 6] = [32, 16, 8, 4, 2, 1];

impl MultiRow {
    /// `INSERT INTO {into} VALUES {row}, {row}, …`; `row` holds one `?` per value bound.
    fn new(into: &str, row: &str) -> MultiRow {
        let width = row.matches('?').count();
        let texts = CHUNKS
            .iter()
            .map(|&n| {
                (
                    n,
                    format!(
                        "INSERT OR ROLLBACK INTO {into} VALUES {}",
                        vec![row; n].join(", ")
                    ),
                )
            })
            .collect();
        MultiRow { width, texts }
    }

    /// `INSERT INTO {into} VALUES (?, …), …` with a `?` for each column `into` names (`table (a, b, …)`).
    fn of(into: &str) -> MultiRow {
        let columns = into.matches(',').count() + 1;
        MultiRow::new(into, &format!("({})", vec!["?"; columns].join(", ")))
    }

    /// Inserts the rows whose values `values` holds, `width` a row, in order; the rowid of each (SQLite gives
    /// the rows of one statement consecutive rowids above the table's largest, when the statement names none).
    fn insert(&self, conn: &Connection, values: &[&dyn ToSql]) -> StoreResult<Vec<i64>> {
        let mut ids = Vec::with_capacity(values.len() / self.width);
        let mut rest = values;
        while !rest.is_empty() {
            let rows = rest.len() / self.width;
            let Some((n, text)) = self.texts.iter().find(|(n, _)| *n <= rows) else {
                return Err(StoreError::Corrupt(format!(
                    "a multi-row insert was given {} values, not rows of {}",
                    rest.len(),
                    self.width
                )));
            };
            let (chunk, tail) = rest.split_at(n * self.width);
            let inserted = conn
                .prepare_cached(text)
                .and_then(|mut statement| statement.execute(chunk))
                .map_err(failed)?;
            if inserted != *n {
                return Err(StoreError::Corrupt(format!(
                    "a multi-row insert wrote {inserted} rows of {n}"
                )));
            }
            let last = conn.last_insert_rowid();
            ids.extend(last - *n as i64 + 1..=last);
            rest = tail;
        }
        Ok(ids)
    }
}

static CASES: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        concat!("cases (", crate::cases::new_case_columns!(), ")"),
        // The 31 columns up to `state`, `version` = 1, then the 8 after it.
        &format!("({}, 1, {})", ["?"; 31].join(", "), ["?"; 8].join(", ")),
    )
});
static UNITS: LazyLock<MultiRow> =
    LazyLock::new(|| MultiRow::of("case_units (case_id, unit_key, role, part, status)"));
static PARTIES: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::of(
        "case_parties (case_id, role, name, phone_enc, phone_hash, phone_mask, id_number_enc, id_number_hash, \
         id_number_mask, resident_id)",
    )
});
static EVENTS: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::of("case_events (case_id, name, from_status, to_status, actor, at, detail)")
});
static AUDIT: LazyLock<MultiRow> =
    LazyLock::new(|| MultiRow::of("audit_log (at, actor, action, object, result, source, detail)"));

/// A case's values that are not fields of the job as they are: times in sqlx's text form, the tags as one
/// text, the event's and the audit's details as JSON text.
struct Texts {
    tags: String,
    now: String,
    response_due: Option<String>,
    handling_due: Option<String>,
    follow_up_due: Option<String>,
    accepted_at: Option<String>,
    resolved_at: Option<String>,
    closed_at: Option<String>,
    feedback_due: Option<String>,
    event_at: String,
    event_detail: String,
    /// (at, object, detail) of each audit record.
    audit: Vec<(String, String, String)>,
}

impl Texts {
    fn of(job: &CreateJob, number: &str) -> Texts {
        let c = &job.case.columns;
        let time = |at: Option<DateTime<Utc>>| at.map(sqlite_time);
        Texts {
            tags: job.case.tags.join(" "),
            now: sqlite_time(job.now),
            response_due: time(c.response_due),
            handling_due: time(c.handling_due),
            follow_up_due: time(c.follow_up_due),
            accepted_at: time(c.accepted_at),
            resolved_at: time(c.resolved_at),
            closed_at: time(c.closed_at),
            feedback_due: time(c.feedback_due),
            event_at: sqlite_time(job.case.event.at),
            event_detail: job.case.event.detail.to_string(),
            audit: job
                .audit
                .iter()
                .map(|draft| {
                    (
                        sqlite_time(draft.at),
                        crate::cases::registration_audit_object(draft, number),
                        draft.detail.to_string(),
                    )
                })
                .collect(),
        }
    }
}

/// The batch's cases (`written`: the job and its number, in order) and what hangs off them; the new cases'
/// ids, in the same order.
fn insert_cases(
    conn: &Connection,
    jobs: &[&CreateJob],
    written: &[(usize, String)],
) -> StoreResult<Vec<i64>> {
    let texts: Vec<Texts> = written
        .iter()
        .map(|(i, number)| Texts::of(jobs[*i], number))
        .collect();
    let mut values: Vec<&dyn ToSql> = Vec::with_capacity(written.len() * CASES.width);
    for ((i, number), t) in written.iter().zip(&texts) {
        let case = &jobs[*i].case;
        let c = &case.columns;
        values.extend_from_slice(&[
            number as &dyn ToSql,
            &case.tracking_hash,
            &case.kind,
            &case.channel,
            &case.urgency,
            &c.status,
            &c.category_code,
            &case.title,
            &case.description,
            &t.tags,
            &case.address,
            &case.lng,
            &case.lat,
            &case.placement,
            &case.grid_code,
            &case.basic_grid_code,
            &case.region_code,
            &case.path,
            &c.owner_region,
            &c.owner_path,
            &c.lead_unit,
            &c.claimed_by,
            &c.leader_owner,
            &t.response_due,
            &t.handling_due,
            &t.follow_up_due,
            &c.deadline_provisional,
            &c.reopen_count,
            &c.merged_into,
            &c.satisfaction,
            &c.state,
            &case.created_by,
            &t.now,
            &t.now,
            &t.accepted_at,
            &t.resolved_at,
            &t.closed_at,
            &t.feedback_due,
            &c.clock_paused,
        ]);
    }
    let ids = CASES.insert(conn, &values)?;
    if ids.len() != written.len() {
        return Err(StoreError::Corrupt(format!(
            "{} cases written for {}",
            ids.len(),
            written.len()
        )));
    }

    let mut units: Vec<&dyn ToSql> = Vec::new();
    let mut parties: Vec<&dyn ToSql> = Vec::new();
    let mut events: Vec<&dyn ToSql> = Vec::with_capacity(written.len() * EVENTS.width);
    let mut audit: Vec<&dyn ToSql> = Vec::new();
    for (((i, _), t), id) in written.iter().zip(&texts).zip(&ids) {
        let job = jobs[*i];
        let case = &job.case;
        for (key, role, part) in &case.columns.units {
            units.extend_from_slice(&[id as &dyn ToSql, key, role, part, &case.columns.status]);
        }
        for p in &case.parties {
            let (phone, id_number) = (p.phone.as_ref(), p.id_number.as_ref());
            parties.extend_from_slice(&[
                id as &dyn ToSql,
                &p.role,
                &p.name,
                phone.map_or(&Null as &dyn ToSql, |v| &v.ciphertext),
                phone.map_or(&Null as &dyn ToSql, |v| &v.blind_index),
                phone.map_or(&Null as &dyn ToSql, |v| &v.masked),
                id_number.map_or(&Null as &dyn ToSql, |v| &v.ciphertext),
                id_number.map_or(&Null as &dyn ToSql, |v| &v.blind_index),
                id_number.map_or(&Null as &dyn ToSql, |v| &v.masked),
                &p.resident_id,
            ]);
        }
        let event = &case.event;
        events.extend_from_slice(&[
            id as &dyn ToSql,
            &event.name,
            &event.from_status,
            &event.to_status,
            &event.actor,
            &t.event_at,
            &t.event_detail,
        ]);
        for (draft, (at, object, detail)) in job.audit.iter().zip(&t.audit) {
            audit.extend_from_slice(&[
                at as &dyn ToSql,
                &draft.actor,
                &draft.action,
                object,
                &draft.result,
                &draft.source,
                detail,
            ]);
        }
    }
    UNITS.insert(conn, &units)?;
    PARTIES.insert(conn, &parties)?;
    EVENTS.insert(conn, &events)?;
    AUDIT.insert(conn, &audit)?;

    for ((i, _), id) in written.iter().zip(&ids) {
        if let Some(key) = &jobs[*i].idempotency {
            conn.prepare_cached(
                "UPDATE OR ROLLBACK idempotency_keys SET case_id = ?1 WHERE scope = ?2 AND key = ?3",
            )
            .and_then(|mut statement| statement.execute(params![id, key.scope, key.key]))
            .map_err(failed)?;
        }
    }
    Ok(ids)
}
