//! Orders (SPEC §2.5, §4.8).

use flexportal_testkit::{TestApp, both_engines, examples};
use serde_json::{Value, json};

/// The catalog of the order examples: MACBOOK-PRO-16-M3 (12: 149, 24: 129) and IPAD-PRO-12-M2
/// (12: 79, 24: 69).
pub async fn catalog(app: &TestApp) {
    for (psku, vsku, p12, p24) in [
        ("MBP", "MACBOOK-PRO-16-M3", 149.0, 129.0),
        ("IPAD", "IPAD-PRO-12-M2", 79.0, 69.0),
    ] {
        let (s, b) = app
            .post(
                "/v1/products",
                json!({
                    "productSku": psku, "name": psku, "specification": "s", "category": "Laptops", "brand": "Apple",
                    "variants": [{"variantSku": vsku, "variantName": "Base", "grade": "A", "listPrice": 2499.0, "acquisitionCost": 1800.0,
                        "pricing": [{"contractLength": 12, "monthlyPrice": p12}, {"contractLength": 24, "monthlyPrice": p24}]}]
                }),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
}

fn money(v: &Value) -> String {
    v.to_string()
}

both_engines!(order_examples_work, |app: TestApp| async move {
    catalog(&app).await;
    let ex = examples("createOrder");
    assert_eq!(ex.len(), 2);
    let (s, b) = app.post("/v1/orders", ex[0].clone()).await;
    assert_eq!(s, 201, "{b}");
    let o = &b["order"];
    assert_eq!(b["orderId"], o["orderId"]);
    assert!(o["orderId"].as_str().unwrap().starts_with("ord_"));
    assert_eq!(o["status"], "pending");
    assert_eq!(o["orderType"], "standard");
    // No contractLength: the unit's default (12) is priced.
    assert_eq!(o["items"][0]["contractLength"], 12);
    assert_eq!(money(&o["items"][0]["unitPrice"]), "149.00");
    assert_eq!(o["items"][0]["rentalStatus"], "pending");
    assert_eq!(o["items"][0]["listPriceSource"], "variant");
    assert_eq!(o["items"][0]["acquisitionCostSource"], "variant");
    assert_eq!(o["shippingAddress"], o["billingAddress"]);
    assert_eq!(
        o["rentalProgress"],
        json!({"totalDevices": 1, "rentedDevices": 0})
    );
    assert_eq!(o["createdBy"], format!("apikey:{}", app.tenant.key_id));
    let customer_id = o["customer"]["customerId"].as_str().unwrap().to_string();

    let (s, b) = app.post("/v1/orders", ex[1].clone()).await;
    assert_eq!(s, 201, "{b}");
    let o = &b["order"];
    // SPEC §4.8 without VAT: 5 × 129 + 3 × 79.
    assert_eq!(
        o["totals"].to_string(),
        r#"{"currency":"EUR","subtotal":882.00,"taxAmount":0.00,"total":882.00,"totalDevices":8}"#
    );
    assert_eq!(o["customer"]["customerType"], "business");
    assert_eq!(o["shippingAddress"]["city"], "Amsterdam");
    assert_eq!(o["customFields"]["costCenter"], "IT-DEV-001");
    assert_eq!(
        o["notes"],
        "Rush delivery requested - new employee onboarding"
    );

    // The customers were created and count their orders.
    let (_, c) = app.get(&format!("/v1/customers/{customer_id}")).await;
    assert_eq!(
        (c["totalOrders"].as_i64(), c["email"].as_str()),
        (Some(1), Some("john@example.com"))
    );
    assert_eq!(c["orderIds"].as_array().unwrap().len(), 1);
    assert_eq!(c["lastBillingAddress"]["city"], "Amsterdam");

    let order_id = o["orderId"].as_str().unwrap().to_string();
    for body in examples("updateOrderNotes") {
        let (s, b) = app
            .call_as(
                &app.tenant,
                "PATCH",
                &format!("/v1/orders/{order_id}/notes"),
                Some(body),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    let (_, o) = app.get(&format!("/v1/orders/{order_id}")).await;
    assert_eq!(
        o["notes"],
        "Customer requested delivery after 2pm. Contact before arrival."
    );
    for body in examples("cancelOrder") {
        let (s, b) = app
            .post(&format!("/v1/orders/{order_id}/cancel"), body)
            .await;
        assert_eq!(
            (s.as_u16(), b["orderId"].as_str()),
            (200, Some(order_id.as_str())),
            "{b}"
        );
    }
    let (s, b) = app
        .post(&format!("/v1/orders/{order_id}/cancel"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ALREADY_CANCELLED"))
    );
    let (_, o) = app.get(&format!("/v1/orders/{order_id}")).await;
    assert_eq!(o["status"], "cancelled");
    assert_eq!(
        o["cancellationReason"],
        "Customer requested cancellation - changed delivery address"
    );
});

both_engines!(order_tax_and_discounts, |app: TestApp| async move {
    catalog(&app).await;
    let body = examples("createOrder")[1].clone();
    for (calc, subtotal, tax, total) in [
        ("exclusive", "882.00", "185.22", "1067.22"),
        ("inclusive", "728.93", "153.07", "882.00"),
    ] {
        app.set_settings(
            &app.tenant,
            json!({"taxes": {"vatEnabled": true, "defaultRate": 21, "calculation": calc}}),
        )
        .await;
        app.clock.advance(120_000);
        let (s, b) = app.post("/v1/orders", body.clone()).await;
        assert_eq!(s, 201, "{b}");
        let t = &b["order"]["totals"];
        assert_eq!(
            (
                money(&t["subtotal"]),
                money(&t["taxAmount"]),
                money(&t["total"])
            ),
            (subtotal.into(), tax.into(), total.into()),
            "{calc}"
        );
    }
    // A 10 % discount on the 129.00 tier gives 116.10 (SPEC §4.8).
    let (s, _) = app.post("/v1/products", json!({
        "productSku": "D", "name": "D", "specification": "s", "category": "Laptops", "brand": "B",
        "variants": [{"variantSku": "D-1", "variantName": "v", "grade": "A",
            "pricing": [{"contractLength": 24, "monthlyPrice": 129.0, "discount": {"type": "percentage", "value": 10}}]}]
    })).await;
    assert_eq!(s, 201);
    let (_, b) = app
        .post(
            "/v1/orders",
            json!({
                "customer": {"email": "d@example.com", "firstName": "D", "lastName": "E"},
                "billingAddress": {"streetAddress": "s", "city": "c", "country": "NL"},
                "items": [{"sku": "D-1", "quantity": 1}]
            }),
        )
        .await;
    assert_eq!(money(&b["order"]["items"][0]["unitPrice"]), "116.10");
    assert_eq!(
        b["order"]["items"][0]["contractLength"], 24,
        "the only tier when the default 12 is not priced"
    );
    assert_eq!(b["order"]["billingAddress"]["contactName"], "D E");
});

both_engines!(order_validation_and_references, |app: TestApp| async move {
    catalog(&app).await;
    let good = examples("createOrder")[0].clone();
    let (s, b) = app.post("/v1/orders", json!({"customer": {"email": "bad", "firstName": "A"}, "billingAddress": {"city": "X"}, "items": [{"sku": "MACBOOK-PRO-16-M3", "quantity": 0}]})).await;
    assert_eq!(s, 400);
    let paths: Vec<&str> = b["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec![
            "customer.email",
            "customer.lastName",
            "billingAddress.streetAddress",
            "billingAddress.country",
            "items[0].quantity"
        ]
    );
    let mut no_items = good.clone();
    no_items["items"] = json!([]);
    let (s, b) = app.post("/v1/orders", no_items).await;
    assert_eq!(
        (s.as_u16(), b["error"]["details"][0]["path"].as_str()),
        (400, Some("items"))
    );
    for (item, code) in [
        (json!({"sku": "NOPE", "quantity": 1}), "VARIANT_NOT_FOUND"),
        (
            json!({"sku": "MACBOOK-PRO-16-M3", "quantity": 1, "contractLength": 36}),
            "INVALID_CONTRACT_LENGTH",
        ),
        (
            json!({"sku": "MACBOOK-PRO-16-M3", "quantity": 1, "contractLength": 500}),
            "INVALID_CONTRACT_LENGTH",
        ),
    ] {
        let mut b2 = good.clone();
        b2["items"] = json!([item]);
        let (s, b) = app.post("/v1/orders", b2).await;
        assert_eq!((s.as_u16(), b["error"]["code"].as_str()), (400, Some(code)));
    }
    let (_, l) = app.get("/v1/orders").await;
    assert_eq!(l["count"], 0, "failed orders store nothing");
    let (_, l) = app.get("/v1/customers").await;
    assert_eq!(l["count"], 0, "failed orders create no customer");
    // Inactive variant, inactive customer.
    let (_, p) = app.get("/v1/products?sortBy=productSku&sortDir=asc").await;
    let ipad = p["products"][0]["productId"].as_str().unwrap().to_string();
    app.delete(&format!("/v1/products/{ipad}")).await;
    let mut b2 = good.clone();
    b2["items"] = json!([{"sku": "IPAD-PRO-12-M2", "quantity": 1}]);
    let (s, b) = app.post("/v1/orders", b2).await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("VARIANT_INACTIVE"))
    );
    let (_, o) = app.post("/v1/orders", good.clone()).await;
    let cust = o["order"]["customer"]["customerId"]
        .as_str()
        .unwrap()
        .to_string();
    // An open order blocks deactivating the customer and the variant.
    let (s, b) = app.delete(&format!("/v1/customers/{cust}")).await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (409, Some("CUSTOMER_HAS_PENDING_ORDERS"))
    );
    let mbp = p["products"][1]["productId"].as_str().unwrap().to_string();
    let (s, b) = app
        .put(
            &format!("/v1/products/{mbp}"),
            json!({"variants": [{"sku": "MACBOOK-PRO-16-M3", "status": "inactive"}]}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (409, Some("VARIANT_IN_USE"))
    );
    let (s, b) = app.delete(&format!("/v1/products/{mbp}")).await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (409, Some("PRODUCT_HAS_ACTIVE_ORDERS"))
    );
    let oid = o["orderId"].as_str().unwrap();
    app.post(&format!("/v1/orders/{oid}/cancel"), json!({}))
        .await;
    let (s, _) = app.delete(&format!("/v1/customers/{cust}")).await;
    assert_eq!(s, 200);
    app.clock.advance(61_000);
    let (s, b) = app.post("/v1/orders", good.clone()).await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("CUSTOMER_INACTIVE"))
    );
    // Notes rules.
    let (s, _) = app
        .call_as(
            &app.tenant,
            "PATCH",
            &format!("/v1/orders/{oid}/notes"),
            Some(json!({"notes": "x".repeat(5001)})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .call_as(
            &app.tenant,
            "PATCH",
            &format!("/v1/orders/{oid}/notes"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .call_as(
            &app.tenant,
            "PATCH",
            "/v1/orders/ord_nope/notes",
            Some(json!({"notes": "x"})),
        )
        .await;
    assert_eq!(s, 404);
});

both_engines!(
    duplicate_orders_within_a_minute,
    |app: TestApp| async move {
        catalog(&app).await;
        let body = examples("createOrder")[0].clone();
        let (_, first) = app.post("/v1/orders", body.clone()).await;
        app.clock.advance(30_000);
        let mut same = body.clone();
        same["customer"]["email"] = json!("JOHN@example.com");
        let (s, again) = app.post("/v1/orders", same).await;
        assert_eq!(s, 201);
        assert_eq!(again["orderId"], first["orderId"]);
        let mut other = body.clone();
        other["items"][0]["quantity"] = json!(2);
        let (_, different) = app.post("/v1/orders", other).await;
        assert_ne!(different["orderId"], first["orderId"]);
        app.clock.advance(31_000);
        let (_, later) = app.post("/v1/orders", body).await;
        assert_ne!(later["orderId"], first["orderId"]);
        let (_, l) = app.get("/v1/orders").await;
        assert_eq!(l["count"], 3);
        let cust = first["order"]["customer"]["customerId"].as_str().unwrap();
        let (_, c) = app.get(&format!("/v1/customers/{cust}")).await;
        assert_eq!(c["totalOrders"], 3);
    }
);

both_engines!(order_lists_filter_and_sort, |app: TestApp| async move {
    catalog(&app).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        app.clock.advance(1000);
        let (_, b) = app.post("/v1/orders", json!({
            "customer": {"email": format!("c{}@example.com", i % 2), "firstName": "C", "lastName": "L"},
            "billingAddress": {"contactName": "C", "streetAddress": "s", "city": "c", "country": "NL"},
            "items": [{"sku": "IPAD-PRO-12-M2", "quantity": i + 1}],
            "customFields": {"po": format!("PO-{i}")}
        })).await;
        ids.push(b["orderId"].as_str().unwrap().to_string());
    }
    app.post(&format!("/v1/orders/{}/cancel", ids[0]), json!({}))
        .await;
    let (_, l) = app.get("/v1/orders?status=pending").await;
    assert_eq!(l["count"], 4);
    let (_, l) = app.get("/v1/orders?customField_po=PO-3").await;
    assert_eq!(
        (l["count"].as_i64(), l["orders"][0]["orderId"].as_str()),
        (Some(1), Some(ids[3].as_str()))
    );
    let (_, l) = app.get("/v1/orders?customField_po=PO-3&limit=1").await;
    assert_eq!(l["count"], 1);
    let (_, l) = app
        .get("/v1/orders?sortBy=totals.total&sortDir=asc&limit=2")
        .await;
    assert_eq!(l["orders"][0]["orderId"], ids[0].as_str());
    assert_eq!(l["hasMore"], true);
    let cust = l["orders"][0]["customer"]["customerId"].as_str().unwrap();
    let (_, l) = app.get(&format!("/v1/orders?customerId={cust}")).await;
    assert_eq!(l["count"], 3);
    let (s, _) = app.get("/v1/orders?status=shipped").await;
    assert_eq!(s, 400);
});

fn order_body(email: &str, items: Value) -> Value {
    json!({
        "customer": {"email": email, "firstName": "Ada", "lastName": "Big"},
        "billingAddress": {"streetAddress": "1 Main St", "city": "Utrecht", "country": "NL"},
        "items": items
    })
}

both_engines!(
    totals_that_do_not_fit_are_rejected_and_nothing_is_stored,
    |app: TestApp| async move {
        let (s, b) = app
            .post(
                "/v1/products",
                json!({
                    "productSku": "BIG", "name": "Big", "specification": "s", "category": "Laptops", "brand": "Acme",
                    "variants": [
                        {"variantSku": "BIG-1", "variantName": "Base", "grade": "A",
                         "pricing": [{"contractLength": 12, "monthlyPrice": 159.0}]},
                        {"variantSku": "BIG-MAX", "variantName": "Max", "grade": "A",
                         "pricing": [{"contractLength": 12, "monthlyPrice": 10000000000000.0}]}
                    ]
                }),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let product_id = b["productId"].as_str().unwrap().to_string();
        // Quantities whose line total wraps i64 (or lands beyond 10^15 minor units).
        for q in [
            json!(9_223_372_036_854_775_807i64),
            json!(4_611_686_018_427_387_904i64),
            json!(9_007_199_254_740_992i64),
            json!(10_000_000_000_000i64),
        ] {
            let (s, b) = app
                .post(
                    "/v1/orders",
                    order_body(
                        "big@example.com",
                        json!([{"sku": "BIG-1", "quantity": q, "contractLength": 12}]),
                    ),
                )
                .await;
            assert_eq!(s, 400, "quantity {q}: {b}");
            assert_eq!(b["error"]["code"], "VALIDATION_ERROR");
            assert_eq!(b["error"]["details"][0]["path"], "items[0].quantity");
        }
        // Each line fits, their sum does not.
        let (s, b) = app
            .post(
                "/v1/orders",
                order_body(
                    "big@example.com",
                    json!([
                        {"sku": "BIG-MAX", "quantity": 1, "contractLength": 12},
                        {"sku": "BIG-1", "quantity": 1, "contractLength": 12}
                    ]),
                ),
            )
            .await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["error"]["details"][0]["path"], "items");
        // A price beyond the limit is refused where it is written.
        let (s, b) = app
            .put(
                &format!("/v1/products/{product_id}"),
                json!({"variants": [{"variantSku": "BIG-1", "pricing": [{"contractLength": 12, "monthlyPrice": 10000000000000.01}]}]}),
            )
            .await;
        assert_eq!(s, 400, "{b}");
        // Nothing was stored by the refused orders: no order, no customer.
        let (_, b) = app.get("/v1/orders").await;
        assert_eq!(b["count"], 0, "{b}");
        let (_, b) = app.get("/v1/customers?email=big@example.com").await;
        assert_eq!(b["count"], 0, "{b}");
        // The largest total that fits renders as a plain decimal with the currency's digits.
        let (s, b) = app
            .post(
                "/v1/orders",
                order_body(
                    "big@example.com",
                    json!([{"sku": "BIG-MAX", "quantity": 1, "contractLength": 12}]),
                ),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let o = &b["order"];
        assert_eq!(o["totals"]["subtotal"].to_string(), "10000000000000.00");
        assert_eq!(o["totals"]["total"].to_string(), "10000000000000.00");
        assert_eq!(o["items"][0]["unitPrice"].to_string(), "10000000000000.00");
        // With 21 % VAT on top the same order no longer fits.
        app.set_settings(
            &app.tenant,
            json!({"taxes": {"vatEnabled": true, "defaultRate": 21, "calculation": "exclusive"}}),
        )
        .await;
        let (s, b) = app
            .post(
                "/v1/orders",
                order_body(
                    "big2@example.com",
                    json!([{"sku": "BIG-MAX", "quantity": 1, "contractLength": 12}]),
                ),
            )
            .await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["error"]["details"][0]["path"], "items");
    }
);

both_engines!(
    order_details_are_typed_and_normalised,
    |app: TestApp| async move {
        catalog(&app).await;
        let base = |email: &str| {
            json!({
                "customer": {"email": email, "firstName": "Ada", "lastName": "Lovelace"},
                "billingAddress": {"streetAddress": "s", "city": "c", "country": "NL", "postalCode": null},
                "items": [{"sku": "MACBOOK-PRO-16-M3", "quantity": 2.0, "contractLength": 24.0}]
            })
        };
        // Extension and upgrade records keep the OpenAPI fields only, texts trimmed, the amount
        // with the currency's decimals; whole numbers written as 24.0 are integers.
        let mut ext = base("ext@example.com");
        ext["orderType"] = json!("extension");
        ext["extensionDetails"] = json!({"originalOrderId": " ord_1 ", "extensionMonths": 6,
            "previousEndDate": "2026-01-31", "newEndDate": "2026-07-31", "extra": true});
        let (s, b) = app.post("/v1/orders", ext).await;
        assert_eq!(s, 201, "{b}");
        let o = &b["order"];
        assert_eq!(o["orderType"], "extension");
        assert_eq!(
            o["extensionDetails"],
            json!({"originalOrderId": "ord_1", "extensionMonths": 6,
                "previousEndDate": "2026-01-31", "newEndDate": "2026-07-31"})
        );
        assert_eq!(
            (&o["items"][0]["quantity"], &o["items"][0]["contractLength"]),
            (&json!(2), &json!(24))
        );
        assert!(o["billingAddress"].get("postalCode").is_none(), "{o}");
        let mut up = base("up@example.com");
        up["orderType"] = json!("upgrade");
        up["upgradeDetails"] = json!({"previousDevice": "MacBook Air", "previousSerialNumber": "S-9",
            "previousMonthlyAmount": 89.5, "previousRentalId": "sub_1", "upgradeReason": "faster"});
        let (s, b) = app.post("/v1/orders", up).await;
        assert_eq!(s, 201, "{b}");
        let d = &b["order"]["upgradeDetails"];
        assert_eq!(d["previousMonthlyAmount"].to_string(), "89.50");
        assert_eq!(d["upgradeReason"], "faster");
        let id = b["orderId"].as_str().unwrap().to_string();
        let (_, o) = app.get(&format!("/v1/orders/{id}")).await;
        assert_eq!(&o["upgradeDetails"], d);

        // Wrong types in the details are validation errors, not stored documents.
        let mut bad = base("bad@example.com");
        bad["extensionDetails"] = json!({"originalOrderId": 7, "extensionMonths": "6",
            "previousEndDate": "2026-01-31"});
        bad["upgradeDetails"] = json!({"previousDevice": "x", "previousSerialNumber": "y",
            "previousMonthlyAmount": "89", "previousRentalId": "z"});
        bad["items"][0]["contractLength"] = json!(12.5);
        let (s, b) = app.post("/v1/orders", bad).await;
        assert_eq!(s, 400, "{b}");
        let mut paths: Vec<&str> = b["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            vec![
                "extensionDetails.extensionMonths",
                "extensionDetails.newEndDate",
                "extensionDetails.originalOrderId",
                "items[0].contractLength",
                "upgradeDetails.previousMonthlyAmount",
            ]
        );
    }
);
