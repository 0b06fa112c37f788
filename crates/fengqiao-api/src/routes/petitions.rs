//! Petitions (信访): registration with computed flags, the statutory steps, recorded unmasking, leaders'
//! reception schedules, appointments, reception records and calendars, backlog cases, and the figures.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::routes::mediation::{VersionQuery, idempotency_key, json_value, parse_body};
use fengqiao_app::petitions::{
    AppointmentInput, BacklogInput, PetitionInput, ReceptionInput, ScheduleInput,
};
use fengqiao_domain::petition::{BacklogCommand, PetitionCommand};

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_petitions, register_petition))
        .routes(routes!(get_petition))
        .routes(routes!(act_on_petition))
        .routes(routes!(petition_history))
        .routes(routes!(unmask_petitioner))
        .routes(routes!(open_backlog))
        .routes(routes!(list_backlogs))
        .routes(routes!(get_backlog))
        .routes(routes!(act_on_backlog))
        .routes(routes!(backlog_history))
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(add_appointment))
        .routes(routes!(record_reception))
        .routes(routes!(get_reception))
        .routes(routes!(leader_calendar))
        .routes(routes!(petition_figures))
        .routes(routes!(list_leaders))
}

fn action<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::field(
            "action",
            "format",
            &format!("无法识别的操作：{e}"),
            &format!("unrecognised action: {e}"),
        )
    })
}

/// Registers a petition (visit with head count, letter, online, phone): `{channel, head_count,
/// petitioner_name, phone, id_number, resident_id, sensitive, case_id, reception_id, category, subject, content,
/// region_code (the matter's), received_region}`. The flags repeat (same petitioner or matter within the
/// configured window), skip_level (received above the town with jurisdiction without going there first) and
/// group (a visit of five or more) are computed. The 15-day decision clock starts. Optional `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/petitions", tag = "petitions", security(("bearer" = [])), params(("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Object),
    responses((status = 201, body = Object), (status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register_petition(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let input: PetitionInput = parse_body(&body)?;
    let key = idempotency_key(&headers);
    let (view, replayed) = state
        .app
        .register_petition(&actor, &input, key.as_deref())
        .await?;
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, json_value(&view)))
}

/// Petitions registered in the period that the caller sees (by the matter's or the receiving region), masked.
#[utoipa::path(get, path = "/api/v1/petitions", tag = "petitions", security(("bearer" = [])), params(PeriodQuery),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn list_petitions(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<PeriodQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(
        &state.app.petitions(&actor, query.from, query.to).await?,
    ))
}

/// One petition (numbers masked; a sensitive petitioner's name too; 404 outside scope).
#[utoipa::path(get, path = "/api/v1/petitions/{id}", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_petition(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.petition(&actor, id).await?))
}

/// Takes a petition one statutory step (calendar days, Regulations on Letters and Visits Work 2022): accept |
/// not_accept {reason} (within 15 days), request_extension {days ≤ 30, reason} and decide_extension {approve,
/// note} (once, by a supervisor), answer {opinion} (within 60 days), request_review {note} (within 30 days of
/// the answer) and answer_review {opinion} (within 30 days), request_re_review and answer_re_review likewise.
#[utoipa::path(post, path = "/api/v1/petitions/{id}/actions", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path), VersionQuery),
    request_body(content = Object),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn act_on_petition(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<VersionQuery>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let command: PetitionCommand = action(&body)?;
    Ok(json_value(
        &state
            .app
            .act_on_petition(&actor, id, &command, query.expected_version)
            .await?,
    ))
}

/// A petition's history.
#[utoipa::path(get, path = "/api/v1/petitions/{id}/history", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn petition_history(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.petition_history(&actor, id).await?))
}

#[derive(Debug, Deserialize)]
struct UnmaskBody {
    reason: String,
}

/// The petitioner's name and numbers in full, for users with the unmask grant; `{reason}`; recorded.
#[utoipa::path(post, path = "/api/v1/petitions/{id}/unmask", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body(content = Object),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unmask_petitioner(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let input: UnmaskBody = parse_body(&body)?;
    Ok(json_value(
        &state
            .app
            .unmask_petitioner(&actor, id, &input.reason)
            .await?,
    ))
}

/// Makes the petition a backlog case (信访积案) owned by a leader (包案): `{leader_user_id, plan, units}`.
#[utoipa::path(post, path = "/api/v1/petitions/{id}/backlog", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body(content = Object),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn open_backlog(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let input: BacklogInput = parse_body(&body)?;
    let view = state.app.open_backlog(&actor, id, &input).await?;
    Ok((StatusCode::CREATED, json_value(&view)))
}

/// Backlog cases in the caller's scope or owned by them, with status and progress.
#[utoipa::path(get, path = "/api/v1/backlog-cases", tag = "petitions", security(("bearer" = [])),
    responses((status = 200, body = Object)))]
async fn list_backlogs(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.backlogs(&actor).await?))
}

/// One backlog case: plan, units, milestones, status, commitment.
#[utoipa::path(get, path = "/api/v1/backlog-cases/{id}", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_backlog(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.backlog(&actor, id).await?))
}

/// Takes a backlog case one step: add_milestone {title, due}, complete_milestone {index, note}, set_status
/// {status: in_progress|basically_resolved|resolved, note}, close_with_commitment {signed_on, signer, text}
/// (息诉罢访承诺书). The owning leader or a supervisor acts.
#[utoipa::path(post, path = "/api/v1/backlog-cases/{id}/actions", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path), VersionQuery),
    request_body(content = Object),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn act_on_backlog(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<VersionQuery>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let command: BacklogCommand = action(&body)?;
    Ok(json_value(
        &state
            .app
            .act_on_backlog(&actor, id, &command, query.expected_version)
            .await?,
    ))
}

/// A backlog case's history.
#[utoipa::path(get, path = "/api/v1/backlog-cases/{id}/history", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn backlog_history(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.backlog_history(&actor, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    pub leader_user_id: Option<i64>,
}

/// Reception schedules in scope, optionally of one leader.
#[utoipa::path(get, path = "/api/v1/reception-schedules", tag = "petitions", security(("bearer" = [])), params(ScheduleQuery),
    responses((status = 200, body = Object)))]
async fn list_schedules(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<ScheduleQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(
        &state.app.schedules(&actor, query.leader_user_id).await?,
    ))
}

/// Creates a leader's reception schedule (领导接访): `{leader_user_id, region_code, place, cadence: {every:
/// monthly, day} | {every: weekly, weekday (1 = Monday)} | {every: daily}, valid_from, valid_to}`.
#[utoipa::path(post, path = "/api/v1/reception-schedules", tag = "petitions", security(("bearer" = [])),
    request_body(content = Object),
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_schedule(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let input: ScheduleInput = parse_body(&body)?;
    let schedule = state.app.create_schedule(&actor, &input).await?;
    Ok((StatusCode::CREATED, json_value(&schedule)))
}

/// Books an appointment (约访) on one of the schedule's reception days: `{day, petitioner, matter}`.
#[utoipa::path(post, path = "/api/v1/reception-schedules/{id}/appointments", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body(content = Object),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_appointment(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let input: AppointmentInput = parse_body(&body)?;
    let appointment = state.app.add_appointment(&actor, id, &input).await?;
    Ok((StatusCode::CREATED, json_value(&appointment)))
}

/// Records a reception held on a reception day (接访记录): `{day, notes}`; petitions registered with its
/// `reception_id` are the matters raised.
#[utoipa::path(post, path = "/api/v1/reception-schedules/{id}/receptions", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body(content = Object),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_reception(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let input: ReceptionInput = parse_body(&body)?;
    let reception = state.app.record_reception(&actor, id, &input).await?;
    Ok((StatusCode::CREATED, json_value(&reception)))
}

/// A reception with the petitions raised at it.
#[utoipa::path(get, path = "/api/v1/receptions/{id}", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_reception(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.reception(&actor, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First local day (inclusive).
    pub from: chrono::NaiveDate,
    /// Last local day (inclusive).
    pub to: chrono::NaiveDate,
    /// Petition figures only: a region in scope (default: the caller's first region scope).
    pub region_code: Option<String>,
}

/// A leader's calendar: reception days in the period with place, appointments and receptions held.
#[utoipa::path(get, path = "/api/v1/leaders/{id}/calendar", tag = "petitions", security(("bearer" = [])), params(("id" = i64, Path), PeriodQuery),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn leader_calendar(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<i64>,
    Query(query): Query<PeriodQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(
        &state
            .app
            .leader_calendar(&actor, id, query.from, query.to)
            .await?,
    ))
}

/// Petition figures of a period: by channel and category, repeat, skip-level and group counts, villages with
/// zero petitions (零上访村) and their share, backlog progress.
#[utoipa::path(get, path = "/api/v1/petition-figures", tag = "petitions", security(("bearer" = [])), params(PeriodQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn petition_figures(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
    Query(query): Query<PeriodQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(
        &state
            .app
            .petition_figures(&actor, query.from, query.to, query.region_code.as_deref())
            .await?,
    ))
}

/// Leaders whose home region is in the caller's scope (and the caller, when a leader): `[{id, display_name}]`,
/// for choosing whose reception days to show and naming backlog cases' owners.
#[utoipa::path(get, path = "/api/v1/leaders", tag = "petitions", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
async fn list_leaders(
    State(state): State<ApiState>,
    Authenticated(actor): Authenticated,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(json_value(&state.app.leaders(&actor).await?))
}
