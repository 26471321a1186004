//! Routes, one module per resource.

mod assets;
mod billing_groups;
mod customers;
mod exports;
pub(crate) mod files;
mod health;
mod orders;
mod payments;
mod products;
mod reports;
mod subscriptions;
mod webhooks;

use axum::Router;
use axum::routing::get;
use utoipa::IntoResponses;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::error::ApiError;
use crate::model::ErrorEnvelope;

/// The failures every `/v1` operation can answer, whatever its resource (SPEC §1.2-§1.4).
#[derive(IntoResponses)]
#[allow(dead_code)]
pub(crate) enum CommonErrors {
    /// 401 `AUTH_REQUIRED` (no key) or `INVALID_TOKEN` (unknown or revoked key).
    #[response(status = 401, description = "Missing, unknown or revoked API key")]
    Unauthorized(ErrorEnvelope),
    /// 403 `NO_TENANT_ACCESS` or `INSUFFICIENT_PERMISSIONS`.
    #[response(
        status = 403,
        description = "The Tenant-ID is not a business unit this key may access, or the key's scope does not allow the call"
    )]
    Forbidden(ErrorEnvelope),
    /// 413 `PAYLOAD_TOO_LARGE`.
    #[response(status = 413, description = "Request body over the limit")]
    TooLarge(ErrorEnvelope),
    /// 429 `RATE_LIMITED`.
    #[response(
        status = 429,
        description = "The API key's requests per minute are used up (`RATE_LIMITED`); `Retry-After` says when to retry"
    )]
    RateLimited(ErrorEnvelope),
    /// 500 `INTERNAL_ERROR`.
    #[response(
        status = 500,
        description = "Unexpected failure (logged with the request id)"
    )]
    Internal(ErrorEnvelope),
}

/// The typed operations: routes and their OpenAPI description from the same handlers.
pub(crate) fn typed() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(products::routes())
        .merge(assets::routes())
        .merge(customers::routes())
        .merge(orders::routes())
        .merge(subscriptions::routes())
        .merge(payments::routes())
        .merge(billing_groups::routes())
        .merge(reports::routes())
        .merge(exports::routes())
        .merge(files::routes())
        .merge(webhooks::routes())
}

/// Every route: the typed `/v1` operations (the same handlers `/openapi.json` is generated from,
/// so the document cannot list a route the server lacks or miss one it serves) behind their
/// gate ([`crate::gate`]: authentication, rate limit, idempotency keys), the probes, the
/// document and its HTML reference.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let (typed, _) = typed().split_for_parts();
    typed
        .route_layer(crate::gate::GateLayer::new(state.clone()))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(health::openapi))
        .route(
            "/files/{fileId}/content",
            get(files::content).put(files::content),
        )
        .merge(docs())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// `/docs`: an HTML reference of the API (Swagger UI) over `/openapi.json`, its scripts and styles
/// served from inside the binary, so it works without internet access.
fn docs() -> Router<AppState> {
    swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: "/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/openapi.json"),
        title: Some("FlexPortal API reference"),
    })
    .with_state(())
}

async fn not_found() -> ApiError {
    ApiError::new(404, "NOT_FOUND", "No such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "METHOD_NOT_ALLOWED",
        "Method not allowed on this route",
    )
}
