//! Payments (SPEC §2.7) and the cost recovery they drive (SPEC §2.13, §4.1).

use flexportal_testkit::{TestApp, both_engines, examples};
use serde_json::json;

both_engines!(mark_paid_drives_cost_recovery, |app: TestApp| async move {
    app.set_date("2025-01-01", 9);
    let order = crate::subscriptions::setup(&app, 1, 1, "pay@example.com").await;
    let (_, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": "S-1"}),
        )
        .await;
    let rental = b["rentalId"].as_str().unwrap().to_string();
    let customer = b["rental"]["customerId"].as_str().unwrap().to_string();
    let (_, p) = app
        .get(&format!(
            "/v1/payments?rentalId={rental}&sortBy=dueDate&sortDir=asc"
        ))
        .await;
    let ids: Vec<String> = p["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["paymentId"].as_str().unwrap().to_string())
        .collect();
    app.set_date("2025-01-15", 11);
    let ex = examples("markPaymentPaid");
    let (s, b) = app
        .post(&format!("/v1/payments/{}/mark-paid", ids[0]), ex[0].clone())
        .await;
    assert_eq!(s, 200, "{b}");
    let paid = &b["payment"];
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paymentReference"], "WIRE-2025-001234");
    assert_eq!(paid["paidAt"], "2025-01-15T10:30:00.000Z");
    assert_eq!(paid["notes"], "Received via bank transfer");
    assert_eq!(
        (paid["manuallyMarked"].as_bool(), paid["markedBy"].as_str()),
        (
            Some(true),
            Some(format!("apikey:{}", app.tenant.key_id).as_str())
        )
    );
    // SPEC §4.1 row 2025-01-15: 89.00 collected → 8.9 %, −911.00.
    let (_, r) = app.get(&format!("/v1/subscriptions/{rental}")).await;
    assert_eq!(r["totalCollected"].to_string(), "89.00");
    assert_eq!(r["costRecoveryPercent"].to_string(), "8.9");
    assert_eq!(r["currentProfit"].to_string(), "-911.00");
    assert_eq!(r["recoveryStatus"], "recovering");
    assert_eq!(r["hasReachedBreakeven"], false);
    assert_eq!(
        r["costRecovery"]["projectedTotalCollection"].to_string(),
        "1068.00"
    );
    assert_eq!(r["costRecovery"]["monthsRemaining"], 11);
    let (_, c) = app.get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(c["lifetimeCollected"].to_string(), "89.00");
    assert_eq!(c["customerMargin"].to_string(), "-911.00");
    let (_, a) = app.get("/v1/assets/S-1").await;
    assert_eq!(
        (
            a["lifetimeCollected"].to_string(),
            a["costRecoveryPercent"].to_string()
        ),
        ("89.00".into(), "8.9".into())
    );
    // Paying all twelve → 1068.00, 106.8 %, profitable.
    for id in &ids[1..] {
        let (s, _) = app
            .post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
            .await;
        assert_eq!(s, 200);
    }
    let (_, r) = app.get(&format!("/v1/subscriptions/{rental}")).await;
    assert_eq!(
        (
            r["totalCollected"].to_string(),
            r["costRecoveryPercent"].to_string()
        ),
        ("1068.00".into(), "106.8".into())
    );
    assert_eq!(
        (
            r["recoveryStatus"].as_str(),
            r["hasReachedBreakeven"].as_bool()
        ),
        (Some("profitable"), Some(true))
    );
    assert!(r.get("nextBillingDate").is_none(), "no open charge left");
    // Preconditions.
    let (s, b) = app
        .post(&format!("/v1/payments/{}/mark-paid", ids[0]), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ALREADY_PAID"))
    );
    let (s, b) = app
        .post(
            &format!("/v1/payments/{}/cancel", ids[0]),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ALREADY_PAID"))
    );
    let (s, _) = app.post("/v1/payments/pay_nope/mark-paid", json!({})).await;
    assert_eq!(s, 404);
});

both_engines!(cancel_and_list_payments, |app: TestApp| async move {
    app.set_date("2025-01-01", 9);
    let order = crate::subscriptions::setup(&app, 1, 1, "c@example.com").await;
    let (_, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": "S-1"}),
        )
        .await;
    let rental = b["rentalId"].as_str().unwrap().to_string();
    let (_, p) = app
        .get(&format!(
            "/v1/payments?rentalId={rental}&sortBy=dueDate&sortDir=asc"
        ))
        .await;
    let last = p["payments"][11]["paymentId"].as_str().unwrap().to_string();
    let (s, b) = app
        .post(&format!("/v1/payments/{last}/cancel"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["details"][0]["path"].as_str()),
        (400, Some("reason"))
    );
    let (s, b) = app
        .post(
            &format!("/v1/payments/{last}/cancel"),
            examples("cancelPayment")[0].clone(),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["payment"]["status"], "cancelled");
    assert_eq!(
        b["payment"]["notes"],
        "Cancelled: Subscription ended early - customer relocated"
    );
    let (s, b) = app
        .post(
            &format!("/v1/payments/{last}/cancel"),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ALREADY_CANCELLED"))
    );
    let (s, b) = app
        .post(&format!("/v1/payments/{last}/mark-paid"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("PAYMENT_CANCELLED"))
    );
    let first = p["payments"][0]["paymentId"].as_str().unwrap();
    let (s, b) = app
        .post(
            &format!("/v1/payments/{first}/mark-paid"),
            json!({"paidAt": "2025-01-03T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["details"][0]["path"].as_str()),
        (400, Some("paidAt")),
        "more than a day ahead"
    );
    let (s, _) = app
        .post(
            &format!("/v1/payments/{first}/mark-paid"),
            json!({"paidAt": "yesterday"}),
        )
        .await;
    assert_eq!(s, 400);
    let (_, r) = app.get(&format!("/v1/subscriptions/{rental}")).await;
    assert_eq!(
        r["costRecovery"]["projectedTotalCollection"].to_string(),
        "979.00",
        "the cancelled charge is gone"
    );
    for (q, n) in [
        ("status=cancelled".to_string(), 1),
        ("status=pending".to_string(), 11),
        (
            format!("rentalId={rental}&dueDateFrom=2025-03-01&dueDateTo=2025-05-01"),
            3,
        ),
        (
            format!("customerId={}", r["customerId"].as_str().unwrap()),
            12,
        ),
    ] {
        let (s, l) = app.get(&format!("/v1/payments?{q}")).await;
        assert_eq!((s.as_u16(), l["count"].as_i64()), (200, Some(n)), "{q}");
    }
    let (_, g) = app.get(&format!("/v1/payments/{first}")).await;
    assert_eq!(
        (g["success"].as_bool(), g["payment"]["paymentId"].as_str()),
        (Some(true), Some(first))
    );
    assert_eq!(
        g["payment"]["lineItems"][0]["description"],
        "Laptop - Base 2025-01"
    );
    for q in ["status=overdue", "dueDateFrom=2025-13-01", "sortBy=amount"] {
        let (s, _) = app.get(&format!("/v1/payments?{q}")).await;
        assert_eq!(s, 400, "{q}");
    }
    // Walk every payment page by page.
    let mut seen = std::collections::HashSet::new();
    let mut url = "/v1/payments?limit=5".to_string();
    loop {
        let (_, l) = app.get(&url).await;
        for p in l["payments"].as_array().unwrap() {
            assert!(seen.insert(p["paymentId"].as_str().unwrap().to_string()));
        }
        match l["nextCursor"].as_str() {
            Some(c) => url = format!("/v1/payments?limit=5&startAfter={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 12);
});

both_engines!(rental_routes_are_isolated, |app: TestApp| async move {
    app.set_date("2025-01-01", 9);
    let order = crate::subscriptions::setup(&app, 1, 1, "iso@example.com").await;
    let (_, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": "S-1"}),
        )
        .await;
    let rental = b["rentalId"].as_str().unwrap().to_string();
    let (_, p) = app.get(&format!("/v1/payments?rentalId={rental}")).await;
    let payment = p["payments"][0]["paymentId"].as_str().unwrap().to_string();
    let other = app.new_tenant("USD").await;
    for (method, path, body) in [
        ("GET", format!("/v1/orders/{order}"), None),
        (
            "PATCH",
            format!("/v1/orders/{order}/notes"),
            Some(json!({"notes": "x"})),
        ),
        (
            "POST",
            format!("/v1/orders/{order}/cancel"),
            Some(json!({})),
        ),
        ("GET", format!("/v1/subscriptions/{rental}"), None),
        (
            "PATCH",
            format!("/v1/subscriptions/{rental}/notes"),
            Some(json!({"notes": "x"})),
        ),
        ("GET", format!("/v1/payments/{payment}"), None),
        (
            "POST",
            format!("/v1/payments/{payment}/mark-paid"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("/v1/payments/{payment}/cancel"),
            Some(json!({"reason": "x"})),
        ),
    ] {
        let (s, b) = app.call_as(&other, method, &path, body).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (404, Some("NOT_FOUND")),
            "{method} {path}"
        );
    }
    for path in [
        "/v1/orders",
        "/v1/subscriptions",
        "/v1/payments",
        &format!("/v1/payments?rentalId={rental}"),
    ] {
        let (_, l) = app.call_as(&other, "GET", path, None).await;
        assert_eq!(l["count"], 0, "{path}");
    }
    let (s, b) = app
        .call_as(
            &other,
            "POST",
            "/v1/subscriptions",
            Some(json!({"orderId": order, "assetSerialNumber": "S-1"})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("ORDER_NOT_FOUND"))
    );
    let (_, pay) = app.get(&format!("/v1/payments/{payment}")).await;
    assert_eq!(pay["payment"]["status"], "pending", "untouched");
});

both_engines!(
    concurrent_payments_never_lose_collected_income,
    |app: TestApp| async move {
        app.set_date("2025-01-01", 9);
        let order = crate::subscriptions::setup(&app, 1, 1, "con@example.com").await;
        let (_, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "S-1"}),
            )
            .await;
        let rental = b["rentalId"].as_str().unwrap().to_string();
        let (_, p) = app.get(&format!("/v1/payments?rentalId={rental}")).await;
        let ids: Vec<String> = p["payments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["paymentId"].as_str().unwrap().to_string())
            .collect();
        let urls: Vec<String> = ids
            .iter()
            .map(|id| format!("/v1/payments/{id}/mark-paid"))
            .collect();
        let paid = |i: usize| app.post(&urls[i], json!({}));
        let (a, b, c, d) = tokio::join!(paid(0), paid(1), paid(2), paid(3));
        assert!([a.0, b.0, c.0, d.0].iter().all(|s| *s == 200));
        // The same payment twice at once: exactly one succeeds.
        let (e, f) = tokio::join!(paid(4), paid(4));
        let mut statuses = [e.0.as_u16(), f.0.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 400]);
        let (_, r) = app.get(&format!("/v1/subscriptions/{rental}")).await;
        assert_eq!(r["totalCollected"].to_string(), "445.00");
        let (_, a) = app.get("/v1/assets/S-1").await;
        assert_eq!(a["lifetimeCollected"].to_string(), "445.00");
        let (_, c) = app
            .get(&format!(
                "/v1/customers/{}",
                r["customerId"].as_str().unwrap()
            ))
            .await;
        assert_eq!(c["lifetimeCollected"].to_string(), "445.00");
    }
);

both_engines!(
    income_goes_to_the_asset_held_on_the_billing_date,
    |app: TestApp| async move {
        app.set_date("2025-01-01", 9);
        let order = crate::subscriptions::setup(&app, 2, 1, "held@example.com").await;
        let (_, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "S-1"}),
            )
            .await;
        let rental = b["rentalId"].as_str().unwrap().to_string();
        // The rental swaps S-1 for S-2 on 2025-03-10 (as a device replacement records it).
        let tenant = app.tenant.tenant_id.clone();
        let mut tx = app.app().db.begin().await.unwrap();
        assert!(
            flexportal_store::assignments::close(&mut tx, &tenant, &rental, "S-1", "2025-03-10")
                .await
                .unwrap()
        );
        flexportal_store::assignments::open(&mut tx, &tenant, &rental, "S-2", "2025-03-10", 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (_, p) = app
            .get(&format!(
                "/v1/payments?rentalId={rental}&sortBy=dueDate&sortDir=asc&limit=5"
            ))
            .await;
        let by_date = |d: &str| {
            p["payments"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["billingDate"] == d)
                .unwrap()["paymentId"]
                .as_str()
                .unwrap()
                .to_string()
        };
        // February's charge was billed while S-1 was held, April's after the swap.
        for id in [by_date("2025-02-01"), by_date("2025-04-01")] {
            let (s, b) = app
                .post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
                .await;
            assert_eq!(s, 200, "{b}");
        }
        let (_, a1) = app.get("/v1/assets/S-1").await;
        let (_, a2) = app.get("/v1/assets/S-2").await;
        assert_eq!(a1["lifetimeCollected"].to_string(), "89.00", "{a1}");
        assert_eq!(a2["lifetimeCollected"].to_string(), "89.00", "{a2}");
    }
);
