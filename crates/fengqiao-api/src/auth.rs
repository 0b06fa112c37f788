//! Who is calling: the bearer token or the session cookie, CSRF for cookie sessions, and the source address.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use std::net::SocketAddr;

use crate::ApiState;
use crate::error::ApiError;
use fengqiao_app::access::Actor;

/// The browser's session cookie (HttpOnly).
pub const SESSION_COOKIE: &str = "fq_session";
/// The CSRF token cookie the page reads and echoes in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "fq_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The caller's address: the peer, or — when the peer is a trusted reverse proxy — the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub fn source_of(parts: &Parts, trusted_proxies: &[std::net::IpAddr]) -> String {
    let Some(peer) = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
    else {
        return "unknown".to_string();
    };
    if !trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<std::net::IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|a| !trusted_proxies.contains(a))
        .map(|a| a.to_string())
        .unwrap_or_else(|| peer.to_string())
}

/// A cookie's value from the request.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The signed-in caller. Rejects with 401 when there is no live session, and with 403 `csrf` when a
/// cookie-authenticated state-changing request lacks the matching `X-CSRF-Token`.
pub struct Authenticated(pub Actor);

impl FromRequestParts<ApiState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let source = source_of(parts, &state.trusted_proxies);
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").map(str::trim).map(str::to_string));
        let (token, via_cookie) = match bearer {
            Some(token) => (token, false),
            None => match cookie(parts, SESSION_COOKIE) {
                Some(token) => (token, true),
                None => return Err(ApiError::unauthenticated()),
            },
        };
        let (actor, csrf) = state.app.authenticate(&token, &source).await?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "csrf",
                    "页面已过期，请刷新后重试",
                    "missing or wrong X-CSRF-Token; reload the page",
                ));
            }
        }
        Ok(Authenticated(actor))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut request = axum::http::Request::builder().uri("/");
        if let Some(f) = forwarded {
            request = request.header("x-forwarded-for", f);
        }
        let mut request = request.body(()).expect("request");
        let addr: SocketAddr = format!("{peer}:5555").parse().expect("addr");
        request.extensions_mut().insert(ConnectInfo(addr));
        request.into_parts().0
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxy: std::net::IpAddr = "127.0.0.1".parse().expect("ip");
        // No trusted proxy: the header is a client's claim and is ignored.
        assert_eq!(
            source_of(&parts("127.0.0.1", Some("10.1.2.3")), &[]),
            "127.0.0.1"
        );
        // Behind the trusted proxy: the client it forwarded for.
        assert_eq!(
            source_of(&parts("127.0.0.1", Some("10.1.2.3")), &[proxy]),
            "10.1.2.3"
        );
        // A spoofed first entry does not win: the nearest untrusted address does.
        assert_eq!(
            source_of(&parts("127.0.0.1", Some("6.6.6.6, 10.1.2.3")), &[proxy]),
            "10.1.2.3"
        );
        // A peer that is not the proxy cannot claim another address.
        assert_eq!(
            source_of(&parts("10.9.9.9", Some("1.2.3.4")), &[proxy]),
            "10.9.9.9"
        );
        // Garbage in the header falls back to the peer.
        assert_eq!(
            source_of(&parts("127.0.0.1", Some("not-an-ip")), &[proxy]),
            "127.0.0.1"
        );
    }
}
