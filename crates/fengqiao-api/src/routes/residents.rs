//! Residents: registered with encrypted personal numbers, looked up masked, unmasked on record.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::wire::{Paged, Paging, ResidentOut, paged};
use fengqiao_app::residents::{ResidentInput, ResidentQuery};

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(find_residents, register_resident))
        .routes(routes!(get_resident))
        .routes(routes!(unmask_resident))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResidentLookup {
    /// Exact phone number (found through a keyed hash; never stored in clear).
    pub phone: Option<String>,
    /// Exact resident ID number (GB 11643).
    pub id_number: Option<String>,
}

/// Residents in scope, or those matching a phone or ID number; always masked.
#[utoipa::path(get, path = "/api/v1/residents", tag = "residents", security(("bearer" = [])), params(ResidentLookup, Paging),
    responses((status = 200, body = Paged<ResidentOut>), (status = 422, body = ErrorBody)))]
async fn find_residents(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<ResidentLookup>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Paged<ResidentOut>>> {
    let query = ResidentQuery {
        phone: query.phone,
        id_number: query.id_number,
    };
    Ok(Json(paged(
        state
            .app
            .find_residents(&actor, &query, paging.page())
            .await?,
        ResidentOut::from,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResidentIn {
    pub name: String,
    /// 18-character resident ID number, checked against GB 11643.
    pub id_number: Option<String>,
    pub phone: Option<String>,
    /// The village or community (or any region) the resident belongs to.
    pub region_code: String,
    #[serde(default)]
    pub address: String,
}

/// Registers a resident.
#[utoipa::path(post, path = "/api/v1/residents", tag = "residents", security(("bearer" = [])), request_body = ResidentIn,
    responses((status = 200, body = ResidentOut), (status = 422, body = ErrorBody)))]
async fn register_resident(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Json(body): Json<ResidentIn>,
) -> ApiResult<Json<ResidentOut>> {
    let input = ResidentInput {
        name: body.name,
        id_number: body.id_number,
        phone: body.phone,
        region_code: body.region_code,
        address: body.address,
    };
    Ok(Json(
        state.app.register_resident(&actor, &input).await?.into(),
    ))
}

/// One resident, masked (404 when outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/residents/{id}", tag = "residents", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ResidentOut), (status = 404, body = ErrorBody)))]
async fn get_resident(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<ResidentOut>> {
    Ok(Json(state.app.resident(&actor, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UnmaskIn {
    /// Why the full numbers are needed; recorded in the audit trail.
    pub reason: String,
}

/// Shows a resident's numbers in full. Needs the per-user unmask grant; every call is recorded.
#[utoipa::path(post, path = "/api/v1/residents/{id}/unmask", tag = "residents", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UnmaskIn,
    responses((status = 200, body = ResidentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unmask_resident(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Json(body): Json<UnmaskIn>,
) -> ApiResult<Json<ResidentOut>> {
    Ok(Json(
        state
            .app
            .unmask_resident(&actor, id, &body.reason)
            .await?
            .into(),
    ))
}
