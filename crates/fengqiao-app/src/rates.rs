//! The rates leaders and supervisors are judged by, computed from the case records, scoped like everything else,
//! with every figure drillable to the cases it counts.
//!
//! Formulas (DESIGN.md, "Rates"): the cohort is the cases accepted in the period (rejected and merged cases are
//! counted apart); completion 办结率 = cohort cases now resolved ÷ cohort; on-time 按期办结率 = cohort cases
//! resolved by their (extended) handling deadline ÷ (cohort resolved + cohort open past their deadline);
//! response 响应率 = dispatches answered (claimed or returned) within the response limit ÷ (answered +
//! unanswered past the limit); satisfaction 满意率 = follow-ups satisfied or basically satisfied ÷ follow-ups
//! answered (unreachable and declined apart); resolution 化解率 = cohort disputes closed with the citizen
//! satisfied ÷ cohort disputes. A case counts under its current category.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::cases::CaseView;
use crate::{App, AppError, AppResult};
use fengqiao_domain::access::Permission;
use fengqiao_domain::calendar::start_of_local_day;
use fengqiao_domain::error::FieldError;
use fengqiao_store::{
    Figure, GroupCounts, Page, Paged, Part, PointCluster, PointQuery, RateCounts, RateGroup,
    RateScope, RegionFilter,
};

/// What to compute rates over.
#[derive(Debug, Clone, Deserialize)]
pub struct RateQuery {
    /// A region subtree (within the caller's scope).
    pub region_code: Option<String>,
    /// `dept:ID` or `grid:CODE`: cases currently with that unit.
    pub unit: Option<String>,
    /// Cases located in this grid.
    pub grid_code: Option<String>,
    /// A category and its subcategories.
    pub category: Option<String>,
    /// First and last local day of the period (inclusive).
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One rate: numerator, denominator, and the ratio (None when the denominator is 0).
#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    pub numerator: i64,
    pub denominator: i64,
    pub rate: Option<f64>,
}

fn rate(numerator: i64, denominator: i64) -> Rate {
    Rate {
        numerator,
        denominator,
        rate: (denominator > 0).then(|| numerator as f64 / denominator as f64),
    }
}

/// The figures for a scope and period.
#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub computed_at: chrono::DateTime<chrono::Utc>,
    pub counts: RateCounts,
    pub completion: Rate,
    pub on_time: Rate,
    pub response: Rate,
    pub satisfaction: Rate,
    pub resolution: Rate,
}

/// How a breakdown splits the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// Calendar months of the period (a trend).
    Month,
    /// Days of the period.
    Day,
    /// The regions one level below the asked region (or the caller's territory).
    Region,
    /// The grids the cases lie in.
    Grid,
    /// The subcategories of the asked category (or the top categories).
    Category,
    /// The departments the cases have been with.
    Department,
}

/// What the dashboard's map asks for.
#[derive(Debug, Clone)]
pub struct PointParams {
    pub region_code: Option<String>,
    pub category: Option<String>,
    /// Case statuses (any when empty).
    pub statuses: Vec<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// West, south, east, north.
    pub bbox: [f64; 4],
    pub zoom: u8,
}

/// Clusters returned per map view, at most (the most populous cells).
pub const MAX_CLUSTERS: i64 = 2_000;

/// The cases on the map: clusters, the number of cases in the box, and whether smaller cells were left out.
#[derive(Debug, Clone, Serialize)]
pub struct CasePoints {
    pub total: i64,
    pub truncated: bool,
    pub clusters: Vec<PointCluster>,
}

/// Periods per trend, at most.
pub const MAX_PERIODS: usize = 62;

/// One row of a breakdown: its key (the filter value that drills down to it), a display name, its rates.
#[derive(Debug, Clone, Serialize)]
pub struct RateRow {
    pub key: String,
    pub name: String,
    pub rates: Rates,
}

/// The rates split one way.
#[derive(Debug, Clone, Serialize)]
pub struct RateBreakdown {
    pub by: Breakdown,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub computed_at: chrono::DateTime<chrono::Utc>,
    pub rows: Vec<RateRow>,
}

fn rates_of(
    c: RateCounts,
    from: NaiveDate,
    to: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Rates {
    Rates {
        from,
        to,
        computed_at: now,
        completion: rate(c.completion_numerator, c.cohort),
        on_time: rate(c.on_time_numerator, c.on_time_denominator),
        response: rate(c.response_numerator, c.response_denominator),
        satisfaction: rate(c.satisfaction_numerator, c.satisfaction_denominator),
        resolution: rate(c.resolution_numerator, c.resolution_denominator),
        counts: c,
    }
}

/// A group's counts split into what counts on the day of acceptance (the cohort's figures) and what counts on
/// the day of registration (received, refused, merged).
fn split_by_day(c: &RateCounts) -> (RateCounts, RateCounts) {
    let registered = RateCounts {
        received: c.received,
        rejected: c.rejected,
        merged: c.merged,
        ..RateCounts::default()
    };
    let cohort = RateCounts {
        received: 0,
        rejected: 0,
        merged: 0,
        ..c.clone()
    };
    (cohort, registered)
}

/// The calendar months (or days) a period covers, clipped to it: (key, first day, last day).
fn periods(from: NaiveDate, to: NaiveDate, by: Breakdown) -> Vec<(String, NaiveDate, NaiveDate)> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let mut day = from;
    while day <= to && out.len() <= MAX_PERIODS {
        let (key, last) = if by == Breakdown::Day {
            (day.format("%Y-%m-%d").to_string(), day)
        } else {
            let next = if day.month() == 12 {
                NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
            };
            let last = next.and_then(|n| n.pred_opt()).unwrap_or(to).min(to);
            (day.format("%Y-%m").to_string(), last)
        };
        out.push((key, day, last));
        match last.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

impl App {
    async fn rate_scope(&self, actor: &Actor, query: &RateQuery) -> AppResult<RateScope> {
        if !(actor.may(Permission::ReadFigures)
            || actor.may(Permission::DispatchCases)
            || actor.may(Permission::SuperviseCases))
        {
            self.require(actor, Permission::ReadFigures).await?;
        }
        if query.to < query.from || (query.to - query.from).num_days() > 3660 {
            return Err(AppError::Validation(vec![FieldError::new(
                "to",
                "range",
                "统计期间无效（结束日期不能早于开始日期，且不超过十年）",
                "the period is invalid (to before from, or over ten years)",
            )]));
        }
        let region_path = match query.region_code.as_deref().filter(|c| !c.is_empty()) {
            Some(code) => match self.store.get_region(code).await? {
                Some(region) if actor.visibility.sees(&region.path) => Some(region.path),
                _ => return self.out_of_scope(actor, format!("region:{code}")).await,
            },
            None => None,
        };
        let to_exclusive = query.to.succ_opt().unwrap_or(query.to);
        Ok(RateScope {
            visibility: self.case_visibility(actor),
            region_path,
            unit: query.unit.clone().filter(|u| !u.is_empty()),
            grid_code: query.grid_code.clone().filter(|g| !g.is_empty()),
            category: query.category.clone().filter(|c| !c.is_empty()),
            from: start_of_local_day(query.from),
            to: start_of_local_day(to_exclusive),
            now: self.now(),
        })
    }

    /// The rates for a scope and period, computed now from the case records.
    pub async fn rates(&self, actor: &Actor, query: &RateQuery) -> AppResult<Rates> {
        let scope = self.rate_scope(actor, query).await?;
        let c = self.store.rate_counts(&scope).await?;
        Ok(rates_of(c, query.from, query.to, scope.now))
    }

    /// The rates split by period (a trend), place, grid, category or department. Each row's figures equal the
    /// figures asked for with that row's filter (`region_code`, `grid_code`, `category`, `unit`, or the row's
    /// own `from`/`to`), so every row drills down through [`App::rate_cases`].
    pub async fn rate_breakdown(
        &self,
        actor: &Actor,
        query: &RateQuery,
        by: Breakdown,
    ) -> AppResult<RateBreakdown> {
        let scope = self.rate_scope(actor, query).await?;
        let mut rows = Vec::new();
        match by {
            Breakdown::Month | Breakdown::Day => {
                let periods = periods(query.from, query.to, by);
                if periods.len() > MAX_PERIODS {
                    return Err(AppError::Validation(vec![FieldError::new(
                        "to",
                        "range",
                        format!("按期间分组时最多 {MAX_PERIODS} 段，请缩短统计期间"),
                        format!("at most {MAX_PERIODS} periods per breakdown: shorten the period"),
                    )]));
                }
                // From the rollup in two queries where it can answer; else in one grouped pass, each case's
                // cohort figures counted on its day of acceptance and its registration on its day of
                // registration.
                let monthly = by == Breakdown::Month;
                let by_period: std::collections::HashMap<String, RateCounts> =
                    match self.store.rate_trend(&scope, monthly).await? {
                        Some(groups) => groups
                            .into_iter()
                            .filter_map(|g| g.key.map(|k| (k, g.counts)))
                            .collect(),
                        None => {
                            let group = if monthly {
                                RateGroup::Month
                            } else {
                                RateGroup::Day
                            };
                            let mut out: std::collections::HashMap<String, RateCounts> =
                                std::collections::HashMap::new();
                            for g in self.store.rate_counts_by(&scope, group).await? {
                                let (cohort, registered) = split_by_day(&g.counts);
                                if let Some(accepted) = g.key {
                                    out.entry(accepted).or_default().add(&cohort);
                                }
                                if let Some(created) = g.second_key {
                                    out.entry(created).or_default().add(&registered);
                                }
                            }
                            out
                        }
                    };
                for (key, from, to) in periods {
                    let counts = by_period.get(&key).cloned().unwrap_or_default();
                    rows.push(RateRow {
                        name: key.clone(),
                        key,
                        rates: rates_of(counts, from, to, scope.now),
                    });
                }
            }
            Breakdown::Region => {
                let children = self.region_children(actor, &scope).await?;
                let groups = self.store.rate_counts_by(&scope, RateGroup::Place).await?;
                for (code, name, path) in children {
                    let mut counts = RateCounts::default();
                    for g in &groups {
                        let within =
                            |p: &Option<String>| p.as_deref().is_some_and(|p| p.starts_with(&path));
                        if within(&g.key) || within(&g.second_key) {
                            counts.add(&g.counts);
                        }
                    }
                    rows.push(RateRow {
                        key: code,
                        name,
                        rates: rates_of(counts, query.from, query.to, scope.now),
                    });
                }
            }
            Breakdown::Category => {
                let categories = self.store.list_categories().await?;
                let parent = scope.category.clone();
                let groups = self
                    .store
                    .rate_counts_by(&scope, RateGroup::Category)
                    .await?;
                for c in categories.iter().filter(|c| c.parent_code == parent) {
                    let prefix = format!("{}.", c.code);
                    let mut counts = RateCounts::default();
                    for g in groups.iter().filter(|g| {
                        g.key
                            .as_deref()
                            .is_some_and(|k| k == c.code || k.starts_with(&prefix))
                    }) {
                        counts.add(&g.counts);
                    }
                    if counts != RateCounts::default() {
                        rows.push(RateRow {
                            key: c.code.clone(),
                            name: c.name.clone(),
                            rates: rates_of(counts, query.from, query.to, scope.now),
                        });
                    }
                }
            }
            Breakdown::Grid => {
                let groups = self.store.rate_counts_by(&scope, RateGroup::Grid).await?;
                let codes: Vec<String> = groups.iter().filter_map(|g| g.key.clone()).collect();
                let names = self.store.grid_names(&codes).await?;
                for g in groups {
                    let Some(code) = g.key else { continue };
                    let name = names.get(&code).cloned().unwrap_or_else(|| code.clone());
                    rows.push(RateRow {
                        key: code,
                        name,
                        rates: rates_of(g.counts, query.from, query.to, scope.now),
                    });
                }
            }
            Breakdown::Department => {
                let groups = self.store.rate_counts_by(&scope, RateGroup::Unit).await?;
                let departments: Vec<(String, i64, RateCounts)> = groups
                    .into_iter()
                    .filter_map(|GroupCounts { key, counts, .. }| {
                        let key = key?;
                        let id = key.strip_prefix("dept:")?.parse::<i64>().ok()?;
                        Some((key, id, counts))
                    })
                    .collect();
                let ids: Vec<i64> = departments.iter().map(|d| d.1).collect();
                let names = self.store.department_names(&ids).await?;
                for (key, id, counts) in departments {
                    let name = names.get(&id).cloned().unwrap_or_else(|| key.clone());
                    rows.push(RateRow {
                        key,
                        name,
                        rates: rates_of(counts, query.from, query.to, scope.now),
                    });
                }
            }
        }
        if !matches!(by, Breakdown::Month | Breakdown::Day) {
            rows.sort_by(|a, b| {
                b.rates
                    .counts
                    .cohort
                    .cmp(&a.rates.counts.cohort)
                    .then(a.key.cmp(&b.key))
            });
        }
        Ok(RateBreakdown {
            by,
            from: query.from,
            to: query.to,
            computed_at: scope.now,
            rows,
        })
    }

    /// The visible cases registered in a period as clustered points inside a box, for the dashboard's map
    /// (same permission and narrowing as the rates).
    pub async fn case_points(&self, actor: &Actor, q: &PointParams) -> AppResult<CasePoints> {
        let rate_query = RateQuery {
            region_code: q.region_code.clone(),
            unit: None,
            grid_code: None,
            category: q.category.clone(),
            from: q.from,
            to: q.to,
        };
        let scope = self.rate_scope(actor, &rate_query).await?;
        let mut errors = Vec::new();
        let [west, south, east, north] = q.bbox;
        if !q.bbox.iter().all(|v| v.is_finite())
            || !(-180.0..=180.0).contains(&west)
            || !(-180.0..=180.0).contains(&east)
            || !(-90.0..=90.0).contains(&south)
            || !(-90.0..=90.0).contains(&north)
            || west >= east
            || south >= north
        {
            errors.push(FieldError::new(
                "bbox",
                "invalid",
                "地图范围无效（应为 西,南,东,北 的经纬度，且西小于东、南小于北）",
                "the map box is invalid: west,south,east,north in degrees, west < east and south < north",
            ));
        }
        if q.zoom > 22 {
            errors.push(FieldError::new(
                "zoom",
                "range",
                "缩放级别应在 0 到 22 之间",
                "zoom is 0 to 22",
            ));
        }
        let mut statuses = Vec::new();
        for status in q.statuses.iter().filter(|s| !s.is_empty()) {
            match fengqiao_domain::case::Status::parse(status) {
                Some(s) => statuses.push(s.as_str().to_string()),
                None => errors.push(FieldError::new(
                    "status",
                    "unknown",
                    format!("未知的案件状态：{status}"),
                    format!("unknown case status: {status}"),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        // Cells of about 40 screen pixels at the map's zoom (256-pixel tiles).
        let cell = 360.0 / 2f64.powi(q.zoom as i32) / 256.0 * 40.0;
        let (clusters, total) = self
            .store
            .case_points(&PointQuery {
                visibility: scope.visibility,
                region_path: scope.region_path,
                category: scope.category,
                statuses,
                from: scope.from,
                to: scope.to,
                bbox: q.bbox,
                cell,
                limit: MAX_CLUSTERS,
            })
            .await?;
        Ok(CasePoints {
            total,
            truncated: clusters.iter().map(|c| c.count).sum::<i64>() < total,
            clusters,
        })
    }

    /// The regions one level below the breakdown's region (the asked region, else the caller's single
    /// territory), or the caller's territories themselves when they have several: (code, name, path).
    async fn region_children(
        &self,
        actor: &Actor,
        scope: &RateScope,
    ) -> AppResult<Vec<(String, String, String)>> {
        let parent = match &scope.region_path {
            Some(path) => Some(path.clone()),
            None if scope.visibility.path_prefixes.len() == 1 => {
                scope.visibility.path_prefixes.first().cloned()
            }
            None => None,
        };
        let mut out = Vec::new();
        match parent
            .as_deref()
            .and_then(|p| p.rsplit('/').find(|s| !s.is_empty()))
        {
            Some(code) => {
                let children = self
                    .store
                    .list_regions(
                        &actor.visibility,
                        &RegionFilter {
                            parent_code: Some(code.to_string()),
                            ..Default::default()
                        },
                        Page {
                            offset: 0,
                            limit: 1000,
                        },
                    )
                    .await?;
                for r in children.items {
                    out.push((r.code, r.name, r.path));
                }
            }
            None => {
                for prefix in &scope.visibility.path_prefixes {
                    if let Some(code) = prefix.rsplit('/').find(|s| !s.is_empty())
                        && let Some(r) = self.store.get_region(code).await?
                    {
                        out.push((r.code, r.name, r.path));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The cases a figure counts (for the response rate: the cases whose dispatches it counts).
    pub async fn rate_cases(
        &self,
        actor: &Actor,
        query: &RateQuery,
        figure: Figure,
        part: Part,
        page: Page,
    ) -> AppResult<Paged<CaseView>> {
        let scope = self.rate_scope(actor, query).await?;
        let found = self.store.rate_cases(&scope, figure, part, page).await?;
        Ok(Paged {
            items: self.views_of(found.items).await?,
            total: found.total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_are_clipped_to_the_period() {
        let p = periods(d("2026-01-15"), d("2026-03-10"), Breakdown::Month);
        assert_eq!(
            p,
            vec![
                ("2026-01".into(), d("2026-01-15"), d("2026-01-31")),
                ("2026-02".into(), d("2026-02-01"), d("2026-02-28")),
                ("2026-03".into(), d("2026-03-01"), d("2026-03-10")),
            ]
        );
        let p = periods(d("2025-12-01"), d("2026-01-31"), Breakdown::Month);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].2, d("2025-12-31"));
    }

    #[test]
    fn days_cover_each_day_once() {
        let p = periods(d("2026-02-27"), d("2026-03-02"), Breakdown::Day);
        let keys: Vec<_> = p.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(
            keys,
            ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
        );
        assert!(p.iter().all(|x| x.1 == x.2));
        // Too long a period stops one past the maximum, so the caller can refuse it.
        assert_eq!(
            periods(d("2026-01-01"), d("2026-12-31"), Breakdown::Day).len(),
            MAX_PERIODS + 1
        );
    }
}
