//! `/v1/customers` (SPEC §2.4).

use axum::Json;
use axum::extract::{Path, State};
use flexportal_app::customers as uc;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::views;

/// listCustomers.
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<Value>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    let mut histories = std::collections::HashMap::new();
    for c in &page.items {
        histories.insert(
            c.customer_id.clone(),
            uc::history(&s.app, &ctx, &c.customer_id).await?,
        );
    }
    Ok(Json(views::try_list(
        "customers",
        &page,
        limit,
        |c| c.customer_id.clone(),
        |c| {
            let (orders, rentals) = &histories[&c.customer_id];
            views::customer(&ctx, c, orders, rentals)
        },
    )?))
}

/// getCustomer, with the additive `profitability` object (SPEC §2.4).
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = uc::get(&s.app, &ctx, &id).await?;
    let (order_ids, rental_ids) = uc::history(&s.app, &ctx, &id).await?;
    let mut v = views::customer(&ctx, &c, &order_ids, &rental_ids)?;
    let exp = ctx.exponent();
    v["profitability"] = json!({
        "lifetimeCollected": flexportal_domain::money::amount_json(c.lifetime_collected, exp),
        "totalAcquisitionCost": flexportal_domain::money::amount_json(c.total_acquisition_cost, exp),
        "costRecoveryPercent": flexportal_domain::money::percent_json(c.lifetime_collected, c.total_acquisition_cost, 2),
        "totalDevicesEver": rental_ids.len(),
        "activeDevices": c.total_devices_rented,
    });
    Ok(Json(v))
}

/// updateCustomer: 200 `{success, message, customerId, customer}`.
pub(crate) async fn update(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let c = uc::update(&s.app, &ctx, &id, &body).await?;
    let (order_ids, rental_ids) = uc::history(&s.app, &ctx, &id).await?;
    Ok(Json(json!({
        "success": true,
        "message": "Customer updated",
        "customerId": c.customer_id,
        "customer": views::customer(&ctx, &c, &order_ids, &rental_ids)?,
    })))
}

/// deleteCustomer (soft).
pub(crate) async fn delete(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = uc::delete(&s.app, &ctx, &id).await?;
    Ok(Json(
        json!({"success": true, "message": "Customer deactivated", "customerId": c.customer_id}),
    ))
}

/// The typed operations of this resource (routes and their OpenAPI description).
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
}
