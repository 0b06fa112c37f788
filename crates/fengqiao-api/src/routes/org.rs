//! The organisation: regions, grids, departments, and placing a point.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::wire::{DepartmentOut, GridOut, Paged, Paging, RegionOut, paged};
use fengqiao_app::org::{DepartmentInput, RegionInput};
use fengqiao_geo::coords::CoordSystem;
use fengqiao_store::{DepartmentFilter, GridFilter, RegionFilter};

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions, save_regions))
        .routes(routes!(get_region))
        .routes(routes!(list_grids, import_grids))
        .routes(routes!(get_grid))
        .routes(routes!(set_grid_staff))
        .routes(routes!(locate))
        .routes(routes!(list_departments, create_department))
        .routes(routes!(get_department))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    /// Only the children of this region.
    pub parent_code: Option<String>,
    /// province, city, county, town, area, village
    pub level: Option<String>,
    /// Part of the name.
    pub q: Option<String>,
}

/// Regions in the caller's scope.
#[utoipa::path(get, path = "/api/v1/regions", tag = "organisation", security(("bearer" = [])), params(RegionQuery, Paging),
    responses((status = 200, body = Paged<RegionOut>), (status = 401, body = ErrorBody)))]
async fn list_regions(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<RegionQuery>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Paged<RegionOut>>> {
    let filter = RegionFilter {
        parent_code: query.parent_code,
        level: query.level,
        name_contains: query.q,
    };
    let page = state.app.regions(&actor, &filter, paging.page()).await?;
    Ok(Json(paged(page, RegionOut::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegionIn {
    pub code: String,
    pub name: String,
    /// Defaults to the statistical parent; required under an in-between level.
    pub parent_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedCount {
    pub saved: usize,
}

/// Creates or renames regions (administrators; parents must be in scope). All or nothing.
#[utoipa::path(post, path = "/api/v1/regions", tag = "organisation", security(("bearer" = [])), request_body = Vec<RegionIn>,
    responses((status = 200, body = SavedCount), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_regions(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Json(body): Json<Vec<RegionIn>>,
) -> ApiResult<Json<SavedCount>> {
    let inputs: Vec<RegionInput> = body
        .into_iter()
        .map(|r| RegionInput {
            code: r.code,
            name: r.name,
            parent_code: r.parent_code,
        })
        .collect();
    let saved = state.app.save_regions(&actor, &inputs).await?;
    Ok(Json(SavedCount { saved }))
}

/// One region (404 when outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "organisation", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = RegionOut), (status = 404, body = ErrorBody)))]
async fn get_region(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
) -> ApiResult<Json<RegionOut>> {
    Ok(Json(state.app.region(&actor, &code).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GridQuery {
    /// Only grids under this region.
    pub region_code: Option<String>,
    /// basic or dedicated
    pub kind: Option<String>,
}

/// Grids in the caller's scope, with their polygons.
#[utoipa::path(get, path = "/api/v1/grids", tag = "organisation", security(("bearer" = [])), params(GridQuery, Paging),
    responses((status = 200, body = Paged<GridOut>)))]
async fn list_grids(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<GridQuery>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Paged<GridOut>>> {
    let filter = GridFilter {
        region_code: query.region_code,
        kind: query.kind,
    };
    Ok(Json(paged(
        state.app.grids(&actor, &filter, paging.page()).await?,
        GridOut::from,
    )))
}

/// Imports grids from a GeoJSON FeatureCollection (Polygon/MultiPolygon features with properties `code`,
/// `name`, `kind` = basic|dedicated, optional `coord_system` = wgs84|gcj02|bd09). All or nothing.
#[utoipa::path(post, path = "/api/v1/grids", tag = "organisation", security(("bearer" = [])), request_body(content = Object, content_type = "application/geo+json"),
    responses((status = 200, body = SavedCount), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_grids(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    body: String,
) -> ApiResult<Json<SavedCount>> {
    let grids = state.app.grids_from_geojson(&body)?;
    let saved = state.app.save_grids(&actor, &grids).await?;
    Ok(Json(SavedCount { saved }))
}

/// One grid (404 when outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/grids/{code}", tag = "organisation", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = GridOut), (status = 404, body = ErrorBody)))]
async fn get_grid(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
) -> ApiResult<Json<GridOut>> {
    Ok(Json(state.app.grid(&actor, &code).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GridStaffIn {
    pub worker_user_id: Option<i64>,
    pub leader_user_id: Option<i64>,
}

/// Names the grid's worker (网格员) and leader (网格长).
#[utoipa::path(put, path = "/api/v1/grids/{code}/staff", tag = "organisation", security(("bearer" = [])), params(("code" = String, Path)), request_body = GridStaffIn,
    responses((status = 200, body = GridOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_grid_staff(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(code): Path<String>,
    Json(body): Json<GridStaffIn>,
) -> ApiResult<Json<GridOut>> {
    state
        .app
        .set_grid_staff(&actor, &code, body.worker_user_id, body.leader_user_id)
        .await?;
    Ok(Json(state.app.grid(&actor, &code).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocateQuery {
    pub lng: f64,
    pub lat: f64,
    /// wgs84 (default; also CGCS2000), gcj02 (AMap, Tencent) or bd09 (Baidu)
    pub coord_system: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationOut {
    /// The point converted to WGS-84.
    pub lng: f64,
    pub lat: f64,
    /// `{"placement":"in_grid","grid":…,"kind":…,"basic_grid":…}`, `{"placement":"outside_all_grids"}` or
    /// `{"placement":"outside_area"}` (refused: far outside the deployment).
    #[schema(value_type = Object)]
    pub placement: serde_json::Value,
    /// The grid's regions from province down to village.
    pub regions: Vec<RegionOut>,
    pub in_scope: bool,
}

/// Places a point in its grid, village, town and county.
#[utoipa::path(get, path = "/api/v1/locate", tag = "organisation", security(("bearer" = [])), params(LocateQuery),
    responses((status = 200, body = LocationOut), (status = 422, body = ErrorBody)))]
async fn locate(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<LocateQuery>,
) -> ApiResult<Json<LocationOut>> {
    let system = match query.coord_system.as_deref() {
        None | Some("") => CoordSystem::Wgs84,
        Some(text) => CoordSystem::parse(text).ok_or_else(|| {
            ApiError::field(
                "coord_system",
                "unknown",
                "坐标系须为 wgs84、gcj02 或 bd09",
                "coord_system must be wgs84, gcj02 or bd09",
            )
        })?,
    };
    let location = state
        .app
        .locate(&actor, query.lng, query.lat, system)
        .await?;
    Ok(Json(LocationOut {
        lng: location.lng,
        lat: location.lat,
        placement: serde_json::to_value(&location.placement).unwrap_or(serde_json::Value::Null),
        regions: location.regions.into_iter().map(RegionOut::from).collect(),
        in_scope: location.in_scope,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepartmentQuery {
    pub region_code: Option<String>,
    pub kind: Option<String>,
}

/// Departments in the caller's scope.
#[utoipa::path(get, path = "/api/v1/departments", tag = "organisation", security(("bearer" = [])), params(DepartmentQuery, Paging),
    responses((status = 200, body = Paged<DepartmentOut>)))]
async fn list_departments(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<DepartmentQuery>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Paged<DepartmentOut>>> {
    let filter = DepartmentFilter {
        region_code: query.region_code,
        kind: query.kind,
    };
    Ok(Json(paged(
        state
            .app
            .departments(&actor, &filter, paging.page())
            .await?,
        DepartmentOut::from,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DepartmentIn {
    pub name: String,
    /// police_station, justice_office, petition_office, law_enforcement, market_regulation, …
    pub kind: String,
    /// The region whose level the department serves.
    pub region_code: String,
}

/// Creates a department (administrators, within scope).
#[utoipa::path(post, path = "/api/v1/departments", tag = "organisation", security(("bearer" = [])), request_body = DepartmentIn,
    responses((status = 200, body = DepartmentOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_department(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Json(body): Json<DepartmentIn>,
) -> ApiResult<Json<DepartmentOut>> {
    let input = DepartmentInput {
        name: body.name,
        kind: body.kind,
        region_code: body.region_code,
    };
    Ok(Json(
        state.app.create_department(&actor, &input).await?.into(),
    ))
}

/// One department (404 when outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/departments/{id}", tag = "organisation", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = DepartmentOut), (status = 404, body = ErrorBody)))]
async fn get_department(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<DepartmentOut>> {
    Ok(Json(state.app.department(&actor, id).await?.into()))
}
