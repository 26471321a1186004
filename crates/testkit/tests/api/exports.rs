//! The rentals export (SPEC §2.10, `POST /v1/exports/rentals`): the CSV parses back with a
//! standard reader into exactly the subscriptions it was made from, filters and column groups,
//! totals, validation, the row cap, and isolation.

use flexportal_testkit::{TestApp, both_engines, examples};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A product `sku` (cost 1,000.00; 12 months at 49.90, 24 at 39.90).
async fn product(app: &TestApp, sku: &str) {
    let (s, b) = app
        .post(
            "/v1/products",
            json!({"productSku": sku, "name": format!("Laptop \"{sku}\", 14-inch"),
                "specification": "s", "category": "Laptops", "brand": "B",
                "variants": [{"variantSku": format!("{sku}-1"), "variantName": "Base",
                    "grade": "A", "listPrice": 1999.0, "acquisitionCost": 1000.0,
                    "pricing": [{"contractLength": 12, "monthlyPrice": 49.9},
                                {"contractLength": 24, "monthlyPrice": 39.9}]}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// An order for a customer and its one subscription on the new asset `serial`, started on
/// `start`. Returns (rental id, customer id).
#[allow(clippy::too_many_arguments)]
async fn rent(
    app: &TestApp,
    customer: Value,
    sku: &str,
    months: i64,
    serial: &str,
    start: &str,
    custom: Value,
) -> (String, String) {
    app.set_date(start, 9);
    let (s, b) = app
        .post(
            "/v1/orders",
            json!({"customer": customer,
                "billingAddress": {"streetAddress": "Main 1", "city": "Oslo", "country": "NO"},
                "items": [{"sku": format!("{sku}-1"), "quantity": 1, "contractLength": months}],
                "customFields": custom}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let order = b["orderId"].as_str().unwrap().to_string();
    let customer_id = b["order"]["customer"]["customerId"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, b) = app
        .post(
            "/v1/assets",
            json!({"serialNumber": serial, "sku": format!("{sku}-1")}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            "/v1/subscriptions",
            json!({"orderId": order, "assetSerialNumber": serial}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    (b["rentalId"].as_str().unwrap().to_string(), customer_id)
}

/// The CSV of an export response as header and rows, read with a standard CSV reader.
fn parse_csv(body: &Value) -> (Vec<String>, Vec<Vec<String>>) {
    let text = body["csvData"].as_str().expect("csvData");
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// A JSON number or string as the CSV writes it (`49.90` stays `49.90`).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Three customers whose names and companies need quoting, four subscriptions on three start
/// dates, custom fields on two orders.
async fn dataset(app: &TestApp) -> Vec<(String, String)> {
    product(app, "EXP").await;
    let zoe = json!({"email": "zoe@example.com", "firstName": "Zoë \"Z\"",
        "lastName": "Müller, Jr.", "company": "Acme, Inc.\nNorth"});
    let li = json!({"email": "li@example.com", "firstName": "李", "lastName": "雷"});
    let ola = json!({"email": "ola@example.com", "firstName": "Ola", "lastName": "Nordmann"});
    vec![
        rent(
            app,
            zoe.clone(),
            "EXP",
            12,
            "EXP-A",
            "2025-03-01",
            json!({"costCenter": "CC-1, east", "po": 4711}),
        )
        .await,
        rent(
            app,
            li,
            "EXP",
            24,
            "EXP-B",
            "2025-01-15",
            json!({"costCenter": "CC-\"2\""}),
        )
        .await,
        rent(app, ola, "EXP", 12, "EXP-C", "2025-06-30", json!(null)).await,
        rent(
            app,
            zoe,
            "EXP",
            24,
            "EXP-D",
            "2025-03-01",
            json!({"project": "Ærø"}),
        )
        .await,
    ]
}

both_engines!(
    csv_parses_back_into_the_subscriptions,
    |app: TestApp| async move {
        let rentals = dataset(&app).await;
        // Pay two charges of the first rental so collected income and recovery are not zero.
        let (s, b) = app
            .get(&format!("/v1/payments?rentalId={}", rentals[0].0))
            .await;
        assert_eq!(s, 200, "{b}");
        let mut due: Vec<&Value> = b["payments"].as_array().unwrap().iter().collect();
        due.sort_by_key(|p| p["dueDate"].as_str().unwrap().to_string());
        for p in due.iter().take(2) {
            let id = p["paymentId"].as_str().unwrap();
            let (s, b) = app
                .post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
                .await;
            assert_eq!(s, 200, "{b}");
        }

        let (s, b) = app.post("/v1/exports/rentals", json!({})).await;
        assert_eq!(s, 200, "{b}");
        let (header, rows) = parse_csv(&b);
        assert_eq!(
            header,
            [
                "subscriptionId",
                "customerId",
                "customerEmail",
                "customerName",
                "company",
                "sku",
                "productName",
                "serialNumber",
                "status",
                "startDate",
                "endDate",
                "contractLength",
                "monthlyAmount",
                "currency",
                "totalCollected",
                "acquisitionCost",
                "costRecoveryPercent",
                "customField_costCenter",
                "customField_po",
                "customField_project",
            ]
        );
        // Sorted by start date, then rental id.
        let mut expected: Vec<Value> = Vec::new();
        for (id, _) in &rentals {
            let (s, sub) = app.get(&format!("/v1/subscriptions/{id}")).await;
            assert_eq!(s, 200, "{sub}");
            expected.push(sub);
        }
        expected.sort_by_key(|s| {
            (
                s["startDate"].as_str().unwrap().to_string(),
                s["rentalId"].as_str().unwrap().to_string(),
            )
        });
        assert_eq!(rows.len(), 4);
        let customs = [
            ("EXP-A", ["CC-1, east", "4711", ""]),
            ("EXP-B", ["CC-\"2\"", "", ""]),
            ("EXP-C", ["", "", ""]),
            ("EXP-D", ["", "", "Ærø"]),
        ];
        for (row, sub) in rows.iter().zip(&expected) {
            let company = if sub["customerEmail"] == "zoe@example.com" {
                "Acme, Inc.\nNorth"
            } else {
                ""
            };
            let serial = sub["assetSerialNumber"].as_str().unwrap();
            let custom = customs.iter().find(|(s, _)| *s == serial).unwrap().1;
            let want: Vec<String> = [
                cell(&sub["rentalId"]),
                cell(&sub["customerId"]),
                cell(&sub["customerEmail"]),
                cell(&sub["customerName"]),
                company.to_string(),
                cell(&sub["sku"]),
                cell(&sub["productName"]),
                serial.to_string(),
                cell(&sub["status"]),
                cell(&sub["startDate"]),
                cell(&sub["endDate"]),
                cell(&sub["contractLength"]),
                cell(&sub["monthlyAmount"]),
                "EUR".to_string(),
                cell(&sub["totalCollected"]),
                cell(&sub["acquisitionCost"]),
                cell(&sub["costRecoveryPercent"]),
            ]
            .into_iter()
            .chain(custom.iter().map(|c| c.to_string()))
            .collect();
            assert_eq!(row, &want);
        }
        // The names that need quoting came back whole.
        assert!(rows.iter().any(|r| r[3] == "Zoë \"Z\" Müller, Jr."));
        assert!(rows.iter().any(|r| r[3] == "李 雷"));
        assert_eq!(rows[0][9], "2025-01-15");
        // Totals: 4 rows, all active; revenue = the two paid nets; mean monthly of the actives.
        assert_eq!(b["success"], true);
        assert_eq!(b["totalRecords"], 4);
        assert_eq!(b["totalRentals"], 4);
        assert_eq!(b["recordCount"], 4);
        assert_eq!(b["activeRentals"], 4);
        let collected: f64 = expected
            .iter()
            .map(|s| s["totalCollected"].as_f64().unwrap())
            .sum();
        assert!(collected > 0.0);
        assert_eq!(b["totalRevenue"].as_f64().unwrap(), collected);
        // (49.90 + 39.90 + 49.90 + 39.90) / 4 = 44.90
        assert_eq!(b["averageMonthlyRevenue"].to_string(), "44.90");
        assert!(b["filename"].as_str().unwrap().starts_with("rentals-"));
        assert!(b["filename"].as_str().unwrap().ends_with(".csv"));
        assert!(b["generatedAt"].as_str().unwrap().ends_with('Z'));
        assert_eq!(b["filters"]["format"], "csv");
        // The same CSV is kept as a file of the unit behind a 60-minute download URL.
        let csv_text = b["csvData"].as_str().unwrap();
        let url = b["downloadUrl"].as_str().unwrap();
        let path = &url[url.find("/files/").unwrap()..];
        let resp = app
            .router
            .clone()
            .oneshot(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let stored = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(stored, csv_text.as_bytes());
        assert!(b["expiresAt"].as_str().unwrap().ends_with('Z'));
        let (_, files) = app.get("/v1/files?type=document").await;
        assert_eq!(files["count"], 1);
        let f = &files["files"][0];
        assert_eq!(f["filename"], b["filename"]);
        assert_eq!(
            (f["category"].as_str(), f["contentType"].as_str()),
            (Some("generated"), Some("text/csv"))
        );
        assert_eq!(f["fileSize"], csv_text.len());
    }
);

both_engines!(filters_and_column_groups, |app: TestApp| async move {
    let rentals = dataset(&app).await;
    // End one rental so statuses differ.
    let (s, b) = app
        .post(
            &format!("/v1/subscriptions/{}/cancel", rentals[1].0),
            json!({"rentalId": rentals[1].0, "reason": "customer_request"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let ids =
        |b: &Value| -> Vec<String> { parse_csv(b).1.into_iter().map(|r| r[0].clone()).collect() };

    // The documentation's request examples, as written.
    let ex = examples("exportRentals");
    assert_eq!(ex.len(), 2);
    let (s, b) = app.post("/v1/exports/rentals", ex[0].clone()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["totalRecords"], 3, "status active");
    assert!(!ids(&b).contains(&rentals[1].0));
    assert_eq!(b["filters"]["status"], "active");
    let (s, b) = app.post("/v1/exports/rentals", ex[1].clone()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["totalRecords"], 0, "nothing started in 2024");
    assert_eq!(
        b["csvData"].as_str().unwrap().lines().count(),
        1,
        "the header alone"
    );
    assert_eq!(b["averageMonthlyRevenue"].to_string(), "0.00");

    let (s, b) = app
        .post("/v1/exports/rentals", json!({"status": "cancelled"}))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(ids(&b), [rentals[1].0.clone()]);
    assert_eq!(b["activeRentals"], 0);
    // Start-date range, both spellings, inclusive at both ends.
    for body in [
        json!({"startDate": "2025-03-01", "endDate": "2025-06-30"}),
        json!({"startDateFrom": "2025-03-01T00:00:00Z", "startDateTo": "2025-06-30"}),
    ] {
        let (s, b) = app.post("/v1/exports/rentals", body).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["totalRecords"], 3, "{}", b["filters"]);
    }
    // End-date range: the 12-month rentals end in 2026.
    let (s, b) = app
        .post(
            "/v1/exports/rentals",
            json!({"endDateFrom": "2026-01-01", "endDateTo": "2026-12-31"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["totalRecords"], 2);
    // Customers: the array and the single id add up.
    let (s, b) = app
        .post(
            "/v1/exports/rentals",
            json!({"customerIds": [rentals[0].1], "customerId": rentals[1].1}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["totalRecords"], 3);
    // Column groups off.
    let (s, b) = app
        .post(
            "/v1/exports/rentals",
            json!({"includeFields": {"customerDetails": false, "deviceDetails": false,
                "financialDetails": false, "customFields": false}}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (header, rows) = parse_csv(&b);
    assert_eq!(
        header,
        [
            "subscriptionId",
            "status",
            "startDate",
            "endDate",
            "contractLength"
        ]
    );
    assert_eq!(rows.len(), 4);
    // Custom-field columns only for keys the exported rows carry.
    let (s, b) = app
        .post(
            "/v1/exports/rentals",
            json!({"customerIds": [rentals[1].1]}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (header, _) = parse_csv(&b);
    assert_eq!(header.last().unwrap(), "customField_costCenter");
    assert!(!header.iter().any(|h| h == "customField_po"));
});

both_engines!(
    bad_filters_answer_400_and_the_cap_holds,
    |app: TestApp| async move {
        let rentals = dataset(&app).await;
        for (body, field) in [
            (json!({"status": "paused"}), "status"),
            (json!({"format": "xlsx"}), "format"),
            (json!({"startDate": "2025-13-01"}), "startDate"),
            (json!({"startDate": 20250101}), "startDate"),
            (
                json!({"startDate": "2025-06-01", "endDate": "2025-01-01"}),
                "endDate",
            ),
            (
                json!({"endDateFrom": "2026-06-01", "endDateTo": "2026-01-01"}),
                "endDateTo",
            ),
            (
                json!({"startDate": "2025-01-01", "startDateFrom": "2025-02-01"}),
                "startDateFrom",
            ),
            (json!({"customerIds": "cust_1"}), "customerIds"),
            (json!({"customerIds": [7]}), "customerIds.0"),
            (
                json!({"includeFields": {"customFields": "no"}}),
                "includeFields.customFields",
            ),
            (json!({"includeFields": []}), "includeFields"),
        ] {
            let (s, b) = app.post("/v1/exports/rentals", body.clone()).await;
            assert_eq!(s, 400, "{body}: {b}");
            assert_eq!(b["error"]["code"], "VALIDATION_ERROR", "{body}: {b}");
            assert!(b.to_string().contains(field), "{body}: {b}");
        }
        let (s, b) = app.post("/v1/exports/rentals", json!([1])).await;
        assert_eq!(s, 400, "{b}");
        let too_many: Vec<String> = (0..1001).map(|i| format!("cust_{i}")).collect();
        let (s, b) = app
            .post("/v1/exports/rentals", json!({"customerIds": too_many}))
            .await;
        assert_eq!(s, 400, "{b}");

        // More rows than the cap: refused before anything is written.
        let ctx = app.context(&app.tenant).await;
        let request = flexportal_app::exports::parse(&json!({})).unwrap();
        let err = match flexportal_app::exports::prepare(app.app(), &ctx, request.clone(), Some(3))
            .await
        {
            Err(e) => e.into_wire(),
            Ok(_) => panic!("4 rows pass a cap of 3"),
        };
        assert_eq!(err.code, "VALIDATION_ERROR");
        assert!(
            err.message.contains("narrow the filters"),
            "{}",
            err.message
        );
        let mut export = flexportal_app::exports::prepare(app.app(), &ctx, request, Some(4))
            .await
            .unwrap();
        assert_eq!(export.total(), 4);
        let mut text = Vec::new();
        while let Some(chunk) = export.next_chunk().await.unwrap() {
            text.extend(chunk);
        }
        assert_eq!(
            String::from_utf8(text)
                .unwrap()
                .matches(&rentals[3].0)
                .count(),
            1
        );
    }
);

both_engines!(
    exports_see_only_their_business_unit,
    |app: TestApp| async move {
        let rentals = dataset(&app).await;
        let other = app.new_tenant("EUR").await;
        let (s, b) = app
            .call_as(&other, "POST", "/v1/exports/rentals", Some(json!({})))
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["totalRecords"], 0);
        // Naming this unit's customers from the other unit finds nothing.
        let (s, b) = app
            .call_as(
                &other,
                "POST",
                "/v1/exports/rentals",
                Some(json!({"customerIds": [rentals[0].1, rentals[1].1]})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["totalRecords"], 0);
        assert!(!b["csvData"].as_str().unwrap().contains("sub_"));
    }
);
