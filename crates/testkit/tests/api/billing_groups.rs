//! Billing groups (SPEC §2.8) and the worked example of §4.9: consolidation into one payment a
//! month on the group's billing day, lines per member charge, members leaving and groups
//! dissolving.

use flexportal_testkit::{TestApp, both_engines, examples};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Numbers the assets [`business`] creates, so repeated calls never reuse a serial number.
static SERIALS: AtomicUsize = AtomicUsize::new(0);

/// Three 12-month products at 129.00, 89.00 and 159.00 (SKUs `G-129`, `G-89`, `G-159`).
pub(crate) async fn catalog(app: &TestApp) {
    let variant = |sku: &str, price: f64| {
        json!({"variantSku": sku, "variantName": sku, "grade": "A", "listPrice": 1999.0,
            "acquisitionCost": 1000.0, "pricing": [{"contractLength": 12, "monthlyPrice": price}]})
    };
    let (s, b) = app
        .post(
            "/v1/products",
            json!({"productSku": "G", "name": "Laptop", "specification": "s", "category": "Laptops",
                "brand": "B", "variants": [variant("G-129", 129.0), variant("G-89", 89.0), variant("G-159", 159.0)]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// A business customer (`email`) with one 12-month subscription per `(sku, start date)`, each on
/// a new asset; the clock is left on the last start date. Returns the customer and rental ids.
pub(crate) async fn business(
    app: &TestApp,
    email: &str,
    rentals: &[(&str, &str)],
) -> (String, Vec<String>) {
    app.set_date(rentals[0].1, 9);
    let items: Vec<Value> = rentals
        .iter()
        .map(|(sku, _)| json!({"sku": sku, "quantity": 1, "contractLength": 12}))
        .collect();
    let (s, b) = app
        .post(
            "/v1/orders",
            json!({
                "customer": {"email": email, "firstName": "Ada", "lastName": "Acme",
                    "company": "Acme Corp", "customerType": "business"},
                "billingAddress": {"streetAddress": "Main 1", "city": "Amsterdam", "country": "NL"},
                "items": items
            }),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let order = b["orderId"].as_str().unwrap().to_string();
    let customer = b["order"]["customer"]["customerId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ids = Vec::new();
    for (i, (sku, start)) in rentals.iter().enumerate() {
        app.set_date(start, 9);
        let serial = format!("{email}-{}", SERIALS.fetch_add(1, Ordering::Relaxed));
        let (s, b) = app
            .post("/v1/assets", json!({"serialNumber": serial, "sku": sku}))
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": serial, "orderItemIndex": i}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        ids.push(b["rentalId"].as_str().unwrap().to_string());
    }
    (customer, ids)
}

pub(crate) async fn vat_21_exclusive(app: &TestApp) {
    app.set_settings(
        &app.tenant,
        json!({"taxes": {"vatEnabled": true, "defaultRate": 21, "calculation": "exclusive"}}),
    )
    .await;
}

/// The payments matching a query, by due date (at most 100).
pub(crate) async fn payments(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, b) = app
        .get(&format!(
            "/v1/payments?{query}&sortBy=dueDate&sortDir=asc&limit=100"
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    b["payments"].as_array().unwrap().clone()
}

pub(crate) fn money(v: &Value) -> String {
    v.to_string()
}

/// Service months of a rental billed and not cancelled: its individual payments and the lines
/// for it on consolidated payments, by billing period.
pub(crate) async fn billed_months(app: &TestApp, rental: &str) -> Vec<String> {
    let mut months = Vec::new();
    for p in payments(app, &format!("rentalId={rental}")).await {
        if p["status"] == "cancelled" {
            continue;
        }
        let lines = p["lineItems"].as_array().cloned().unwrap_or_default();
        for l in lines.iter().filter(|l| l["rentalId"] == rental) {
            // Monthly charges are "<productName> <YYYY-MM>"; one-offs (buyout, fees) are not.
            let d = l["description"].as_str().unwrap();
            let month = d.rsplit(' ').next().unwrap_or("");
            if month.len() == 7 && month.as_bytes()[4] == b'-' {
                months.push(month.to_string());
            }
        }
    }
    months.sort();
    months
}

pub(crate) async fn sub(app: &TestApp, id: &str) -> Value {
    let (s, b) = app.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(s, 200, "{b}");
    b
}

both_engines!(consolidation_worked_example, |app: TestApp| async move {
    vat_21_exclusive(&app).await;
    catalog(&app).await;
    let (customer, r) = business(
        &app,
        "a@acme.test",
        &[
            ("G-129", "2025-01-01"),
            ("G-89", "2025-01-10"),
            ("G-159", "2025-01-20"),
        ],
    )
    .await;
    app.set_date("2025-03-05", 9);
    // The documentation's request, with this unit's ids.
    let mut body = examples("createBillingGroup")[0].clone();
    body["customerId"] = json!(customer);
    body["rentalIds"] = json!(r);
    let (s, b) = app.post("/v1/billing-groups", body).await;
    assert_eq!(s, 201, "{b}");
    let g = &b["billingGroup"];
    let gid = g["billingGroupId"].as_str().unwrap().to_string();
    assert_eq!(g["groupName"], "Acme Corp - IT Department");
    assert_eq!(money(&g["totalMonthlyAmount"]), "377.00");
    assert_eq!(g["activeRentalCount"], 3);
    assert_eq!(g["currency"], "EUR");
    assert_eq!(g["status"], "active");
    assert_eq!(g["billingDay"], 15);

    let group = payments(&app, &format!("billingGroupId={gid}")).await;
    assert_eq!(group.len(), 10, "March to December");
    let march = &group[0];
    assert_eq!(march["dueDate"], "2025-03-15");
    assert_eq!(march["paymentType"], "consolidated");
    assert_eq!(money(&march["subtotal"]), "248.00");
    assert_eq!(money(&march["taxAmount"]), "52.08");
    assert_eq!(money(&march["total"]), "300.08");
    let lines: Vec<(String, String)> = march["lineItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (money(&l["amount"]), money(&l["taxAmount"])))
        .collect();
    assert_eq!(
        lines,
        [
            ("89.00".to_string(), "18.69".to_string()),
            ("159.00".to_string(), "33.39".to_string())
        ]
    );
    // S1's charge of 2025-03-01 was billed already: it stays individual.
    let s1 = payments(&app, &format!("rentalId={}", r[0])).await;
    let s1_march = s1
        .iter()
        .find(|p| p["billingDate"] == "2025-03-01")
        .unwrap();
    assert_eq!(s1_march["status"], "pending");
    assert_eq!(s1_march["paymentType"], "individual");
    // S2's March charge was absorbed.
    let s2 = payments(&app, &format!("rentalId={}", r[1])).await;
    let absorbed = s2
        .iter()
        .find(|p| p["billingDate"] == "2025-03-10" && p["paymentType"] == "individual")
        .unwrap();
    assert_eq!(absorbed["status"], "cancelled");
    assert_eq!(
        absorbed["notes"],
        format!("Consolidated into {}", march["paymentId"].as_str().unwrap())
    );
    let april = &group[1];
    assert_eq!(april["dueDate"], "2025-04-15");
    assert_eq!(money(&april["subtotal"]), "377.00");
    assert_eq!(money(&april["taxAmount"]), "79.17");
    assert_eq!(money(&april["total"]), "456.17");
    assert!(april.get("rentalId").is_none_or(Value::is_null));
    assert_eq!(april["billingGroupId"], gid.as_str());
    assert_eq!(april["idempotencyKey"], format!("{gid}:2025-04"));
    assert_eq!(april["lineItems"].as_array().unwrap().len(), 3);

    // Paying April credits each member with its line's net amount.
    app.set_date("2025-04-15", 10);
    let before: Vec<String> = futures_collect(&app, &r).await;
    let (s, b) = app
        .post(
            &format!(
                "/v1/payments/{}/mark-paid",
                april["paymentId"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let after: Vec<String> = futures_collect(&app, &r).await;
    assert_eq!(before, ["0.00", "0.00", "0.00"]);
    assert_eq!(after, ["129.00", "89.00", "159.00"]);

    // The documentation's other two update requests, as written: the billing day it already
    // has, and a new name.
    for (i, check) in [(1, "billingDay"), (2, "groupName")] {
        let body = examples("updateBillingGroup")[i].clone();
        let (s, b) = app
            .patch(&format!("/v1/billing-groups/{gid}"), body.clone())
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["billingGroup"][check], body[check]);
    }
    assert_eq!(
        payments(&app, &format!("billingGroupId={gid}")).await.len(),
        10,
        "the same billing day moves nothing"
    );

    // S3 leaves on 2025-04-20: its lines go from May on, and it is billed on the 20th again.
    app.set_date("2025-04-20", 9);
    let mut body = examples("updateBillingGroup")[0].clone();
    body["rentalIds"] = json!([r[0], r[1]]);
    let (s, b) = app.patch(&format!("/v1/billing-groups/{gid}"), body).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(money(&b["billingGroup"]["totalMonthlyAmount"]), "218.00");
    assert_eq!(b["billingGroup"]["rentalIds"], json!([r[0], r[1]]));
    let group = payments(&app, &format!("billingGroupId={gid}")).await;
    let may = group.iter().find(|p| p["dueDate"] == "2025-05-15").unwrap();
    assert_eq!(money(&may["subtotal"]), "218.00");
    assert_eq!(money(&may["taxAmount"]), "45.78");
    assert_eq!(money(&may["total"]), "263.78");
    let s3 = payments(&app, &format!("rentalId={}", r[2])).await;
    let back: Vec<(&str, &str)> = s3
        .iter()
        .filter(|p| p["paymentType"] == "individual" && p["status"] == "pending")
        .filter(|p| p["billingDate"].as_str().unwrap() > "2025-04-20")
        .map(|p| {
            (
                p["billingDate"].as_str().unwrap(),
                p["idempotencyKey"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(back.len(), 8, "{back:?}");
    assert_eq!(back[0].0, "2025-05-20");
    assert_eq!(back[0].1, format!("{}:2025-05:r1", r[2]));
    assert_eq!(money(&s3.last().unwrap()["total"]), "192.39");
    assert!(sub(&app, &r[2]).await["billingGroupId"].is_null());
    for rental in &r {
        let months = billed_months(&app, rental).await;
        let mut unique = months.clone();
        unique.dedup();
        assert_eq!(months.len(), 12, "{rental}: {months:?}");
        assert_eq!(unique, months, "{rental}: a month billed twice");
    }

    // Validation.
    let (s, b) = app
        .patch(
            &format!("/v1/billing-groups/{gid}"),
            json!({"billingDay": 31}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].clone()),
        (400, json!("INVALID_BILLING_DAY"))
    );
    let (_, other) = business(&app, "b@other.test", &[("G-89", "2025-04-20")]).await;
    let (s, b) = app
        .patch(
            &format!("/v1/billing-groups/{gid}"),
            json!({"rentalIds": [r[0], r[1], other[0]]}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].clone()),
        (400, json!("SUBSCRIPTION_DIFFERENT_CUSTOMER"))
    );

    // Deleting the group: the subscriptions keep running, billed individually.
    let (s, b) = app.delete(&format!("/v1/billing-groups/{gid}")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["success"], true);
    let (s, _) = app.get(&format!("/v1/billing-groups/{gid}")).await;
    assert_eq!(s, 404);
    for rental in &r {
        let v = sub(&app, rental).await;
        assert_eq!(v["status"], "active");
        assert!(v["billingGroupId"].is_null());
        assert_eq!(billed_months(&app, rental).await.len(), 12);
    }
    let left = payments(&app, &format!("billingGroupId={gid}")).await;
    // Only the future ones dissolve: March, billed before, stays due as it is.
    let pending: Vec<&str> = left
        .iter()
        .filter(|p| p["status"] == "pending")
        .map(|p| p["billingDate"].as_str().unwrap())
        .collect();
    assert_eq!(pending, ["2025-03-15"]);
    assert!(
        left.iter().any(|p| p["status"] == "paid"),
        "April stays paid"
    );
});

/// `totalCollected` of each rental.
async fn futures_collect(app: &TestApp, rentals: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rentals {
        out.push(money(&sub(app, r).await["totalCollected"]));
    }
    out
}
