//! Stored data that cannot be decoded is an error (500 with the envelope, logged), never read as a
//! default: a broken document must not render as `null`, `{}` or an empty price list.

use flexportal_testkit::{TestApp, both_engines};
use serde_json::json;

async fn corrupt(app: &TestApp, sql: &str) {
    let mut tx = app.app().db.begin().await.unwrap();
    tx.batch(sql).await.unwrap();
    tx.commit().await.unwrap();
}

both_engines!(
    undecodable_stored_documents_are_500s,
    |app: TestApp| async move {
        let order = crate::subscriptions::setup(&app, 1, 1, "bad@example.com").await;
        let (s, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "S-1"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let rental = b["rentalId"].as_str().unwrap().to_string();
        let customer = b["rental"]["customerId"].as_str().unwrap().to_string();
        let (_, p) = app.get("/v1/products/variants?sku=P-1").await;
        let product = p["variants"][0]["productId"].as_str().unwrap().to_string();
        let tenant = app.tenant.tenant_id.clone();
        let cases = [
            (
                format!(
                    "UPDATE customers SET custom_fields = '{{broken' WHERE tenant_id = '{tenant}'"
                ),
                format!("/v1/customers/{customer}"),
            ),
            (
                format!(
                    "UPDATE variants SET pricing = '[{{\"contract' WHERE tenant_id = '{tenant}'"
                ),
                format!("/v1/products/{product}"),
            ),
            (
                format!("UPDATE orders SET items = 'not json' WHERE tenant_id = '{tenant}'"),
                format!("/v1/orders/{order}"),
            ),
            (
                format!(
                    "UPDATE subscriptions SET billing = '{{\"cycle\":\"StartDate\"}}' WHERE tenant_id = '{tenant}'"
                ),
                format!("/v1/subscriptions/{rental}"),
            ),
        ];
        for (sql, path) in cases {
            let (s, before) = app.get(&path).await;
            assert_eq!(s, 200, "{path}: {before}");
            corrupt(&app, &sql).await;
            let (s, b) = app.get(&path).await;
            assert_eq!(s, 500, "{path} after {sql}: {b}");
            assert_eq!(b["error"]["code"], "INTERNAL_ERROR");
            assert!(!b.to_string().contains("broken"), "{b}");
        }
    }
);
