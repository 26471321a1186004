//! `/v1/billing-groups` (SPEC §2.8).

use crate::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::billing_groups as uc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::model::billing_groups::{
    BillingGroup, BillingGroupDeleted, BillingGroupFound, BillingGroupList, BillingGroupListQuery,
    BillingGroupSaved, CreateBillingGroupBody, UpdateBillingGroupBody,
};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The billing-group operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

/// listBillingGroups; the cursor is the group id of the last item.
#[utoipa::path(
    get, path = "/v1/billing-groups", operation_id = "listBillingGroups", tag = "Billing Groups",
    summary = "List billing groups",
    params(BillingGroupListQuery, TenantHeader),
    responses(
        (status = 200, description = "List of billing groups", body = BillingGroupList),
        (status = 400, description = "Invalid query parameter or cursor", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<BillingGroupList>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(BillingGroupList::from_page(&ctx, &page, limit)?))
}

/// createBillingGroup: 201 `{success, message, billingGroup}`.
#[utoipa::path(
    post, path = "/v1/billing-groups", operation_id = "createBillingGroup", tag = "Billing Groups",
    summary = "Create a billing group",
    params(TenantHeader),
    request_body = CreateBillingGroupBody,
    responses(
        (status = 201, description = "Billing group created", body = BillingGroupSaved),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`, `INVALID_BILLING_DAY`), \
            unknown customer (`CUSTOMER_NOT_FOUND`), or a member that cannot join: \
            `SUBSCRIPTION_NOT_FOUND`, `SUBSCRIPTION_DIFFERENT_CUSTOMER`, `SUBSCRIPTION_NOT_ACTIVE`",
            body = ErrorEnvelope),
        (status = 409, description = "A member is in another group (`SUBSCRIPTION_ALREADY_GROUPED`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<BillingGroupSaved>), ApiError> {
    let g = uc::create(&s.app, &ctx, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(BillingGroupSaved {
            success: true,
            message: "Billing group created",
            billing_group: BillingGroup::new(&ctx, &g)?,
        }),
    ))
}

/// getBillingGroup: `{success, billingGroup}`.
#[utoipa::path(
    get, path = "/v1/billing-groups/{billingGroupId}", operation_id = "getBillingGroup",
    tag = "Billing Groups",
    summary = "Get a billing group",
    params(("billingGroupId" = String, Path, description = "The billing group ID"), TenantHeader),
    responses(
        (status = 200, description = "Billing group details", body = BillingGroupFound),
        (status = 404, description = "Billing group not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<BillingGroupFound>, ApiError> {
    let g = uc::get(&s.app, &ctx, &id).await?;
    Ok(Json(BillingGroupFound {
        success: true,
        billing_group: BillingGroup::new(&ctx, &g)?,
    }))
}

/// updateBillingGroup: `{success, message, billingGroup}`.
#[utoipa::path(
    patch, path = "/v1/billing-groups/{billingGroupId}", operation_id = "updateBillingGroup",
    tag = "Billing Groups",
    summary = "Update a billing group",
    params(("billingGroupId" = String, Path, description = "The billing group ID"), TenantHeader),
    request_body = UpdateBillingGroupBody,
    responses(
        (status = 200, description = "Billing group updated", body = BillingGroupSaved),
        (status = 400, description = "Invalid body or a member that cannot join, as on create",
            body = ErrorEnvelope),
        (status = 404, description = "Billing group not found", body = ErrorEnvelope),
        (status = 409, description = "A new member is in another group (`SUBSCRIPTION_ALREADY_GROUPED`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn update(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<BillingGroupSaved>, ApiError> {
    let g = uc::update(&s.app, &ctx, &id, &body).await?;
    Ok(Json(BillingGroupSaved {
        success: true,
        message: "Billing group updated",
        billing_group: BillingGroup::new(&ctx, &g)?,
    }))
}

/// deleteBillingGroup: `{success, message}`; members are billed individually again.
#[utoipa::path(
    delete, path = "/v1/billing-groups/{billingGroupId}", operation_id = "deleteBillingGroup",
    tag = "Billing Groups",
    summary = "Delete a billing group",
    params(("billingGroupId" = String, Path, description = "The billing group ID"), TenantHeader),
    responses(
        (status = 200, description = "Billing group deleted", body = BillingGroupDeleted),
        (status = 404, description = "Billing group not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<BillingGroupDeleted>, ApiError> {
    uc::delete(&s.app, &ctx, &id).await?;
    Ok(Json(BillingGroupDeleted {
        success: true,
        message: "Billing group deleted",
    }))
}
