//! Concurrent writes (SPEC §1.16): for each write use case, parallel requests through the real
//! router, then the exact end state: no lost update, one winner where one is due, the documented
//! error for the losers, never a 5xx. SQLite serialises writers; PostgreSQL runs them at once.

use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

fn order_body(email: &str, sku: &str, quantity: i64) -> Value {
    json!({
        "customer": {"email": email, "firstName": "Ada", "lastName": "Race"},
        "billingAddress": {"streetAddress": "1 Main St", "city": "Utrecht", "country": "NL"},
        "items": [{"sku": sku, "quantity": quantity, "contractLength": 12}]
    })
}

fn assert_no_5xx(results: &[(axum::http::StatusCode, Value)]) {
    for (s, b) in results {
        assert!(!s.is_server_error(), "{s}: {b}");
    }
}

async fn laptop(app: &TestApp, product_sku: &str, variant_sku: &str) -> String {
    let (s, b) = app
        .post(
            "/v1/products",
            json!({
                "productSku": product_sku, "name": "Laptop", "specification": "s", "category": "Laptops", "brand": "B",
                "variants": [{"variantSku": variant_sku, "variantName": "Base", "grade": "A", "listPrice": 1999.0, "acquisitionCost": 1000.0,
                    "pricing": [{"contractLength": 12, "monthlyPrice": 89.0}]}]
            }),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["productId"].as_str().unwrap().to_string()
}

both_engines!(
    orders_for_one_new_email_create_one_customer,
    |app: TestApp| async move {
        laptop(&app, "P", "P-1").await;
        // Different quantities: eight distinct orders, one new customer.
        let reqs = (1..=8)
            .map(|q| {
                (
                    "POST",
                    "/v1/orders".to_string(),
                    Some(order_body("new@example.com", "P-1", q)),
                )
            })
            .collect();
        let results = app.concurrently(reqs).await;
        assert_no_5xx(&results);
        let mut ids = std::collections::HashSet::new();
        for (s, b) in &results {
            assert_eq!(*s, 201, "{b}");
            ids.insert(b["orderId"].as_str().unwrap().to_string());
        }
        assert_eq!(ids.len(), 8);
        let (_, b) = app.get("/v1/customers?email=new@example.com").await;
        assert_eq!(b["count"], 1, "{b}");
        assert_eq!(b["customers"][0]["totalOrders"], 8);
        // Identical orders at once: the duplicate rule (SPEC §1.12) answers all with one order.
        let reqs = (0..8)
            .map(|_| {
                (
                    "POST",
                    "/v1/orders".to_string(),
                    Some(order_body("twin@example.com", "P-1", 2)),
                )
            })
            .collect();
        let results = app.concurrently(reqs).await;
        assert_no_5xx(&results);
        let ids: std::collections::HashSet<_> = results
            .iter()
            .map(|(s, b)| {
                assert_eq!(*s, 201, "{b}");
                b["orderId"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        let (_, b) = app.get("/v1/customers?email=twin@example.com").await;
        assert_eq!(b["customers"][0]["totalOrders"], 1);
    }
);

both_engines!(
    partial_customer_updates_lose_nothing,
    |app: TestApp| async move {
        laptop(&app, "P", "P-1").await;
        let (_, b) = app
            .post("/v1/orders", order_body("c@example.com", "P-1", 1))
            .await;
        let id = b["order"]["customer"]["customerId"]
            .as_str()
            .unwrap()
            .to_string();
        let path = format!("/v1/customers/{id}");
        for round in 0..15 {
            let reqs = vec![
                (
                    "PUT",
                    path.clone(),
                    Some(json!({"phone": format!("+3161234{round:04}")})),
                ),
                (
                    "PUT",
                    path.clone(),
                    Some(json!({"company": format!("Company {round}")})),
                ),
                (
                    "PUT",
                    path.clone(),
                    Some(json!({"customFields": {format!("k{round}"): round}})),
                ),
            ];
            let results = app.concurrently(reqs).await;
            assert_no_5xx(&results);
            for (s, b) in &results {
                assert_eq!(*s, 200, "{b}");
            }
            let (_, c) = app.get(&path).await;
            assert_eq!(c["phone"], format!("+3161234{round:04}"), "round {round}");
            assert_eq!(c["company"], format!("Company {round}"), "round {round}");
            for k in 0..=round {
                assert_eq!(c["customFields"][format!("k{k}")], k, "round {round}: {c}");
            }
        }
    }
);

both_engines!(
    deactivation_and_a_new_order_exclude_each_other,
    |app: TestApp| async move {
        laptop(&app, "P", "P-1").await;
        for round in 0..8 {
            let email = format!("d{round}@example.com");
            // A customer without open orders (its first order cancelled).
            let (_, b) = app.post("/v1/orders", order_body(&email, "P-1", 1)).await;
            let order_id = b["orderId"].as_str().unwrap().to_string();
            let customer_id = b["order"]["customer"]["customerId"]
                .as_str()
                .unwrap()
                .to_string();
            let (s, _) = app
                .post(&format!("/v1/orders/{order_id}/cancel"), json!({}))
                .await;
            assert_eq!(s, 200);
            let results = app
                .concurrently(vec![
                    ("DELETE", format!("/v1/customers/{customer_id}"), None),
                    (
                        "POST",
                        "/v1/orders".into(),
                        Some(order_body(&email, "P-1", 2)),
                    ),
                ])
                .await;
            assert_no_5xx(&results);
            let (deleted, ordered) = (&results[0], &results[1]);
            match (deleted.0.as_u16(), ordered.0.as_u16()) {
                (200, 400) => assert_eq!(ordered.1["error"]["code"], "CUSTOMER_INACTIVE"),
                (409, 201) => {
                    assert_eq!(deleted.1["error"]["code"], "CUSTOMER_HAS_PENDING_ORDERS")
                }
                other => panic!("round {round}: {other:?} {deleted:?} {ordered:?}"),
            }
        }
    }
);

both_engines!(
    product_upserts_and_partial_updates_lose_nothing,
    |app: TestApp| async move {
        // Six creates of one product SKU at once, each with its own variant: one product that
        // has all six variants.
        let reqs = (0..6)
            .map(|i| {
                (
                    "POST",
                    "/v1/products".to_string(),
                    Some(json!({
                        "productSku": "SAME", "name": "Same", "specification": "s", "category": "Laptops", "brand": "B",
                        "variants": [{"variantSku": format!("SAME-{i}"), "variantName": "V", "grade": "A",
                            "pricing": [{"contractLength": 12, "monthlyPrice": 10.0}]}]
                    })),
                )
            })
            .collect();
        let results = app.concurrently(reqs).await;
        assert_no_5xx(&results);
        let ids: std::collections::HashSet<_> = results
            .iter()
            .map(|(s, b)| {
                assert_eq!(*s, 201, "{b}");
                b["productId"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(ids.len(), 1);
        let id = ids.into_iter().next().unwrap();
        let (_, p) = app.get(&format!("/v1/products/{id}")).await;
        assert_eq!(p["variants"].as_array().unwrap().len(), 6, "{p}");
        // Partial updates of different fields at once.
        for round in 0..10 {
            let path = format!("/v1/products/{id}");
            let results = app
                .concurrently(vec![
                    ("PUT", path.clone(), Some(json!({"name": format!("Name {round}")}))),
                    ("PUT", path.clone(), Some(json!({"brand": format!("Brand {round}")}))),
                    (
                        "PUT",
                        path.clone(),
                        Some(json!({"variants": [{"variantSku": "SAME-0", "pricing": [{"contractLength": 24 + round, "monthlyPrice": 9.0}]}]})),
                    ),
                ])
                .await;
            assert_no_5xx(&results);
            let (_, p) = app.get(&path).await;
            assert_eq!(p["name"], format!("Name {round}"));
            assert_eq!(p["brand"], format!("Brand {round}"));
            let v0 = p["variants"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["variantSku"] == "SAME-0")
                .unwrap();
            // 12 months plus one tier per round so far.
            assert_eq!(
                v0["pricing"].as_array().unwrap().len(),
                2 + round as usize,
                "{v0}"
            );
        }
    }
);

both_engines!(
    variant_deactivation_and_an_order_exclude_each_other,
    |app: TestApp| async move {
        for round in 0..8 {
            let sku = format!("V{round}-1");
            let id = laptop(&app, &format!("V{round}"), &sku).await;
            let results = app
                .concurrently(vec![
                    (
                        "PUT",
                        format!("/v1/products/{id}"),
                        Some(json!({"variants": [{"variantSku": sku, "status": "inactive"}]})),
                    ),
                    (
                        "POST",
                        "/v1/orders".into(),
                        Some(order_body(&format!("v{round}@example.com"), &sku, 1)),
                    ),
                ])
                .await;
            assert_no_5xx(&results);
            let (deactivated, ordered) = (&results[0], &results[1]);
            match (deactivated.0.as_u16(), ordered.0.as_u16()) {
                (200, 400) => assert_eq!(ordered.1["error"]["code"], "VARIANT_INACTIVE"),
                (409, 201) => assert_eq!(deactivated.1["error"]["code"], "VARIANT_IN_USE"),
                other => panic!("round {round}: {other:?} {deactivated:?} {ordered:?}"),
            }
        }
    }
);

both_engines!(
    assets_created_and_updated_at_once,
    |app: TestApp| async move {
        laptop(&app, "P", "P-1").await;
        let reqs = (0..6)
            .map(|_| {
                (
                    "POST",
                    "/v1/assets".to_string(),
                    Some(json!({"serialNumber": "ONE", "sku": "P-1"})),
                )
            })
            .collect();
        let results = app.concurrently(reqs).await;
        assert_no_5xx(&results);
        assert_eq!(results.iter().filter(|(s, _)| *s == 201).count(), 1);
        for (s, b) in results.iter().filter(|(s, _)| *s != 201) {
            assert_eq!(*s, 409);
            assert_eq!(b["error"]["code"], "ASSET_EXISTS");
        }
        for round in 0..10 {
            let results = app
                .concurrently(vec![
                    (
                        "PUT",
                        "/v1/assets/ONE".into(),
                        Some(json!({"location": format!("L{round}")})),
                    ),
                    (
                        "PUT",
                        "/v1/assets/ONE".into(),
                        Some(json!({"notes": format!("N{round}")})),
                    ),
                    (
                        "PUT",
                        "/v1/assets/ONE".into(),
                        Some(json!({"acquisitionCost": 100 + round})),
                    ),
                ])
                .await;
            assert_no_5xx(&results);
            let (_, a) = app.get("/v1/assets/ONE").await;
            assert_eq!(a["location"], format!("L{round}"));
            assert_eq!(a["notes"], format!("N{round}"));
            assert_eq!(
                a["acquisitionCost"].to_string(),
                format!("{}.00", 100 + round)
            );
        }
    }
);

both_engines!(
    cancel_and_fulfil_of_one_order_exclude_each_other,
    |app: TestApp| async move {
        laptop(&app, "P", "P-1").await;
        for round in 0..8 {
            let serial = format!("S{round}");
            app.post("/v1/assets", json!({"serialNumber": serial, "sku": "P-1"}))
                .await;
            let (_, b) = app
                .post(
                    "/v1/orders",
                    order_body(&format!("o{round}@example.com"), "P-1", 1),
                )
                .await;
            let order_id = b["orderId"].as_str().unwrap().to_string();
            let results = app
                .concurrently(vec![
                    (
                        "POST",
                        format!("/v1/orders/{order_id}/cancel"),
                        Some(json!({"reason": "race"})),
                    ),
                    (
                        "POST",
                        "/v1/subscriptions".into(),
                        Some(json!({"orderId": order_id, "assetSerialNumber": serial})),
                    ),
                ])
                .await;
            assert_no_5xx(&results);
            let (cancelled, fulfilled) = (&results[0], &results[1]);
            match (cancelled.0.as_u16(), fulfilled.0.as_u16()) {
                (200, 400) => {
                    assert_eq!(fulfilled.1["error"]["code"], "ORDER_NOT_CONFIRMED");
                    let (_, a) = app.get(&format!("/v1/assets/{serial}")).await;
                    assert_eq!(a["status"], "available");
                }
                (400, 201) => {
                    assert_eq!(cancelled.1["error"]["code"], "ORDER_NOT_CANCELLABLE");
                }
                other => panic!("round {round}: {other:?} {cancelled:?} {fulfilled:?}"),
            }
        }
    }
);

both_engines!(
    notes_and_payment_actions_at_once,
    |app: TestApp| async move {
        laptop(&app, "P", "P-1").await;
        app.post("/v1/assets", json!({"serialNumber": "S-1", "sku": "P-1"}))
            .await;
        let (_, b) = app
            .post("/v1/orders", order_body("n@example.com", "P-1", 1))
            .await;
        let order_id = b["orderId"].as_str().unwrap().to_string();
        let (s, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order_id, "assetSerialNumber": "S-1"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let rental_id = b["rentalId"].as_str().unwrap().to_string();
        // Notes written at once: every request answers 200 and one of them is stored whole.
        for path in [
            format!("/v1/orders/{order_id}/notes"),
            format!("/v1/subscriptions/{rental_id}/notes"),
        ] {
            let reqs = (0..5)
                .map(|i| {
                    (
                        "PATCH",
                        path.clone(),
                        Some(json!({"notes": format!("note {i}")})),
                    )
                })
                .collect();
            let results = app.concurrently(reqs).await;
            assert_no_5xx(&results);
            assert!(results.iter().all(|(s, _)| *s == 200));
        }
        let (_, sub) = app.get(&format!("/v1/subscriptions/{rental_id}")).await;
        assert!(sub["notes"].as_str().unwrap().starts_with("note "));
        // Cancel and mark-paid of one payment at once: exactly one wins.
        let (_, ps) = app
            .get(&format!("/v1/payments?rentalId={rental_id}&limit=3"))
            .await;
        for p in ps["payments"].as_array().unwrap() {
            let id = p["paymentId"].as_str().unwrap();
            let results = app
                .concurrently(vec![
                    (
                        "POST",
                        format!("/v1/payments/{id}/mark-paid"),
                        Some(json!({})),
                    ),
                    (
                        "POST",
                        format!("/v1/payments/{id}/cancel"),
                        Some(json!({"reason": "race"})),
                    ),
                ])
                .await;
            assert_no_5xx(&results);
            let (paid, cancelled) = (&results[0], &results[1]);
            match (paid.0.as_u16(), cancelled.0.as_u16()) {
                (200, 400) => assert_eq!(cancelled.1["error"]["code"], "ALREADY_PAID"),
                (400, 200) => assert_eq!(paid.1["error"]["code"], "PAYMENT_CANCELLED"),
                other => panic!("{other:?} {paid:?} {cancelled:?}"),
            }
        }
        // The collected totals count exactly the payments that were marked paid.
        let (_, ps) = app
            .get(&format!("/v1/payments?rentalId={rental_id}&status=paid"))
            .await;
        let paid = ps["count"].as_u64().unwrap();
        let (_, sub) = app.get(&format!("/v1/subscriptions/{rental_id}")).await;
        assert_eq!(
            sub["costRecovery"]["totalCollected"].to_string(),
            format!("{}.00", 89 * paid)
        );
    }
);

both_engines!(
    csv_imports_of_one_catalog_at_once_make_it_once,
    |app: TestApp| async move {
        let csv = "Product Name,Product SKU,Category,Brand,Specification,Variant SKU,List Price,\
                   Acquisition Cost,12mo_Price,24mo_Price\n\
                   Desk,DESK,Furniture,Ergo,Oak,DESK-OAK,899,400,49,39\n\
                   Desk,DESK,Furniture,Ergo,Walnut,DESK-WAL,999,450,55,45\n\
                   Chair,CHAIR,Furniture,Ergo,Mesh,CHAIR-1,300,100,19,\n";
        let reqs = (0..4)
            .map(|_| {
                axum::http::Request::builder()
                    .method("POST")
                    .uri("/v1/products/csv")
                    .header("authorization", format!("Bearer {}", app.tenant.key))
                    .header("tenant-id", &app.tenant.tenant_id)
                    .header("content-type", "text/csv")
                    .body(axum::body::Body::from(csv))
                    .unwrap()
            })
            .collect();
        let results = app.concurrently_raw(reqs).await;
        assert_no_5xx(&results);
        let mut created = 0;
        for (s, b) in &results {
            assert_eq!(*s, 201, "{b}");
            assert_eq!(b["errors"].as_array().map(Vec::len), Some(0), "{b}");
            created += b["summary"]["productsCreated"].as_i64().unwrap();
        }
        // Exactly one import created each product; the others updated them.
        assert_eq!(created, 2);
        let (_, p) = app.get("/v1/products?limit=10").await;
        assert_eq!(p["count"], 2, "{p}");
        let (_, v) = app.get("/v1/products/variants?limit=10").await;
        assert_eq!(v["count"], 3, "{v}");
    }
);

both_engines!(
    deletions_and_their_competitors_exclude_each_other,
    |app: TestApp| async move {
        laptop(&app, "P", "P-1").await;
        for round in 0..6 {
            // deleteProduct against an order for its variant.
            let sku = format!("D{round}-1");
            let id = laptop(&app, &format!("D{round}"), &sku).await;
            let results = app
                .concurrently(vec![
                    ("DELETE", format!("/v1/products/{id}"), None),
                    (
                        "POST",
                        "/v1/orders".into(),
                        Some(order_body(&format!("d{round}@example.com"), &sku, 1)),
                    ),
                ])
                .await;
            assert_no_5xx(&results);
            let (deleted, ordered) = (&results[0], &results[1]);
            match (deleted.0.as_u16(), ordered.0.as_u16()) {
                (200, 400) => assert_eq!(ordered.1["error"]["code"], "VARIANT_INACTIVE"),
                (409, 201) => {
                    assert_eq!(deleted.1["error"]["code"], "PRODUCT_HAS_ACTIVE_ORDERS")
                }
                other => panic!("round {round}: {other:?} {deleted:?} {ordered:?}"),
            }
            // deleteAsset against a fulfilment with it.
            let serial = format!("A{round}");
            app.post("/v1/assets", json!({"serialNumber": serial, "sku": "P-1"}))
                .await;
            let (_, b) = app
                .post(
                    "/v1/orders",
                    order_body(&format!("a{round}@example.com"), "P-1", 1),
                )
                .await;
            let order_id = b["orderId"].as_str().unwrap().to_string();
            let results = app
                .concurrently(vec![
                    ("DELETE", format!("/v1/assets/{serial}"), None),
                    (
                        "POST",
                        "/v1/subscriptions".into(),
                        Some(json!({"orderId": order_id, "assetSerialNumber": serial})),
                    ),
                ])
                .await;
            assert_no_5xx(&results);
            let (deleted, fulfilled) = (&results[0], &results[1]);
            let (_, a) = app.get(&format!("/v1/assets/{serial}")).await;
            match (deleted.0.as_u16(), fulfilled.0.as_u16()) {
                (200, 400) => {
                    assert_eq!(fulfilled.1["error"]["code"], "ASSET_NOT_AVAILABLE");
                    assert_eq!(a["status"], "unavailable");
                }
                (409, 201) => {
                    assert_eq!(deleted.1["error"]["code"], "ASSET_IN_USE");
                    assert_eq!(a["status"], "rented_out");
                }
                other => panic!("round {round}: {other:?} {deleted:?} {fulfilled:?}"),
            }
        }
    }
);

both_engines!(
    concurrent_extensions_of_group_members_share_each_new_consolidated_payment,
    |app: TestApp| async move {
        use crate::billing_groups::{business, catalog, money, payments};
        catalog(&app).await;
        let start = "2025-03-05";
        let (customer, r) = business(
            &app,
            "race@acme.test",
            &[("G-129", start), ("G-89", start), ("G-159", start)],
        )
        .await;
        let gid = crate::billing_group_members::group(&app, &customer, &r).await;
        // Each round, every member is extended at once: all of them need the consolidated
        // payments of the same six new months, which none has yet.
        for _ in 0..3 {
            let reqs = r
                .iter()
                .map(|id| {
                    (
                        "POST",
                        format!("/v1/subscriptions/{id}/extend"),
                        Some(json!({"extensionMonths": 6})),
                    )
                })
                .collect();
            let results = app.concurrently(reqs).await;
            assert_no_5xx(&results);
            for (s, b) in &results {
                assert_eq!(*s, 200, "{b}");
            }
        }
        let group = payments(&app, &format!("billingGroupId={gid}")).await;
        let mut month = jiff::civil::date(2026, 3, 1);
        for _ in 0..18 {
            let key = format!("{gid}:{}", &month.to_string()[..7]);
            let found: Vec<&Value> = group
                .iter()
                .filter(|p| p["idempotencyKey"] == key.as_str() && p["status"] != "cancelled")
                .collect();
            assert_eq!(found.len(), 1, "{key}: {found:?}");
            assert_eq!(money(&found[0]["subtotal"]), "377.00", "{key}");
            assert_eq!(found[0]["lineItems"].as_array().unwrap().len(), 3, "{key}");
            month = month.checked_add(jiff::Span::new().months(1)).unwrap();
        }
    }
);
