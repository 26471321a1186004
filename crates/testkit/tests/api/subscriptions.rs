//! Fulfilment and subscriptions (SPEC §2.6, §4.2–§4.4).

use flexportal_testkit::{TestApp, both_engines, examples};
use serde_json::{Value, json};

/// A product `P-1` at 89.00 for 12 months (cost 1000.00, list 1999.00), `n` assets `S-1…`, and a
/// pending order of `qty` units for `email`. Returns the order id.
pub async fn setup(app: &TestApp, n: usize, qty: i64, email: &str) -> String {
    if app.get("/v1/products/variants?sku=P-1").await.1["count"] == 0 {
        app.post("/v1/products", json!({
            "productSku": "P", "name": "Laptop", "specification": "s", "category": "Laptops", "brand": "B",
            "variants": [{"variantSku": "P-1", "variantName": "Base", "grade": "A", "listPrice": 1999.0, "acquisitionCost": 1000.0,
                "pricing": [{"contractLength": 12, "monthlyPrice": 89.0}, {"contractLength": 24, "monthlyPrice": 59.0}]}]
        })).await;
        app.post("/v1/products", json!({
            "productSku": "Q", "name": "Chair", "specification": "s", "category": "Furniture", "brand": "B",
            "variants": [{"variantSku": "Q-1", "variantName": "Base", "grade": "A", "pricing": [{"contractLength": 12, "monthlyPrice": 10.0}]}]
        })).await;
    }
    for i in 1..=n {
        app.post(
            "/v1/assets",
            json!({"serialNumber": format!("S-{i}"), "sku": "P-1"}),
        )
        .await;
    }
    let (s, b) = app.post("/v1/orders", json!({
        "customer": {"email": email, "firstName": "Emma", "lastName": "Larsson"},
        "billingAddress": {"streetAddress": "Storgatan 15", "city": "Stockholm", "country": "Sweden"},
        "items": [{"sku": "P-1", "quantity": qty, "contractLength": 12}]
    })).await;
    assert_eq!(s, 201, "{b}");
    b["orderId"].as_str().unwrap().to_string()
}

/// A subscription of 12 × 89.00 of `P-1` on a new asset `serial`, started on `start` (the clock
/// is left there). Returns the rental id.
pub async fn rental(app: &TestApp, serial: &str, start: &str) -> String {
    app.set_date(start, 9);
    let order = setup(app, 0, 1, &format!("{serial}@example.com")).await;
    let (s, _) = app
        .post("/v1/assets", json!({"serialNumber": serial, "sku": "P-1"}))
        .await;
    assert_eq!(s, 201);
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": serial}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["rentalId"].as_str().unwrap().to_string()
}

/// The payments of a rental by due date (at most 100).
pub async fn rental_payments(app: &TestApp, rental: &str) -> Vec<Value> {
    let (s, b) = app
        .get(&format!(
            "/v1/payments?rentalId={rental}&sortBy=dueDate&sortDir=asc&limit=100"
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    b["payments"].as_array().unwrap().clone()
}

fn dates(payments: &Value, field: &str) -> Vec<String> {
    payments
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[field].as_str().unwrap().to_string())
        .collect()
}

both_engines!(standard_twelve_month_schedule, |app: TestApp| async move {
    app.set_date("2025-01-01", 9);
    let order = setup(&app, 1, 1, "emma@example.com").await;
    let ex = examples("createSubscription");
    let mut body = ex[0].clone();
    body["orderId"] = json!(order);
    body["assetSerialNumber"] = json!("S-1");
    body.as_object_mut().unwrap().remove("customerId");
    let (s, b) = app.post("/v1/subscriptions", body).await;
    assert_eq!(s, 201, "{b}");
    let r = &b["rental"];
    let rental = b["rentalId"].as_str().unwrap().to_string();
    assert_eq!(r["rentalId"], rental.as_str());
    assert_eq!(r["status"], "active");
    assert_eq!(
        (r["startDate"].as_str(), r["endDate"].as_str()),
        (Some("2025-01-01"), Some("2025-12-31"))
    );
    assert_eq!(
        (
            r["contractLength"].as_i64(),
            r["originalContractLength"].as_i64()
        ),
        (Some(12), Some(12))
    );
    assert_eq!(r["monthlyAmount"].to_string(), "89.00");
    assert_eq!(r["nextBillingDate"], "2025-02-01");
    assert_eq!(r["customerName"], "Emma Larsson");
    assert_eq!(r["acquisitionCost"].to_string(), "1000.00");
    assert_eq!(r["acquisitionCostSource"], "variant");
    assert_eq!(r["listPriceSource"], "variant");
    assert_eq!(r["recoveryStatus"], "recovering");
    assert_eq!(r["breakevenMonths"].to_string(), "11.2");
    assert_eq!(r["costRecovery"]["breakevenMonth"], 12);
    assert_eq!(
        r["costRecovery"]["projectedTotalCollection"].to_string(),
        "1068.00"
    );
    // The schedule (SPEC §4.2).
    let (_, p) = app
        .get(&format!(
            "/v1/payments?rentalId={rental}&sortBy=dueDate&sortDir=asc"
        ))
        .await;
    assert_eq!(p["success"], true);
    assert_eq!(p["count"], 12);
    let expected: Vec<String> = (1..=12).map(|m| format!("2025-{m:02}-01")).collect();
    assert_eq!(dates(&p["payments"], "dueDate"), expected);
    let periods: Vec<String> = (1..=12).map(|m| format!("2025-{m:02}")).collect();
    assert_eq!(dates(&p["payments"], "billingPeriod"), periods);
    let first = &p["payments"][0];
    assert_eq!(first["idempotencyKey"], format!("{rental}:2025-01"));
    assert_eq!(
        (first["status"].as_str(), first["paymentType"].as_str()),
        (Some("pending"), Some("individual"))
    );
    assert_eq!(first["total"].to_string(), "89.00");
    assert_eq!(first["taxAmount"].to_string(), "0.00");
    // Side effects: asset, order, customer.
    let (_, a) = app.get("/v1/assets/S-1").await;
    assert_eq!(
        (a["status"].as_str(), a["rentalId"].as_str()),
        (Some("rented_out"), Some(rental.as_str()))
    );
    let (_, o) = app.get(&format!("/v1/orders/{order}")).await;
    assert_eq!(o["status"], "fulfilled");
    assert_eq!(o["items"][0]["rentalStatus"], "completed");
    assert_eq!(o["rentalIds"], json!([rental]));
    let cust = r["customerId"].as_str().unwrap();
    let (_, c) = app.get(&format!("/v1/customers/{cust}")).await;
    assert_eq!(
        (
            c["totalDevicesRented"].as_i64(),
            c["totalMonthlyRevenue"].to_string()
        ),
        (Some(1), "89.00".to_string())
    );
    assert_eq!(c["rentalIds"], json!([rental]));
    // nextBillingDate moves with today.
    app.set_date("2025-03-15", 12);
    let (_, r) = app.get(&format!("/v1/subscriptions/{rental}")).await;
    assert_eq!(r["nextBillingDate"], "2025-04-01");
    assert_eq!(r["actualMonthsRented"], 3);
    app.set_date("2025-12-01", 12);
    let (_, r) = app.get(&format!("/v1/subscriptions/{rental}")).await;
    assert!(r.get("nextBillingDate").is_none());
    // The asset is in use now; the order cannot be cancelled.
    let (s, b) = app
        .put("/v1/assets/S-1", json!({"status": "available"}))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (409, Some("ASSET_IN_USE"))
    );
    let (s, b) = app
        .post(&format!("/v1/orders/{order}/cancel"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ORDER_NOT_CANCELLABLE"))
    );
    // Notes.
    for body in examples("updateSubscriptionNotes") {
        let (s, b) = app
            .call_as(
                &app.tenant,
                "PATCH",
                &format!("/v1/subscriptions/{rental}/notes"),
                Some(body),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["rentalId"].as_str()),
            (200, Some(rental.as_str()))
        );
    }
    let (_, r) = app.get(&format!("/v1/subscriptions/{rental}")).await;
    assert_eq!(
        r["notes"],
        "Customer prefers email communication only. Delivery scheduled for morning slots."
    );
});

both_engines!(fulfilment_checks_in_order, |app: TestApp| async move {
    app.set_date("2025-01-10", 9);
    let order = setup(&app, 3, 2, "a@example.com").await;
    let other = setup(&app, 0, 1, "b@example.com").await;
    app.post("/v1/assets", json!({"serialNumber": "CH-1", "sku": "Q-1"}))
        .await;
    app.post(
        "/v1/assets",
        json!({"serialNumber": "OFF-1", "sku": "P-1", "status": "unavailable"}),
    )
    .await;
    let (_, o) = app.get(&format!("/v1/orders/{order}")).await;
    let customer = o["customer"]["customerId"].as_str().unwrap().to_string();
    let cases = [
        (json!({"assetSerialNumber": "S-1"}), "VALIDATION_ERROR"),
        (
            json!({"orderId": "ord_nope", "assetSerialNumber": "S-1"}),
            "ORDER_NOT_FOUND",
        ),
        (
            json!({"orderId": order, "assetSerialNumber": "S-1", "customerId": "cust_other"}),
            "CUSTOMER_MISMATCH",
        ),
        (
            json!({"orderId": order, "assetSerialNumber": "NOPE"}),
            "ASSET_NOT_FOUND",
        ),
        (
            json!({"orderId": order, "assetSerialNumber": "OFF-1"}),
            "ASSET_NOT_AVAILABLE",
        ),
        (
            json!({"orderId": order, "assetSerialNumber": "CH-1"}),
            "SKU_MISMATCH",
        ),
        (
            json!({"orderId": order, "assetSerialNumber": "S-1", "contractLength": 36}),
            "INVALID_CONTRACT_LENGTH",
        ),
        (
            json!({"orderId": order, "assetSerialNumber": "S-1", "orderItemIndex": 3}),
            "VALIDATION_ERROR",
        ),
        (
            json!({"orderId": order, "assetSerialNumber": "S-1", "startDate": "soon"}),
            "VALIDATION_ERROR",
        ),
    ];
    for (body, code) in cases {
        let (s, b) = app.post("/v1/subscriptions", body.clone()).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    let (_, l) = app.get("/v1/subscriptions").await;
    assert_eq!(l["count"], 0, "failures create nothing");
    let (_, a) = app.get("/v1/assets/S-1").await;
    assert_eq!(a["status"], "available");
    // First unit → partial; alias serialNumber, contract override priced from its tier.
    let (s, b) = app.post("/v1/subscriptions", json!({"orderId": order, "serialNumber": "S-1", "customerId": customer, "contractLength": 24, "startDate": "2025-02-01T00:00:00Z"})).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["rental"]["monthlyAmount"].to_string(), "59.00");
    assert_eq!(
        (
            b["rental"]["startDate"].as_str(),
            b["rental"]["endDate"].as_str()
        ),
        (Some("2025-02-01"), Some("2027-01-31"))
    );
    let (_, o) = app.get(&format!("/v1/orders/{order}")).await;
    assert_eq!(
        (o["status"].as_str(), o["items"][0]["rentalStatus"].as_str()),
        (Some("partial"), Some("partial"))
    );
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": "S-1"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ASSET_NOT_AVAILABLE"))
    );
    let (s, _) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": "S-2"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": "S-3"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ITEM_FULLY_FULFILLED"))
    );
    // A cancelled order cannot be fulfilled.
    app.post(&format!("/v1/orders/{other}/cancel"), json!({}))
        .await;
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": other, "assetSerialNumber": "S-3"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ORDER_NOT_CONFIRMED"))
    );
    // Lists and filters.
    let (_, l) = app
        .get(&format!(
            "/v1/subscriptions?orderId={order}&sortBy=monthlyAmount&sortDir=asc"
        ))
        .await;
    assert_eq!(l["count"], 2);
    assert_eq!(l["rentals"][0]["monthlyAmount"].to_string(), "59.00");
    assert!(l["rentals"][0]["costRecovery"].is_object());
    for (q, n) in [
        ("status=active", 2),
        ("status=ended", 0),
        ("serialNumber=S-2", 1),
        (&format!("customerId={customer}"), 2),
        ("startDateFrom=2025-02-01", 1),
        ("endDateTo=2025-12-31", 0),
        ("sku=P-1", 2),
    ] {
        let (s, l) = app.get(&format!("/v1/subscriptions?{q}")).await;
        assert_eq!((s.as_u16(), l["count"].as_i64()), (200, Some(n)), "{q}");
    }
    let (s, _) = app.get("/v1/subscriptions?status=extended").await;
    assert_eq!(s, 400);
    let (s, _) = app.get("/v1/subscriptions/sub_nope").await;
    assert_eq!(s, 404);
});

both_engines!(
    billing_modes_follow_the_settings,
    |app: TestApp| async move {
        app.set_date("2025-01-20", 9);
        // Fixed day 1 with a pro-rated first month (SPEC §4.4).
        app.set_settings(&app.tenant, json!({"payments": {"billingCycle": "fixed_day", "dayOfMonth": 1, "firstPayment": "pro_rated"}})).await;
        let order = setup(&app, 3, 3, "m@example.com").await;
        let (_, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "S-1"}),
            )
            .await;
        let r = &b["rental"];
        assert_eq!(r["endDate"], "2026-01-31");
        let (_, p) = app
            .get(&format!(
                "/v1/payments?rentalId={}&sortBy=dueDate&sortDir=asc",
                b["rentalId"].as_str().unwrap()
            ))
            .await;
        assert_eq!(p["count"], 13);
        assert_eq!(
            (
                p["payments"][0]["dueDate"].as_str(),
                p["payments"][0]["total"].to_string()
            ),
            (Some("2025-01-20"), "34.45".to_string())
        );
        assert_eq!(p["payments"][1]["dueDate"], "2025-02-01");
        // billingStartOption first_of_next_month overrides the settings.
        let (_, b) = app.post("/v1/subscriptions", json!({"orderId": order, "assetSerialNumber": "S-2", "billingStartOption": "first_of_next_month"})).await;
        let (_, p) = app
            .get(&format!(
                "/v1/payments?rentalId={}&sortBy=dueDate&sortDir=asc",
                b["rentalId"].as_str().unwrap()
            ))
            .await;
        assert_eq!(p["count"], 12);
        assert_eq!(p["payments"][0]["dueDate"], "2025-02-01");
        // Collected externally: the first charge is created paid and counts as collected.
        app.set_settings(&app.tenant, json!({"payments": {"firstPayment": "collected_externally", "paymentTerms": "net_30"}, "taxes": {"vatEnabled": true, "defaultRate": 21}})).await;
        let (_, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "S-3"}),
            )
            .await;
        assert_eq!(b["rental"]["totalCollected"].to_string(), "89.00");
        let (_, p) = app
            .get(&format!(
                "/v1/payments?rentalId={}&status=paid",
                b["rentalId"].as_str().unwrap()
            ))
            .await;
        assert_eq!(p["count"], 1);
        let paid = &p["payments"][0];
        assert_eq!(
            (paid["manuallyMarked"].as_bool(), paid["dueDate"].as_str()),
            (Some(true), Some("2025-01-20")),
            "individual: no payment terms"
        );
        assert_eq!(
            (
                paid["subtotal"].to_string(),
                paid["taxAmount"].to_string(),
                paid["total"].to_string()
            ),
            ("89.00".into(), "18.69".into(), "107.69".into())
        );
        assert_eq!(paid["taxRate"].to_string(), "21");
        let (_, a) = app.get("/v1/assets/S-3").await;
        assert_eq!(a["lifetimeCollected"].to_string(), "89.00");
    }
);

both_engines!(
    concurrent_fulfilments_have_one_winner,
    |app: TestApp| async move {
        app.set_date("2025-01-10", 9);
        // The same asset for two orders.
        let a = setup(&app, 1, 1, "x@example.com").await;
        let b = setup(&app, 0, 1, "y@example.com").await;
        let (r1, r2) = tokio::join!(
            app.post(
                "/v1/subscriptions",
                json!({"orderId": a, "assetSerialNumber": "S-1"})
            ),
            app.post(
                "/v1/subscriptions",
                json!({"orderId": b, "assetSerialNumber": "S-1"})
            ),
        );
        let mut statuses = [r1.0.as_u16(), r2.0.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 400]);
        let loser = if r1.0 == 201 { &r2.1 } else { &r1.1 };
        assert_eq!(loser["error"]["code"], "ASSET_NOT_AVAILABLE");
        // The last unit of an order with two assets.
        let c = setup(&app, 0, 1, "z@example.com").await;
        app.post("/v1/assets", json!({"serialNumber": "T-1", "sku": "P-1"}))
            .await;
        app.post("/v1/assets", json!({"serialNumber": "T-2", "sku": "P-1"}))
            .await;
        let (r1, r2) = tokio::join!(
            app.post(
                "/v1/subscriptions",
                json!({"orderId": c, "assetSerialNumber": "T-1"})
            ),
            app.post(
                "/v1/subscriptions",
                json!({"orderId": c, "assetSerialNumber": "T-2"})
            ),
        );
        let mut statuses = [r1.0.as_u16(), r2.0.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 400]);
        let loser = if r1.0 == 201 { &r2.1 } else { &r1.1 };
        assert_eq!(loser["error"]["code"], "ITEM_FULLY_FULFILLED");
        let (_, l) = app.get(&format!("/v1/subscriptions?orderId={c}")).await;
        assert_eq!(l["count"], 1);
        let (_, l) = app.get("/v1/assets?status=available").await;
        assert_eq!(l["count"], 1, "the losing asset stays available");
        let (_, o) = app.get(&format!("/v1/orders/{c}")).await;
        assert_eq!(o["rentalProgress"]["rentedDevices"], 1);
    }
);

both_engines!(setup_fees_and_id_prefixes, |app: TestApp| async move {
    app.set_date("2025-03-01", 9);
    app.set_settings(&app.tenant, json!({"general": {"idPrefix": "ELE"}}))
        .await;
    app.post("/v1/products", json!({
        "productSku": "F", "name": "Fridge", "specification": "s", "category": "Appliances", "brand": "B",
        "variants": [{"variantSku": "F-1", "variantName": "White", "grade": "A",
            "pricing": [{"contractLength": 6, "monthlyPrice": 20.0, "setupFee": 49.0}]}]
    })).await;
    app.post("/v1/assets", json!({"serialNumber": "FR-1", "sku": "F-1"}))
        .await;
    let (_, o) = app
        .post(
            "/v1/orders",
            json!({
                "customer": {"email": "f@example.com", "firstName": "F", "lastName": "G"},
                "billingAddress": {"streetAddress": "s", "city": "c", "country": "NL"},
                "items": [{"sku": "F-1", "quantity": 1}]
            }),
        )
        .await;
    let order = o["orderId"].as_str().unwrap();
    assert!(order.starts_with("ELE-ord_"), "{order}");
    assert!(
        o["order"]["customer"]["customerId"]
            .as_str()
            .unwrap()
            .starts_with("ELE-cust_")
    );
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": "FR-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let rental = b["rentalId"].as_str().unwrap();
    assert!(rental.starts_with("ELE-sub_"));
    // Six monthly charges plus a one-off setup fee on the start date, which is no contract month.
    let (_, p) = app.get(&format!("/v1/payments?rentalId={rental}")).await;
    assert_eq!(p["count"], 7);
    let fee = p["payments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["idempotencyKey"] == format!("{rental}:setup"))
        .unwrap();
    assert_eq!(
        (fee["total"].to_string(), fee["dueDate"].as_str()),
        ("49.00".to_string(), Some("2025-03-01"))
    );
    assert_eq!(fee["lineItems"][0]["description"], "Setup fee");
    assert_eq!(b["rental"]["costRecovery"]["monthsRemaining"], 5);
    assert_eq!(b["rental"]["endDate"], "2025-08-31");
});
