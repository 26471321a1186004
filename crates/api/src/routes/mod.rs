//! Routes, one module per resource.

mod assets;
mod customers;
mod health;
mod products;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::error::ApiError;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(health::openapi))
        .route("/v1/products", post(products::create).get(products::list))
        .route("/v1/products/csv", post(products::import_csv))
        .route("/v1/products/variants", get(products::list_variants))
        .route(
            "/v1/products/{productId}",
            get(products::get)
                .put(products::update)
                .delete(products::delete),
        )
        .route("/v1/assets", post(assets::create).get(assets::list))
        .route(
            "/v1/assets/{serialNumber}",
            get(assets::get)
                .put(assets::update)
                .patch(assets::update)
                .delete(assets::delete),
        )
        .route("/v1/customers", get(customers::list))
        .route(
            "/v1/customers/{customerId}",
            get(customers::get)
                .put(customers::update)
                .delete(customers::delete),
        )
        .fallback(not_found)
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
