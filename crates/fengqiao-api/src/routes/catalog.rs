//! The matter catalog and the working calendar.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use fengqiao_domain::access::Permission;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories))
        .routes(routes!(import_categories))
        .routes(routes!(save_category))
        .routes(routes!(suggest_categories))
        .routes(routes!(calendar_days))
        .routes(routes!(import_notice))
        .routes(routes!(rebuild_search))
}

/// The matter catalog (事项清单) with each category's effective limits, default departments and flags.
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)))]
async fn list_categories(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
) -> ApiResult<Json<serde_json::Value>> {
    state
        .app
        .require(&actor, Permission::ReadOrganisation)
        .await?;
    Ok(Json(
        serde_json::to_value(state.app.categories().await?).unwrap_or_default(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// `catalog.xlsx` or `catalog.csv`: the extension chooses the reader.
    pub file_name: String,
}

/// Imports the catalog from XLSX or CSV (header: code, name, parent_code, case_kind, response, handling,
/// follow_up, town_department, county_department, grid_handles, auto_dispatch, pausable, keywords; limits
/// written 4h, 5d or 60cd). All or nothing; every bad cell is named.
#[utoipa::path(post, path = "/api/v1/categories/import", tag = "catalog", security(("bearer" = [])), params(FileQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_categories(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<FileQuery>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let n = state
        .app
        .import_catalog(Some(&actor), &body, &q.file_name)
        .await?;
    Ok(Json(serde_json::json!({ "saved": n })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// The citizen's words.
    pub text: String,
}

/// Proposes categories for free text (keyword hits, best first).
#[utoipa::path(get, path = "/api/v1/categories/suggest", tag = "catalog", security(("bearer" = [])), params(SuggestQuery),
    responses((status = 200, body = Object)))]
async fn suggest_categories(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<SuggestQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    state
        .app
        .require(&actor, Permission::ReadOrganisation)
        .await?;
    let found = state.app.suggest_categories(&q.text, 5).await?;
    let list: Vec<serde_json::Value> = found
        .into_iter()
        .map(|(c, hits)| serde_json::json!({ "code": c.code, "name": c.name, "hits": hits }))
        .collect();
    Ok(Json(serde_json::Value::Array(list)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
}

/// The working calendar between two dates (at most a year): working or not, provisional or not, the holiday's name.
#[utoipa::path(get, path = "/api/v1/calendar/days", tag = "catalog", security(("bearer" = [])), params(DaysQuery),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn calendar_days(
    State(_state): State<ApiState>,
    Authenticated(_actor): Authenticated,
    Query(q): Query<DaysQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    if q.to < q.from || (q.to - q.from).num_days() > 366 {
        return Err(ApiError::field(
            "to",
            "range",
            "日期范围应在一年以内",
            "the range must be within a year",
        ));
    }
    let calendar = _state.app.calendar();
    let mut days = Vec::new();
    let mut day = q.from;
    while day <= q.to {
        let info = calendar.day(day);
        days.push(serde_json::json!({ "date": day, "working": info.working, "provisional": info.provisional, "name": info.name }));
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    Ok(Json(
        serde_json::json!({ "version": calendar.version(), "days": days }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    pub year: i32,
}

/// Imports a year's State Council holiday notice (CSV `date,kind,name`, kind holiday|workday); open cases'
/// provisional deadlines are recomputed on it.
#[utoipa::path(post, path = "/api/v1/calendar/notices", tag = "catalog", security(("bearer" = [])), params(NoticeQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_notice(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<NoticeQuery>,
    body: String,
) -> ApiResult<Json<serde_json::Value>> {
    let outcome = state
        .app
        .import_calendar_notice(Some(&actor), q.year, &body)
        .await?;
    Ok(Json(serde_json::to_value(outcome).unwrap_or_default()))
}

/// Creates or edits one category (administrators). Fields as in the import's header; limits written
/// 4h, 5d or 60cd; empty fields inherit from the parent.
#[utoipa::path(put, path = "/api/v1/categories/{code}", tag = "catalog", security(("bearer" = [])), params(("code" = String, Path)),
    request_body(content = Object),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_category(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
    Json(body): Json<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<serde_json::Value>> {
    let category = state.app.save_category(&actor, &code, &body).await?;
    Ok(Json(serde_json::to_value(category).unwrap_or_default()))
}

/// Rebuilds the Chinese full-text index of cases from the database (administrators; the index is derived data).
#[utoipa::path(post, path = "/api/v1/search/rebuild", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
async fn rebuild_search(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
) -> ApiResult<Json<serde_json::Value>> {
    let (_, n) = state.app.rebuild_search_index(Some(&actor)).await?;
    Ok(Json(serde_json::json!({ "indexed": n })))
}
