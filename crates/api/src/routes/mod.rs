//! Routes, one module per resource.

mod assets;
mod customers;
mod health;
mod orders;
mod payments;
mod products;
mod subscriptions;

use axum::Router;
use axum::routing::{MethodFilter, MethodRouter, get, on, patch};

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{OPERATIONS, Operation};

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
        "createAsset" => on(filter, assets::create),
        "listAssets" => on(filter, assets::list),
        "getAsset" => on(filter, assets::get),
        "updateAsset" => on(filter, assets::update),
        "deleteAsset" => on(filter, assets::delete),
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
    let mut r = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(health::openapi))
        // PATCH is an accepted alias of PUT for assets (SPEC §2.3).
        .route("/v1/assets/{serialNumber}", patch(assets::update));
    for op in OPERATIONS {
        r = r.route(op.path, handler(op));
    }
    r.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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
