//! A JSON response body written into a buffer sized for a case view at once.
//!
//! axum's `Json` starts its buffer at 128 bytes and grows it by copying as serde writes, doubling until a
//! case view (a few kilobytes) fits; on the intake path perf put that growth at about 8 % of the request
//! threads' samples. The answer is the same: the same JSON, `Content-Type: application/json`, and the
//! API's `internal` error if the value cannot be serialized.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use fengqiao_app::AppError;

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
            Err(error) => ApiError::from(AppError::Internal(format!(
                "a response could not be serialized: {error}"
            )))
            .into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use axum::http::StatusCode;

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
