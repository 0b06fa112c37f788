//! Sign-in, sign-out and "who am I".

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::{Authenticated, CSRF_COOKIE, SESSION_COOKIE, source_of};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::wire::{GrantOut, UserOut};

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for API clients (`Authorization: Bearer …`). Browsers get it as an HttpOnly cookie too.
    pub token: String,
    /// Send as `X-CSRF-Token` on state-changing requests made with the cookie.
    pub csrf_token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: UserOut,
}

/// The request's source address.
pub struct Source(pub String);

impl FromRequestParts<ApiState> for Source {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Source(source_of(parts, &state.trusted_proxies)))
    }
}

/// Sign in. Failed attempts are throttled per username and per source address (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<ApiState>,
    Source(source): Source,
    Json(body): Json<LoginRequest>,
) -> ApiResult<(HeaderMap, Json<LoginResponse>)> {
    if body.username.trim().is_empty() || body.username.len() > 64 {
        return Err(ApiError::field(
            "username",
            "required",
            "请输入用户名",
            "enter the username",
        ));
    }
    if body.password.is_empty() || body.password.len() > 256 {
        return Err(ApiError::field(
            "password",
            "required",
            "请输入密码",
            "enter the password",
        ));
    }
    let outcome = state
        .app
        .login(body.username.trim(), &body.password, &source)
        .await?;
    let user = state
        .app
        .store
        .get_user(outcome.user_id)
        .await
        .map_err(fengqiao_app::AppError::from)?
        .ok_or_else(ApiError::not_found)?;
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let max_age = state.app.settings.session_idle.num_seconds();
    let mut headers = HeaderMap::new();
    for cookie in [
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            outcome.token
        ),
        format!(
            "{CSRF_COOKIE}={}; Path=/; SameSite=Strict; Max-Age={max_age}{secure}",
            outcome.csrf_token
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(SET_COOKIE, value);
        }
    }
    Ok((
        headers,
        Json(LoginResponse {
            token: outcome.token,
            csrf_token: outcome.csrf_token,
            expires_at: outcome.expires_at,
            user: user.into(),
        }),
    ))
}

/// Sign out: the session ends on the server and the cookies are cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
) -> ApiResult<(StatusCode, HeaderMap)> {
    state.app.logout(&actor).await?;
    let mut headers = HeaderMap::new();
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        if let Ok(value) = HeaderValue::from_str(&format!("{name}=; Path=/; Max-Age=0")) {
            headers.append(SET_COOKIE, value);
        }
    }
    Ok((StatusCode::NO_CONTENT, headers))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserOut,
    pub roles: Vec<GrantOut>,
    /// What the roles permit (snake_case permission names).
    pub permissions: Vec<String>,
}

/// The signed-in user, their roles and scopes, and what they may do.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
async fn me(Authenticated(actor): Authenticated) -> ApiResult<Json<MeResponse>> {
    let mut permissions: Vec<String> = actor
        .grants
        .iter()
        .flat_map(|(role, _)| role.permissions().iter())
        .filter_map(|p| {
            serde_json::to_value(p)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
        })
        .collect();
    permissions.sort();
    permissions.dedup();
    if actor.may_unmask() {
        permissions.push("unmask_personal_data".into());
    }
    let roles = actor
        .user
        .roles
        .iter()
        .cloned()
        .map(GrantOut::from)
        .collect();
    Ok(Json(MeResponse {
        user: actor.user.into(),
        roles,
        permissions,
    }))
}
