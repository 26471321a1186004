//! Webhooks (SPEC §2.11): endpoints over `/v1/webhook-endpoints`, events written in the
//! transaction of their change, signed deliveries to a receiver, retries on the clock, the
//! delivery log and replays.

use std::collections::{BTreeMap, HashSet};

use flexportal_app::delivery::deliver_due;
use flexportal_testkit::receiver::{Receiver, verify_signatures};
use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

/// Adds an endpoint for `url` subscribed to `events` ([] = all); returns (id, secret).
pub async fn endpoint(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let (s, b) = app
        .post(
            "/v1/webhook-endpoints",
            json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let e = &b["endpoint"];
    (
        e["endpointId"].as_str().unwrap().to_string(),
        e["secret"].as_str().unwrap().to_string(),
    )
}

/// Delivers what is due in the test's business unit.
pub async fn deliver(app: &TestApp) -> flexportal_app::delivery::DeliveryRun {
    deliver_due(app.app(), Some(&app.tenant.tenant_id))
        .await
        .expect("deliver")
}

fn counts(got: &[flexportal_testkit::receiver::Received]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in got {
        *m.entry(r.event().to_string()).or_insert(0) += 1;
    }
    m
}

both_engines!(
    quickstart_events_arrive_once_signed,
    |app: TestApp| async move {
        app.set_date("2025-01-01", 9);
        let rx = Receiver::start().await;
        let (_, secret) = endpoint(&app, &rx.url, json!([])).await;
        let order = crate::subscriptions::setup(&app, 1, 1, "hooks@example.com").await;
        let (s, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "S-1"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let rental = b["rentalId"].as_str().unwrap().to_string();
        let (_, p) = app
            .get(&format!(
                "/v1/payments?rentalId={rental}&sortBy=dueDate&sortDir=asc"
            ))
            .await;
        let payments: Vec<String> = p["payments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["paymentId"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(payments.len(), 12);
        let (s, _) = app
            .post(
                &format!("/v1/payments/{}/mark-paid", payments[0]),
                json!({"reference": "R-1"}),
            )
            .await;
        assert_eq!(s, 200);
        // A request that fails changes nothing and announces nothing.
        let (s, _) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "S-1"}),
            )
            .await;
        assert_eq!(s, 400);

        let run = deliver(&app).await;
        let got = rx.received();
        assert_eq!(run.attempted as usize, got.len());
        let expected: BTreeMap<String, usize> = [
            ("asset.assigned", 1),
            ("order.created", 1),
            ("order.fulfilled", 1),
            ("payment.scheduled", 12),
            ("payment.succeeded", 1),
            ("subscription.created", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(counts(&got), expected);
        let mut ids = HashSet::new();
        for r in &got {
            verify_signatures(&secret, r).unwrap_or_else(|e| panic!("{}: {e}", r.event()));
            assert!(ids.insert(r.header("x-flexportal-delivery").to_string()));
            assert_eq!(r.header("webhook-id"), r.header("x-flexportal-delivery"));
            assert_eq!(r.header("content-type"), "application/json");
            let v = r.json();
            assert_eq!(v["event"], r.event());
            assert_eq!(v["tenantId"], app.tenant.tenant_id.as_str());
            assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
        }
        let by_event = |e: &str| -> Vec<Value> {
            got.iter()
                .filter(|r| r.event() == e)
                .map(|r| r.json()["data"].clone())
                .collect()
        };
        let created = &by_event("subscription.created")[0];
        assert_eq!(created["subscriptionId"], rental.as_str());
        assert_eq!(created["rentalId"], rental.as_str());
        assert_eq!(created["assetSerialNumber"], "S-1");
        assert_eq!(created["monthlyAmount"].to_string(), "89.00");
        assert_eq!(created["contractLength"], 12);
        assert_eq!(by_event("asset.assigned")[0]["rentalId"], rental.as_str());
        assert_eq!(by_event("order.fulfilled")[0]["rentalIds"], json!([rental]));
        assert_eq!(
            by_event("order.created")[0]["totals"]["total"].to_string(),
            "89.00"
        );
        let scheduled: HashSet<String> = by_event("payment.scheduled")
            .iter()
            .map(|d| d["paymentId"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(scheduled, payments.iter().cloned().collect());
        let paid = &by_event("payment.succeeded")[0];
        assert_eq!(paid["paymentId"], payments[0].as_str());
        assert_eq!(paid["paymentReference"], "R-1");
        assert_eq!(paid["total"].to_string(), "89.00");
        // Nothing is delivered twice.
        assert_eq!(deliver(&app).await.attempted, 0);
        assert_eq!(rx.received().len(), got.len());
    }
);

both_engines!(
    a_failing_receiver_gets_the_event_on_the_fourth_attempt,
    |app: TestApp| async move {
        let rx = Receiver::start().await;
        let (id, _) = endpoint(&app, &rx.url, json!(["order.created"])).await;
        rx.fail_next(3);
        crate::subscriptions::setup(&app, 0, 1, "retry@example.com").await;
        assert_eq!(deliver(&app).await.attempted, 1);
        // SPEC §2.11: retries after 1 min, 5 min, 30 min; nothing before each is due.
        for wait_ms in [60_000, 300_000, 1_800_000] {
            app.clock.advance(wait_ms - 1_000);
            assert_eq!(deliver(&app).await.attempted, 0, "early at {wait_ms}");
            app.clock.advance(1_000);
            assert_eq!(deliver(&app).await.attempted, 1, "due at {wait_ms}");
        }
        let got = rx.received();
        assert_eq!(
            got.iter().map(|r| r.answered).collect::<Vec<_>>(),
            vec![500, 500, 500, 200]
        );
        let ids: HashSet<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
        assert_eq!(ids.len(), 1, "one delivery id across its attempts");
        assert!(
            got.iter().all(|r| r.body == got[0].body),
            "same body each time"
        );
        let (s, log) = app
            .get(&format!("/v1/webhook-endpoints/{id}/deliveries"))
            .await;
        assert_eq!(s, 200, "{log}");
        let d = &log["deliveries"][0];
        assert_eq!(log["count"], 1);
        assert_eq!(
            (d["status"].as_str(), d["attempts"].as_i64()),
            (Some("delivered"), Some(4))
        );
        let codes: Vec<i64> = d["attemptLog"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["statusCode"].as_i64().unwrap())
            .collect();
        assert_eq!(codes, vec![500, 500, 500, 200]);
        assert_eq!(d["attemptLog"][0]["error"], "HTTP 500");
        // A replay sends the same delivery again.
        let replayed =
            flexportal_app::webhooks::replay(app.app(), d["deliveryId"].as_str().unwrap())
                .await
                .unwrap();
        assert_eq!(replayed.status, "pending");
        assert_eq!(deliver(&app).await.delivered, 1);
        let got = rx.received();
        assert_eq!(got.len(), 5);
        assert_eq!(got[4].header("webhook-id"), got[0].header("webhook-id"));
    }
);

both_engines!(
    a_receiver_down_for_three_days_gets_everything_and_others_on_time,
    |app: TestApp| async move {
        app.set_date("2025-03-01", 0);
        let down = Receiver::start().await;
        let healthy = Receiver::start().await;
        endpoint(&app, &down.url, json!(["order.created"])).await;
        endpoint(&app, &healthy.url, json!(["order.created"])).await;
        down.set_down(true);
        crate::subscriptions::setup(&app, 0, 1, "warm@example.com").await;
        let mut orders = 0;
        for hour in 0..=80 {
            if hour < 72 && hour % 6 == 0 {
                let (s, _) = app
                .post("/v1/orders", json!({
                    "customer": {"email": format!("c{hour}@example.com"), "firstName": "A", "lastName": "B"},
                    "billingAddress": {"streetAddress": "S 1", "city": "C", "country": "Sweden"},
                    "items": [{"sku": "P-1", "quantity": 1, "contractLength": 12}]
                }))
                .await;
                assert_eq!(s, 201);
                orders += 1;
            }
            if hour == 72 {
                down.set_down(false);
            }
            deliver(&app).await;
            // The healthy endpoint has every order as soon as it is created.
            assert_eq!(healthy.accepted().len(), orders + 1, "hour {hour}");
            app.clock.advance(3_600_000);
        }
        let ids = |rx: &Receiver| -> Vec<String> {
            let mut v: Vec<String> = rx
                .accepted()
                .iter()
                .map(|r| r.json()["data"]["orderId"].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            ids(&down),
            ids(&healthy),
            "every event, once, after the outage"
        );
        assert!(
            down.received().len() > down.accepted().len(),
            "it was tried while down"
        );
        let (_, log) = app.get("/v1/webhook-endpoints").await;
        assert_eq!(log["count"], 2);
    }
);

both_engines!(
    endpoints_are_managed_per_business_unit,
    |app: TestApp| async move {
        let (s, b) = app
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://hooks.example.com/flex", "events": ["order.created", "payment.succeeded"], "description": "Shop"}),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let e = &b["endpoint"];
        let id = e["endpointId"].as_str().unwrap().to_string();
        let secret = e["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("whsec_"), "{secret}");
        assert_eq!(e["enabled"], true);
        let (s, g) = app.get(&format!("/v1/webhook-endpoints/{id}")).await;
        assert_eq!(s, 200);
        assert!(
            g["endpoint"].get("secret").is_none(),
            "the secret is shown once"
        );
        assert_eq!(
            g["endpoint"]["events"],
            json!(["order.created", "payment.succeeded"])
        );

        let (s, bad) = app
            .post(
                "/v1/webhook-endpoints",
                json!({"url": "ftp://x", "events": ["order.shipped"], "enabled": "yes"}),
            )
            .await;
        assert_eq!(s, 400, "{bad}");
        let paths: HashSet<&str> = bad["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["url", "events", "enabled"].into_iter().collect());

        let (s, u) = app
            .patch(
                &format!("/v1/webhook-endpoints/{id}"),
                json!({"enabled": false, "events": ["*"], "description": ""}),
            )
            .await;
        assert_eq!(s, 200, "{u}");
        assert_eq!(
            (
                &u["endpoint"]["enabled"],
                &u["endpoint"]["events"],
                u["endpoint"].get("description")
            ),
            (&json!(false), &json!([]), None)
        );
        let (s, r) = app
            .post(
                &format!("/v1/webhook-endpoints/{id}/rotate-secret"),
                json!({}),
            )
            .await;
        assert_eq!(s, 200);
        let rotated = r["endpoint"]["secret"].as_str().unwrap();
        assert!(rotated.starts_with("whsec_") && rotated != secret);

        // Another business unit sees none of it.
        let other = app.new_tenant("USD").await;
        let (s, l) = app
            .call_as(&other, "GET", "/v1/webhook-endpoints", None)
            .await;
        assert_eq!((s.as_u16(), &l["count"]), (200, &json!(0)));
        for (method, path) in [
            ("GET", format!("/v1/webhook-endpoints/{id}")),
            ("PATCH", format!("/v1/webhook-endpoints/{id}")),
            ("DELETE", format!("/v1/webhook-endpoints/{id}")),
            ("POST", format!("/v1/webhook-endpoints/{id}/rotate-secret")),
            ("GET", format!("/v1/webhook-endpoints/{id}/deliveries")),
        ] {
            let (s, b) = app
                .call_as(&other, method, &path, Some(json!({"enabled": true})))
                .await;
            assert_eq!(s.as_u16(), 404, "{method} {path}: {b}");
        }
        let (_, g) = app.get(&format!("/v1/webhook-endpoints/{id}")).await;
        assert_eq!(
            g["endpoint"]["enabled"], false,
            "unchanged by the other unit"
        );

        let (s, _) = app.delete(&format!("/v1/webhook-endpoints/{id}")).await;
        assert_eq!(s, 200);
        let (s, _) = app.get(&format!("/v1/webhook-endpoints/{id}")).await;
        assert_eq!(s, 404);
    }
);

both_engines!(
    only_committed_events_of_enabled_subscribed_endpoints_are_sent,
    |app: TestApp| async move {
        let rx = Receiver::start().await;
        let (id, _) = endpoint(&app, &rx.url, json!(["payment.succeeded"])).await;
        let ctx = app.context(&app.tenant).await;
        // An event queued in a transaction that rolls back is never delivered; one that commits is.
        let mut tx = app.app().db.begin().await.unwrap();
        flexportal_app::events::emit(
            &mut tx,
            &ctx,
            "payment.succeeded",
            json!({"n": 1}),
            app.app().now(),
        );
        tx.rollback().await.unwrap();
        let mut tx = app.app().db.begin().await.unwrap();
        flexportal_app::events::emit(
            &mut tx,
            &ctx,
            "payment.succeeded",
            json!({"n": 2}),
            app.app().now(),
        );
        flexportal_app::events::emit(
            &mut tx,
            &ctx,
            "order.created",
            json!({"n": 3}),
            app.app().now(),
        );
        tx.commit().await.unwrap();
        deliver(&app).await;
        let got = rx.received();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].json()["data"], json!({"n": 2}));
        // Disabled: nothing is queued for it.
        app.patch(
            &format!("/v1/webhook-endpoints/{id}"),
            json!({"enabled": false}),
        )
        .await;
        let mut tx = app.app().db.begin().await.unwrap();
        flexportal_app::events::emit(
            &mut tx,
            &ctx,
            "payment.succeeded",
            json!({"n": 4}),
            app.app().now(),
        );
        tx.commit().await.unwrap();
        app.patch(
            &format!("/v1/webhook-endpoints/{id}"),
            json!({"enabled": true}),
        )
        .await;
        assert_eq!(deliver(&app).await.attempted, 0);
        assert_eq!(rx.received().len(), 1);
    }
);

both_engines!(
    lifecycle_actions_and_daily_jobs_announce_their_changes,
    |app: TestApp| async move {
        let rx = Receiver::start().await;
        let (_, secret) = endpoint(&app, &rx.url, json!([])).await;
        let a = crate::subscriptions::rental(&app, "EV-1", "2025-01-01").await;
        let b = crate::subscriptions::rental(&app, "EV-2", "2025-01-01").await;
        deliver(&app).await;
        let before = rx.received().len();
        // An extension: the subscription, its new charges and the tracking order.
        app.set_settings(
            &app.tenant,
            json!({"subscriptions": {"extensions": {"createTrackingOrder": true}}}),
        )
        .await;
        app.set_date("2025-11-15", 9);
        let (s, e) = app
            .post(
                &format!("/v1/subscriptions/{a}/extend"),
                json!({"extensionMonths": 6, "newMonthlyAmount": 75.00}),
            )
            .await;
        assert_eq!(s, 200, "{e}");
        // An early return: the ending with its fee, the returned asset, the cancelled remaining
        // charges and the fee's charge.
        app.set_date("2025-06-15", 9);
        let (s, r) = app
            .post(
                &format!("/v1/subscriptions/{b}/early-return"),
                json!({"returnCondition": "good"}),
            )
            .await;
        assert_eq!(s, 200, "{r}");
        deliver(&app).await;
        let got: Vec<_> = rx.received().into_iter().skip(before).collect();
        for r in &got {
            verify_signatures(&secret, r).unwrap();
        }
        let data = |event: &str| -> Vec<Value> {
            got.iter()
                .filter(|r| r.event() == event)
                .map(|r| r.json()["data"].clone())
                .collect()
        };
        let ext = data("subscription.extended");
        assert_eq!(ext.len(), 1);
        assert_eq!(
            (
                ext[0]["rentalId"].as_str(),
                ext[0]["extensionMonths"].as_i64(),
                ext[0]["newEndDate"].as_str()
            ),
            (Some(a.as_str()), Some(6), Some("2026-06-30"))
        );
        assert_eq!(ext[0]["newMonthlyAmount"].to_string(), "75.00");
        assert_eq!(
            data("order.created").len(),
            1,
            "the extension's tracking order"
        );
        let ended = data("subscription.ended");
        assert_eq!(ended.len(), 1);
        assert_eq!(
            (
                ended[0]["subscriptionId"].as_str(),
                ended[0]["status"].as_str(),
                ended[0]["previousStatus"].as_str()
            ),
            (Some(b.as_str()), Some("ended_early_return"), Some("active"))
        );
        assert_eq!(ended[0]["fee"].to_string(), r["earlyReturnFee"].to_string());
        let returned = data("asset.returned");
        assert_eq!(returned.len(), 1);
        assert_eq!(
            (
                returned[0]["serialNumber"].as_str(),
                returned[0]["newStatus"].as_str(),
                returned[0]["condition"].as_str()
            ),
            (Some("EV-2"), Some("returned"), Some("good"))
        );
        let cancelled = data("payment.cancelled");
        let (_, p) = app
            .get(&format!(
                "/v1/payments?rentalId={b}&status=cancelled&limit=100"
            ))
            .await;
        let mut ids: Vec<&str> = cancelled
            .iter()
            .map(|d| d["paymentId"].as_str().unwrap())
            .collect();
        let mut expected: Vec<&str> = p["payments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["paymentId"].as_str().unwrap())
            .collect();
        ids.sort();
        expected.sort();
        assert!(!ids.is_empty());
        assert_eq!(ids, expected, "one payment.cancelled per cancelled charge");
        // 6 new charges of the extension and the early-return fee.
        assert_eq!(data("payment.scheduled").len(), 7);

        // The late-fee job announces each charge it raises.
        app.set_settings(
        &app.tenant,
        json!({"payments": {"lateFees": {"enabled": true, "method": "flat", "value": 5, "gracePeriodDays": 0}}}),
    )
    .await;
        let before = rx.received().len();
        let report = crate::jobs::jobs(&app, "2025-12-20").await;
        deliver(&app).await;
        let updated: Vec<Value> = rx
            .received()
            .into_iter()
            .skip(before)
            .filter(|r| r.event() == "payment.updated")
            .map(|r| r.json()["data"].clone())
            .collect();
        assert!(report.late_fees > 0);
        assert_eq!(updated.len() as u64, report.late_fees);
        for u in &updated {
            let (prev, total) = (u["previousTotal"].to_string(), u["total"].to_string());
            let cents = |s: &str| -> i64 { s.replace('.', "").parse().unwrap() };
            assert_eq!(cents(&total) - cents(&prev), 500, "{u}");
        }
    }
);

both_engines!(a_slow_endpoint_delays_no_other, |app: TestApp| async move {
    let slow = Receiver::start().await;
    let fast = Receiver::start().await;
    slow.set_delay(std::time::Duration::from_secs(3));
    endpoint(&app, &slow.url, json!(["order.created"])).await;
    endpoint(&app, &fast.url, json!(["order.created"])).await;
    crate::subscriptions::setup(&app, 0, 1, "a@example.com").await;
    crate::subscriptions::setup(&app, 0, 1, "b@example.com").await;
    let worker = {
        let (a, t) = (app.app().clone(), app.tenant.tenant_id.clone());
        tokio::spawn(async move { deliver_due(&a, Some(&t)).await })
    };
    // The fast endpoint has both events while the slow one still holds its first request (each
    // takes it 3 s).
    let began = std::time::Instant::now();
    while (fast.accepted().len() < 2 || slow.started() == 0) && slow.received().is_empty() {
        assert!(began.elapsed().as_secs() < 60, "nothing was delivered");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        fast.accepted().len(),
        2,
        "the fast endpoint waited for the slow one"
    );
    assert!(
        slow.started() >= 1 && slow.received().is_empty(),
        "the slow one is still busy"
    );
    let run = worker.await.unwrap().unwrap();
    assert_eq!((run.attempted, run.delivered), (4, 4));
    assert_eq!(slow.accepted().len(), 2);
});

both_engines!(
    a_delivery_whose_endpoint_goes_during_its_attempt_stays_failed,
    |app: TestApp| async move {
        let rx = Receiver::start().await;
        rx.set_delay(std::time::Duration::from_millis(1500));
        rx.fail_next(1);
        let (id, _) = endpoint(&app, &rx.url, json!(["order.created"])).await;
        crate::subscriptions::setup(&app, 0, 1, "gone@example.com").await;
        let worker = {
            let (a, t) = (app.app().clone(), app.tenant.tenant_id.clone());
            tokio::spawn(async move { deliver_due(&a, Some(&t)).await })
        };
        let began = std::time::Instant::now();
        while rx.started() == 0 {
            assert!(began.elapsed().as_secs() < 60, "nothing was attempted");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Deleted while the receiver holds the attempt, which then fails (500): the attempt's
        // retry must not make the delivery pending again for an endpoint that is gone.
        let (s, b) = app.delete(&format!("/v1/webhook-endpoints/{id}")).await;
        assert_eq!(s, 200, "{b}");
        worker.await.unwrap().unwrap();
        assert_eq!(rx.received()[0].answered, 500);
        let mut c = app.app().db.read().await.unwrap();
        let filter = flexportal_store::webhooks::DeliveryFilter {
            endpoint_id: Some(id),
            ..Default::default()
        };
        let d = flexportal_store::webhooks::deliveries(&mut c, &app.tenant.tenant_id, &filter, 10)
            .await
            .unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].status.as_str(), d[0].last_error.as_deref()),
            ("failed", Some("endpoint removed"))
        );
    }
);
