//! Customers (SPEC §2.4). Customers are created by orders; here through the store.

use flexportal_store::customers::{self, CustomerRecord};
use flexportal_testkit::{TestApp, TestTenant, both_engines, examples};
use serde_json::json;

/// Inserts a customer for `tenant` as an order would.
pub async fn customer(
    app: &TestApp,
    tenant: &TestTenant,
    id: &str,
    email: &str,
    first: &str,
) -> CustomerRecord {
    let c = CustomerRecord {
        tenant_id: tenant.tenant_id.clone(),
        customer_id: id.to_string(),
        email: email.to_string(),
        first_name: first.to_string(),
        last_name: "Larsson".into(),
        customer_type: "individual".into(),
        status: "active".into(),
        created_by: "apikey:test".into(),
        created_at: app.clock_now(),
        updated_at: app.clock_now(),
        ..Default::default()
    };
    let mut tx = app.app().db.begin().await.unwrap();
    customers::insert(&mut tx, &c).await.unwrap();
    tx.commit().await.unwrap();
    c
}

trait Now {
    fn clock_now(&self) -> i64;
}
impl Now for TestApp {
    fn clock_now(&self) -> i64 {
        self.app().now()
    }
}

both_engines!(
    get_update_examples_and_computed_fields,
    |app: TestApp| async move {
        customer(&app, &app.tenant, "cust_a", "Emma@Example.com", "Emma").await;
        let (s, c) = app.get("/v1/customers/cust_a").await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["totalOrders"], 0);
        assert_eq!(c["totalDevicesRented"], 0);
        assert_eq!(c["totalMonthlyRevenue"].to_string(), "0.00");
        assert_eq!(c["orderIds"], json!([]));
        assert_eq!(c["rentalIds"], json!([]));
        assert_eq!(c["customerMargin"].to_string(), "0.00");
        assert!(c.get("customerMarginPercent").is_none());
        assert_eq!(c["profitability"]["activeDevices"], 0);
        for body in examples("updateCustomer") {
            let (s, b) = app.put("/v1/customers/cust_a", body.clone()).await;
            assert_eq!(s, 200, "{body} → {b}");
            assert_eq!(b["customerId"], "cust_a");
        }
        let (_, c) = app.get("/v1/customers/cust_a").await;
        assert_eq!(c["phone"], "+31612345678");
        assert_eq!(c["company"], "New Business LLC");
        assert_eq!(c["customerType"], "business");
        assert_eq!(c["lastBillingAddress"]["city"], "Utrecht");
        // Address validation and email rules.
        let (s, b) = app
            .put(
                "/v1/customers/cust_a",
                json!({"shippingAddress": {"city": "X"}}),
            )
            .await;
        assert_eq!(s, 400);
        let paths: Vec<&str> = b["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            vec![
                "shippingAddress.contactName",
                "shippingAddress.streetAddress",
                "shippingAddress.country"
            ]
        );
        let (s, _) = app
            .put("/v1/customers/cust_a", json!({"email": "not-an-email"}))
            .await;
        assert_eq!(s, 400);
        customer(&app, &app.tenant, "cust_b", "bob@example.com", "Bob").await;
        let (s, b) = app
            .put("/v1/customers/cust_a", json!({"email": "BOB@example.com"}))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (409, Some("CUSTOMER_EMAIL_EXISTS"))
        );
        let (s, b) = app
            .put("/v1/customers/cust_a", json!({"customerId": "cust_b"}))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let (s, _) = app
            .put("/v1/customers/cust_zzz", json!({"phone": "1"}))
            .await;
        assert_eq!(s, 404);
    }
);

both_engines!(delete_and_list_filters, |app: TestApp| async move {
    customer(&app, &app.tenant, "cust_a", "a@example.com", "Ann").await;
    customer(&app, &app.tenant, "cust_b", "b@example.com", "Bea").await;
    // A customer with an active rental cannot be deactivated.
    let mut tx = app.app().db.begin().await.unwrap();
    let delta = customers::CounterDelta {
        devices: 1,
        monthly_revenue: 8900,
        ..Default::default()
    };
    customers::add_counters(&mut tx, &app.tenant.tenant_id, "cust_b", delta, 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (s, e) = app.delete("/v1/customers/cust_b").await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (409, Some("CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS"))
    );
    let (s, e) = app
        .put("/v1/customers/cust_b", json!({"status": "inactive"}))
        .await;
    assert_eq!(
        (s.as_u16(), e["error"]["code"].as_str()),
        (409, Some("CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS"))
    );

    let (s, d) = app.delete("/v1/customers/cust_a").await;
    assert_eq!(s, 200);
    assert_eq!(
        d,
        json!({"success": true, "message": "Customer deactivated", "customerId": "cust_a"})
    );
    let (s, _) = app.delete("/v1/customers/cust_a").await;
    assert_eq!(s, 200);
    // Inactive customers are hidden unless asked for, and stay readable.
    let (_, l) = app.get("/v1/customers").await;
    assert_eq!(l["count"], 1);
    assert_eq!(l["customers"][0]["customerId"], "cust_b");
    assert_eq!(
        l["customers"][0]["totalMonthlyRevenue"].to_string(),
        "89.00"
    );
    let (_, l) = app.get("/v1/customers?status=inactive").await;
    assert_eq!(l["customers"][0]["customerId"], "cust_a");
    let (s, _) = app.get("/v1/customers/cust_a").await;
    assert_eq!(s, 200);
    let (_, l) = app.get("/v1/customers?email=B@EXAMPLE.COM").await;
    assert_eq!(l["count"], 1);
    let (_, l) = app.get("/v1/customers?hasActiveRentals=false").await;
    assert_eq!(l["count"], 0);
    let (_, l) = app
        .get("/v1/customers?hasActiveRentals=true&customerType=individual")
        .await;
    assert_eq!(l["count"], 1);
    let (s, _) = app.get("/v1/customers?customerType=company").await;
    assert_eq!(s, 400);
    let (_, l) = app.get("/v1/customers?sortBy=totalMonthlyRevenue").await;
    assert_eq!(l["count"], 1);
    // Reactivate.
    let (s, b) = app
        .put("/v1/customers/cust_a", json!({"status": "active"}))
        .await;
    assert_eq!(
        (s.as_u16(), b["customer"]["status"].as_str()),
        (200, Some("active"))
    );
});
