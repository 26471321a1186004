//! Routes, one module per resource.

mod assets;
mod customers;
mod health;
mod orders;
mod payments;
mod products;
mod subscriptions;

use axum::Router;
use axum::routing::{MethodFilter, MethodRouter, get, on};
use utoipa::IntoResponses;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::error::ApiError;
use crate::model::ErrorEnvelope;
use crate::openapi::{OPERATIONS, Operation};

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
}

/// The handler of an operation of [`OPERATIONS`], on the method the table gives.
fn handler(op: &Operation) -> MethodRouter<AppState> {
    let filter = match op.method {
        "get" => MethodFilter::GET,
        "post" => MethodFilter::POST,
        "put" => MethodFilter::PUT,
        "patch" => MethodFilter::PATCH,
        "delete" => MethodFilter::DELETE,
        other => panic!(
            "operation {} has an unknown method {other}",
            op.operation_id
        ),
    };
    match op.operation_id {
        "createProduct" => on(filter, products::create),
        "listProducts" => on(filter, products::list),
        "listVariants" => on(filter, products::list_variants),
        "getProduct" => on(filter, products::get),
        "updateProduct" => on(filter, products::update),
        "deleteProduct" => on(filter, products::delete),
        "importProductsCSV" => on(filter, products::import_csv),
        "listCustomers" => on(filter, customers::list),
        "getCustomer" => on(filter, customers::get),
        "updateCustomer" => on(filter, customers::update),
        "deleteCustomer" => on(filter, customers::delete),
        "createOrder" => on(filter, orders::create),
        "listOrders" => on(filter, orders::list),
        "getOrder" => on(filter, orders::get),
        "updateOrderNotes" => on(filter, orders::notes),
        "cancelOrder" => on(filter, orders::cancel),
        "createSubscription" => on(filter, subscriptions::create),
        "listSubscriptions" => on(filter, subscriptions::list),
        "getSubscription" => on(filter, subscriptions::get),
        "updateSubscriptionNotes" => on(filter, subscriptions::notes),
        "listPayments" => on(filter, payments::list),
        "getPayment" => on(filter, payments::get),
        "markPaymentPaid" => on(filter, payments::mark_paid),
        "cancelPayment" => on(filter, payments::cancel),
        other => panic!("operation {other} is documented but has no handler"),
    }
}

/// Every `/v1` route comes from [`OPERATIONS`], the same table `/openapi.json` is generated from,
/// so the document cannot list a route the server lacks or miss one it serves.
pub(crate) fn router() -> Router<AppState> {
    let (typed, doc) = typed().split_for_parts();
    let mut r = typed
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(health::openapi));
    for op in OPERATIONS {
        let typed = doc
            .paths
            .paths
            .get(op.path)
            .is_some_and(|item| has_method(item, op.method));
        if !typed {
            r = r.route(op.path, handler(op));
        }
    }
    r.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// Whether a documented path item has an operation for `method` (lowercase).
fn has_method(item: &utoipa::openapi::path::PathItem, method: &str) -> bool {
    match method {
        "get" => item.get.is_some(),
        "post" => item.post.is_some(),
        "put" => item.put.is_some(),
        "patch" => item.patch.is_some(),
        "delete" => item.delete.is_some(),
        _ => false,
    }
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
