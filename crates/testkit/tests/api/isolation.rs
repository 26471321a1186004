//! Business units never see or touch each other's data (SPEC §1.10).

use flexportal_testkit::{TestApp, both_engines};
use serde_json::json;

both_engines!(
    other_units_ids_are_404_and_lists_never_show_them,
    |app: TestApp| async move {
        let other = app.new_tenant("USD").await;
        // Data of the other unit, with the same SKUs and serials as ours will use.
        let (s, p) = app.call_as(&other, "POST", "/v1/products", Some(json!({
        "productSku": "SHARED", "name": "Theirs", "specification": "s", "category": "Laptops", "brand": "B",
        "variants": [{"variantSku": "SHARED-1", "variantName": "v", "grade": "A", "pricing": [{"contractLength": 12, "monthlyPrice": 10}]}]
    }))).await;
        assert_eq!(s, 201);
        let their_product = p["productId"].as_str().unwrap().to_string();
        let (s, _) = app
            .call_as(
                &other,
                "POST",
                "/v1/assets",
                Some(json!({"serialNumber": "SER-1", "sku": "SHARED-1"})),
            )
            .await;
        assert_eq!(s, 201);
        crate::customers::customer(&app, &other, "cust_theirs", "x@example.com", "X").await;

        // Their ids are unknown here, on every route.
        for (method, path, body) in [
            ("GET", format!("/v1/products/{their_product}"), None),
            (
                "PUT",
                format!("/v1/products/{their_product}"),
                Some(json!({"name": "mine"})),
            ),
            ("DELETE", format!("/v1/products/{their_product}"), None),
            ("GET", "/v1/assets/SER-1".to_string(), None),
            (
                "PUT",
                "/v1/assets/SER-1".to_string(),
                Some(json!({"location": "x"})),
            ),
            ("DELETE", "/v1/assets/SER-1".to_string(), None),
            ("GET", "/v1/customers/cust_theirs".to_string(), None),
            (
                "PUT",
                "/v1/customers/cust_theirs".to_string(),
                Some(json!({"phone": "1"})),
            ),
            ("DELETE", "/v1/customers/cust_theirs".to_string(), None),
        ] {
            let (s, b) = app.call_as(&app.tenant, method, &path, body).await;
            assert_eq!(
                (s.as_u16(), b["error"]["code"].as_str()),
                (404, Some("NOT_FOUND")),
                "{method} {path}"
            );
        }
        // Their variant SKU does not exist for us; our lists are empty; their cursor is unknown.
        let (s, b) = app
            .post(
                "/v1/assets",
                json!({"serialNumber": "SER-1", "sku": "SHARED-1"}),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VARIANT_NOT_FOUND"))
        );
        for path in [
            "/v1/products",
            "/v1/products/variants",
            "/v1/assets",
            "/v1/customers",
            "/v1/customers?status=inactive",
        ] {
            let (s, l) = app.get(path).await;
            assert_eq!((s.as_u16(), l["count"].as_i64()), (200, Some(0)), "{path}");
        }
        let (s, _) = app.get("/v1/assets?startAfter=SER-1").await;
        assert_eq!(s, 400);
        // The same natural keys are free in our unit.
        crate::product(&app, "SHARED", "Laptops", &["SHARED-1"]).await;
        let (s, _) = app
            .post(
                "/v1/assets",
                json!({"serialNumber": "SER-1", "sku": "SHARED-1"}),
            )
            .await;
        assert_eq!(s, 201);
        crate::customers::customer(&app, &app.tenant, "cust_mine", "x@example.com", "X").await;
        // Nothing of theirs changed.
        let (_, a) = app.call_as(&other, "GET", "/v1/assets/SER-1", None).await;
        assert_eq!(a["tenantId"], other.tenant_id.as_str());
        let (_, p) = app
            .call_as(
                &other,
                "GET",
                &format!("/v1/products/{their_product}"),
                None,
            )
            .await;
        assert_eq!(
            (p["name"].as_str(), p["status"].as_str()),
            (Some("Theirs"), Some("active"))
        );
        // Their key on our Tenant-ID is 403.
        let (s, b) = app
            .call_as(
                &flexportal_testkit::TestTenant {
                    tenant_id: app.tenant.tenant_id.clone(),
                    ..other.clone()
                },
                "GET",
                "/v1/assets",
                None,
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (403, Some("NO_TENANT_ACCESS"))
        );
    }
);
