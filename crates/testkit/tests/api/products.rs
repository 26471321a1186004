//! Products and variants (SPEC §2.2).

use axum::body::Body;
use axum::http::Request;
use flexportal_testkit::{TestApp, both_engines, examples};
use serde_json::json;

both_engines!(create_examples_work_and_upsert, |app: TestApp| async move {
    let ex = examples("createProduct");
    assert_eq!(ex.len(), 2);
    let (s, first) = app.post("/v1/products", ex[0].clone()).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["operation"], "created");
    assert_eq!(
        first["variantResults"],
        json!([{"variantSku": "MACBOOK-PRO-16-M3-BASE", "operation": "create"}])
    );
    // The complete example has the same productSku: an upsert that adds three variants.
    let (s, second) = app.post("/v1/products", ex[1].clone()).await;
    assert_eq!(s, 201, "{second}");
    assert_eq!(second["operation"], "updated");
    assert_eq!(second["productId"], first["productId"]);
    let id = first["productId"].as_str().unwrap();
    let (s, p) = app.get(&format!("/v1/products/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(
        p["description"],
        "Professional laptop for creative and development work"
    );
    assert_eq!(
        p["variants"].as_array().unwrap().len(),
        4,
        "variants not mentioned are kept"
    );
    let silver = p["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["variantSku"] == "MACBOOK-PRO-16-M3-18GB-SILVER")
        .unwrap();
    assert_eq!(
        silver["pricing"][0].to_string(),
        // Cost 1 800.00: breakeven after 9.0 months, beyond the 6-month contract, which
        // recovers 1 194.00 (66.3 %).
        r#"{"breakevenMonths":9.0,"breakevenWarning":true,"contractLength":6,"monthlyPrice":199.00,"recoveryAtEndPercent":66.3,"source":"manual"}"#
    );
    assert_eq!(silver["listPrice"].to_string(), "2499.00");
    assert_eq!(silver["productSku"], "MACBOOK-PRO-16");
    assert_eq!(silver["status"], "active");
    assert_eq!(p["_sync"], json!({"source": "manual"}));
});

both_engines!(
    update_examples_work_and_merge_pricing,
    |app: TestApp| async move {
        let ex = examples("createProduct");
        let (_, created) = app.post("/v1/products", ex[1].clone()).await;
        let id = created["productId"].as_str().unwrap().to_string();
        let updates = examples("updateProduct");
        assert_eq!(updates.len(), 5);
        for body in &updates {
            let (s, b) = app.put(&format!("/v1/products/{id}"), body.clone()).await;
            assert_eq!(s, 200, "{body} → {b}");
            assert_eq!(b["operation"], "updated");
        }
        let (_, p) = app.get(&format!("/v1/products/{id}")).await;
        assert_eq!(p["name"], "MacBook Pro 16\" (2024)");
        assert_eq!(p["status"], "discontinued");
        let silver = p["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["variantSku"] == "MACBOOK-PRO-16-M3-18GB-SILVER")
            .unwrap();
        // Tiers merged by contract length: 6 kept, 12 and 24 from the last pricing update, 36 from the one before.
        let prices: Vec<(i64, String)> = silver["pricing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["contractLength"].as_i64().unwrap(),
                    t["monthlyPrice"].to_string(),
                )
            })
            .collect();
        assert_eq!(
            prices,
            vec![
                (6, "199.00".into()),
                (12, "149.00".into()),
                (24, "119.00".into()),
                (36, "99.00".into())
            ]
        );
        assert_eq!(silver["acquisitionCost"].to_string(), "1650.00");
        // Discontinuing deactivated every variant.
        assert!(
            p["variants"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["status"] == "inactive")
        );
        // Reactivation: product active, variants stay inactive until reactivated one by one.
        let (s, _) = app
            .put(&format!("/v1/products/{id}"), json!({"status": "active"}))
            .await;
        assert_eq!(s, 200);
        let (_, p) = app.get(&format!("/v1/products/{id}")).await;
        assert_eq!(p["status"], "active");
        assert!(
            p["variants"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["status"] == "inactive")
        );
        let (s, b) = app
            .put(
                &format!("/v1/products/{id}"),
                json!({"variants": [{"sku": "MACBOOK-PRO-16-M3-18GB-SILVER", "status": "active"}]}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let (_, v) = app.get("/v1/products/variants?status=active").await;
        assert_eq!(v["count"], 1);
    }
);

both_engines!(
    product_validation_and_conflicts,
    |app: TestApp| async move {
        let base = examples("createProduct")[0].clone();
        let mut missing = base.clone();
        missing.as_object_mut().unwrap().remove("brand");
        missing["variants"][0]
            .as_object_mut()
            .unwrap()
            .remove("grade");
        let (s, b) = app.post("/v1/products", missing).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let paths: Vec<&str> = b["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, vec!["brand", "variants[0].grade"]);

        for bad in [
            json!([{"contractLength": 0, "monthlyPrice": 10}]),
            json!([{"contractLength": 12, "monthlyPrice": -1}]),
            json!([{"contractLength": 12, "monthlyPrice": "ten"}]),
            json!([{"contractLength": 12, "monthlyPrice": 1}, {"contractLength": 12, "monthlyPrice": 2}]),
            json!([{"contractLength": 12.5, "monthlyPrice": 1}]),
        ] {
            let mut b2 = base.clone();
            b2["variants"][0]["pricing"] = bad.clone();
            let (s, b) = app.post("/v1/products", b2).await;
            assert_eq!(
                (s.as_u16(), b["error"]["code"].as_str()),
                (400, Some("INVALID_PRICING")),
                "{bad}"
            );
        }
        let mut grade = base.clone();
        grade["variants"][0]["grade"] = json!("F");
        let (s, b) = app.post("/v1/products", grade).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let mut twice = base.clone();
        let v0 = twice["variants"][0].clone();
        twice["variants"].as_array_mut().unwrap().push(v0);
        let (s, b) = app.post("/v1/products", twice).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        // Nothing stored by the failures.
        let (_, l) = app.get("/v1/products").await;
        assert_eq!(l["count"], 0);

        // Lowercase grade stored uppercase; the same variant SKU on another product → 409.
        let mut lower = base.clone();
        lower["variants"][0]["grade"] = json!("b");
        let (s, created) = app.post("/v1/products", lower).await;
        assert_eq!(s, 201);
        let mut other = base.clone();
        other["productSku"] = json!("OTHER-PRODUCT");
        let (s, b) = app.post("/v1/products", other).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (409, Some("DUPLICATE_SKU"))
        );
        let id = created["productId"].as_str().unwrap();
        let (_, p) = app.get(&format!("/v1/products/{id}")).await;
        assert_eq!(p["variants"][0]["grade"], "B");
        // PUT with another productSku, a new variant without required fields, unknown id.
        let (s, b) = app
            .put(
                &format!("/v1/products/{id}"),
                json!({"productSku": "CHANGED"}),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let (s, b) = app
            .put(
                &format!("/v1/products/{id}"),
                json!({"variants": [{"variantSku": "NEW-ONE"}]}),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let (s, b) = app
            .put("/v1/products/prod_unknown", json!({"name": "x"}))
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (404, Some("NOT_FOUND"))
        );
        // Specification sent as an object is stored as its JSON text.
        let (s, b) = app
            .put(
                &format!("/v1/products/{id}"),
                json!({"specification": {"cpu": "M3"}}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let (_, p) = app.get(&format!("/v1/products/{id}")).await;
        assert_eq!(p["specification"], "{\"cpu\":\"M3\"}");
    }
);

both_engines!(delete_is_soft_and_repeatable, |app: TestApp| async move {
    let id = crate::product(&app, "P1", "Laptops", &["P1-A", "P1-B"]).await;
    let (s, b) = app.delete(&format!("/v1/products/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(
        b,
        json!({"success": true, "message": "Product discontinued", "productId": id, "productSku": "P1"})
    );
    let (s, _) = app.delete(&format!("/v1/products/{id}")).await;
    assert_eq!(s, 200);
    let (s, p) = app.get(&format!("/v1/products/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(p["status"], "discontinued");
    assert!(
        p["variants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["status"] == "inactive")
    );
    let (_, l) = app.get("/v1/products?status=discontinued").await;
    assert_eq!(l["count"], 1);
    assert_eq!(l["products"][0]["variantCount"], 2);
    let (_, l) = app.get("/v1/products?status=active").await;
    assert_eq!(l["count"], 0);
    let (s, _) = app.delete("/v1/products/prod_nope").await;
    assert_eq!(s, 404);
});

both_engines!(list_filters_and_variant_search, |app: TestApp| async move {
    crate::product(&app, "LAP", "Laptops", &["LAP-1", "LAP-2"]).await;
    crate::product(&app, "BIKE", "E-Bikes", &["BIKE-1"]).await;
    let (_, l) = app.get("/v1/products?category=laptops").await;
    assert_eq!(l["count"], 1);
    assert_eq!(l["products"][0]["productSku"], "LAP");
    assert!(l["products"][0].get("variants").is_none());
    let (_, l) = app
        .get("/v1/products?brand=ACME&sortBy=productSku&sortDir=asc")
        .await;
    let skus: Vec<&str> = l["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["productSku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, vec!["BIKE", "LAP"]);
    let (_, v) = app.get("/v1/products/variants?sku=LAP-").await;
    assert_eq!(v["count"], 2);
    assert_eq!(v["variants"][0]["productName"], "LAP name");
    let (_, v) = app.get("/v1/products/variants?productSku=BIKE").await;
    assert_eq!(v["count"], 1);
    let (_, v) = app
        .get("/v1/products/variants?category=e-bikes&grade=a")
        .await;
    assert_eq!(v["count"], 1);
    let (_, v) = app.get("/v1/products/variants?grade=B").await;
    assert_eq!(v["count"], 0);
    let (s, _) = app.get("/v1/products/variants?grade=Z").await;
    assert_eq!(s, 400);
});

fn csv_request(app: &TestApp, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/v1/products/csv")
        .header("authorization", format!("Bearer {}", app.tenant.key))
        .header("tenant-id", &app.tenant.tenant_id)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap()
}

const CSV: &str = "\u{feff}Product Name,Product SKU,Category,Brand,Specification,Grade,Color,Variant SKU,List Price,Acquisition Cost,6mo_Price,12mo_Price,24mo_Price,36mo_Price\n\
\"Desk, standing\",DESK,Furniture,Ergo,\"Oak top, 160cm\",a,Oak,DESK-OAK,899,400,,49,39,\n\
\"Desk, standing\",DESK,Furniture,Ergo,\"Walnut top\",B,Walnut,DESK-WAL,999,450,,55,45,35\n\
Chair,CHAIR,Furniture,Ergo,Mesh,A,Black,CHAIR-1,abc,100,,19,,\n\
Chair,CHAIR,Furniture,Ergo,Mesh,A,Black,CHAIR-2,300,100,,,,\n";

both_engines!(csv_import_raw_and_multipart, |app: TestApp| async move {
    let (s, b) = app
        .raw(csv_request(&app, "text/csv", CSV.as_bytes().to_vec()))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["message"], "Import completed with errors");
    assert_eq!(b["created"], 1);
    assert_eq!(b["summary"]["totalRows"], 4);
    assert_eq!(b["summary"]["variantsCreated"], 2);
    let rows: Vec<i64> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, vec![3, 4]);
    assert_eq!(
        b["errors"][0]["error"],
        "Invalid List Price: must be a positive number"
    );
    let (_, v) = app
        .get("/v1/products/variants?productSku=DESK&sortBy=variantSku&sortDir=asc")
        .await;
    assert_eq!(v["variants"][0]["variantSku"], "DESK-OAK");
    assert_eq!(v["variants"][0]["grade"], "A");
    assert_eq!(v["variants"][0]["variantName"], "Oak top, 160cm");
    assert_eq!(v["variants"][0]["pricing"].as_array().unwrap().len(), 2);

    // The same file as multipart: now an update of DESK.
    let boundary = "XBOUNDARYX";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csvFile\"; filename=\"p.csv\"\r\nContent-Type: text/csv\r\n\r\n").into_bytes();
    body.extend_from_slice(CSV.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let (s, b) = app
        .raw(csv_request(
            &app,
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        ))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        (b["created"].as_i64(), b["updated"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(b["summary"]["variantsUpdated"], 2);

    // A missing required column imports nothing.
    let (s, b) = app
        .raw(csv_request(
            &app,
            "text/csv",
            b"Product Name,Product SKU\nX,Y\n".to_vec(),
        ))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    let (s, _) = app.raw(csv_request(&app, "text/csv", Vec::new())).await;
    assert_eq!(s, 400);
    let (s, b) = app
        .raw(csv_request(&app, "text/csv", vec![b'a'; 11 * 1024 * 1024]))
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (413, Some("PAYLOAD_TOO_LARGE"))
    );
});

both_engines!(
    a_keyed_csv_import_echoes_a_bounded_sku,
    |app: TestApp| async move {
        // A Variant SKU of 9,000,000 backslashes (under the upload limit) doubles in JSON: the
        // report outgrew what an idempotency key stores, and the keyed import answered 500.
        let header = CSV.lines().next().unwrap();
        let sku = "\\".repeat(9_000_000);
        let body = format!(
            "{header}\nChair,CHAIR,Furniture,Ergo,Mesh,A,Black,{sku},300,100,,19,,\nChair,CHAIR,Furniture,Ergo,Mesh,A,Black,CHAIR-OK,300,100,,19,,\n"
        );
        let keyed = || {
            let mut r = csv_request(&app, "text/csv", body.clone().into_bytes());
            r.headers_mut()
                .insert("idempotency-key", "csv-import-1".parse().unwrap());
            r
        };
        let (s, b) = app.raw(keyed()).await;
        assert_eq!(s, 201, "{}", &b.to_string()[..200.min(b.to_string().len())]);
        assert_eq!(b["summary"]["variantsCreated"], 1);
        let echoed = b["summary"]["errors"][0]["sku"].as_str().unwrap();
        assert_eq!(
            echoed.chars().count(),
            501,
            "500 characters and the ellipsis"
        );
        assert!(echoed.ends_with("\\…"), "{echoed}");
        assert!(
            b["summary"]["errors"][0]["error"]
                .as_str()
                .unwrap()
                .contains("at most 500 characters"),
            "{b}"
        );
        // The repeat gets the stored report and imports nothing again.
        let (s, again) = app.raw(keyed()).await;
        assert_eq!((s.as_u16(), &again), (201, &b));
        let (_, v) = app.get("/v1/products/variants?productSku=CHAIR").await;
        assert_eq!(v["count"], 1);
    }
);
