//! Billing-group membership over a member's life (SPEC §2.8 steps 2–4): new subscriptions and
//! extensions of members become lines directly, endings take a member's future lines away,
//! deactivation and reactivation, billing-day moves, lists, bad input and isolation.

use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

use super::billing_groups::{
    billed_months, business, catalog, money, payments, sub, vat_21_exclusive,
};

/// A group of `rentals` for `customer` on billing day 15, created at the clock's date.
pub(crate) async fn group(app: &TestApp, customer: &str, rentals: &[String]) -> String {
    let (s, b) = app
        .post(
            "/v1/billing-groups",
            json!({"customerId": customer, "groupName": "Acme", "billingDay": 15, "rentalIds": rentals}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["billingGroup"]["billingGroupId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A one-unit 12-month order of `G-89` by `n@acme.test` and a new asset `serial` of that SKU.
/// Returns the order id.
async fn order_with_asset(app: &TestApp, serial: &str) -> String {
    let (s, b) = app
        .post(
            "/v1/orders",
            json!({"customer": {"email": "n@acme.test", "firstName": "Ada", "lastName": "Acme"},
                "billingAddress": {"streetAddress": "Main 1", "city": "Amsterdam", "country": "NL"},
                "items": [{"sku": "G-89", "quantity": 1, "contractLength": 12}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, a) = app
        .post("/v1/assets", json!({"serialNumber": serial, "sku": "G-89"}))
        .await;
    assert_eq!(s, 201, "{a}");
    b["orderId"].as_str().unwrap().to_string()
}

fn code(r: &(axum::http::StatusCode, Value)) -> (u16, String) {
    (
        r.0.as_u16(),
        r.1["error"]["code"].as_str().unwrap_or("").to_string(),
    )
}

both_engines!(
    new_members_and_extensions_become_lines,
    |app: TestApp| async move {
        vat_21_exclusive(&app).await;
        catalog(&app).await;
        let (customer, r) = business(&app, "n@acme.test", &[("G-129", "2025-01-01")]).await;
        app.set_date("2025-03-05", 9);
        let gid = group(&app, &customer, &r).await;

        // A new subscription of the customer joins the group at creation: the charge billed today
        // stays individual, the later months are lines from the start (no individual payment).
        let order = order_with_asset(&app, "N-2").await;
        let (s, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "N-2", "billingGroupId": gid}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["rental"]["billingGroupId"], gid.as_str());
        let new = b["rentalId"].as_str().unwrap().to_string();
        let own: Vec<Value> = payments(&app, &format!("rentalId={new}"))
            .await
            .into_iter()
            .filter(|p| p["paymentType"] == "individual")
            .collect();
        assert_eq!(own.len(), 1, "{own:?}");
        assert_eq!(own[0]["billingDate"], "2025-03-05");
        assert_eq!(own[0]["status"], "pending");
        assert_eq!(billed_months(&app, &new).await.len(), 12);
        let (_, g) = app.get(&format!("/v1/billing-groups/{gid}")).await;
        assert_eq!(money(&g["billingGroup"]["totalMonthlyAmount"]), "218.00");
        assert_eq!(g["billingGroup"]["activeRentalCount"], 2);

        // An extension of a member: the added months are lines on new consolidated payments.
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{}/extend", r[0]),
                json!({"extensionMonths": 6}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let group_payments = payments(&app, &format!("billingGroupId={gid}")).await;
        let jan = group_payments
            .iter()
            .find(|p| p["idempotencyKey"] == format!("{gid}:2026-01"))
            .expect("a consolidated payment for January 2026");
        assert_eq!(jan["dueDate"], "2026-01-15");
        // The extended month of the first member and the new member's own January.
        assert_eq!(money(&jan["subtotal"]), "218.00");
        let june = group_payments
            .iter()
            .find(|p| p["idempotencyKey"] == format!("{gid}:2026-06"))
            .expect("a consolidated payment for June 2026");
        assert_eq!(money(&june["subtotal"]), "129.00");
        assert_eq!(june["lineItems"][0]["rentalId"], r[0].as_str());
        assert_eq!(billed_months(&app, &r[0]).await.len(), 18);
        let individual_2026 = payments(&app, &format!("rentalId={}", r[0]))
            .await
            .into_iter()
            .filter(|p| {
                p["paymentType"] == "individual"
                    && p["billingPeriod"].as_str().unwrap() >= "2026-01"
            })
            .count();
        assert_eq!(individual_2026, 0);

        // createSubscription refuses an unknown or inactive group and another customer's group.
        let (_, other) = business(&app, "o@other.test", &[("G-89", "2025-03-05")]).await;
        let (s, b) = app
            .patch(
                &format!("/v1/billing-groups/{gid}"),
                json!({"status": "inactive"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let order2 = order_with_asset(&app, "N-3").await;
        let body = json!({"orderId": order2, "assetSerialNumber": "N-3", "billingGroupId": gid});
        let r1 = app.post("/v1/subscriptions", body).await;
        assert_eq!(code(&r1), (400, "VALIDATION_ERROR".into()));
        assert_eq!(r1.1["error"]["details"][0]["path"], "billingGroupId");
        let (s, _) = app
            .patch(
                &format!("/v1/billing-groups/{gid}"),
                json!({"status": "active"}),
            )
            .await;
        assert_eq!(s, 200);
        let (_, og) = app.get(&format!("/v1/subscriptions/{}", other[0])).await;
        let other_customer = og["customerId"].as_str().unwrap().to_string();
        let other_group = group(&app, &other_customer, &other).await;
        let body =
            json!({"orderId": order2, "assetSerialNumber": "N-3", "billingGroupId": other_group});
        let r2 = app.post("/v1/subscriptions", body).await;
        assert_eq!(code(&r2), (400, "SUBSCRIPTION_DIFFERENT_CUSTOMER".into()));
    }
);

both_engines!(
    an_ending_takes_the_members_future_lines,
    |app: TestApp| async move {
        catalog(&app).await;
        let (customer, r) = business(
            &app,
            "e@acme.test",
            &[("G-129", "2025-01-01"), ("G-89", "2025-01-10")],
        )
        .await;
        app.set_date("2025-03-05", 9);
        let gid = group(&app, &customer, &r).await;
        app.set_date("2025-04-20", 9);
        let (s, b) = app
            .post(&format!("/v1/subscriptions/{}/buyout", r[1]), json!({}))
            .await;
        assert_eq!(s, 200, "{b}");
        // The bought-out member stays listed; its lines after 2025-04-20 are gone, not re-created.
        let (_, g) = app.get(&format!("/v1/billing-groups/{gid}")).await;
        assert_eq!(g["billingGroup"]["rentalIds"], json!(r));
        assert_eq!(g["billingGroup"]["activeRentalCount"], 1);
        assert_eq!(money(&g["billingGroup"]["totalMonthlyAmount"]), "129.00");
        let months = billed_months(&app, &r[1]).await;
        assert_eq!(months.last().unwrap(), "2025-04", "{months:?}");
        for p in payments(&app, &format!("billingGroupId={gid}")).await {
            if p["billingDate"].as_str().unwrap() > "2025-04-20" {
                assert_eq!(money(&p["subtotal"]), "129.00", "{p}");
                assert_eq!(p["lineItems"].as_array().unwrap().len(), 1);
            }
        }
        let individual_after: Vec<Value> = payments(&app, &format!("rentalId={}", r[1]))
            .await
            .into_iter()
            .filter(|p| {
                p["paymentType"] == "individual"
                    && p["status"] == "pending"
                    && p["billingDate"].as_str().unwrap() > "2025-04-20"
            })
            .collect();
        assert!(individual_after.is_empty(), "{individual_after:?}");
        // Ending the last member leaves pending consolidated payments without lines: cancelled.
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{}/cancel", r[0]),
                json!({"reason": "other"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        for p in payments(&app, &format!("billingGroupId={gid}")).await {
            if p["billingDate"].as_str().unwrap() > "2025-04-20" {
                assert_eq!(p["status"], "cancelled", "{p}");
            }
        }
    }
);

both_engines!(
    deactivation_reactivation_and_billing_day,
    |app: TestApp| async move {
        catalog(&app).await;
        let (customer, r) = business(
            &app,
            "d@acme.test",
            &[("G-129", "2025-01-01"), ("G-89", "2025-01-10")],
        )
        .await;
        app.set_date("2025-03-05", 9);
        let gid = group(&app, &customer, &r).await;
        let consolidated = |ps: &[Value]| {
            ps.iter()
                .filter(|p| p["status"] == "pending")
                .map(|p| p["billingDate"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        // The example request moves the billing day; pending future payments follow.
        let (s, b) = app
            .patch(
                &format!("/v1/billing-groups/{gid}"),
                json!({"billingDay": 5}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let dates = consolidated(&payments(&app, &format!("billingGroupId={gid}")).await);
        assert_eq!(
            dates[0], "2025-03-15",
            "March's new date (03-05) is not after today"
        );
        assert!(dates[1..].iter().all(|d| d.ends_with("-05")), "{dates:?}");
        let (s, b) = app
            .patch(
                &format!("/v1/billing-groups/{gid}"),
                json!({"groupName": "Acme Corp - Engineering Team"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            b["billingGroup"]["groupName"],
            "Acme Corp - Engineering Team"
        );

        app.set_date("2025-06-01", 9);
        let (s, b) = app
            .patch(
                &format!("/v1/billing-groups/{gid}"),
                json!({"status": "inactive"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["billingGroup"]["status"], "inactive");
        assert_eq!(b["billingGroup"]["rentalIds"], json!(r), "membership kept");
        let pending = consolidated(&payments(&app, &format!("billingGroupId={gid}")).await);
        assert!(
            pending.iter().all(|d| d.as_str() <= "2025-06-01"),
            "{pending:?}"
        );
        for rental in &r {
            assert_eq!(billed_months(&app, rental).await.len(), 12);
            assert_eq!(sub(&app, rental).await["billingGroupId"], gid.as_str());
        }
        app.set_date("2025-08-20", 9);
        let (s, b) = app
            .patch(
                &format!("/v1/billing-groups/{gid}"),
                json!({"status": "active"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let pending = consolidated(&payments(&app, &format!("billingGroupId={gid}")).await);
        assert!(pending.contains(&"2025-09-05".to_string()), "{pending:?}");
        for rental in &r {
            let months = billed_months(&app, rental).await;
            let mut unique = months.clone();
            unique.dedup();
            assert_eq!(
                (months.len(), unique.len()),
                (12, 12),
                "{rental}: {months:?}"
            );
        }
    }
);

both_engines!(lists_filters_and_pages, |app: TestApp| async move {
    catalog(&app).await;
    let (c1, r1) = business(
        &app,
        "l1@acme.test",
        &[("G-89", "2025-01-01"), ("G-89", "2025-01-02")],
    )
    .await;
    let (c2, r2) = business(&app, "l2@acme.test", &[("G-89", "2025-01-03")]).await;
    app.set_date("2025-01-03", 10);
    let a = group(&app, &c1, &r1[..1]).await;
    app.set_date("2025-01-03", 11);
    let b = group(&app, &c1, &r1[1..]).await;
    app.set_date("2025-01-03", 12);
    let c = group(&app, &c2, &r2).await;
    app.patch(
        &format!("/v1/billing-groups/{b}"),
        json!({"status": "inactive"}),
    )
    .await;
    let ids = |v: &Value| -> Vec<String> {
        v["billingGroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["billingGroupId"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, v) = app
        .get(&format!("/v1/billing-groups?customerId={c1}"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(ids(&v), [b.clone(), a.clone()], "newest first");
    let (_, v) = app.get("/v1/billing-groups?status=inactive").await;
    assert_eq!(ids(&v), [b.as_str()]);
    let (_, p1) = app
        .get("/v1/billing-groups?limit=2&sortBy=createdAt&sortDir=asc")
        .await;
    assert_eq!(ids(&p1), [a.clone(), b.clone()]);
    assert_eq!(p1["hasMore"], true);
    let cursor = p1["nextCursor"].as_str().unwrap();
    let (_, p2) = app
        .get(&format!(
            "/v1/billing-groups?limit=2&sortBy=createdAt&sortDir=asc&startAfter={cursor}"
        ))
        .await;
    assert_eq!(ids(&p2), [c.as_str()]);
    assert_eq!(p2["hasMore"], false);
    let (s, _) = app.get("/v1/billing-groups?status=closed").await;
    assert_eq!(s, 400);
    let (s, _) = app.get("/v1/billing-groups?startAfter=bg_unknown").await;
    assert_eq!(s, 400);
});

both_engines!(bad_input_changes_nothing, |app: TestApp| async move {
    catalog(&app).await;
    let (customer, r) = business(&app, "v@acme.test", &[("G-89", "2025-01-01")]).await;
    let ok = json!({"customerId": customer, "groupName": "G", "billingDay": 15, "rentalIds": r});
    let mut cases = Vec::new();
    for (patch, expected) in [
        (json!({"billingDay": 0}), "INVALID_BILLING_DAY"),
        (json!({"billingDay": 29}), "INVALID_BILLING_DAY"),
        (json!({"billingDay": "15"}), "INVALID_BILLING_DAY"),
        (json!({"billingDay": 15.5}), "INVALID_BILLING_DAY"),
        (json!({"rentalIds": []}), "VALIDATION_ERROR"),
        (json!({"rentalIds": "x"}), "VALIDATION_ERROR"),
        (json!({"rentalIds": [1]}), "VALIDATION_ERROR"),
        (json!({"groupName": ""}), "VALIDATION_ERROR"),
        (json!({"customerId": "cust_unknown"}), "CUSTOMER_NOT_FOUND"),
        (
            json!({"rentalIds": ["sub_unknown"]}),
            "SUBSCRIPTION_NOT_FOUND",
        ),
    ] {
        let mut body = ok.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        cases.push((body, expected));
    }
    cases.push((json!([1, 2]), "VALIDATION_ERROR"));
    for (body, expected) in cases {
        let res = app.post("/v1/billing-groups", body.clone()).await;
        assert_eq!(code(&res), (400, expected.to_string()), "{body}");
    }
    let (_, v) = app.get("/v1/billing-groups").await;
    assert_eq!(v["count"], 0, "nothing was created");
    assert!(sub(&app, &r[0]).await["billingGroupId"].is_null());
    let (s, _) = app
        .patch("/v1/billing-groups/bg_unknown", json!({"groupName": "x"}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = app.delete("/v1/billing-groups/bg_unknown").await;
    assert_eq!(s, 404);
    // A member of one group cannot join another; an ended one cannot join at all.
    let gid = group(&app, &customer, &r).await;
    let res = app.post("/v1/billing-groups", ok.clone()).await;
    assert_eq!(code(&res), (409, "SUBSCRIPTION_ALREADY_GROUPED".into()));
    let (_, more) = business(&app, "v@acme.test", &[("G-89", "2025-01-01")]).await;
    app.post(
        &format!("/v1/subscriptions/{}/cancel", more[0]),
        json!({"reason": "other"}),
    )
    .await;
    let res = app
        .patch(
            &format!("/v1/billing-groups/{gid}"),
            json!({"rentalIds": [r[0], more[0]]}),
        )
        .await;
    assert_eq!(code(&res), (400, "SUBSCRIPTION_NOT_ACTIVE".into()));
    let (_, g) = app.get(&format!("/v1/billing-groups/{gid}")).await;
    assert_eq!(g["billingGroup"]["rentalIds"], json!(r), "unchanged");
});

both_engines!(business_units_are_isolated, |app: TestApp| async move {
    catalog(&app).await;
    let (customer, r) = business(&app, "i@acme.test", &[("G-89", "2025-01-01")]).await;
    let gid = group(&app, &customer, &r).await;
    let other = app.new_tenant("USD").await;
    for (method, path, body) in [
        ("GET", format!("/v1/billing-groups/{gid}"), None),
        (
            "PATCH",
            format!("/v1/billing-groups/{gid}"),
            Some(json!({"groupName": "x"})),
        ),
        ("DELETE", format!("/v1/billing-groups/{gid}"), None),
    ] {
        let (s, _) = app.call_as(&other, method, &path, body).await;
        assert_eq!(s, 404, "{method} {path}");
    }
    let (_, v) = app.call_as(&other, "GET", "/v1/billing-groups", None).await;
    assert_eq!(v["count"], 0);
    let body = json!({"customerId": customer, "groupName": "G", "billingDay": 1, "rentalIds": r});
    let res = app
        .call_as(&other, "POST", "/v1/billing-groups", Some(body))
        .await;
    assert_eq!(code(&res), (400, "CUSTOMER_NOT_FOUND".into()));
    let (_, g) = app.get(&format!("/v1/billing-groups/{gid}")).await;
    assert_eq!(g["billingGroup"]["groupName"], "Acme");
});

both_engines!(
    the_list_shows_each_subscription_as_getsubscription_does,
    |app: TestApp| async move {
        vat_21_exclusive(&app).await;
        catalog(&app).await;
        let (customer, r) = business(
            &app,
            "l@acme.test",
            &[
                ("G-129", "2025-01-01"),
                ("G-89", "2025-01-10"),
                ("G-159", "2025-01-20"),
            ],
        )
        .await;
        app.set_date("2025-03-05", 9);
        // Two members whose future months become lines; the third stays billed on its own.
        group(&app, &customer, &r[..2]).await;
        app.set_date("2025-05-20", 9);
        for p in payments(&app, &format!("customerId={customer}")).await {
            if p["status"] == "pending" && p["dueDate"].as_str().unwrap() < "2025-04-01" {
                let (s, b) = app
                    .post(
                        &format!(
                            "/v1/payments/{}/mark-paid",
                            p["paymentId"].as_str().unwrap()
                        ),
                        json!({}),
                    )
                    .await;
                assert_eq!(s, 200, "{b}");
            }
        }
        let (s, l) = app
            .get(&format!(
                "/v1/subscriptions?customerId={customer}&limit=100"
            ))
            .await;
        assert_eq!(s, 200, "{l}");
        let items = l["rentals"].as_array().unwrap();
        assert_eq!(items.len(), 3, "{l}");
        for item in items {
            let one = sub(&app, item["rentalId"].as_str().unwrap()).await;
            assert_eq!(item, &one);
            // Each bills on its own day (a member's lines keep their billing dates); January to
            // March are paid.
            let (next, collected, projected) = match item["sku"].as_str().unwrap() {
                "G-129" => ("2025-06-01", "387.00", "1548.00"),
                "G-89" => ("2025-06-10", "267.00", "1068.00"),
                _ => ("2025-06-20", "477.00", "1908.00"),
            };
            assert_eq!(item["nextBillingDate"], next, "{item}");
            assert_eq!(money(&item["totalCollected"]), collected, "{item}");
            assert_eq!(
                money(&item["costRecovery"]["projectedTotalCollection"]),
                projected,
                "{item}"
            );
            assert_eq!(item["actualMonthsRented"], 5, "{item}");
        }
        // A page without members: its charges are read without the lines.
        let (s, l) = app
            .get(&format!(
                "/v1/subscriptions?customerId={customer}&sku=G-159"
            ))
            .await;
        assert_eq!(s, 200, "{l}");
        assert_eq!(l["rentals"].as_array().unwrap().len(), 1, "{l}");
        assert_eq!(l["rentals"][0], sub(&app, &r[2]).await);
    }
);

both_engines!(
    a_late_fee_stays_when_a_member_leaves_an_overdue_consolidated_payment,
    |app: TestApp| async move {
        catalog(&app).await;
        let start = "2025-03-05";
        let (customer, r) =
            business(&app, "fee@acme.test", &[("G-129", start), ("G-89", start)]).await;
        let gid = group(&app, &customer, &r).await;
        app.set_settings(
            &app.tenant,
            json!({"payments": {"lateFees": {"enabled": true, "method": "flat", "value": 10}}}),
        )
        .await;
        crate::jobs::jobs(&app, "2025-06-01").await;
        let april = || async {
            payments(&app, &format!("billingGroupId={gid}"))
                .await
                .into_iter()
                .find(|p| p["idempotencyKey"] == format!("{gid}:2025-04"))
                .expect("April's consolidated payment")
        };
        let before = april().await;
        assert_eq!(before["lateFeeApplied"], true, "{before}");
        assert_eq!(money(&before["total"]), "228.00");
        // The second member is cancelled as of the end of March: its line leaves April's
        // payment, whose late fee was already added.
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{}/cancel", r[1]),
                json!({"reason": "customer_request", "effectiveDate": "2025-03-31"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let after = april().await;
        assert_eq!(after["status"], "pending");
        assert_eq!(after["lineItems"].as_array().unwrap().len(), 1, "{after}");
        assert_eq!(money(&after["subtotal"]), "129.00");
        assert_eq!(
            (
                money(&after["originalAmount"]),
                money(&after["lateFeeAmount"]),
                money(&after["total"]),
            ),
            ("129.00".into(), "10.00".into(), "139.00".into()),
            "the fee stays: {after}"
        );
    }
);
