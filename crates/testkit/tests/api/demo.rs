//! The demo data set: every order state, a year of payments, consistent counters.

use flexportal_app::demo::{DemoSize, load};
use flexportal_testkit::{TestApp, both_engines};

both_engines!(demo_loads_a_living_business, |app: TestApp| async move {
    app.set_date("2025-06-30", 12);
    let ctx = app.context(&app.tenant).await;
    let size = DemoSize {
        assets: 400,
        orders: 60,
        customers: 40,
    };
    let s = load(app.app(), &ctx, size).await.unwrap();
    assert_eq!(
        (s.products, s.variants, s.assets, s.orders),
        (13, 39, 400, 60)
    );
    assert!(s.subscriptions > 40, "{s:?}");
    assert!(s.payments_paid > 100, "{s:?}");
    for status in ["pending", "confirmed", "partial", "fulfilled", "cancelled"] {
        let (_, l) = app
            .get(&format!("/v1/orders?status={status}&limit=1"))
            .await;
        assert_eq!(l["count"], 1, "an order in status {status}");
    }
    let (_, l) = app.get("/v1/assets?status=rented_out&limit=100").await;
    assert!(l["count"].as_i64().unwrap() > 40);
    // Paid history drives cost recovery; counters agree with the subscriptions.
    let (_, subs) = app
        .get("/v1/subscriptions?status=active&limit=100&sortBy=startDate&sortDir=asc")
        .await;
    let oldest = &subs["rentals"][0];
    assert_ne!(
        oldest["totalCollected"].to_string(),
        "0.00",
        "a months-old rental has paid history"
    );
    assert!(oldest["costRecovery"]["monthsActive"].as_i64().unwrap() > 1);
    let (_, c) = app
        .get("/v1/customers?hasActiveRentals=true&limit=1&sortBy=totalDevicesRented")
        .await;
    let cust = &c["customers"][0];
    let id = cust["customerId"].as_str().unwrap();
    let (_, theirs) = app
        .get(&format!(
            "/v1/subscriptions?customerId={id}&status=active&limit=100"
        ))
        .await;
    assert_eq!(cust["totalDevicesRented"], theirs["count"]);
    let (_, paid) = app.get("/v1/payments?status=paid&limit=1").await;
    assert_eq!(paid["count"], 1);
});
