//! Extractors that answer bad input with the error envelope: JSON bodies (size limit, malformed
//! JSON, empty body = `{}`), query strings, and raw bodies for uploads.
//!
//! Text never carries the NUL character (U+0000): PostgreSQL cannot store it in a text column,
//! so a store on either engine refuses it at the door, the same way, before any use case runs
//! (400 `VALIDATION_ERROR`, detail code `invalid_string`, one detail per field holding one).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_LENGTH;
use axum::http::request::Parts;
use flexportal_domain::{Detail, DomainError};
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

/// The paths (SPEC §1.4 detail paths: `a.b[0].c`) of the strings and object keys of `v` that
/// hold the NUL character, appended to `out`.
fn nul_paths(v: &Value, path: &mut String, out: &mut Vec<Detail>) {
    match v {
        Value::String(s) if s.contains('\0') => out.push(Detail::nul_in_text(path.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                nul_paths(item, path, out);
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (k, item) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                if k.contains('\0') {
                    out.push(Detail::nul_in_text(path.clone()));
                } else {
                    nul_paths(item, path, out);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// A JSON body as a value; no body, an empty body and `{}` are the same (SPEC §1.3). A string or
/// key holding the NUL character is refused (see the module).
pub(crate) struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_limited(req, JSON_BODY_LIMIT).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Object(Default::default())));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError(DomainError::field(
                "",
                "invalid_type",
                format!("Malformed JSON: {e}"),
            ))
        })?;
        // NUL can only arrive escaped (`\u0000`): a raw control character is malformed JSON.
        if may_hold_escaped_nul(&bytes) {
            let mut found = Vec::new();
            nul_paths(&value, &mut String::new(), &mut found);
            if !found.is_empty() {
                return Err(ApiError(DomainError::validation(found)));
            }
        }
        Ok(JsonBody(value))
    }
}

/// Whether `json` may hold an escaped NUL (`\u0000`; it may also be an escaped backslash
/// followed by `u0000`): a cheap scan that spares the walk of the parsed value for almost every
/// body.
fn may_hold_escaped_nul(json: &[u8]) -> bool {
    json.windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && &w[2..] == b"0000")
}

/// A CSV upload: the raw body (`text/csv`) or the `csvFile` part of a multipart form. A file
/// holding a NUL byte is refused (detail path `csvFile`; see the module).
pub(crate) struct CsvUpload(pub Bytes);

impl CsvUpload {
    fn checked(bytes: Bytes) -> Result<CsvUpload, ApiError> {
        if bytes.contains(&0) {
            return Err(ApiError(DomainError::validation(vec![
                Detail::nul_in_text("csvFile"),
            ])));
        }
        Ok(CsvUpload(bytes))
    }
}

impl<S: Send + Sync> FromRequest<S> for CsvUpload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !is_multipart {
            return CsvUpload::checked(read_limited(req, CSV_BODY_LIMIT).await?);
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
                    return CsvUpload::checked(bytes);
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
/// are absent, and a value holding the NUL character is refused (see the module).
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
        let params: HashMap<String, String> = pairs
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        let mut found: Vec<Detail> = params
            .iter()
            .filter(|(_, v)| v.contains('\0'))
            .map(|(k, _)| Detail::nul_in_text(k.clone()))
            .collect();
        if !found.is_empty() {
            found.sort_by(|a, b| a.path.cmp(&b.path));
            return Err(ApiError(DomainError::validation(found)));
        }
        Ok(Params(params))
    }
}

/// The error for a request whose path holds an encoded NUL character (`%00`) in a segment, one
/// detail per such segment, named after the route's parameter there (`serialNumber`); `None`
/// for every other path.
pub(crate) fn path_with_nul(parts: &Parts) -> Option<ApiError> {
    let raw = parts.uri.path();
    if !raw.contains("%00") {
        return None;
    }
    let template = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map_or("", |m| m.as_str());
    let names: Vec<&str> = template.split('/').collect();
    let found: Vec<Detail> = raw
        .split('/')
        .enumerate()
        .filter(|(_, segment)| segment.contains("%00"))
        .map(|(i, _)| {
            let name = names
                .get(i)
                .and_then(|n| n.strip_prefix('{'))
                .and_then(|n| n.strip_suffix('}'))
                .unwrap_or("");
            Detail::nul_in_text(name)
        })
        .collect();
    Some(ApiError(DomainError::validation(found)))
}
