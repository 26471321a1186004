//! Edge cases of the lifecycle rules: 30-day cycles past the end, cancelled and backdated
//! holdover months, VAT-inclusive quotes, check order, start-date and effective-date bounds
//! (SPEC §2.6.4–§2.6.6, §2.7, §2.13).

use std::collections::HashSet;

use flexportal_testkit::{TestApp, both_engines};
use serde_json::json;

use super::jobs::jobs;
use super::subscriptions::{rental, rental_payments as payments, setup};

both_engines!(
    a_thirty_day_cycle_is_held_over_once_per_period,
    |app: TestApp| async move {
        app.set_settings(
            &app.tenant,
            json!({"payments": {"billingCycle": "every_30_days"}}),
        )
        .await;
        let r = rental(&app, "D30-1", "2025-01-04").await;
        // Every day for three months past the end (2026-01-03): each 30-day period is billed once,
        // whatever the key of its month looks like on a given day.
        let mut day = jiff::civil::date(2026, 1, 1);
        let last = jiff::civil::date(2026, 4, 15);
        while day <= last {
            jobs(&app, &day.to_string()).await;
            day = day.checked_add(jiff::Span::new().days(1)).unwrap();
        }
        let pays = payments(&app, &r).await;
        let dates: Vec<&str> = pays
            .iter()
            .map(|p| p["dueDate"].as_str().unwrap())
            .collect();
        let distinct: HashSet<&&str> = dates.iter().collect();
        assert_eq!(
            distinct.len(),
            dates.len(),
            "a period billed twice: {dates:?}"
        );
        // 12 contract charges (2025-01-04 + 30k days up to 2025-12-20), then 2026-01-19,
        // 02-18, 03-20 and 04-19 are after 2026-04-15: 3 holdover periods.
        assert_eq!(pays.len(), 15, "{dates:?}");
    }
);

both_engines!(
    cancelled_and_backdated_holdover_months,
    |app: TestApp| async move {
        let r = rental(&app, "HB-1", "2025-01-01").await;
        jobs(&app, "2026-02-05").await;
        let pays = payments(&app, &r).await;
        assert_eq!(pays.len(), 14);
        // The operator waives January's holdover: the job never bills it again.
        let jan = pays[12]["paymentId"].as_str().unwrap();
        let (s, _) = app
            .post(
                &format!("/v1/payments/{jan}/cancel"),
                json!({"reason": "goodwill"}),
            )
            .await;
        assert_eq!(s, 200);
        jobs(&app, "2026-02-20").await;
        assert_eq!(payments(&app, &r).await.len(), 14);
        // The device came back on 2026-01-20: February was never used. The return completes the
        // contract without a fee and voids February.
        app.set_date("2026-02-20", 10);
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{r}/early-return"),
                json!({"effectiveDate": "2026-01-20"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["earlyReturnFee"].to_string(), "0.00");
        let (_, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
        assert_eq!(sub["status"], "ended_completed");
        let pays = payments(&app, &r).await;
        assert_eq!(pays.len(), 14, "no fee payment");
        assert_eq!(pays[13]["status"], "cancelled", "February voided");
    }
);

both_engines!(
    quotes_with_vat_included_use_the_gross_price,
    |app: TestApp| async move {
        app.set_settings(
            &app.tenant,
            json!({"taxes": {"vatEnabled": true, "defaultRate": 21, "calculation": "inclusive"}}),
        )
        .await;
        let r = rental(&app, "VI-1", "2025-01-01").await;
        for p in payments(&app, &r).await.iter().take(6) {
            let id = p["paymentId"].as_str().unwrap();
            app.post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
                .await;
        }
        app.set_date("2025-06-15", 9);
        let (_, q) = app
            .post("/v1/subscriptions/calculate-buyout", json!({"rentalId": r}))
            .await;
        assert_eq!(q["buyoutPrice"].to_string(), "534.00");
        assert_eq!(q["remainingPayments"].to_string(), "534.00");
        let (s, b) = app
            .post(&format!("/v1/subscriptions/{r}/buyout"), json!({}))
            .await;
        assert_eq!(s, 200, "{b}");
        let buyout: Vec<_> = payments(&app, &r)
            .await
            .into_iter()
            .filter(|p| p["status"] == "pending")
            .collect();
        assert_eq!(
            buyout[0]["total"].to_string(),
            "534.00",
            "the price includes its VAT"
        );
        assert_eq!(buyout[0]["subtotal"].to_string(), "441.32");
    }
);

both_engines!(check_order_and_bounds, |app: TestApp| async move {
    app.set_settings(
        &app.tenant,
        json!({"subscriptions": {"extensions": {"allowedLengths": [6, 12]}}}),
    )
    .await;
    let r = rental(&app, "CO-1", "2025-01-01").await;
    for (p, body) in [
        (
            format!("/v1/subscriptions/{r}/extend"),
            json!({"extensionMonths": 115}),
        ),
        (
            "/v1/subscriptions/calculate-buyout".to_string(),
            json!({"rentalId": r}),
        ),
    ] {
        let (s, b) = app.post(&p, body).await;
        if p.ends_with("extend") {
            assert_eq!(
                b["error"]["code"], "INVALID_EXTENSION_MONTHS",
                "the cap comes first"
            );
        } else {
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["remainingPayments"].to_string(), "979.00");
        }
    }
    // A start date more than ten years back or a year ahead is refused before anything else.
    let order = setup(&app, 0, 1, "bounds@example.com").await;
    app.post("/v1/assets", json!({"serialNumber": "CO-2", "sku": "P-1"}))
        .await;
    for start in ["2001-01-01", "2027-06-01"] {
        let (s, e) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "CO-2", "startDate": start}),
            )
            .await;
        assert_eq!(
            (s.as_u16(), e["error"]["details"][0]["path"].as_str()),
            (400, Some("startDate")),
            "{start}: {e}"
        );
    }
});

both_engines!(
    an_ending_dated_more_than_a_year_ahead_is_refused,
    |app: TestApp| async move {
        let r = rental(&app, "FE-1", "2025-01-01").await;
        app.set_date("2025-06-15", 9);
        // 9999-12-31 has no midnight instant: accepted, it left a subscription that no read could
        // render. A day past a year from today is refused the same way.
        for date in ["9999-12-31", "2026-06-16"] {
            for (action, body) in [
                ("early-return", json!({"effectiveDate": date})),
                ("early-return", json!({"returnDate": date})),
                ("buyout", json!({"effectiveDate": date})),
                (
                    "cancel",
                    json!({"reason": "customer_request", "effectiveDate": date}),
                ),
            ] {
                let (s, e) = app
                    .post(&format!("/v1/subscriptions/{r}/{action}"), body)
                    .await;
                assert_eq!(s, 400, "{action} {date}: {e}");
                assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
                assert_eq!(e["error"]["details"][0]["code"], "too_big", "{e}");
            }
        }
        let (s, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
        assert_eq!((s.as_u16(), sub["status"].as_str()), (200, Some("active")));
        // A year from today is the last date accepted, and the ended subscription reads back.
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{r}/early-return"),
                json!({"effectiveDate": "2026-06-15"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["returnDate"], "2026-06-15");
        let (s, sub) = app.get(&format!("/v1/subscriptions/{r}")).await;
        assert_eq!(s, 200, "{sub}");
        let (s, list) = app.get("/v1/subscriptions?limit=100").await;
        assert_eq!(s, 200, "{list}");
    }
);
