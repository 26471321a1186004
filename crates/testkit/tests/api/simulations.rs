//! Whole contracts simulated month by month with the daily jobs, for the paths that move a
//! rental to another device (replace, upgrade) and the contract end, checked against figures
//! computed here from the contract terms (SPEC §2.6.5, §2.6.6, §2.7, §2.13).

use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

use super::jobs::{jobs, pay_due, sub};
use super::subscriptions::{rental, rental_payments as payments};

/// Money in minor units as the API writes it (two decimals).
fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Runs the jobs and pays what is due on the 1st and the 15th of every month from `from` to
/// `to` (inclusive, `YYYY-MM`), for each rental of `rentals`.
async fn months(app: &TestApp, rentals: &[&str], from: (i16, i8), to: (i16, i8)) {
    let mut d = jiff::civil::date(from.0, from.1, 1);
    let end = jiff::civil::date(to.0, to.1, 1);
    while d <= end {
        for day in [d, d.checked_add(jiff::Span::new().days(14)).unwrap()] {
            jobs(app, &day.to_string()).await;
            for r in rentals {
                pay_due(app, r, &day.to_string()).await;
            }
        }
        d = d.checked_add(jiff::Span::new().months(1)).unwrap();
    }
}

fn count(pays: &[Value], status: &str) -> usize {
    pays.iter().filter(|p| p["status"] == status).count()
}

both_engines!(
    a_replacement_splits_income_between_devices,
    |app: TestApp| async move {
        app.set_settings(
            &app.tenant,
            json!({"subscriptions": {"contractEnd": {"behaviour": "auto_terminate"}}}),
        )
        .await;
        let r = rental(&app, "SR-1", "2025-01-01").await;
        app.post("/v1/assets", json!({"serialNumber": "SR-2", "sku": "P-1"}))
            .await;
        months(&app, &[&r], (2025, 1), (2025, 4)).await;
        app.set_date("2025-04-20", 9);
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{r}/replace"),
                json!({"newSerialNumber": "SR-2", "replacementReason": "damaged"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        months(&app, &[&r], (2025, 5), (2026, 2)).await;
        // 12 months of 89.00, Jan–Apr billed while SR-1 was held, May–Dec with SR-2; the contract
        // ended on 2025-12-31 and the job completed it.
        let monthly = 8_900;
        let s = sub(&app, &r).await;
        assert_eq!(s["status"], "ended_completed");
        assert_eq!(s["totalCollected"].to_string(), money(12 * monthly));
        assert_eq!(s["costRecoveryPercent"].to_string(), "106.8");
        let pays = payments(&app, &r).await;
        assert_eq!((pays.len(), count(&pays, "paid")), (12, 12));
        let (_, a1) = app.get("/v1/assets/SR-1").await;
        let (_, a2) = app.get("/v1/assets/SR-2").await;
        assert_eq!(
            (a1["status"].as_str(), a2["status"].as_str()),
            (Some("unavailable"), Some("returned"))
        );
        assert_eq!(a1["lifetimeCollected"].to_string(), money(4 * monthly));
        assert_eq!(a2["lifetimeCollected"].to_string(), money(8 * monthly));
        let (_, h) = app.get("/v1/assets/SR-2/history").await;
        let actions: Vec<&str> = h["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["registered", "assigned", "returned"]);
        let cust = s["customerId"].as_str().unwrap();
        let (_, c) = app.get(&format!("/v1/customers/{cust}")).await;
        assert_eq!(
            (
                c["totalDevicesRented"].as_i64(),
                c["lifetimeCollected"].to_string()
            ),
            (Some(0), money(12 * monthly))
        );
    }
);

both_engines!(
    an_upgrade_carries_the_customer_to_a_new_contract,
    |app: TestApp| async move {
        let old = rental(&app, "SU-1", "2025-01-01").await;
        let (s, b) = app.post("/v1/products", json!({
        "productSku": "SU", "name": "Laptop Pro", "specification": "s", "category": "Laptops", "brand": "B",
        "variants": [{"variantSku": "SU-1", "variantName": "M4", "grade": "A", "acquisitionCost": 1400.0,
            "pricing": [{"contractLength": 24, "monthlyPrice": 79.0}]}]
    })).await;
        assert_eq!(s, 201, "{b}");
        app.post(
            "/v1/assets",
            json!({"serialNumber": "SU-NEW", "sku": "SU-1"}),
        )
        .await;
        months(&app, &[&old], (2025, 1), (2025, 6)).await;
        app.set_date("2025-06-20", 9);
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{old}/upgrade"),
                json!({"newSku": "SU-1", "contractLength": 24, "newSerialNumber": "SU-NEW"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let new = b["newRentalId"].as_str().unwrap().to_string();
        months(&app, &[&old, &new], (2025, 7), (2026, 6)).await;
        // Old: Jan–Jun paid, Jul–Dec cancelled at the upgrade, no fee (24 ≥ 6 months left).
        let o = sub(&app, &old).await;
        let op = payments(&app, &old).await;
        assert_eq!(o["status"], "ended_upgrade");
        assert_eq!(
            (count(&op, "paid"), count(&op, "cancelled"), op.len()),
            (6, 6, 12)
        );
        assert_eq!(o["totalCollected"].to_string(), money(6 * 8_900));
        // New: billed on the 20th from 2025-06-20; 12 of them fall on or before 2026-06-15.
        let n = sub(&app, &new).await;
        let np = payments(&app, &new).await;
        assert_eq!(n["status"], "active");
        assert_eq!(
            (count(&np, "paid"), count(&np, "pending"), np.len()),
            (12, 12, 24)
        );
        assert_eq!(n["totalCollected"].to_string(), money(12 * 7_900));
        // 948 / 1400 = 67.7 %.
        assert_eq!(n["costRecoveryPercent"].to_string(), "67.7");
        let cust = n["customerId"].as_str().unwrap();
        let (_, c) = app.get(&format!("/v1/customers/{cust}")).await;
        assert_eq!(
            c["lifetimeCollected"].to_string(),
            money(6 * 8_900 + 12 * 7_900)
        );
        assert_eq!(
            (
                c["totalDevicesRented"].as_i64(),
                c["totalMonthlyRevenue"].to_string()
            ),
            (Some(1), "79.00".to_string())
        );
        let (_, a) = app.get("/v1/assets/SU-1").await;
        assert_eq!(a["status"], "returned");
        assert_eq!(a["lifetimeCollected"].to_string(), money(6 * 8_900));
    }
);
