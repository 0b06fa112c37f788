//! A registration on PostgreSQL in one statement: the case, its units, parties, event, audit records and
//! idempotency key written by one `WITH … INSERT` chain, which PostgreSQL runs atomically with one commit. The
//! transaction of `create_case_unit!` takes eight round trips for the same rows; each costs the server (and
//! PostgreSQL) more than the rows themselves.
//!
//! This is the fast path only. When the statement writes nothing (the idempotency key is there already) or
//! fails in any way (a key taken at the same moment, a missing reference), the caller runs the transaction,
//! which replays or explains the failure exactly as before; the failed statement left nothing behind.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};

use crate::common::micros;
use crate::{AuditDraft, IdempotencyDraft, NewCase};

const INSERT: &str = concat!(
    "WITH c AS (INSERT INTO cases (",
    crate::cases::new_case_columns!(),
    ") \
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, \
     $27, $28, $29, $30, $31, 1, $32, $33, $33, $34, $35, $36, $37, $38 \
    WHERE $39::text IS NULL OR NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE scope = $39 AND key = $40) \
    RETURNING id), \
  k AS (INSERT INTO idempotency_keys (scope, key, request_hash, created_at, case_id) \
    SELECT $39, $40, $41, $33, c.id FROM c WHERE $39::text IS NOT NULL), \
  u AS (INSERT INTO case_units (case_id, unit_key, role, part, status) \
    SELECT c.id, x.unit_key, x.role, x.part, $6 FROM c, unnest($42::text[], $43::text[], $44::text[]) AS x(unit_key, role, part)), \
  p AS (INSERT INTO case_parties (case_id, role, name, phone_enc, phone_hash, phone_mask, id_number_enc, id_number_hash, id_number_mask, resident_id) \
    SELECT c.id, x.* FROM c, unnest($45::text[], $46::text[], $47::text[], $48::text[], $49::text[], $50::text[], $51::text[], $52::text[], $53::bigint[]) \
     AS x(role, name, phone_enc, phone_hash, phone_mask, id_number_enc, id_number_hash, id_number_mask, resident_id)), \
  e AS (INSERT INTO case_events (case_id, name, from_status, to_status, actor, at, detail) \
    SELECT c.id, $54, $55, $56, $57, $58, $59 FROM c), \
  a AS (INSERT INTO audit_log (at, actor, action, object, result, source, detail) \
    SELECT x.* FROM c, unnest($60::timestamptz[], $61::text[], $62::text[], $63::text[], $64::text[], $65::text[], $66::text[]) \
     AS x(at, actor, action, object, result, source, detail)) \
  SELECT id FROM c"
);

/// Writes the registration in one statement: `Some(id)` when it did, `None` when the caller must run the
/// transaction instead (nothing was written).
pub(crate) async fn create_in_one_statement(
    pool: &PgPool,
    case: &NewCase,
    number: &str,
    idempotency: Option<&IdempotencyDraft>,
    audit: &[AuditDraft],
    now: DateTime<Utc>,
) -> Option<i64> {
    let sealed = |v: &Option<crate::SealedValue>, f: fn(&crate::SealedValue) -> &String| {
        v.as_ref().map(|v| f(v).clone())
    };
    let parties = &case.parties;
    let query = sqlx::query(INSERT);
    let result = crate::cases::bind_new_case!(query, case, number, now)
        .bind(idempotency.map(|k| k.scope.clone()))
        .bind(idempotency.map(|k| k.key.clone()))
        .bind(idempotency.map(|k| k.request_hash.clone()))
        .bind(
            case.columns
                .units
                .iter()
                .map(|u| u.0.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            case.columns
                .units
                .iter()
                .map(|u| u.1.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            case.columns
                .units
                .iter()
                .map(|u| u.2.clone())
                .collect::<Vec<_>>(),
        )
        .bind(parties.iter().map(|p| p.role.clone()).collect::<Vec<_>>())
        .bind(parties.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
        .bind(
            parties
                .iter()
                .map(|p| sealed(&p.phone, |v| &v.ciphertext))
                .collect::<Vec<_>>(),
        )
        .bind(
            parties
                .iter()
                .map(|p| sealed(&p.phone, |v| &v.blind_index))
                .collect::<Vec<_>>(),
        )
        .bind(
            parties
                .iter()
                .map(|p| sealed(&p.phone, |v| &v.masked))
                .collect::<Vec<_>>(),
        )
        .bind(
            parties
                .iter()
                .map(|p| sealed(&p.id_number, |v| &v.ciphertext))
                .collect::<Vec<_>>(),
        )
        .bind(
            parties
                .iter()
                .map(|p| sealed(&p.id_number, |v| &v.blind_index))
                .collect::<Vec<_>>(),
        )
        .bind(
            parties
                .iter()
                .map(|p| sealed(&p.id_number, |v| &v.masked))
                .collect::<Vec<_>>(),
        )
        .bind(parties.iter().map(|p| p.resident_id).collect::<Vec<_>>())
        .bind(&case.event.name)
        .bind(&case.event.from_status)
        .bind(&case.event.to_status)
        .bind(&case.event.actor)
        .bind(micros(case.event.at))
        .bind(case.event.detail.to_string())
        .bind(audit.iter().map(|d| micros(d.at)).collect::<Vec<_>>())
        .bind(audit.iter().map(|d| d.actor.clone()).collect::<Vec<_>>())
        .bind(audit.iter().map(|d| d.action.clone()).collect::<Vec<_>>())
        .bind(
            audit
                .iter()
                .map(|d| crate::cases::registration_audit_object(d, number))
                .collect::<Vec<_>>(),
        )
        .bind(audit.iter().map(|d| d.result.clone()).collect::<Vec<_>>())
        .bind(audit.iter().map(|d| d.source.clone()).collect::<Vec<_>>())
        .bind(
            audit
                .iter()
                .map(|d| d.detail.to_string())
                .collect::<Vec<_>>(),
        )
        .fetch_optional(pool)
        .await;
    match result {
        Ok(Some(row)) => row.try_get("id").ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::debug!(error = %e, "registration in one statement failed; running the transaction");
            None
        }
    }
}
