//! The web front end's built files (`web/dist`, made by `npm run build` in `web/`), embedded in the binary
//! (read from disk in debug builds) and served beside the API: hashed files under `/assets/` are cached for a
//! year, `index.html` is revalidated every time, and any other path without a file extension is a client-side
//! route answered with `index.html`. A binary built before the assets serves a page saying how to build them.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

#[derive(rust_embed::Embed)]
#[folder = "../../web/dist"]
struct Assets;

const NOT_BUILT: &str = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>枫桥</title>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>枫桥 Fengqiao</h1>\
<p>网页前端尚未构建：请在 <code>web/</code> 目录运行 <code>npm ci &amp;&amp; npm run build</code>，再重新编译。</p>\
<p>The web front end was not built into this binary: run <code>npm ci &amp;&amp; npm run build</code> in \
<code>web/</code>, then build again. The API is at <code>/api/v1</code>.</p></body></html>";

/// Serves a front-end file or the application shell for a client route; `None` for a missing file.
pub fn serve_asset(request: &Request) -> Option<Response> {
    let path = request.uri().path().trim_start_matches('/');
    if !path.is_empty()
        && let Some(file) = Assets::get(path)
    {
        let cache = if path.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return Some(file_response(request, &file, cache));
    }
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return None; // a file that is not there: 404, never the shell
    }
    match Assets::get("index.html") {
        Some(file) => Some(file_response(request, &file, "no-cache")),
        None => Some(
            Response::builder()
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .header(header::CACHE_CONTROL, "no-cache")
                .body(Body::from(NOT_BUILT))
                .unwrap_or_default(),
        ),
    }
}

fn file_response(request: &Request, file: &rust_embed::EmbeddedFile, cache: &str) -> Response {
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut builder = Response::builder()
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, &etag)
        .header(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    if fresh {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        return builder.body(Body::empty()).unwrap_or_default();
    }
    let body = if request.method() == axum::http::Method::HEAD {
        Body::empty()
    } else {
        Body::from(file.data.clone().into_owned())
    };
    builder
        .header(header::CONTENT_TYPE, file.metadata.mimetype())
        .body(body)
        .unwrap_or_default()
}
