//! Authentication and tenant selection (SPEC §1.2): `Authorization: Bearer <key>` then
//! `Tenant-ID`, then the key's scope, in that order.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;
use std::sync::Arc;

use flexportal_app::TenantContext;
use flexportal_domain::status::KeyScope;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated business unit of a `/v1` request.
pub(crate) struct Ctx(pub Arc<TenantContext>);

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Resolved once by the gate of every `/v1` operation, for the handler's one `Ctx`.
        if let Some(ctx) = parts.extensions.remove::<Arc<TenantContext>>() {
            return Ok(Ctx(ctx));
        }
        authenticate(parts, state).await.map(Ctx)
    }
}

/// Resolves the caller: 401 `AUTH_REQUIRED` / `INVALID_TOKEN`, 403 `NO_TENANT_ACCESS`, 403
/// `INSUFFICIENT_PERMISSIONS` (a read key on a write), in that order (SPEC §1.2, §1.3); records
/// the key's use.
pub(crate) async fn authenticate(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Arc<TenantContext>, ApiError> {
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.contains(' '))
        .ok_or_else(|| {
            ApiError::new(
                401,
                "AUTH_REQUIRED",
                "Authorization: Bearer <api key> is required",
            )
        })?;
    let creds = flexportal_app::admin::find_key(&state.app, token)
        .await?
        .filter(|c| c.key.status == "active")
        .ok_or_else(|| ApiError::new(401, "INVALID_TOKEN", "The API key is unknown or revoked"))?;
    let key = &creds.key;
    let tenant = parts
        .headers
        .get("tenant-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if tenant.is_empty() || tenant != key.tenant_id || key.tenant_status != "active" {
        return Err(ApiError::new(
            403,
            "NO_TENANT_ACCESS",
            "The Tenant-ID header must name an active business unit this key may access",
        ));
    }
    let write = !matches!(parts.method, Method::GET | Method::HEAD);
    let scope = KeyScope::parse(&key.scope).unwrap_or(KeyScope::Read);
    if !scope.allows(write) {
        return Err(ApiError::new(
            403,
            "INSUFFICIENT_PERMISSIONS",
            format!(
                "This key's scope ({}) does not allow this request",
                key.scope
            ),
        ));
    }
    state
        .usage
        .record(&key.tenant_id, &key.key_id, state.app.now());
    Ok(creds.context.clone())
}
