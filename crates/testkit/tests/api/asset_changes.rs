//! What an operator changes on an asset is part of its history (SPEC §2.3 updateAsset and
//! deleteAsset): each change is a step `updated` or `deactivated` with its actor, the fields that
//! changed from and to, and a summary; a PUT that changes nothing adds no step; a refused PUT adds
//! none either.

use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(
    manual_changes_are_in_the_asset_history,
    |app: TestApp| async move {
        app.set_date("2025-02-01", 9);
        let (s, b) = app
        .post(
            "/v1/products",
            json!({"productSku": "H", "name": "Bike", "specification": "s", "category": "Mobility",
                "brand": "B", "variants": [{"variantSku": "H-1", "variantName": "Base", "grade": "A",
                    "pricing": [{"contractLength": 12, "monthlyPrice": 29.0}]}]}),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = app
            .post(
                "/v1/assets",
                json!({"serialNumber": "HB-1", "sku": "H-1", "location": "Berlin",
                "acquisitionCost": 800.0}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        app.set_date("2025-02-10", 9);
        let (s, b) = app
            .put(
                "/v1/assets/HB-1",
                json!({"status": "unavailable", "location": "Workshop Hamburg",
                "notes": "Brake repair", "acquisitionCost": 850.5}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        // Nothing changes: no step. A refused change: no step.
        let (s, b) = app
            .put("/v1/assets/HB-1", json!({"location": "Workshop Hamburg"}))
            .await;
        assert_eq!(s, 200, "{b}");
        let (s, _) = app
            .put("/v1/assets/HB-1", json!({"status": "rented_out"}))
            .await;
        assert_eq!(s, 400);
        app.set_date("2025-02-20", 9);
        let (s, b) = app
            .put(
                "/v1/assets/HB-1",
                json!({"status": "available", "notes": null}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        app.set_date("2025-03-01", 9);
        let (s, b) = app.delete("/v1/assets/HB-1").await;
        assert_eq!(s, 200, "{b}");
        // Deleting again changes nothing more.
        let (s, _) = app.delete("/v1/assets/HB-1").await;
        assert_eq!(s, 200);

        let (s, h) = app.get("/v1/assets/HB-1/history").await;
        assert_eq!(s, 200, "{h}");
        let steps: Vec<&Value> = h["history"].as_array().unwrap().iter().collect();
        let actions: Vec<&str> = steps
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["registered", "updated", "updated", "deactivated"],
            "{h}"
        );
        let actor = format!("apikey:{}", app.tenant.key_id);
        let repair = steps[1];
        assert_eq!(repair["date"], "2025-02-10");
        assert_eq!(repair["actor"], actor.as_str());
        let mut changes = repair["changes"].clone();
        let cost = changes
            .as_object_mut()
            .unwrap()
            .remove("acquisitionCost")
            .unwrap();
        assert_eq!(
            changes,
            json!({
                "status": {"from": "available", "to": "unavailable"},
                "location": {"from": "Berlin", "to": "Workshop Hamburg"},
                "notes": {"from": null, "to": "Brake repair"},
            })
        );
        // Money as everywhere: a number with the currency's decimals.
        assert_eq!(
            (cost["from"].to_string(), cost["to"].to_string()),
            ("800.00".to_string(), "850.50".to_string())
        );
        assert_eq!(
            repair["reason"],
            "status available → unavailable; location Berlin → Workshop Hamburg; \
         notes (none) → Brake repair; acquisitionCost 800.00 → 850.50"
        );
        assert_eq!(
            steps[2]["changes"],
            json!({"status": {"from": "unavailable", "to": "available"},
            "notes": {"from": "Brake repair", "to": null}})
        );
        assert_eq!(steps[3]["date"], "2025-03-01");
        assert_eq!(
            steps[3]["changes"],
            json!({"status": {"from": "available", "to": "unavailable"}})
        );
        // Another business unit sees none of it.
        let other = app.new_tenant("EUR").await;
        let (s, _) = app
            .call_as(&other, "GET", "/v1/assets/HB-1/history", None)
            .await;
        assert_eq!(s, 404);
    }
);
