//! Cases in storage: the matter catalog, the working calendar, case rows with their timeline, units,
//! parties and attachments, case numbers, idempotency keys, supervision orders and notifications.

use crate::*;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{QueryBuilder, Row};

use crate::common::micros;
use crate::writer::CreateUnit;

/// A category of the matter catalog as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CategoryRecord {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub case_kind: Option<String>,
    /// `CaseLimits` as JSON.
    pub limits: serde_json::Value,
    /// Default department kind per level, as JSON (`{"town":"police_station"}`).
    pub departments: serde_json::Value,
    pub grid_handles: bool,
    pub auto_dispatch: bool,
    pub pausable: bool,
    pub keywords: String,
    pub active: bool,
}

/// A timeline event to write.
#[derive(Debug, Clone)]
pub struct EventDraft {
    pub name: String,
    pub from_status: String,
    pub to_status: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub detail: serde_json::Value,
}

/// A party to a case (reporter, applicant, respondent …) with sealed personal numbers.
#[derive(Debug, Clone)]
pub struct NewParty {
    pub role: String,
    pub name: String,
    pub phone: Option<SealedValue>,
    pub id_number: Option<SealedValue>,
    pub resident_id: Option<i64>,
}

/// A party as stored.
#[derive(Debug, Clone)]
pub struct PartyRecord {
    pub id: i64,
    pub role: String,
    pub name: String,
    pub phone: Option<SealedValue>,
    pub id_number: Option<SealedValue>,
    pub resident_id: Option<i64>,
}

/// The columns a case's lifecycle keeps current, written on registration and on every transition.
#[derive(Debug, Clone)]
pub struct CaseColumns {
    pub status: String,
    pub category_code: Option<String>,
    pub owner_region: String,
    pub owner_path: String,
    pub lead_unit: Option<String>,
    /// Current units: (unit key, `lead`|`assist`, recorded part).
    pub units: Vec<(String, String, Option<String>)>,
    pub claimed_by: Option<i64>,
    pub leader_owner: Option<i64>,
    pub response_due: Option<DateTime<Utc>>,
    pub handling_due: Option<DateTime<Utc>>,
    pub follow_up_due: Option<DateTime<Utc>>,
    pub feedback_due: Option<DateTime<Utc>>,
    pub clock_paused: bool,
    pub deadline_provisional: bool,
    pub reopen_count: i64,
    pub merged_into: Option<String>,
    pub satisfaction: Option<String>,
    /// The domain case as JSON.
    pub state: String,
    pub accepted_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A case to register.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Region code and local date; the store appends the sequence (`370883107-20261123-0001`).
    pub number_prefix: String,
    pub tracking_hash: String,
    pub kind: String,
    pub channel: String,
    pub urgency: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub address: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub placement: String,
    pub grid_code: Option<String>,
    pub basic_grid_code: Option<String>,
    pub region_code: String,
    pub path: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub columns: CaseColumns,
    pub parties: Vec<NewParty>,
    pub event: EventDraft,
}

/// An idempotency key to hold while registering.
#[derive(Debug, Clone)]
pub struct IdempotencyDraft {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

/// What registering did.
#[derive(Debug, Clone)]
pub enum CreateOutcome {
    Created(Box<CaseRecord>),
    /// The same key and body came before: the case it made.
    Replayed(Box<CaseRecord>),
    /// The same key came before with another body.
    KeyReused,
}

/// A summary of the cases that last changed within a window: how many, and the sums of their ids and versions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionsDigest {
    pub count: i64,
    pub ids: i64,
    pub versions: i64,
}

/// A case row.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRecord {
    pub id: i64,
    pub number: String,
    pub tracking_hash: String,
    pub kind: String,
    pub channel: String,
    pub urgency: String,
    pub status: String,
    pub category_code: Option<String>,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub address: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub placement: String,
    pub grid_code: Option<String>,
    pub basic_grid_code: Option<String>,
    pub region_code: String,
    pub path: String,
    pub owner_region: String,
    pub owner_path: String,
    pub lead_unit: Option<String>,
    pub claimed_by: Option<i64>,
    pub leader_owner: Option<i64>,
    pub response_due: Option<DateTime<Utc>>,
    pub handling_due: Option<DateTime<Utc>>,
    pub follow_up_due: Option<DateTime<Utc>>,
    pub feedback_due: Option<DateTime<Utc>>,
    pub clock_paused: bool,
    pub deadline_provisional: bool,
    pub warning: String,
    pub reopen_count: i64,
    pub merged_into: Option<String>,
    pub satisfaction: Option<String>,
    pub state: String,
    pub version: i64,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// What the full-text index keeps of a case, and the change it was read at.
#[derive(Debug, Clone)]
pub struct CaseSearchFields {
    pub id: i64,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub number: String,
    pub title: String,
    pub description: String,
    pub path: String,
    pub owner_path: String,
    pub status: String,
    pub kind: String,
    pub category_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A timeline event as stored.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    pub id: i64,
    pub name: String,
    pub from_status: String,
    pub to_status: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub detail: serde_json::Value,
}

/// A unit's place on a case.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CaseUnitRecord {
    pub unit_key: String,
    pub role: String,
    pub part: Option<String>,
}

/// A transition to write: the new columns, the event, and what comes with it.
#[derive(Debug, Clone)]
pub struct CaseTransition {
    pub case_id: i64,
    pub expected_version: i64,
    pub columns: CaseColumns,
    pub updated_at: DateTime<Utc>,
    pub event: EventDraft,
    pub supervision: Option<NewSupervision>,
    pub notifications: Vec<NewNotification>,
    pub dispatch: DispatchChange,
}

/// What a transition does to the case's dispatch records (for the response rate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchChange {
    /// The unit answered the open dispatch (a claim or a return).
    pub respond: bool,
    /// Open dispatches end (reassigned, escalated, returned …).
    pub end: bool,
    /// A new dispatch: the unit and its response deadline.
    pub start: Option<(String, Option<DateTime<Utc>>)>,
}

/// A supervision order (督办).
#[derive(Debug, Clone)]
pub struct NewSupervision {
    pub due: DateTime<Utc>,
    pub note: String,
    pub created_by: i64,
}

/// A supervision order as stored.
#[derive(sqlx::FromRow, Debug, Clone, Serialize)]
pub struct SupervisionRecord {
    pub id: i64,
    pub case_id: i64,
    pub due: DateTime<Utc>,
    pub note: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// An in-app notification to a user (`user:ID`) or a unit (`dept:ID`, `grid:CODE`, `region:CODE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub recipient: String,
    pub kind: String,
    pub message: String,
}

/// A notification as stored.
#[derive(sqlx::FromRow, Debug, Clone, Serialize)]
pub struct NotificationRecord {
    pub id: i64,
    pub recipient: String,
    pub case_id: Option<i64>,
    pub kind: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// An attachment's metadata (its bytes live in the attachment storage).
#[derive(sqlx::FromRow, Debug, Clone, Serialize)]
pub struct AttachmentRecord {
    pub id: i64,
    pub case_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
}

/// Which cases a caller may see: located or owned under a path prefix, or sent to one of the units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseVisibility {
    pub path_prefixes: Vec<String>,
    pub units: Vec<String>,
}

impl CaseVisibility {
    /// Whether a case is visible, given its paths and current unit keys.
    pub fn sees(&self, record: &CaseRecord, units: &[CaseUnitRecord]) -> bool {
        self.path_prefixes.iter().any(|p| {
            record.path.starts_with(p.as_str()) || record.owner_path.starts_with(p.as_str())
        }) || units.iter().any(|u| self.units.contains(&u.unit_key))
    }
}

/// Filters for a case list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub statuses: Vec<String>,
    pub kind: Option<String>,
    /// Cases currently with any of these units.
    pub units: Vec<String>,
    pub warning: Option<String>,
    /// A category and its subcategories.
    pub category: Option<String>,
    /// Located or owned under this region path.
    pub region_path: Option<String>,
    pub channel: Option<String>,
    pub tag: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Only cases whose ids are listed (a full-text search's hits).
    pub ids: Option<Vec<i64>>,
    pub sort: CaseSort,
}

/// How a case list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseSort {
    /// Newest first.
    #[default]
    NewestFirst,
    OldestFirst,
    /// Nearest handling deadline first (cases without one last).
    DeadlineFirst,
    /// Most recently changed first.
    RecentlyChanged,
}

impl CaseSort {
    /// The columns the order reads, and the order.
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            CaseSort::NewestFirst => ("id", "ORDER BY id DESC"),
            CaseSort::OldestFirst => ("id", "ORDER BY id"),
            CaseSort::DeadlineFirst => (
                "id, handling_due",
                "ORDER BY handling_due IS NULL, handling_due, id",
            ),
            CaseSort::RecentlyChanged => ("id, updated_at", "ORDER BY updated_at DESC, id DESC"),
        }
    }
}

/// A day of the working calendar as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub kind: String,
    pub name: String,
}

/// A case due for a warning.
#[derive(Debug, Clone)]
pub struct DueCase {
    pub id: i64,
    pub number: String,
    pub warning: String,
    pub lead_unit: Option<String>,
    pub owner_region: String,
    pub handling_due: Option<DateTime<Utc>>,
}

pub(crate) const CASE_COLUMNS: &str = "id, number, tracking_hash, kind, channel, urgency, status, category_code, title, description, tags, address, lng, lat, placement, grid_code, basic_grid_code, region_code, path, owner_region, owner_path, lead_unit, claimed_by, leader_owner, response_due, handling_due, follow_up_due, feedback_due, clock_paused, deadline_provisional, warning, reopen_count, merged_into, satisfaction, state, version, created_by, created_at, updated_at, accepted_at, resolved_at, closed_at";

/// The row a registration wrote, as reading it back would give it (times kept to the microsecond).
fn written_record(case: &NewCase, id: i64, number: String, now: DateTime<Utc>) -> CaseRecord {
    let c = &case.columns;
    CaseRecord {
        id,
        number,
        tracking_hash: case.tracking_hash.clone(),
        kind: case.kind.clone(),
        channel: case.channel.clone(),
        urgency: case.urgency.clone(),
        status: c.status.clone(),
        category_code: c.category_code.clone(),
        title: case.title.clone(),
        description: case.description.clone(),
        tags: case.tags.clone(),
        address: case.address.clone(),
        lng: case.lng,
        lat: case.lat,
        placement: case.placement.clone(),
        grid_code: case.grid_code.clone(),
        basic_grid_code: case.basic_grid_code.clone(),
        region_code: case.region_code.clone(),
        path: case.path.clone(),
        owner_region: c.owner_region.clone(),
        owner_path: c.owner_path.clone(),
        lead_unit: c.lead_unit.clone(),
        claimed_by: c.claimed_by,
        leader_owner: c.leader_owner,
        response_due: c.response_due.map(micros),
        handling_due: c.handling_due.map(micros),
        follow_up_due: c.follow_up_due.map(micros),
        feedback_due: c.feedback_due.map(micros),
        clock_paused: c.clock_paused,
        deadline_provisional: c.deadline_provisional,
        warning: "none".into(),
        reopen_count: c.reopen_count,
        merged_into: c.merged_into.clone(),
        satisfaction: c.satisfaction.clone(),
        state: c.state.clone(),
        version: 1,
        created_by: case.created_by,
        created_at: now,
        updated_at: now,
        accepted_at: c.accepted_at.map(micros),
        resolved_at: c.resolved_at.map(micros),
        closed_at: c.closed_at.map(micros),
    }
}

macro_rules! case_from_row {
    ($row:expr) => {{
        let tags: String = $row.try_get("tags")?;
        CaseRecord {
            id: $row.try_get("id")?,
            number: $row.try_get("number")?,
            tracking_hash: $row.try_get("tracking_hash")?,
            kind: $row.try_get("kind")?,
            channel: $row.try_get("channel")?,
            urgency: $row.try_get("urgency")?,
            status: $row.try_get("status")?,
            category_code: $row.try_get("category_code")?,
            title: $row.try_get("title")?,
            description: $row.try_get("description")?,
            tags: tags.split_whitespace().map(str::to_string).collect(),
            address: $row.try_get("address")?,
            lng: $row.try_get("lng")?,
            lat: $row.try_get("lat")?,
            placement: $row.try_get("placement")?,
            grid_code: $row.try_get("grid_code")?,
            basic_grid_code: $row.try_get("basic_grid_code")?,
            region_code: $row.try_get("region_code")?,
            path: $row.try_get("path")?,
            owner_region: $row.try_get("owner_region")?,
            owner_path: $row.try_get("owner_path")?,
            lead_unit: $row.try_get("lead_unit")?,
            claimed_by: $row.try_get("claimed_by")?,
            leader_owner: $row.try_get("leader_owner")?,
            response_due: $row.try_get("response_due")?,
            handling_due: $row.try_get("handling_due")?,
            follow_up_due: $row.try_get("follow_up_due")?,
            feedback_due: $row.try_get("feedback_due")?,
            clock_paused: $row.try_get("clock_paused")?,
            deadline_provisional: $row.try_get("deadline_provisional")?,
            warning: $row.try_get("warning")?,
            reopen_count: $row.try_get("reopen_count")?,
            merged_into: $row.try_get("merged_into")?,
            satisfaction: $row.try_get("satisfaction")?,
            state: $row.try_get("state")?,
            version: $row.try_get("version")?,
            created_by: $row.try_get("created_by")?,
            created_at: $row.try_get("created_at")?,
            updated_at: $row.try_get("updated_at")?,
            accepted_at: $row.try_get("accepted_at")?,
            resolved_at: $row.try_get("resolved_at")?,
            closed_at: $row.try_get("closed_at")?,
        }
    }};
}

macro_rules! category_from_row {
    ($row:expr) => {{
        let limits: String = $row.try_get("limits")?;
        let departments: String = $row.try_get("departments")?;
        CategoryRecord {
            code: $row.try_get("code")?,
            name: $row.try_get("name")?,
            parent_code: $row.try_get("parent_code")?,
            case_kind: $row.try_get("case_kind")?,
            limits: serde_json::from_str(&limits)
                .map_err(|e| StoreError::Corrupt(format!("category limits: {e}")))?,
            departments: serde_json::from_str(&departments)
                .map_err(|e| StoreError::Corrupt(format!("category departments: {e}")))?,
            grid_handles: $row.try_get("grid_handles")?,
            auto_dispatch: $row.try_get("auto_dispatch")?,
            pausable: $row.try_get("pausable")?,
            keywords: $row.try_get("keywords")?,
            active: $row.try_get("active")?,
        }
    }};
}

/// Writes the current units of a case, each with a copy of the case's status (the inbox reads it there).
macro_rules! write_units {
    ($tx:expr, $case_id:expr, $units:expr, $status:expr) => {{
        sqlx::query("DELETE FROM case_units WHERE case_id = $1")
            .bind($case_id)
            .execute(&mut *$tx)
            .await?;
        insert_units!($tx, $case_id, $units, $status);
    }};
}

/// Inserts a new case's units.
macro_rules! insert_units {
    ($tx:expr, $case_id:expr, $units:expr, $status:expr) => {{
        for (key, role, part) in $units {
            sqlx::query(
                "INSERT INTO case_units (case_id, unit_key, role, part, status) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind($case_id)
            .bind(key)
            .bind(role)
            .bind(part)
            .bind($status)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

macro_rules! insert_event {
    ($tx:expr, $case_id:expr, $event:expr) => {{
        sqlx::query("INSERT INTO case_events (case_id, name, from_status, to_status, actor, at, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind($case_id)
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

/// The subtree under a path prefix as a half-open range `[prefix, upper)`: paths compare byte by byte (the
/// PostgreSQL columns are `COLLATE "C"`), so a plain B-tree serves it, unlike a case-insensitive `LIKE`.
pub(crate) fn prefix_range(prefix: &str) -> (String, String) {
    let mut upper = prefix.to_string();
    match upper.pop() {
        Some(last) => upper.push(char::from_u32(last as u32 + 1).unwrap_or(char::MAX)),
        None => upper.push(char::MAX),
    }
    (prefix.to_string(), upper)
}

/// Pushes `(col >= a1 AND col < b1 OR col >= a2 AND col < b2 …)` for path prefixes (`1=0` for none).
macro_rules! push_ranges {
    ($qb:ident, $column:expr, $prefixes:expr) => {{
        $qb.push("(");
        let mut first = true;
        for prefix in $prefixes.iter() {
            let (low, high) = crate::cases::prefix_range(prefix);
            if !first {
                $qb.push(" OR ");
            }
            first = false;
            $qb.push("(").push($column).push(" >= ").push_bind(low);
            $qb.push(" AND ")
                .push($column)
                .push(" < ")
                .push_bind(high)
                .push(")");
        }
        if first {
            $qb.push("1=0");
        }
        $qb.push(")");
    }};
}

/// Pushes `<column> IN (the ids)` with the ids as one bound value (a JSON array on SQLite, an array on
/// PostgreSQL): one statement text for any number of ids, which each backend prepares once, instead of a
/// statement of its own, with a bind each, for every count.
///
/// On PostgreSQL the ids are a subquery over `unnest`, not `= ANY(array)`: the array arrives as text, so
/// the planner cannot hash it, and a sequential scan tests every row against every id. The search
/// indexer's batches of up to 2,000 ids made that cost 0.4–0.8 s a poll on a young table, most of
/// PostgreSQL's CPU under intake. A semi-join is a hash or an index lookup per id.
macro_rules! push_in_ids {
    ($qb:ident, $sqlite:expr, $column:expr, $ids:expr) => {{
        let ids: &[i64] = $ids;
        let listed = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        $qb.push($column);
        if $sqlite {
            $qb.push(" IN (SELECT value FROM json_each(")
                .push_bind(format!("[{listed}]"))
                .push("))");
        } else {
            $qb.push(" IN (SELECT unnest(CAST(")
                .push_bind(format!("{{{listed}}}"))
                .push(" AS bigint[])))");
        }
    }};
}

/// Pushes `<joiner>id IN (cases mediated by the committees)` for the visibility's `committee:ID` units: a
/// mediation committee sees the cases its mediations are about. Nothing without committees.
macro_rules! push_committee_cases {
    ($qb:ident, $visibility:expr, $joiner:expr) => {{
        let committees: Vec<i64> = $visibility
            .units
            .iter()
            .filter_map(|u| u.strip_prefix("committee:").and_then(|id| id.parse().ok()))
            .collect();
        if !committees.is_empty() {
            $qb.push($joiner)
                .push("id IN (SELECT case_id FROM mediations WHERE committee_id IN (");
            let mut separated = $qb.separated(", ");
            for id in &committees {
                separated.push_bind(*id);
            }
            $qb.push("))");
        }
    }};
}

/// Appends `AND (visible)` for cases, in one condition (for small result sets; lists use
/// [`push_visible_cases!`]).
macro_rules! push_case_visibility {
    ($qb:ident, $visibility:expr) => {{
        let v = &$visibility;
        $qb.push(" AND (");
        push_ranges!($qb, "path", v.path_prefixes);
        $qb.push(" OR ");
        push_ranges!($qb, "owner_path", v.path_prefixes);
        if !v.units.is_empty() {
            $qb.push(" OR id IN (SELECT case_id FROM case_units WHERE unit_key IN (");
            let mut separated = $qb.separated(", ");
            for unit in &v.units {
                separated.push_bind(unit.clone());
            }
            $qb.push("))");
        }
        push_committee_cases!($qb, v, " OR ");
        $qb.push(")");
    }};
}

/// The status condition of the partial indexes on open cases (migrations 0003 and 0008), written verbatim in
/// queries that may use them: SQLite takes a partial index only when the query repeats its condition. Plain
/// comparisons, not `NOT IN`, which SQLite evaluated with a temporary table for every inserted row.
pub(crate) const OPEN_CONDITION: &str =
    "status <> 'closed' AND status <> 'archived' AND status <> 'rejected' AND status <> 'merged'";

/// The condition of the indexes on owners (migrations 0007 and 0008), written verbatim where they may serve:
/// the case is owned by a region that is not its place or above it. A case owned where it lies, or above, is
/// found by its place whenever it is found by its owner, so those indexes leave it out, and registrations
/// (owned by their town or county) write no entry to them. Paths hold only digits and `/`, so "the owner's
/// path does not start the path" is a pair of byte comparisons: no function call, which would make SQLite
/// keep a statement journal for every multi-row insert into `cases`.
pub(crate) const OWNED_ELSEWHERE: &str = "(path < owner_path OR path >= owner_path || '~')";

/// Pushes a SELECT of `$columns` (a string, or `columns: { … }` pushing them) over the visible cases as a UNION ALL of disjoint parts that indexes serve:
/// located under a visible path; else owned under one (only cases owned away from their place can be, see
/// [`OWNED_ELSEWHERE`]); else with one of the visible units (narrowed to `$unit_statuses` when not empty,
/// which must then also be a filter). The `$filters` block pushes ` AND …` conditions on `cases` columns; it
/// runs once per part, with the part's number (0 located, 1 owned, 2 with a unit) bound to the name given.
macro_rules! push_visible_cases {
    ($qb:ident, $columns:expr, $visibility:expr, $unit_statuses:expr, |$part:ident| $filters:block) => {
        push_visible_cases!($qb, columns: { $qb.push($columns); }, $visibility, $unit_statuses, |$part| $filters)
    };
    ($qb:ident, columns: $columns:block, $visibility:expr, $unit_statuses:expr, |$part:ident| $filters:block) => {{
        let v = &$visibility;
        let unit_statuses: &[String] = &$unit_statuses;
        let mut parts = 0;
        for part in 0..3u8 {
            let present = if part < 2 {
                !v.path_prefixes.is_empty()
            } else {
                !v.units.is_empty()
            };
            if !present {
                continue;
            }
            if parts > 0 {
                $qb.push(" UNION ALL ");
            }
            parts += 1;
            $qb.push("SELECT ");
            $columns
            $qb.push(" FROM cases WHERE ");
            match part {
                0 => push_ranges!($qb, "path", v.path_prefixes),
                1 => {
                    push_ranges!($qb, "owner_path", v.path_prefixes);
                    $qb.push(" AND NOT ");
                    push_ranges!($qb, "path", v.path_prefixes);
                    $qb.push(" AND ").push(crate::cases::OWNED_ELSEWHERE);
                }
                _ => {
                    $qb.push("(id IN (SELECT case_id FROM case_units WHERE unit_key IN (");
                    let mut separated = $qb.separated(", ");
                    for unit in &v.units {
                        separated.push_bind(unit.clone());
                    }
                    $qb.push(")");
                    if !unit_statuses.is_empty() {
                        $qb.push(" AND status IN (");
                        let mut separated = $qb.separated(", ");
                        for status in unit_statuses {
                            separated.push_bind(status.clone());
                        }
                        $qb.push(")");
                    }
                    $qb.push(")");
                    push_committee_cases!($qb, v, " OR ");
                    $qb.push(")");
                    if !v.path_prefixes.is_empty() {
                        $qb.push(" AND NOT ");
                        push_ranges!($qb, "path", v.path_prefixes);
                        $qb.push(" AND NOT ");
                        push_ranges!($qb, "owner_path", v.path_prefixes);
                    }
                }
            }
            let $part = part;
            $filters
        }
        if parts == 0 {
            $qb.push("SELECT ");
            $columns
            $qb.push(" FROM cases WHERE 1=0");
        }
    }};
}

/// Statuses in which a case is still being worked (all but closed, archived, rejected and merged).
pub(crate) const OPEN_STATUSES: [&str; 7] = [
    "registered",
    "accepted",
    "dispatched",
    "in_progress",
    "returned",
    "resolved",
    "awaiting_follow_up",
];

/// Pushes a case list's filters as ` AND …` conditions (`$open_only`: repeat the open-index condition;
/// `$units_part`: for the part of [`push_visible_cases!`] that starts from the units).
macro_rules! push_case_filters {
    ($qb:ident, $filter:expr, $open_only:expr, $units_part:expr) => {{
        let filter = &$filter;
        // In the units part the unit's copied status selects the rows; the case's own status is checked again
        // in a form no index serves, so the planner starts from the units.
        let units_part: bool = $units_part;
        if $open_only && !units_part {
            $qb.push(" AND ").push(crate::cases::OPEN_CONDITION);
        }
        if !filter.statuses.is_empty() {
            $qb.push(if units_part {
                " AND status || '' IN ("
            } else {
                " AND status IN ("
            });
            let mut separated = $qb.separated(", ");
            for status in &filter.statuses {
                separated.push_bind(status.clone());
            }
            $qb.push(")");
        }
        if let Some(kind) = &filter.kind {
            $qb.push(" AND kind = ").push_bind(kind.clone());
        }
        if !filter.units.is_empty() {
            $qb.push(" AND id IN (SELECT case_id FROM case_units WHERE unit_key IN (");
            let mut separated = $qb.separated(", ");
            for unit in &filter.units {
                separated.push_bind(unit.clone());
            }
            $qb.push(")");
            if !filter.statuses.is_empty() {
                $qb.push(" AND status IN (");
                let mut separated = $qb.separated(", ");
                for status in &filter.statuses {
                    separated.push_bind(status.clone());
                }
                $qb.push(")");
            }
            $qb.push(")");
        }
        if let Some(warning) = &filter.warning {
            $qb.push(" AND warning = ").push_bind(warning.clone());
        }
        if let Some(category) = &filter.category {
            $qb.push(" AND (category_code = ")
                .push_bind(category.clone());
            $qb.push(" OR category_code LIKE ")
                .push_bind(format!("{category}.%"))
                .push(")");
        }
        if let Some(path) = &filter.region_path {
            let prefixes = [path.clone()];
            $qb.push(" AND (");
            push_ranges!($qb, "path", prefixes);
            $qb.push(" OR ");
            push_ranges!($qb, "owner_path", prefixes);
            $qb.push(")");
        }
        if let Some(channel) = &filter.channel {
            $qb.push(" AND channel = ").push_bind(channel.clone());
        }
        if let Some(tag) = &filter.tag {
            $qb.push(" AND (' ' || tags || ' ') LIKE ")
                .push_bind(format!("% {tag} %"));
        }
        if let Some(from) = filter.created_from {
            $qb.push(" AND created_at >= ").push_bind(micros(from));
        }
        if let Some(to) = filter.created_to {
            $qb.push(" AND created_at < ").push_bind(micros(to));
        }
        if let Some(ids) = &filter.ids {
            if ids.is_empty() {
                $qb.push(" AND 1=0");
            } else {
                $qb.push(" AND id IN (");
                let mut separated = $qb.separated(", ");
                for id in ids {
                    separated.push_bind(*id);
                }
                $qb.push(")");
            }
        }
    }};
}

/// A case's number: its prefix (owning region and local date) and its sequence of the day.
pub(crate) fn case_number(prefix: &str, seq: i64) -> String {
    format!("{prefix}-{seq:04}")
}

/// Numbers this PostgreSQL server takes from `case_numbers` a block at a time.
const NUMBER_BLOCK: i64 = 16;

/// Case numbers for PostgreSQL, handed out from blocks of `NUMBER_BLOCK` a server reserves in one short
/// statement of its own. Numbers stay unique across servers; a block left unused at a restart leaves a gap,
/// which DESIGN.md allows ("unique, readable and may have gaps").
#[derive(Debug, Default)]
pub(crate) struct NumberBlocks {
    /// Per prefix: the next number to hand out and the block's last.
    blocks: std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>,
}

impl NumberBlocks {
    fn take(&self, prefix: &str) -> Option<i64> {
        let mut blocks = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
        let (next, last) = blocks.get_mut(prefix)?;
        if *next > *last {
            return None;
        }
        *next += 1;
        Some(*next - 1)
    }

    pub(crate) async fn next(&self, pool: &sqlx::PgPool, prefix: &str) -> StoreResult<String> {
        if let Some(seq) = self.take(prefix) {
            return Ok(case_number(prefix, seq));
        }
        let last: i64 = sqlx::query(
            "INSERT INTO case_numbers (prefix, last) VALUES ($1, $2) \
             ON CONFLICT (prefix) DO UPDATE SET last = case_numbers.last + excluded.last RETURNING last",
        )
        .bind(prefix)
        .bind(NUMBER_BLOCK)
        .fetch_one(pool)
        .await?
        .try_get("last")?;
        let first = last - NUMBER_BLOCK + 1;
        let mut blocks = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
        // Prefixes carry the date: yesterday's blocks are of no more use.
        if blocks.len() > 10_000 {
            blocks.clear();
        }
        blocks.insert(prefix.to_string(), (first + 1, last));
        Ok(case_number(prefix, first))
    }
}

/// Recomputes a case's response-rate columns from its dispatch records (after they changed).
const RESPONSE_COLUMNS_UPDATE: &str = "UPDATE cases SET \
    responses_on_time = (SELECT COUNT(*) FROM case_dispatches d WHERE d.case_id = cases.id \
        AND d.responded_at IS NOT NULL AND d.response_due IS NOT NULL AND d.responded_at <= d.response_due), \
    responses_counted = (SELECT COUNT(*) FROM case_dispatches d WHERE d.case_id = cases.id \
        AND (d.responded_at IS NOT NULL OR (d.response_due IS NOT NULL AND d.ended_at IS NOT NULL AND d.ended_at > d.response_due))), \
    response_open_due = (SELECT MIN(d.response_due) FROM case_dispatches d WHERE d.case_id = cases.id \
        AND d.responded_at IS NULL AND d.ended_at IS NULL) \
    WHERE id = $1";

/// The columns a new case is inserted with, in the order `bind_new_case!` binds them ($1 … $38, with `version`
/// written as 1 between $31 and $32 and `updated_at` as $33 again).
macro_rules! new_case_columns {
    () => {
        "number, tracking_hash, kind, channel, urgency, status, category_code, title, description, tags, address, lng, lat, \
         placement, grid_code, basic_grid_code, region_code, path, owner_region, owner_path, lead_unit, claimed_by, leader_owner, \
         response_due, handling_due, follow_up_due, deadline_provisional, reopen_count, merged_into, satisfaction, state, version, \
         created_by, created_at, updated_at, accepted_at, resolved_at, closed_at, feedback_due, clock_paused"
    };
}
pub(crate) use new_case_columns;

/// Binds a new case's values $1 … $38 to `$query` (see `new_case_columns!`).
macro_rules! bind_new_case {
    ($query:expr, $case:expr, $number:expr, $now:expr) => {{
        let c = &$case.columns;
        $query
            .bind(&$number)
            .bind(&$case.tracking_hash)
            .bind(&$case.kind)
            .bind(&$case.channel)
            .bind(&$case.urgency)
            .bind(&c.status)
            .bind(&c.category_code)
            .bind(&$case.title)
            .bind(&$case.description)
            .bind($case.tags.join(" "))
            .bind(&$case.address)
            .bind($case.lng)
            .bind($case.lat)
            .bind(&$case.placement)
            .bind(&$case.grid_code)
            .bind(&$case.basic_grid_code)
            .bind(&$case.region_code)
            .bind(&$case.path)
            .bind(&c.owner_region)
            .bind(&c.owner_path)
            .bind(&c.lead_unit)
            .bind(c.claimed_by)
            .bind(c.leader_owner)
            .bind(c.response_due.map(micros))
            .bind(c.handling_due.map(micros))
            .bind(c.follow_up_due.map(micros))
            .bind(c.deadline_provisional)
            .bind(c.reopen_count)
            .bind(&c.merged_into)
            .bind(&c.satisfaction)
            .bind(&c.state)
            .bind($case.created_by)
            .bind($now)
            .bind(c.accepted_at.map(micros))
            .bind(c.resolved_at.map(micros))
            .bind(c.closed_at.map(micros))
            .bind(c.feedback_due.map(micros))
            .bind(c.clock_paused)
    }};
}
pub(crate) use bind_new_case;

/// One registration's writes, on a connection inside a transaction the caller owns (its own, or a group
/// commit's savepoint). Evaluates to what it did; writes nothing else on an idempotent replay. `$number` is a
/// number already handed out (PostgreSQL, `NumberBlocks`), or None to take the next one of its prefix here.
/// The object of a registration's audit record: the new case, unless the record names another.
pub(crate) fn registration_audit_object(draft: &AuditDraft, number: &str) -> String {
    match draft.object.as_str() {
        "" => format!("case:{number}"),
        named => named.to_string(),
    }
}

macro_rules! create_case_unit {
    ($conn:ident, $case:expr, $idempotency:expr, $audit:expr, $now:expr, $number:expr) => {
        async {
            if let Some(key) = $idempotency {
                let inserted = sqlx::query("INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) DO NOTHING")
                    .bind(&key.scope)
                    .bind(&key.key)
                    .bind(&key.request_hash)
                    .bind($now)
                    .execute(&mut *$conn)
                    .await?
                    .rows_affected();
                if inserted == 0 {
                    let row = sqlx::query("SELECT request_hash, case_id FROM idempotency_keys WHERE scope = $1 AND key = $2")
                        .bind(&key.scope)
                        .bind(&key.key)
                        .fetch_one(&mut *$conn)
                        .await?;
                    let hash: String = row.try_get("request_hash")?;
                    let case_id: Option<i64> = row.try_get("case_id")?;
                    return Ok(CreateUnit::Existing { same_body: hash == key.request_hash, case_id });
                }
            }
            let number = match $number {
                Some(number) => number,
                None => {
                    let seq: i64 = sqlx::query("INSERT INTO case_numbers (prefix, last) VALUES ($1, 1) ON CONFLICT (prefix) DO UPDATE SET last = case_numbers.last + 1 RETURNING last")
                        .bind(&$case.number_prefix)
                        .fetch_one(&mut *$conn)
                        .await?
                        .try_get("last")?;
                    case_number(&$case.number_prefix, seq)
                }
            };
            let c = &$case.columns;
            let query = sqlx::query(concat!(
                "INSERT INTO cases (",
                new_case_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, 1, $32, $33, $33, $34, $35, $36, $37, $38) RETURNING id",
            ));
            let id: i64 = bind_new_case!(query, $case, number, $now)
            .fetch_one(&mut *$conn)
            .await
            .map_err(|e| classify(e, "case"))?
            .try_get("id")?;
            insert_units!($conn, id, &c.units, &c.status);
            for party in &$case.parties {
                sqlx::query(
                    "INSERT INTO case_parties (case_id, role, name, phone_enc, phone_hash, phone_mask, id_number_enc, id_number_hash, id_number_mask, resident_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(id)
                .bind(&party.role)
                .bind(&party.name)
                .bind(party.phone.as_ref().map(|v| v.ciphertext.clone()))
                .bind(party.phone.as_ref().map(|v| v.blind_index.clone()))
                .bind(party.phone.as_ref().map(|v| v.masked.clone()))
                .bind(party.id_number.as_ref().map(|v| v.ciphertext.clone()))
                .bind(party.id_number.as_ref().map(|v| v.blind_index.clone()))
                .bind(party.id_number.as_ref().map(|v| v.masked.clone()))
                .bind(party.resident_id)
                .execute(&mut *$conn)
                .await
                .map_err(|e| classify(e, "party"))?;
            }
            insert_event!($conn, id, $case.event);
            if let Some(key) = $idempotency {
                sqlx::query("UPDATE idempotency_keys SET case_id = $1 WHERE scope = $2 AND key = $3")
                    .bind(id)
                    .bind(&key.scope)
                    .bind(&key.key)
                    .execute(&mut *$conn)
                    .await?;
            }
            let mut audit = $audit.to_vec();
            for draft in &mut audit {
                draft.object = registration_audit_object(draft, &number);
            }
            insert_audit!($conn, &audit);
            Ok::<CreateUnit, StoreError>(CreateUnit::Created(id, number))
        }
    };
}

impl Store {
    // ---------------------------------------------------------------- catalog

    /// Inserts or replaces categories (parents first), all or nothing.
    pub async fn upsert_categories(
        &self,
        categories: &[CategoryRecord],
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<usize> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            for c in categories {
                sqlx::query(
                    "INSERT INTO categories (code, name, parent_code, case_kind, limits, departments, grid_handles, auto_dispatch, pausable, keywords, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, case_kind = excluded.case_kind, \
                     limits = excluded.limits, departments = excluded.departments, grid_handles = excluded.grid_handles, \
                     auto_dispatch = excluded.auto_dispatch, pausable = excluded.pausable, keywords = excluded.keywords, \
                     active = excluded.active, updated_at = excluded.updated_at",
                )
                .bind(&c.code)
                .bind(&c.name)
                .bind(&c.parent_code)
                .bind(&c.case_kind)
                .bind(c.limits.to_string())
                .bind(c.departments.to_string())
                .bind(c.grid_handles)
                .bind(c.auto_dispatch)
                .bind(c.pausable)
                .bind(&c.keywords)
                .bind(c.active)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, &format!("category {}", c.code)))?;
            }
            insert_audit!(tx, audit);
            tx.commit().await?;
            self.reference().clear();
            Ok(categories.len())
        })
    }

    /// A category (cached; see `reference.rs`).
    pub async fn get_category(&self, code: &str) -> StoreResult<Option<CategoryRecord>> {
        self.cached::<crate::reference::Categories, _, _, _>(
            code.to_string(),
            self.load_category(code),
        )
        .await
    }

    async fn load_category(&self, code: &str) -> StoreResult<Option<CategoryRecord>> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT * FROM categories WHERE code = $1").bind(code).fetch_optional(pool).await?;
            Ok(match row {
                Some(row) => Some(category_from_row!(row)),
                None => None,
            })
        })
    }

    pub async fn list_categories(&self) -> StoreResult<Vec<CategoryRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT * FROM categories ORDER BY code").fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(category_from_row!(row));
            }
            Ok(out)
        })
    }

    // ---------------------------------------------------------------- calendar

    /// The stored working-calendar overrides and the years they cover.
    pub async fn calendar(&self) -> StoreResult<(Vec<CalendarDay>, Vec<i32>)> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT day, kind, name FROM calendar_days ORDER BY day").fetch_all(pool).await?;
            let mut days = Vec::with_capacity(rows.len());
            for row in rows {
                days.push(CalendarDay { day: row.try_get("day")?, kind: row.try_get("kind")?, name: row.try_get("name")? });
            }
            let years = sqlx::query("SELECT year FROM calendar_years ORDER BY year").fetch_all(pool).await?;
            let mut out = Vec::new();
            for row in years {
                out.push(row.try_get::<i32, _>("year")?);
            }
            Ok((days, out))
        })
    }

    /// Replaces the overrides of the given years (a published notice), all or nothing.
    pub async fn save_calendar_years(
        &self,
        years: &[i32],
        days: &[CalendarDay],
        version: i32,
        source: &str,
        now: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> StoreResult<()> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            for year in years {
                sqlx::query("DELETE FROM calendar_days WHERE year = $1").bind(*year).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO calendar_years (year, version, source, imported_at) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (year) DO UPDATE SET version = excluded.version, source = excluded.source, imported_at = excluded.imported_at")
                    .bind(*year)
                    .bind(version)
                    .bind(source)
                    .bind(micros(now))
                    .execute(&mut *tx)
                    .await?;
            }
            for day in days {
                use chrono::Datelike;
                sqlx::query("INSERT INTO calendar_days (day, kind, name, year, version) VALUES ($1, $2, $3, $4, $5)")
                    .bind(day.day)
                    .bind(&day.kind)
                    .bind(&day.name)
                    .bind(day.day.year())
                    .bind(version)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| classify(e, &format!("calendar day {}", day.day)))?;
            }
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    // ---------------------------------------------------------------- cases

    /// Registers a case: its number, row, parties, first event and audit, and the idempotency key if given —
    /// all or nothing. A key seen before returns the case it made (same body) or `KeyReused` (another body).
    pub async fn create_case(
        &self,
        case: &NewCase,
        idempotency: Option<&IdempotencyDraft>,
        audit: &[AuditDraft],
    ) -> StoreResult<CreateOutcome> {
        let now = micros(case.created_at);
        let unit = match self {
            Store::Sqlite(s) => {
                // Group commit: the one SQLite writer runs this unit in a savepoint of a shared transaction and
                // answers after the COMMIT that made it durable.
                // One copy of the registration, shared by the batch and by the unit of its fallback.
                let data = std::sync::Arc::new(crate::intake_batch::CreateJob {
                    case: case.clone(),
                    idempotency: idempotency.cloned(),
                    audit: audit.to_vec(),
                    now,
                });
                let job = std::sync::Arc::clone(&data);
                s.writer
                    .run(
                        Some(data),
                        Box::new(move |conn| {
                            Box::pin(async move {
                                create_case_unit!(
                                    conn,
                                    job.case,
                                    job.idempotency.as_ref(),
                                    job.audit,
                                    job.now,
                                    None::<String>
                                )
                                .await
                            })
                        }),
                    )
                    .await?
            }
            Store::Postgres(s) => {
                // The number comes first, outside the transaction: taking it inside would hold its prefix's
                // row lock until the commit and queue every registration of the town on that day behind it.
                let number = s.numbers.next(&s.pool, &case.number_prefix).await?;
                let fast = crate::pg_intake::create_in_one_statement(
                    &s.pool,
                    case,
                    &number,
                    idempotency,
                    audit,
                    now,
                )
                .await;
                let unit = match fast {
                    Some(id) => Ok(CreateUnit::Created(id, number)),
                    None => {
                        let mut tx = s.pool.begin().await?;
                        let unit =
                            create_case_unit!(tx, case, idempotency, audit, now, Some(number))
                                .await;
                        match &unit {
                            Ok(CreateUnit::Created(..)) => tx.commit().await?,
                            _ => tx.rollback().await?,
                        }
                        unit
                    }
                };
                unit?
            }
        };
        match unit {
            CreateUnit::Created(id, number) => Ok(CreateOutcome::Created(Box::new(
                written_record(case, id, number, now),
            ))),
            CreateUnit::Existing {
                same_body: true,
                case_id: Some(id),
            } => match self.get_case(id).await? {
                Some(record) => Ok(CreateOutcome::Replayed(Box::new(record))),
                None => Err(StoreError::NotFound),
            },
            CreateUnit::Existing {
                same_body: true,
                case_id: None,
            } => Err(StoreError::Conflict("idempotency key in use".into())),
            CreateUnit::Existing {
                same_body: false, ..
            } => Ok(CreateOutcome::KeyReused),
        }
    }

    pub async fn get_case(&self, id: i64) -> StoreResult<Option<CaseRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
            Ok(match row {
                Some(row) => Some(case_from_row!(row)),
                None => None,
            })
        })
    }

    pub async fn get_case_by_number(&self, number: &str) -> StoreResult<Option<CaseRecord>> {
        on_pool!(self, pool => {
            let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE number = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(number).fetch_optional(pool).await?;
            Ok(match row {
                Some(row) => Some(case_from_row!(row)),
                None => None,
            })
        })
    }

    pub async fn case_units(&self, case_id: i64) -> StoreResult<Vec<CaseUnitRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT unit_key, role, part FROM case_units WHERE case_id = $1 ORDER BY role DESC, unit_key")
                .bind(case_id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(CaseUnitRecord { unit_key: row.try_get("unit_key")?, role: row.try_get("role")?, part: row.try_get("part")? });
            }
            Ok(out)
        })
    }

    pub async fn case_events(&self, case_id: i64) -> StoreResult<Vec<EventRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, name, from_status, to_status, actor, at, detail FROM case_events WHERE case_id = $1 ORDER BY id")
                .bind(case_id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let detail: String = row.try_get("detail")?;
                out.push(EventRecord {
                    id: row.try_get("id")?,
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

    pub async fn case_parties(&self, case_id: i64) -> StoreResult<Vec<PartyRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, role, name, phone_enc, phone_hash, phone_mask, id_number_enc, id_number_hash, id_number_mask, resident_id FROM case_parties WHERE case_id = $1 ORDER BY id")
                .bind(case_id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(PartyRecord {
                    id: row.try_get("id")?,
                    role: row.try_get("role")?,
                    name: row.try_get("name")?,
                    phone: sealed_from_row!(row, "phone"),
                    id_number: sealed_from_row!(row, "id_number"),
                    resident_id: row.try_get("resident_id")?,
                });
            }
            Ok(out)
        })
    }

    /// Writes a transition if the case is still at `expected_version`; otherwise `Conflict` (someone else
    /// acted first) and nothing is written.
    pub async fn transition_case(
        &self,
        t: &CaseTransition,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        let now = micros(t.updated_at);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let c = &t.columns;
            let done = sqlx::query(
                "UPDATE cases SET status = $1, category_code = $2, owner_region = $3, owner_path = $4, lead_unit = $5, claimed_by = $6, \
                 leader_owner = $7, response_due = $8, handling_due = $9, follow_up_due = $10, deadline_provisional = $11, reopen_count = $12, \
                 merged_into = $13, satisfaction = $14, state = $15, accepted_at = $16, resolved_at = $17, closed_at = $18, updated_at = $19, \
                 feedback_due = $22, clock_paused = $23, \
                 warning = CASE WHEN $1 IN ('closed', 'archived', 'rejected', 'merged') THEN 'none' \
                 WHEN warning = 'return_escalated' AND $1 <> 'returned' THEN 'none' \
                 WHEN handling_due IS DISTINCT FROM $9 AND ($9 IS NULL OR $9 > $19) THEN 'none' ELSE warning END, \
                 version = version + 1 WHERE id = $20 AND version = $21",
            )
            .bind(&c.status)
            .bind(&c.category_code)
            .bind(&c.owner_region)
            .bind(&c.owner_path)
            .bind(&c.lead_unit)
            .bind(c.claimed_by)
            .bind(c.leader_owner)
            .bind(c.response_due.map(micros))
            .bind(c.handling_due.map(micros))
            .bind(c.follow_up_due.map(micros))
            .bind(c.deadline_provisional)
            .bind(c.reopen_count)
            .bind(&c.merged_into)
            .bind(&c.satisfaction)
            .bind(&c.state)
            .bind(c.accepted_at.map(micros))
            .bind(c.resolved_at.map(micros))
            .bind(c.closed_at.map(micros))
            .bind(now)
            .bind(t.case_id)
            .bind(t.expected_version)
            .bind(c.feedback_due.map(micros))
            .bind(c.clock_paused)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, "case"))?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Err(StoreError::Conflict("the case changed since it was read".into()));
            }
            write_units!(tx, t.case_id, &c.units, &c.status);
            insert_event!(tx, t.case_id, t.event);
            if t.dispatch.respond {
                sqlx::query("UPDATE case_dispatches SET responded_at = $1 WHERE case_id = $2 AND responded_at IS NULL AND ended_at IS NULL")
                    .bind(now)
                    .bind(t.case_id)
                    .execute(&mut *tx)
                    .await?;
            }
            if t.dispatch.end {
                sqlx::query("UPDATE case_dispatches SET ended_at = $1 WHERE case_id = $2 AND ended_at IS NULL")
                    .bind(now)
                    .bind(t.case_id)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some((unit, due)) = &t.dispatch.start {
                sqlx::query("INSERT INTO case_dispatches (case_id, unit_key, dispatched_at, response_due) VALUES ($1, $2, $3, $4)")
                    .bind(t.case_id)
                    .bind(unit)
                    .bind(now)
                    .bind(due.map(micros))
                    .execute(&mut *tx)
                    .await?;
            }
            if t.dispatch != DispatchChange::default() {
                sqlx::query(RESPONSE_COLUMNS_UPDATE).bind(t.case_id).execute(&mut *tx).await?;
            }
            if let Some(order) = &t.supervision {
                sqlx::query("INSERT INTO supervision_orders (case_id, due, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(t.case_id)
                    .bind(micros(order.due))
                    .bind(&order.note)
                    .bind(order.created_by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            if c.status == "closed" || c.status == "archived" || c.status == "merged" || c.status == "rejected" {
                sqlx::query("UPDATE supervision_orders SET closed_at = $1 WHERE case_id = $2 AND closed_at IS NULL")
                    .bind(now)
                    .bind(t.case_id)
                    .execute(&mut *tx)
                    .await?;
            }
            for n in &t.notifications {
                sqlx::query("INSERT INTO notifications (recipient, case_id, kind, message, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&n.recipient)
                    .bind(t.case_id)
                    .bind(&n.kind)
                    .bind(&n.message)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(t.expected_version + 1)
        })
    }

    /// Cases visible to the caller, filtered, sorted and paged, with the total.
    pub async fn list_cases(
        &self,
        visibility: &CaseVisibility,
        filter: &CaseFilter,
        page: Page,
    ) -> StoreResult<Paged<CaseRecord>> {
        // Name the statuses whenever they are all open, so the partial indexes on open cases serve the list:
        // a warning (due soon, overdue, escalated return) is cleared when a case reaches a final status.
        let mut named;
        let filter = if filter.statuses.is_empty() && filter.warning.is_some() {
            named = filter.clone();
            named.statuses = OPEN_STATUSES.iter().map(|s| s.to_string()).collect();
            &named
        } else {
            filter
        };
        let open_only = !filter.statuses.is_empty()
            && filter
                .statuses
                .iter()
                .all(|s| OPEN_STATUSES.contains(&s.as_str()));
        let (sort_columns, order) = filter.sort.keys();
        on_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT COUNT(*) AS n FROM (");
            push_visible_cases!(qb, "id", visibility, filter.statuses, |part| {
                push_case_filters!(qb, filter, open_only, part == 2);
            });
            qb.push(") AS v");
            let total: i64 = qb.build().fetch_one(pool).await?.try_get("n")?;
            let mut items = Vec::new();
            if total > page.offset && page.limit > 0 {
                let mut qb = QueryBuilder::new(format!(
                    "SELECT {CASE_COLUMNS} FROM cases WHERE id IN (SELECT id FROM ("
                ));
                push_visible_cases!(qb, sort_columns, visibility, filter.statuses, |part| {
                    push_case_filters!(qb, filter, open_only, part == 2);
                });
                qb.push(") AS v ").push(order);
                qb.push(" LIMIT ").push_bind(page.limit);
                qb.push(" OFFSET ").push_bind(page.offset);
                qb.push(") ").push(order);
                for row in qb.build().fetch_all(pool).await? {
                    items.push(case_from_row!(row));
                }
            }
            Ok(Paged { items, total })
        })
    }

    /// Recent cases near a point or from the same phone/ID number, for duplicate hints at intake.
    pub async fn possible_duplicates(
        &self,
        visibility: &CaseVisibility,
        since: DateTime<Utc>,
        near: Option<(f64, f64, f64)>,
        party_hashes: &[String],
        limit: i64,
    ) -> StoreResult<Vec<CaseRecord>> {
        on_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {CASE_COLUMNS} FROM cases WHERE status NOT IN ('merged', 'rejected')"));
            qb.push(" AND created_at >= ").push_bind(micros(since));
            push_case_visibility!(qb, visibility);
            qb.push(" AND (1=0");
            if let Some((lng, lat, degrees)) = near {
                qb.push(" OR (lng BETWEEN ").push_bind(lng - degrees).push(" AND ").push_bind(lng + degrees);
                qb.push(" AND lat BETWEEN ").push_bind(lat - degrees).push(" AND ").push_bind(lat + degrees).push(")");
            }
            if !party_hashes.is_empty() {
                qb.push(" OR id IN (SELECT case_id FROM case_parties WHERE phone_hash IN (");
                let mut separated = qb.separated(", ");
                for hash in party_hashes {
                    separated.push_bind(hash.clone());
                }
                qb.push(") OR id_number_hash IN (");
                let mut separated = qb.separated(", ");
                for hash in party_hashes {
                    separated.push_bind(hash.clone());
                }
                qb.push("))");
            }
            qb.push(") ORDER BY id DESC LIMIT ").push_bind(limit);
            let mut out = Vec::new();
            for row in qb.build().fetch_all(pool).await? {
                out.push(case_from_row!(row));
            }
            Ok(out)
        })
    }

    // ---------------------------------------------------------------- attachments

    pub async fn add_attachment(
        &self,
        a: &AttachmentRecord,
        audit: &[AuditDraft],
    ) -> StoreResult<i64> {
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let id: i64 = sqlx::query(
                "INSERT INTO attachments (case_id, file_name, content_type, size, sha256, storage_key, uploaded_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(a.case_id)
            .bind(&a.file_name)
            .bind(&a.content_type)
            .bind(a.size)
            .bind(&a.sha256)
            .bind(&a.storage_key)
            .bind(&a.uploaded_by)
            .bind(micros(a.created_at))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| classify(e, "attachment"))?
            .try_get("id")?;
            insert_audit!(tx, audit);
            tx.commit().await?;
            Ok(id)
        })
    }

    pub async fn attachments(&self, case_id: i64) -> StoreResult<Vec<AttachmentRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, case_id, file_name, content_type, size, sha256, storage_key, uploaded_by, created_at FROM attachments WHERE case_id = $1 ORDER BY id")
                .bind(case_id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(<AttachmentRecord as sqlx::FromRow<_>>::from_row(&row)?);
            }
            Ok(out)
        })
    }

    // ---------------------------------------------------------------- supervision, notifications, sweeps

    pub async fn supervision_orders(&self, case_id: i64) -> StoreResult<Vec<SupervisionRecord>> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, case_id, due, note, created_by, created_at, closed_at FROM supervision_orders WHERE case_id = $1 ORDER BY id")
                .bind(case_id)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(<SupervisionRecord as sqlx::FromRow<_>>::from_row(&row)?);
            }
            Ok(out)
        })
    }

    pub async fn notifications(
        &self,
        recipients: &[String],
        unread_only: bool,
        page: Page,
    ) -> StoreResult<Paged<NotificationRecord>> {
        on_pool!(self, pool => {
            let (items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM notifications WHERE recipient IN (",
                select: "SELECT id, recipient, case_id, kind, message, created_at, read_at FROM notifications WHERE recipient IN (",
                order: "ORDER BY id DESC",
                |qb| {
                    let mut separated = qb.separated(", ");
                    separated.push_bind(String::new());
                    for r in recipients {
                        separated.push_bind(r.clone());
                    }
                    qb.push(")");
                    if unread_only {
                        qb.push(" AND read_at IS NULL");
                    }
                },
                |row| <NotificationRecord as sqlx::FromRow<_>>::from_row(&row)?);
            Ok(Paged { items, total })
        })
    }

    /// Marks a recipient's notifications read (all, or up to an id).
    pub async fn mark_notifications_read(
        &self,
        recipients: &[String],
        up_to_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        on_pool!(self, pool => {
            let mut qb = QueryBuilder::new("UPDATE notifications SET read_at = ");
            qb.push_bind(micros(now));
            qb.push(" WHERE read_at IS NULL AND id <= ").push_bind(up_to_id);
            qb.push(" AND recipient IN (");
            let mut separated = qb.separated(", ");
            separated.push_bind(String::new());
            for r in recipients {
                separated.push_bind(r.clone());
            }
            qb.push(")");
            Ok(qb.build().execute(pool).await?.rows_affected())
        })
    }

    /// Claims a sweep tick: true for exactly one caller per `every` across all servers sharing the database.
    pub async fn claim_tick(
        &self,
        name: &str,
        now: DateTime<Utc>,
        every: chrono::Duration,
    ) -> StoreResult<bool> {
        let now = micros(now);
        let before = now - every;
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            sqlx::query("INSERT INTO sweep_ticks (name, last_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(before - chrono::Duration::seconds(1))
                .execute(&mut *tx)
                .await?;
            let claimed = sqlx::query("UPDATE sweep_ticks SET last_at = $1 WHERE name = $2 AND last_at <= $3")
                .bind(now)
                .bind(name)
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(claimed == 1)
        })
    }

    /// Open cases whose warning should change at `now`: red when past the handling deadline, yellow when within
    /// `soon` of it. Returns the cases whose warning was raised (each once), with their new warning.
    pub async fn raise_warnings(
        &self,
        now: DateTime<Utc>,
        soon: chrono::Duration,
    ) -> StoreResult<Vec<DueCase>> {
        let now = micros(now);
        let open = "('accepted', 'dispatched', 'in_progress', 'returned', 'resolved')";
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let mut raised = Vec::new();
            for (warning, sql) in [
                ("red", format!("UPDATE cases SET warning = 'red' WHERE status IN {open} AND warning <> 'red' AND NOT clock_paused AND handling_due < $1 RETURNING id, number, lead_unit, owner_region, handling_due")),
                ("yellow", format!("UPDATE cases SET warning = 'yellow' WHERE status IN {open} AND warning = 'none' AND NOT clock_paused AND handling_due >= $1 AND handling_due < $2 RETURNING id, number, lead_unit, owner_region, handling_due")),
            ] {
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(now + soon).fetch_all(&mut *tx).await?;
                for row in rows {
                    raised.push(DueCase {
                        id: row.try_get("id")?,
                        number: row.try_get("number")?,
                        warning: warning.to_string(),
                        lead_unit: row.try_get("lead_unit")?,
                        owner_region: row.try_get("owner_region")?,
                        handling_due: row.try_get("handling_due")?,
                    });
                }
            }
            for due in &raised {
                let message = if due.warning == "red" { format!("案件 {} 已超期", due.number) } else { format!("案件 {} 即将到期", due.number) };
                let mut recipients = vec![format!("region:{}", due.owner_region)];
                recipients.extend(due.lead_unit.clone());
                for recipient in recipients {
                    sqlx::query("INSERT INTO notifications (recipient, case_id, kind, message, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(recipient)
                        .bind(due.id)
                        .bind(if due.warning == "red" { "overdue" } else { "due_soon" })
                        .bind(&message)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(raised)
        })
    }

    /// Drops idempotency keys older than `before` (kept at least 24 hours).
    pub async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        on_pool!(self, pool => {
            Ok(sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(micros(before)).execute(pool).await?.rows_affected())
        })
    }
}

/// A citizen's verification code as held (hashed) until used or expired.
#[derive(Debug, Clone)]
pub struct VerificationOutcome {
    pub ok: bool,
    /// Wrong tries so far (the code is dropped after five).
    pub attempts: i64,
}

impl Store {
    /// Holds a new code for a phone, unless one was issued less than `min_interval` ago (then false).
    pub async fn put_verification_code(
        &self,
        phone_hash: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
        min_interval: chrono::Duration,
    ) -> StoreResult<bool> {
        let now = micros(now);
        let expires_at = now + ttl;
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let existing = sqlx::query("SELECT expires_at FROM verification_codes WHERE phone_hash = $1")
                .bind(phone_hash)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = existing {
                let previous: DateTime<Utc> = row.try_get("expires_at")?;
                if previous - ttl + min_interval > now {
                    tx.rollback().await?;
                    return Ok(false);
                }
            }
            sqlx::query("INSERT INTO verification_codes (phone_hash, code_hash, expires_at, attempts) VALUES ($1, $2, $3, 0) \
                         ON CONFLICT (phone_hash) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0")
                .bind(phone_hash)
                .bind(code_hash)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Checks (and on success consumes) a code; five wrong tries drop it.
    pub async fn use_verification_code(
        &self,
        phone_hash: &str,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<VerificationOutcome> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let row = sqlx::query("SELECT code_hash, expires_at, attempts FROM verification_codes WHERE phone_hash = $1")
                .bind(phone_hash)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Ok(VerificationOutcome { ok: false, attempts: 0 });
            };
            let stored: String = row.try_get("code_hash")?;
            let expires_at: DateTime<Utc> = row.try_get("expires_at")?;
            let attempts: i32 = row.try_get("attempts")?;
            let attempts = i64::from(attempts);
            if expires_at <= now || attempts >= 5 {
                sqlx::query("DELETE FROM verification_codes WHERE phone_hash = $1").bind(phone_hash).execute(&mut *tx).await?;
                tx.commit().await?;
                return Ok(VerificationOutcome { ok: false, attempts });
            }
            if stored == code_hash {
                sqlx::query("DELETE FROM verification_codes WHERE phone_hash = $1").bind(phone_hash).execute(&mut *tx).await?;
                tx.commit().await?;
                return Ok(VerificationOutcome { ok: true, attempts });
            }
            sqlx::query("UPDATE verification_codes SET attempts = attempts + 1 WHERE phone_hash = $1").bind(phone_hash).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(VerificationOutcome { ok: false, attempts: attempts + 1 })
        })
    }

    /// Returned cases the center has not ruled on since `before`: each is escalated to the center's lead once.
    pub async fn escalate_stale_returns(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<DueCase>> {
        let now = micros(now);
        on_pool!(self, pool => {
            let mut tx = begin_write!(self, pool);
            let rows = sqlx::query(
                "UPDATE cases SET warning = 'return_escalated' WHERE status = 'returned' AND warning <> 'return_escalated' AND updated_at < $1 \
                 RETURNING id, number, lead_unit, owner_region, handling_due",
            )
            .bind(micros(before))
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::new();
            for row in rows {
                let due = DueCase {
                    id: row.try_get("id")?,
                    number: row.try_get("number")?,
                    warning: "return_escalated".into(),
                    lead_unit: row.try_get("lead_unit")?,
                    owner_region: row.try_get("owner_region")?,
                    handling_due: row.try_get("handling_due")?,
                };
                sqlx::query("INSERT INTO notifications (recipient, case_id, kind, message, created_at) VALUES ($1, $2, 'return_unruled', $3, $4)")
                    .bind(format!("leader@region:{}", due.owner_region))
                    .bind(due.id)
                    .bind(format!("案件 {} 被退回后中心逾期未裁定，请领导协调", due.number))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                out.push(due);
            }
            tx.commit().await?;
            Ok(out)
        })
    }
}

impl Store {
    /// An idempotency key seen before: its request hash and the case it made.
    pub async fn idempotency_key(
        &self,
        scope: &str,
        key: &str,
    ) -> StoreResult<Option<(String, Option<i64>)>> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT request_hash, case_id FROM idempotency_keys WHERE scope = $1 AND key = $2")
                .bind(scope)
                .bind(key)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some((row.try_get("request_hash")?, row.try_get("case_id")?)),
                None => None,
            })
        })
    }
}

impl Store {
    /// Which cases changed after an (updated_at, id) position, in that order: id, version and time only (read
    /// from the index), so a poll that finds nothing new reads no rows.
    pub async fn changed_case_versions(
        &self,
        after: DateTime<Utc>,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, i64, DateTime<Utc>)>> {
        let after = micros(after);
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, version, updated_at FROM cases WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3")
                .bind(after)
                .bind(after_id)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((row.try_get("id")?, row.try_get("version")?, row.try_get("updated_at")?));
            }
            Ok(out)
        })
    }

    /// How many cases last changed within `[from, (to, to_id)]` (by `(updated_at, id)`), with the sums of their
    /// ids and versions: the search indexer compares it with what it indexed there, and reads the window again
    /// only when they differ (a change that committed after later ones).
    pub async fn case_versions_digest(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        to_id: i64,
    ) -> StoreResult<VersionsDigest> {
        let (from, to) = (micros(from), micros(to));
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(id), 0) AS BIGINT) AS ids, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS versions FROM cases WHERE updated_at >= $1 AND (updated_at, id) <= ($2, $3)")
                .bind(from)
                .bind(to)
                .bind(to_id)
                .fetch_one(pool)
                .await?;
            Ok(VersionsDigest { count: row.try_get("n")?, ids: row.try_get("ids")?, versions: row.try_get("versions")? })
        })
    }

    /// What the full-text index keeps of the cases with these ids (those that exist), in id order.
    pub async fn search_fields_of_cases(&self, ids: &[i64]) -> StoreResult<Vec<CaseSearchFields>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, pool => {
            let mut qb = QueryBuilder::new(
                "SELECT id, version, updated_at, number, title, description, path, owner_path, status, kind, \
                 category_code, created_at FROM cases WHERE ",
            );
            push_in_ids!(qb, sqlite, "id", ids);
            qb.push(" ORDER BY id");
            let mut out = Vec::with_capacity(ids.len());
            for row in qb.build().fetch_all(pool).await? {
                out.push(CaseSearchFields {
                    id: row.try_get("id")?,
                    version: row.try_get("version")?,
                    updated_at: row.try_get("updated_at")?,
                    number: row.try_get("number")?,
                    title: row.try_get("title")?,
                    description: row.try_get("description")?,
                    path: row.try_get("path")?,
                    owner_path: row.try_get("owner_path")?,
                    status: row.try_get("status")?,
                    kind: row.try_get("kind")?,
                    category_code: row.try_get("category_code")?,
                    created_at: row.try_get("created_at")?,
                });
            }
            Ok(out)
        })
    }
}

impl Store {
    /// The current units of many cases at once (for indexing a batch).
    pub async fn units_of_cases(
        &self,
        ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, Vec<CaseUnitRecord>>> {
        let mut out: std::collections::HashMap<i64, Vec<CaseUnitRecord>> =
            std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT case_id, unit_key, role, part FROM case_units WHERE ");
            push_in_ids!(qb, sqlite, "case_id", ids);
            qb.push(" ORDER BY case_id, role DESC, unit_key");
            for row in qb.build().fetch_all(pool).await? {
                out.entry(row.try_get("case_id")?).or_default().push(CaseUnitRecord {
                    unit_key: row.try_get("unit_key")?,
                    role: row.try_get("role")?,
                    part: row.try_get("part")?,
                });
            }
        });
        Ok(out)
    }

    /// The parties of many cases at once (for a list page).
    pub async fn parties_of_cases(
        &self,
        ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, Vec<PartyRecord>>> {
        let mut out: std::collections::HashMap<i64, Vec<PartyRecord>> =
            std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT case_id, id, role, name, phone_enc, phone_hash, phone_mask, id_number_enc, id_number_hash, id_number_mask, resident_id FROM case_parties WHERE ");
            push_in_ids!(qb, sqlite, "case_id", ids);
            qb.push(" ORDER BY case_id, id");
            for row in qb.build().fetch_all(pool).await? {
                out.entry(row.try_get("case_id")?).or_default().push(PartyRecord {
                    id: row.try_get("id")?,
                    role: row.try_get("role")?,
                    name: row.try_get("name")?,
                    phone: sealed_from_row!(row, "phone"),
                    id_number: sealed_from_row!(row, "id_number"),
                    resident_id: row.try_get("resident_id")?,
                });
            }
        });
        Ok(out)
    }

    /// The free text of many cases' timelines at once (notes, results, reasons, parts), for indexing a batch.
    pub async fn texts_of_cases(
        &self,
        ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, Vec<String>>> {
        let mut out: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sqlite = matches!(self, Store::Sqlite(_));
        on_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT case_id, detail FROM case_events WHERE ");
            push_in_ids!(qb, sqlite, "case_id", ids);
            qb.push(" ORDER BY case_id, id");
            for row in qb.build().fetch_all(pool).await? {
                let detail: String = row.try_get("detail")?;
                let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null);
                let text = ["text", "result", "reason", "note", "part"]
                    .iter()
                    .filter_map(|k| detail.get(*k).and_then(|v| v.as_str()).map(str::to_string))
                    .find(|t| !t.is_empty());
                if let Some(text) = text {
                    out.entry(row.try_get("case_id")?).or_default().push(text);
                }
            }
        });
        Ok(out)
    }
}
