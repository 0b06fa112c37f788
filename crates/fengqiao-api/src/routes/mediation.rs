//! Mediation: committees and mediators, mediations of dispute cases and their steps, the agreement document
//! (调解协议书, PDF or DOCX), and the mediation figures with their drill-down.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::wire::Paging;
use fengqiao_app::mediation::{
    CommitteeInput, DocumentFormat, MediationGroup, MediationListQuery, MediatorInput,
    OpenMediationInput,
};
use fengqiao_domain::mediation::MediationCommand;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_committees, create_committee))
        .routes(routes!(get_committee))
        .routes(routes!(list_mediators, add_mediator))
        .routes(routes!(case_mediations, open_mediation))
        .routes(routes!(list_mediations))
        .routes(routes!(get_mediation))
        .routes(routes!(act_on_mediation))
        .routes(routes!(agreement_document))
        .routes(routes!(mediation_figures))
        .routes(routes!(mediation_figure_drill))
}

fn group(text: Option<&str>) -> Result<MediationGroup, ApiError> {
    serde_json::from_value(serde_json::Value::String(
        text.unwrap_or("committee").to_string(),
    ))
    .map_err(|_| {
        ApiError::field(
            "group_by",
            "unknown",
            "分组应为 committee、mediator、kind、category、region 或 step",
            "group_by is committee, mediator, kind, category, region or step",
        )
    })
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

pub(crate) fn json_value<T: serde::Serialize>(value: &T) -> Json<serde_json::Value> {
    Json(serde_json::to_value(value).unwrap_or_default())
}

pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::field(
            "body",
            "format",
            &format!("请求内容无法识别：{e}"),
            &format!("unrecognised request body: {e}"),
        )
    })
}

/// Committees the caller sees (by territory, or their own committee).
#[utoipa::path(get, path = "/api/v1/committees", tag = "mediation", security(("bearer" = [])),
    responses((status = 200, body = Object)))]
async fn list_committees(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.committees(&actor).await?))
}

/// Creates a mediation committee (admin): `{name, kind: village|town|industry|enterprise, field, region_code}`.
#[utoipa::path(post, path = "/api/v1/committees", tag = "mediation", security(("bearer" = [])),
    request_body(content = Object, description = "name, kind (village, town, industry, enterprise), field (industry: land, medical, labour, traffic_accident …), region_code"),
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_committee(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let input: CommitteeInput = parse_body(&body)?;
    let committee = state.app.create_committee(&actor, &input).await?;
    Ok((StatusCode::CREATED, json_value(&committee)))
}

/// One committee (404 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/committees/{id}", tag = "mediation", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_committee(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.committee(&actor, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnDayQuery {
    /// The day to check the rota on (today if omitted).
    pub on: Option<chrono::NaiveDate>,
}

/// A committee's mediators with their kind, rota (on duty that day), caseload and success rate.
#[utoipa::path(get, path = "/api/v1/committees/{id}/mediators", tag = "mediation", security(("bearer" = [])), params(("id" = i64, Path), OnDayQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn list_mediators(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<OnDayQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(
        &state.app.mediators(&actor, id, query.on).await?,
    ))
}

/// Adds a mediator (admin): `{name, kind: staff|lawyer|retired_judge|deputy_or_member|counsellor|volunteer,
/// user_id, rota_days: [days of the month]}`.
#[utoipa::path(post, path = "/api/v1/committees/{id}/mediators", tag = "mediation", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body(content = Object),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_mediator(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let input: MediatorInput = parse_body(&body)?;
    let mediator = state.app.add_mediator(&actor, id, &input).await?;
    Ok((StatusCode::CREATED, json_value(&mediator)))
}

/// The mediations of a case, oldest first (the four-step path as it went).
#[utoipa::path(get, path = "/api/v1/cases/{id}/mediations", tag = "mediation", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn case_mediations(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.case_mediations(&actor, id).await?))
}

/// Opens (accepts) a mediation on a dispute case: `{committee_id, mediator_user_id, kind: people|administrative|
/// judicial, linkage: {kind: petition|litigation|police|special, handing_office}, previous_mediation_id,
/// departments: [ids]}`. A mediation continuing a failed one whose next path was 多元调解 is the multi-party
/// step. An optional `Idempotency-Key` makes retries safe (same key and body: 200 with the same mediation).
#[utoipa::path(post, path = "/api/v1/cases/{id}/mediations", tag = "mediation", security(("bearer" = [])), params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Object),
    responses((status = 201, body = Object), (status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn open_mediation(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let input: OpenMediationInput = parse_body(&body)?;
    let key = idempotency_key(&headers);
    let (view, replayed) = state
        .app
        .open_mediation(&actor, id, &input, key.as_deref())
        .await?;
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, json_value(&view)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediationListParams {
    /// First local day of acceptance (inclusive).
    pub from: Option<chrono::NaiveDate>,
    /// Last local day of acceptance (inclusive).
    pub to: Option<chrono::NaiveDate>,
    /// Statuses, comma-separated: accepted, in_progress, agreed, failed, followed_up.
    pub status: Option<String>,
    pub committee_id: Option<i64>,
    /// `true`: only agreements whose follow-up visit is still to be made, soonest visit first.
    pub follow_ups_due: Option<bool>,
}

/// The mediations the caller sees (their committees' and their territory's), newest first, paged; or the
/// agreements whose follow-up visit is still to be made, soonest first.
#[utoipa::path(get, path = "/api/v1/mediations", tag = "mediation", security(("bearer" = [])), params(MediationListParams, Paging),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_mediations(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<MediationListParams>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<serde_json::Value>> {
    let query = MediationListQuery {
        from: q.from,
        to: q.to,
        statuses: q
            .status
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        committee_id: q.committee_id,
        follow_ups_due: q.follow_ups_due.unwrap_or(false),
    };
    let page = state
        .app
        .list_mediations(&actor, &query, paging.page())
        .await?;
    Ok(json_value(&page))
}

/// One mediation with its hearing, sessions, agreement or failure and next path, judicial confirmation and
/// follow-up (`follow_up_overdue` flags a missed follow-up).
#[utoipa::path(get, path = "/api/v1/mediations/{id}", tag = "mediation", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_mediation(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.mediation(&actor, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// The version the caller last saw; a newer one answers 409.
    pub expected_version: Option<i64>,
}

/// Takes a mediation one step; the body names the `action`: hold_hearing {held_at, place, public, panel[],
/// statements}, record_session {held_at, place | online, attendees[], minutes, positions},
/// conclude_agreement {facts, terms[{text, amount_fen}], performance_deadline}, conclude_failure {reason, next:
/// {path: multi_party, committee_id, departments[]} | {path: referral, forum: litigation|arbitration, body, note}
/// | {path: leader_ownership, leader_user_id}}, apply_judicial_confirmation {court}, record_judicial_result
/// {confirmed, note}, follow_up {performed, settled, note}. Only the committee's mediators act; each step is also
/// written to the case's timeline.
#[utoipa::path(post, path = "/api/v1/mediations/{id}/actions", tag = "mediation", security(("bearer" = [])), params(("id" = i64, Path), VersionQuery),
    request_body(content = Object),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn act_on_mediation(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<VersionQuery>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let command: MediationCommand = serde_json::from_slice(&body).map_err(|e| {
        ApiError::field(
            "action",
            "format",
            &format!("无法识别的操作：{e}"),
            &format!("unrecognised action: {e}"),
        )
    })?;
    Ok(json_value(
        &state
            .app
            .act_on_mediation(&actor, id, &command, query.expected_version)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// pdf (default) or docx.
    pub format: Option<String>,
}

/// The mediation agreement document (调解协议书) in Chinese: parties, facts, terms, amounts, performance
/// deadline, signature lines. PDF set in Noto Serif CJK, or DOCX. The download is audited.
#[utoipa::path(get, path = "/api/v1/mediations/{id}/agreement", tag = "mediation", security(("bearer" = [])), params(("id" = i64, Path), DocumentQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn agreement_document(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<DocumentQuery>,
) -> ApiResult<impl IntoResponse> {
    let format = match query.format.as_deref().unwrap_or("pdf") {
        "pdf" => DocumentFormat::Pdf,
        "docx" => DocumentFormat::Docx,
        _ => {
            return Err(ApiError::field(
                "format",
                "unknown",
                "格式应为 pdf 或 docx",
                "format is pdf or docx",
            ));
        }
    };
    let bytes = state.app.agreement_document(&actor, id, format).await?;
    let (content_type, ext) = match format {
        DocumentFormat::Pdf => ("application/pdf", "pdf"),
        DocumentFormat::Docx => (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"mediation-{id}-agreement.{ext}\""),
            ),
        ],
        bytes,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FigureQuery {
    /// First local day (inclusive).
    pub from: chrono::NaiveDate,
    /// Last local day (inclusive).
    pub to: chrono::NaiveDate,
    /// committee (default), mediator, kind, category, region, step.
    pub group_by: Option<String>,
    /// Drill-down only: a row's key, or `total`.
    pub key: Option<String>,
    /// Drill-down only: accepted, concluded, succeeded or performed.
    pub measure: Option<String>,
}

/// Mediation figures of a period: accepted, concluded, succeeded, 调解成功率 (succeeded / concluded in the
/// period), agreements performed (follow-up found them performed), grouped by committee, mediator, kind,
/// category, region or step; overdue follow-ups counted.
#[utoipa::path(get, path = "/api/v1/mediation-figures", tag = "mediation", security(("bearer" = [])), params(FigureQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn mediation_figures(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<FigureQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let figures = state
        .app
        .mediation_figures(
            &actor,
            query.from,
            query.to,
            group(query.group_by.as_deref())?,
        )
        .await?;
    Ok(json_value(&figures))
}

/// The mediations (and their cases) behind one figure: `key` and `measure` as in the figures.
#[utoipa::path(get, path = "/api/v1/mediation-figures/mediations", tag = "mediation", security(("bearer" = [])), params(FigureQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn mediation_figure_drill(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<FigureQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let list = state
        .app
        .mediation_figure_drill(
            &actor,
            query.from,
            query.to,
            group(query.group_by.as_deref())?,
            query.key.as_deref().unwrap_or("total"),
            query.measure.as_deref().unwrap_or("accepted"),
        )
        .await?;
    Ok(json_value(&list))
}
