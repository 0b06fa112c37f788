//! The citizen's page (扫码点单) beyond submitting and tracking: photos on a submission, the citizen's rating,
//! and the place a printed QR code names. No sign-in; writes are rate-limited per device and source address.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::routes::auth::Source;
use fengqiao_app::citizen::CitizenProof;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(public_photo))
        .routes(routes!(public_rating))
        .routes(routes!(public_place))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The page's device id, if it sent a well-formed one.
fn device_id(headers: &HeaderMap) -> ApiResult<Option<&str>> {
    match header(headers, "x-device-id") {
        None => Ok(None),
        Some(id)
            if id.len() <= 100
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Ok(Some(id))
        }
        Some(_) => Err(ApiError::field(
            "X-Device-Id",
            "format",
            "设备标识 X-Device-Id 只能含字母、数字、- 和 _（最多 100 个字符）",
            "X-Device-Id is letters, digits, - and _ (at most 100 characters)",
        )),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoQuery {
    pub file_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicAttachmentOut {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// False when the same photo was already on the case (a retry stores nothing new).
    pub created: bool,
}

/// Adds a photo (JPEG/PNG/WebP, raw request body, within the attachment size limit, at most nine a case) to
/// the citizen's own submission. Proof: the receipt's secret in `X-Tracking-Secret`, or the submitting device's
/// `X-Device-Id` with that submission's Idempotency-Key in `X-Submission-Key`. A wrong proof answers 404; the
/// same photo again answers 200 with the one already stored.
#[utoipa::path(post, path = "/api/v1/public/cases/{number}/photos", tag = "public",
    params(("number" = String, Path), PhotoQuery, ("X-Tracking-Secret" = Option<String>, Header), ("X-Device-Id" = Option<String>, Header), ("X-Submission-Key" = Option<String>, Header)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = PublicAttachmentOut), (status = 200, body = PublicAttachmentOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn public_photo(
    State(state): State<ApiState>,
    Source(source): Source,
    Path(number): Path<String>,
    Query(query): Query<PhotoQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<PublicAttachmentOut>)> {
    let device = device_id(&headers)?;
    state.app.check_public_write(device, &source)?;
    let proof = match (
        header(&headers, "x-tracking-secret"),
        device,
        header(&headers, "x-submission-key"),
    ) {
        (Some(secret), _, _) => CitizenProof::Secret(secret),
        (None, Some(device_id), Some(key)) => CitizenProof::Submission { device_id, key },
        _ => {
            return Err(ApiError::field(
                "X-Tracking-Secret",
                "required",
                "请提供查询码 X-Tracking-Secret，或提交时的设备标识 X-Device-Id 与 X-Submission-Key",
                "send the tracking secret in X-Tracking-Secret, or the submitting X-Device-Id with X-Submission-Key",
            ));
        }
    };
    let (photo, created) = state
        .app
        .guard_public_lookup(
            &source,
            state
                .app
                .public_add_photo(&number, proof, &query.file_name, &body, &source),
        )
        .await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(PublicAttachmentOut {
            id: photo.id,
            file_name: photo.file_name,
            content_type: photo.content_type,
            size: photo.size,
            created,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RatingIn {
    /// The secret printed on the receipt.
    pub secret: String,
    /// satisfied (满意), basically_satisfied (基本满意) or dissatisfied (不满意).
    pub outcome: String,
    #[serde(default)]
    pub comment: String,
}

/// The citizen rates a resolved and reviewed case (待回访) by its number and secret, once: recorded as the
/// case's follow-up (`followed_up`, by the citizen) so the satisfaction rate counts it, and the case closes.
/// The same rating again answers 200 with the case as it is; another afterwards answers 409; a wrong secret 404.
#[utoipa::path(post, path = "/api/v1/public/cases/{number}/rating", tag = "public",
    params(("number" = String, Path), ("X-Device-Id" = Option<String>, Header)), request_body = RatingIn,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn public_rating(
    State(state): State<ApiState>,
    Source(source): Source,
    Path(number): Path<String>,
    headers: HeaderMap,
    Json(body): Json<RatingIn>,
) -> ApiResult<Json<serde_json::Value>> {
    let device = device_id(&headers)?;
    state.app.check_public_write(device, &source)?;
    let view = state
        .app
        .guard_public_lookup(
            &source,
            state
                .app
                .citizen_rate(&number, &body.secret, &body.outcome, &body.comment, &source),
        )
        .await?;
    Ok(Json(serde_json::to_value(view).unwrap_or_default()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaceQuery {
    /// A village's (or town's) region code.
    pub region: Option<String>,
    /// A service hall: the id of a comprehensive governance center department.
    pub hall: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceOut {
    /// `region` or `hall`.
    pub kind: String,
    pub name: String,
    pub region_code: String,
    pub full_name: String,
}

/// The place a printed QR code names (a village by region code or a service hall by id): its name, and the
/// region a submission made there is placed in.
#[utoipa::path(get, path = "/api/v1/public/places", tag = "public", params(PlaceQuery),
    responses((status = 200, body = PlaceOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn public_place(
    State(state): State<ApiState>,
    Query(q): Query<PlaceQuery>,
) -> ApiResult<Json<PlaceOut>> {
    let place = state.app.public_place(q.region.as_deref(), q.hall).await?;
    Ok(Json(PlaceOut {
        kind: place.kind,
        name: place.name,
        region_code: place.region_code,
        full_name: place.full_name,
    }))
}
