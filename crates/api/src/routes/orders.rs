//! `/v1/orders` (SPEC §2.5).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::orders as uc;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::{views, views_rentals};

/// createOrder: 201 `{success, message, orderId, order}`.
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let o = uc::create(&s.app, &ctx, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": "Order created",
            "orderId": o.order.order_id,
            "order": views_rentals::order(&ctx, &o)?,
        })),
    ))
}

/// listOrders.
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<Value>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(views::try_list(
        "orders",
        &page,
        limit,
        |o| o.order.order_id.clone(),
        |o| views_rentals::order(&ctx, o),
    )?))
}

/// getOrder.
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let o = uc::get(&s.app, &ctx, &id).await?;
    Ok(Json(views_rentals::order(&ctx, &o)?))
}

/// updateOrderNotes.
pub(crate) async fn notes(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = uc::update_notes(&s.app, &ctx, &id, &body).await?;
    Ok(Json(
        json!({"success": true, "message": "Order notes updated", "orderId": o.order_id}),
    ))
}

/// cancelOrder.
pub(crate) async fn cancel(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = uc::cancel(&s.app, &ctx, &id, &body).await?;
    Ok(Json(
        json!({"success": true, "message": "Order cancelled", "orderId": o.order_id}),
    ))
}

/// The typed operations of this resource (routes and their OpenAPI description).
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
}
