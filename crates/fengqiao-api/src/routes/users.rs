//! Accounts, managed by security administrators.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::wire::{GrantOut, Paged, Paging, UserOut, paged};
use fengqiao_app::users::{GrantInput, UserInput, UserUpdate};

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the username or name.
    pub q: Option<String>,
}

/// Users in the caller's scope.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(UserQuery, Paging),
    responses((status = 200, body = Paged<UserOut>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<UserQuery>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Paged<UserOut>>> {
    Ok(Json(paged(
        state
            .app
            .users(&actor, query.q.as_deref(), paging.page())
            .await?,
        UserOut::from,
    )))
}

fn grants(list: Vec<GrantOut>) -> Vec<GrantInput> {
    list.into_iter()
        .map(|g| GrantInput {
            role: g.role,
            scope: g.scope,
        })
        .collect()
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserIn {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
    pub roles: Vec<GrantOut>,
    #[serde(default)]
    pub can_unmask: bool,
    pub department_id: Option<i64>,
    pub grid_code: Option<String>,
}

/// Creates a user. Every granted scope must lie within the caller's own.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = UserIn,
    responses((status = 200, body = UserOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Json(body): Json<UserIn>,
) -> ApiResult<Json<UserOut>> {
    let input = UserInput {
        username: body.username,
        display_name: body.display_name,
        password: body.password,
        roles: grants(body.roles),
        can_unmask: body.can_unmask,
        department_id: body.department_id,
        grid_code: body.grid_code,
    };
    Ok(Json(state.app.create_user(&actor, &input).await?.into()))
}

/// One user (404 when outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = UserOut), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<UserOut>> {
    Ok(Json(state.app.user(&actor, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserPatchIn {
    pub display_name: Option<String>,
    /// Disabling ends the user's sessions at once.
    pub disabled: Option<bool>,
    pub can_unmask: Option<bool>,
    /// A new password ends the user's sessions.
    pub password: Option<String>,
    /// Replaces every grant (moving a user to another region); takes effect on their next request.
    pub roles: Option<Vec<GrantOut>>,
}

/// Changes a user.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UserPatchIn,
    responses((status = 200, body = UserOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_user(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Json(body): Json<UserPatchIn>,
) -> ApiResult<Json<UserOut>> {
    let update = UserUpdate {
        display_name: body.display_name,
        disabled: body.disabled,
        can_unmask: body.can_unmask,
        password: body.password,
        roles: body.roles.map(grants),
    };
    Ok(Json(
        state.app.update_user(&actor, id, &update).await?.into(),
    ))
}
