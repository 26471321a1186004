//! Upgrades in both modes (SPEC §2.6.5 upgradeSubscription, createSubscription of an upgrade
//! order).

use flexportal_testkit::{TestApp, both_engines, examples};
use serde_json::{Value, json};

use super::subscriptions::{rental_payments as payments, setup};

/// A subscription of 12 × 89.00 of `P-1` started 2025-01-01 with its first `paid` charges paid,
/// the newer models `U-1` (99.00 / 12 months, 79.00 / 24) and `MACBOOK-PRO-16-M4` (159.00 / 24),
/// and the clock at `as_of`. Returns the rental id.
async fn old_rental(app: &TestApp, serial: &str, paid: usize, as_of: &str) -> String {
    app.set_date("2025-01-01", 9);
    let order = setup(app, 0, 1, &format!("{serial}@example.com")).await;
    if app.get("/v1/products/variants?sku=U-1").await.1["count"] == 0 {
        let (s, b) = app.post("/v1/products", json!({
            "productSku": "U", "name": "Laptop Pro", "specification": "s", "category": "Laptops", "brand": "B",
            "variants": [
                {"variantSku": "U-1", "variantName": "M4", "grade": "A", "listPrice": 2499.0, "acquisitionCost": 1400.0,
                 "pricing": [{"contractLength": 12, "monthlyPrice": 99.0}, {"contractLength": 24, "monthlyPrice": 79.0}]},
                {"variantSku": "MACBOOK-PRO-16-M4", "variantName": "16 M4", "grade": "A", "listPrice": 3499.0,
                 "pricing": [{"contractLength": 24, "monthlyPrice": 159.0}]}
            ]
        })).await;
        assert_eq!(s, 201, "{b}");
    }
    app.post("/v1/assets", json!({"serialNumber": serial, "sku": "P-1"}))
        .await;
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": serial}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let rental = b["rentalId"].as_str().unwrap().to_string();
    for p in payments(app, &rental).await.iter().take(paid) {
        let id = p["paymentId"].as_str().unwrap();
        app.post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
            .await;
    }
    app.set_date(as_of, 9);
    rental
}

fn by_status(pays: &[Value], status: &str) -> Vec<String> {
    pays.iter()
        .filter(|p| p["status"] == status)
        .map(|p| p["total"].to_string())
        .collect()
}

both_engines!(an_immediate_upgrade, |app: TestApp| async move {
    let old = old_rental(&app, "OLD-1", 5, "2025-06-15").await;
    app.post("/v1/assets", json!({"serialNumber": "NEW-1", "sku": "U-1"}))
        .await;
    app.post(
        "/v1/assets",
        json!({"serialNumber": "WRONG-1", "sku": "P-1"}),
    )
    .await;
    let path = format!("/v1/subscriptions/{old}/upgrade");
    for (body, code) in [
        (json!({"contractLength": 24}), "VALIDATION_ERROR"),
        (
            json!({"newSku": "NOPE", "contractLength": 24}),
            "VARIANT_NOT_FOUND",
        ),
        (
            json!({"newSku": "U-1", "contractLength": 7}),
            "INVALID_CONTRACT_LENGTH",
        ),
        (
            json!({"newSku": "U-1", "contractLength": 24, "newSerialNumber": "NONE"}),
            "ASSET_NOT_FOUND",
        ),
        (
            json!({"newSku": "U-1", "contractLength": 24, "newSerialNumber": "WRONG-1"}),
            "SKU_MISMATCH",
        ),
        (
            json!({"newSku": "U-1", "contractLength": 24, "newSerialNumber": "OLD-1"}),
            "ASSET_NOT_AVAILABLE",
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
        .post(&path, json!({"newSku": "U-1", "contractLength": 24, "newSerialNumber": "NEW-1", "reason": "Latest model"}))
        .await;
    assert_eq!(s, 200, "{b}");
    let new = b["newRentalId"].as_str().unwrap().to_string();
    assert_eq!(b["oldRentalId"], old.as_str());
    assert_eq!(b["newMonthlyAmount"].to_string(), "79.00");
    assert_eq!(
        (b["oldDevice"].as_str(), b["newDevice"].as_str()),
        (Some("Laptop - Base"), Some("Laptop Pro - M4"))
    );
    let (_, o) = app.get(&format!("/v1/subscriptions/{old}")).await;
    assert_eq!(o["status"], "ended_upgrade");
    assert_eq!(o["monthsSaved"], 6);
    let (_, n) = app.get(&format!("/v1/subscriptions/{new}")).await;
    assert_eq!(
        (n["status"].as_str(), n["upgradeFromRentalId"].as_str()),
        (Some("active"), Some(old.as_str()))
    );
    assert_eq!(
        (n["startDate"].as_str(), n["contractLength"].as_i64()),
        (Some("2025-06-15"), Some(24))
    );
    // 24 months cover the 6 that remained: no fee. June was billed and stays collectible.
    let pays = payments(&app, &old).await;
    assert_eq!(by_status(&pays, "cancelled").len(), 6);
    assert_eq!(by_status(&pays, "pending"), ["89.00"]);
    let (_, a) = app.get("/v1/assets/OLD-1").await;
    assert_eq!(a["status"], "returned");
    let (_, a) = app.get("/v1/assets/NEW-1").await;
    assert_eq!(
        (a["status"].as_str(), a["rentalId"].as_str()),
        (Some("rented_out"), Some(new.as_str()))
    );
    let (_, ord) = app
        .get(&format!(
            "/v1/orders/{}",
            b["upgradeOrderId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (ord["orderType"].as_str(), ord["status"].as_str()),
        (Some("upgrade"), Some("fulfilled"))
    );
    assert_eq!(ord["upgradeDetails"]["previousRentalId"], old.as_str());
    assert_eq!(
        ord["upgradeDetails"]["previousMonthlyAmount"].to_string(),
        "89.00"
    );
    let (_, c) = app
        .get(&format!(
            "/v1/customers/{}",
            n["customerId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (
            c["totalDevicesRented"].as_i64(),
            c["totalMonthlyRevenue"].to_string()
        ),
        (Some(1), "79.00".to_string())
    );
    let (_, e) = app
        .post(&path, json!({"newSku": "U-1", "contractLength": 24}))
        .await;
    assert_eq!(e["error"]["code"], "SUBSCRIPTION_NOT_ACTIVE");
});

both_engines!(
    a_shorter_upgrade_pays_the_early_return_fee,
    |app: TestApp| async move {
        let a = old_rental(&app, "OLD-2", 6, "2025-06-15").await;
        app.post("/v1/assets", json!({"serialNumber": "NEW-2", "sku": "U-1"}))
            .await;
        let (s, b) = app
        .post(&format!("/v1/subscriptions/{a}/upgrade"), json!({"newSku": "U-1", "contractLength": 3, "newMonthlyAmount": 120.0, "newSerialNumber": "NEW-2"}))
        .await;
        assert_eq!(s, 200, "{b}");
        let pays = payments(&app, &a).await;
        assert_eq!(
            by_status(&pays, "pending"),
            ["534.00"],
            "the early-return fee of the 6 months left"
        );
        assert!(
            pays.iter()
                .any(|p| p["idempotencyKey"] == format!("{a}:early-return"))
        );
        // Buying the old device instead: no fee, the device is sold.
        let b2 = old_rental(&app, "OLD-3", 6, "2025-06-15").await;
        app.post("/v1/assets", json!({"serialNumber": "NEW-3", "sku": "U-1"}))
            .await;
        let (s, b) = app
        .post(&format!("/v1/subscriptions/{b2}/upgrade"), json!({"newSku": "U-1", "contractLength": 3, "newMonthlyAmount": 120.0, "newSerialNumber": "NEW-3", "buyoutAmount": 300.0}))
        .await;
        assert_eq!(s, 200, "{b}");
        let pays = payments(&app, &b2).await;
        assert_eq!(by_status(&pays, "pending"), ["300.00"]);
        let (_, asset) = app.get("/v1/assets/OLD-3").await;
        assert_eq!(asset["status"], "sold");
    }
);

both_engines!(a_deferred_upgrade, |app: TestApp| async move {
    let old = old_rental(&app, "OLD-4", 2, "2025-03-10").await;
    let path = format!("/v1/subscriptions/{old}/upgrade");
    let body = examples("upgradeSubscription")[0].clone();
    let (s, b) = app.post(&path, body.clone()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["message"], "Upgrade order created");
    assert!(b["newRentalId"].is_null());
    assert_eq!(b["newMonthlyAmount"].to_string(), "159.00");
    let order = b["upgradeOrderId"].as_str().unwrap().to_string();
    let (s, e) = app.post(&path, body.clone()).await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (409, Some("UPGRADE_ALREADY_PENDING"))
    );
    let (_, o) = app.get(&format!("/v1/subscriptions/{old}")).await;
    assert_eq!(o["status"], "active");
    // The new device ships ten days later: its fulfilment ends the old subscription then.
    app.set_date("2025-03-20", 9);
    app.post(
        "/v1/assets",
        json!({"serialNumber": "M4-1", "sku": "MACBOOK-PRO-16-M4"}),
    )
    .await;
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": "M4-1"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["rental"]["upgradeFromRentalId"], old.as_str());
    let (_, o) = app.get(&format!("/v1/subscriptions/{old}")).await;
    assert_eq!(o["status"], "ended_upgrade");
    assert_eq!(o["actualMonthsRented"], 3);
    let pays = payments(&app, &old).await;
    assert_eq!(by_status(&pays, "cancelled").len(), 9, "April to December");
    let (_, a) = app.get("/v1/assets/OLD-4").await;
    assert_eq!(a["status"], "returned");
});

both_engines!(
    an_ending_cancels_a_pending_upgrade,
    |app: TestApp| async move {
        let old = old_rental(&app, "OLD-5", 2, "2025-03-10").await;
        let path = format!("/v1/subscriptions/{old}/upgrade");
        let up = json!({"newSku": "MACBOOK-PRO-16-M4", "contractLength": 24});
        let (_, b) = app.post(&path, up.clone()).await;
        let first = b["upgradeOrderId"].as_str().unwrap().to_string();
        // Cancelling the upgrade order clears the pending upgrade; another can be made.
        let (s, _) = app
            .post(
                &format!("/v1/orders/{first}/cancel"),
                json!({"reason": "changed mind"}),
            )
            .await;
        assert_eq!(s, 200);
        let (s, b) = app.post(&path, up.clone()).await;
        assert_eq!(s, 200, "{b}");
        let second = b["upgradeOrderId"].as_str().unwrap().to_string();
        // Ending the old subscription cancels the pending upgrade order.
        let (s, _) = app
            .post(
                &format!("/v1/subscriptions/{old}/cancel"),
                json!({"reason": "other"}),
            )
            .await;
        assert_eq!(s, 200);
        let (_, o) = app.get(&format!("/v1/orders/{second}")).await;
        assert_eq!(o["status"], "cancelled");
        app.post(
            "/v1/assets",
            json!({"serialNumber": "M4-2", "sku": "MACBOOK-PRO-16-M4"}),
        )
        .await;
        let (_, e) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": second, "assetSerialNumber": "M4-2"}),
            )
            .await;
        assert_eq!(e["error"]["code"], "ORDER_NOT_CONFIRMED");
        app.set_settings(
            &app.tenant,
            json!({"subscriptions": {"upgrades": {"enabled": false}}}),
        )
        .await;
        let other = old_rental(&app, "OLD-6", 0, "2025-02-01").await;
        let (_, e) = app
            .post(&format!("/v1/subscriptions/{other}/upgrade"), up)
            .await;
        assert_eq!(e["error"]["code"], "FEATURE_DISABLED");
    }
);
