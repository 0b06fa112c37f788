//! A JSON response body written into a buffer sized for a case view at once.
//!
//! axum's `Json` starts its buffer at 128 bytes and grows it by copying as serde writes; a case view (two to
//! four kilobytes) took five or six copies, and on the intake path that growth was about a twelfth of the
//! request threads' time. The answer is the same: the same JSON, `Content-Type: application/json`, and the
//! API's `internal` error if the value cannot be serialized.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;

/// Room for a case view with its units and parties; larger bodies grow from here.
const CAPACITY: usize = 4096;

/// A JSON response (see the module documentation).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: Serialize> IntoResponse for JsonBody<T> {
    fn into_response(self) -> Response {
        let mut buffer = Vec::with_capacity(CAPACITY);
        match serde_json::to_writer(&mut buffer, &self.0) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                buffer,
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "a response could not be serialized");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "服务器内部错误",
                    "internal error",
                )
                .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    #[tokio::test]
    async fn writes_the_same_json_as_serde_with_its_content_type() {
        let value =
            serde_json::json!({ "标题": "噪音扰民", "n": [1, 2, 3], "long": "x".repeat(10_000) });
        let response = JsonBody(&value).into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        assert_eq!(body, serde_json::to_vec(&value).unwrap());
    }

    #[tokio::test]
    async fn a_value_that_cannot_be_serialized_is_the_apis_internal_error() {
        // A map with non-string keys cannot be JSON.
        let value: std::collections::BTreeMap<(i32, i32), i32> = [((1, 2), 3)].into();
        let response = JsonBody(value).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(error["code"], "internal");
    }
}
