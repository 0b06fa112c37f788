//! The daily bulletin's figures (每日通报): a day's intake and resolutions, overdue cases by unit, and the
//! supervision orders opened and closed — for one region subtree.

use crate::common::micros;
use crate::*;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{QueryBuilder, Row};

/// A count under a label (a channel, a kind, a unit …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelledCount {
    pub label: String,
    pub count: i64,
}

/// What the bulletin reports for a region and a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BulletinFigures {
    pub registered: i64,
    pub registered_by_channel: Vec<LabelledCount>,
    pub registered_by_kind: Vec<LabelledCount>,
    pub accepted: i64,
    pub resolved: i64,
    /// Open cases past their handling deadline at the end of the day, by the unit holding them (or the center).
    pub overdue: i64,
    pub overdue_by_unit: Vec<LabelledCount>,
    pub supervision_opened: i64,
    pub supervision_closed: i64,
}

impl Store {
    /// The bulletin's figures for cases located or owned under `path`, for the day [from, to). Each count runs
    /// over the disjoint owned / located parts that the path indexes serve (no `LIKE`, which no index serves).
    pub async fn bulletin(
        &self,
        path: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<BulletinFigures> {
        let (from, to) = (micros(from), micros(to));
        let territory = CaseVisibility {
            path_prefixes: vec![path.to_string()],
            units: Vec::new(),
        };
        // (select list over `c`, the visible cases' columns, their condition, GROUP BY or "")
        macro_rules! counted {
            ($pool:ident, $select:expr, $columns:expr, $group:expr, |$qb:ident| $filters:block) => {{
                let mut $qb = QueryBuilder::new(format!("SELECT {} FROM (", $select));
                push_visible_cases!($qb, $columns, territory, Vec::<String>::new(), |_part| {
                    $filters
                });
                $qb.push(") AS c");
                $qb.push($group);
                $qb.build().fetch_all($pool).await?
            }};
        }
        on_pool!(self, pool => {
            let mut out = BulletinFigures::default();
            let one = |rows: Vec<_>| -> StoreResult<i64> {
                Ok(match rows.first() {
                    Some(row) => sqlx::Row::try_get::<i64, _>(row, "n")?,
                    None => 0,
                })
            };
            // A day's registrations and acceptances: walked through the time indexes (a day is a sliver of
            // any territory), the territory tested on each row without an index (`substr`, not a range).
            let prefix_len = path.chars().count() as i32;
            let in_territory = |qb: &mut QueryBuilder<_>| {
                qb.push(" AND (substr(path, 1, ").push_bind(prefix_len).push(") = ").push_bind(path.to_string());
                qb.push(" OR substr(owner_path, 1, ").push_bind(prefix_len).push(") = ").push_bind(path.to_string()).push(")");
            };
            let mut qb = QueryBuilder::new("SELECT COUNT(*) AS n FROM cases WHERE created_at >= ");
            qb.push_bind(from).push(" AND created_at < ").push_bind(to);
            in_territory(&mut qb);
            out.registered = qb.build().fetch_one(pool).await?.try_get("n")?;
            let mut qb = QueryBuilder::new("SELECT COUNT(*) AS n FROM cases WHERE accepted_at >= ");
            qb.push_bind(from).push(" AND accepted_at < ").push_bind(to);
            in_territory(&mut qb);
            out.accepted = qb.build().fetch_one(pool).await?.try_get("n")?;
            for (column, target) in [("channel", &mut out.registered_by_channel), ("kind", &mut out.registered_by_kind)] {
                let mut qb = QueryBuilder::new(format!("SELECT {column} AS label, COUNT(*) AS n FROM cases WHERE created_at >= "));
                qb.push_bind(from).push(" AND created_at < ").push_bind(to);
                in_territory(&mut qb);
                qb.push(format!(" GROUP BY {column} ORDER BY n DESC, label"));
                for row in qb.build().fetch_all(pool).await? {
                    target.push(LabelledCount { label: row.try_get("label")?, count: row.try_get("n")? });
                }
            }
            out.resolved = one(counted!(pool, "COUNT(*) AS n", "id", "", |qb| {
                qb.push(" AND resolved_at >= ").push_bind(from).push(" AND resolved_at < ").push_bind(to);
                // `status || ''` keeps SQLite on the territory's index (with no statistics it would rather
                // walk every resolved case of every territory through the status index).
                qb.push(" AND status || '' IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')");
            }))?;
            let rows = counted!(pool, "label, COUNT(*) AS n", "COALESCE(lead_unit, 'region:' || owner_region) AS label", " GROUP BY label ORDER BY n DESC, label", |qb| {
                // Repeating the open-case condition lets the partial indexes on open cases serve this.
                qb.push(" AND ").push(crate::cases::OPEN_CONDITION);
                qb.push(" AND status IN ('accepted', 'dispatched', 'in_progress', 'returned') AND handling_due < ").push_bind(to);
            });
            for row in rows {
                let n: i64 = row.try_get("n")?;
                out.overdue += n;
                out.overdue_by_unit.push(LabelledCount { label: row.try_get("label")?, count: n });
            }
            for (column, target) in [("created_at", &mut out.supervision_opened), ("closed_at", &mut out.supervision_closed)] {
                // The day's orders first, then their cases (a join would walk the territory's cases).
                let mut qb = QueryBuilder::new(format!(
                    "SELECT COUNT(*) AS n FROM supervision_orders s WHERE s.{column} >= "
                ));
                qb.push_bind(from).push(format!(" AND s.{column} < ")).push_bind(to);
                qb.push(" AND EXISTS (SELECT 1 FROM cases c WHERE c.id = s.case_id AND (");
                push_ranges!(qb, "c.path", territory.path_prefixes);
                qb.push(" OR ");
                push_ranges!(qb, "c.owner_path", territory.path_prefixes);
                qb.push("))");
                *target = qb.build().fetch_one(pool).await?.try_get("n")?;
            }
            Ok(out)
        })
    }

    /// Category relabellings (变更类别) of visible cases, newest first: who, when, from what, to what, why.
    pub async fn relabels(
        &self,
        visibility: &CaseVisibility,
        page: Page,
    ) -> StoreResult<Paged<RelabelRecord>> {
        on_pool!(self, pool => {
            let (items, total) = paged!(pool, page,
                count: "SELECT COUNT(*) AS n FROM case_events e JOIN cases ON cases.id = e.case_id WHERE e.name = 'category_changed'",
                select: "SELECT e.id AS event_id, cases.id AS case_id, cases.number AS number, e.actor AS actor, e.at AS at, e.detail AS detail, cases.category_code AS current FROM case_events e JOIN cases ON cases.id = e.case_id WHERE e.name = 'category_changed'",
                order: "ORDER BY e.id DESC",
                |qb| {
                    push_case_visibility!(qb, visibility);
                },
                |row| {
                    let detail: String = row.try_get("detail")?;
                    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null);
                    RelabelRecord {
                        event_id: row.try_get("event_id")?,
                        case_id: row.try_get("case_id")?,
                        number: row.try_get("number")?,
                        actor: row.try_get("actor")?,
                        at: row.try_get("at")?,
                        from_category: detail.get("from_category").and_then(|v| v.as_str()).map(str::to_string),
                        to_category: detail.get("category").and_then(|v| v.as_str()).map(str::to_string),
                        reason: detail.get("reason").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
                        current_category: row.try_get("current")?,
                    }
                });
            Ok(Paged { items, total })
        })
    }
}

/// One relabelling of a case's category.
#[derive(Debug, Clone, Serialize)]
pub struct RelabelRecord {
    pub event_id: i64,
    pub case_id: i64,
    pub number: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub from_category: Option<String>,
    pub to_category: Option<String>,
    pub reason: String,
    pub current_category: Option<String>,
}
