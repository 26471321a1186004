//! `/v1/payments` (SPEC §2.7).

use crate::json::Json;
use axum::extract::{Path, State};
use flexportal_app::payments as uc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::model::payments::{
    CancelPaymentBody, MarkPaymentPaidBody, Payment, PaymentFound, PaymentList, PaymentListQuery,
    PaymentSaved,
};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The payment operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(mark_paid))
        .routes(routes!(cancel))
}

/// listPayments: `{success, payments, count, limit, hasMore, nextCursor}`; the cursor is the
/// `paymentId` of the last item.
#[utoipa::path(
    get, path = "/v1/payments", operation_id = "listPayments", tag = "Payments",
    summary = "List payments",
    params(PaymentListQuery, TenantHeader),
    responses(
        (status = 200, description = "List of payments", body = PaymentList),
        (status = 400, description = "Invalid query parameter or cursor", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<PaymentList>, ApiError> {
    let (page, limit, lines) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(PaymentList::from_page(&ctx, &page, &lines, limit)?))
}

/// getPayment: `{success, payment}`.
#[utoipa::path(
    get, path = "/v1/payments/{paymentId}", operation_id = "getPayment", tag = "Payments",
    summary = "Get a payment",
    params(("paymentId" = String, Path, description = "The payment ID"), TenantHeader),
    responses(
        (status = 200, description = "Payment details", body = PaymentFound),
        (status = 404, description = "Payment not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<PaymentFound>, ApiError> {
    let (p, lines) = uc::get_with_lines(&s.app, &ctx, &id).await?;
    Ok(Json(PaymentFound {
        success: true,
        payment: Payment::new(&ctx, &p, &lines)?,
    }))
}

/// markPaymentPaid: `{success, message, payment}`.
#[utoipa::path(
    post, path = "/v1/payments/{paymentId}/mark-paid", operation_id = "markPaymentPaid",
    tag = "Payments",
    summary = "Mark payment as paid",
    params(("paymentId" = String, Path, description = "The payment ID"), TenantHeader),
    request_body = MarkPaymentPaidBody,
    responses(
        (status = 200, description = "Payment marked as paid", body = PaymentSaved),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`), or the payment is \
            already paid (`ALREADY_PAID`) or cancelled (`PAYMENT_CANCELLED`)",
            body = ErrorEnvelope),
        (status = 404, description = "Payment not found", body = ErrorEnvelope),
        (status = 409, description = "A concurrent change persisted after retries (`CONFLICT`)",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn mark_paid(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<PaymentSaved>, ApiError> {
    let (p, lines) = uc::mark_paid(&s.app, &ctx, &id, &body).await?;
    Ok(Json(PaymentSaved {
        success: true,
        message: "Payment marked as paid",
        payment: Payment::new(&ctx, &p, &lines)?,
    }))
}

/// cancelPayment: `{success, message, payment}`.
#[utoipa::path(
    post, path = "/v1/payments/{paymentId}/cancel", operation_id = "cancelPayment",
    tag = "Payments",
    summary = "Cancel a payment",
    params(("paymentId" = String, Path, description = "The payment ID"), TenantHeader),
    request_body = CancelPaymentBody,
    responses(
        (status = 200, description = "Payment cancelled", body = PaymentSaved),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`), or the payment is not \
            cancellable: `ALREADY_PAID`, `ALREADY_CANCELLED`, `PAYMENT_PROCESSING`",
            body = ErrorEnvelope),
        (status = 404, description = "Payment not found", body = ErrorEnvelope),
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
) -> Result<Json<PaymentSaved>, ApiError> {
    let (p, lines) = uc::cancel(&s.app, &ctx, &id, &body).await?;
    Ok(Json(PaymentSaved {
        success: true,
        message: "Payment cancelled",
        payment: Payment::new(&ctx, &p, &lines)?,
    }))
}
