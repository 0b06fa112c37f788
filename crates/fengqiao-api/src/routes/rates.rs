//! The rates with their formulas, and the cases behind each figure.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::wire::{CaseOut, Paged, Paging};
use fengqiao_app::rates::{Breakdown, PointParams, RateQuery};
use fengqiao_store::{Figure, Part};

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(rates))
        .routes(routes!(rate_cases))
        .routes(routes!(rate_breakdown))
        .routes(routes!(case_points))
        .routes(routes!(bulletin))
        .routes(routes!(bulletin_export))
        .routes(routes!(relabels))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RateParams {
    /// A region subtree within the caller's scope.
    pub region_code: Option<String>,
    /// `dept:ID` or `grid:CODE`: cases currently with that unit.
    pub unit: Option<String>,
    /// Cases located in this grid.
    pub grid_code: Option<String>,
    /// A category code; its subcategories are included.
    pub category: Option<String>,
    /// First local day of the period (inclusive).
    pub from: chrono::NaiveDate,
    /// Last local day of the period (inclusive).
    pub to: chrono::NaiveDate,
}

impl RateParams {
    fn query(&self) -> RateQuery {
        RateQuery {
            region_code: self.region_code.clone(),
            unit: self.unit.clone(),
            grid_code: self.grid_code.clone(),
            category: self.category.clone(),
            from: self.from,
            to: self.to,
        }
    }
}

/// The rates over the cohort of cases accepted in the period, as of now.
///
/// - cohort: cases accepted in the period, rejected (不予受理) and merged duplicates excluded (counted apart);
/// - completion 办结率 = cohort cases now resolved (resolved, awaiting follow-up, closed, archived; a reopened
///   case counts only once resolved again) ÷ cohort;
/// - on-time 按期办结率 = cohort cases resolved by their (extended) handling deadline ÷ (cohort cases resolved +
///   cohort cases open and past their deadline);
/// - response 响应率 = dispatches answered (claimed or returned) within the response limit ÷ (dispatches answered +
///   dispatches unanswered past the limit), over the cohort's dispatches;
/// - satisfaction 满意率 = follow-ups answered satisfied or basically satisfied ÷ follow-ups answered
///   (unreachable and declined shown apart);
/// - resolution 化解率 = cohort disputes closed with the citizen satisfied or basically satisfied ÷ cohort disputes.
///
/// A case counts under its current category. Every figure drills down at `/api/v1/rates/cases`.
#[utoipa::path(get, path = "/api/v1/rates", tag = "rates", security(("bearer" = [])), params(RateParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn rates(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(params): Query<RateParams>,
) -> ApiResult<Json<serde_json::Value>> {
    let rates = state.app.rates(&actor, &params.query()).await?;
    Ok(Json(serde_json::to_value(rates).unwrap_or_default()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakdownParams {
    /// month, day (a trend over the period), region (the regions one level below `region_code` or the
    /// caller's territory), grid, category (the subcategories of `category`, or the top ones), department
    pub by: String,
}

/// The rates split by month or day (a trend), by region, grid, category or department, for rankings and
/// the map. Each row carries its key: its figures equal `/api/v1/rates` with that key as `region_code`,
/// `grid_code`, `category` or `unit` (or the row's own `from`/`to` for a trend), so each row drills down at
/// `/api/v1/rates/cases` the same way. Rows with no cases are left out, except for regions and periods.
#[utoipa::path(get, path = "/api/v1/rates/breakdown", tag = "rates", security(("bearer" = [])), params(RateParams, BreakdownParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn rate_breakdown(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(params): Query<RateParams>,
    Query(b): Query<BreakdownParams>,
) -> ApiResult<Json<serde_json::Value>> {
    let by: Breakdown =
        serde_json::from_value(serde_json::Value::String(b.by.clone())).map_err(|_| {
            ApiError::field(
                "by",
                "unknown",
                "分组方式应为 month、day、region、grid、category 或 department",
                "by is month, day, region, grid, category or department",
            )
        })?;
    let breakdown = state
        .app
        .rate_breakdown(&actor, &params.query(), by)
        .await?;
    Ok(Json(serde_json::to_value(breakdown).unwrap_or_default()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PointsQuery {
    /// A region subtree within the caller's scope.
    pub region_code: Option<String>,
    /// A category code; its subcategories are included.
    pub category: Option<String>,
    /// Case statuses, comma-separated (any when absent).
    pub status: Option<String>,
    /// First local day of registration (inclusive).
    pub from: chrono::NaiveDate,
    /// Last local day of registration (inclusive).
    pub to: chrono::NaiveDate,
    /// The map box: west,south,east,north in WGS-84 degrees.
    pub bbox: String,
    /// The map's zoom level (0–22): cells are about 40 screen pixels.
    pub zoom: u8,
}

/// The visible cases registered in the period inside the map box, clustered on the server (at most 2,000
/// cells, the most populous; `truncated` says when smaller ones were left out). A cell of one case names it.
#[utoipa::path(get, path = "/api/v1/case-points", tag = "rates", security(("bearer" = [])), params(PointsQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn case_points(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<PointsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let numbers: Vec<f64> = q
        .bbox
        .split(',')
        .map(|v| v.trim().parse::<f64>().unwrap_or(f64::NAN))
        .collect();
    let bbox: [f64; 4] = numbers.try_into().map_err(|_| {
        ApiError::field(
            "bbox",
            "invalid",
            "地图范围应为 西,南,东,北 四个数",
            "bbox is four numbers: west,south,east,north",
        )
    })?;
    let params = PointParams {
        region_code: q.region_code.clone(),
        category: q.category.clone(),
        statuses: q
            .status
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        from: q.from,
        to: q.to,
        bbox,
        zoom: q.zoom,
    };
    let points = state.app.case_points(&actor, &params).await?;
    Ok(Json(serde_json::to_value(points).unwrap_or_default()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DrillParams {
    /// cohort, received, rejected, merged, completion, on_time, response, satisfaction, resolution
    pub figure: String,
    /// numerator or denominator (ignored for cohort, received, rejected, merged)
    pub part: Option<String>,
}

/// The cases behind one figure's numerator or denominator (same scope and period parameters as `/api/v1/rates`).
#[utoipa::path(get, path = "/api/v1/rates/cases", tag = "rates", security(("bearer" = [])), params(RateParams, DrillParams, Paging),
    responses((status = 200, body = Paged<CaseOut>), (status = 422, body = ErrorBody)))]
async fn rate_cases(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(params): Query<RateParams>,
    Query(drill): Query<DrillParams>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Paged<CaseOut>>> {
    let figure: Figure = serde_json::from_value(serde_json::Value::String(drill.figure.clone())).map_err(|_| {
        ApiError::field("figure", "unknown", "未知的指标", "unknown figure: cohort, received, rejected, merged, completion, on_time, response, satisfaction, resolution")
    })?;
    let part = match drill.part.as_deref() {
        None | Some("numerator") => Part::Numerator,
        Some("denominator") => Part::Denominator,
        Some(_) => {
            return Err(ApiError::field(
                "part",
                "unknown",
                "应为 numerator 或 denominator",
                "part is numerator or denominator",
            ));
        }
    };
    let page = state
        .app
        .rate_cases(&actor, &params.query(), figure, part, paging.page())
        .await?;
    Ok(Json(Paged {
        items: page.items.into_iter().map(CaseOut::from).collect(),
        total: page.total,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BulletinParams {
    /// The town or county (within the caller's scope).
    pub region_code: String,
    /// The local day reported on (default: yesterday).
    pub date: Option<chrono::NaiveDate>,
}

/// The daily bulletin (每日通报) of a town or county: the day's intake and resolutions, open overdue cases by
/// unit, supervision orders opened and closed.
#[utoipa::path(get, path = "/api/v1/bulletin", tag = "rates", security(("bearer" = [])), params(BulletinParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn bulletin(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<BulletinParams>,
) -> ApiResult<Json<serde_json::Value>> {
    let bulletin = state.app.bulletin(&actor, &q.region_code, q.date).await?;
    Ok(Json(serde_json::to_value(bulletin).unwrap_or_default()))
}

/// The daily bulletin as an XLSX workbook (the export is recorded).
#[utoipa::path(get, path = "/api/v1/bulletin/export", tag = "rates", security(("bearer" = [])), params(BulletinParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 404, body = ErrorBody)))]
async fn bulletin_export(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<BulletinParams>,
) -> ApiResult<impl IntoResponse> {
    let (bulletin, bytes) = state
        .app
        .bulletin_xlsx(&actor, &q.region_code, q.date)
        .await?;
    let name = format!("bulletin-{}-{}.xlsx", bulletin.region_code, bulletin.date);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    ))
}

/// Every relabelling of a visible case's category (who, when, from, to, why), newest first — so the rates
/// cannot be quietly gamed by moving cases between categories.
#[utoipa::path(get, path = "/api/v1/relabels", tag = "rates", security(("bearer" = [])), params(Paging),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
async fn relabels(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<serde_json::Value>> {
    let page = state.app.relabels(&actor, paging.page()).await?;
    Ok(Json(serde_json::to_value(page).unwrap_or_default()))
}
