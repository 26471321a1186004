//! The typed error of every use case (SPEC §1.4): an HTTP status, a machine code, a human message
//! and, for field validation failures, the details naming each field.

use serde::Serialize;

/// One field validation failure: `path` like `variants[0].pricing[1].monthlyPrice`, `code` one of
/// `required`, `invalid_type`, `invalid_string`, `invalid_enum_value`, `too_small`, `too_big`,
/// `invalid_imei`, `custom` (SPEC §1.4, Recommended detail codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    /// The field path in the request (dots for objects, `[i]` for arrays).
    pub path: String,
    /// Human text.
    pub message: String,
    /// Machine detail code.
    pub code: &'static str,
}

impl Detail {
    /// Builds a detail.
    pub fn new(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            code,
        }
    }

    /// `invalid_string` for a text at `path` holding the NUL character (U+0000), which no store
    /// accepts (PostgreSQL cannot hold it in a text column; both engines refuse it alike).
    pub fn nul_in_text(path: impl Into<String>) -> Self {
        Self::new(
            path,
            "invalid_string",
            "Text may not contain the NUL character (U+0000)",
        )
    }
}

/// An error returned to the client: HTTP `status`, `code` (e.g. `ASSET_EXISTS`), `message`, and
/// `details` (only for field validation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct DomainError {
    /// HTTP status (400, 401, 403, 404, 409, 413, 429, 500).
    pub status: u16,
    /// Machine code of the SPEC §1.4 catalogue.
    pub code: &'static str,
    /// Human text; clients must not parse it.
    pub message: String,
    /// Field failures, empty unless `code` is `VALIDATION_ERROR`.
    pub details: Vec<Detail>,
}

impl DomainError {
    /// Any error with a status and code.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }
    /// 400 `VALIDATION_ERROR` with field details.
    pub fn validation(details: Vec<Detail>) -> Self {
        let message = match details.first() {
            Some(d) if details.len() == 1 => format!("Invalid request: {}: {}", d.path, d.message),
            Some(_) => format!(
                "Invalid request: {} fields failed validation",
                details.len()
            ),
            None => "Invalid request".to_string(),
        };
        Self {
            status: 400,
            code: "VALIDATION_ERROR",
            message,
            details,
        }
    }
    /// 400 `VALIDATION_ERROR` for one field.
    pub fn field(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self::validation(vec![Detail::new(path, code, message)])
    }
    /// 400 with a specific code (state rules, body-referenced resources).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
    /// 404 `NOT_FOUND` for a path-identified resource (also for other tenants' ids).
    pub fn not_found(what: &str) -> Self {
        Self::new(404, "NOT_FOUND", format!("{what} not found"))
    }
    /// 409 conflict with existing data.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    /// 500 `INTERNAL_ERROR`; the cause is logged by the caller, never returned.
    pub fn internal() -> Self {
        Self::new(500, "INTERNAL_ERROR", "Internal error")
    }
}
