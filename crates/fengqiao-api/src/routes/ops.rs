//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers; 503 when it does not.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = String), (status = 503, body = String)))]
async fn readyz(State(state): State<ApiState>) -> impl IntoResponse {
    match state.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, body = String)))]
async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    // On SQLite, how the group commit wrote the registrations: `together`, or `one_by_one` after their batch
    // failed together.
    if let Some(counts) = state.app.store.group_commit_counts() {
        for (written, n) in [
            ("together", counts.together),
            ("one_by_one", counts.one_by_one),
        ] {
            metrics::counter!("fengqiao_sqlite_group_commit_registrations_total", "written" => written)
                .absolute(n);
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
