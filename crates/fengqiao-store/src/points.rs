//! The cases of a territory as points on the map, clustered on the server into cells of a size the map's zoom
//! chooses, so a county's hundreds of thousands of cases reach the browser as at most a few thousand markers.

use crate::common::micros;
use crate::*;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{QueryBuilder, Row};

/// Which cases to place: visible, narrowed like the rates, registered in [from, to), inside a box.
#[derive(Debug, Clone)]
pub struct PointQuery {
    pub visibility: CaseVisibility,
    pub region_path: Option<String>,
    pub category: Option<String>,
    /// Only these statuses (any when empty).
    pub statuses: Vec<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// West, south, east, north (WGS-84 degrees).
    pub bbox: [f64; 4],
    /// The side of a cluster cell, in degrees.
    pub cell: f64,
    /// At most this many cells are returned (the most populous).
    pub limit: i64,
}

/// A cell's cases: their mean position and count; for a single case, the case itself.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PointCluster {
    pub lng: f64,
    pub lat: f64,
    pub count: i64,
    /// The case, when the cell holds exactly one.
    pub case_id: Option<i64>,
}

impl Store {
    /// The visible cases in a box, clustered into cells (most populous first), and how many cases there are.
    pub async fn case_points(&self, q: &PointQuery) -> StoreResult<(Vec<PointCluster>, i64)> {
        let [west, south, east, north] = q.bbox;
        // SQLite's CAST truncates toward zero (a floor for the non-negative offsets here); PostgreSQL's rounds.
        let cell_of = |column: &str, origin: f64| match self {
            Store::Sqlite(_) => format!(
                "CAST(({column} - {origin}) / {cell} AS INTEGER)",
                cell = q.cell
            ),
            Store::Postgres(_) => format!(
                "CAST(FLOOR(({column} - {origin}) / {cell}) AS BIGINT)",
                cell = q.cell
            ),
        };
        let (cx, cy) = (cell_of("lng", west), cell_of("lat", south));
        on_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!(
                "SELECT {cx} AS cx, {cy} AS cy, COUNT(*) AS n, AVG(lng) AS lng, AVG(lat) AS lat, MIN(id) AS id FROM ("
            ));
            push_visible_cases!(qb, "id, lng, lat", q.visibility, Vec::<String>::new(), |_part| {
                qb.push(" AND lng >= ").push_bind(west);
                qb.push(" AND lng <= ").push_bind(east);
                qb.push(" AND lat >= ").push_bind(south);
                qb.push(" AND lat <= ").push_bind(north);
                qb.push(" AND created_at >= ").push_bind(micros(q.from));
                qb.push(" AND created_at < ").push_bind(micros(q.to));
                if !q.statuses.is_empty() {
                    qb.push(" AND status IN (");
                    let mut separated = qb.separated(", ");
                    for status in &q.statuses {
                        separated.push_bind(status.clone());
                    }
                    qb.push(")");
                }
                if let Some(path) = &q.region_path {
                    let prefixes = [path.clone()];
                    qb.push(" AND (");
                    push_ranges!(qb, "path", prefixes);
                    qb.push(" OR ");
                    push_ranges!(qb, "owner_path", prefixes);
                    qb.push(")");
                }
                if let Some(category) = &q.category {
                    qb.push(" AND (category_code = ").push_bind(category.clone());
                    qb.push(" OR category_code LIKE ").push_bind(format!("{category}.%")).push(")");
                }
            });
            qb.push(") AS p GROUP BY cx, cy ORDER BY n DESC, cx, cy");
            let rows = qb.build().fetch_all(pool).await?;
            let total: i64 = rows.iter().map(|r| r.try_get::<i64, _>("n").unwrap_or(0)).sum();
            let mut clusters = Vec::new();
            for row in rows.iter().take(q.limit.max(0) as usize) {
                let count: i64 = row.try_get("n")?;
                clusters.push(PointCluster {
                    lng: row.try_get::<f64, _>("lng")?,
                    lat: row.try_get::<f64, _>("lat")?,
                    count,
                    case_id: if count == 1 { Some(row.try_get::<i64, _>("id")?) } else { None },
                });
            }
            Ok((clusters, total))
        })
    }
}
