//! Mediation and petitions in storage: committees, mediators, mediations (whose steps also go to the case's
//! timeline), petitions, reception schedules, appointments and records, backlog cases, their history
//! (`record_events`) and the idempotency keys of their creation.
//!
//! The records' lifecycle state is kept as the domain's JSON (`state`) beside the columns that scope, filter
//! and count them; every write is one use case with its audit records, and updates are optimistic on `version`.

use crate::*;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::common::micros;

/// A mediation committee as stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CommitteeRecord {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub field: String,
    pub region_code: String,
    pub path: String,
    pub created_at: DateTime<Utc>,
}

/// A committee to create.
#[derive(Debug, Clone)]
pub struct NewCommittee {
    pub name: String,
    pub kind: String,
    pub field: String,
    pub region_code: String,
    pub created_at: DateTime<Utc>,
}

/// A mediator as stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MediatorRecord {
    pub id: i64,
    pub committee_id: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub kind: String,
    pub rota_days: Vec<u32>,
    pub active: bool,
}

/// A mediator to add.
#[derive(Debug, Clone)]
pub struct NewMediator {
    pub committee_id: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub kind: String,
    pub rota_days: Vec<u32>,
    pub created_at: DateTime<Utc>,
}

/// Which mediations a list shows.
#[derive(Debug, Clone, Default)]
pub struct MediationFilter {
    /// Accepted in [from, to).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Any of these statuses (any status when empty).
    pub statuses: Vec<String>,
    pub committee_id: Option<i64>,
    /// Only agreements whose follow-up visit is still to be made.
    pub follow_ups_due: bool,
}

/// A mediation as stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MediationRecord {
    pub id: i64,
    pub case_id: i64,
    pub committee_id: i64,
    pub mediator_user_id: Option<i64>,
    pub previous_id: Option<i64>,
    pub kind: String,
    pub step: String,
    pub status: String,
    pub category_code: Option<String>,
    pub region_code: String,
    pub path: String,
    pub accepted_at: DateTime<Utc>,
    pub concluded_at: Option<DateTime<Utc>>,
    pub follow_up_due: Option<DateTime<Utc>>,
    pub performed: Option<bool>,
    /// The domain's mediation as JSON.
    pub state: String,
    pub version: i64,
}

/// A mediation to open.
#[derive(Debug, Clone)]
pub struct NewMediation {
    pub case_id: i64,
    pub committee_id: i64,
    pub mediator_user_id: Option<i64>,
    pub previous_id: Option<i64>,
    pub kind: String,
    pub step: String,
    pub status: String,
    pub category_code: Option<String>,
    pub region_code: String,
    pub path: String,
    pub accepted_at: DateTime<Utc>,
    pub state: String,
}

/// A mediation's changed columns after a step.
#[derive(Debug, Clone)]
pub struct MediationChange {
    pub id: i64,
    pub expected_version: i64,
    pub status: String,
    pub concluded_at: Option<DateTime<Utc>>,
    pub follow_up_due: Option<DateTime<Utc>>,
    pub performed: Option<bool>,
    pub state: String,
    pub at: DateTime<Utc>,
}

/// What creating a record with an idempotency key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordCreate {
    Created(i64),
    /// The same key and body came before: the id it made.
    Replayed(i64),
    /// The same key came before with another body.
    KeyReused,
}

/// A petition as stored.
#[derive(Debug, Clone, Serialize)]
pub struct PetitionRecord {
    pub id: i64,
    pub case_id: Option<i64>,
    pub reception_id: Option<i64>,
    pub channel: String,
    pub head_count: i64,
    pub petitioner_name: String,
    pub resident_id: Option<i64>,
    #[serde(skip)]
    pub phone: Option<SealedValue>,
    #[serde(skip)]
    pub id_number: Option<SealedValue>,
    pub sensitive: bool,
    pub petitioner_key: Option<String>,
    pub matter_key: Option<String>,
    pub category_code: Option<String>,
    pub subject: String,
    pub content: String,
    pub region_code: String,
    pub path: String,
    pub received_region: String,
    pub received_path: String,
    pub repeat_flag: bool,
    pub skip_level: bool,
    pub group_flag: bool,
    pub status: String,
    pub current_due: Option<DateTime<Utc>>,
    pub state: String,
    pub version: i64,
    pub registered_at: DateTime<Utc>,
}

/// A petition to register.
#[derive(Debug, Clone)]
pub struct NewPetition {
    pub case_id: Option<i64>,
    pub reception_id: Option<i64>,
    pub channel: String,
    pub head_count: i64,
    pub petitioner_name: String,
    pub resident_id: Option<i64>,
    pub phone: Option<SealedValue>,
    pub id_number: Option<SealedValue>,
    pub sensitive: bool,
    pub petitioner_key: Option<String>,
    pub matter_key: Option<String>,
    pub category_code: Option<String>,
    pub subject: String,
    pub content: String,
    pub region_code: String,
    pub path: String,
    pub received_region: String,
    pub received_path: String,
    pub repeat_flag: bool,
    pub skip_level: bool,
    pub group_flag: bool,
    pub status: String,
    pub current_due: Option<DateTime<Utc>>,
    pub state: String,
    pub created_by: Option<i64>,
    pub registered_at: DateTime<Utc>,
}

/// A versioned record's (petition's or backlog case's) change after a step.
#[derive(Debug, Clone)]
pub struct StateChange {
    pub id: i64,
    pub expected_version: i64,
    pub status: String,
    /// Petitions: the running deadline. Backlog cases: when closed.
    pub due_or_closed: Option<DateTime<Utc>>,
    pub state: String,
    pub at: DateTime<Utc>,
}

/// A reception schedule (接访安排) as stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ScheduleRecord {
    pub id: i64,
    pub leader_user_id: i64,
    pub region_code: String,
    pub path: String,
    pub place: String,
    /// The domain's cadence as JSON.
    pub cadence: String,
    pub valid_from: String,
    pub valid_to: String,
}

/// An appointment (约访) as stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AppointmentRecord {
    pub id: i64,
    pub schedule_id: i64,
    pub day: String,
    pub petitioner: String,
    pub matter: String,
}

/// A reception held (接访记录) as stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReceptionRecord {
    pub id: i64,
    pub schedule_id: i64,
    pub leader_user_id: i64,
    pub day: String,
    pub path: String,
    pub notes: String,
    pub created_at: DateTime<Utc>,
}

/// A backlog case as stored.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BacklogRecord {
    pub id: i64,
    pub petition_id: i64,
    pub leader_user_id: i64,
    pub path: String,
    pub status: String,
    pub state: String,
    pub version: i64,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A history entry of a petition or backlog case.
#[derive(Debug, Clone, Serialize)]
pub struct RecordEvent {
    pub object: String,
    pub name: String,
    pub from_status: String,
    pub to_status: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub detail: serde_json::Value,
}

const MEDIATION_COLUMNS: &str = "id, case_id, committee_id, mediator_user_id, previous_id, kind, step, status, category_code, region_code, path, accepted_at, concluded_at, follow_up_due, performed, state, version";
const PETITION_COLUMNS: &str = "id, case_id, reception_id, channel, head_count, petitioner_name, resident_id, phone_enc, phone_hash, phone_mask, id_number_enc, id_number_hash, id_number_mask, sensitive, petitioner_key, matter_key, category_code, subject, content, region_code, path, received_region, received_path, repeat_flag, skip_level, group_flag, status, current_due, state, version, registered_at";
const BACKLOG_COLUMNS: &str =
    "id, petition_id, leader_user_id, path, status, state, version, opened_at, closed_at";

macro_rules! mediation_from_row {
    ($row:expr) => {
        MediationRecord {
            id: $row.try_get("id")?,
            case_id: $row.try_get("case_id")?,
            committee_id: $row.try_get("committee_id")?,
            mediator_user_id: $row.try_get("mediator_user_id")?,
            previous_id: $row.try_get("previous_id")?,
            kind: $row.try_get("kind")?,
            step: $row.try_get("step")?,
            status: $row.try_get("status")?,
            category_code: $row.try_get("category_code")?,
            region_code: $row.try_get("region_code")?,
            path: $row.try_get("path")?,
            accepted_at: $row.try_get("accepted_at")?,
            concluded_at: $row.try_get("concluded_at")?,
            follow_up_due: $row.try_get("follow_up_due")?,
            performed: $row.try_get("performed")?,
            state: $row.try_get("state")?,
            version: $row.try_get("version")?,
        }
    };
}

macro_rules! petition_from_row {
    ($row:expr) => {
        PetitionRecord {
            id: $row.try_get("id")?,
            case_id: $row.try_get("case_id")?,
            reception_id: $row.try_get("reception_id")?,
            channel: $row.try_get("channel")?,
            head_count: $row.try_get("head_count")?,
            petitioner_name: $row.try_get("petitioner_name")?,
            resident_id: $row.try_get("resident_id")?,
            phone: sealed_from_row!($row, "phone"),
            id_number: sealed_from_row!($row, "id_number"),
            sensitive: $row.try_get("sensitive")?,
            petitioner_key: $row.try_get("petitioner_key")?,
            matter_key: $row.try_get("matter_key")?,
            category_code: $row.try_get("category_code")?,
            subject: $row.try_get("subject")?,
            content: $row.try_get("content")?,
            region_code: $row.try_get("region_code")?,
            path: $row.try_get("path")?,
            received_region: $row.try_get("received_region")?,
            received_path: $row.try_get("received_path")?,
            repeat_flag: $row.try_get("repeat_flag")?,
            skip_level: $row.try_get("skip_level")?,
            group_flag: $row.try_get("group_flag")?,
            status: $row.try_get("status")?,
            current_due: $row.try_get("current_due")?,
            state: $row.try_get("state")?,
            version: $row.try_get("version")?,
            registered_at: $row.try_get("registered_at")?,
        }
    };
}

macro_rules! backlog_from_row {
    ($row:expr) => {
        BacklogRecord {
            id: $row.try_get("id")?,
            petition_id: $row.try_get("petition_id")?,
            leader_user_id: $row.try_get("leader_user_id")?,
            path: $row.try_get("path")?,
            status: $row.try_get("status")?,
            state: $row.try_get("state")?,
            version: $row.try_get("version")?,
            opened_at: $row.try_get("opened_at")?,
            closed_at: $row.try_get("closed_at")?,
        }
    };
}

/// Checks an idempotency key inside the transaction: `Some(outcome)` when it was seen before.
macro_rules! check_record_key {
    ($tx:ident, $idempotency:expr, $prefix:literal) => {{
        let mut seen = None;
        if let Some(key) = $idempotency {
            let row = sqlx::query(
                "SELECT request_hash, object FROM record_idempotency WHERE scope = $1 AND key = $2",
            )
            .bind(&key.scope)
            .bind(&key.key)
            .fetch_optional(&mut *$tx)
            .await?;
            if let Some(row) = row {
                let hash: String = row.try_get("request_hash")?;
                let object: String = row.try_get("object")?;
                seen = Some(
                    if hash != key.request_hash || !object.starts_with($prefix) {
                        RecordCreate::KeyReused
                    } else {
                        object[$prefix.len()..]
                            .parse()
                            .map(RecordCreate::Replayed)
                            .unwrap_or(RecordCreate::KeyReused)
                    },
                );
            }
        }
        seen
    }};
}

macro_rules! hold_record_key {
    ($tx:ident, $idempotency:expr, $object:expr, $now:expr) => {{
        if let Some(key) = $idempotency {
            sqlx::query("INSERT INTO record_idempotency (scope, key, request_hash, object, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&key.scope)
                .bind(&key.key)
                .bind(&key.request_hash)
                .bind($object)
                .bind($now)
                .execute(&mut *$tx)
                .await
                .map_err(|e| classify(e, "idempotency key"))?;
        }
    }};
}

macro_rules! insert_record_event {
    ($tx:ident, $object:expr, $event:expr) => {{
        sqlx::query("INSERT INTO record_events (object, name, from_status, to_status, actor, at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind($object)
            .bind(&$event.name)
            .bind(&$event.from_status)
            .bind(&$event.to_status)
            .bind(&$event.actor)
            .bind(micros($event.at))
            .bind($event.detail.to_string())
            .execute(&mut *$tx)
            .await?;
    }};
}

fn parse_rota(text: &str) -> Vec<u32> {
    text.split(',')
        .filter_map(|d| d.trim().parse().ok())
        .collect()
}

impl Store {
    // ---------------------------------------------------------------- committees and mediators

    /// Creates a committee in a region.
    pub async fn create_committee(
        &self,
        committee: &NewCommittee,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let path: String = sqlx::query("SELECT path FROM regions WHERE code = $1")
                .bind(&committee.region_code)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::MissingReference(format!("region_code {}", committee.region_code)))?
                .try_get("path")?;
            let row = sqlx::query("INSERT INTO committees (name, kind, field, region_code, path, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(&committee.name)
                .bind(&committee.kind)
                .bind(&committee.field)
                .bind(&committee.region_code)
                .bind(&path)
                .bind(micros(committee.created_at))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| classify(e, "committee name in this region"))?;
            let id = row.try_get::<i64, _>("id")?;
            let audit: Vec<AuditDraft> = audit.iter().cloned().map(|mut d| { d.object = format!("committee:{id}"); d }).collect();
            insert_audit!(tx, &audit);
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn get_committee(&self, id: i64) -> StoreResult<Option<CommitteeRecord>> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT id, name, kind, field, region_code, path, created_at FROM committees WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(CommitteeRecord {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    kind: row.try_get("kind")?,
                    field: row.try_get("field")?,
                    region_code: row.try_get("region_code")?,
                    path: row.try_get("path")?,
                    created_at: row.try_get("created_at")?,
                }),
                None => None,
            })
        })
    }

    /// Committees under the visible paths or among the given ids.
    pub async fn list_committees(
        &self,
        visibility: &Visibility,
        ids: &[i64],
    ) -> StoreResult<Vec<CommitteeRecord>> {
        on_pool!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, name, kind, field, region_code, path, created_at FROM committees WHERE (1=0");
            for prefix in &visibility.path_prefixes {
                qb.push(" OR path LIKE ").push_bind(format!("{prefix}%"));
            }
            for id in ids {
                qb.push(" OR id = ").push_bind(*id);
            }
            qb.push(") ORDER BY path, id");
            let mut out = Vec::new();
            for row in qb.build().fetch_all(pool).await? {
                out.push(CommitteeRecord {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    kind: row.try_get("kind")?,
                    field: row.try_get("field")?,
                    region_code: row.try_get("region_code")?,
                    path: row.try_get("path")?,
                    created_at: row.try_get("created_at")?,
                });
            }
            Ok(out)
        })
    }

    /// Adds a mediator to a committee.
    pub async fn add_mediator(
        &self,
        mediator: &NewMediator,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        let rota = mediator
            .rota_days
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let row = sqlx::query("INSERT INTO mediators (committee_id, user_id, name, kind, rota_days, active, created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING id")
                .bind(mediator.committee_id)
                .bind(mediator.user_id)
                .bind(&mediator.name)
                .bind(&mediator.kind)
                .bind(&rota)
                .bind(micros(mediator.created_at))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| classify(e, "mediator"))?;
            let id = row.try_get::<i64, _>("id")?;
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn mediators(&self, committee_id: i64) -> StoreResult<Vec<MediatorRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, committee_id, user_id, name, kind, rota_days, active FROM mediators WHERE committee_id = $1 ORDER BY id")
                .bind(committee_id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let rota: String = row.try_get("rota_days")?;
                out.push(MediatorRecord {
                    id: row.try_get("id")?,
                    committee_id: row.try_get("committee_id")?,
                    user_id: row.try_get("user_id")?,
                    name: row.try_get("name")?,
                    kind: row.try_get("kind")?,
                    rota_days: parse_rota(&rota),
                    active: row.try_get("active")?,
                });
            }
            Ok(out)
        })
    }

    // ---------------------------------------------------------------- mediations

    /// Opens a mediation: its row, the step on the case's timeline, the audit, the idempotency key.
    pub async fn create_mediation(
        &self,
        mediation: &NewMediation,
        case_event: &EventDraft,
        idempotency: Option<&IdempotencyDraft>,
        audit: &[AuditDraft],
    ) -> StoreResult<RecordCreate> {
        let now = micros(mediation.accepted_at);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            if let Some(seen) = check_record_key!(tx, idempotency, "mediation:") {
                tx.rollback().await?;
                return Ok(seen);
            }
            let row = sqlx::query(
                "INSERT INTO mediations (case_id, committee_id, mediator_user_id, previous_id, kind, step, status, category_code, region_code, path, accepted_at, state, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $11) RETURNING id",
            )
            .bind(mediation.case_id)
            .bind(mediation.committee_id)
            .bind(mediation.mediator_user_id)
            .bind(mediation.previous_id)
            .bind(&mediation.kind)
            .bind(&mediation.step)
            .bind(&mediation.status)
            .bind(&mediation.category_code)
            .bind(&mediation.region_code)
            .bind(&mediation.path)
            .bind(now)
            .bind(&mediation.state)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| classify(e, "mediation"))?;
            let id = row.try_get::<i64, _>("id")?;
            hold_record_key!(tx, idempotency, format!("mediation:{id}"), now);
            insert_event!(tx, mediation.case_id, case_event);
            let audit: Vec<AuditDraft> = audit.iter().cloned().map(|mut d| { d.object = format!("mediation:{id}"); d }).collect();
            insert_audit!(tx, &audit);
            tx.commit().await?;
            Ok(RecordCreate::Created(id))
        })
    }

    pub async fn get_mediation(&self, id: i64) -> StoreResult<Option<MediationRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {MEDIATION_COLUMNS} FROM mediations WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            Ok(match row {
                Some(row) => Some(mediation_from_row!(row)),
                None => None,
            })
        })
    }

    /// The mediations of a case, oldest first.
    pub async fn mediations_of_case(&self, case_id: i64) -> StoreResult<Vec<MediationRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {MEDIATION_COLUMNS} FROM mediations WHERE case_id = $1 ORDER BY id");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(mediation_from_row!(row));
            }
            Ok(out)
        })
    }

    /// A page of the mediations visible by path or committee, filtered: newest first, or for the follow-up
    /// desk the agreements still to be visited, soonest visit first.
    pub async fn list_mediations(
        &self,
        visibility: &Visibility,
        committees: &[i64],
        filter: &MediationFilter,
        page: Page,
    ) -> StoreResult<Paged<MediationRecord>> {
        let order = if filter.follow_ups_due {
            "ORDER BY follow_up_due, id"
        } else {
            "ORDER BY accepted_at DESC, id DESC"
        };
        on_pool!(self, pool => {
            let (items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM mediations WHERE (",
                select: format!("SELECT {MEDIATION_COLUMNS} FROM mediations WHERE ("),
                order: order,
                |qb| {
                    push_ranges!(qb, "path", visibility.path_prefixes);
                    if !committees.is_empty() {
                        qb.push(" OR committee_id IN (");
                        let mut separated = qb.separated(", ");
                        for id in committees {
                            separated.push_bind(*id);
                        }
                        qb.push(")");
                    }
                    qb.push(")");
                    if let Some(from) = filter.from {
                        qb.push(" AND accepted_at >= ").push_bind(micros(from));
                    }
                    if let Some(to) = filter.to {
                        qb.push(" AND accepted_at < ").push_bind(micros(to));
                    }
                    if !filter.statuses.is_empty() {
                        qb.push(" AND status IN (");
                        let mut separated = qb.separated(", ");
                        for status in &filter.statuses {
                            separated.push_bind(status.clone());
                        }
                        qb.push(")");
                    }
                    if let Some(id) = filter.committee_id {
                        qb.push(" AND committee_id = ").push_bind(id);
                    }
                    if filter.follow_ups_due {
                        qb.push(" AND status = 'agreed' AND follow_up_due IS NOT NULL");
                    }
                },
                |row| mediation_from_row!(row));
            Ok(Paged { items, total })
        })
    }

    /// Mediations visible by path or committee that were accepted or concluded in `[from, to)`, for figures.
    pub async fn mediations_in_period(
        &self,
        visibility: &Visibility,
        committees: &[i64],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<MediationRecord>> {
        on_pool!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {MEDIATION_COLUMNS} FROM mediations WHERE (1=0"));
            for prefix in &visibility.path_prefixes {
                qb.push(" OR path LIKE ").push_bind(format!("{prefix}%"));
            }
            for id in committees {
                qb.push(" OR committee_id = ").push_bind(*id);
            }
            qb.push(") AND ((accepted_at >= ").push_bind(micros(from));
            qb.push(" AND accepted_at < ").push_bind(micros(to));
            qb.push(") OR (concluded_at >= ").push_bind(micros(from));
            qb.push(" AND concluded_at < ").push_bind(micros(to));
            qb.push(")) ORDER BY id");
            let mut out = Vec::new();
            for row in qb.build().fetch_all(pool).await? {
                out.push(mediation_from_row!(row));
            }
            Ok(out)
        })
    }

    /// Open mediations per mediator user (their caseload) and concluded/agreed counts, all time.
    pub async fn mediator_loads(
        &self,
        committee_id: i64,
    ) -> StoreResult<Vec<(i64, i64, i64, i64)>> {
        on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT mediator_user_id AS u, \
                 SUM(CASE WHEN status IN ('accepted', 'in_progress') THEN 1 ELSE 0 END) AS open_n, \
                 SUM(CASE WHEN status IN ('agreed', 'failed', 'followed_up') THEN 1 ELSE 0 END) AS concluded_n, \
                 SUM(CASE WHEN status IN ('agreed', 'followed_up') THEN 1 ELSE 0 END) AS agreed_n \
                 FROM mediations WHERE committee_id = $1 AND mediator_user_id IS NOT NULL GROUP BY mediator_user_id",
            )
            .bind(committee_id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((
                    row.try_get::<i64, _>("u")?,
                    row.try_get::<Option<i64>, _>("open_n")?.unwrap_or(0),
                    row.try_get::<Option<i64>, _>("concluded_n")?.unwrap_or(0),
                    row.try_get::<Option<i64>, _>("agreed_n")?.unwrap_or(0),
                ));
            }
            Ok(out)
        })
    }

    /// Writes a mediation step if the mediation is still at the version read, with its case timeline entry.
    pub async fn change_mediation(
        &self,
        change: &MediationChange,
        case_id: i64,
        case_event: &EventDraft,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let done = sqlx::query(
                "UPDATE mediations SET status = $1, concluded_at = $2, follow_up_due = $3, performed = $4, state = $5, updated_at = $6, version = version + 1 \
                 WHERE id = $7 AND version = $8",
            )
            .bind(&change.status)
            .bind(change.concluded_at.map(micros))
            .bind(change.follow_up_due.map(micros))
            .bind(change.performed)
            .bind(&change.state)
            .bind(micros(change.at))
            .bind(change.id)
            .bind(change.expected_version)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Err(StoreError::Conflict("the mediation changed since it was read".into()));
            }
            insert_event!(tx, case_id, case_event);
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(change.expected_version + 1)
        })
    }

    // ---------------------------------------------------------------- petitions

    /// Registers a petition with its first history entry, audit and idempotency key.
    pub async fn create_petition(
        &self,
        petition: &NewPetition,
        event: &EventDraft,
        idempotency: Option<&IdempotencyDraft>,
        audit: &[AuditDraft],
    ) -> StoreResult<RecordCreate> {
        let now = micros(petition.registered_at);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            if let Some(seen) = check_record_key!(tx, idempotency, "petition:") {
                tx.rollback().await?;
                return Ok(seen);
            }
            let row = sqlx::query(
                "INSERT INTO petitions (case_id, reception_id, channel, head_count, petitioner_name, resident_id, phone_enc, phone_hash, phone_mask, \
                 id_number_enc, id_number_hash, id_number_mask, sensitive, petitioner_key, matter_key, category_code, subject, content, region_code, path, \
                 received_region, received_path, repeat_flag, skip_level, group_flag, status, current_due, state, version, created_by, registered_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, 1, $29, $30, $30) RETURNING id",
            )
            .bind(petition.case_id)
            .bind(petition.reception_id)
            .bind(&petition.channel)
            .bind(petition.head_count)
            .bind(&petition.petitioner_name)
            .bind(petition.resident_id)
            .bind(petition.phone.as_ref().map(|v| v.ciphertext.clone()))
            .bind(petition.phone.as_ref().map(|v| v.blind_index.clone()))
            .bind(petition.phone.as_ref().map(|v| v.masked.clone()))
            .bind(petition.id_number.as_ref().map(|v| v.ciphertext.clone()))
            .bind(petition.id_number.as_ref().map(|v| v.blind_index.clone()))
            .bind(petition.id_number.as_ref().map(|v| v.masked.clone()))
            .bind(petition.sensitive)
            .bind(&petition.petitioner_key)
            .bind(&petition.matter_key)
            .bind(&petition.category_code)
            .bind(&petition.subject)
            .bind(&petition.content)
            .bind(&petition.region_code)
            .bind(&petition.path)
            .bind(&petition.received_region)
            .bind(&petition.received_path)
            .bind(petition.repeat_flag)
            .bind(petition.skip_level)
            .bind(petition.group_flag)
            .bind(&petition.status)
            .bind(petition.current_due.map(micros))
            .bind(&petition.state)
            .bind(petition.created_by)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| classify(e, "petition"))?;
            let id = row.try_get::<i64, _>("id")?;
            let object = format!("petition:{id}");
            hold_record_key!(tx, idempotency, object.clone(), now);
            insert_record_event!(tx, &object, event);
            let audit: Vec<AuditDraft> = audit.iter().cloned().map(|mut d| { d.object = object.clone(); d }).collect();
            insert_audit!(tx, &audit);
            tx.commit().await?;
            Ok(RecordCreate::Created(id))
        })
    }

    pub async fn get_petition(&self, id: i64) -> StoreResult<Option<PetitionRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {PETITION_COLUMNS} FROM petitions WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            Ok(match row {
                Some(row) => Some(petition_from_row!(row)),
                None => None,
            })
        })
    }

    /// Earlier petitions by the same petitioner or on the same matter since `since` (for the flags; unscoped on
    /// purpose: a repeat is a repeat wherever it was received).
    pub async fn related_petitions(
        &self,
        petitioner_key: Option<&str>,
        matter_key: Option<&str>,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<PetitionRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {PETITION_COLUMNS} FROM petitions WHERE registered_at >= $1 AND (petitioner_key = $2 OR matter_key = $3) ORDER BY id");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(micros(since))
                .bind(petitioner_key.unwrap_or("-"))
                .bind(matter_key.unwrap_or("-"))
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(petition_from_row!(row));
            }
            Ok(out)
        })
    }

    /// Petitions visible by their matter's or receiving path, registered in `[from, to)`.
    pub async fn petitions_in_period(
        &self,
        visibility: &Visibility,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<PetitionRecord>> {
        on_pool!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {PETITION_COLUMNS} FROM petitions WHERE (1=0"));
            for prefix in &visibility.path_prefixes {
                qb.push(" OR path LIKE ").push_bind(format!("{prefix}%"));
                qb.push(" OR received_path LIKE ").push_bind(format!("{prefix}%"));
            }
            qb.push(") AND registered_at >= ").push_bind(micros(from));
            qb.push(" AND registered_at < ").push_bind(micros(to));
            qb.push(" ORDER BY id");
            let mut out = Vec::new();
            for row in qb.build().fetch_all(pool).await? {
                out.push(petition_from_row!(row));
            }
            Ok(out)
        })
    }

    /// Writes a petition step if the petition is still at the version read.
    pub async fn change_petition(
        &self,
        change: &StateChange,
        event: &EventDraft,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        self.change_record("petitions", "current_due", "petition", change, event, audit)
            .await
    }

    /// The history of a record (`petition:ID`, `backlog:ID`).
    pub async fn record_events(&self, object: &str) -> StoreResult<Vec<RecordEvent>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT object, name, from_status, to_status, actor, at, detail FROM record_events WHERE object = $1 ORDER BY id")
                .bind(object)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let detail: String = row.try_get("detail")?;
                out.push(RecordEvent {
                    object: row.try_get("object")?,
                    name: row.try_get("name")?,
                    from_status: row.try_get("from_status")?,
                    to_status: row.try_get("to_status")?,
                    actor: row.try_get("actor")?,
                    at: row.try_get("at")?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                });
            }
            Ok(out)
        })
    }

    /// Village regions under a path (for 零上访村).
    pub async fn villages_under(&self, path: &str) -> StoreResult<Vec<(String, String)>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT code, name FROM regions WHERE level = 'village' AND path LIKE $1 ORDER BY code")
                .bind(format!("{path}%"))
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((row.try_get("code")?, row.try_get("name")?));
            }
            Ok(out)
        })
    }

    // ---------------------------------------------------------------- receptions

    /// Creates a reception schedule for a leader.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_schedule(
        &self,
        leader_user_id: i64,
        region_code: &str,
        place: &str,
        cadence: &str,
        valid_from: &str,
        valid_to: &str,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let path: String = sqlx::query("SELECT path FROM regions WHERE code = $1")
                .bind(region_code)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::MissingReference(format!("region_code {region_code}")))?
                .try_get("path")?;
            let row = sqlx::query("INSERT INTO reception_schedules (leader_user_id, region_code, path, place, cadence, valid_from, valid_to, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(leader_user_id)
                .bind(region_code)
                .bind(&path)
                .bind(place)
                .bind(cadence)
                .bind(valid_from)
                .bind(valid_to)
                .bind(micros(now))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| classify(e, "reception schedule"))?;
            let id = row.try_get::<i64, _>("id")?;
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Schedules visible by path, optionally of one leader.
    pub async fn schedules(
        &self,
        visibility: &Visibility,
        leader_user_id: Option<i64>,
    ) -> StoreResult<Vec<ScheduleRecord>> {
        on_pool!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, leader_user_id, region_code, path, place, cadence, valid_from, valid_to FROM reception_schedules WHERE 1=1");
            push_visibility!(qb, "path", visibility);
            if let Some(leader) = leader_user_id {
                qb.push(" AND leader_user_id = ").push_bind(leader);
            }
            qb.push(" ORDER BY id");
            let mut out = Vec::new();
            for row in qb.build().fetch_all(pool).await? {
                out.push(ScheduleRecord {
                    id: row.try_get("id")?,
                    leader_user_id: row.try_get("leader_user_id")?,
                    region_code: row.try_get("region_code")?,
                    path: row.try_get("path")?,
                    place: row.try_get("place")?,
                    cadence: row.try_get("cadence")?,
                    valid_from: row.try_get("valid_from")?,
                    valid_to: row.try_get("valid_to")?,
                });
            }
            Ok(out)
        })
    }

    /// Adds an appointment (约访) to a schedule.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_appointment(
        &self,
        schedule_id: i64,
        day: &str,
        petitioner: &str,
        matter: &str,
        created_by: i64,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let row = sqlx::query("INSERT INTO reception_appointments (schedule_id, day, petitioner, matter, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(schedule_id)
                .bind(day)
                .bind(petitioner)
                .bind(matter)
                .bind(created_by)
                .bind(micros(now))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| classify(e, "appointment"))?;
            let id = row.try_get::<i64, _>("id")?;
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn appointments(&self, schedule_id: i64) -> StoreResult<Vec<AppointmentRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, schedule_id, day, petitioner, matter FROM reception_appointments WHERE schedule_id = $1 ORDER BY day, id")
                .bind(schedule_id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(AppointmentRecord {
                    id: row.try_get("id")?,
                    schedule_id: row.try_get("schedule_id")?,
                    day: row.try_get("day")?,
                    petitioner: row.try_get("petitioner")?,
                    matter: row.try_get("matter")?,
                });
            }
            Ok(out)
        })
    }

    /// Records a reception held on a schedule's day.
    pub async fn add_reception(
        &self,
        schedule: &ScheduleRecord,
        day: &str,
        notes: &str,
        created_by: i64,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let row = sqlx::query("INSERT INTO receptions (schedule_id, leader_user_id, day, path, notes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(schedule.id)
                .bind(schedule.leader_user_id)
                .bind(day)
                .bind(&schedule.path)
                .bind(notes)
                .bind(created_by)
                .bind(micros(now))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| classify(e, "reception"))?;
            let id = row.try_get::<i64, _>("id")?;
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn receptions(&self, schedule_id: i64) -> StoreResult<Vec<ReceptionRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, schedule_id, leader_user_id, day, path, notes, created_at FROM receptions WHERE schedule_id = $1 ORDER BY day, id")
                .bind(schedule_id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(ReceptionRecord {
                    id: row.try_get("id")?,
                    schedule_id: row.try_get("schedule_id")?,
                    leader_user_id: row.try_get("leader_user_id")?,
                    day: row.try_get("day")?,
                    path: row.try_get("path")?,
                    notes: row.try_get("notes")?,
                    created_at: row.try_get("created_at")?,
                });
            }
            Ok(out)
        })
    }

    pub async fn get_reception(&self, id: i64) -> StoreResult<Option<ReceptionRecord>> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT id, schedule_id, leader_user_id, day, path, notes, created_at FROM receptions WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(ReceptionRecord {
                    id: row.try_get("id")?,
                    schedule_id: row.try_get("schedule_id")?,
                    leader_user_id: row.try_get("leader_user_id")?,
                    day: row.try_get("day")?,
                    path: row.try_get("path")?,
                    notes: row.try_get("notes")?,
                    created_at: row.try_get("created_at")?,
                }),
                None => None,
            })
        })
    }

    /// The petitions raised at a reception.
    pub async fn petitions_of_reception(
        &self,
        reception_id: i64,
    ) -> StoreResult<Vec<PetitionRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {PETITION_COLUMNS} FROM petitions WHERE reception_id = $1 ORDER BY id");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(reception_id).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(petition_from_row!(row));
            }
            Ok(out)
        })
    }

    // ---------------------------------------------------------------- backlog cases

    /// Makes a petition a backlog case owned by a leader.
    pub async fn create_backlog(
        &self,
        petition: &PetitionRecord,
        leader_user_id: i64,
        state: &str,
        now: DateTime<Utc>,
        event: &EventDraft,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let row = sqlx::query("INSERT INTO backlog_cases (petition_id, leader_user_id, path, status, state, version, opened_at, updated_at) VALUES ($1, $2, $3, 'in_progress', $4, 1, $5, $5) RETURNING id")
                .bind(petition.id)
                .bind(leader_user_id)
                .bind(&petition.path)
                .bind(state)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| classify(e, "backlog case of this petition"))?;
            let id = row.try_get::<i64, _>("id")?;
            insert_record_event!(tx, &format!("backlog:{id}"), event);
            insert_record_event!(tx, &format!("petition:{}", petition.id), event);
            let audit: Vec<AuditDraft> = audit.iter().cloned().map(|mut d| { d.object = format!("backlog:{id}"); d }).collect();
            insert_audit!(tx, &audit);
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn get_backlog(&self, id: i64) -> StoreResult<Option<BacklogRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {BACKLOG_COLUMNS} FROM backlog_cases WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            Ok(match row {
                Some(row) => Some(backlog_from_row!(row)),
                None => None,
            })
        })
    }

    /// Backlog cases visible by path, or owned by the given leader.
    pub async fn backlogs(
        &self,
        visibility: &Visibility,
        owner: Option<i64>,
    ) -> StoreResult<Vec<BacklogRecord>> {
        on_pool!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {BACKLOG_COLUMNS} FROM backlog_cases WHERE (1=0"));
            for prefix in &visibility.path_prefixes {
                qb.push(" OR path LIKE ").push_bind(format!("{prefix}%"));
            }
            if let Some(owner) = owner {
                qb.push(" OR leader_user_id = ").push_bind(owner);
            }
            qb.push(") ORDER BY id");
            let mut out = Vec::new();
            for row in qb.build().fetch_all(pool).await? {
                out.push(backlog_from_row!(row));
            }
            Ok(out)
        })
    }

    /// Writes a backlog step if the case is still at the version read.
    pub async fn change_backlog(
        &self,
        change: &StateChange,
        event: &EventDraft,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        self.change_record(
            "backlog_cases",
            "closed_at",
            "backlog",
            change,
            event,
            audit,
        )
        .await
    }

    /// Writes a step of a record kept as a state (`petitions`, `backlog_cases`) if it is still at the version
    /// read: its status, its dated column (`due_or_closed`), state and version, with the history entry under
    /// `KIND:ID` and the audit records, all or nothing.
    async fn change_record(
        &self,
        table: &str,
        dated_column: &str,
        kind: &str,
        change: &StateChange,
        event: &EventDraft,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        let sql = format!(
            "UPDATE {table} SET status = $1, {dated_column} = $2, state = $3, updated_at = $4, version = version + 1 WHERE id = $5 AND version = $6"
        );
        let conflict = match kind {
            "backlog" => "the backlog case changed since it was read".to_string(),
            other => format!("the {other} changed since it was read"),
        };
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let done = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&change.status)
                .bind(change.due_or_closed.map(micros))
                .bind(&change.state)
                .bind(micros(change.at))
                .bind(change.id)
                .bind(change.expected_version)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Err(StoreError::Conflict(conflict));
            }
            insert_record_event!(tx, &format!("{kind}:{}", change.id), event);
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(change.expected_version + 1)
        })
    }
}
