//! Assets (SPEC §2.3).

use flexportal_testkit::{TestApp, both_engines, examples};
use serde_json::json;

both_engines!(create_examples_work, |app: TestApp| async move {
    let (s, _) = app
        .post("/v1/products", examples("createProduct")[1].clone())
        .await;
    assert_eq!(s, 201);
    let ex = examples("createAsset");
    // Minimal: cost copied from the variant, date defaults to today, status available.
    let (s, b) = app.post("/v1/assets", ex[0].clone()).await;
    assert_eq!(s, 201, "{b}");
    let a = &b["asset"];
    assert_eq!(b["success"], true);
    assert_eq!(a["serialNumber"], "SN123456789");
    assert_eq!(a["status"], "available");
    assert_eq!(
        a["productName"],
        "MacBook Pro 16\" - M3 Pro, 18GB RAM, 512GB SSD"
    );
    assert_eq!(
        a["productImageUrl"],
        "https://example.com/images/macbook-pro-16.jpg"
    );
    assert_eq!(a["acquisitionCost"].to_string(), "1800.00");
    assert_eq!(a["acquisitionDate"], "2025-01-15");
    assert_eq!(a["tenantId"], app.tenant.tenant_id.as_str());
    assert_eq!(a["createdAt"], "2025-01-15T10:30:00.000Z");
    assert!(a["variantId"].as_str().unwrap().starts_with("var_"));
    assert!(a.get("customerId").is_none());
    // Complete.
    let (s, b) = app.post("/v1/assets", ex[1].clone()).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["asset"]["acquisitionCost"].to_string(), "1750.00");
    assert_eq!(b["asset"]["acquisitionDate"], "2025-01-15");
    assert_eq!(b["asset"]["location"], "Amsterdam Warehouse");
    assert_eq!(b["asset"]["condition"], "New in box");
    // Same serial again → 409.
    let (s, b) = app.post("/v1/assets", ex[1].clone()).await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (409, Some("ASSET_EXISTS"))
    );
    let (s, got) = app.get("/v1/assets/C02ZX1Y2MD6T").await;
    assert_eq!(s, 200);
    assert_eq!(got["notes"], "Batch order #2025-001");
});

both_engines!(create_checks_in_order, |app: TestApp| async move {
    crate::product(&app, "PHONE", "Smartphones", &["PHONE-1"]).await;
    let pid = crate::product(&app, "OLD", "Laptops", &["OLD-1"]).await;
    app.delete(&format!("/v1/products/{pid}")).await;
    let (s, b) = app
        .post(
            "/v1/assets",
            json!({"serialNumber": "  ", "sku": "PHONE-1"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    let (s, b) = app
        .post("/v1/assets", json!({"serialNumber": "S1", "sku": "NOPE"}))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("VARIANT_NOT_FOUND"))
    );
    let (s, b) = app
        .post("/v1/assets", json!({"serialNumber": "S1", "sku": "OLD-1"}))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("VARIANT_INACTIVE"))
    );
    // Phone products need a valid IMEI.
    let (s, b) = app
        .post(
            "/v1/assets",
            json!({"serialNumber": "490154203237517", "sku": "PHONE-1"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["details"][0]["code"].as_str()),
        (400, Some("invalid_imei"))
    );
    let (s, _) = app
        .post(
            "/v1/assets",
            json!({"serialNumber": "490154203237518", "sku": "PHONE-1"}),
        )
        .await;
    assert_eq!(s, 201);
    for status in ["rented_out", "sold", "broken"] {
        let (s, b) = app
            .post(
                "/v1/assets",
                json!({"serialNumber": "S2", "sku": "PHONE-1", "status": status}),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("INVALID_STATUS")),
            "{status}"
        );
    }
    let (s, b) = app
        .post(
            "/v1/assets",
            json!({"serialNumber": "490154203237518 ", "sku": "PHONE-1", "acquisitionCost": -5}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    let (s, b) = app
        .post(
            "/v1/assets",
            json!({"serialNumber": "X", "sku": "PHONE-1", "acquisitionDate": "15/01/2025"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["details"][0]["path"].as_str()),
        (400, Some("acquisitionDate"))
    );
    // Serial numbers are trimmed and compared case-sensitively.
    let (s, b) = app
        .post(
            "/v1/assets",
            json!({"serialNumber": " 490154203237518 ", "sku": "PHONE-1"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (409, Some("ASSET_EXISTS"))
    );
    let (_, l) = app.get("/v1/assets").await;
    assert_eq!(l["count"], 1);
});

both_engines!(
    update_examples_and_status_rules,
    |app: TestApp| async move {
        app.post("/v1/products", examples("createProduct")[1].clone())
            .await;
        app.post("/v1/assets", examples("createAsset")[1].clone())
            .await;
        let ex = examples("updateAsset");
        assert_eq!(ex.len(), 3);
        app.clock.advance(60_000);
        for (i, body) in ex.iter().enumerate() {
            let (s, b) = app.put("/v1/assets/C02ZX1Y2MD6T", body.clone()).await;
            assert_eq!(s, 200, "example {i}: {b}");
            assert_eq!(b["asset"]["updatedAt"], "2025-01-15T10:31:00.000Z");
        }
        let (_, a) = app.get("/v1/assets/C02ZX1Y2MD6T").await;
        assert_eq!(a["status"], "available");
        assert_eq!(a["condition"], "Inspected and cleaned - Grade B");
        assert_eq!(a["location"], "Amsterdam Warehouse");
        // rented_out is never manual; unknown statuses are INVALID_STATUS; immutable fields must match.
        let (s, b) = app
            .put("/v1/assets/C02ZX1Y2MD6T", json!({"status": "rented_out"}))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("INVALID_STATUS"))
        );
        let (s, b) = app
            .put("/v1/assets/C02ZX1Y2MD6T", json!({"status": "lost"}))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("INVALID_STATUS"))
        );
        let (s, b) = app
            .put("/v1/assets/C02ZX1Y2MD6T", json!({"sku": "OTHER"}))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let (s, _) = app
            .put(
                "/v1/assets/C02ZX1Y2MD6T",
                json!({"serialNumber": "C02ZX1Y2MD6T", "tenantId": "ignored", "createdAt": "x"}),
            )
            .await;
        assert_eq!(s, 200);
        // Returned → available needs an inspection condition code.
        app.put("/v1/assets/C02ZX1Y2MD6T", json!({"status": "returned"}))
            .await;
        let (s, b) = app
            .put(
                "/v1/assets/C02ZX1Y2MD6T",
                json!({"status": "available", "condition": "looks fine"}),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["details"][0]["path"].as_str()),
            (400, Some("condition"))
        );
        let (s, b) = app
            .put(
                "/v1/assets/C02ZX1Y2MD6T",
                json!({"status": "available", "condition": "like_new"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        // Cost edits: explicit becomes the cost.
        let (_, b) = app
            .put(
                "/v1/assets/C02ZX1Y2MD6T",
                json!({"acquisitionCost": 1234.5}),
            )
            .await;
        assert_eq!(b["asset"]["acquisitionCost"].to_string(), "1234.50");
        let (s, _) = app
            .put("/v1/assets/UNKNOWN", json!({"location": "x"}))
            .await;
        assert_eq!(s, 404);
    }
);

both_engines!(
    assets_linked_to_a_rental_are_in_use,
    |app: TestApp| async move {
        crate::product(&app, "P", "Laptops", &["P-1"]).await;
        app.post("/v1/assets", json!({"serialNumber": "R1", "sku": "P-1"}))
            .await;
        // Assign it as a fulfilment does (through the store).
        let mut tx = app.app().db.begin().await.unwrap();
        let mut a = flexportal_store::assets::get(&mut tx, &app.tenant.tenant_id, "R1")
            .await
            .unwrap()
            .unwrap();
        a.status = "rented_out".into();
        a.customer_id = Some("cust_1".into());
        a.rental_id = Some("sub_1".into());
        flexportal_store::assets::update(&mut tx, &a).await.unwrap();
        tx.commit().await.unwrap();
        let (s, b) = app
            .put("/v1/assets/R1", json!({"status": "available"}))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (409, Some("ASSET_IN_USE"))
        );
        let (s, b) = app.delete("/v1/assets/R1").await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (409, Some("ASSET_IN_USE"))
        );
        // Location and notes may still change while rented.
        let (s, b) = app
            .put(
                "/v1/assets/R1",
                json!({"location": "Customer site", "notes": "n"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["asset"]["status"], "rented_out");
        let (_, l) = app.get("/v1/assets?customerId=cust_1").await;
        assert_eq!(l["count"], 1);
        let (_, l) = app.get("/v1/assets?rentalId=sub_1").await;
        assert_eq!(l["assets"][0]["rentalId"], "sub_1");
    }
);

both_engines!(delete_is_soft_and_reversible, |app: TestApp| async move {
    crate::product(&app, "P", "Laptops", &["P-1"]).await;
    app.post("/v1/assets", json!({"serialNumber": "D1", "sku": "P-1"}))
        .await;
    let (s, b) = app.delete("/v1/assets/D1").await;
    assert_eq!(s, 200);
    assert_eq!(
        b,
        json!({"success": true, "message": "Asset marked unavailable", "serialNumber": "D1"})
    );
    let (s, _) = app.delete("/v1/assets/D1").await;
    assert_eq!(s, 200);
    let (_, a) = app.get("/v1/assets/D1").await;
    assert_eq!(a["status"], "unavailable");
    let (_, l) = app.get("/v1/assets?status=available").await;
    assert_eq!(l["count"], 0);
    let (_, l) = app.get("/v1/assets").await;
    assert_eq!(l["count"], 1);
    // The serial stays taken.
    let (s, _) = app
        .post("/v1/assets", json!({"serialNumber": "D1", "sku": "P-1"}))
        .await;
    assert_eq!(s, 409);
    let (s, b) = app
        .put("/v1/assets/D1", json!({"status": "available"}))
        .await;
    assert_eq!(
        (s.as_u16(), b["asset"]["status"].as_str()),
        (200, Some("available"))
    );
    // Serial numbers with URL-special characters.
    app.post("/v1/assets", json!({"serialNumber": "A/B C", "sku": "P-1"}))
        .await;
    let (s, a) = app.get("/v1/assets/A%2FB%20C").await;
    assert_eq!(
        (s.as_u16(), a["serialNumber"].as_str()),
        (200, Some("A/B C"))
    );
});

both_engines!(
    concurrent_reads_each_get_their_own_asset,
    |app: TestApp| async move {
        let other = app.new_tenant("USD").await;
        let product = json!({
            "productSku": "P", "name": "Laptop", "specification": "s", "category": "Laptops", "brand": "B",
            "variants": [{"variantSku": "P-1", "variantName": "v", "grade": "A", "pricing": [{"contractLength": 12, "monthlyPrice": 10}]}]
        });
        let (s, _) = app.post("/v1/products", product.clone()).await;
        assert_eq!(s, 201);
        for i in 0..24 {
            let (s, b) = app
                .post(
                    "/v1/assets",
                    json!({"serialNumber": format!("SER-{i}"), "sku": "P-1", "location": format!("shelf {i}")}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
        }
        // The other unit has SER-0 too, elsewhere; SER-1 only exists here.
        let (s, _) = app
            .call_as(&other, "POST", "/v1/products", Some(product))
            .await;
        assert_eq!(s, 201);
        let (s, _) = app
            .call_as(
                &other,
                "POST",
                "/v1/assets",
                Some(json!({"serialNumber": "SER-0", "sku": "P-1", "location": "theirs"})),
            )
            .await;
        assert_eq!(s, 201);

        // Every asset twice, an unknown serial, and the other unit's reads, all at once.
        let request = |tenant: &flexportal_testkit::TestTenant, serial: &str| {
            axum::http::Request::get(format!("/v1/assets/{serial}"))
                .header("authorization", format!("Bearer {}", tenant.key))
                .header("tenant-id", &tenant.tenant_id)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let mut wanted = Vec::new();
        let mut requests = Vec::new();
        for round in 0..2 {
            for i in 0..24 {
                requests.push(request(&app.tenant, &format!("SER-{i}")));
                wanted.push((200, Some(format!("shelf {i}"))));
            }
            if round == 0 {
                requests.push(request(&app.tenant, "SER-404"));
                wanted.push((404, None));
                requests.push(request(&other, "SER-0"));
                wanted.push((200, Some("theirs".to_string())));
                requests.push(request(&other, "SER-1"));
                wanted.push((404, None));
            }
        }
        let answers = app.concurrently_raw(requests).await;
        for ((s, b), (status, location)) in answers.iter().zip(&wanted) {
            assert_eq!(s.as_u16(), *status, "{b}");
            if let Some(location) = location {
                assert_eq!(b["location"], location.as_str(), "{b}");
            }
        }
        // On PostgreSQL the reads that overlapped shared statements.
        let reads = &app.state.app.asset_reads;
        if app.state.app.db.engine() == flexportal_store::Engine::Postgres {
            assert_eq!(reads.reads(), answers.len() as u64);
            assert!(
                reads.statements() < reads.reads(),
                "{} statements for {} reads",
                reads.statements(),
                reads.reads()
            );
        } else {
            assert_eq!(reads.reads(), 0, "SQLite reads directly");
        }
    }
);
