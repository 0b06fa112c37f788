//! The daily bulletin's figures (每日通报): a day's intake and resolutions, overdue cases by unit, and the
//! supervision orders opened and closed — for one region subtree.

use crate::common::micros;
use crate::*;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

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
    /// The bulletin's figures for cases located or owned under `path`, for the day [from, to).
    pub async fn bulletin(
        &self,
        path: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<BulletinFigures> {
        let (from, to) = (micros(from), micros(to));
        let like = format!("{path}%");
        let scope = "(path LIKE $1 OR owner_path LIKE $1)";
        on_pool!(self, pool => {
            let mut out = BulletinFigures::default();
            let count = |sql: String| sqlx::query(sqlx::AssertSqlSafe(sql));
            out.registered = count(format!("SELECT COUNT(*) AS n FROM cases WHERE {scope} AND created_at >= $2 AND created_at < $3"))
                .bind(&like).bind(from).bind(to).fetch_one(pool).await?.try_get("n")?;
            out.accepted = count(format!("SELECT COUNT(*) AS n FROM cases WHERE {scope} AND accepted_at >= $2 AND accepted_at < $3"))
                .bind(&like).bind(from).bind(to).fetch_one(pool).await?.try_get("n")?;
            out.resolved = count(format!("SELECT COUNT(*) AS n FROM cases WHERE {scope} AND resolved_at >= $2 AND resolved_at < $3 AND status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')"))
                .bind(&like).bind(from).bind(to).fetch_one(pool).await?.try_get("n")?;
            for (column, target) in [("channel", &mut out.registered_by_channel), ("kind", &mut out.registered_by_kind)] {
                let rows = count(format!("SELECT {column} AS label, COUNT(*) AS n FROM cases WHERE {scope} AND created_at >= $2 AND created_at < $3 GROUP BY {column} ORDER BY n DESC, label"))
                    .bind(&like).bind(from).bind(to).fetch_all(pool).await?;
                for row in rows {
                    target.push(LabelledCount { label: row.try_get("label")?, count: row.try_get("n")? });
                }
            }
            let rows = count(format!("SELECT COALESCE(lead_unit, 'region:' || owner_region) AS label, COUNT(*) AS n FROM cases WHERE {scope} \
                AND status IN ('accepted', 'dispatched', 'in_progress', 'returned') AND handling_due < $2 GROUP BY COALESCE(lead_unit, 'region:' || owner_region) ORDER BY n DESC, label"))
                .bind(&like).bind(to).fetch_all(pool).await?;
            for row in rows {
                let n: i64 = row.try_get("n")?;
                out.overdue += n;
                out.overdue_by_unit.push(LabelledCount { label: row.try_get("label")?, count: n });
            }
            out.supervision_opened = count("SELECT COUNT(*) AS n FROM supervision_orders s JOIN cases c ON c.id = s.case_id WHERE (c.path LIKE $1 OR c.owner_path LIKE $1) AND s.created_at >= $2 AND s.created_at < $3".to_string())
                .bind(&like).bind(from).bind(to).fetch_one(pool).await?.try_get("n")?;
            out.supervision_closed = count("SELECT COUNT(*) AS n FROM supervision_orders s JOIN cases c ON c.id = s.case_id WHERE (c.path LIKE $1 OR c.owner_path LIKE $1) AND s.closed_at >= $2 AND s.closed_at < $3".to_string())
                .bind(&like).bind(from).bind(to).fetch_one(pool).await?.try_get("n")?;
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
