//! Properties of the lifecycle over random sequences of actions, concurrent actions on one
//! rental, and isolation of every lifecycle route (SPEC §1.10, §2.6.5, §2.7).

use std::collections::{HashMap, HashSet};

use flexportal_testkit::{TestApp, both_engines};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::subscriptions::{rental, rental_payments as payments};

/// Minor units of a JSON money value (two decimals).
fn cents(v: &Value) -> i64 {
    let t = v.to_string();
    let (i, f) = t.split_once('.').unwrap_or((&t, "0"));
    i.parse::<i64>().unwrap() * 100 + format!("{f:0<2}")[..2].parse::<i64>().unwrap()
}

/// The invariants every state of a subscription keeps, whatever happened before.
fn check(sub: &Value, pays: &[Value], paid_before: &HashSet<String>, ctx: &str) {
    let rental = sub["rentalId"].as_str().unwrap();
    // A payment once paid stays paid (never cancelled or reopened).
    for p in pays {
        let id = p["paymentId"].as_str().unwrap();
        if paid_before.contains(id) {
            assert_eq!(p["status"], "paid", "{ctx}: paid payment {id} changed");
        }
    }
    // Each service month is charged at most once, and one-offs at most once each.
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for p in pays.iter().filter(|p| p["status"] != "cancelled") {
        *keys
            .entry(p["idempotencyKey"].as_str().unwrap())
            .or_default() += 1;
    }
    assert!(
        keys.values().all(|n| *n == 1),
        "{ctx}: a charge repeats: {keys:?}"
    );
    let months: Vec<&str> = pays
        .iter()
        .filter(|p| p["status"] != "cancelled")
        .map(|p| p["idempotencyKey"].as_str().unwrap())
        .filter(|k| !k.ends_with(":buyout") && !k.ends_with(":early-return"))
        .collect();
    let distinct: HashSet<&&str> = months.iter().collect();
    assert_eq!(
        distinct.len(),
        months.len(),
        "{ctx}: a month is charged twice"
    );
    // What is paid or still open never exceeds the contract's months, the holdover months the
    // jobs billed while it ran past its end, and one buyout or fee.
    let end = sub["endDate"].as_str().unwrap();
    let in_contract = pays
        .iter()
        .filter(|p| p["status"] != "cancelled")
        .filter(|p| {
            let k = p["idempotencyKey"].as_str().unwrap();
            !k.ends_with(":buyout") && !k.ends_with(":early-return")
        })
        .filter(|p| p["dueDate"].as_str().unwrap() <= end)
        .count() as i64;
    assert!(
        in_contract <= sub["contractLength"].as_i64().unwrap(),
        "{ctx}: {in_contract} charges within a {}-month contract",
        sub["contractLength"]
    );
    // An ended subscription has nothing open after its end, except a one-off.
    if sub["status"] != "active" {
        assert!(sub.get("nextBillingDate").is_none(), "{ctx}");
    }
    assert!(rental.starts_with("sub_"));
}

both_engines!(
    random_sequences_keep_the_invariants,
    |app: TestApp| async move {
        let mut assets = 0;
        let mut compared = 0;
        let mut acted: HashSet<u32> = HashSet::new();
        for seed in 0..6u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            let serial = format!("RS-{seed}");
            let r = rental(&app, &serial, "2025-01-01").await;
            let mut day = jiff::civil::date(2025, 1, 1);
            let mut paid: HashSet<String> = HashSet::new();
            for step in 0..8 {
                day = day
                    .checked_add(jiff::Span::new().days(rng.random_range(5..70)))
                    .unwrap();
                app.set_date(&day.to_string(), 9);
                let ctx = format!("seed {seed} step {step} on {day}");
                let pays = payments(&app, &r).await;
                let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
                let active = sub["status"] == "active";
                let choice = rng.random_range(0..9);
                if active {
                    acted.insert(choice);
                }
                match choice {
                    0 | 1 => {
                        // Pay what is due.
                        for p in pays.iter().filter(|p| {
                            p["status"] == "pending"
                                && p["dueDate"].as_str().unwrap() <= day.to_string().as_str()
                        }) {
                            let id = p["paymentId"].as_str().unwrap();
                            let (s, b) = app
                                .post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
                                .await;
                            assert_eq!(s, 200, "{ctx}: {b}");
                            paid.insert(id.to_string());
                        }
                    }
                    2 => {
                        let months = rng.random_range(1..8);
                        let (s, b) = app
                            .post(
                                &format!("/v1/subscriptions/{r}/extend"),
                                json!({"extensionMonths": months}),
                            )
                            .await;
                        assert_eq!(s.as_u16() == 200, active, "{ctx}: {b}");
                    }
                    3 => {
                        assets += 1;
                        let new = format!("RS-N{assets}");
                        app.post("/v1/assets", json!({"serialNumber": new, "sku": "P-1"}))
                            .await;
                        let (s, b) = app
                            .post(
                                &format!("/v1/subscriptions/{r}/replace"),
                                json!({"newSerialNumber": new, "replacementReason": "defective"}),
                            )
                            .await;
                        assert_eq!(s.as_u16() == 200, active, "{ctx}: {b}");
                    }
                    4 => {
                        flexportal_app::jobs::run(
                            app.app(),
                            Some(&app.tenant.tenant_id),
                            Some(day),
                        )
                        .await
                        .unwrap();
                    }
                    5 | 6 => {
                        // A quote and the action on the same date charge the same.
                        let (kind, calc, field) = if rng.random_bool(0.5) {
                            ("buyout", "calculate-buyout", "buyoutPrice")
                        } else {
                            (
                                "early-return",
                                "calculate-early-return-fee",
                                "earlyReturnFee",
                            )
                        };
                        let (qs, q) = app
                            .post(&format!("/v1/subscriptions/{calc}"), json!({"rentalId": r}))
                            .await;
                        let (s, b) = app
                            .post(&format!("/v1/subscriptions/{r}/{kind}"), json!({}))
                            .await;
                        if active && qs == 200 && s == 200 {
                            assert_eq!(q[field], b[field], "{ctx}: quote and {kind} differ");
                            compared += 1;
                        } else if !active {
                            assert_eq!(b["error"]["code"], "SUBSCRIPTION_NOT_ACTIVE", "{ctx}");
                        } else {
                            // A buyout with nothing left to charge asks for an explicit price.
                            assert_eq!(b["error"]["code"], "INVALID_BUYOUT_PRICE", "{ctx}: {b}");
                            assert_eq!(q["calculation"]["requiresManualPrice"], true, "{ctx}: {q}");
                        }
                    }
                    7 => {
                        let (s, _) = app
                            .post(
                                &format!("/v1/subscriptions/{r}/cancel"),
                                json!({"reason": "other"}),
                            )
                            .await;
                        assert_eq!(s.as_u16() == 200, active, "{ctx}");
                    }
                    _ => {
                        // Cancel one open payment by hand.
                        if let Some(p) = pays.iter().find(|p| p["status"] == "pending") {
                            let id = p["paymentId"].as_str().unwrap();
                            let (s, b) = app
                                .post(
                                    &format!("/v1/payments/{id}/cancel"),
                                    json!({"reason": "waived"}),
                                )
                                .await;
                            assert_eq!(s, 200, "{ctx}: {b}");
                        }
                    }
                }
                let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
                let pays = payments(&app, &r).await;
                check(&sub, &pays, &paid, &ctx);
                // Collected equals the net of what is paid.
                let net: i64 = pays
                    .iter()
                    .filter(|p| p["status"] == "paid")
                    .map(|p| cents(&p["subtotal"]))
                    .sum();
                assert_eq!(cents(&sub["totalCollected"]), net, "{ctx}");
            }
        }
        // The sequences did exercise the actions on active subscriptions.
        assert!(compared >= 2, "only {compared} quotes compared");
        assert!(
            acted.len() >= 7,
            "actions tried on active rentals: {acted:?}"
        );
    }
);

both_engines!(concurrent_extensions_all_apply, |app: TestApp| async move {
    let r = rental(&app, "CE-1", "2025-01-01").await;
    let path = format!("/v1/subscriptions/{r}/extend");
    let results = app
        .concurrently(
            (0..4)
                .map(|_| ("POST", path.clone(), Some(json!({"extensionMonths": 3}))))
                .collect(),
        )
        .await;
    assert!(
        results.iter().all(|(s, _)| s.as_u16() == 200),
        "{results:?}"
    );
    let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
    assert_eq!(
        (sub["contractLength"].as_i64(), sub["endDate"].as_str()),
        (Some(24), Some("2026-12-31"))
    );
    assert_eq!(sub["extensionHistory"].as_array().unwrap().len(), 4);
    let pays = payments(&app, &r).await;
    assert_eq!(pays.len(), 24);
    let keys: HashSet<&str> = pays
        .iter()
        .map(|p| p["idempotencyKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 24);
    // Two replacements racing for the same new device: one gets it.
    app.post("/v1/assets", json!({"serialNumber": "CE-N", "sku": "P-1"}))
        .await;
    let r2 = rental(&app, "CE-2", "2025-01-01").await;
    let results = app
        .concurrently(vec![
            (
                "POST",
                format!("/v1/subscriptions/{r}/replace"),
                Some(json!({"newSerialNumber": "CE-N", "reason": "x"})),
            ),
            (
                "POST",
                format!("/v1/subscriptions/{r2}/replace"),
                Some(json!({"newSerialNumber": "CE-N", "reason": "x"})),
            ),
        ])
        .await;
    let won: Vec<_> = results.iter().filter(|(s, _)| s.as_u16() == 200).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    let lost = results.iter().find(|(s, _)| s.as_u16() != 200).unwrap();
    assert_eq!(lost.1["error"]["code"], "ASSET_NOT_AVAILABLE");
});

both_engines!(lifecycle_routes_are_isolated, |app: TestApp| async move {
    let r = rental(&app, "ISO-1", "2025-01-01").await;
    let other = app.new_tenant("USD").await;
    for (path, body) in [
        (
            format!("/v1/subscriptions/{r}/extend"),
            json!({"extensionMonths": 1}),
        ),
        (
            format!("/v1/subscriptions/{r}/replace"),
            json!({"newSerialNumber": "X", "reason": "x"}),
        ),
        (
            format!("/v1/subscriptions/{r}/upgrade"),
            json!({"newSku": "P-1", "contractLength": 12}),
        ),
        (format!("/v1/subscriptions/{r}/buyout"), json!({})),
        (format!("/v1/subscriptions/{r}/early-return"), json!({})),
        (
            format!("/v1/subscriptions/{r}/cancel"),
            json!({"reason": "other"}),
        ),
        (
            "/v1/subscriptions/calculate-buyout".to_string(),
            json!({"rentalId": r}),
        ),
        (
            "/v1/subscriptions/calculate-early-return-fee".to_string(),
            json!({"rentalId": r}),
        ),
    ] {
        let (s, b) = app.call_as(&other, "POST", &path, Some(body)).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (404, Some("NOT_FOUND")),
            "{path}"
        );
    }
    let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
    assert_eq!(
        (sub["status"].as_str(), sub["contractLength"].as_i64()),
        (Some("active"), Some(12))
    );
    // Malformed and oversized bodies are refused without effect.
    for body in ["{", "[1]", "\"x\""] {
        let req = axum::http::Request::builder()
            .method("POST")
            .uri(format!("/v1/subscriptions/{r}/buyout"))
            .header("authorization", format!("Bearer {}", app.tenant.key))
            .header("tenant-id", &app.tenant.tenant_id)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap();
        let (s, b) = app.raw(req).await;
        assert_eq!(s.as_u16(), 400, "{body}: {b}");
    }
    let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
    assert_eq!(sub["status"], "active");
});
