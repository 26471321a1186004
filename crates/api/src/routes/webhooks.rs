//! `/v1/webhook-endpoints` (SPEC §2.11; additive: the official document has no webhook
//! operations).

use crate::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::webhooks as uc;
use flexportal_domain::DomainError;
use flexportal_store::webhooks::DeliveryFilter;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::model::webhooks::{
    CreateWebhookEndpointBody, UpdateWebhookEndpointBody, WebhookDelivery, WebhookDeliveryList,
    WebhookDeliveryQuery, WebhookEndpoint, WebhookEndpointDeleted, WebhookEndpointFound,
    WebhookEndpointList,
};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The webhook-endpoint operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(rotate_secret))
        .routes(routes!(deliveries))
}

fn found(endpoint: WebhookEndpoint, message: Option<&'static str>) -> Json<WebhookEndpointFound> {
    Json(WebhookEndpointFound {
        success: true,
        message,
        endpoint,
    })
}

/// listWebhookEndpoints: every endpoint of the business unit (secrets not shown).
#[utoipa::path(
    get, path = "/v1/webhook-endpoints", operation_id = "listWebhookEndpoints", tag = "Webhooks",
    summary = "List webhook endpoints",
    params(TenantHeader),
    responses((status = 200, description = "The endpoints", body = WebhookEndpointList), CommonErrors),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
) -> Result<Json<WebhookEndpointList>, ApiError> {
    let list = uc::list(&s.app, &ctx).await?;
    let endpoints: Vec<WebhookEndpoint> = list
        .iter()
        .map(|e| WebhookEndpoint::new(e, false))
        .collect();
    Ok(Json(WebhookEndpointList {
        success: true,
        count: endpoints.len(),
        endpoints,
    }))
}

/// createWebhookEndpoint: 201 with the endpoint and its signing secret (shown this once).
#[utoipa::path(
    post, path = "/v1/webhook-endpoints", operation_id = "createWebhookEndpoint", tag = "Webhooks",
    summary = "Create a webhook endpoint",
    params(TenantHeader),
    request_body = CreateWebhookEndpointBody,
    responses(
        (status = 201, description = "Endpoint created", body = WebhookEndpointFound),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`): URL not https, private \
            target, unknown event type", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<WebhookEndpointFound>), ApiError> {
    let e = uc::create(&s.app, &ctx, &body).await?;
    Ok((
        StatusCode::CREATED,
        found(
            WebhookEndpoint::new(&e, true),
            Some("Webhook endpoint created"),
        ),
    ))
}

/// getWebhookEndpoint.
#[utoipa::path(
    get, path = "/v1/webhook-endpoints/{endpointId}", operation_id = "getWebhookEndpoint",
    tag = "Webhooks",
    summary = "Get a webhook endpoint",
    params(("endpointId" = String, Path, description = "The endpoint ID"), TenantHeader),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpointFound),
        (status = 404, description = "Endpoint not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpointFound>, ApiError> {
    let e = uc::get(&s.app, &ctx, &id).await?;
    Ok(found(WebhookEndpoint::new(&e, false), None))
}

/// updateWebhookEndpoint: any of `url`, `events`, `description`, `enabled`.
#[utoipa::path(
    patch, path = "/v1/webhook-endpoints/{endpointId}", operation_id = "updateWebhookEndpoint",
    tag = "Webhooks",
    summary = "Update a webhook endpoint",
    params(("endpointId" = String, Path, description = "The endpoint ID"), TenantHeader),
    request_body = UpdateWebhookEndpointBody,
    responses(
        (status = 200, description = "Endpoint updated", body = WebhookEndpointFound),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`)", body = ErrorEnvelope),
        (status = 404, description = "Endpoint not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn update(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<WebhookEndpointFound>, ApiError> {
    let e = uc::update(&s.app, &ctx, &id, &body).await?;
    Ok(found(
        WebhookEndpoint::new(&e, false),
        Some("Webhook endpoint updated"),
    ))
}

/// deleteWebhookEndpoint: its pending deliveries fail.
#[utoipa::path(
    delete, path = "/v1/webhook-endpoints/{endpointId}", operation_id = "deleteWebhookEndpoint",
    tag = "Webhooks",
    summary = "Delete a webhook endpoint",
    params(("endpointId" = String, Path, description = "The endpoint ID"), TenantHeader),
    responses(
        (status = 200, description = "Endpoint deleted", body = WebhookEndpointDeleted),
        (status = 404, description = "Endpoint not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpointDeleted>, ApiError> {
    uc::delete(&s.app, &ctx, &id).await?;
    Ok(Json(WebhookEndpointDeleted {
        success: true,
        message: "Webhook endpoint deleted",
    }))
}

/// rotateWebhookEndpointSecret: a new signing secret, shown in the answer; the old one stops
/// signing at once.
#[utoipa::path(
    post, path = "/v1/webhook-endpoints/{endpointId}/rotate-secret",
    operation_id = "rotateWebhookEndpointSecret", tag = "Webhooks",
    summary = "Rotate a webhook endpoint's signing secret",
    params(("endpointId" = String, Path, description = "The endpoint ID"), TenantHeader),
    responses(
        (status = 200, description = "Secret rotated", body = WebhookEndpointFound),
        (status = 404, description = "Endpoint not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn rotate_secret(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpointFound>, ApiError> {
    let e = uc::rotate_secret(&s.app, &ctx, &id).await?;
    Ok(found(
        WebhookEndpoint::new(&e, true),
        Some("Signing secret rotated"),
    ))
}

/// listWebhookDeliveries: the endpoint's delivery log, newest first, with every attempt.
#[utoipa::path(
    get, path = "/v1/webhook-endpoints/{endpointId}/deliveries",
    operation_id = "listWebhookDeliveries", tag = "Webhooks",
    summary = "List an endpoint's deliveries",
    params(("endpointId" = String, Path, description = "The endpoint ID"), WebhookDeliveryQuery,
        TenantHeader),
    responses(
        (status = 200, description = "The delivery log", body = WebhookDeliveryList),
        (status = 400, description = "Invalid query parameter", body = ErrorEnvelope),
        (status = 404, description = "Endpoint not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn deliveries(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    Params(q): Params,
) -> Result<Json<WebhookDeliveryList>, ApiError> {
    let limit = match q.get("limit") {
        None => 50,
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiError(DomainError::field(
                    "limit",
                    "invalid_type",
                    "An integer from 1 to 1000",
                ))
            })?,
    };
    let status = match q.get("status").map(String::as_str) {
        None => None,
        Some(s @ ("pending" | "delivered" | "failed")) => Some(s.to_string()),
        Some(_) => {
            return Err(ApiError(DomainError::field(
                "status",
                "invalid_enum_value",
                "One of pending, delivered, failed",
            )));
        }
    };
    uc::get(&s.app, &ctx, &id).await?;
    let filter = DeliveryFilter {
        endpoint_id: Some(id),
        status,
        event_id: q.get("eventId").cloned(),
    };
    let list = uc::deliveries(&s.app, &ctx, &filter, limit).await?;
    let deliveries: Vec<WebhookDelivery> = list.iter().map(WebhookDelivery::new).collect();
    Ok(Json(WebhookDeliveryList {
        success: true,
        count: deliveries.len(),
        deliveries,
    }))
}
