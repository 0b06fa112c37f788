//! Fengqiao's HTTP API: JSON under `/api/v1`, documented by the OpenAPI document at `/api/openapi.json`.
//!
//! Handlers are thin: they parse the request, call one use case on [`fengqiao_app::App`], and shape the
//! answer. Authentication, CSRF and error shapes live here; permissions and scope live in the application.

pub mod auth;
pub mod error;
pub mod json_body;
pub mod routes;
pub mod wire;

use axum::Json;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use error::ApiError;
use fengqiao_app::App;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub app: App,
    pub metrics: PrometheusHandle,
    /// Mark cookies `Secure` (when served over TLS).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (the audit trail records the client behind them).
    pub trusted_proxies: std::sync::Arc<Vec<std::net::IpAddr>>,
}

/// The process-wide metrics recorder (installed once).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Fengqiao 枫桥 API", description = "Intake, routing, handling and supervision for comprehensive governance centers. Errors carry `code`, `message_zh`, `message_en` and `fields`."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in and sessions"),
        (name = "organisation", description = "Regions, grids, departments, point-to-grid"),
        (name = "users", description = "Accounts, roles and scopes"),
        (name = "residents", description = "Residents and their personal data"),
        (name = "audit", description = "The audit trail"),
        (name = "cases", description = "Intake, the workflow, timeline, attachments, notifications"),
        (name = "catalog", description = "The matter catalog and the working calendar"),
        (name = "rates", description = "The rates with their formulas and drill-down"),
        (name = "mediation", description = "Committees, mediators, mediations, the agreement document, mediation figures"),
        (name = "petitions", description = "Petitions, reception schedules and records, backlog cases, petition figures"),
        (name = "public", description = "The citizen's page: submit and track without signing in"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The documented routes, before state is attached.
pub fn api_router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::ops::router())
        .merge(routes::auth::router())
        .merge(routes::org::router())
        .merge(routes::users::router())
        .merge(routes::residents::router())
        .merge(routes::audit::router())
        .merge(routes::cases::router())
        .merge(routes::catalog::router())
        .merge(routes::rates::router())
        .merge(routes::mediation::router())
        .merge(routes::petitions::router())
        .merge(routes::public::router())
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

/// Answers a browser's GET for a path outside the API (the web front end's files and its client-side routes),
/// or `None` to let the API's "no such route" answer it.
pub type AssetResponder = fn(&Request) -> Option<Response>;

/// The whole HTTP application (the API alone).
pub fn router(state: ApiState) -> axum::Router {
    router_with_assets(state, None)
}

/// The whole HTTP application; paths that no API route serves go to `assets` for GET and HEAD, except under
/// `/api/`, which always answers JSON. `/healthz`, `/readyz`, `/metrics` and `/api/openapi.json` are routes,
/// so assets never shadow them.
pub fn router_with_assets(state: ApiState, assets: Option<AssetResponder>) -> axum::Router {
    let (router, openapi) = api_router().split_for_parts();
    let openapi_json = serde_json::to_value(&openapi).unwrap_or_default();
    router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || async move { Json(openapi_json.clone()) }),
        )
        .route_layer(axum::middleware::from_fn(record_metrics))
        .fallback(move |request: Request| fallback(request, assets))
        .layer(TraceLayer::new_for_http())
        .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
        .with_state(state)
}

async fn fallback(request: Request, assets: Option<AssetResponder>) -> Response {
    let path = request.uri().path();
    let browsable = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) && path != "/api"
        && !path.starts_with("/api/");
    if browsable
        && let Some(serve) = assets
        && let Some(response) = serve(&request)
    {
        return response;
    }
    no_route().await.into_response()
}

async fn no_route() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no_route",
        "没有这个接口",
        "no such route",
    )
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("fengqiao_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("fengqiao_http_request_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
