//! Use cases compose into one transaction (the lifecycle actions build on this): their `*_in`
//! forms run on one open transaction, and a failure anywhere leaves nothing behind.

use flexportal_app::{orders, subscriptions};
use flexportal_testkit::{TestApp, both_engines};
use serde_json::json;

both_engines!(
    an_order_and_its_fulfilment_commit_or_vanish_together,
    |app: TestApp| async move {
        app.post("/v1/products", json!({
            "productSku": "P", "name": "Laptop", "specification": "s", "category": "Laptops", "brand": "B",
            "variants": [{"variantSku": "P-1", "variantName": "Base", "grade": "A",
                "pricing": [{"contractLength": 12, "monthlyPrice": 89.0}]}]
        })).await;
        app.post("/v1/assets", json!({"serialNumber": "S-1", "sku": "P-1"}))
            .await;
        let ctx = app.context(&app.tenant).await;
        let now = app.app().now();
        let order_body = json!({
            "customer": {"email": "one@example.com", "firstName": "Ada", "lastName": "Tx"},
            "billingAddress": {"streetAddress": "1 Main St", "city": "Utrecht", "country": "NL"},
            "items": [{"sku": "P-1", "quantity": 1, "contractLength": 12}]
        });
        let input = orders::parse(&ctx, &order_body).unwrap();

        // The second step fails (no such asset): the order of the first step is gone too.
        let mut tx = app.app().db.begin().await.unwrap();
        let view = orders::create_in(&mut tx, &ctx, &input, now).await.unwrap();
        let fulfil = subscriptions::parse(
            &json!({"orderId": view.order.order_id, "assetSerialNumber": "NOPE"}),
        )
        .unwrap();
        let err = subscriptions::create_in(&mut tx, &ctx, &fulfil, now)
            .await
            .unwrap_err()
            .into_wire();
        assert_eq!(err.code, "ASSET_NOT_FOUND");
        tx.rollback().await.unwrap();
        let (_, b) = app.get("/v1/orders").await;
        assert_eq!(b["count"], 0, "{b}");
        let (_, b) = app.get("/v1/customers?email=one@example.com").await;
        assert_eq!(b["count"], 0, "{b}");

        // Both steps succeed: one commit makes the order fulfilled and the asset rented out.
        let mut tx = app.app().db.begin().await.unwrap();
        let view = orders::create_in(&mut tx, &ctx, &input, now).await.unwrap();
        let fulfil = subscriptions::parse(
            &json!({"orderId": view.order.order_id, "assetSerialNumber": "S-1"}),
        )
        .unwrap();
        let sub = subscriptions::create_in(&mut tx, &ctx, &fulfil, now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (_, o) = app
            .get(&format!("/v1/orders/{}", view.order.order_id))
            .await;
        assert_eq!(o["status"], "fulfilled", "{o}");
        let (_, a) = app.get("/v1/assets/S-1").await;
        assert_eq!(a["status"], "rented_out");
        assert_eq!(a["rentalId"], sub.sub.rental_id);
        // The fulfilment opened the asset assignment and appended the first history event.
        let mut c = app.app().db.read().await.unwrap();
        let tenant = &app.tenant.tenant_id;
        let held = flexportal_store::assignments::for_rental(&mut c, tenant, &sub.sub.rental_id)
            .await
            .unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].serial_number, "S-1");
        assert_eq!(held[0].from.to_string(), sub.sub.start_date);
        let events =
            flexportal_store::subscription_events::for_rental(&mut c, tenant, &sub.sub.rental_id)
                .await
                .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].kind,
            flexportal_domain::status::SubscriptionEventKind::Created
        );
    }
);
