//! The layer every response goes through: the request id, the request's span, and panic
//! recovery, as one service with one future.
//!
//! - **Request id**: `x-request-id` is kept when the client sends one, otherwise `req_` and 16
//!   random lowercase letters and digits are set on the request; the response carries it.
//! - **Span**: the request runs in an `info` span `request{method, path, request_id}`, so every
//!   line logged while it runs names it. A 5xx answer is logged at `error` with its status and
//!   latency; every answer is logged at `debug`.
//! - **Panics**: a handler that panics is answered 500 `INTERNAL_ERROR` with the error envelope
//!   (SPEC §1.4) and its message is logged in the request's span; the connection stays open.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use futures_util::future::CatchUnwind;
use tracing::Span;

use crate::ApiError;

/// The request id header.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps a router's routes in [`Requests`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestLayer;

impl<S> tower::Layer<S> for RequestLayer {
    type Service = Requests<S>;

    fn layer(&self, inner: S) -> Requests<S> {
        Requests { inner }
    }
}

/// The service of [`RequestLayer`].
#[derive(Debug, Clone)]
pub struct Requests<S> {
    inner: S,
}

/// A new request id: `req_` and 16 random lowercase letters and digits.
fn new_id() -> HeaderValue {
    let mut id = *b"req_0000000000000000";
    flexportal_domain::ids::fill_token(&mut id[4..]);
    HeaderValue::from_bytes(&id).unwrap_or(HeaderValue::from_static("req_"))
}

impl<S> tower::Service<Request> for Requests<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RequestFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let started = Instant::now();
        let id = match req.headers().get(X_REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = new_id();
                req.headers_mut().insert(X_REQUEST_ID, id.clone());
                id
            }
        };
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %id.to_str().unwrap_or("-"),
        );
        let called = {
            let _entered = span.enter();
            std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req)))
        };
        let (inner, panic) = match called {
            Ok(f) => (Some(AssertUnwindSafe(f).catch_unwind()), None),
            Err(p) => (None, Some(p)),
        };
        RequestFuture {
            inner,
            panic,
            span,
            id: Some(id),
            started,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Requests`]: the inner future polled in the request's span, a panic
    /// turned into the 500 answer, the request id set on the response.
    pub struct RequestFuture<F> {
        #[pin]
        inner: Option<CatchUnwind<AssertUnwindSafe<F>>>,
        panic: Option<Box<dyn Any + Send>>,
        span: Span,
        id: Option<HeaderValue>,
        started: Instant,
    }
}

impl<F> Future for RequestFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let outcome = match this.inner.as_pin_mut() {
            Some(f) => ready!(f.poll(cx)),
            None => Err(this
                .panic
                .take()
                .unwrap_or_else(|| Box::new("request future polled after completion"))),
        };
        let mut resp = match outcome {
            Ok(Ok(resp)) => resp,
            Ok(Err(never)) => match never {},
            Err(panic) => panic_response(&*panic),
        };
        let status = resp.status().as_u16();
        let latency_ms = this.started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(status, latency_ms, "request failed");
        } else {
            tracing::debug!(status, latency_ms, "request finished");
        }
        if let Some(id) = this.id.take()
            && !resp.headers().contains_key(X_REQUEST_ID)
        {
            resp.headers_mut().insert(X_REQUEST_ID, id);
        }
        Poll::Ready(Ok(resp))
    }
}

/// A handler that panicked: logged with its message, answered 500 `INTERNAL_ERROR` with the error
/// envelope instead of a dropped connection.
fn panic_response(err: &(dyn Any + Send)) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    ApiError(flexportal_domain::DomainError::internal()).into_response()
}
