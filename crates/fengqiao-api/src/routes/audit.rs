//! The audit trail, for auditors only.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::wire::{AuditOut, Paged, Paging, paged};
use fengqiao_store::AuditFilter;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `auth.`, `resident.unmask`, `user.` …
    pub action: Option<String>,
    /// `user:12`, `anonymous`, `system`
    pub actor: Option<String>,
    /// `resident:3`, `user:12` …
    pub object: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Audit records, newest first (logins, denials, changes, exports, unmasks).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery, Paging),
    responses((status = 200, body = Paged<AuditOut>), (status = 403, body = ErrorBody)))]
async fn list_audit(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<AuditQuery>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Paged<AuditOut>>> {
    let filter = AuditFilter {
        action_prefix: query.action,
        actor: query.actor,
        object: query.object,
        since: query.since,
        until: query.until,
    };
    Ok(Json(paged(
        state.app.list_audit(&actor, &filter, paging.page()).await?,
        AuditOut::from,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyOut {
    pub ok: bool,
    pub sealed: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// `{"chain_seq":…, "record_id":…, "breach":"altered|missing|reordered|truncated|checkpoint_mismatch"}`
    #[schema(value_type = Object)]
    pub first_bad: serde_json::Value,
    /// Records not yet sealed onto the chain.
    pub unsealed: i64,
    pub checkpoint_seq: Option<i64>,
}

/// Verifies the hash chain against the checkpoint kept outside the database.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = VerifyOut), (status = 403, body = ErrorBody)))]
async fn verify_audit(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
) -> ApiResult<Json<VerifyOut>> {
    let outcome = state.app.verify_audit_as(&actor).await?;
    Ok(Json(VerifyOut {
        ok: outcome.ok,
        sealed: outcome.chain.sealed,
        head_seq: outcome.chain.head_seq,
        head_hash: outcome.chain.head_hash,
        first_bad: serde_json::to_value(&outcome.chain.first_bad)
            .unwrap_or(serde_json::Value::Null),
        unsealed: outcome.unsealed,
        checkpoint_seq: outcome.checkpoint_seq,
    }))
}
