//! Integration tests through the real HTTP router, each on SQLite and on PostgreSQL.

mod amendments;
mod asset_changes;
mod assets;
mod auto_contracts;
mod billing_group_members;
mod billing_group_props;
mod billing_group_simulation;
mod billing_groups;
mod compat;
mod composition;
mod concurrency;
mod contracts;
mod corrupt;
mod customers;
mod demo;
mod empty_files;
mod endings;
mod exports;
mod files;
mod idempotency;
mod imports;
mod isolation;
mod jobs;
mod lifecycle_edges;
mod lifecycle_props;
mod migrations;
mod orders;
mod pagination;
mod payment_reads;
mod payments;
mod platform;
mod products;
mod rate_limits;
mod reports;
mod retries;
mod schema;
mod simulations;
mod slow_storage;
mod subscriptions;
mod text_input;
mod upgrades;
mod webhooks;

use flexportal_testkit::TestApp;
use serde_json::{Value, json};

/// Creates a product with one variant per SKU (12/24/36-month tiers) and returns its id.
pub async fn product(
    app: &TestApp,
    product_sku: &str,
    category: &str,
    variant_skus: &[&str],
) -> String {
    let variants: Vec<Value> = variant_skus
        .iter()
        .map(|s| {
            json!({
                "variantSku": s, "variantName": format!("{s} config"), "grade": "A",
                "listPrice": 1999.0, "acquisitionCost": 1000.0,
                "pricing": [
                    {"contractLength": 12, "monthlyPrice": 89.0},
                    {"contractLength": 24, "monthlyPrice": 59.0},
                    {"contractLength": 36, "monthlyPrice": 49.0}
                ]
            })
        })
        .collect();
    let (status, body) = app
        .post(
            "/v1/products",
            json!({
                "productSku": product_sku, "name": format!("{product_sku} name"),
                "specification": "spec", "category": category, "brand": "Acme",
                "variants": variants
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["productId"].as_str().expect("productId").to_string()
}
