//! The typed error of every use case. Rejections carry the wire shape of SPEC §1.4 (status, code,
//! message, field details); storage failures keep their cause so that a transaction that lost a
//! race is retried ([`crate::transact!`]) and anything else becomes 500 `INTERNAL_ERROR` at the
//! edge, logged, never returned.

use flexportal_domain::{Detail, DomainError};
use flexportal_store::StoreError;

/// What kind of failure an [`AppError`] is; the HTTP edge maps each kind once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404 `NOT_FOUND`: a path-identified resource does not exist in this business unit.
    NotFound,
    /// 400 `VALIDATION_ERROR` with field details.
    Validation,
    /// 409: conflicts with existing data (uniqueness, "in use").
    Conflict,
    /// Any other refusal with its own status and code (400 state rules, 401, 403, 413, 429).
    Rejected,
    /// A concurrent transaction won (serialization failure, deadlock, busy store): retried a
    /// bounded number of times, then 409 `CONFLICT`.
    Retryable,
    /// A bug, unreadable stored data or an unreachable store: 500 `INTERNAL_ERROR`.
    Internal,
}

/// The error of every use case.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Refused by a rule; answered as it is.
    #[error(transparent)]
    Rejected(DomainError),
    /// A concurrent transaction won; the whole use case can run again.
    #[error("retryable storage failure: {0}")]
    Retryable(StoreError),
    /// Anything else. The text is logged, never returned to the client.
    #[error("internal failure: {0}")]
    Internal(String),
}

/// Result of every use case.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// The kind, for the HTTP mapping and for retries.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::Rejected(e) => match (e.status, e.code) {
                (404, _) => ErrorKind::NotFound,
                (_, "VALIDATION_ERROR") => ErrorKind::Validation,
                (409, _) => ErrorKind::Conflict,
                _ => ErrorKind::Rejected,
            },
            AppError::Retryable(_) => ErrorKind::Retryable,
            AppError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// Whether running the use case again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, AppError::Retryable(_))
    }

    /// The wire error (SPEC §1.4). Internal and exhausted retryable failures are logged here
    /// with their cause and answered without it.
    pub fn into_wire(self) -> DomainError {
        match self {
            AppError::Rejected(e) => e,
            AppError::Retryable(e) => {
                tracing::warn!(error = %e, "concurrent transaction still conflicting after retries");
                DomainError::conflict(
                    "CONFLICT",
                    "The resource was changed by a concurrent request; retry the request",
                )
            }
            AppError::Internal(cause) => {
                tracing::error!(error = %cause, "internal failure");
                DomainError::internal()
            }
        }
    }

    /// Any refusal with a status and code.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Rejected(DomainError::new(status, code, message))
    }
    /// 400 `VALIDATION_ERROR` with field details.
    pub fn validation(details: Vec<Detail>) -> Self {
        AppError::Rejected(DomainError::validation(details))
    }
    /// 400 `VALIDATION_ERROR` for one field.
    pub fn field(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Rejected(DomainError::field(path, code, message))
    }
    /// 400 with a specific code (state rules, body-referenced resources).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Rejected(DomainError::bad_request(code, message))
    }
    /// 404 `NOT_FOUND` for a path-identified resource (also for other business units' ids).
    pub fn not_found(what: &str) -> Self {
        AppError::Rejected(DomainError::not_found(what))
    }
    /// 409 conflict with existing data.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Rejected(DomainError::conflict(code, message))
    }
    /// Stored data that cannot be decoded: an error, never read as a default.
    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        AppError::Internal(format!("stored data cannot be decoded: {what}"))
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::Rejected(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if e.is_invalid_text() {
            return AppError::Rejected(DomainError::validation(vec![
                flexportal_domain::Detail::nul_in_text(""),
            ]));
        }
        if e.is_retryable() {
            AppError::Retryable(e)
        } else {
            AppError::Internal(e.to_string())
        }
    }
}

/// Attempts of a write use case before a retryable failure is answered (409 `CONFLICT`).
pub const MAX_ATTEMPTS: u32 = 8;

/// Waits before the next attempt: a few milliseconds growing with the attempt, with jitter so
/// that the transactions that collided do not collide again.
pub async fn backoff(attempt: u32) {
    use rand::Rng;
    let base = 2u64 << attempt.min(6);
    let jitter = rand::rng().random_range(0..=base);
    tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
}

/// Logs that an attempt lost to a concurrent transaction and runs again (used by [`crate::transact!`]).
pub fn log_retry(attempt: u32, e: &AppError) {
    tracing::debug!(attempt, error = %e, "retrying the transaction");
}

/// Runs a use case body in a write transaction and commits it, running the whole body again when
/// it (or the commit) fails with a retryable error, up to [`MAX_ATTEMPTS`] times:
///
/// ```ignore
/// transact!(app, |tx| update_in(tx, ctx, id, &input, now))
/// ```
///
/// `$app` is an [`crate::App`]; `$call` an expression using `$tx: &mut Conn` that yields a future
/// of `AppResult<T>`. The macro is an expression of type `AppResult<T>`.
#[macro_export]
macro_rules! transact {
    ($app:expr, |$tx:ident| $call:expr) => {{
        let mut attempt: u32 = 1;
        loop {
            let mut lent = false;
            let result: $crate::AppResult<_> = async {
                let mut conn = $app.begin().await?;
                lent = conn.is_lent();
                let value = {
                    let $tx: &mut $crate::Conn = &mut conn;
                    $call.await?
                };
                conn.commit().await?;
                Ok(value)
            }
            .await;
            match result {
                // In a request transaction the use case cannot run again alone: the request is
                // told, and runs again whole.
                Err(e) if e.is_retryable() && lent => {
                    $crate::request_tx::RequestTx::note_retryable();
                    break Err(e);
                }
                Err(e) if e.is_retryable() && attempt < $crate::error::MAX_ATTEMPTS => {
                    $crate::error::log_retry(attempt, &e);
                    $crate::error::backoff(attempt).await;
                    attempt += 1;
                }
                other => break other,
            }
        }
    }};
}
