//! The application's errors: what went wrong, in terms a caller can act on.

use fengqiao_domain::access::Permission;
use fengqiao_domain::error::FieldError;
use fengqiao_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input failed validation; each field says why.
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// No such thing — or not in the caller's scope, which must look the same.
    #[error("not found")]
    NotFound,
    /// Not signed in, or the session ended.
    #[error("not authenticated")]
    Unauthenticated,
    /// Wrong username or password.
    #[error("bad credentials")]
    BadCredentials,
    /// The role does not carry the permission.
    #[error("forbidden: {0:?}")]
    Forbidden(Permission),
    /// The user may not do this for another reason (e.g. granting a scope outside their own).
    #[error("forbidden: {0}")]
    ForbiddenBecause(&'static str),
    /// Too many failed logins.
    #[error("throttled for {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    /// Too many writes from the public page by one device or source address.
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: i64 },
    /// Too much work at once (password hashing slots full).
    #[error("busy")]
    Busy,
    #[error("conflict: {0}")]
    Conflict(String),
    /// The same Idempotency-Key came with another body.
    #[error("idempotency key reused with a different body")]
    IdempotencyKeyReused,
    /// A case transition that the state or the actor does not allow.
    #[error("{en}")]
    Transition {
        code: &'static str,
        zh: String,
        en: String,
    },
    #[error(transparent)]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(what) => AppError::Conflict(what),
            StoreError::MissingReference(what) => AppError::Validation(vec![FieldError::new(
                "reference",
                "missing_reference",
                format!("引用的对象不存在：{what}"),
                format!("referenced object does not exist: {what}"),
            )]),
            other => AppError::Store(other),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Validation(vec![error])
    }
}
