//! Registrations of one SQLite group commit written together: a few multi-row statements for the whole batch
//! instead of a dozen statements per case. It writes exactly what `create_case_unit!` writes for each case, in
//! the transaction; if any statement fails, the writer rolls the transaction back and runs the cases one by one, so
//! a bad case still fails alone.

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

/// Writes the batch's registrations; answers each in order. Any error means the caller must roll back.
pub(crate) async fn create_batch(
    conn: &mut SqliteConnection,
    jobs: &[&CreateJob],
) -> StoreResult<Vec<CreateUnit>> {
    let mut outcome: Vec<Option<CreateUnit>> = (0..jobs.len()).map(|_| None).collect();

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
    for chunk in claiming.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) ",
        );
        qb.push_values(chunk, |mut b, &i| {
            let key = jobs[i]
                .idempotency
                .as_ref()
                .expect("claiming jobs have keys");
            b.push_bind(key.scope.clone())
                .push_bind(key.key.clone())
                .push_bind(key.request_hash.clone())
                .push_bind(micros(jobs[i].now));
        });
        qb.push(" ON CONFLICT (scope, key) DO NOTHING RETURNING scope, key");
        let mut claimed = std::collections::HashSet::new();
        for row in qb.build().fetch_all(&mut *conn).await? {
            claimed.insert((
                row.try_get::<String, _>("scope")?,
                row.try_get::<String, _>("key")?,
            ));
        }
        for &i in chunk {
            let key = jobs[i]
                .idempotency
                .as_ref()
                .expect("claiming jobs have keys");
            if claimed.contains(&(key.scope.clone(), key.key.clone())) {
                continue;
            }
            let row = sqlx::query(
                "SELECT request_hash, case_id FROM idempotency_keys WHERE scope = $1 AND key = $2",
            )
            .bind(&key.scope)
            .bind(&key.key)
            .fetch_one(&mut *conn)
            .await?;
            let hash: String = row.try_get("request_hash")?;
            outcome[i] = Some(CreateUnit::Existing {
                same_body: hash == key.request_hash,
                case_id: row.try_get("case_id")?,
            });
        }
    }
    let creating: Vec<usize> = (0..jobs.len())
        .filter(|i| outcome[*i].is_none() && !repeat_of.contains_key(i))
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
    let mut next_seq: HashMap<String, i64> = HashMap::new();
    for chunk in per_prefix.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new("INSERT INTO case_numbers (prefix, last) ");
        qb.push_values(chunk, |mut b, (prefix, n)| {
            b.push_bind(prefix.to_string()).push_bind(*n);
        });
        qb.push(" ON CONFLICT (prefix) DO UPDATE SET last = case_numbers.last + excluded.last RETURNING prefix, last");
        for row in qb.build().fetch_all(&mut *conn).await? {
            let prefix: String = row.try_get("prefix")?;
            let last: i64 = row.try_get("last")?;
            let n = chunk
                .iter()
                .find(|(p, _)| *p == prefix)
                .map(|(_, n)| *n)
                .ok_or_else(|| StoreError::Corrupt(format!("prefix {prefix} was not numbered")))?;
            next_seq.insert(prefix, last - n + 1);
        }
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

    // The cases, then what hangs off them.
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(creating.len());
    let rows: Vec<(usize, &String)> = creating.iter().copied().zip(numbers.iter()).collect();
    for chunk in rows.chunks(CASES_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(concat!(
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
        qb.push(" RETURNING id, number");
        for row in qb.build().fetch_all(&mut *conn).await? {
            ids.insert(row.try_get("number")?, row.try_get("id")?);
        }
    }
    let id_of = |number: &String| -> StoreResult<i64> {
        ids.get(number)
            .copied()
            .ok_or_else(|| StoreError::Corrupt(format!("case {number} was not inserted")))
    };

    let mut units = Vec::new();
    let mut parties = Vec::new();
    let mut events = Vec::new();
    let mut audit = Vec::new();
    let mut keyed = Vec::new();
    for &(i, number) in &rows {
        let id = id_of(number)?;
        let case = &jobs[i].case;
        for (key, role, part) in &case.columns.units {
            units.push((id, key, role, part, &case.columns.status));
        }
        for party in &case.parties {
            parties.push((id, party));
        }
        events.push((id, &case.event));
        audit.extend(jobs[i].audit.iter());
        if let Some(key) = &jobs[i].idempotency {
            keyed.push((id, key));
        }
    }
    for chunk in keyed.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new("WITH claimed (scope, key, case_id) AS (");
        qb.push_values(chunk, |mut b, (id, key)| {
            b.push_bind(key.scope.clone())
                .push_bind(key.key.clone())
                .push_bind(*id);
        });
        qb.push(
            ") UPDATE idempotency_keys SET case_id = claimed.case_id FROM claimed \
             WHERE idempotency_keys.scope = claimed.scope AND idempotency_keys.key = claimed.key",
        );
        qb.build().execute(&mut *conn).await?;
    }
    for chunk in units.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO case_units (case_id, unit_key, role, part, status) ",
        );
        qb.push_values(chunk, |mut b, (id, key, role, part, status)| {
            b.push_bind(*id)
                .push_bind((*key).clone())
                .push_bind((*role).clone())
                .push_bind((*part).clone())
                .push_bind((*status).clone());
        });
        qb.build().execute(&mut *conn).await?;
    }
    for chunk in parties.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO case_parties (case_id, role, name, phone_enc, phone_hash, phone_mask, id_number_enc, id_number_hash, id_number_mask, resident_id) ",
        );
        qb.push_values(chunk, |mut b, (id, party)| {
            b.push_bind(*id)
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
        qb.build().execute(&mut *conn).await?;
    }
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO case_events (case_id, name, from_status, to_status, actor, at, detail) ",
        );
        qb.push_values(chunk, |mut b, (id, event)| {
            b.push_bind(*id)
                .push_bind(event.name.clone())
                .push_bind(event.from_status.clone())
                .push_bind(event.to_status.clone())
                .push_bind(event.actor.clone())
                .push_bind(micros(event.at))
                .push_bind(event.detail.to_string());
        });
        qb.build().execute(&mut *conn).await?;
    }
    for chunk in audit.chunks(ROWS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit_log (at, actor, action, object, result, source, detail) ",
        );
        qb.push_values(chunk, |mut b, draft| {
            b.push_bind(micros(draft.at))
                .push_bind(draft.actor.clone())
                .push_bind(draft.action.clone())
                .push_bind(draft.object.clone())
                .push_bind(draft.result.clone())
                .push_bind(draft.source.clone())
                .push_bind(draft.detail.to_string());
        });
        qb.build().execute(&mut *conn).await?;
    }

    for &(i, number) in &rows {
        outcome[i] = Some(CreateUnit::Created(id_of(number)?, number.clone()));
    }
    // A repeated key replays the first of the batch.
    for (&i, &first) in &repeat_of {
        let same_body = jobs[i].idempotency.as_ref().map(|k| &k.request_hash)
            == jobs[first].idempotency.as_ref().map(|k| &k.request_hash);
        let case_id = match &outcome[first] {
            Some(CreateUnit::Created(id, _)) => Some(*id),
            Some(CreateUnit::Existing { case_id, .. }) => *case_id,
            None => None,
        };
        outcome[i] = Some(CreateUnit::Existing { same_body, case_id });
    }
    outcome
        .into_iter()
        .map(|o| o.ok_or_else(|| StoreError::Corrupt("a registration was not answered".into())))
        .collect()
}
