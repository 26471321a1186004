//! `Idempotency-Key` on writes: the first response is stored with its effect and replayed to
//! repeats; concurrent repeats run the request once; another request with the key is refused.

use axum::body::Body;
use axum::http::Request;
use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

fn keyed(app: &TestApp, method: &str, path: &str, key: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", app.tenant.key))
        .header("tenant-id", &app.tenant.tenant_id)
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Sends the same keyed request `n` times at once; asserts every answer is `status` with the
/// same body, and returns that body.
async fn fifty_at_once(app: &TestApp, path: &str, key: &str, body: &Value, status: u16) -> Value {
    let requests = (0..50)
        .map(|_| keyed(app, "POST", path, key, body))
        .collect();
    let answers = app.concurrently_raw(requests).await;
    let first = answers[0].1.clone();
    for (s, b) in &answers {
        assert_eq!(s.as_u16(), status, "{b}");
        assert_eq!(b, &first, "every repeat gets the first response");
    }
    first
}

fn order_body(email: &str) -> Value {
    json!({
        "customer": {"email": email, "firstName": "Ida", "lastName": "Berg"},
        "billingAddress": {"streetAddress": "Storgatan 1", "city": "Uppsala", "country": "Sweden"},
        "items": [{"sku": "P-1", "quantity": 1, "contractLength": 12}]
    })
}

both_engines!(
    fifty_concurrent_orders_with_one_key_make_one_order,
    |app: TestApp| async move {
        crate::subscriptions::setup(&app, 2, 1, "seed@example.com").await;
        let body = order_body("once@example.com");
        let first = fifty_at_once(&app, "/v1/orders", "order-key-1", &body, 201).await;
        let order_id = first["orderId"].as_str().unwrap().to_string();
        let customer = first["order"]["customer"]["customerId"].as_str().unwrap();
        let (_, list) = app.get(&format!("/v1/orders?customerId={customer}")).await;
        assert_eq!(list["count"], 1, "{list}");
        let (_, c) = app.get(&format!("/v1/customers/{customer}")).await;
        assert_eq!(c["totalOrders"], 1, "{c}");

        // A later repeat is a replay, marked as one; the same key with another body or path is
        // refused and changes nothing.
        let resp = tower::ServiceExt::oneshot(
            app.router.clone(),
            keyed(&app, "POST", "/v1/orders", "order-key-1", &body),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), 201);
        assert_eq!(resp.headers()["idempotent-replayed"], "true");
        let other = order_body("other@example.com");
        let (s, b) = app
            .raw(keyed(&app, "POST", "/v1/orders", "order-key-1", &other))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (409, Some("IDEMPOTENCY_KEY_REUSED"))
        );
        let (s, b) = app
            .raw(keyed(
                &app,
                "POST",
                &format!("/v1/orders/{order_id}/cancel"),
                "order-key-1",
                &json!({"reason": "x"}),
            ))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (409, Some("IDEMPOTENCY_KEY_REUSED"))
        );
        let (_, o) = app.get(&format!("/v1/orders/{order_id}")).await;
        assert_eq!(
            o["order"]["status"].as_str().or(o["status"].as_str()),
            Some("pending")
        );
        let (_, all) = app.get("/v1/orders?limit=100").await;
        assert!(
            all["orders"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["customer"]["email"] != "other@example.com"),
            "the refused request created nothing"
        );

        // Keys belong to a business unit: another unit's key of the same name is its own.
        let unit = app.new_tenant("EUR").await;
        let req = Request::builder()
            .method("POST")
            .uri("/v1/orders")
            .header("authorization", format!("Bearer {}", unit.key))
            .header("tenant-id", &unit.tenant_id)
            .header("content-type", "application/json")
            .header("idempotency-key", "order-key-1")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (s, b) = app.raw(req).await;
        assert_eq!(s, 400, "runs in the other unit, which has no SKU P-1: {b}");
        assert_eq!(b["error"]["code"], "VARIANT_NOT_FOUND");

        // After 24 hours the key is forgotten (and the daily jobs purge it).
        app.clock.advance(24 * 3_600_000 + 1);
        let (s, again) = app
            .raw(keyed(&app, "POST", "/v1/orders", "order-key-1", &body))
            .await;
        assert_eq!(s, 201);
        assert_ne!(again["orderId"], first["orderId"]);
        app.clock.advance(24 * 3_600_000 + 1);
        let report = flexportal_app::jobs::run(app.app(), Some(&app.tenant.tenant_id), None)
            .await
            .unwrap();
        assert_eq!(report.idempotency_keys_purged, 1);
    }
);

both_engines!(
    a_failed_request_keeps_nothing_for_its_key,
    |app: TestApp| async move {
        crate::subscriptions::setup(&app, 1, 1, "seed@example.com").await;
        let bad = json!({"customer": {"email": "x@example.com"}, "items": []});
        let (s, _) = app
            .raw(keyed(&app, "POST", "/v1/orders", "k-fail", &bad))
            .await;
        assert_eq!(s, 400);
        // The key was not used up: a corrected request with it runs, once.
        let body = order_body("fixed@example.com");
        let (s, first) = app
            .raw(keyed(&app, "POST", "/v1/orders", "k-fail", &body))
            .await;
        assert_eq!(s, 201, "{first}");
        let (s, second) = app
            .raw(keyed(&app, "POST", "/v1/orders", "k-fail", &body))
            .await;
        assert_eq!((s.as_u16(), &second), (201, &first));
        // An unusable key is refused before anything runs.
        let long = "k".repeat(256);
        let (s, b) = app
            .raw(keyed(&app, "POST", "/v1/orders", &long, &body))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        // Reads ignore the header.
        let req = Request::builder()
            .method("GET")
            .uri("/v1/orders")
            .header("authorization", format!("Bearer {}", app.tenant.key))
            .header("tenant-id", &app.tenant.tenant_id)
            .header("idempotency-key", "k-fail")
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.raw(req).await.0, 200);
    }
);

both_engines!(
    fifty_concurrent_fulfilments_and_marks_with_one_key_run_once,
    |app: TestApp| async move {
        app.set_date("2025-01-01", 9);
        let order = crate::subscriptions::setup(&app, 1, 1, "fulfil@example.com").await;
        let body = json!({"orderId": order, "assetSerialNumber": "S-1"});
        let first = fifty_at_once(&app, "/v1/subscriptions", "sub-key", &body, 201).await;
        let rental = first["rentalId"].as_str().unwrap();
        let (_, subs) = app.get(&format!("/v1/subscriptions?orderId={order}")).await;
        assert_eq!(
            subs["count"]
                .as_i64()
                .or(subs["subscriptions"].as_array().map(|a| a.len() as i64)),
            Some(1)
        );
        let (s, b) = app
            .raw(keyed(
                &app,
                "POST",
                "/v1/subscriptions",
                "sub-key",
                &json!({"orderId": order, "assetSerialNumber": "S-2"}),
            ))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (409, Some("IDEMPOTENCY_KEY_REUSED"))
        );

        let (_, p) = app
            .get(&format!(
                "/v1/payments?rentalId={rental}&sortBy=dueDate&sortDir=asc"
            ))
            .await;
        let payment = p["payments"][0]["paymentId"].as_str().unwrap().to_string();
        let path = format!("/v1/payments/{payment}/mark-paid");
        let paid = fifty_at_once(&app, &path, "pay-key", &json!({"reference": "W-1"}), 200).await;
        assert_eq!(paid["payment"]["status"], "paid");
        let (_, r) = app.get(&format!("/v1/subscriptions/{rental}")).await;
        assert_eq!(r["totalCollected"].to_string(), "89.00", "collected once");
        // Without the key a second mark is refused as before.
        let (s, b) = app.post(&path, json!({})).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("ALREADY_PAID"))
        );
    }
);

both_engines!(
    a_keyed_request_that_writes_nothing_is_stored_and_replayed,
    |app: TestApp| async move {
        app.set_date("2025-01-01", 9);
        let order = crate::subscriptions::setup(&app, 1, 1, "quote@example.com").await;
        let (s, sub) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "S-1"}),
            )
            .await;
        assert_eq!(s, 201, "{sub}");
        let body = json!({"rentalId": sub["rentalId"]});
        let path = "/v1/subscriptions/calculate-buyout";
        let (s, first) = app.raw(keyed(&app, "POST", path, "quote-key", &body)).await;
        assert_eq!(s, 200, "{first}");
        // The quote (a read) is kept for its key like any write: a repeat is a replay, and the
        // key cannot be used for another request.
        let resp = tower::ServiceExt::oneshot(
            app.router.clone(),
            keyed(&app, "POST", path, "quote-key", &body),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["idempotent-replayed"], "true");
        let replayed: Value = serde_json::from_slice(
            &axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(replayed, first);
        let (s, b) = app
            .raw(keyed(
                &app,
                "POST",
                path,
                "quote-key",
                &json!({"rentalId": "R-none"}),
            ))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (409, Some("IDEMPOTENCY_KEY_REUSED"))
        );
    }
);
