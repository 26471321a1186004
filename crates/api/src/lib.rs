//! FlexPortal HTTP API: the axum router for `/v1`, authentication and tenant selection
//! (SPEC §1.2), the error envelope (SPEC §1.4), body limits (SPEC §1.3), health probes and the
//! OpenAPI document.

mod auth;
mod error;
mod extract;
mod gate;
pub mod model;
pub mod openapi;
mod ratelimit;
mod routes;
mod usage;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use flexportal_app::App;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use usage::UsageBuffer;

/// Largest JSON body accepted, in bytes (SPEC §1.3, Recommended 1 MiB).
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;
/// Largest CSV upload accepted, in bytes (SPEC §1.3, Recommended 10 MiB).
pub const CSV_BODY_LIMIT: usize = 10 * 1024 * 1024;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// Use cases.
    pub app: App,
    /// Buffered API-key usage, flushed periodically.
    pub usage: Arc<UsageBuffer>,
}

#[derive(Clone, Default)]
struct RequestIds;

impl MakeRequestId for RequestIds {
    /// `req_` and 16 random lowercase letters and digits.
    fn make_request_id<B>(&mut self, _req: &Request<B>) -> Option<RequestId> {
        let mut id = *b"req_0000000000000000";
        flexportal_domain::ids::fill_token(&mut id[4..]);
        axum::http::HeaderValue::from_bytes(&id)
            .ok()
            .map(RequestId::new)
    }
}

/// The whole HTTP application: `/v1` routes, `/healthz`, `/readyz`, `/openapi.json`, with request
/// ids (`x-request-id`, kept when the client sends one), request logging and panic recovery.
pub fn router(state: AppState) -> Router {
    layered(
        Router::new()
            .merge(routes::router(&state))
            .with_state(state),
    )
}

/// Wraps routes in the middleware every response goes through: request ids, a request span,
/// and a panic in a handler answered as 500 `INTERNAL_ERROR` with the error envelope and logged
/// in the request's span.
pub fn layered(routes: Router) -> Router {
    let header = HeaderName::from_static("x-request-id");
    // One layer made of the four: axum boxes each `Router::layer` separately and clones every
    // box of the chain on every request.
    routes.layer(
        tower::ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(header.clone(), RequestIds))
            .layer(PropagateRequestIdLayer::new(header))
            .layer(
                TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                }),
            )
            // Inside the trace span, so the panic's log line carries the request id.
            .layer(CatchPanicLayer::custom(panic_response)),
    )
}

/// A handler that panicked: logged with its message, answered 500 `INTERNAL_ERROR` with the error
/// envelope instead of a dropped connection.
fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    axum::response::IntoResponse::into_response(
        ApiError(flexportal_domain::DomainError::internal()),
    )
}

/// Spawns the task that writes buffered key usage to the store every `every`.
pub fn spawn_usage_flusher(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            state.usage.flush(&state.app).await;
        }
    })
}
