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

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flexportal_app::request_tx::{Failure, RequestTx};
use flexportal_app::{AppError, TenantContext};
use flexportal_domain::DomainError;
use flexportal_store::idempotency::{self, IdempotencyRecord};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// How long a repeat waits for the request that holds its key.
pub const KEY_WAIT: Duration = Duration::from_secs(60);

/// Largest response stored for a key, in bytes.
const RESPONSE_LIMIT: usize = 16 * 1024 * 1024;

/// Longest key accepted, in characters.
const MAX_KEY: usize = 255;

/// Requests that run again whole after losing to a concurrent transaction.
const MAX_ATTEMPTS: u32 = 8;

/// Runs the checks, then the operation.
pub(crate) async fn gate(State(s): State<AppState>, req: Request, next: Next) -> Response {
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
    let key = parts.headers.get("idempotency-key").cloned();
    parts.extensions.insert(ctx.clone());
    let write = matches!(
        parts.method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let mut resp = match key {
        Some(key) if write && parts.uri.path() != "/v1/exports/rentals" => {
            idempotent(s, ctx, key, parts, body, next).await
        }
        _ => next.run(Request::from_parts(parts, body)).await,
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
    ctx: TenantContext,
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
    let sqlite = s.app.db.engine() == flexportal_store::Engine::Sqlite;
    let mut attempt = 1;
    loop {
        let now = s.app.now();
        let mut conn = match s.app.db.begin().await {
            Ok(c) => c,
            Err(e) => return internal(e),
        };
        let record = IdempotencyRecord {
            tenant_id: ctx.tenant_id.clone(),
            idempotency_key: key.clone(),
            request_hash: hash.clone(),
            status_code: 0,
            content_type: None,
            response_body: String::new(),
            created_at: now,
        };
        // SQLite: the transaction holds the one writer, so nothing can take the key before it
        // commits: a read now and the record written with the response suffice. PostgreSQL:
        // the key's row is inserted first, so a concurrent request with it waits on that row.
        let claimed = if sqlite {
            match idempotency::get(&mut conn, &ctx.tenant_id, &key).await {
                Ok(Some(r)) if r.created_at >= now - idempotency::TTL_MS => Ok(false),
                Ok(_) => Ok(true),
                Err(e) => Err(e),
            }
        } else {
            idempotency::claim(&mut conn, &record, now - idempotency::TTL_MS).await
        };
        match claimed {
            Ok(true) => {}
            Ok(false) => {
                let found = idempotency::get(&mut conn, &ctx.tenant_id, &key).await;
                drop(conn);
                return match found {
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
                };
            }
            Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                drop(conn);
                flexportal_app::error::backoff(attempt).await;
                attempt += 1;
                continue;
            }
            Err(e) => return internal(e),
        }
        let req = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        let (resp, conn, failed) = RequestTx::scope(conn, next.clone().run(req)).await;
        let Some(mut conn) = conn else {
            return internal(AppError::corrupt("the request transaction was lost"));
        };
        if failed == Some(Failure::Retryable) && attempt < MAX_ATTEMPTS {
            drop(conn);
            flexportal_app::error::backoff(attempt).await;
            attempt += 1;
            continue;
        }
        if !resp.status().is_success() || failed.is_some() {
            // Nothing is kept: the key is free again, and the answer says what went wrong.
            drop(conn);
            return resp;
        }
        let (rparts, rbody) = resp.into_parts();
        let Ok(body) = axum::body::to_bytes(rbody, RESPONSE_LIMIT).await else {
            return internal(AppError::corrupt("response too large to store for its key"));
        };
        let Ok(text) = std::str::from_utf8(&body) else {
            return internal(AppError::corrupt("response is not text"));
        };
        let content_type = rparts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let completed = if sqlite {
            let full = IdempotencyRecord {
                status_code: i64::from(rparts.status.as_u16()),
                content_type,
                response_body: text.to_string(),
                ..record
            };
            idempotency::claim(&mut conn, &full, now - idempotency::TTL_MS)
                .await
                .map(|_| ())
        } else {
            idempotency::complete(
                &mut conn,
                &ctx.tenant_id,
                &key,
                i64::from(rparts.status.as_u16()),
                content_type,
                text.to_string(),
            )
            .await
        };
        let stored = match completed {
            Ok(()) => conn.commit().await,
            Err(e) => Err(e),
        };
        match stored {
            Ok(()) => return Response::from_parts(rparts, Body::from(body)),
            Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                flexportal_app::error::backoff(attempt).await;
                attempt += 1;
            }
            Err(e) => return internal(e),
        }
    }
}
