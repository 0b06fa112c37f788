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
use fengqiao_store::{Figure, Page, Paged, Part, RateCounts, RateScope};

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
        Ok(Rates {
            from: query.from,
            to: query.to,
            computed_at: scope.now,
            completion: rate(c.completion_numerator, c.cohort),
            on_time: rate(c.on_time_numerator, c.on_time_denominator),
            response: rate(c.response_numerator, c.response_denominator),
            satisfaction: rate(c.satisfaction_numerator, c.satisfaction_denominator),
            resolution: rate(c.resolution_numerator, c.resolution_denominator),
            counts: c,
        })
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
