//! Extractors that answer bad input with the error envelope: JSON bodies (size limit, malformed
//! JSON, empty body = `{}`), query strings, and raw bodies for uploads.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_LENGTH;
use axum::http::request::Parts;
use flexportal_domain::DomainError;
use serde_json::Value;

use crate::error::ApiError;
use crate::{CSV_BODY_LIMIT, JSON_BODY_LIMIT};

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        "PAYLOAD_TOO_LARGE",
        format!("Request body exceeds the limit of {limit} bytes"),
    )
}

/// Reads a body of at most `limit` bytes: 413 `PAYLOAD_TOO_LARGE` beyond it, checked before any
/// parsing.
pub(crate) async fn read_limited(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large(limit))
}

/// A JSON body as a value; no body, an empty body and `{}` are the same (SPEC §1.3).
pub(crate) struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_limited(req, JSON_BODY_LIMIT).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Object(Default::default())));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError(DomainError::field(
                "",
                "invalid_type",
                format!("Malformed JSON: {e}"),
            ))
        })
    }
}

/// A CSV upload: the raw body (`text/csv`) or the `csvFile` part of a multipart form.
pub(crate) struct CsvUpload(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvUpload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !is_multipart {
            return read_limited(req, CSV_BODY_LIMIT).await.map(CsvUpload);
        }
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > CSV_BODY_LIMIT as u64 + 64 * 1024) {
            return Err(too_large(CSV_BODY_LIMIT));
        }
        let mut form = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError(DomainError::field("csvFile", "invalid_type", e.body_text())))?;
        loop {
            match form.next_field().await {
                Ok(Some(field)) if field.name() == Some("csvFile") => {
                    let bytes = field.bytes().await.map_err(|e| {
                        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                            too_large(CSV_BODY_LIMIT)
                        } else {
                            ApiError(DomainError::field("csvFile", "invalid_type", e.body_text()))
                        }
                    })?;
                    if bytes.len() > CSV_BODY_LIMIT {
                        return Err(too_large(CSV_BODY_LIMIT));
                    }
                    return Ok(CsvUpload(bytes));
                }
                Ok(Some(_)) => continue,
                Ok(None) => {
                    return Err(ApiError(DomainError::field(
                        "csvFile",
                        "required",
                        "The form needs a csvFile part",
                    )));
                }
                Err(e) => {
                    return Err(ApiError(DomainError::field(
                        "csvFile",
                        "invalid_type",
                        e.body_text(),
                    )));
                }
            }
        }
    }
}

/// Query parameters as strings; unknown ones are ignored by the handlers (SPEC §1.9), empty ones
/// are absent.
pub(crate) struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).map_err(|e| {
            ApiError(DomainError::field(
                "",
                "invalid_string",
                format!("Malformed query string: {e}"),
            ))
        })?;
        // A parameter given empty (`?status=`) is absent, as on the rest of the web.
        Ok(Params(
            pairs
                .into_iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .collect(),
        ))
    }
}
