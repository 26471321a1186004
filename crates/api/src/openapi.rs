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
    add_idempotency_key(&mut doc);
    doc
}

/// Documents the optional `Idempotency-Key` header on every write ([`crate::gate`]) but the
/// rentals export, and its 409 answers.
fn add_idempotency_key(doc: &mut Value) {
    let header = json!({
        "name": "Idempotency-Key", "in": "header", "required": false,
        "description": "Any unique string (1-255 characters). The first successful response to a key is stored with its effect and replayed for 24 hours to a repeat of the same request (`Idempotent-Replayed: true`); a repeat that arrives while the first runs waits for it.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255}
    });
    let conflict = json!({
        "description": "The key was used with another request (`IDEMPOTENCY_KEY_REUSED`), or its first request is still running (`IDEMPOTENCY_KEY_IN_USE`)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    });
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if path == "/v1/exports/rentals" {
            continue;
        }
        for method in ["post", "put", "patch", "delete"] {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            if let Some(params) = op
                .entry("parameters")
                .or_insert_with(|| json!([]))
                .as_array_mut()
            {
                params.push(header.clone());
            }
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                responses.entry("409").or_insert_with(|| conflict.clone());
            }
        }
    }
}
