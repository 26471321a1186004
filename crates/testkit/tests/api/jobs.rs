//! The daily jobs (SPEC §2.6.6 contract end, §2.7 late fees, the late-fee figures of §4.8) and
//! whole contracts simulated month by month with them.

use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

use super::subscriptions::{rental, rental_payments as payments};

/// Runs the jobs for the default unit as of `date` (the clock moves there too).
pub async fn jobs(app: &TestApp, date: &str) -> flexportal_app::jobs::JobReport {
    app.set_date(date, 3);
    flexportal_app::jobs::run(
        app.app(),
        Some(&app.tenant.tenant_id),
        Some(date.parse().unwrap()),
    )
    .await
    .expect("jobs run")
}

pub async fn sub(app: &TestApp, rental: &str) -> Value {
    app.get(&format!("/v1/subscriptions/{rental}")).await.1
}

/// Marks paid every pending payment of the rental due on or before `date`.
pub async fn pay_due(app: &TestApp, rental: &str, date: &str) -> usize {
    let mut n = 0;
    for p in payments(app, rental).await {
        if p["status"] == "pending" && p["dueDate"].as_str().unwrap() <= date {
            let id = p["paymentId"].as_str().unwrap();
            let (s, b) = app
                .post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
                .await;
            assert_eq!(s, 200, "{b}");
            n += 1;
        }
    }
    n
}

both_engines!(
    holdover_until_the_operator_acts,
    |app: TestApp| async move {
        let r = rental(&app, "H-1", "2025-01-01").await;
        let before = jobs(&app, "2025-12-31").await;
        assert_eq!(
            before.contracts_ended, 0,
            "the last day is still in the contract"
        );
        let first = jobs(&app, "2026-01-01").await;
        assert_eq!((first.contracts_ended, first.holdover_charges), (1, 1));
        assert_eq!(
            jobs(&app, "2026-01-01").await.holdover_charges,
            0,
            "a second run changes nothing"
        );
        let third = jobs(&app, "2026-03-15").await;
        assert_eq!(third.holdover_charges, 2, "February and March");
        let pays = payments(&app, &r).await;
        assert_eq!(pays.len(), 15);
        let holdover: Vec<(&str, &str)> = pays[12..]
            .iter()
            .map(|p| {
                (
                    p["dueDate"].as_str().unwrap(),
                    p["idempotencyKey"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            holdover.iter().map(|h| h.0).collect::<Vec<_>>(),
            ["2026-01-01", "2026-02-01", "2026-03-01"]
        );
        assert!(holdover[0].1.ends_with(":2026-01"));
        let totals: Vec<String> = pays[12..].iter().map(|p| p["total"].to_string()).collect();
        assert_eq!(totals, vec!["89.00"; 3]);
        let s = sub(&app, &r).await;
        assert_eq!(
            (s["status"].as_str(), s["contractLength"].as_i64()),
            (Some("active"), Some(12))
        );
        assert_eq!(s["costRecovery"]["monthsRemaining"], 0);
        // The return completes the contract without a fee; the holdover months stay collectible.
        let (st, b) = app
            .post(&format!("/v1/subscriptions/{r}/early-return"), json!({}))
            .await;
        assert_eq!(st, 200, "{b}");
        assert_eq!(b["earlyReturnFee"].to_string(), "0.00");
        let s = sub(&app, &r).await;
        assert_eq!(
            (s["status"].as_str(), s["monthsSaved"].as_i64()),
            (Some("ended_completed"), Some(0))
        );
        assert_eq!(
            jobs(&app, "2026-05-01").await.contracts_ended,
            0,
            "ended contracts are left alone"
        );
        assert_eq!(payments(&app, &r).await.len(), 15);
    }
);

both_engines!(
    an_extension_after_holdover_reuses_the_billed_months,
    |app: TestApp| async move {
        let r = rental(&app, "H-2", "2025-01-01").await;
        jobs(&app, "2026-02-10").await;
        assert_eq!(payments(&app, &r).await.len(), 14);
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{r}/extend"),
                json!({"extensionMonths": 6}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let pays = payments(&app, &r).await;
        let due: Vec<&str> = pays[12..]
            .iter()
            .map(|p| p["dueDate"].as_str().unwrap())
            .collect();
        assert_eq!(
            due,
            [
                "2026-01-01",
                "2026-02-01",
                "2026-03-01",
                "2026-04-01",
                "2026-05-01",
                "2026-06-01"
            ]
        );
        assert_eq!(jobs(&app, "2026-06-30").await.holdover_charges, 0);
    }
);

both_engines!(auto_terminate_and_auto_renew, |app: TestApp| async move {
    app.set_settings(
        &app.tenant,
        json!({"subscriptions": {"contractEnd": {"behaviour": "auto_terminate"}}}),
    )
    .await;
    let t = rental(&app, "T-1", "2025-01-01").await;
    let r = jobs(&app, "2026-01-01").await;
    assert_eq!(r.completed, 1);
    let s = sub(&app, &t).await;
    assert_eq!(
        (
            s["status"].as_str(),
            s["actualMonthsRented"].as_i64(),
            s["monthsSaved"].as_i64()
        ),
        (Some("ended_completed"), Some(12), Some(0))
    );
    let (_, a) = app.get("/v1/assets/T-1").await;
    assert_eq!(a["status"], "returned");
    assert_eq!(jobs(&app, "2026-01-02").await.completed, 0);

    app.set_settings(
        &app.tenant,
        json!({"subscriptions": {"contractEnd": {"behaviour": "auto_renew_monthly"}}}),
    )
    .await;
    let m = rental(&app, "M-1", "2025-01-01").await;
    assert_eq!(jobs(&app, "2026-01-01").await.renewals, 1);
    let s = sub(&app, &m).await;
    assert_eq!(
        (s["contractLength"].as_i64(), s["endDate"].as_str()),
        (Some(13), Some("2026-01-31"))
    );
    assert_eq!(s["extensionHistory"][0]["reason"], "auto-renew monthly");
    assert_eq!(s["extensionHistory"][0]["extendedBy"]["userId"], "system");
    assert_eq!(
        jobs(&app, "2026-03-05").await.renewals,
        2,
        "the job catches up"
    );
    let s = sub(&app, &m).await;
    assert_eq!(
        (s["contractLength"].as_i64(), s["endDate"].as_str()),
        (Some(15), Some("2026-03-31"))
    );
    assert_eq!(payments(&app, &m).await.len(), 15);
    let lengths: Vec<i64> = s["extensionHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["newContractLength"].as_i64().unwrap())
        .collect();
    assert_eq!(lengths, [13, 14, 15], "renewals in order");

    app.set_settings(
        &app.tenant,
        json!({"subscriptions": {"contractEnd": {"behaviour": "auto_renew_same_term"}}}),
    )
    .await;
    let y = rental(&app, "Y-1", "2025-01-01").await;
    jobs(&app, "2026-01-01").await;
    let s = sub(&app, &y).await;
    assert_eq!(
        (s["contractLength"].as_i64(), s["endDate"].as_str()),
        (Some(24), Some("2026-12-31"))
    );
    assert_eq!(payments(&app, &y).await.len(), 24);
});

both_engines!(late_fees_as_spec_4_8, |app: TestApp| async move {
    let eur = app.new_tenant("EUR").await;
    let taxes = json!({"vatEnabled": true, "defaultRate": 21, "calculation": "exclusive"});
    app.set_settings(&eur, json!({"taxes": taxes, "payments": {"lateFees": {"enabled": true, "method": "percentage", "value": 5, "gracePeriodDays": 3}}})).await;
    // The default unit gets no late fees: the job only touches units that turned them on.
    let untouched = rental(&app, "L-0", "2025-01-01").await;
    let ctx = app.context(&eur).await;
    let call = |method: &'static str, path: String, body: Option<Value>| {
        let app = &app;
        let eur = &eur;
        async move { app.call_as(eur, method, &path, body).await }
    };
    app.set_date("2025-01-01", 9);
    call("POST", "/v1/products".into(), Some(json!({
        "productSku": "E", "name": "E-bike", "specification": "s", "category": "Mobility", "brand": "B",
        "variants": [{"variantSku": "E-1", "variantName": "City", "grade": "A", "pricing": [{"contractLength": 12, "monthlyPrice": 89.0}]}]
    }))).await;
    call(
        "POST",
        "/v1/assets".into(),
        Some(json!({"serialNumber": "EB-1", "sku": "E-1"})),
    )
    .await;
    let (_, o) = call(
        "POST",
        "/v1/orders".into(),
        Some(json!({
            "customer": {"email": "l@example.com", "firstName": "L", "lastName": "F"},
            "billingAddress": {"streetAddress": "S 1", "city": "Berlin", "country": "Germany"},
            "items": [{"sku": "E-1", "quantity": 1, "contractLength": 12}]
        })),
    )
    .await;
    let (s, b) = call(
        "POST",
        "/v1/subscriptions".into(),
        Some(json!({"orderId": o["orderId"], "assetSerialNumber": "EB-1"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let r = b["rentalId"].as_str().unwrap().to_string();
    let run = |date: &'static str| {
        let app = &app;
        let ctx = &ctx;
        async move {
            app.set_date(date, 3);
            flexportal_app::jobs::run_unit(app.app(), ctx, date.parse().unwrap())
                .await
                .unwrap()
                .late_fees
        }
    };
    assert_eq!(run("2025-01-04").await, 0, "within the grace period");
    assert_eq!(run("2025-01-05").await, 1);
    assert_eq!(run("2025-01-05").await, 0, "once per payment");
    let (_, p) = call(
        "GET",
        format!("/v1/payments?rentalId={r}&sortBy=dueDate&sortDir=asc"),
        None,
    )
    .await;
    let first = &p["payments"][0];
    assert_eq!(first["lateFeeApplied"], true);
    assert_eq!(first["originalAmount"].to_string(), "107.69");
    assert_eq!(first["lateFeeAmount"].to_string(), "5.38");
    assert_eq!(
        (first["total"].to_string(), first["amount"].to_string()),
        ("113.07".into(), "113.07".into())
    );
    assert_eq!(
        first["subtotal"].to_string(),
        "89.00",
        "the fee is not taxed"
    );
    assert_eq!(p["payments"][1]["lateFeeApplied"], false);
    // Paid payments never get a fee; a flat fee adds its amount.
    let id = p["payments"][1]["paymentId"].as_str().unwrap();
    call(
        "POST",
        format!("/v1/payments/{id}/mark-paid"),
        Some(json!({})),
    )
    .await;
    app.set_settings(&eur, json!({"taxes": taxes, "payments": {"lateFees": {"enabled": true, "method": "flat", "value": 10}}})).await;
    let ctx2 = app.context(&eur).await;
    app.set_date("2025-03-02", 3);
    let n = flexportal_app::jobs::run_unit(app.app(), &ctx2, "2025-03-02".parse().unwrap())
        .await
        .unwrap()
        .late_fees;
    assert_eq!(n, 1, "only March (January has one, February is paid)");
    let (_, p) = call(
        "GET",
        format!("/v1/payments?rentalId={r}&sortBy=dueDate&sortDir=asc"),
        None,
    )
    .await;
    assert_eq!(p["payments"][2]["total"].to_string(), "117.69");
    assert_eq!(p["payments"][1]["lateFeeApplied"], false);
    let def = payments(&app, &untouched).await;
    assert!(def.iter().all(|p| p["lateFeeApplied"] == false));
});

/// Independently computed expectations of a simulated contract.
struct Expect {
    status: &'static str,
    paid: usize,
    cancelled: usize,
    pending: Vec<&'static str>,
    collected: &'static str,
    recovery: &'static str,
    asset: &'static str,
}

async fn simulate(
    app: &TestApp,
    serial: &str,
    action_month: u32,
    action: (&str, Value),
    until: &str,
    e: Expect,
) {
    let r = rental(app, serial, "2025-01-01").await;
    // Month by month: the jobs run on the 1st, the customer pays what is due.
    for m in 1..=action_month {
        let date = format!("2025-{m:02}-01");
        jobs(app, &date).await;
        pay_due(app, &r, &date).await;
    }
    app.set_date(&format!("2025-{action_month:02}-15"), 9);
    let (s, b) = app
        .post(
            &format!("/v1/subscriptions/{r}/{}", action.0),
            action.1.clone(),
        )
        .await;
    assert_eq!(s, 200, "{serial}: {b}");
    // The jobs keep running; nothing more is paid.
    let mut month = jiff::civil::date(2025, action_month as i8, 1);
    let end: jiff::civil::Date = until.parse().unwrap();
    while month <= end {
        jobs(app, &month.to_string()).await;
        month = month.checked_add(jiff::Span::new().months(1)).unwrap();
    }
    let s = sub(app, &r).await;
    let pays = payments(app, &r).await;
    let count = |st: &str| pays.iter().filter(|p| p["status"] == st).count();
    let pending: Vec<String> = pays
        .iter()
        .filter(|p| p["status"] == "pending")
        .map(|p| p["total"].to_string())
        .collect();
    assert_eq!(s["status"], e.status, "{serial}");
    assert_eq!(
        (count("paid"), count("cancelled")),
        (e.paid, e.cancelled),
        "{serial}"
    );
    assert_eq!(pending, e.pending, "{serial}");
    assert_eq!(s["totalCollected"].to_string(), e.collected, "{serial}");
    assert_eq!(s["costRecoveryPercent"].to_string(), e.recovery, "{serial}");
    let (_, a) = app.get(&format!("/v1/assets/{serial}")).await;
    assert_eq!(a["status"], e.asset, "{serial}");
    assert_eq!(a["lifetimeCollected"].to_string(), e.collected, "{serial}");
}

both_engines!(whole_contracts_month_by_month, |app: TestApp| async move {
    // Paid through month k at 89.00: collected 89k, recovery 8.9k % of 1 000.00.
    simulate(
        &app,
        "SIM-B",
        7,
        ("buyout", json!({})),
        "2026-02-01",
        Expect {
            status: "ended_buyout",
            paid: 7,
            cancelled: 5,
            pending: vec!["445.00"],
            collected: "623.00",
            recovery: "62.3",
            asset: "sold",
        },
    )
    .await;
    simulate(
        &app,
        "SIM-E",
        5,
        ("early-return", json!({"returnCondition": "fair"})),
        "2026-02-01",
        Expect {
            status: "ended_early_return",
            paid: 5,
            cancelled: 7,
            pending: vec!["623.00"],
            collected: "445.00",
            recovery: "44.5",
            asset: "returned",
        },
    )
    .await;
    simulate(
        &app,
        "SIM-C",
        3,
        ("cancel", json!({"reason": "payment_failure"})),
        "2026-02-01",
        Expect {
            status: "cancelled",
            paid: 3,
            cancelled: 9,
            pending: vec![],
            collected: "267.00",
            recovery: "26.7",
            asset: "rented_out",
        },
    )
    .await;
    // Extended by 3 months in month 11, then held over twice after the new end (require_action).
    simulate(
        &app,
        "SIM-X",
        11,
        ("extend", json!({"extensionMonths": 3})),
        "2026-05-01",
        Expect {
            status: "active",
            paid: 11,
            cancelled: 0,
            pending: vec!["89.00"; 6],
            collected: "979.00",
            recovery: "97.9",
            asset: "rented_out",
        },
    )
    .await;
});
