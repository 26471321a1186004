//! Cost recovery at every level (SPEC §2.13, the worked examples of §4.10) and the portfolio
//! report (`GET /v1/reports/portfolio`).

use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

/// A product `sku` with one variant (list 1 999.00 and cost `cost`, or neither) and its prices.
async fn product(app: &TestApp, sku: &str, cost: Option<f64>, prices: &[(i64, f64)]) {
    let pricing: Vec<Value> = prices
        .iter()
        .map(|(m, p)| json!({"contractLength": m, "monthlyPrice": p}))
        .collect();
    let mut variant = json!({"variantSku": format!("{sku}-1"), "variantName": "Base", "grade": "A",
        "pricing": pricing});
    // Without a cost there is no list price either: the subscription's cost snapshot would fall
    // back to it (SPEC §2.6.1).
    if let Some(c) = cost {
        variant["acquisitionCost"] = json!(c);
        variant["listPrice"] = json!(1999.0);
    }
    let (s, b) = app
        .post(
            "/v1/products",
            json!({"productSku": sku, "name": sku, "specification": "s", "category": "Laptops",
                "brand": "B", "variants": [variant]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// An order of `qty` × `sku` for `email` at `months`, and its subscriptions on new assets
/// `<serial>-<i>` (or on the existing asset `serial` when `qty` is 1 and it exists) started on
/// `start` (the clock is left there). Returns the rental ids.
async fn rent(
    app: &TestApp,
    email: &str,
    sku: &str,
    months: i64,
    qty: i64,
    serial: &str,
    start: &str,
) -> Vec<String> {
    app.set_date(start, 9);
    let (s, b) = app
        .post(
            "/v1/orders",
            json!({"customer": {"email": email, "firstName": "Eva", "lastName": "Berg"},
                "billingAddress": {"streetAddress": "Main 1", "city": "Oslo", "country": "NO"},
                "items": [{"sku": sku, "quantity": qty, "contractLength": months}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let order = b["orderId"].as_str().unwrap().to_string();
    let mut out = Vec::new();
    for i in 0..qty {
        let serial = if qty == 1 {
            serial.to_string()
        } else {
            format!("{serial}-{i}")
        };
        if app.get(&format!("/v1/assets/{serial}")).await.0 == 404 {
            let (s, b) = app
                .post("/v1/assets", json!({"serialNumber": serial, "sku": sku}))
                .await;
            assert_eq!(s, 201, "{b}");
        }
        let (s, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": serial}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        out.push(b["rentalId"].as_str().unwrap().to_string());
    }
    out
}

/// Marks the first `n` charges (by due date) of a rental paid.
async fn pay(app: &TestApp, rental: &str, n: usize) {
    let (s, b) = app
        .get(&format!(
            "/v1/payments?rentalId={rental}&sortBy=dueDate&sortDir=asc&limit=100"
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    let pending = b["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "pending");
    for p in pending.take(n) {
        let id = p["paymentId"].as_str().unwrap();
        let (s, b) = app
            .post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
            .await;
        assert_eq!(s, 200, "{b}");
    }
}

both_engines!(
    catalogue_and_customer_economics_of_spec_4_10,
    |app: TestApp| async move {
        // Breakeven and recovery at the end of a 12-month contract for a 1 000.00 cost.
        product(
            &app,
            "E",
            Some(1000.0),
            &[(12, 75.0), (24, 89.0), (36, 95.0)],
        )
        .await;
        let (_, v) = app.get("/v1/products/variants?sku=E-1").await;
        let variant = &v["variants"][0];
        assert_eq!(variant["marginPercent"].to_string(), "50.0");
        let tiers: Vec<(String, String, bool)> = variant["pricing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["breakevenMonths"].to_string(),
                    t["recoveryAtEndPercent"].to_string(),
                    t["breakevenWarning"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(tiers[0], ("13.3".into(), "90.0".into(), true));
        assert_eq!(tiers[1], ("11.2".into(), "213.6".into(), false));
        assert_eq!(tiers[2], ("10.5".into(), "342.0".into(), false));

        // Customer: three 12 × 100.00 rentals of a 1 200.00 device, all paid, and a 650.00
        // buyout: 4 250.00 collected over 3 600.00 of cost in the 12 months from January.
        product(&app, "C", Some(1200.0), &[(12, 100.0)]).await;
        let r = rent(&app, "cust@example.com", "C-1", 12, 3, "C", "2025-01-01").await;
        for id in &r {
            pay(&app, id, 12).await;
        }
        app.set_date("2025-12-20", 9);
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{}/buyout", r[0]),
                json!({"buyoutPrice": 650}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        pay(&app, &r[0], 13).await;
        let (_, sub) = app.get(&format!("/v1/subscriptions/{}", r[0])).await;
        let customer = sub["customerId"].as_str().unwrap().to_string();
        let (s, c) = app.get(&format!("/v1/customers/{customer}")).await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["lifetimeCollected"].to_string(), "4250.00");
        assert_eq!(c["customerMargin"].to_string(), "650.00");
        assert_eq!(c["customerMarginPercent"].to_string(), "18.06");
        let p = &c["profitability"];
        assert_eq!(p["costRecoveryPercent"].to_string(), "118.06");
        assert_eq!(p["averageMonthlyRevenue"].to_string(), "354.17");
        assert_eq!(p["totalDevicesEver"], 3);

        // Asset lifetime: 12 × 89.00 + 12 × 79.00 + 6 × 69.00 = 2 430.00 on a 1 000.00 asset.
        product(
            &app,
            "L",
            Some(1000.0),
            &[(12, 89.0), (24, 79.0), (36, 69.0)],
        )
        .await;
        for (email, months, start, paid, back) in [
            ("a@example.com", 12, "2023-01-01", 12, "2024-01-01"),
            ("b@example.com", 24, "2024-01-01", 12, "2025-01-01"),
        ] {
            let id = &rent(&app, email, "L-1", months, 1, "L-1", start).await[0];
            pay(&app, id, paid).await;
            app.set_date(back, 9);
            let (s, b) = app
                .post(&format!("/v1/subscriptions/{id}/early-return"), json!({}))
                .await;
            assert_eq!(s, 200, "{b}");
            let (s, b) = app
                .put(
                    "/v1/assets/L-1",
                    json!({"status": "available", "condition": "good"}),
                )
                .await;
            assert_eq!(s, 200, "{b}");
        }
        let id = &rent(&app, "c@example.com", "L-1", 36, 1, "L-1", "2025-01-01").await[0];
        pay(&app, id, 6).await;
        let (_, a) = app.get("/v1/assets/L-1").await;
        assert_eq!(a["lifetimeCollected"].to_string(), "2430.00");
        assert_eq!(a["costRecoveryPercent"].to_string(), "243.0");
        assert_eq!(a["lifetimeValue"].to_string(), "1430.00");
    }
);

both_engines!(portfolio_report, |app: TestApp| async move {
    product(&app, "P", Some(1000.0), &[(12, 89.0)]).await;
    product(&app, "Q", None, &[(12, 10.0)]).await;
    // A profitable (12 paid: 106.8 %), B recovering (6: 53.4 %), C at risk (5: 44.5 % with the
    // contract over), D recovering early (2 of 12 since October: 17.8 %), E without a cost.
    let a = rent(&app, "a@example.com", "P-1", 12, 1, "A", "2025-01-01").await;
    let b = rent(&app, "b@example.com", "P-1", 12, 1, "B", "2025-01-01").await;
    let c = rent(&app, "c@example.com", "P-1", 12, 1, "C", "2025-01-01").await;
    let d = rent(&app, "d@example.com", "P-1", 12, 1, "D", "2025-10-01").await;
    rent(&app, "e@example.com", "Q-1", 12, 1, "E", "2025-12-15").await;
    for (r, n) in [(&a, 12), (&b, 6), (&c, 5), (&d, 2)] {
        pay(&app, &r[0], n).await;
    }
    let (s, r) = app.get("/v1/reports/portfolio?asOf=2025-12-15").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["asOf"], "2025-12-15");
    assert_eq!(r["currency"], "EUR");
    let subs = &r["subscriptions"];
    assert_eq!(subs["active"], 5);
    let status = |k: &str| {
        (
            subs["recoveryStatus"][k]["count"].as_i64().unwrap(),
            subs["recoveryStatus"][k]["share"].to_string(),
        )
    };
    assert_eq!(status("profitable"), (1, "20.0".into()));
    assert_eq!(status("recovering"), (2, "40.0".into()));
    assert_eq!(status("atRisk"), (1, "20.0".into()));
    assert_eq!(status("noData"), (1, "20.0".into()));
    assert_eq!(r["healthScore"], 60);
    // (106.8 + 53.4 + 44.5 + 17.8) ÷ 4 = 55.625.
    assert_eq!(subs["averageCostRecoveryPercent"].to_string(), "55.6");
    assert_eq!(subs["totalUnrecoveredCost"].to_string(), "1843.00");
    assert_eq!(subs["totalProfit"].to_string(), "68.00");
    assert_eq!(
        r["assets"],
        json!({"total": 5, "withCost": 4, "aboveFullRecovery": 1, "atOrBelowHalfRecovery": 2})
    );
    let p = &r["payments"];
    assert_eq!(p["totalIncome"].to_string(), "2225.00");
    assert_eq!(p["outstandingBalance"].to_string(), "2167.00");
    assert_eq!(
        (
            p["paid"].as_i64(),
            p["pending"].as_i64(),
            p["failed"].as_i64()
        ),
        (Some(25), Some(35), Some(0))
    );
    assert_eq!(p["successRate"].to_string(), "41.7");
    assert_eq!(p["failedRate"].to_string(), "0.0");
    assert_eq!(p["averagePaymentValue"].to_string(), "89.00");
    // B and C owe since July and June (> 60 days), D since 1 December; A and E owe nothing due.
    assert_eq!(
        r["collectionStatus"],
        json!({"current": 2, "late": 1, "defaulted": 2})
    );
    // Per product (SPEC §2.13 "Product performance"): P has the four rentals with a cost, each
    // breaking even after 1 000 ÷ 89 = 11.2 months, assets at 106.8, 53.4, 44.5 and 17.8 % (mean
    // 55.625), margin (1 999 − 1 000) ÷ 1 999 = 50.0 %; Q has neither cost nor list price.
    let products = r["products"].as_array().unwrap();
    assert_eq!(products.len(), 2);
    let by_name = |n: &str| products.iter().find(|x| x["productName"] == n).unwrap();
    let pp = by_name("P");
    assert_eq!(pp["activeSubscriptions"], 4);
    assert_eq!(
        pp["recoveryStatus"],
        json!({"profitable": 1, "recovering": 2, "atRisk": 1, "noData": 0})
    );
    assert_eq!(pp["averageBreakevenMonths"].to_string(), "11.2");
    assert_eq!(pp["assets"], 4);
    assert_eq!(pp["averageLifetimeRecoveryPercent"].to_string(), "55.6");
    assert_eq!(pp["marginPercent"].to_string(), "50.0");
    let q = by_name("Q");
    assert_eq!(q["activeSubscriptions"], 1);
    assert_eq!(q["recoveryStatus"]["noData"], 1);
    assert!(q["averageBreakevenMonths"].is_null());
    assert!(q["averageLifetimeRecoveryPercent"].is_null());
    assert!(q["marginPercent"].is_null());
    assert_eq!(q["assets"], 1);

    // The health score of SPEC §2.13: 275 profitable + 180 recovering of 500 gives 91.
    let mut portfolio = flexportal_app::reports::portfolio(
        app.app(),
        &app.context(&app.tenant).await,
        Some("2025-12-15".parse().unwrap()),
    )
    .await
    .unwrap();
    portfolio.active_subscriptions = 500;
    portfolio.status.profitable = 275;
    portfolio.status.recovering = 180;
    assert_eq!(portfolio.health_score(), Some(91));

    let (s, e) = app.get("/v1/reports/portfolio?asOf=2025-13-01").await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].clone()),
        (400, json!("VALIDATION_ERROR"))
    );
    // Another business unit sees none of it.
    let other = app.new_tenant("USD").await;
    let (s, o) = app
        .call_as(&other, "GET", "/v1/reports/portfolio", None)
        .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["subscriptions"]["active"], 0);
    assert!(o["healthScore"].is_null());
    assert_eq!(o["payments"]["totalIncome"].to_string(), "0.00");
    assert_eq!(o["currency"], "USD");
});

both_engines!(
    portfolio_of_extreme_amounts_answers,
    |app: TestApp| async move {
        // Assets that cost 0.01. BIG's two each collected 5 × 10¹⁴ minor units (two paid months
        // of 2.5 trillion): 5 × 10¹⁸ hundredths of a percent each, a sum past the largest BIGINT
        // (SQLite's SUM and PostgreSQL's cast failed: 500). HUGE's one collected 10¹⁵: the
        // product collected × 10 000 itself leaves BIGINT (PostgreSQL failed).
        product(&app, "BIG", Some(0.01), &[(12, 2_500_000_000_000.0)]).await;
        product(&app, "HUGE", Some(0.01), &[(12, 2_500_000_000_000.0)]).await;
        let big = rent(&app, "big@example.com", "BIG-1", 12, 2, "BIG", "2025-01-01").await;
        for r in &big {
            pay(&app, r, 2).await;
        }
        let huge = rent(
            &app,
            "huge@example.com",
            "HUGE-1",
            12,
            1,
            "HUGE",
            "2025-01-01",
        )
        .await;
        pay(&app, &huge[0], 4).await;
        // A product of ordinary amounts beside them.
        product(&app, "FAIR", Some(1000.0), &[(12, 100.0)]).await;
        let fair = rent(
            &app,
            "fair@example.com",
            "FAIR-1",
            12,
            1,
            "FAIR",
            "2025-01-01",
        )
        .await;
        pay(&app, &fair[0], 3).await;
        let (s, b) = app.get("/v1/reports/portfolio").await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["assets"]["total"], 4, "{b}");
        let products = b["products"].as_array().unwrap();
        let of = |name: &str| {
            products
                .iter()
                .find(|p| p["productName"] == name)
                .unwrap_or_else(|| panic!("{name}: {b}"))
        };
        // Absent rather than wrong where the sum cannot be exact.
        for name in ["BIG", "HUGE"] {
            assert!(of(name)["averageLifetimeRecoveryPercent"].is_null(), "{b}");
        }
        assert_eq!(
            of("FAIR")["averageLifetimeRecoveryPercent"].to_string(),
            "30.0"
        );
        let (_, a) = app.get("/v1/assets/HUGE").await;
        assert_eq!(a["lifetimeCollected"].to_string(), "10000000000000.00");
    }
);
