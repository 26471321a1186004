//! The error envelope `{"error":{"code","message","details"?}}` (SPEC §1.4).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use flexportal_domain::DomainError;

use crate::model::{ErrorBody, ErrorDetail, ErrorEnvelope};

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError(e)
    }
}

/// The one mapping of use-case errors to HTTP (SPEC §1.4): rejections as they are, a race still
/// lost after the retries as 409 `CONFLICT`, anything else as 500 `INTERNAL_ERROR` (the cause is
/// logged with the request's span, never returned).
impl From<flexportal_app::AppError> for ApiError {
    fn from(e: flexportal_app::AppError) -> Self {
        ApiError(e.into_wire())
    }
}

impl ApiError {
    /// An error with a status and code.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError(DomainError::new(status, code, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = e.code, "request failed");
        }
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: e.code.to_string(),
                message: e.message,
                details: e
                    .details
                    .into_iter()
                    .map(|d| ErrorDetail {
                        path: d.path,
                        message: d.message,
                        code: d.code.to_string(),
                    })
                    .collect(),
            },
        };
        (status, Json(body)).into_response()
    }
}
