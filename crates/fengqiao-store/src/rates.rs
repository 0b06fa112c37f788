//! The rates (办结率, 按期办结率, 响应率, 满意率, 化解率) over a cohort of cases, and the cases behind each figure.
//!
//! Each figure's numerator and denominator are one SQL predicate over the cohort, used both to count and to
//! list, so a drill-down returns exactly the cases its figure counts.

use crate::common::micros;
use crate::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row};

/// Which cases a rate covers: the caller's visibility, narrowed by region, unit, grid and category, over the
/// cohort of cases accepted in [from, to); deadlines judged as of `now`.
#[derive(Debug, Clone)]
pub struct RateScope {
    pub visibility: CaseVisibility,
    /// Region path prefix (a region subtree).
    pub region_path: Option<String>,
    /// `dept:ID` or `grid:CODE`: cases currently with that unit.
    pub unit: Option<String>,
    /// Cases located in this grid.
    pub grid_code: Option<String>,
    /// A category and its subcategories (`dispute` covers `dispute.neighbour`).
    pub category: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// A figure whose cases can be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Cohort,
    Received,
    Rejected,
    Merged,
    Completion,
    OnTime,
    Response,
    Satisfaction,
    Resolution,
}

/// Numerator or denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Numerator,
    Denominator,
}

/// The counts behind the rates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RateCounts {
    /// Cases registered in the period (any outcome).
    pub received: i64,
    /// Of those, refused (不予受理) and merged as duplicates: counted apart, not in the cohort.
    pub rejected: i64,
    pub merged: i64,
    /// Cases accepted in the period (the cohort).
    pub cohort: i64,
    pub completion_numerator: i64,
    pub on_time_numerator: i64,
    pub on_time_denominator: i64,
    /// Dispatches (not cases) answered within the response limit / answered + unanswered past it.
    pub response_numerator: i64,
    pub response_denominator: i64,
    pub satisfaction_numerator: i64,
    pub satisfaction_denominator: i64,
    /// Follow-ups that could not reach the citizen, or that the citizen declined (shown apart).
    pub unreachable: i64,
    pub declined: i64,
    pub resolution_numerator: i64,
    pub resolution_denominator: i64,
}

const RESOLVED: &str = "('resolved', 'awaiting_follow_up', 'closed', 'archived')";
const OPEN: &str = "('accepted', 'dispatched', 'in_progress', 'returned')";

/// The predicate of a figure's part (the cohort filter is added separately). Uses `$now` via a pushed bind.
fn predicate(figure: Figure, part: Part) -> Option<String> {
    Some(match (figure, part) {
        (Figure::Cohort, _) | (Figure::Completion, Part::Denominator) => "1=1".into(),
        (Figure::Completion, Part::Numerator) => format!("status IN {RESOLVED}"),
        (Figure::OnTime, Part::Numerator) => {
            format!("status IN {RESOLVED} AND handling_due IS NOT NULL AND resolved_at <= handling_due")
        }
        (Figure::OnTime, Part::Denominator) => format!("(status IN {RESOLVED} OR (status IN {OPEN} AND handling_due < :now))"),
        (Figure::Satisfaction, Part::Numerator) => "satisfaction IN ('satisfied', 'basically_satisfied')".into(),
        (Figure::Satisfaction, Part::Denominator) => {
            "satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')".into()
        }
        (Figure::Resolution, Part::Numerator) => {
            "kind = 'dispute' AND status IN ('closed', 'archived') AND satisfaction IN ('satisfied', 'basically_satisfied')".into()
        }
        (Figure::Resolution, Part::Denominator) => "kind = 'dispute'".into(),
        // Kept per case with its dispatch records (migration 0003): dispatches answered within the limit; and
        // answered, or ended unanswered after the limit, or still unanswered past it.
        (Figure::Response, Part::Numerator) => "responses_on_time > 0".into(),
        (Figure::Response, Part::Denominator) => {
            "(responses_counted > 0 OR response_open_due < :now)".into()
        }
        (Figure::Received | Figure::Rejected | Figure::Merged, _) => return None,
    })
}

/// Pushes SQL text, replacing each `:now` with a bound time.
macro_rules! push_with_now {
    ($qb:ident, $sql:expr, $now:expr) => {{
        let sql: String = $sql;
        let mut parts = sql.split(":now").peekable();
        while let Some(part) = parts.next() {
            $qb.push(part.to_string());
            if parts.peek().is_some() {
                $qb.push_bind($now);
            }
        }
    }};
}

/// Pushes `(col >= a AND col < b OR …)` for the scope's region filter, or nothing.
macro_rules! push_region_filter {
    ($qb:ident, $scope:expr) => {{
        if let Some(path) = &$scope.region_path {
            let prefixes = [path.clone()];
            $qb.push(" AND (");
            push_ranges!($qb, "path", prefixes);
            $qb.push(" OR ");
            push_ranges!($qb, "owner_path", prefixes);
            $qb.push(")");
        }
    }};
}

/// Pushes the scope's narrowing filters (region, unit, grid, category) as ` AND …` conditions.
macro_rules! push_rate_filters {
    ($qb:ident, $scope:expr) => {{
        let scope = &$scope;
        push_region_filter!($qb, scope);
        if let Some(unit) = &scope.unit {
            $qb.push(" AND id IN (SELECT case_id FROM case_units WHERE unit_key = ")
                .push_bind(unit.clone())
                .push(")");
        }
        if let Some(grid) = &scope.grid_code {
            $qb.push(" AND grid_code = ").push_bind(grid.clone());
        }
        if let Some(category) = &scope.category {
            $qb.push(" AND (category_code = ")
                .push_bind(category.clone());
            $qb.push(" OR category_code LIKE ")
                .push_bind(format!("{category}.%"))
                .push(")");
        }
    }};
}

/// The cohort: accepted in [from, to), neither merged nor refused.
macro_rules! push_cohort {
    ($qb:ident, $scope:expr) => {{
        $qb.push("(accepted_at >= ").push_bind(micros($scope.from));
        $qb.push(" AND accepted_at < ").push_bind(micros($scope.to));
        $qb.push(" AND status NOT IN ('merged', 'rejected'))");
    }};
}

/// Registered in [from, to).
macro_rules! push_registered {
    ($qb:ident, $scope:expr) => {{
        $qb.push("(created_at >= ").push_bind(micros($scope.from));
        $qb.push(" AND created_at < ")
            .push_bind(micros($scope.to))
            .push(")");
    }};
}

/// Pushes a figure's base set as ` AND …`: the cohort, or for received/rejected/merged, the cases registered
/// in the period; then the scope's filters.
macro_rules! push_base {
    ($qb:ident, $scope:expr, $figure:expr) => {{
        let scope = &$scope;
        $qb.push(" AND ");
        match $figure {
            Figure::Received | Figure::Rejected | Figure::Merged => {
                push_registered!($qb, scope);
                match $figure {
                    Figure::Rejected => {
                        $qb.push(" AND status = 'rejected'");
                    }
                    Figure::Merged => {
                        $qb.push(" AND status = 'merged'");
                    }
                    _ => {}
                }
            }
            _ => push_cohort!($qb, scope),
        }
        push_rate_filters!($qb, scope);
    }};
}

/// The columns the figures read (all in the rates indexes of migration 0003).
const RATE_COLUMNS: &str = "id, status, kind, handling_due, resolved_at, satisfaction, accepted_at, created_at, \
    responses_on_time, responses_counted, response_open_due";

/// The rollup's counters (migration 0003, SQLite), in [`RateCounts`] order of use.
const ROLLUP_COUNTERS: &str = "cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, \
    unreachable, declined, resp_on_time, resp_counted, received, rejected, merged";

/// A period as rollup keys: the whole local months it covers and its other local days. None when the rollup
/// cannot answer: the scope narrows by unit, grid or category, the caller sees by unit, or the period's ends are
/// not local midnights.
fn rollup_keys(scope: &RateScope) -> Option<(Vec<String>, Vec<String>)> {
    use chrono::Datelike;
    use fengqiao_domain::calendar::{local_date, start_of_local_day};
    if scope.unit.is_some()
        || scope.grid_code.is_some()
        || scope.category.is_some()
        || !scope.visibility.units.is_empty()
        || scope.visibility.path_prefixes.is_empty()
    {
        return None;
    }
    let (first, end) = (local_date(scope.from), local_date(scope.to));
    if start_of_local_day(first) != scope.from || start_of_local_day(end) != scope.to {
        return None;
    }
    let (mut months, mut days) = (Vec::new(), Vec::new());
    let mut day = first;
    while day < end {
        let next_month = if day.month() == 12 {
            chrono::NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
        } else {
            chrono::NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
        }?;
        if day.day() == 1 && next_month <= end {
            months.push(day.format("%Y-%m").to_string());
            day = next_month;
        } else {
            days.push(day.format("%Y-%m-%d").to_string());
            day = day.succ_opt()?;
        }
        if months.len() + days.len() > 2_000 {
            return None;
        }
    }
    Some((months, days))
}

/// How the rollup splits its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RollupGroup {
    None,
    /// By local day of acceptance (registration for received counts): the keys must be days only.
    Day,
    /// By local month.
    Month,
    /// By (path, owner_path).
    Place,
}

/// The local day of a stored time, as the rollup's triggers compute it.
const LOCAL_DAY: &str = "date(substr(accepted_at, 1, 19), '+8 hours')";

/// The rates from the rollup (whole months and odd days), plus what depends on the moment of asking, counted
/// live from the open cases of the cohort (the partial indexes on open cases cover it); optionally per group.
async fn rollup_grouped(
    pool: &sqlx::SqlitePool,
    scope: &RateScope,
    (months, days): &(Vec<String>, Vec<String>),
    group: RollupGroup,
) -> StoreResult<Vec<GroupCounts>> {
    let prefixes = &scope.visibility.path_prefixes;
    let (select_keys, group_by) = match group {
        RollupGroup::None => ("", ""),
        _ => ("g1, g2, ", " GROUP BY g1, g2"),
    };
    let mut qb = QueryBuilder::<sqlx::Sqlite>::new(format!("SELECT {select_keys}"));
    let sums: Vec<String> = ROLLUP_COUNTERS
        .split(", ")
        .map(|c| format!("COALESCE(SUM({c}), 0) AS {c}", c = c.trim()))
        .collect();
    qb.push(sums.join(", "));
    qb.push(" FROM (");
    let mut parts = 0;
    for (table, key, values) in [("rate_months", "month", months), ("rate_days", "day", days)] {
        if values.is_empty() {
            continue;
        }
        let keys = match (group, key) {
            (RollupGroup::Place, _) => "path AS g1, owner_path AS g2".to_string(),
            (RollupGroup::Month, "day") => {
                "substr(day, 1, 7) AS g1, substr(day, 1, 7) AS g2".to_string()
            }
            (RollupGroup::None, _) => "0 AS g1, 0 AS g2".to_string(),
            _ => format!("{key} AS g1, {key} AS g2"),
        };
        // Owned in the territory; else located in it.
        for part in 0..2 {
            if parts > 0 {
                qb.push(" UNION ALL ");
            }
            parts += 1;
            qb.push(format!(
                "SELECT {keys}, {ROLLUP_COUNTERS} FROM {table} WHERE {key} IN ("
            ));
            let mut separated = qb.separated(", ");
            for value in values.iter() {
                separated.push_bind(value.clone());
            }
            qb.push(") AND ");
            if part == 0 {
                push_ranges!(qb, "owner_path", prefixes);
            } else {
                push_ranges!(qb, "path", prefixes);
                qb.push(" AND NOT ");
                push_ranges!(qb, "owner_path", prefixes);
            }
            push_region_filter!(qb, scope);
        }
    }
    if parts == 0 {
        qb.push(format!(
            "SELECT 0 AS g1, 0 AS g2, {ROLLUP_COUNTERS} FROM rate_days WHERE 1=0"
        ));
    }
    qb.push(") AS r");
    qb.push(group_by);
    let key_of =
        |row: &sqlx::sqlite::SqliteRow| -> Result<(Option<String>, Option<String>), sqlx::Error> {
            Ok(match group {
                RollupGroup::None => (None, None),
                _ => (row.try_get("g1")?, row.try_get("g2")?),
            })
        };
    let mut out: Vec<GroupCounts> = Vec::new();
    let mut at: std::collections::HashMap<(Option<String>, Option<String>), usize> =
        std::collections::HashMap::new();
    for row in qb.build().fetch_all(pool).await? {
        let get = |name: &str| -> Result<i64, sqlx::Error> { row.try_get::<i64, _>(name) };
        let counts = RateCounts {
            received: get("received")?,
            rejected: get("rejected")?,
            merged: get("merged")?,
            cohort: get("cohort")?,
            completion_numerator: get("completion")?,
            on_time_numerator: get("on_time")?,
            on_time_denominator: get("completion")?,
            response_numerator: get("resp_on_time")?,
            response_denominator: get("resp_counted")?,
            satisfaction_numerator: get("satisfied")?,
            satisfaction_denominator: get("sat_answered")?,
            unreachable: get("unreachable")?,
            declined: get("declined")?,
            resolution_numerator: get("dispute_resolved")?,
            resolution_denominator: get("disputes")?,
        };
        let key = key_of(&row)?;
        at.insert(key.clone(), out.len());
        out.push(GroupCounts {
            key: key.0,
            second_key: key.1,
            counts,
        });
    }
    // Open cases of the cohort past their handling deadline count against the on-time rate, and unanswered
    // dispatches past their limit count in the response rate's denominator.
    let now = micros(scope.now);
    let open: Vec<String> = crate::cases::OPEN_STATUSES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let live_keys = match group {
        RollupGroup::None => "0 AS g1, 0 AS g2".to_string(),
        RollupGroup::Day => format!("{LOCAL_DAY} AS g1, {LOCAL_DAY} AS g2"),
        RollupGroup::Month => {
            format!("substr({LOCAL_DAY}, 1, 7) AS g1, substr({LOCAL_DAY}, 1, 7) AS g2")
        }
        RollupGroup::Place => "path AS g1, owner_path AS g2".to_string(),
    };
    let mut qb = QueryBuilder::<sqlx::Sqlite>::new(format!(
        "SELECT {select_keys}COALESCE(SUM(CASE WHEN status IN ('accepted', 'dispatched', 'in_progress', 'returned') AND handling_due < "
    ));
    qb.push_bind(now);
    qb.push(" THEN 1 ELSE 0 END), 0) AS overdue, COALESCE(SUM(CASE WHEN response_open_due < ");
    qb.push_bind(now);
    qb.push(" THEN 1 ELSE 0 END), 0) AS late FROM (");
    push_visible_cases!(
        qb,
        columns: {
            qb.push("status, handling_due, response_open_due, ");
            qb.push(live_keys.clone());
        },
        scope.visibility,
        open,
        |_part| {
            qb.push(" AND ").push(crate::cases::OPEN_CONDITION);
            qb.push(" AND status IN (");
            let mut separated = qb.separated(", ");
            for status in &open {
                separated.push_bind(status.clone());
            }
            qb.push(") AND ");
            push_cohort!(qb, scope);
            push_region_filter!(qb, scope);
        }
    );
    qb.push(") AS o");
    qb.push(group_by);
    for row in qb.build().fetch_all(pool).await? {
        let (overdue, late): (i64, i64) = (row.try_get("overdue")?, row.try_get("late")?);
        if overdue == 0 && late == 0 {
            continue;
        }
        let key = key_of(&row)?;
        let i = match at.get(&key) {
            Some(i) => *i,
            None => {
                at.insert(key.clone(), out.len());
                out.push(GroupCounts {
                    key: key.0,
                    second_key: key.1,
                    counts: RateCounts::default(),
                });
                out.len() - 1
            }
        };
        out[i].counts.on_time_denominator += overdue;
        out[i].counts.response_denominator += late;
    }
    if group == RollupGroup::None && out.is_empty() {
        out.push(GroupCounts {
            key: None,
            second_key: None,
            counts: RateCounts::default(),
        });
    }
    Ok(out)
}

/// How to split the figures. Each group's figures equal the figures asked for with that group's filter, so a
/// group drills down like any figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateGroup {
    /// By the case's place: the key is (path, owner_path); the region filter matches either.
    Place,
    /// By the grid the case lies in.
    Grid,
    /// By the case's current category (the whole code).
    Category,
    /// By the units the case has been with (`dept:ID`, `grid:CODE`): a case counts once for each.
    Unit,
    /// By local day: the key is (day of acceptance, day of registration); see [`Store::rate_trend`].
    Day,
    /// By local month, keyed like [`RateGroup::Day`].
    Month,
}

/// One group's counts: its key (two parts for [`RateGroup::Place`], else the same value twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCounts {
    pub key: Option<String>,
    pub second_key: Option<String>,
    pub counts: RateCounts,
}

impl RateCounts {
    /// Adds another group's counts to these.
    pub fn add(&mut self, other: &RateCounts) {
        self.received += other.received;
        self.rejected += other.rejected;
        self.merged += other.merged;
        self.cohort += other.cohort;
        self.completion_numerator += other.completion_numerator;
        self.on_time_numerator += other.on_time_numerator;
        self.on_time_denominator += other.on_time_denominator;
        self.response_numerator += other.response_numerator;
        self.response_denominator += other.response_denominator;
        self.satisfaction_numerator += other.satisfaction_numerator;
        self.satisfaction_denominator += other.satisfaction_denominator;
        self.unreachable += other.unreachable;
        self.declined += other.declined;
        self.resolution_numerator += other.resolution_numerator;
        self.resolution_denominator += other.resolution_denominator;
    }
}

/// Counts every figure for a scope in one pass over the territory's cases, optionally per group: each case's
/// membership of the cohort and of the period's registrations is worked out once, then every figure sums
/// over it.
macro_rules! scan_counts {
    ($pool:ident, $scope:expr, $group:expr, $local_day:expr) => {{
        let local_day: &dyn Fn(&str) -> String = &$local_day;
        let scope: &RateScope = $scope;
        let group: Option<RateGroup> = $group;
        let now = micros(scope.now);
        let mut qb = QueryBuilder::new(if group.is_some() {
            "SELECT g1, g2, COALESCE(SUM(in_cohort), 0) AS cohort"
        } else {
            "SELECT COALESCE(SUM(in_cohort), 0) AS cohort"
        });
        for (name, figure, part) in [
            ("completion_numerator", Figure::Completion, Part::Numerator),
            ("on_time_numerator", Figure::OnTime, Part::Numerator),
            ("on_time_denominator", Figure::OnTime, Part::Denominator),
            ("satisfaction_numerator", Figure::Satisfaction, Part::Numerator),
            ("satisfaction_denominator", Figure::Satisfaction, Part::Denominator),
            ("resolution_numerator", Figure::Resolution, Part::Numerator),
            ("resolution_denominator", Figure::Resolution, Part::Denominator),
        ] {
            qb.push(", COALESCE(SUM(CASE WHEN in_cohort = 1 AND ");
            push_with_now!(qb, predicate(figure, part).unwrap_or_else(|| "1=0".into()), now);
            qb.push(format!(" THEN 1 ELSE 0 END), 0) AS {name}"));
        }
        for outcome in ["unreachable", "declined"] {
            qb.push(format!(
                ", COALESCE(SUM(CASE WHEN in_cohort = 1 AND satisfaction = '{outcome}' THEN 1 ELSE 0 END), 0) AS {outcome}"
            ));
        }
        // Response: dispatches (not cases) of the cohort.
        qb.push(", COALESCE(SUM(CASE WHEN in_cohort = 1 THEN responses_on_time ELSE 0 END), 0) AS response_numerator");
        qb.push(", COALESCE(SUM(CASE WHEN in_cohort = 1 THEN responses_counted + CASE WHEN response_open_due < ");
        qb.push_bind(now);
        qb.push(" THEN 1 ELSE 0 END ELSE 0 END), 0) AS response_denominator");
        // Received, refused, merged: registered in the period.
        qb.push(", COALESCE(SUM(in_period), 0) AS received");
        for status in ["rejected", "merged"] {
            qb.push(format!(
                ", COALESCE(SUM(CASE WHEN in_period = 1 AND status = '{status}' THEN 1 ELSE 0 END), 0) AS {status}"
            ));
        }
        qb.push(" FROM (");
        if group == Some(RateGroup::Unit) {
            qb.push("SELECT v.*, u.unit_key AS g1, u.unit_key AS g2 FROM (");
        }
        push_visible_cases!(qb, columns: {
            qb.push(RATE_COLUMNS);
            match group {
                Some(RateGroup::Place) => qb.push(", path AS g1, owner_path AS g2"),
                Some(RateGroup::Grid) => qb.push(", grid_code AS g1, grid_code AS g2"),
                Some(RateGroup::Category) => qb.push(", category_code AS g1, category_code AS g2"),
                Some(RateGroup::Day) => qb.push(format!(
                    ", {} AS g1, {} AS g2",
                    local_day("accepted_at"),
                    local_day("created_at")
                )),
                Some(RateGroup::Month) => qb.push(format!(
                    ", substr({}, 1, 7) AS g1, substr({}, 1, 7) AS g2",
                    local_day("accepted_at"),
                    local_day("created_at")
                )),
                Some(RateGroup::Unit) | None => &mut qb,
            };
            qb.push(", CASE WHEN ");
            push_cohort!(qb, scope);
            qb.push(" THEN 1 ELSE 0 END AS in_cohort, CASE WHEN ");
            push_registered!(qb, scope);
            qb.push(" THEN 1 ELSE 0 END AS in_period");
        }, scope.visibility, Vec::<String>::new(), |_part| {
            qb.push(" AND (");
            push_cohort!(qb, scope);
            qb.push(" OR ");
            push_registered!(qb, scope);
            qb.push(")");
            push_rate_filters!(qb, scope);
        });
        if group == Some(RateGroup::Unit) {
            qb.push(") AS v JOIN case_units u ON u.case_id = v.id");
        }
        qb.push(") AS c");
        if group.is_some() {
            qb.push(" GROUP BY g1, g2");
        }
        let mut out = Vec::new();
        for row in qb.build().fetch_all($pool).await? {
            let get = |name: &str| -> Result<i64, sqlx::Error> { row.try_get::<i64, _>(name) };
            let counts = RateCounts {
                received: get("received")?,
                rejected: get("rejected")?,
                merged: get("merged")?,
                cohort: get("cohort")?,
                completion_numerator: get("completion_numerator")?,
                on_time_numerator: get("on_time_numerator")?,
                on_time_denominator: get("on_time_denominator")?,
                response_numerator: get("response_numerator")?,
                response_denominator: get("response_denominator")?,
                satisfaction_numerator: get("satisfaction_numerator")?,
                satisfaction_denominator: get("satisfaction_denominator")?,
                unreachable: get("unreachable")?,
                declined: get("declined")?,
                resolution_numerator: get("resolution_numerator")?,
                resolution_denominator: get("resolution_denominator")?,
            };
            let (key, second_key) = if group.is_some() {
                (row.try_get::<Option<String>, _>("g1")?, row.try_get::<Option<String>, _>("g2")?)
            } else {
                (None, None)
            };
            out.push(GroupCounts { key, second_key, counts });
        }
        out
    }};
}

/// The SQL of a stored time's local day (Asia/Shanghai, `YYYY-MM-DD`) on each backend.
fn local_day_sql(store: &Store) -> impl Fn(&str) -> String + use<> {
    let sqlite = matches!(store, Store::Sqlite(_));
    move |column: &str| {
        if sqlite {
            format!("date(substr({column}, 1, 19), '+8 hours')")
        } else {
            format!("to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')")
        }
    }
}

impl Store {
    /// Counts every figure for a scope (from the SQLite rollup when it can answer, else in one pass).
    pub async fn rate_counts(&self, scope: &RateScope) -> StoreResult<RateCounts> {
        if let (Store::Sqlite(s), Some(keys)) = (self, rollup_keys(scope)) {
            let rows = rollup_grouped(&s.pool, scope, &keys, RollupGroup::None).await?;
            return Ok(rows
                .into_iter()
                .next()
                .map(|g| g.counts)
                .unwrap_or_default());
        }
        let local_day = local_day_sql(self);
        let rows = on_pool!(self, pool => scan_counts!(pool, scope, None, local_day));
        Ok(rows
            .into_iter()
            .next()
            .map(|g| g.counts)
            .unwrap_or_default())
    }

    /// Counts every figure for a scope per group (from the SQLite rollup for places and grids when it can
    /// answer, else in one pass over the territory's cases). Groups with no cases are absent.
    pub async fn rate_counts_by(
        &self,
        scope: &RateScope,
        group: RateGroup,
    ) -> StoreResult<Vec<GroupCounts>> {
        // The rollup keeps each case's place: its path (a grid's path for a case in a grid) and owner path.
        if let (Store::Sqlite(s), Some(keys), RateGroup::Place | RateGroup::Grid) =
            (self, rollup_keys(scope), group)
        {
            let places = rollup_grouped(&s.pool, scope, &keys, RollupGroup::Place).await?;
            if group == RateGroup::Place {
                return Ok(places);
            }
            let grids: std::collections::HashMap<String, String> =
                sqlx::query("SELECT code, path FROM grids")
                    .fetch_all(&s.pool)
                    .await?
                    .into_iter()
                    .map(|row| Ok((row.try_get("path")?, row.try_get("code")?)))
                    .collect::<Result<_, sqlx::Error>>()?;
            let mut by_grid: std::collections::BTreeMap<String, RateCounts> =
                std::collections::BTreeMap::new();
            for g in places {
                if let Some(code) = g.key.as_ref().and_then(|path| grids.get(path)) {
                    by_grid.entry(code.clone()).or_default().add(&g.counts);
                }
            }
            return Ok(by_grid
                .into_iter()
                .map(|(code, counts)| GroupCounts {
                    key: Some(code.clone()),
                    second_key: Some(code),
                    counts,
                })
                .collect());
        }
        let local_day = local_day_sql(self);
        Ok(on_pool!(self, pool => scan_counts!(pool, scope, Some(group), local_day)))
    }

    /// The figures per local day (or month) of the period, from the SQLite rollup in two queries; `None` when
    /// the rollup cannot answer for this scope (PostgreSQL, or a narrowing the rollup does not keep), and the
    /// caller counts each period instead. A day's (month's) cohort is the cases accepted that day (month), its
    /// received count the cases registered that day (month), as [`Store::rate_counts`] counts them.
    pub async fn rate_trend(
        &self,
        scope: &RateScope,
        monthly: bool,
    ) -> StoreResult<Option<Vec<GroupCounts>>> {
        let (Store::Sqlite(s), Some((months, days))) = (self, rollup_keys(scope)) else {
            return Ok(None);
        };
        let keys = if monthly {
            (months, days)
        } else {
            // Days only: a whole month's row cannot be split into its days.
            let mut all = days;
            for month in &months {
                let Ok(first) =
                    chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
                else {
                    return Ok(None);
                };
                let mut day = Some(first);
                while let Some(d) = day.filter(|d| d.format("%Y-%m").to_string() == *month) {
                    all.push(d.format("%Y-%m-%d").to_string());
                    day = d.succ_opt();
                }
            }
            (Vec::new(), all)
        };
        let group = if monthly {
            RollupGroup::Month
        } else {
            RollupGroup::Day
        };
        Ok(Some(rollup_grouped(&s.pool, scope, &keys, group).await?))
    }

    /// The cases behind a figure's numerator or denominator.
    pub async fn rate_cases(
        &self,
        scope: &RateScope,
        figure: Figure,
        part: Part,
        page: Page,
    ) -> StoreResult<Paged<CaseRecord>> {
        let now = micros(scope.now);
        let predicate = predicate(figure, part);
        on_pool!(self, pool => {
            let mut total = 0i64;
            let mut items = Vec::new();
            for counting in [true, false] {
                let mut qb = if counting {
                    QueryBuilder::new("SELECT COUNT(*) AS n FROM (")
                } else {
                    QueryBuilder::new(format!(
                        "SELECT {} FROM cases WHERE id IN (SELECT id FROM (",
                        crate::cases::CASE_COLUMNS
                    ))
                };
                push_visible_cases!(qb, RATE_COLUMNS, scope.visibility, Vec::<String>::new(), |_part| {
                    push_base!(qb, *scope, figure);
                    if let Some(predicate) = &predicate {
                        qb.push(" AND ");
                        push_with_now!(qb, predicate.clone(), now);
                    }
                });
                if counting {
                    qb.push(") AS c");
                    total = qb.build().fetch_one(pool).await?.try_get("n")?;
                    if total <= page.offset {
                        break;
                    }
                } else {
                    qb.push(") AS c ORDER BY id LIMIT ").push_bind(page.limit);
                    qb.push(" OFFSET ").push_bind(page.offset);
                    qb.push(") ORDER BY id");
                    for row in qb.build().fetch_all(pool).await? {
                        items.push(case_from_row!(row));
                    }
                }
            }
            Ok(Paged { items, total })
        })
    }
}
