//! Cases: intake, the workflow's actions, timeline, routing proposal, attachments, duplicates, notifications,
//! and the citizen's public page (submit, track).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json_body::JsonBody;
use crate::routes::auth::Source;
use crate::wire::{CaseOut, Paged, Paging};
use fengqiao_app::cases::{ActionInput, CaseInput, Registered, Registrant};
use fengqiao_app::queues::CaseListQuery;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases, register_case))
        .routes(routes!(export_cases))
        .routes(routes!(get_case))
        .routes(routes!(case_timeline))
        .routes(routes!(act))
        .routes(routes!(route_proposal))
        .routes(routes!(list_attachments, upload_attachment))
        .routes(routes!(download_attachment))
        .routes(routes!(duplicates))
        .routes(routes!(notifications))
        .routes(routes!(mark_read))
        .routes(routes!(public_register))
        .routes(routes!(public_verification_code))
        .routes(routes!(public_track))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredOut {
    pub case: CaseOut,
    /// The secret printed on the receipt; with the number it lets the citizen track the case. Shown once.
    pub tracking_secret: Option<String>,
    /// True when this answers a retry of an earlier identical request (same Idempotency-Key and body).
    pub replayed: bool,
    /// The receipt's text (回执).
    pub receipt: String,
}

fn registered_out(registered: Registered) -> (StatusCode, JsonBody<RegisteredOut>) {
    let status = if registered.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let receipt = format!(
        "受理回执\n编号：{}\n标题：{}\n登记时间：{}\n查询码：{}\n凭编号和查询码可查询办理进度。",
        registered.case.number,
        registered.case.title,
        fengqiao_domain::calendar::local_datetime(registered.case.created_at)
            .format("%Y-%m-%d %H:%M"),
        registered
            .tracking_secret
            .as_deref()
            .unwrap_or("（已在首次提交时给出）"),
    );
    (
        status,
        JsonBody(RegisteredOut {
            case: registered.case.into(),
            tracking_secret: registered.tracking_secret,
            replayed: registered.replayed,
            receipt,
        }),
    )
}

fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

/// Registers a case from any staff channel (walk-in, phone, letter, 12345 hotline, grid report, video patrol,
/// another platform). An optional `Idempotency-Key` header makes retries safe: the same key and body return the
/// same case (200), the same key with another body is refused (422).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])), request_body(content = Object, description = "kind, channel, urgency, category, title, description, tags, address, lng, lat, coord_system, region_code, parties[]"),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = RegisteredOut), (status = 200, body = RegisteredOut), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn register_case(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    Json(input): Json<CaseInput>,
) -> ApiResult<(StatusCode, JsonBody<RegisteredOut>)> {
    let key = idempotency_key(&headers);
    let registered = state
        .app
        .register_case(Registrant::Staff(&actor), &input, key.as_deref())
        .await?;
    Ok(registered_out(registered))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// A work queue: inbox (what my units must claim or have in hand; for the center, what awaits it), new,
    /// awaiting_dispatch, returned, due_soon, overdue, awaiting_review, awaiting_follow_up.
    pub queue: Option<String>,
    /// Comma-separated statuses (registered, accepted, dispatched, in_progress, returned, resolved, awaiting_follow_up, closed, archived, rejected, merged).
    pub status: Option<String>,
    pub kind: Option<String>,
    /// A category code; subcategories included.
    pub category: Option<String>,
    /// A region subtree within the caller's scope.
    pub region_code: Option<String>,
    /// `dept:ID` or `grid:CODE`: cases currently with that unit.
    pub unit: Option<String>,
    pub channel: Option<String>,
    /// group, repeat, skip_level or sensitive.
    pub tag: Option<String>,
    /// First local day of registration (inclusive).
    pub created_from: Option<chrono::NaiveDate>,
    /// Last local day of registration (inclusive).
    pub created_to: Option<chrono::NaiveDate>,
    /// `due_soon` (yellow) or `overdue` (red).
    pub deadline: Option<String>,
    /// newest (default), oldest, deadline (nearest handling deadline first), updated.
    pub sort: Option<String>,
    /// Chinese full-text search over title, description and notes.
    pub q: Option<String>,
}

impl CaseQuery {
    fn list_query(self) -> CaseListQuery {
        CaseListQuery {
            queue: self.queue,
            status: self.status,
            kind: self.kind,
            category: self.category,
            region_code: self.region_code,
            unit: self.unit,
            channel: self.channel,
            tag: self.tag,
            created_from: self.created_from,
            created_to: self.created_to,
            deadline: self.deadline,
            sort: self.sort,
            q: self.q,
        }
    }
}

/// Cases the caller may see: a work queue or any filter, sorted and paged, with the total count.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])), params(CaseQuery, Paging),
    responses((status = 200, body = Paged<CaseOut>), (status = 422, body = ErrorBody)))]
async fn list_cases(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<CaseQuery>,
    Query(paging): Query<Paging>,
) -> ApiResult<JsonBody<Paged<CaseOut>>> {
    let page = state
        .app
        .case_list(&actor, &query.list_query(), paging.page())
        .await?;
    Ok(JsonBody(Paged {
        items: page.items.into_iter().map(CaseOut::from).collect(),
        total: page.total,
    }))
}

/// Exports the cases of a queue or filter (same parameters as the list) to XLSX; personal numbers stay masked
/// and the export is recorded in the audit trail.
#[utoipa::path(get, path = "/api/v1/cases/export", tag = "cases", security(("bearer" = [])), params(CaseQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 422, body = ErrorBody)))]
async fn export_cases(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<CaseQuery>,
) -> ApiResult<impl IntoResponse> {
    let (bytes, rows) = state.app.export_cases(&actor, &query.list_query()).await?;
    let name = format!(
        "cases-{}.xlsx",
        fengqiao_domain::calendar::local_datetime(state.app.now()).format("%Y%m%d-%H%M")
    );
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
            (
                header::HeaderName::from_static("x-row-count"),
                rows.to_string(),
            ),
        ],
        bytes,
    ))
}

/// One case (404 when outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CaseOut), (status = 404, body = ErrorBody)))]
async fn get_case(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<JsonBody<CaseOut>> {
    Ok(JsonBody(state.app.case(&actor, id).await?.into()))
}

/// The case's timeline: every step with its actor, time and detail.
#[utoipa::path(get, path = "/api/v1/cases/{id}/timeline", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn case_timeline(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let events = state.app.case_timeline(&actor, id).await?;
    Ok(Json(serde_json::to_value(events).unwrap_or_default()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActQuery {
    /// The version the caller last saw; a newer one answers 409 instead of acting on stale information.
    pub expected_version: Option<i64>,
}

/// Acts on a case. The body names the `action`: accept {category}, reject {reason, missing[]}, handle_on_spot
/// {result}, dispatch {lead, assisting[]}, claim, return {reason}, rule_on_return {decision: uphold|redispatch,
/// lead, assisting[], note}, reassign {lead, assisting[], reason}, request_extension {working_days, reason},
/// decide_extension {approve, note}, escalate {reason}, delegate {to_region, reason}, record_assist_part {unit,
/// part}, resolve {result}, approve_review, send_back {reason}, follow_up {outcome, note}, reopen {reason},
/// archive, supervise {due, note}, assign_leader {leader_user_id}, add_note {text}, change_category {category,
/// reason}, merge_into {target_number}. Units are written `dept:ID` or `grid:CODE`. Two people acting at once:
/// one wins, the other gets 409.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path), ActQuery),
    request_body(content = Object),
    responses((status = 200, body = CaseOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn act(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<ActQuery>,
    body: Bytes,
) -> ApiResult<JsonBody<CaseOut>> {
    let input: ActionInput = serde_json::from_slice(&body).map_err(|e| {
        ApiError::field(
            "action",
            "format",
            &format!("无法识别的操作：{e}"),
            &format!("unrecognised action: {e}"),
        )
    })?;
    Ok(JsonBody(
        state
            .app
            .act(&actor, id, &input, query.expected_version)
            .await?
            .into(),
    ))
}

/// The handler the matter catalog and the territory propose for the case (属地管理).
#[utoipa::path(get, path = "/api/v1/cases/{id}/route-proposal", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn route_proposal(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let proposal = state.app.route_proposal(&actor, id).await?;
    Ok(Json(serde_json::to_value(proposal).unwrap_or_default()))
}

/// The case's attachments.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn list_attachments(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let list = state.app.attachments(&actor, id).await?;
    Ok(Json(serde_json::to_value(list).unwrap_or_default()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub file_name: String,
}

/// Uploads an attachment as the raw request body (images, PDF, Office documents, audio, video; the type is
/// recognised from the bytes; at most 20 MB). The same bytes sent again to the same case answer the attachment
/// already there, so a retried upload (the grid worker's offline queue) never stores a second copy.
#[utoipa::path(post, path = "/api/v1/cases/{id}/attachments", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_attachment(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let attachment = state
        .app
        .add_attachment(&actor, id, &query.file_name, &body)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(attachment).unwrap_or_default()),
    ))
}

/// Downloads an attachment.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments/{attachment_id}", tag = "cases", security(("bearer" = [])), params(("id" = i64, Path), ("attachment_id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
async fn download_attachment(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path((id, attachment_id)): Path<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    let (attachment, bytes) = state
        .app
        .attachment_bytes(&actor, id, attachment_id)
        .await?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        percent_encode(&attachment.file_name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, attachment.content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    ))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuplicateQuery {
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// Likely duplicates for an intake in progress: recent cases within about 200 m, or from the same phone or ID number.
#[utoipa::path(get, path = "/api/v1/case-duplicates", tag = "cases", security(("bearer" = [])), params(DuplicateQuery),
    responses((status = 200, body = Vec<CaseOut>), (status = 422, body = ErrorBody)))]
async fn duplicates(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<DuplicateQuery>,
) -> ApiResult<JsonBody<Vec<CaseOut>>> {
    let found = state
        .app
        .possible_duplicates(
            &actor,
            q.lng,
            q.lat,
            q.phone.as_deref(),
            q.id_number.as_deref(),
        )
        .await?;
    Ok(JsonBody(found.into_iter().map(CaseOut::from).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    #[serde(default)]
    pub unread: bool,
}

/// The caller's notifications (to them, their units and their regions): new assignments, due soon, overdue …
#[utoipa::path(get, path = "/api/v1/notifications", tag = "cases", security(("bearer" = [])), params(NotificationQuery, Paging),
    responses((status = 200, body = Object)))]
async fn notifications(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<NotificationQuery>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<serde_json::Value>> {
    let recipients = state.app.notification_recipients(&actor);
    let page = state
        .app
        .store
        .notifications(&recipients, q.unread, paging.page())
        .await
        .map_err(fengqiao_app::AppError::from)?;
    Ok(Json(serde_json::to_value(page).unwrap_or_default()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkReadIn {
    /// Marks every notification up to and including this id.
    pub up_to_id: i64,
}

/// Marks notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "cases", security(("bearer" = [])), request_body = MarkReadIn,
    responses((status = 200, body = Object)))]
async fn mark_read(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Json(body): Json<MarkReadIn>,
) -> ApiResult<Json<serde_json::Value>> {
    let recipients = state.app.notification_recipients(&actor);
    let n = state
        .app
        .store
        .mark_notifications_read(&recipients, body.up_to_id, state.app.now())
        .await
        .map_err(fengqiao_app::AppError::from)?;
    Ok(Json(serde_json::json!({ "marked": n })))
}

/// The citizen's page (扫码点单): submits a request without signing in. Requires `Idempotency-Key` and
/// `X-Device-Id` headers (the page's offline queue retries safely). The answer holds the number and the
/// tracking secret.
#[utoipa::path(post, path = "/api/v1/public/cases", tag = "public", request_body(content = Object),
    params(("Idempotency-Key" = String, Header), ("X-Device-Id" = String, Header)),
    responses((status = 201, body = RegisteredOut), (status = 200, body = RegisteredOut), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn public_register(
    State(state): State<ApiState>,
    Source(source): Source,
    headers: HeaderMap,
    Json(input): Json<CaseInput>,
) -> ApiResult<(StatusCode, JsonBody<RegisteredOut>)> {
    let device_id = headers
        .get("x-device-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if device_id.is_empty()
        || device_id.len() > 100
        || !device_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::field(
            "X-Device-Id",
            "required",
            "缺少设备标识 X-Device-Id",
            "the X-Device-Id header is required (letters, digits, - and _)",
        ));
    }
    state.app.check_public_write(Some(device_id), &source)?;
    let key = idempotency_key(&headers);
    let registrant = Registrant::Citizen {
        device_id: device_id.to_string(),
        source,
    };
    let registered = state
        .app
        .register_case(registrant, &input, key.as_deref())
        .await?;
    Ok(registered_out(registered))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackQuery {
    pub number: String,
    pub secret: String,
}

/// Tracks a case by its number and the secret on the receipt (404 for a wrong pair; too many wrong pairs from
/// one address within the hour answer 429).
#[utoipa::path(get, path = "/api/v1/public/track", tag = "public", params(TrackQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn public_track(
    State(state): State<ApiState>,
    Source(source): Source,
    Query(q): Query<TrackQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let view = state
        .app
        .guard_public_lookup(&source, state.app.track(&q.number, &q.secret))
        .await?;
    Ok(Json(serde_json::to_value(view).unwrap_or_default()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerificationIn {
    pub phone: String,
}

/// Sends a verification code by text message to the phone a citizen gives on the public page (one a minute;
/// valid ten minutes). The development sender writes it to the log.
#[utoipa::path(post, path = "/api/v1/public/verification-codes", tag = "public", request_body = VerificationIn,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn public_verification_code(
    State(state): State<ApiState>,
    Json(body): Json<VerificationIn>,
) -> ApiResult<StatusCode> {
    state.app.send_verification_code(&body.phone).await?;
    Ok(StatusCode::NO_CONTENT)
}
