//! `/v1/customers` (SPEC §2.4). Customers are created by createOrder only.

use std::collections::HashMap;

use crate::json::Json;
use axum::extract::{Path, State};
use flexportal_app::customers as uc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::model::customers::{
    Customer, CustomerDeleted, CustomerList, CustomerListQuery, CustomerProfitability,
    CustomerUpdated, UpdateCustomerBody,
};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The customer operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get, update, delete))
}

/// listCustomers; the cursor is the customer id of the last item.
#[utoipa::path(
    get, path = "/v1/customers", operation_id = "listCustomers", tag = "Customers",
    summary = "List customers",
    params(CustomerListQuery, TenantHeader),
    responses(
        (status = 200, description = "A page of customers", body = CustomerList),
        (status = 400, description = "Invalid query parameter or cursor", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<CustomerList>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    let mut histories = HashMap::new();
    for c in &page.items {
        histories.insert(
            c.customer_id.clone(),
            uc::history(&s.app, &ctx, &c.customer_id).await?,
        );
    }
    Ok(Json(CustomerList::from_page(
        &page,
        limit,
        |c| c.customer_id.clone(),
        |c| {
            let (orders, rentals) = &histories[&c.customer_id];
            Customer::new(&ctx, c, orders, rentals)
        },
    )?))
}

/// getCustomer (any status), with the additive `profitability` object (SPEC §2.4).
#[utoipa::path(
    get, path = "/v1/customers/{customerId}", operation_id = "getCustomer", tag = "Customers",
    summary = "Get a customer",
    params(("customerId" = String, Path, description = "The customer ID"), TenantHeader),
    responses(
        (status = 200, description = "The customer", body = Customer),
        (status = 404, description = "Customer not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Customer>, ApiError> {
    let c = uc::get(&s.app, &ctx, &id).await?;
    let (order_ids, rental_ids) = uc::history(&s.app, &ctx, &id).await?;
    let mut customer = Customer::new(&ctx, &c, &order_ids, &rental_ids)?;
    let first = uc::first_rental_start(&s.app, &ctx, &id).await?;
    let today = flexportal_domain::time::today_in(&ctx.time_zone, s.app.now());
    customer.profitability = Some(CustomerProfitability::new(
        &ctx,
        &c,
        rental_ids.len(),
        first.as_deref(),
        today,
    ));
    Ok(Json(customer))
}

/// updateCustomer: partial update, 200 `{success, message, customerId, customer}`.
#[utoipa::path(
    put, path = "/v1/customers/{customerId}", operation_id = "updateCustomer", tag = "Customers",
    summary = "Update a customer",
    params(("customerId" = String, Path, description = "The customer ID"), TenantHeader),
    request_body = UpdateCustomerBody,
    responses(
        (status = 200, description = "Customer updated", body = CustomerUpdated),
        (status = 400, description = "Invalid body, or `customerId` differing from the path", body = ErrorEnvelope),
        (status = 404, description = "Customer not found", body = ErrorEnvelope),
        (status = 409, description = "Email taken by another customer (`CUSTOMER_EMAIL_EXISTS`), or deactivation refused (`CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS`, `CUSTOMER_HAS_PENDING_ORDERS`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn update(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<CustomerUpdated>, ApiError> {
    let c = uc::update(&s.app, &ctx, &id, &body).await?;
    let (order_ids, rental_ids) = uc::history(&s.app, &ctx, &id).await?;
    Ok(Json(CustomerUpdated {
        success: true,
        message: "Customer updated",
        customer: Customer::new(&ctx, &c, &order_ids, &rental_ids)?,
        customer_id: c.customer_id,
    }))
}

/// deleteCustomer (soft: the customer becomes `inactive`; repeating it is fine).
#[utoipa::path(
    delete, path = "/v1/customers/{customerId}", operation_id = "deleteCustomer", tag = "Customers",
    summary = "Delete a customer",
    params(("customerId" = String, Path, description = "The customer ID"), TenantHeader),
    responses(
        (status = 200, description = "Customer deactivated", body = CustomerDeleted),
        (status = 404, description = "Customer not found", body = ErrorEnvelope),
        (status = 409, description = "The customer has active subscriptions (`CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS`) or open orders (`CUSTOMER_HAS_PENDING_ORDERS`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<CustomerDeleted>, ApiError> {
    let c = uc::delete(&s.app, &ctx, &id).await?;
    Ok(Json(CustomerDeleted {
        success: true,
        message: "Customer deactivated",
        customer_id: c.customer_id,
    }))
}
