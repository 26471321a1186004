//! What every `/v1` operation passes before its handler, in the order of SPEC §1.3:
//! authentication and tenant selection (the resolved [`TenantContext`] is put in the request's
//! extensions, where [`crate::auth::Ctx`] finds it), the rate limit (SPEC §1.14), and, for
//! writes, the `Idempotency-Key` header.
//!
//! **Idempotency keys** (Stripe's semantics, per business unit): the first request with a key
//! runs inside a request transaction ([`flexportal_app::request_tx`]) that also stores its
//! response (status and body) with a SHA-256 of the request (method, path, query, body); both
//! commit together, so an effect is never stored without its response nor the reverse. A repeat
//! within 24 hours gets the stored response again (`Idempotent-Replayed: true`); the same key
//! with another request answers 409 `IDEMPOTENCY_KEY_REUSED`; a repeat that arrives while the
//! first runs waits for it (in this process, then at the key's row on PostgreSQL) and never runs
//! it twice; a wait longer than [`KEY_WAIT`] answers 409 `IDEMPOTENCY_KEY_IN_USE`. Failed
//! requests (4xx, 5xx) store nothing and change nothing, so the key can be used again. The rentals
//! export, which streams and creates a fresh download each time, runs as without a key.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::Route;
use flexportal_app::request_tx::{Failure, Opened, RequestTx};
use flexportal_app::{AppError, TenantContext};
use flexportal_domain::DomainError;
use flexportal_store::StoreError;
use flexportal_store::idempotency::{self, IdempotencyRecord};
use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::AppState;
use crate::error::ApiError;

/// How long a repeat waits for the request that holds its key.
pub const KEY_WAIT: Duration = Duration::from_secs(60);

/// Largest response stored for a key, in bytes. The largest answer of a write is the product CSV
/// import's report: up to 10,000 row errors, each echoing at most 500 characters of a SKU (six
/// bytes each in JSON at worst) and its problems, about 41 MB.
const RESPONSE_LIMIT: usize = 64 * 1024 * 1024;

/// Longest key accepted, in characters.
const MAX_KEY: usize = 255;

/// Requests that run again whole after losing to a concurrent transaction.
const MAX_ATTEMPTS: u32 = 8;

/// Puts [`Gate`] in front of each `/v1` route (as a route layer: a path no route matches gets
/// its 404 without authentication).
#[derive(Clone)]
pub(crate) struct GateLayer {
    state: AppState,
}

impl GateLayer {
    pub(crate) fn new(state: AppState) -> Self {
        GateLayer { state }
    }
}

impl tower::Layer<Route> for GateLayer {
    type Service = Gate;

    fn layer(&self, inner: Route) -> Gate {
        Gate {
            state: self.state.clone(),
            inner,
        }
    }
}

/// The checks in front of one route's handler (see the module).
#[derive(Clone)]
pub(crate) struct Gate {
    state: AppState,
    inner: Route,
}

impl tower::Service<Request> for Gate {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A route is always ready; each request runs a clone of it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let state = self.state.clone();
        let next = Next(self.inner.clone());
        Box::pin(async move { Ok(gate(state, req, next).await) })
    }
}

/// The route behind the gate, run once per attempt.
#[derive(Clone)]
struct Next(Route);

impl Next {
    async fn run(self, req: Request) -> Response {
        match self.0.oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }
}

/// Runs the checks, then the operation.
async fn gate(s: AppState, req: Request, next: Next) -> Response {
    let _in_flight = s.app.foreground.enter();
    let (mut parts, body) = req.into_parts();
    let ctx = match crate::auth::authenticate(&mut parts, &s).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let allowance = match ctx.settings.api.effective_limit() {
        Some(limit) => {
            let key_id = ctx.actor.user_id.trim_start_matches("apikey:");
            match crate::ratelimit::check(key_id, limit, &s.app.clock) {
                Ok(a) => Some(a),
                Err(resp) => return *resp,
            }
        }
        None => None,
    };
    if let Some(e) = crate::extract::path_with_nul(&parts) {
        let mut resp = e.into_response();
        if let Some(a) = allowance {
            a.apply(resp.headers_mut());
        }
        return resp;
    }
    let write = matches!(
        parts.method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let key = parts
        .headers
        .get("idempotency-key")
        .filter(|_| write && parts.uri.path() != "/v1/exports/rentals")
        .cloned();
    let mut resp = match key {
        Some(key) => {
            parts.extensions.insert(ctx.clone());
            // Boxed: its state (the body's hash, the stored response) is large, and inline it
            // would make the future of every request as large, allocated and moved whole.
            Box::pin(idempotent(s, ctx, key, parts, body, next)).await
        }
        None => {
            parts.extensions.insert(ctx);
            next.run(Request::from_parts(parts, body)).await
        }
    };
    if let Some(a) = allowance {
        a.apply(resp.headers_mut());
    }
    resp
}

/// The requests of this process that hold a key, so that a repeat waits here rather than on a
/// database connection.
type KeyLocks = HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>;

static HELD: LazyLock<Mutex<KeyLocks>> = LazyLock::new(Default::default);

struct Held {
    id: (String, String),
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = HELD.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&self.id).is_some_and(|m| Arc::strong_count(m) == 1) {
            map.remove(&self.id);
        }
    }
}

async fn hold(tenant_id: &str, key: &str) -> Option<Held> {
    let id = (tenant_id.to_string(), key.to_string());
    let m = HELD
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(id.clone())
        .or_default()
        .clone();
    let guard = tokio::time::timeout(KEY_WAIT, m.lock_owned()).await.ok()?;
    Some(Held {
        id,
        guard: Some(guard),
    })
}

fn in_use() -> Response {
    ApiError::new(
        409,
        "IDEMPOTENCY_KEY_IN_USE",
        "A request with this Idempotency-Key is still running; retry later",
    )
    .into_response()
}

fn internal(e: impl Into<AppError>) -> Response {
    ApiError::from(e.into()).into_response()
}

/// The stored response of a key, marked as a replay.
fn replay(r: IdempotencyRecord) -> Response {
    let status = u16::try_from(r.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut resp = Response::new(Body::from(r.response_body));
    *resp.status_mut() = status;
    if let Some(ct) = r.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}

async fn idempotent(
    s: AppState,
    ctx: Arc<TenantContext>,
    key: HeaderValue,
    parts: axum::http::request::Parts,
    body: Body,
    next: Next,
) -> Response {
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= MAX_KEY => k.trim().to_string(),
        _ => {
            return ApiError(DomainError::field(
                "Idempotency-Key",
                "invalid_string",
                format!(
                    "The Idempotency-Key header must be 1 to {MAX_KEY} visible ASCII characters"
                ),
            ))
            .into_response();
        }
    };
    let bytes = match crate::extract::read_limited(
        Request::from_parts(parts.clone(), body),
        crate::CSV_BODY_LIMIT + 64 * 1024,
    )
    .await
    {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str().as_bytes());
    h.update(b" ");
    h.update(
        parts
            .uri
            .path_and_query()
            .map_or("", |p| p.as_str())
            .as_bytes(),
    );
    h.update(b"\n");
    h.update(&bytes);
    let hash = hex::encode(h.finalize());
    let Some(_held) = hold(&ctx.tenant_id, &key).await else {
        return in_use();
    };
    let keyed = Keyed {
        s,
        ctx,
        key,
        hash,
        parts,
        bytes,
        next,
    };
    if keyed.s.app.db.engine() == flexportal_store::Engine::Sqlite {
        keyed.on_sqlite().await
    } else {
        keyed.on_postgres().await
    }
}

/// A write request with a valid key, its body read and hashed, holding the key in this process.
struct Keyed {
    s: AppState,
    ctx: Arc<TenantContext>,
    key: String,
    hash: String,
    parts: axum::http::request::Parts,
    bytes: axum::body::Bytes,
    next: Next,
}

/// The answer to a request whose key another request holds or has stored (`found`: its record,
/// read after the claim failed): the stored response when it was the same request, otherwise 409.
fn taken(found: Result<Option<IdempotencyRecord>, StoreError>, hash: &str) -> Response {
    match found {
        Ok(Some(r)) if r.request_hash != hash => ApiError::new(
            409,
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was used with another request",
        )
        .into_response(),
        Ok(Some(r)) if r.status_code == 0 => in_use(),
        Ok(Some(r)) => replay(r),
        Ok(None) => in_use(),
        Err(e) => internal(e),
    }
}

/// A successful response read whole, to be stored for its key and then sent.
struct Answer {
    parts: axum::http::response::Parts,
    text: String,
}

impl Answer {
    async fn read(resp: Response) -> Result<Answer, Response> {
        let (parts, body) = resp.into_parts();
        let Ok(body) = axum::body::to_bytes(body, RESPONSE_LIMIT).await else {
            return Err(internal(AppError::corrupt(
                "response too large to store for its key",
            )));
        };
        let Ok(text) = String::from_utf8(body.into()) else {
            return Err(internal(AppError::corrupt("response is not text")));
        };
        Ok(Answer { parts, text })
    }

    fn status(&self) -> i64 {
        i64::from(self.parts.status.as_u16())
    }

    fn content_type(&self) -> Option<String> {
        self.parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    fn text(&self) -> String {
        self.text.clone()
    }

    fn send(self) -> Response {
        Response::from_parts(self.parts, Body::from(self.text))
    }
}

/// Whether to run the request again after a retryable failure of attempt `attempt`: unless the
/// attempts are used up, waits its backoff and counts the next attempt.
async fn again(attempt: &mut u32) -> bool {
    if *attempt >= MAX_ATTEMPTS {
        return false;
    }
    flexportal_app::error::backoff(*attempt).await;
    *attempt += 1;
    true
}

/// Commits the request's transaction once the key's record is `written` with the response:
/// the answer, or `None` to run the request again (a retryable failure, attempts left).
async fn finish(
    conn: flexportal_store::Conn,
    written: Result<(), StoreError>,
    answer: Answer,
    attempt: &mut u32,
) -> Option<Response> {
    let committed = match written {
        Ok(()) => conn.commit().await,
        Err(e) => Err(e),
    };
    match committed {
        Ok(()) => Some(answer.send()),
        Err(e) => {
            if e.is_retryable() && again(attempt).await {
                None
            } else {
                Some(internal(e))
            }
        }
    }
}

impl Keyed {
    fn request(&self) -> Request {
        Request::from_parts(self.parts.clone(), Body::from(self.bytes.clone()))
    }

    fn record(&self, now: i64) -> IdempotencyRecord {
        IdempotencyRecord {
            tenant_id: self.ctx.tenant_id.clone(),
            idempotency_key: self.key.clone(),
            request_hash: self.hash.clone(),
            status_code: 0,
            content_type: None,
            response_body: String::new(),
            created_at: now,
        }
    }

    async fn stored(&self) -> Result<Option<IdempotencyRecord>, StoreError> {
        let mut c = self.s.app.db.read().await?;
        idempotency::get(&mut c, &self.ctx.tenant_id, &self.key).await
    }

    /// SQLite: a stored key is answered from a read connection; otherwise the request runs in a
    /// request transaction opened when it first writes (its body is read and validated without
    /// the one writer, as without a key), and its response is stored in that transaction. A
    /// record that appeared meanwhile (another process) makes the claim fail: the request's
    /// writes roll back and the stored record answers.
    async fn on_sqlite(self) -> Response {
        match self.stored().await {
            Ok(Some(r)) if r.created_at >= self.s.app.now() - idempotency::TTL_MS => {
                return taken(Ok(Some(r)), &self.hash);
            }
            Ok(_) => {}
            Err(e) => return internal(e),
        }
        let mut attempt = 1;
        loop {
            let (resp, opened, failed) = RequestTx::scope_deferred(
                self.s.app.db.clone(),
                self.next.clone().run(self.request()),
            )
            .await;
            if failed == Some(Failure::Retryable) {
                drop(opened);
                if again(&mut attempt).await {
                    continue;
                }
                return resp;
            }
            if !resp.status().is_success() || failed.is_some() {
                // Nothing is kept: the key is free again, and the answer says what went wrong.
                return resp;
            }
            let mut conn = match opened {
                Opened::Conn(c) => *c,
                Opened::Never => match self.s.app.db.begin().await {
                    Ok(c) => c,
                    Err(e) => return internal(e),
                },
                Opened::Lost => {
                    return internal(AppError::corrupt("the request transaction was lost"));
                }
            };
            let answer = match Answer::read(resp).await {
                Ok(a) => a,
                Err(resp) => return resp,
            };
            let now = self.s.app.now();
            let full = IdempotencyRecord {
                status_code: answer.status(),
                content_type: answer.content_type(),
                response_body: answer.text(),
                ..self.record(now)
            };
            let written =
                match idempotency::claim(&mut conn, &full, now - idempotency::TTL_MS).await {
                    Ok(true) => Ok(()),
                    Ok(false) => {
                        drop(conn);
                        return taken(self.stored().await, &self.hash);
                    }
                    Err(e) => Err(e),
                };
            if let Some(resp) = finish(conn, written, answer, &mut attempt).await {
                return resp;
            }
        }
    }

    /// PostgreSQL: the key's row is inserted first, in the request transaction, so a concurrent
    /// request with the same key (another process) waits on that row; the response is stored
    /// in it at the end.
    async fn on_postgres(self) -> Response {
        let mut attempt = 1;
        loop {
            let now = self.s.app.now();
            let mut conn = match self.s.app.db.begin().await {
                Ok(c) => c,
                Err(e) => return internal(e),
            };
            match idempotency::claim(&mut conn, &self.record(now), now - idempotency::TTL_MS).await
            {
                Ok(true) => {}
                Ok(false) => {
                    let found = idempotency::get(&mut conn, &self.ctx.tenant_id, &self.key).await;
                    drop(conn);
                    return taken(found, &self.hash);
                }
                Err(e) => {
                    drop(conn);
                    if e.is_retryable() && again(&mut attempt).await {
                        continue;
                    }
                    return internal(e);
                }
            }
            let (resp, conn, failed) =
                RequestTx::scope(conn, self.next.clone().run(self.request())).await;
            let Some(mut conn) = conn else {
                return internal(AppError::corrupt("the request transaction was lost"));
            };
            if failed == Some(Failure::Retryable) {
                drop(conn);
                if again(&mut attempt).await {
                    continue;
                }
                return resp;
            }
            if !resp.status().is_success() || failed.is_some() {
                // Nothing is kept: the key is free again, and the answer says what went wrong.
                drop(conn);
                return resp;
            }
            let answer = match Answer::read(resp).await {
                Ok(a) => a,
                Err(resp) => return resp,
            };
            let written = idempotency::complete(
                &mut conn,
                &self.ctx.tenant_id,
                &self.key,
                answer.status(),
                answer.content_type(),
                answer.text(),
            )
            .await;
            if let Some(resp) = finish(conn, written, answer, &mut attempt).await {
                return resp;
            }
        }
    }
}
