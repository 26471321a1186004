//! FlexPortal HTTP API: the axum router for `/v1`, authentication and tenant selection
//! (SPEC §1.2), the error envelope (SPEC §1.4), body limits (SPEC §1.3), health probes and the
//! OpenAPI document.

mod auth;
mod error;
mod extract;
mod gate;
mod json;
pub mod logging;
pub mod model;
pub mod openapi;
mod ratelimit;
pub mod request;
mod routes;
mod usage;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use flexportal_app::App;

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

/// The whole HTTP application: `/v1` routes, `/healthz`, `/readyz`, `/openapi.json`, with request
/// ids (`x-request-id`, kept when the client sends one), request logging and panic recovery.
pub fn router(state: AppState) -> Router {
    layered(
        Router::new()
            .merge(routes::router(&state))
            .with_state(state),
    )
}

/// Wraps routes in the layer every response goes through ([`request::RequestLayer`]): request
/// ids, a request span, and a panic in a handler answered as 500 `INTERNAL_ERROR` with the error
/// envelope and logged in the request's span.
pub fn layered(routes: Router) -> Router {
    routes.layer(request::RequestLayer)
}

/// The listener to serve [`router`] on: every accepted connection gets `TCP_NODELAY`, so an
/// answer written in parts (a streamed export, a body after its headers) goes out at once
/// instead of waiting, by Nagle's algorithm, for the client to acknowledge the previous part.
pub fn listener(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn no_delay(stream: &mut tokio::net::TcpStream) {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set on a connection");
        }
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
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

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    #[tokio::test]
    async fn accepted_connections_have_no_delay() {
        let bound = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = bound.local_addr().unwrap();
        let mut listener = super::listener(bound);
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await;
        assert!(stream.nodelay().unwrap(), "TCP_NODELAY on the server side");
        drop(client);
    }
}
