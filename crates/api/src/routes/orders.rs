//! `/v1/orders` (SPEC §2.5).

use crate::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::orders as uc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::model::orders::{Order, OrderChanged, OrderCreated, OrderList};
use crate::model::orders_input::{
    CancelOrderBody, CreateOrderBody, OrderListQuery, UpdateOrderNotesBody,
};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The order operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(notes))
        .routes(routes!(cancel))
}

/// createOrder: 201 `{success, message, orderId, order}`; a repeat within the duplicate window
/// answers the earlier order (SPEC §1.12).
#[utoipa::path(
    post, path = "/v1/orders", operation_id = "createOrder", tag = "Orders",
    summary = "Create an order",
    params(TenantHeader),
    request_body = CreateOrderBody,
    responses(
        (status = 201, description = "Order created", body = OrderCreated),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`), unknown or inactive SKU (`VARIANT_NOT_FOUND`, `VARIANT_INACTIVE`), no such pricing tier (`INVALID_CONTRACT_LENGTH`), inactive customer (`CUSTOMER_INACTIVE`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<OrderCreated>), ApiError> {
    let o = uc::create(&s.app, &ctx, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(OrderCreated {
            success: true,
            message: "Order created",
            order: Order::new(&ctx, &o)?,
            order_id: o.order.order_id,
        }),
    ))
}

/// listOrders; the cursor is the order id of the last item.
#[utoipa::path(
    get, path = "/v1/orders", operation_id = "listOrders", tag = "Orders",
    summary = "List orders",
    params(OrderListQuery, TenantHeader),
    responses(
        (status = 200, description = "A page of orders", body = OrderList),
        (status = 400, description = "Invalid query parameter or cursor", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<OrderList>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(OrderList::from_page(
        &page,
        limit,
        |o| o.order.order_id.clone(),
        |o| Order::new(&ctx, o),
    )?))
}

/// getOrder.
#[utoipa::path(
    get, path = "/v1/orders/{orderId}", operation_id = "getOrder", tag = "Orders",
    summary = "Get an order",
    params(("orderId" = String, Path, description = "The order ID"), TenantHeader),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 404, description = "Order not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    let o = uc::get(&s.app, &ctx, &id).await?;
    Ok(Json(Order::new(&ctx, &o)?))
}

/// updateOrderNotes: replaces the notes, in every status.
#[utoipa::path(
    patch, path = "/v1/orders/{orderId}/notes", operation_id = "updateOrderNotes", tag = "Orders",
    summary = "Update order notes",
    params(("orderId" = String, Path, description = "The order ID"), TenantHeader),
    request_body = UpdateOrderNotesBody,
    responses(
        (status = 200, description = "Notes updated", body = OrderChanged),
        (status = 400, description = "`notes` missing, not a string or over 5 000 characters", body = ErrorEnvelope),
        (status = 404, description = "Order not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn notes(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<OrderChanged>, ApiError> {
    let o = uc::update_notes(&s.app, &ctx, &id, &body).await?;
    Ok(Json(OrderChanged {
        success: true,
        message: "Order notes updated",
        order_id: o.order_id,
    }))
}

/// cancelOrder: only `pending` and `confirmed` orders; the body is optional.
#[utoipa::path(
    post, path = "/v1/orders/{orderId}/cancel", operation_id = "cancelOrder", tag = "Orders",
    summary = "Cancel an order",
    params(("orderId" = String, Path, description = "The order ID"), TenantHeader),
    request_body = Option<CancelOrderBody>,
    responses(
        (status = 200, description = "Order cancelled", body = OrderChanged),
        (status = 400, description = "Invalid body, already cancelled (`ALREADY_CANCELLED`), or subscriptions exist for the order (`ORDER_NOT_CANCELLABLE`)", body = ErrorEnvelope),
        (status = 404, description = "Order not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn cancel(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<OrderChanged>, ApiError> {
    let o = uc::cancel(&s.app, &ctx, &id, &body).await?;
    Ok(Json(OrderChanged {
        success: true,
        message: "Order cancelled",
        order_id: o.order_id,
    }))
}
