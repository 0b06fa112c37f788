//! The one HTTP error type: a stable machine-readable `code`, a message in zh-CN and en, and field errors.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use fengqiao_app::AppError;
use fengqiao_domain::error::FieldError;

/// One field that failed validation.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// The field as the request spells it (`phone`, `roles[0].scope`, `row 3: code` …).
    pub field: String,
    /// A stable reason (`format`, `checksum`, `length`, `required` …).
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// Every error response has this shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code: `validation`, `not_found`, `unauthenticated`, `bad_credentials`,
    /// `forbidden`, `csrf`, `throttled`, `busy`, `conflict`, `internal`, `no_route`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorBody>,
}

/// An error on its way out.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, zh: &str, en: &str) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.into(),
                message_zh: zh.into(),
                message_en: en.into(),
                fields: Vec::new(),
            },
            retry_after: None,
        }
    }

    pub fn fields(errors: Vec<FieldError>) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "输入有误，请按提示修改",
            "invalid input; see the fields",
        );
        error.body.fields = errors
            .into_iter()
            .map(|e| FieldErrorBody {
                field: e.field,
                code: e.code.into(),
                message_zh: e.message_zh,
                message_en: e.message_en,
            })
            .collect();
        error
    }

    pub fn field(field: &str, code: &'static str, zh: &str, en: &str) -> Self {
        Self::fields(vec![FieldError::new(field, code, zh, en)])
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "请先登录",
            "sign in first",
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "未找到", "not found")
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Validation(errors) => ApiError::fields(errors),
            AppError::NotFound => ApiError::not_found(),
            AppError::Unauthenticated => ApiError::unauthenticated(),
            AppError::BadCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "用户名或密码错误",
                "wrong username or password",
            ),
            AppError::Forbidden(permission) => {
                let mut e = ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "没有此项操作的权限",
                    "your role may not do this",
                );
                e.body.message_en = format!("your role may not do this ({permission:?})");
                e
            }
            AppError::ForbiddenBecause(reason) => {
                let zh = match reason {
                    "unmask_not_granted" => "未授予查看完整个人信息的权限",
                    "cannot_disable_self" => "不能停用自己的账号",
                    _ => "不允许此项操作",
                };
                let mut e = ApiError::new(StatusCode::FORBIDDEN, "forbidden", zh, reason);
                e.body.message_en = format!("not allowed: {reason}");
                e
            }
            AppError::Throttled { retry_after_secs } => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "throttled",
                    "登录失败次数过多，请稍后再试",
                    "too many failed sign-ins; try again later",
                );
                e.retry_after = Some(retry_after_secs);
                e
            }
            AppError::RateLimited { retry_after_secs } => {
                let minutes = (retry_after_secs + 59) / 60;
                let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "", "");
                e.body.message_zh =
                    format!("提交过于频繁，请约 {minutes} 分钟后再试（已提交的内容不受影响）");
                e.body.message_en = format!(
                    "too many submissions from this phone or network; try again in about {minutes} min (what was already submitted is kept)"
                );
                e.retry_after = Some(retry_after_secs);
                e
            }
            AppError::Busy => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "系统繁忙，请稍后再试",
                    "busy; try again shortly",
                );
                e.retry_after = Some(2);
                e
            }
            AppError::Conflict(what) => {
                let mut e =
                    ApiError::new(StatusCode::CONFLICT, "conflict", "已存在", "already exists");
                e.body.message_zh = format!("已存在：{what}");
                e.body.message_en = format!("already exists: {what}");
                e
            }
            AppError::IdempotencyKeyReused => {
                let mut e = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "此 Idempotency-Key 已用于另一份不同的提交",
                    "this Idempotency-Key was already used with a different body",
                );
                e.body.fields.push(FieldErrorBody {
                    field: "Idempotency-Key".into(),
                    code: "reused".into(),
                    message_zh: e.body.message_zh.clone(),
                    message_en: e.body.message_en.clone(),
                });
                e
            }
            AppError::Transition { code, zh, en } => {
                let status = if code == "not_allowed" {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::CONFLICT
                };
                let mut e = ApiError::new(status, code, &zh, &en);
                e.body.fields.push(FieldErrorBody {
                    field: "action".into(),
                    code: code.into(),
                    message_zh: zh,
                    message_en: en,
                });
                e
            }
            AppError::Store(inner) => {
                tracing::error!(error = ?inner, "storage error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "服务器内部错误",
                    "internal error",
                )
            }
            AppError::Internal(message) => {
                tracing::error!(error = %message, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "服务器内部错误",
                    "internal error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
