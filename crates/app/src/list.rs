//! List parameters shared by every list endpoint (SPEC §1.8, §1.9): `limit`, `startAfter`,
//! `sortBy`, `sortDir`, parsed from query strings.

use std::collections::HashMap;

use crate::AppError;
use flexportal_store::page::{After, SortDir};

/// Parsed paging and order of a list request.
#[derive(Debug, Clone)]
pub struct ListParams<S> {
    /// Page size after clamping to the maximum.
    pub limit: u64,
    /// The cursor (id of the last item of the previous page).
    pub start_after: Option<String>,
    /// Sort field.
    pub sort: S,
    /// Sort direction (default `desc`).
    pub dir: SortDir,
}

/// Query parameters as received (strings).
pub type Query = HashMap<String, String>;

/// Parses `limit` (default `default`, above `max` clamped, below 1 or non-numeric → 400),
/// `startAfter`, `sortBy` (default `createdAt`, parsed by `parse_sort`) and `sortDir`.
pub fn parse<S>(
    q: &Query,
    default: u64,
    max: u64,
    parse_sort: impl Fn(&str) -> Option<S>,
    allowed: &str,
) -> Result<ListParams<S>, AppError> {
    let limit = match q.get("limit").map(|s| s.trim()) {
        None | Some("") => default,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => (n as u64).min(max),
            Ok(_) => {
                return Err(AppError::field(
                    "limit",
                    "too_small",
                    "limit must be at least 1",
                ));
            }
            Err(_) => {
                return Err(AppError::field(
                    "limit",
                    "invalid_type",
                    "limit must be an integer",
                ));
            }
        },
    };
    let sort_by = q.get("sortBy").map(String::as_str).unwrap_or("createdAt");
    let sort = parse_sort(sort_by).ok_or_else(|| {
        AppError::field(
            "sortBy",
            "invalid_enum_value",
            format!("sortBy must be one of: {allowed}"),
        )
    })?;
    let dir = match q.get("sortDir") {
        None => SortDir::Desc,
        Some(s) => SortDir::parse(s).ok_or_else(|| {
            AppError::field(
                "sortDir",
                "invalid_enum_value",
                "sortDir must be asc or desc",
            )
        })?,
    };
    let start_after = q.get("startAfter").filter(|s| !s.is_empty()).cloned();
    Ok(ListParams {
        limit,
        start_after,
        sort,
        dir,
    })
}

/// An optional exact-match filter that must be one of the values `parse` accepts.
pub fn enum_filter<T>(
    q: &Query,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, AppError> {
    match q.get(key) {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| {
            AppError::field(
                key,
                "invalid_enum_value",
                format!("{key} must be one of: {allowed}"),
            )
        }),
    }
}

/// An optional text filter (empty means absent).
pub fn text_filter(q: &Query, key: &str) -> Option<String> {
    q.get(key)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// 400 for a `startAfter` that names no item.
pub fn unknown_cursor() -> AppError {
    AppError::field("startAfter", "custom", "Unknown cursor")
}

/// An optional boolean filter: `true` / `false`.
pub fn bool_filter(q: &Query, key: &str) -> Result<Option<bool>, AppError> {
    match q.get(key).map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(AppError::field(
            key,
            "invalid_type",
            format!("{key} must be true or false"),
        )),
    }
}

/// Resolves `startAfter` with `lookup` (the store's cursor query of the list): `None` without a
/// cursor, 400 `VALIDATION_ERROR` for a cursor that names no item.
pub async fn resolve_cursor<F, Fut>(
    start_after: &Option<String>,
    lookup: F,
) -> Result<Option<After>, AppError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<After>, flexportal_store::StoreError>>,
{
    match start_after {
        None => Ok(None),
        Some(id) => lookup(id.clone())
            .await
            .map_err(crate::internal)?
            .ok_or_else(unknown_cursor)
            .map(Some),
    }
}

/// An optional inclusive date filter (`YYYY-MM-DD` or an ISO date-time), as `YYYY-MM-DD`.
pub fn date_filter(q: &Query, key: &str) -> Result<Option<String>, AppError> {
    match q.get(key) {
        None => Ok(None),
        Some(s) => flexportal_domain::time::parse_date_input(s)
            .map(|d| Some(d.to_string()))
            .ok_or_else(|| AppError::field(key, "invalid_string", "Expected a date YYYY-MM-DD")),
    }
}
