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
        (Figure::Response, Part::Numerator) => {
            "id IN (SELECT case_id FROM case_dispatches d WHERE d.responded_at IS NOT NULL AND d.response_due IS NOT NULL AND d.responded_at <= d.response_due)".into()
        }
        (Figure::Response, Part::Denominator) => {
            "id IN (SELECT case_id FROM case_dispatches d WHERE d.responded_at IS NOT NULL OR (d.response_due IS NOT NULL AND COALESCE(d.ended_at, :now) > d.response_due))".into()
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

/// Pushes the scope filters (visibility, region, unit, grid, category).
macro_rules! push_rate_scope {
    ($qb:ident, $scope:expr) => {{
        let scope = &$scope;
        push_case_visibility!($qb, scope.visibility);
        if let Some(path) = &scope.region_path {
            $qb.push(" AND (path LIKE ").push_bind(format!("{path}%"));
            $qb.push(" OR owner_path LIKE ")
                .push_bind(format!("{path}%"))
                .push(")");
        }
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

/// Pushes the figure's base set: the cohort (accepted in the period), or for received/rejected/merged, the
/// cases registered in the period.
macro_rules! push_base {
    ($qb:ident, $scope:expr, $figure:expr) => {{
        let scope = &$scope;
        match $figure {
            Figure::Received | Figure::Rejected | Figure::Merged => {
                $qb.push(" AND created_at >= ")
                    .push_bind(micros(scope.from));
                $qb.push(" AND created_at < ").push_bind(micros(scope.to));
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
            _ => {
                $qb.push(" AND accepted_at >= ")
                    .push_bind(micros(scope.from));
                $qb.push(" AND accepted_at < ").push_bind(micros(scope.to));
                $qb.push(" AND status NOT IN ('merged', 'rejected')");
            }
        }
        push_rate_scope!($qb, $scope);
    }};
}

impl Store {
    /// Counts every figure for a scope.
    pub async fn rate_counts(&self, scope: &RateScope) -> StoreResult<RateCounts> {
        let now = micros(scope.now);
        on_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT COUNT(*) AS cohort");
            for (name, figure, part) in [
                ("completion_numerator", Figure::Completion, Part::Numerator),
                ("on_time_numerator", Figure::OnTime, Part::Numerator),
                ("on_time_denominator", Figure::OnTime, Part::Denominator),
                ("satisfaction_numerator", Figure::Satisfaction, Part::Numerator),
                ("satisfaction_denominator", Figure::Satisfaction, Part::Denominator),
                ("resolution_numerator", Figure::Resolution, Part::Numerator),
                ("resolution_denominator", Figure::Resolution, Part::Denominator),
            ] {
                qb.push(", COALESCE(SUM(CASE WHEN ");
                push_with_now!(qb, predicate(figure, part).unwrap_or_else(|| "1=0".into()), now);
                qb.push(format!(" THEN 1 ELSE 0 END), 0) AS {name}"));
            }
            qb.push(", COALESCE(SUM(CASE WHEN satisfaction = 'unreachable' THEN 1 ELSE 0 END), 0) AS unreachable");
            qb.push(", COALESCE(SUM(CASE WHEN satisfaction = 'declined' THEN 1 ELSE 0 END), 0) AS declined");
            qb.push(" FROM cases WHERE 1=1");
            push_base!(qb, *scope, Figure::Cohort);
            let row = qb.build().fetch_one(pool).await?;
            let get = |name: &str| -> Result<i64, sqlx::Error> { row.try_get::<i64, _>(name) };
            let mut counts = RateCounts {
                cohort: get("cohort")?,
                completion_numerator: get("completion_numerator")?,
                on_time_numerator: get("on_time_numerator")?,
                on_time_denominator: get("on_time_denominator")?,
                satisfaction_numerator: get("satisfaction_numerator")?,
                satisfaction_denominator: get("satisfaction_denominator")?,
                resolution_numerator: get("resolution_numerator")?,
                resolution_denominator: get("resolution_denominator")?,
                unreachable: get("unreachable")?,
                declined: get("declined")?,
                ..RateCounts::default()
            };
            // Received, rejected, merged: registered in the period.
            let mut qb = QueryBuilder::new("SELECT COUNT(*) AS received, COALESCE(SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END), 0) AS rejected, COALESCE(SUM(CASE WHEN status = 'merged' THEN 1 ELSE 0 END), 0) AS merged FROM cases WHERE 1=1");
            push_base!(qb, *scope, Figure::Received);
            let row = qb.build().fetch_one(pool).await?;
            counts.received = row.try_get("received")?;
            counts.rejected = row.try_get("rejected")?;
            counts.merged = row.try_get("merged")?;
            // Response: dispatches of cohort cases.
            let mut qb = QueryBuilder::new("SELECT COALESCE(SUM(CASE WHEN d.responded_at IS NOT NULL AND d.response_due IS NOT NULL AND d.responded_at <= d.response_due THEN 1 ELSE 0 END), 0) AS num, \
                COALESCE(SUM(CASE WHEN d.responded_at IS NOT NULL OR (d.response_due IS NOT NULL AND COALESCE(d.ended_at, ");
            qb.push_bind(now);
            qb.push(") > d.response_due) THEN 1 ELSE 0 END), 0) AS den FROM case_dispatches d WHERE d.case_id IN (SELECT id FROM cases WHERE 1=1");
            push_base!(qb, *scope, Figure::Cohort);
            qb.push(")");
            let row = qb.build().fetch_one(pool).await?;
            counts.response_numerator = row.try_get("num")?;
            counts.response_denominator = row.try_get("den")?;
            Ok(counts)
        })
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
            let (items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM cases WHERE 1=1",
                select: format!("SELECT {} FROM cases WHERE 1=1", crate::cases::CASE_COLUMNS),
                order: "ORDER BY id",
                |qb| {
                    push_base!(qb, *scope, figure);
                    if let Some(predicate) = &predicate {
                        qb.push(" AND ");
                        push_with_now!(qb, predicate.clone(), now);
                    }
                },
                |row| case_from_row!(row));
            Ok(Paged { items, total })
        })
    }
}
