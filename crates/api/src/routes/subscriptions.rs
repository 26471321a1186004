//! `/v1/subscriptions` (SPEC §2.6).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::subscriptions as uc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::model::subscriptions::{
    CreateSubscriptionBody, Subscription, SubscriptionCreated, SubscriptionList,
    SubscriptionListQuery, SubscriptionNotesBody, SubscriptionNotesUpdated,
};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The subscription operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(notes))
}

/// createSubscription: 201 `{success, message, rentalId, rental}`.
#[utoipa::path(
    post, path = "/v1/subscriptions", operation_id = "createSubscription", tag = "Subscriptions",
    summary = "Create a subscription",
    params(TenantHeader),
    request_body = CreateSubscriptionBody,
    responses(
        (status = 201, description = "Subscription created", body = SubscriptionCreated),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`, also for any \
            `billingGroupId`), or a fulfilment check failed: `ORDER_NOT_FOUND`, \
            `ORDER_NOT_CONFIRMED`, `ITEM_FULLY_FULFILLED`, `CUSTOMER_MISMATCH`, \
            `ASSET_NOT_FOUND`, `ASSET_NOT_AVAILABLE`, `SKU_MISMATCH`, `INVALID_CONTRACT_LENGTH`",
            body = ErrorEnvelope),
        (status = 409, description = "A schedule charge's idempotency key is taken, or a \
            concurrent change persisted after retries (`CONFLICT`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<SubscriptionCreated>), ApiError> {
    let v = uc::create(&s.app, &ctx, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(SubscriptionCreated {
            success: true,
            message: "Subscription created",
            rental_id: v.sub.rental_id.clone(),
            rental: Subscription::new(&ctx, &v)?,
        }),
    ))
}

/// listSubscriptions: items under `rentals`; the cursor is the `rentalId` of the last item.
#[utoipa::path(
    get, path = "/v1/subscriptions", operation_id = "listSubscriptions", tag = "Subscriptions",
    summary = "List subscriptions",
    params(SubscriptionListQuery, TenantHeader),
    responses(
        (status = 200, description = "A page of subscriptions", body = SubscriptionList),
        (status = 400, description = "Invalid query parameter or cursor", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<SubscriptionList>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(SubscriptionList::from_page(
        &page,
        limit,
        |v| v.sub.rental_id.clone(),
        |v| Subscription::new(&ctx, v),
    )?))
}

/// getSubscription.
#[utoipa::path(
    get, path = "/v1/subscriptions/{subscriptionId}", operation_id = "getSubscription",
    tag = "Subscriptions",
    summary = "Get a subscription",
    params(
        ("subscriptionId" = String, Path, description = "The subscription ID (`rentalId`)"),
        TenantHeader,
    ),
    responses(
        (status = 200, description = "Subscription details", body = Subscription),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Subscription>, ApiError> {
    let v = uc::get(&s.app, &ctx, &id).await?;
    Ok(Json(Subscription::new(&ctx, &v)?))
}

/// updateSubscriptionNotes: `{success, message, rentalId}`.
#[utoipa::path(
    patch, path = "/v1/subscriptions/{subscriptionId}/notes",
    operation_id = "updateSubscriptionNotes", tag = "Subscriptions",
    summary = "Update subscription notes",
    params(
        ("subscriptionId" = String, Path, description = "The subscription ID (`rentalId`)"),
        TenantHeader,
    ),
    request_body = SubscriptionNotesBody,
    responses(
        (status = 200, description = "Notes updated", body = SubscriptionNotesUpdated),
        (status = 400, description = "Notes missing, not a string or over 5 000 characters",
            body = ErrorEnvelope),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        (status = 409, description = "A concurrent change persisted after retries (`CONFLICT`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn notes(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<SubscriptionNotesUpdated>, ApiError> {
    let r = uc::update_notes(&s.app, &ctx, &id, &body).await?;
    Ok(Json(SubscriptionNotesUpdated {
        success: true,
        message: "Subscription notes updated",
        rental_id: r.rental_id,
    }))
}
