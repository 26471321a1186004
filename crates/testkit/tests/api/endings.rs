//! The endings of a subscription and their quotes (SPEC §2.6.5, the worked examples of §4.5 and
//! §4.6): buyout, early return, cancel, calculate-buyout and calculate-early-return-fee.

use flexportal_testkit::{TestApp, both_engines, examples};
use serde_json::{Value, json};

use super::subscriptions::{rental_payments as schedule, setup};

/// SPEC §4.1: a subscription of 12 × 89.00 started 2025-01-01 (cost 1 000.00, list 1 999.00)
/// with its first `paid` charges marked paid; the clock is then set to `as_of`. Returns the
/// rental id.
async fn contract(app: &TestApp, serial: &str, paid: usize, as_of: &str) -> String {
    app.set_date("2025-01-01", 9);
    let order = setup(app, 0, 1, &format!("{serial}@example.com")).await;
    let (s, _) = app
        .post("/v1/assets", json!({"serialNumber": serial, "sku": "P-1"}))
        .await;
    assert_eq!(s, 201);
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": serial, "startDate": "2025-01-01"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let rental = b["rentalId"].as_str().unwrap().to_string();
    for p in schedule(app, &rental).await.iter().take(paid) {
        let id = p["paymentId"].as_str().unwrap();
        let (s, b) = app
            .post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
            .await;
        assert_eq!(s, 200, "{b}");
    }
    app.set_date(as_of, 9);
    rental
}

fn statuses(payments: &[Value]) -> Vec<(String, String, String)> {
    payments
        .iter()
        .map(|p| {
            (
                p["dueDate"].as_str().unwrap().to_string(),
                p["status"].as_str().unwrap().to_string(),
                p["total"].to_string(),
            )
        })
        .collect()
}

async fn settings(app: &TestApp, doc: Value) {
    app.set_settings(&app.tenant, doc).await;
}

both_engines!(
    buyout_quotes_follow_each_method,
    |app: TestApp| async move {
        let rental = contract(&app, "B-1", 6, "2025-06-15").await;
        // The documentation's request uses the `subscriptionId` alias.
        let mut body = examples("calculateBuyoutPrice")[0].clone();
        body["subscriptionId"] = json!(rental);
        let (s, q) = app.post("/v1/subscriptions/calculate-buyout", body).await;
        assert_eq!(s, 200, "{q}");
        assert_eq!(q["buyoutPrice"].to_string(), "534.00");
        assert_eq!(q["remainingPayments"].to_string(), "534.00");
        assert_eq!(q["depreciatedValue"].to_string(), "466.00");
        assert_eq!(q["calculation"]["breakdown"]["monthsRemaining"], 6);
        assert_eq!(
            q["calculation"]["costRecovery"]["projectedAfterBuyout"].to_string(),
            "1068.00"
        );
        for (method, extra, price, residual) in [
            (
                "rrp_percentage",
                json!({"rrpPercentage": 40}),
                "799.60",
                "799.60",
            ),
            (
                "remaining_plus_rrp",
                json!({"rrpPercentage": 50}),
                "1533.50",
                "999.50",
            ),
            ("flat_fee", json!({"flatFee": 500}), "500.00", "500.00"),
            (
                "remaining_plus_flat",
                json!({"flatFee": 200}),
                "734.00",
                "200.00",
            ),
        ] {
            let mut buyouts = extra.clone();
            buyouts["method"] = json!(method);
            settings(&app, json!({"subscriptions": {"buyouts": buyouts}})).await;
            let (s, q) = app
                .post(
                    "/v1/subscriptions/calculate-buyout",
                    json!({"rentalId": rental}),
                )
                .await;
            assert_eq!(s, 200, "{q}");
            assert_eq!(q["buyoutPrice"].to_string(), price, "{method}");
            assert_eq!(
                q["calculation"]["breakdown"]["residualValue"].to_string(),
                residual,
                "{method}"
            );
        }
        // Errors: missing id, unknown id, another unit's id.
        let (s, e) = app
            .post("/v1/subscriptions/calculate-buyout", json!({}))
            .await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let (s, _) = app
            .post(
                "/v1/subscriptions/calculate-buyout",
                json!({"rentalId": "sub_unknown"}),
            )
            .await;
        assert_eq!(s, 404);
        let other = app.new_tenant("EUR").await;
        let (s, _) = app
            .call_as(
                &other,
                "POST",
                "/v1/subscriptions/calculate-buyout",
                Some(json!({"rentalId": rental})),
            )
            .await;
        assert_eq!(s, 404, "another unit's subscription is not found");
    }
);

both_engines!(
    a_buyout_ends_the_contract_as_spec_4_5,
    |app: TestApp| async move {
        let rental = contract(&app, "B-2", 6, "2025-06-15").await;
        let path = format!("/v1/subscriptions/{rental}/buyout");
        // Refusals change nothing.
        let (s, e) = app.post(&path, json!({"buyoutPrice": -1})).await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (400, Some("INVALID_BUYOUT_PRICE"))
        );
        let (s, e) = app.post(&path, json!({"buyoutPrice": "ten"})).await;
        assert_eq!(e["error"]["code"], "INVALID_BUYOUT_PRICE", "{s} {e}");
        let (s, e) = app
            .post(&path, json!({"effectiveDate": "2024-12-31"}))
            .await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let (s, e) = app.post(&path, json!({"rentalId": "sub_other"})).await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        settings(
            &app,
            json!({"subscriptions": {"buyouts": {"enabled": false}}}),
        )
        .await;
        let (_, e) = app.post(&path, json!({})).await;
        assert_eq!(e["error"]["code"], "FEATURE_DISABLED");
        settings(
            &app,
            json!({"subscriptions": {"buyouts": {"allowManualOverride": false}}}),
        )
        .await;
        let (_, e) = app.post(&path, json!({"buyoutPrice": 450.0})).await;
        assert_eq!(e["error"]["code"], "INVALID_BUYOUT_PRICE");
        settings(&app, json!({})).await;
        let (_, sub) = app.get(&format!("/v1/subscriptions/{rental}")).await;
        assert_eq!(sub["status"], "active");

        let (s, b) = app.post(&path, json!({})).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["buyoutPrice"].to_string(), "534.00");
        assert_eq!(b["effectiveDate"], "2025-06-15");
        assert_eq!(b["assetSerialNumber"], "B-2");
        let (_, sub) = app.get(&format!("/v1/subscriptions/{rental}")).await;
        assert_eq!(sub["status"], "ended_buyout");
        let d = &sub["buyoutDetails"];
        assert_eq!(d["buyoutPrice"].to_string(), "534.00");
        assert_eq!(d["calculationMethod"], "auto_calculated");
        assert_eq!(d["reason"], "customer_request");
        assert_eq!(d["buyoutDate"], "2025-06-15");
        assert_eq!(d["calculationBreakdown"]["remainingMonths"], 6);
        assert_eq!(sub["monthsSaved"], 6);
        assert_eq!(sub["actualMonthsRented"], 6);
        assert!(sub.get("nextBillingDate").is_none());
        let pays = schedule(&app, &rental).await;
        let st = statuses(&pays);
        assert_eq!(st.iter().filter(|(_, s, _)| s == "paid").count(), 6);
        let cancelled: Vec<&str> = st
            .iter()
            .filter(|(_, s, _)| s == "cancelled")
            .map(|(d, _, _)| d.as_str())
            .collect();
        assert_eq!(
            cancelled,
            [
                "2025-07-01",
                "2025-08-01",
                "2025-09-01",
                "2025-10-01",
                "2025-11-01",
                "2025-12-01"
            ]
        );
        let one_off: Vec<_> = pays.iter().filter(|p| p["status"] == "pending").collect();
        assert_eq!(one_off.len(), 1);
        assert_eq!(one_off[0]["total"].to_string(), "534.00");
        assert_eq!(one_off[0]["dueDate"], "2025-06-15");
        assert_eq!(one_off[0]["idempotencyKey"], format!("{rental}:buyout"));
        let (_, a) = app.get("/v1/assets/B-2").await;
        assert_eq!(
            (a["status"].as_str(), a["rentalId"].as_str()),
            (Some("sold"), Some(rental.as_str()))
        );
        let cust = sub["customerId"].as_str().unwrap();
        let (_, c) = app.get(&format!("/v1/customers/{cust}")).await;
        assert_eq!(c["totalDevicesRented"], 0);
        assert_eq!(c["totalMonthlyRevenue"].to_string(), "0.00");
        // Paying the buyout counts as collected (SPEC §2.13).
        let id = one_off[0]["paymentId"].as_str().unwrap();
        app.post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
            .await;
        let (_, sub) = app.get(&format!("/v1/subscriptions/{rental}")).await;
        assert_eq!(sub["totalCollected"].to_string(), "1068.00");
        let (s, e) = app.post(&path, json!({})).await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (400, Some("SUBSCRIPTION_NOT_ACTIVE"))
        );
    }
);

both_engines!(
    a_manual_buyout_price_and_a_free_text_reason,
    |app: TestApp| async move {
        let rental = contract(&app, "B-3", 6, "2025-06-15").await;
        let body = examples("buyoutSubscription")[0].clone();
        let (s, b) = app
            .post(&format!("/v1/subscriptions/{rental}/buyout"), body)
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["buyoutPrice"].to_string(), "450.00");
        let (_, sub) = app.get(&format!("/v1/subscriptions/{rental}")).await;
        let d = &sub["buyoutDetails"];
        assert_eq!(d["calculationMethod"], "manual_override");
        assert_eq!(d["reason"], "other");
        assert_eq!(d["notes"], "Customer requested purchase at contract end");
        assert_eq!(
            d["calculationBreakdown"]["remainingMonthsPayment"].to_string(),
            "534.00"
        );
        let pays = schedule(&app, &rental).await;
        let pending: Vec<String> = pays
            .iter()
            .filter(|p| p["status"] == "pending")
            .map(|p| p["total"].to_string())
            .collect();
        assert_eq!(pending, ["450.00"]);
    }
);

both_engines!(
    early_return_fees_follow_spec_4_6,
    |app: TestApp| async move {
        let rental = contract(&app, "E-1", 6, "2025-06-15").await;
        let quote = |body: Value| {
            let app = &app;
            async move {
                let (s, q) = app
                    .post("/v1/subscriptions/calculate-early-return-fee", body)
                    .await;
                assert_eq!(s, 200, "{q}");
                q
            }
        };
        let mut body = examples("calculateEarlyReturnFee")[0].clone();
        body["subscriptionId"] = json!(rental);
        let q = quote(body).await;
        assert_eq!(q["earlyReturnFee"].to_string(), "534.00");
        assert_eq!(
            (
                q["remainingMonths"].as_i64(),
                q["penaltyPercentage"].as_i64()
            ),
            (Some(6), Some(100))
        );
        assert_eq!(
            q["calculation"]["costRecovery"]["costRecoveryPercent"].to_string(),
            "106.8"
        );
        for (rules, fee, penalty, recovery) in [
            (json!({"feePercentage": 50}), "267.00", "50", "80.1"),
            (json!({"feePercentage": 20}), "106.80", "20", "64.1"),
            (
                json!({"feeMethod": "flat_fee", "flatFee": 200}),
                "200.00",
                "0",
                "73.4",
            ),
            (json!({"feeMethod": "no_fee"}), "0.00", "0", "53.4"),
        ] {
            settings(&app, json!({"subscriptions": {"earlyReturn": rules}})).await;
            let q = quote(json!({"rentalId": rental})).await;
            assert_eq!(q["earlyReturnFee"].to_string(), fee);
            assert_eq!(q["penaltyPercentage"].to_string(), penalty);
            assert_eq!(
                q["calculation"]["costRecovery"]["costRecoveryPercent"].to_string(),
                recovery
            );
        }
        settings(&app, json!({})).await;
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{rental}/early-return"),
                json!({"returnCondition": "good"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["earlyReturnFee"].to_string(), "534.00");
        assert_eq!(
            (b["actualMonthsRented"].as_i64(), b["returnDate"].as_str()),
            (Some(6), Some("2025-06-15"))
        );
        let (_, sub) = app.get(&format!("/v1/subscriptions/{rental}")).await;
        assert_eq!(sub["status"], "ended_early_return");
        let d = &sub["earlyReturnDetails"];
        assert_eq!(d["fee"].to_string(), "534.00");
        assert_eq!(d["calculationMethod"], "auto_calculated");
        assert_eq!(
            d["calculationBreakdown"],
            json!({"method": "remaining_months", "remainingMonths": 6, "gracePeriodApplied": false, "daysFromStart": 165})
        );
        assert_eq!(d["returnCondition"], "good");
        assert_eq!(d["reason"], "Early return");
        assert_eq!(sub["monthsSaved"], 6);
        let (_, a) = app.get("/v1/assets/E-1").await;
        assert_eq!(a["status"], "returned");
        assert!(
            a.get("rentalId").is_none() && a.get("customerId").is_none(),
            "{a}"
        );
        let st = statuses(&schedule(&app, &rental).await);
        assert_eq!(st.iter().filter(|(_, s, _)| s == "cancelled").count(), 6);
        let pending: Vec<&str> = st
            .iter()
            .filter(|(_, s, _)| s == "pending")
            .map(|(_, _, t)| t.as_str())
            .collect();
        assert_eq!(pending, ["534.00"]);
        // An ended subscription is not quoted, returned or cancelled again.
        let (_, e) = app
            .post(
                "/v1/subscriptions/calculate-early-return-fee",
                json!({"rentalId": rental}),
            )
            .await;
        assert_eq!(e["error"]["code"], "SUBSCRIPTION_NOT_ACTIVE");
        let (_, e) = app
            .post(
                &format!("/v1/subscriptions/{rental}/early-return"),
                json!({}),
            )
            .await;
        assert_eq!(e["error"]["code"], "SUBSCRIPTION_NOT_ACTIVE");
        let (_, e) = app
            .post(
                &format!("/v1/subscriptions/{rental}/cancel"),
                json!({"reason": "other"}),
            )
            .await;
        assert_eq!(e["error"]["code"], "ALREADY_ENDED");
    }
);

both_engines!(
    documented_early_return_requests,
    |app: TestApp| async move {
        let ex = examples("earlyReturnSubscription");
        // The standard example sends a fee of 258.00; the goodwill example waives it.
        let a = contract(&app, "E-2", 6, "2025-06-15").await;
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{a}/early-return"),
                ex[0].clone(),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["earlyReturnFee"].to_string(), "258.00");
        let (_, sub) = app.get(&format!("/v1/subscriptions/{a}")).await;
        assert_eq!(
            sub["earlyReturnDetails"]["calculationMethod"],
            "manual_override"
        );
        assert_eq!(
            sub["earlyReturnDetails"]["calculationBreakdown"]["method"],
            "manual"
        );
        let w = contract(&app, "E-3", 6, "2025-06-15").await;
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{w}/early-return"),
                ex[1].clone(),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["earlyReturnFee"].to_string(), "0.00");
        let (_, sub) = app.get(&format!("/v1/subscriptions/{w}")).await;
        assert_eq!(sub["earlyReturnDetails"]["feeWaived"], true);
        let st = statuses(&schedule(&app, &w).await);
        assert!(
            st.iter().all(|(_, s, _)| s != "pending"),
            "no fee payment: {st:?}"
        );
        // Invalid fees, and a manual fee where the unit forbids it.
        let c = contract(&app, "E-4", 6, "2025-06-15").await;
        let path = format!("/v1/subscriptions/{c}/early-return");
        let (_, e) = app.post(&path, json!({"earlyReturnFee": -5})).await;
        assert_eq!(e["error"]["code"], "INVALID_FEE");
        let (_, e) = app.post(&path, json!({"returnCondition": "broken"})).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
        settings(
            &app,
            json!({"subscriptions": {"earlyReturn": {"allowManualOverride": false}}}),
        )
        .await;
        let (_, e) = app.post(&path, json!({"waiveFee": true})).await;
        assert_eq!(e["error"]["code"], "INVALID_FEE");
        settings(
            &app,
            json!({"subscriptions": {"earlyReturn": {"enabled": false}}}),
        )
        .await;
        let (_, e) = app.post(&path, json!({})).await;
        assert_eq!(e["error"]["code"], "FEATURE_DISABLED");
        let (_, sub) = app.get(&format!("/v1/subscriptions/{c}")).await;
        assert_eq!(sub["status"], "active");
    }
);

both_engines!(grace_period_and_completion, |app: TestApp| async move {
    settings(
        &app,
        json!({"subscriptions": {"earlyReturn": {"gracePeriodDays": 14}}}),
    )
    .await;
    let g = contract(&app, "G-1", 1, "2025-01-10").await;
    let (_, q) = app
        .post(
            "/v1/subscriptions/calculate-early-return-fee",
            json!({"rentalId": g}),
        )
        .await;
    assert_eq!(q["earlyReturnFee"].to_string(), "0.00");
    assert_eq!(q["calculation"]["breakdown"]["gracePeriodApplied"], true);
    let (s, b) = app
        .post(&format!("/v1/subscriptions/{g}/early-return"), json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, sub) = app.get(&format!("/v1/subscriptions/{g}")).await;
    let br = &sub["earlyReturnDetails"]["calculationBreakdown"];
    assert_eq!(
        (
            br["gracePeriodApplied"].as_bool(),
            br["daysFromStart"].as_i64()
        ),
        (Some(true), Some(9))
    );
    assert_eq!(sub["monthsSaved"], 11);
    // Every contract month started: the return completes the contract, without a fee.
    settings(&app, json!({})).await;
    let c = contract(&app, "G-2", 12, "2025-12-15").await;
    let (s, b) = app
        .post(
            &format!("/v1/subscriptions/{c}/early-return"),
            json!({"returnCondition": "fair"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["earlyReturnFee"].to_string(), "0.00");
    let (_, sub) = app.get(&format!("/v1/subscriptions/{c}")).await;
    assert_eq!(sub["status"], "ended_completed");
    assert_eq!(
        (
            sub["monthsSaved"].as_i64(),
            sub["actualMonthsRented"].as_i64()
        ),
        (Some(0), Some(12))
    );
    assert_eq!(sub["earlyReturnDetails"]["fee"].to_string(), "0.00");
    let (_, a) = app.get("/v1/assets/G-2").await;
    assert_eq!(a["status"], "returned");
});

both_engines!(
    cancel_voids_future_charges_only,
    |app: TestApp| async move {
        let rental = contract(&app, "C-1", 3, "2025-05-20").await;
        let path = format!("/v1/subscriptions/{rental}/cancel");
        let (s, e) = app.post(&path, json!({"notes": "x"})).await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let (_, e) = app.post(&path, json!({"reason": "bored"})).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
        let (s, _) = app
            .post(
                "/v1/subscriptions/sub_unknown/cancel",
                json!({"reason": "other"}),
            )
            .await;
        assert_eq!(s, 404);
        let mut body = examples("cancelSubscription")[0].clone();
        body["rentalId"] = json!(rental);
        let (s, b) = app.post(&path, body).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            (b["previousStatus"].as_str(), b["cancelledAt"].as_str()),
            (Some("active"), Some("2025-05-20T09:00:00.000Z"))
        );
        let (_, sub) = app.get(&format!("/v1/subscriptions/{rental}")).await;
        assert_eq!(sub["status"], "cancelled");
        assert_eq!(sub["cancellationDetails"]["reason"], "customer_request");
        assert_eq!(
            sub["cancellationDetails"]["notes"],
            "Customer relocating internationally"
        );
        assert_eq!(sub["monthsSaved"], 7);
        // Paid months stay paid, the started April and May charges stay collectible, June on is void.
        let st = statuses(&schedule(&app, &rental).await);
        let by_status = |s: &str| st.iter().filter(|(_, x, _)| x == s).count();
        assert_eq!(
            (
                by_status("paid"),
                by_status("pending"),
                by_status("cancelled")
            ),
            (3, 2, 7)
        );
        // The device is still with the customer.
        let (_, a) = app.get("/v1/assets/C-1").await;
        assert_eq!(
            (a["status"].as_str(), a["rentalId"].as_str()),
            (Some("rented_out"), Some(rental.as_str()))
        );
        let (_, e) = app.post(&path, json!({"reason": "other"})).await;
        assert_eq!(e["error"]["code"], "ALREADY_CANCELLED");
        let (_, e) = app
            .post(&format!("/v1/subscriptions/{rental}/buyout"), json!({}))
            .await;
        assert_eq!(e["error"]["code"], "SUBSCRIPTION_NOT_ACTIVE");
        // Another unit cannot touch it.
        let other = app.new_tenant("EUR").await;
        let (s, _) = app
            .call_as(
                &other,
                "POST",
                &format!("/v1/subscriptions/{rental}/buyout"),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 404);
    }
);

both_engines!(
    a_quote_is_what_the_action_charges,
    |app: TestApp| async move {
        // For several dates and methods, the quote of the day equals what the action charges.
        let mut n = 0;
        for (as_of, paid) in [
            ("2025-01-15", 1),
            ("2025-03-31", 2),
            ("2025-08-01", 5),
            ("2025-11-30", 11),
        ] {
            for (kind, rules) in [
                (
                    "buyout",
                    json!({"buyouts": {"method": "remaining_plus_rrp", "rrpPercentage": 33}}),
                ),
                (
                    "early-return",
                    json!({"earlyReturn": {"feePercentage": 37.5}}),
                ),
            ] {
                n += 1;
                settings(&app, json!({})).await;
                let rental = contract(&app, &format!("Q-{n}"), paid, as_of).await;
                settings(&app, json!({"subscriptions": rules})).await;
                let (calc, field) = match kind {
                    "buyout" => ("calculate-buyout", "buyoutPrice"),
                    _ => ("calculate-early-return-fee", "earlyReturnFee"),
                };
                let (_, q) = app
                    .post(
                        &format!("/v1/subscriptions/{calc}"),
                        json!({"rentalId": rental}),
                    )
                    .await;
                let (s, done) = app
                    .post(&format!("/v1/subscriptions/{rental}/{kind}"), json!({}))
                    .await;
                assert_eq!(s, 200, "{done}");
                assert_eq!(q[field], done[field], "{kind} on {as_of}");
            }
        }
    }
);

both_engines!(
    concurrent_endings_of_one_rental,
    |app: TestApp| async move {
        let rental = contract(&app, "X-1", 2, "2025-04-10").await;
        let results = app
            .concurrently(vec![
                (
                    "POST",
                    format!("/v1/subscriptions/{rental}/buyout"),
                    Some(json!({})),
                ),
                (
                    "POST",
                    format!("/v1/subscriptions/{rental}/early-return"),
                    Some(json!({})),
                ),
                (
                    "POST",
                    format!("/v1/subscriptions/{rental}/cancel"),
                    Some(json!({"reason": "other"})),
                ),
            ])
            .await;
        let won = results.iter().filter(|(s, _)| s.as_u16() == 200).count();
        assert_eq!(won, 1, "{results:?}");
        for (s, b) in results.iter().filter(|(s, _)| s.as_u16() != 200) {
            assert_eq!(s.as_u16(), 400, "{b}");
            assert!(
                [
                    "SUBSCRIPTION_NOT_ACTIVE",
                    "ALREADY_ENDED",
                    "ALREADY_CANCELLED"
                ]
                .contains(&b["error"]["code"].as_str().unwrap()),
                "{b}"
            );
        }
        // Exactly one ending's effects: the customer's device count went down once.
        let (_, sub) = app.get(&format!("/v1/subscriptions/{rental}")).await;
        let cust = sub["customerId"].as_str().unwrap();
        let (_, c) = app.get(&format!("/v1/customers/{cust}")).await;
        assert_eq!(c["totalDevicesRented"], 0);
        let one_offs = schedule(&app, &rental)
            .await
            .iter()
            .filter(|p| {
                p["idempotencyKey"].as_str().unwrap().ends_with("buyout")
                    || p["idempotencyKey"]
                        .as_str()
                        .unwrap()
                        .ends_with("early-return")
            })
            .count();
        assert!(one_offs <= 1);
    }
);

both_engines!(
    a_month_paid_in_advance_is_not_started,
    |app: TestApp| async move {
        // November and December paid on 2025-11-15: December has not started, so a return that day
        // is an early return, not a completion; the paid month stays paid and is not charged again.
        let r = contract(&app, "A-1", 12, "2025-11-15").await;
        let (_, q) = app
            .post(
                "/v1/subscriptions/calculate-early-return-fee",
                json!({"rentalId": r}),
            )
            .await;
        assert_eq!(
            (
                q["earlyReturnFee"].to_string(),
                q["remainingMonths"].as_i64()
            ),
            ("0.00".into(), Some(0))
        );
        let (s, b) = app
            .post(&format!("/v1/subscriptions/{r}/early-return"), json!({}))
            .await;
        assert_eq!(s, 200, "{b}");
        let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
        assert_eq!(sub["status"], "ended_early_return");
        assert_eq!(
            (
                sub["actualMonthsRented"].as_i64(),
                sub["monthsSaved"].as_i64()
            ),
            (Some(11), Some(1))
        );
        let st = statuses(&schedule(&app, &r).await);
        assert!(st.iter().all(|(_, s, _)| s == "paid"), "{st:?}");
    }
);

both_engines!(the_calculate_pages_examples, |app: TestApp| async move {
    // 16 × 129.00 with a cost of 1 800.00, 12 paid (1 548.00), 4 remaining (SPEC §4.5, §4.6).
    app.set_date("2025-01-01", 9);
    let (s, b) = app.post("/v1/products", json!({
        "productSku": "MBP", "name": "MacBook Pro", "specification": "s", "category": "Laptops", "brand": "Apple",
        "variants": [{"variantSku": "MBP-16", "variantName": "16", "grade": "A", "acquisitionCost": 1800.0,
            "pricing": [{"contractLength": 16, "monthlyPrice": 129.0}]}]
    })).await;
    assert_eq!(s, 201, "{b}");
    app.post(
        "/v1/assets",
        json!({"serialNumber": "MBP-1", "sku": "MBP-16"}),
    )
    .await;
    let (_, o) = app
        .post(
            "/v1/orders",
            json!({
                "customer": {"email": "calc@example.com", "firstName": "C", "lastName": "P"},
                "billingAddress": {"streetAddress": "S 1", "city": "Oslo", "country": "Norway"},
                "items": [{"sku": "MBP-16", "quantity": 1, "contractLength": 16}]
            }),
        )
        .await;
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": o["orderId"], "assetSerialNumber": "MBP-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let r = b["rentalId"].as_str().unwrap().to_string();
    for p in schedule(&app, &r).await.iter().take(12) {
        let id = p["paymentId"].as_str().unwrap();
        app.post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
            .await;
    }
    app.set_date("2025-12-15", 9);
    settings(
        &app,
        json!({"subscriptions": {
            "buyouts": {"method": "remaining_plus_flat", "flatFee": 142},
            "earlyReturn": {"feePercentage": 50}
        }}),
    )
    .await;
    let (_, q) = app
        .post(
            "/v1/subscriptions/calculate-buyout",
            json!({"subscriptionId": r}),
        )
        .await;
    let c = &q["calculation"];
    assert_eq!(c["buyoutPrice"].to_string(), "658.00");
    assert_eq!(
        c["breakdown"]["remainingContractValue"].to_string(),
        "516.00"
    );
    assert_eq!(c["breakdown"]["residualValue"].to_string(), "142.00");
    assert_eq!(c["breakdown"]["monthsRemaining"], 4);
    assert_eq!(c["breakdown"]["monthlyAmount"].to_string(), "129.00");
    assert_eq!(c["costRecovery"]["acquisitionCost"].to_string(), "1800.00");
    assert_eq!(c["costRecovery"]["totalCollected"].to_string(), "1548.00");
    assert_eq!(
        c["costRecovery"]["projectedAfterBuyout"].to_string(),
        "2206.00"
    );
    assert_eq!(c["costRecovery"]["projectedMargin"].to_string(), "406.00");
    assert_eq!(c["costRecovery"]["marginPercent"].to_string(), "22.6");
    let (_, q) = app
        .post(
            "/v1/subscriptions/calculate-early-return-fee",
            json!({"subscriptionId": r}),
        )
        .await;
    let c = &q["calculation"];
    assert_eq!(c["earlyReturnFee"].to_string(), "258.00");
    assert_eq!(c["breakdown"]["feePercentage"], 50);
    assert_eq!(c["costRecovery"]["projectedWithFee"].to_string(), "1806.00");
    assert_eq!(
        c["costRecovery"]["costRecoveryPercent"].to_string(),
        "100.3"
    );
});
