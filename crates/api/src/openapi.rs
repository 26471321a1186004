//! The OpenAPI document of this server (`/openapi.json`): the operations as their handlers
//! describe them, with the official operation ids, paths and parameter names.

use std::sync::OnceLock;

use serde_json::{Value, json};

/// The OpenAPI 3.1 document of the server, generated from the handlers' `#[utoipa::path]`
/// descriptions and the wire types of [`crate::model`], with the document's info, servers and
/// security scheme. Built once.
pub fn document() -> Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build).clone()
}

fn build() -> Value {
    let typed = crate::routes::typed().into_openapi();
    let mut doc = serde_json::to_value(&typed).unwrap_or_else(|_| json!({}));
    doc["openapi"] = json!("3.1.0");
    doc["info"] = json!({
        "title": "FlexPortal API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "Rental of physical products on monthly contracts: catalog, assets, customers, orders, subscriptions and payments, per business unit.",
        "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
    });
    doc["servers"] = json!([{"url": "/", "description": "This server"}]);
    doc["security"] = json!([{"bearerAuth": []}]);
    doc["components"]["securitySchemes"] = json!({
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API key of the business unit (`flexportal keys create`)"}
    });
    doc
}
