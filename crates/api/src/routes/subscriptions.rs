//! `/v1/subscriptions` (SPEC §2.6).

use crate::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::subscriptions as uc;
use flexportal_app::{amendments, endings, upgrades};
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
use crate::model::subscriptions_actions::{
    BuyoutBody, BuyoutDone, BuyoutQuoted, CancelDone, CancelSubscriptionBody, EarlyReturnBody,
    EarlyReturnDone, EarlyReturnQuoted, ExtendBody, ExtendDone, QuoteBody, ReplaceBody,
    ReplaceDone, UpgradeBody, UpgradeDone,
};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The subscription operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(notes))
        .routes(routes!(extend))
        .routes(routes!(replace))
        .routes(routes!(upgrade))
        .routes(routes!(buyout))
        .routes(routes!(early_return))
        .routes(routes!(cancel))
        .routes(routes!(calculate_buyout))
        .routes(routes!(calculate_early_return))
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

/// buyoutSubscription (SPEC §2.6.5).
#[utoipa::path(
    post, path = "/v1/subscriptions/{subscriptionId}/buyout",
    operation_id = "buyoutSubscription", tag = "Subscriptions",
    summary = "Buy out a subscription",
    description = "Ends an active subscription with the customer buying the device: charges \
        whose service starts after the effective date are cancelled, the asset becomes `sold`, \
        and a one-off payment is created for the price (computed by the business unit's method \
        when `buyoutPrice` is absent).",
    params(
        ("subscriptionId" = String, Path, description = "The subscription ID (`rentalId`)"),
        TenantHeader,
    ),
    request_body = BuyoutBody,
    responses(
        (status = 200, description = "Buyout processed", body = BuyoutDone),
        (status = 400, description = "`VALIDATION_ERROR`, `SUBSCRIPTION_NOT_ACTIVE`, \
            `FEATURE_DISABLED` or `INVALID_BUYOUT_PRICE`", body = ErrorEnvelope),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        (status = 409, description = "A concurrent change persisted after retries (`CONFLICT`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn buyout(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<BuyoutDone>, ApiError> {
    let o = endings::buyout(&s.app, &ctx, &id, &body).await?;
    Ok(Json(BuyoutDone::new(&ctx, &o)))
}

/// earlyReturnSubscription (SPEC §2.6.5).
#[utoipa::path(
    post, path = "/v1/subscriptions/{subscriptionId}/early-return",
    operation_id = "earlyReturnSubscription", tag = "Subscriptions",
    summary = "Process an early return",
    description = "Ends an active subscription with the device coming back: charges whose \
        service starts after the return date are cancelled, the asset becomes `returned` with \
        the return condition, and a one-off payment is created for the fee. A return after \
        every contract month has started completes the contract without a fee.",
    params(
        ("subscriptionId" = String, Path, description = "The subscription ID (`rentalId`)"),
        TenantHeader,
    ),
    request_body = EarlyReturnBody,
    responses(
        (status = 200, description = "Return processed", body = EarlyReturnDone),
        (status = 400, description = "`VALIDATION_ERROR`, `SUBSCRIPTION_NOT_ACTIVE`, \
            `FEATURE_DISABLED` or `INVALID_FEE`", body = ErrorEnvelope),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        (status = 409, description = "A concurrent change persisted after retries (`CONFLICT`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn early_return(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<EarlyReturnDone>, ApiError> {
    let o = endings::early_return(&s.app, &ctx, &id, &body).await?;
    Ok(Json(EarlyReturnDone::new(&ctx, &o)))
}

/// cancelSubscription (SPEC §2.6.5).
#[utoipa::path(
    post, path = "/v1/subscriptions/{subscriptionId}/cancel",
    operation_id = "cancelSubscription", tag = "Subscriptions",
    summary = "Cancel a subscription",
    description = "Cancels an active subscription without a fee: charges whose service starts \
        after the effective date are cancelled, started ones stay collectible; the asset stays \
        with the customer until it is collected.",
    params(
        ("subscriptionId" = String, Path, description = "The subscription ID (`rentalId`)"),
        TenantHeader,
    ),
    request_body = CancelSubscriptionBody,
    responses(
        (status = 200, description = "Subscription cancelled", body = CancelDone),
        (status = 400, description = "`VALIDATION_ERROR`, `ALREADY_CANCELLED` or \
            `ALREADY_ENDED`", body = ErrorEnvelope),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        (status = 409, description = "A concurrent change persisted after retries (`CONFLICT`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn cancel(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<CancelDone>, ApiError> {
    let o = endings::cancel(&s.app, &ctx, &id, &body).await?;
    Ok(Json(CancelDone::new(&o)))
}

/// calculateBuyoutPrice (SPEC §2.6.5): read-only.
#[utoipa::path(
    post, path = "/v1/subscriptions/calculate-buyout",
    operation_id = "calculateBuyoutPrice", tag = "Subscriptions",
    summary = "Calculate buyout price",
    description = "The buyout price of an active subscription today by the business unit's \
        method, with its parts; nothing is stored. A buyout processed today without a price \
        charges exactly this.",
    params(TenantHeader),
    request_body = QuoteBody,
    responses(
        (status = 200, description = "The quote", body = BuyoutQuoted),
        (status = 400, description = "`VALIDATION_ERROR` or `SUBSCRIPTION_NOT_ACTIVE`",
            body = ErrorEnvelope),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn calculate_buyout(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<Json<BuyoutQuoted>, ApiError> {
    let q = endings::calculate_buyout(&s.app, &ctx, &body).await?;
    Ok(Json(BuyoutQuoted::new(&ctx, &q)))
}

/// calculateEarlyReturnFee (SPEC §2.6.5): read-only.
#[utoipa::path(
    post, path = "/v1/subscriptions/calculate-early-return-fee",
    operation_id = "calculateEarlyReturnFee", tag = "Subscriptions",
    summary = "Calculate early return fee",
    description = "The early-return fee of an active subscription today by the business unit's \
        method (with the grace period), with its parts; nothing is stored. A return processed \
        today without a fee charges exactly this.",
    params(TenantHeader),
    request_body = QuoteBody,
    responses(
        (status = 200, description = "The quote", body = EarlyReturnQuoted),
        (status = 400, description = "`VALIDATION_ERROR` or `SUBSCRIPTION_NOT_ACTIVE`",
            body = ErrorEnvelope),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn calculate_early_return(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<Json<EarlyReturnQuoted>, ApiError> {
    let q = endings::calculate_early_return(&s.app, &ctx, &body).await?;
    Ok(Json(EarlyReturnQuoted::new(&ctx, &q)))
}

/// extendSubscription (SPEC §2.6.5).
#[utoipa::path(
    post, path = "/v1/subscriptions/{subscriptionId}/extend",
    operation_id = "extendSubscription", tag = "Subscriptions",
    summary = "Extend a subscription",
    description = "Adds months to an active contract: the added months' charges continue the \
        billing cycle at `newMonthlyAmount` (default the current amount), the end date moves, \
        charges already generated keep their amounts.",
    params(
        ("subscriptionId" = String, Path, description = "The subscription ID (`rentalId`)"),
        TenantHeader,
    ),
    request_body = ExtendBody,
    responses(
        (status = 200, description = "Subscription extended", body = ExtendDone),
        (status = 400, description = "`VALIDATION_ERROR`, `SUBSCRIPTION_NOT_ACTIVE`, \
            `INVALID_EXTENSION_MONTHS` or `EXTENSION_NOT_ALLOWED`", body = ErrorEnvelope),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        (status = 409, description = "A concurrent change persisted after retries (`CONFLICT`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn extend(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ExtendDone>, ApiError> {
    let e = amendments::extend(&s.app, &ctx, &id, &body).await?;
    Ok(Json(ExtendDone::new(&e)))
}

/// replaceSubscriptionDevice (SPEC §2.6.5).
#[utoipa::path(
    post, path = "/v1/subscriptions/{subscriptionId}/replace",
    operation_id = "replaceSubscriptionDevice", tag = "Subscriptions",
    summary = "Replace the device of a subscription",
    description = "Swaps the rented asset for an available one of the same SKU (or of \
        `newSku`): the old asset becomes `unavailable`, the new one `rented_out`; amounts, \
        dates and payments do not change.",
    params(
        ("subscriptionId" = String, Path, description = "The subscription ID (`rentalId`)"),
        TenantHeader,
    ),
    request_body = ReplaceBody,
    responses(
        (status = 200, description = "Device replaced", body = ReplaceDone),
        (status = 400, description = "`VALIDATION_ERROR`, `SUBSCRIPTION_NOT_ACTIVE`, \
            `ASSET_NOT_FOUND`, `ASSET_NOT_AVAILABLE`, `VARIANT_NOT_FOUND`, `VARIANT_INACTIVE` \
            or `SKU_MISMATCH`", body = ErrorEnvelope),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        (status = 409, description = "A concurrent change persisted after retries (`CONFLICT`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn replace(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ReplaceDone>, ApiError> {
    let r = amendments::replace(&s.app, &ctx, &id, &body).await?;
    Ok(Json(ReplaceDone::new(&r)))
}

/// upgradeSubscription (SPEC §2.6.5).
#[utoipa::path(
    post, path = "/v1/subscriptions/{subscriptionId}/upgrade",
    operation_id = "upgradeSubscription", tag = "Subscriptions",
    summary = "Upgrade a subscription",
    description = "Creates an upgrade order for a new device. With `newSerialNumber` the order is \
        fulfilled at once: a new subscription starts and the old one ends as `ended_upgrade` \
        (its device `returned`, or `sold` with `buyoutAmount`; an early-return fee when the new \
        contract is shorter than what remained). Without it the order waits for \
        createSubscription, which ends the old subscription when it fulfils the order.",
    params(
        ("subscriptionId" = String, Path, description = "The subscription ID (`rentalId`)"),
        TenantHeader,
    ),
    request_body = UpgradeBody,
    responses(
        (status = 200, description = "Upgraded, or upgrade order created", body = UpgradeDone),
        (status = 400, description = "`VALIDATION_ERROR`, `SUBSCRIPTION_NOT_ACTIVE`, \
            `FEATURE_DISABLED`, `VARIANT_NOT_FOUND`, `VARIANT_INACTIVE`, \
            `INVALID_CONTRACT_LENGTH`, `ASSET_NOT_FOUND`, `ASSET_NOT_AVAILABLE` or \
            `SKU_MISMATCH`", body = ErrorEnvelope),
        (status = 404, description = "Subscription not found", body = ErrorEnvelope),
        (status = 409, description = "An upgrade order is already pending \
            (`UPGRADE_ALREADY_PENDING`), or a concurrent change persisted (`CONFLICT`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn upgrade(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<UpgradeDone>, ApiError> {
    let u = upgrades::upgrade(&s.app, &ctx, &id, &body).await?;
    Ok(Json(UpgradeDone::new(&ctx, &u)))
}
