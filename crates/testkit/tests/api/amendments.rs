//! Extensions and device replacements (SPEC §2.6.5, the worked example of §4.7).

use flexportal_testkit::{TestApp, both_engines, examples};
use serde_json::{Value, json};

use super::subscriptions::{rental, rental_payments as payments};

both_engines!(an_extension_as_spec_4_7, |app: TestApp| async move {
    let r = rental(&app, "X-1", "2025-01-01").await;
    app.set_date("2025-11-15", 9);
    let path = format!("/v1/subscriptions/{r}/extend");
    for (body, code) in [
        (json!({"extensionMonths": 0}), "INVALID_EXTENSION_MONTHS"),
        (json!({"extensionMonths": 115}), "INVALID_EXTENSION_MONTHS"),
        (json!({"extensionMonths": 2.5}), "INVALID_EXTENSION_MONTHS"),
        (json!({}), "VALIDATION_ERROR"),
        (
            json!({"extensionMonths": 6, "newMonthlyAmount": -1}),
            "VALIDATION_ERROR",
        ),
    ] {
        let (s, e) = app.post(&path, body.clone()).await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    let (s, b) = app
        .post(
            &path,
            json!({"extensionMonths": 6, "newMonthlyAmount": 75.00, "reason": "Loyalty discount"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["oldEndDate"].as_str(), b["newEndDate"].as_str()),
        (Some("2025-12-31"), Some("2026-06-30"))
    );
    assert_eq!(
        (
            b["oldContractLength"].as_i64(),
            b["newContractLength"].as_i64(),
            b["extensionMonths"].as_i64()
        ),
        (Some(12), Some(18), Some(6))
    );
    let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
    assert_eq!(sub["monthlyAmount"].to_string(), "75.00");
    assert_eq!(
        (
            sub["contractLength"].as_i64(),
            sub["originalContractLength"].as_i64()
        ),
        (Some(18), Some(12))
    );
    assert_eq!(sub["endDate"], "2026-06-30");
    let h = &sub["extensionHistory"][0];
    assert_eq!(h["extensionMonths"], 6);
    assert_eq!(
        (
            h["oldContractLength"].as_i64(),
            h["newContractLength"].as_i64()
        ),
        (Some(12), Some(18))
    );
    assert_eq!(
        (
            h["oldMonthlyAmount"].to_string(),
            h["newMonthlyAmount"].to_string()
        ),
        ("89.00".into(), "75.00".into())
    );
    assert_eq!(
        (h["oldEndDate"].as_str(), h["newEndDate"].as_str()),
        (Some("2025-12-31"), Some("2026-06-30"))
    );
    assert_eq!(h["reason"], "Loyalty discount");
    let pays = payments(&app, &r).await;
    let lines: Vec<(String, String)> = pays
        .iter()
        .map(|p| {
            (
                p["dueDate"].as_str().unwrap().to_string(),
                p["total"].to_string(),
            )
        })
        .collect();
    assert_eq!(lines.len(), 18);
    assert_eq!(lines[11], ("2025-12-01".into(), "89.00".into()));
    let added: Vec<(String, String)> = (1..=6)
        .map(|m| (format!("2026-{m:02}-01"), "75.00".to_string()))
        .collect();
    assert_eq!(lines[12..].to_vec(), added);
    assert_eq!(pays[12]["idempotencyKey"], format!("{r}:2026-01"));
    let cust = sub["customerId"].as_str().unwrap();
    let (_, c) = app.get(&format!("/v1/customers/{cust}")).await;
    assert_eq!(c["totalMonthlyRevenue"].to_string(), "75.00");
    // All 18 paid: 1 518.00 collected, 151.8 % of the 1 000.00 cost.
    for p in &pays {
        let id = p["paymentId"].as_str().unwrap();
        app.post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
            .await;
    }
    let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
    assert_eq!(sub["totalCollected"].to_string(), "1518.00");
    assert_eq!(sub["costRecoveryPercent"].to_string(), "151.8");
});

both_engines!(
    documented_extensions_and_end_dates,
    |app: TestApp| async move {
        let ex = examples("extendSubscription");
        // The basic example keeps the price; the adjustment example sets 79.00 for 12 months.
        let a = rental(&app, "Y-1", "2024-02-01").await;
        let (s, b) = app
            .post(&format!("/v1/subscriptions/{a}/extend"), ex[0].clone())
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            (b["oldEndDate"].as_str(), b["newEndDate"].as_str()),
            (Some("2025-01-31"), Some("2025-07-31"))
        );
        let (_, sub) = app.get(&format!("/v1/subscriptions/{a}")).await;
        assert_eq!(sub["monthlyAmount"].to_string(), "89.00");
        let b2 = rental(&app, "Y-2", "2024-07-01").await;
        let (s, b) = app
            .post(&format!("/v1/subscriptions/{b2}/extend"), ex[1].clone())
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            (b["oldEndDate"].as_str(), b["newEndDate"].as_str()),
            (Some("2025-06-30"), Some("2026-06-30"))
        );
        let pays = payments(&app, &b2).await;
        assert_eq!(pays.len(), 24);
        let totals: Vec<String> = pays[12..].iter().map(|p| p["total"].to_string()).collect();
        assert_eq!(totals, vec!["79.00"; 12]);
        // A month-end anchor keeps clamping from the original anchor.
        let c = rental(&app, "Y-3", "2025-01-31").await;
        let (_, b) = app
            .post(
                &format!("/v1/subscriptions/{c}/extend"),
                json!({"extensionMonths": 2}),
            )
            .await;
        assert_eq!(
            (b["oldEndDate"].as_str(), b["newEndDate"].as_str()),
            (Some("2026-01-30"), Some("2026-03-30"))
        );
        let due: Vec<String> = payments(&app, &c).await[12..]
            .iter()
            .map(|p| p["dueDate"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(due, ["2026-01-31", "2026-02-28"]);
    }
);

both_engines!(the_units_extension_rules, |app: TestApp| async move {
    app.set_settings(&app.tenant, json!({"subscriptions": {"extensions": {"allowedLengths": [6, 12], "maxExtensions": 1, "minDaysBeforeEnd": 30}}})).await;
    let r = rental(&app, "Z-1", "2025-01-01").await;
    let path = format!("/v1/subscriptions/{r}/extend");
    let (_, e) = app.post(&path, json!({"extensionMonths": 3})).await;
    assert_eq!(e["error"]["code"], "EXTENSION_NOT_ALLOWED");
    let (s, b) = app.post(&path, json!({"extensionMonths": 6})).await;
    assert_eq!(s, 200, "{b}");
    let (_, e) = app.post(&path, json!({"extensionMonths": 6})).await;
    assert_eq!(
        e["error"]["code"], "EXTENSION_NOT_ALLOWED",
        "one extension at most"
    );
    app.set_settings(
        &app.tenant,
        json!({"subscriptions": {"extensions": {"minDaysBeforeEnd": 30}}}),
    )
    .await;
    app.set_date("2026-06-10", 9);
    let (_, e) = app.post(&path, json!({"extensionMonths": 6})).await;
    assert_eq!(
        e["error"]["code"], "EXTENSION_NOT_ALLOWED",
        "too close to the end"
    );
    app.set_date("2026-05-01", 9);
    let (s, _) = app.post(&path, json!({"extensionMonths": 6})).await;
    assert_eq!(s, 200);
    // An ended subscription is not extended.
    app.post(
        &format!("/v1/subscriptions/{r}/cancel"),
        json!({"reason": "other"}),
    )
    .await;
    let (_, e) = app.post(&path, json!({"extensionMonths": 6})).await;
    assert_eq!(e["error"]["code"], "SUBSCRIPTION_NOT_ACTIVE");
});

both_engines!(a_device_replacement, |app: TestApp| async move {
    let r = rental(&app, "R-1", "2025-01-01").await;
    app.set_date("2025-03-10", 9);
    let path = format!("/v1/subscriptions/{r}/replace");
    // The documented request, once its new asset exists.
    let body = examples("replaceSubscriptionDevice")[0].clone();
    let new_serial = body["newSerialNumber"].as_str().unwrap().to_string();
    let (_, e) = app.post(&path, body.clone()).await;
    assert_eq!(e["error"]["code"], "ASSET_NOT_FOUND");
    app.post(
        "/v1/assets",
        json!({"serialNumber": new_serial, "sku": "P-1"}),
    )
    .await;
    app.post("/v1/assets", json!({"serialNumber": "R-Q", "sku": "Q-1"}))
        .await;
    for (b, code) in [
        (
            json!({"newSerialNumber": "R-1", "reason": "x"}),
            "VALIDATION_ERROR",
        ),
        (json!({"newSerialNumber": new_serial}), "VALIDATION_ERROR"),
        (
            json!({"newSerialNumber": new_serial, "replacementReason": "bored"}),
            "VALIDATION_ERROR",
        ),
        (
            json!({"newSerialNumber": "R-Q", "replacementReason": "damaged"}),
            "SKU_MISMATCH",
        ),
        (
            json!({"newSerialNumber": "R-Q", "replacementReason": "damaged", "newSku": "NOPE"}),
            "VARIANT_NOT_FOUND",
        ),
    ] {
        let (s, e) = app.post(&path, b.clone()).await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (400, Some(code)),
            "{b}"
        );
    }
    let (s, b) = app.post(&path, body).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["oldSerialNumber"].as_str(), b["newSerialNumber"].as_str()),
        (Some("R-1"), Some(new_serial.as_str()))
    );
    assert_eq!(b["reason"], "Battery failure - device won't hold charge");
    let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
    assert_eq!(sub["assetSerialNumber"], new_serial.as_str());
    assert_eq!(sub["status"], "active");
    let h = &sub["replacementHistory"][0];
    assert_eq!(
        (h["oldSerialNumber"].as_str(), h["newSerialNumber"].as_str()),
        (Some("R-1"), Some(new_serial.as_str()))
    );
    assert_eq!(h["insuranceClaim"], false);
    let (_, old) = app.get("/v1/assets/R-1").await;
    assert_eq!(old["status"], "unavailable");
    assert!(old.get("rentalId").is_none());
    assert!(
        old["notes"]
            .as_str()
            .unwrap()
            .contains("Replaced on 2025-03-10: Battery failure"),
        "{old}"
    );
    let (_, new) = app.get(&format!("/v1/assets/{new_serial}")).await;
    assert_eq!(
        (new["status"].as_str(), new["rentalId"].as_str()),
        (Some("rented_out"), Some(r.as_str()))
    );
    // Income follows the asset held on each charge's billing date.
    let pays = payments(&app, &r).await;
    for p in &pays[..4] {
        let id = p["paymentId"].as_str().unwrap();
        app.post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
            .await;
    }
    let (_, old) = app.get("/v1/assets/R-1").await;
    let (_, new) = app.get(&format!("/v1/assets/{new_serial}")).await;
    assert_eq!(
        old["lifetimeCollected"].to_string(),
        "267.00",
        "January to March"
    );
    assert_eq!(new["lifetimeCollected"].to_string(), "89.00", "April");
    // The same device cannot be given twice; the old one is not available.
    let (_, e) = app
        .post(
            &path,
            json!({"newSerialNumber": "R-1", "replacementReason": "lost"}),
        )
        .await;
    assert_eq!(e["error"]["code"], "ASSET_NOT_AVAILABLE");
    // Replacing with another SKU when newSku names it.
    let (s, b) = app
        .post(&path, json!({"newSerialNumber": "R-Q", "replacementReason": "defective", "newSku": "Q-1", "insuranceClaim": true}))
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
    assert_eq!(
        (sub["sku"].as_str(), sub["productName"].as_str()),
        (Some("Q-1"), Some("Chair - Base"))
    );
    assert_eq!(sub["monthlyAmount"].to_string(), "89.00", "the price stays");
    assert_eq!(sub["replacementHistory"].as_array().unwrap().len(), 2);
});

both_engines!(an_extension_tracking_order, |app: TestApp| async move {
    app.set_settings(
        &app.tenant,
        json!({"subscriptions": {"extensions": {"createTrackingOrder": true}}}),
    )
    .await;
    let r = rental(&app, "T-1", "2025-01-01").await;
    app.set_date("2025-10-01", 9);
    let (s, b) = app
        .post(
            &format!("/v1/subscriptions/{r}/extend"),
            json!({"extensionMonths": 6, "newMonthlyAmount": 75.0, "reason": "Renewal"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
    let cust = sub["customerId"].as_str().unwrap();
    let (_, list) = app.get(&format!("/v1/orders?customerId={cust}")).await;
    let ext: Vec<&Value> = list["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["orderType"] == "extension")
        .collect();
    assert_eq!(ext.len(), 1, "{list}");
    let o = ext[0];
    assert_eq!(o["status"], "fulfilled");
    assert_eq!(o["rentalIds"], json!([r]));
    assert_eq!(o["items"][0]["sku"], "P-1");
    assert_eq!(o["items"][0]["unitPrice"].to_string(), "75.00");
    assert_eq!(o["items"][0]["contractLength"], 6);
    let d = &o["extensionDetails"];
    assert_eq!(
        (
            d["extensionMonths"].as_i64(),
            d["previousEndDate"].as_str(),
            d["newEndDate"].as_str()
        ),
        (Some(6), Some("2025-12-31"), Some("2026-06-30"))
    );
    assert_eq!(d["originalOrderId"], sub["orderId"]);
    let (_, c) = app.get(&format!("/v1/customers/{cust}")).await;
    assert_eq!(c["totalOrders"], 2);
});

both_engines!(
    an_assets_history_across_rentals,
    |app: TestApp| async move {
        let r = rental(&app, "AH-1", "2025-01-01").await;
        app.post("/v1/assets", json!({"serialNumber": "AH-2", "sku": "P-1"}))
            .await;
        app.set_date("2025-03-10", 9);
        let (s, _) = app
            .post(
                &format!("/v1/subscriptions/{r}/replace"),
                json!({"newSerialNumber": "AH-2", "reason": "Battery"}),
            )
            .await;
        assert_eq!(s, 200);
        app.set_date("2025-05-01", 9);
        let (s, _) = app
            .post(&format!("/v1/subscriptions/{r}/buyout"), json!({}))
            .await;
        assert_eq!(s, 200);
        let steps = |h: &Value| -> Vec<(String, String, String)> {
            h["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["action"].as_str().unwrap().to_string(),
                        e["date"].as_str().unwrap().to_string(),
                        e["reason"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        };
        let (s, h) = app.get("/v1/assets/AH-1/history").await;
        assert_eq!(s, 200, "{h}");
        let actor = format!("apikey:{}", app.tenant.key_id);
        assert_eq!(
            steps(&h),
            [
                ("registered".into(), "2025-01-01".into(), "".into()),
                ("assigned".into(), "2025-01-01".into(), "".into()),
                ("replaced".into(), "2025-03-10".into(), "Battery".into()),
            ]
        );
        assert_eq!(h["history"][1]["rentalId"], r.as_str());
        assert_eq!(h["history"][2]["actor"], actor.as_str());
        let (_, h) = app.get("/v1/assets/AH-2/history").await;
        assert_eq!(
            steps(&h),
            [
                ("registered".into(), "2025-01-01".into(), "".into()),
                (
                    "assigned".into(),
                    "2025-03-10".into(),
                    "Replacement for AH-1: Battery".into()
                ),
                (
                    "sold".into(),
                    "2025-05-01".into(),
                    "customer_request".into()
                ),
            ]
        );
        let (s, _) = app.get("/v1/assets/NOPE/history").await;
        assert_eq!(s, 404);
        let other = app.new_tenant("EUR").await;
        let (s, _) = app
            .call_as(&other, "GET", "/v1/assets/AH-1/history", None)
            .await;
        assert_eq!(s, 404);
        // A cancelled rental's device stays with the customer until the operator collects it.
        let c = rental(&app, "AH-3", "2025-01-01").await;
        let (_, e) = app
            .put("/v1/assets/AH-3", json!({"status": "returned"}))
            .await;
        assert_eq!(e["error"]["code"], "ASSET_IN_USE");
        app.post(
            &format!("/v1/subscriptions/{c}/cancel"),
            json!({"reason": "other"}),
        )
        .await;
        let (s, a) = app
            .put("/v1/assets/AH-3", json!({"status": "returned"}))
            .await;
        assert_eq!(s, 200, "{a}");
        let (_, a) = app.get("/v1/assets/AH-3").await;
        assert_eq!(a["status"], "returned");
        assert!(a.get("rentalId").is_none());
        let (_, h) = app.get("/v1/assets/AH-3/history").await;
        let actions: Vec<String> = steps(&h).into_iter().map(|s| s.0).collect();
        assert_eq!(
            actions[actions.len() - 2..],
            ["rental_cancelled", "updated"],
            "the operator collected it: {h}"
        );
    }
);

both_engines!(
    income_paid_ahead_follows_the_replacement,
    |app: TestApp| async move {
        // Two months paid on the first day; the device is replaced before the second is billed: its
        // income belongs to the device held on its billing date, the new one (SPEC §2.7).
        let r = rental(&app, "PA-OLD", "2025-01-02").await;
        let (s, _) = app
            .post(
                "/v1/assets",
                json!({"serialNumber": "PA-NEW", "sku": "P-1"}),
            )
            .await;
        assert_eq!(s, 201);
        for p in payments(&app, &r).await.iter().take(2) {
            let id = p["paymentId"].as_str().unwrap();
            let (s, b) = app
                .post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
                .await;
            assert_eq!(s, 200, "{b}");
        }
        app.set_date("2025-01-20", 9);
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{r}/replace"),
                json!({"newSerialNumber": "PA-NEW", "replacementReason": "defective"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let collected = |v: Value| v["lifetimeCollected"].to_string();
        assert_eq!(collected(app.get("/v1/assets/PA-OLD").await.1), "89.00");
        assert_eq!(collected(app.get("/v1/assets/PA-NEW").await.1), "89.00");
        // A later payment goes to the new device as before.
        let third = payments(&app, &r).await[2]["paymentId"]
            .as_str()
            .unwrap()
            .to_string();
        app.post(&format!("/v1/payments/{third}/mark-paid"), json!({}))
            .await;
        assert_eq!(collected(app.get("/v1/assets/PA-NEW").await.1), "178.00");
    }
);
