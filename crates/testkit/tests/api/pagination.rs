//! Keyset pagination (SPEC §1.8, §1.9): walks over more than 250 items return each exactly once,
//! in order, in both directions, with filters, also while items are added during the walk.

use std::collections::HashSet;

use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

async fn walk(
    app: &TestApp,
    base: &str,
    key: &str,
    id_field: &str,
    limit: u64,
    mut during: impl AsyncFnMut(usize),
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let sep = if base.contains('?') { '&' } else { '?' };
    for page in 0.. {
        let url = match &cursor {
            Some(c) => format!("{base}{sep}limit={limit}&startAfter={}", urlencode(c)),
            None => format!("{base}{sep}limit={limit}"),
        };
        let (s, b) = app.get(&url).await;
        assert_eq!(s, 200, "{url}: {b}");
        let items = b[key].as_array().unwrap().clone();
        assert_eq!(b["count"].as_u64().unwrap() as usize, items.len());
        assert_eq!(b["limit"].as_u64(), Some(limit));
        out.extend(items.iter().cloned());
        during(page).await;
        if !b["hasMore"].as_bool().unwrap() {
            assert_eq!(b["nextCursor"], Value::Null);
            break;
        }
        assert_eq!(b["nextCursor"], items.last().unwrap()[id_field]);
        cursor = b["nextCursor"].as_str().map(str::to_string);
    }
    out
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

both_engines!(
    asset_walks_cover_every_item_once,
    |app: TestApp| async move {
        crate::product(&app, "P", "Laptops", &["P-A", "P-B"]).await;
        for i in 0..260 {
            // Several assets share a creation time, so ties are broken by serial number.
            if i % 4 == 0 {
                app.clock.advance(1000);
            }
            let sku = if i % 3 == 0 { "P-B" } else { "P-A" };
            let status = if i % 5 == 0 {
                "unavailable"
            } else {
                "available"
            };
            let (s, b) = app.post("/v1/assets", json!({"serialNumber": format!("SN-{:04}", (i * 7919) % 1000), "sku": sku, "status": status})).await;
            assert_eq!(s, 201, "{b}");
        }
        for (query, expected) in [
            ("/v1/assets", 260usize),
            ("/v1/assets?sortDir=asc", 260),
            ("/v1/assets?status=available", 208),
            (
                "/v1/assets?status=available&sortDir=asc&sortBy=serialNumber",
                208,
            ),
            ("/v1/assets?sku=P-B&sortBy=sku", 87),
            ("/v1/assets?sortBy=status&sortDir=asc", 260),
            ("/v1/assets?sortBy=updatedAt", 260),
        ] {
            let items = walk(&app, query, "assets", "serialNumber", 50, async |_| {}).await;
            assert_eq!(items.len(), expected, "{query}");
            let serials: HashSet<&str> = items
                .iter()
                .map(|a| a["serialNumber"].as_str().unwrap())
                .collect();
            assert_eq!(serials.len(), expected, "{query}: duplicates");
            // Stable order: (createdAt or the sort field, serialNumber) monotonic in the direction.
            let field = if query.contains("sortBy=serialNumber") {
                "serialNumber"
            } else if query.contains("sortBy=sku") {
                "sku"
            } else if query.contains("sortBy=status") {
                "status"
            } else if query.contains("sortBy=updatedAt") {
                "updatedAt"
            } else {
                "createdAt"
            };
            let keys: Vec<(String, String)> = items
                .iter()
                .map(|a| {
                    (
                        a[field].as_str().unwrap().to_string(),
                        a["serialNumber"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if !query.contains("asc") {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "{query}: order");
        }
    }
);

both_engines!(walks_while_items_are_added, |app: TestApp| async move {
    crate::product(&app, "P", "Laptops", &["P-A"]).await;
    for i in 0..255 {
        app.clock.advance(10);
        app.post(
            "/v1/assets",
            json!({"serialNumber": format!("OLD-{i:04}"), "sku": "P-A"}),
        )
        .await;
    }
    // Newest first: items added during the walk are newer than the cursor and never appear;
    // every item that existed at the start appears exactly once.
    let mut added = 0;
    let items = walk(
        &app,
        "/v1/assets",
        "assets",
        "serialNumber",
        40,
        async |_| {
            app.clock.advance(10);
            app.post(
                "/v1/assets",
                json!({"serialNumber": format!("NEW-{added:04}"), "sku": "P-A"}),
            )
            .await;
            added += 1;
        },
    )
    .await;
    let serials: Vec<&str> = items
        .iter()
        .map(|a| a["serialNumber"].as_str().unwrap())
        .collect();
    let unique: HashSet<&&str> = serials.iter().collect();
    assert_eq!(unique.len(), serials.len());
    assert_eq!(
        serials.iter().filter(|s| s.starts_with("OLD-")).count(),
        255
    );
    // Oldest first: items added during the walk come at the end and are included.
    let items = walk(
        &app,
        "/v1/assets?sortDir=asc",
        "assets",
        "serialNumber",
        40,
        async |_| {
            app.clock.advance(10);
            app.post(
                "/v1/assets",
                json!({"serialNumber": format!("LATE-{added:04}"), "sku": "P-A"}),
            )
            .await;
            added += 1;
        },
    )
    .await;
    let serials: HashSet<&str> = items
        .iter()
        .map(|a| a["serialNumber"].as_str().unwrap())
        .collect();
    assert_eq!(serials.len(), items.len());
    assert!(serials.iter().filter(|s| s.starts_with("OLD-")).count() == 255);
});

both_engines!(
    product_variant_and_customer_walks,
    |app: TestApp| async move {
        for i in 0..26 {
            app.clock.advance(5);
            let skus: Vec<String> = (0..10).map(|j| format!("V{i:02}-{j}")).collect();
            let refs: Vec<&str> = skus.iter().map(String::as_str).collect();
            crate::product(
                &app,
                &format!("P{i:02}"),
                if i % 2 == 0 { "Laptops" } else { "Phones" },
                &refs,
            )
            .await;
        }
        let products = walk(
            &app,
            "/v1/products?sortBy=name&sortDir=asc",
            "products",
            "productId",
            7,
            async |_| {},
        )
        .await;
        assert_eq!(products.len(), 26);
        assert_eq!(products[0]["productSku"], "P00");
        let laptops = walk(
            &app,
            "/v1/products?category=Laptops",
            "products",
            "productId",
            5,
            async |_| {},
        )
        .await;
        assert_eq!(laptops.len(), 13);
        let variants = walk(
            &app,
            "/v1/products/variants?sortBy=variantSku&sortDir=asc",
            "variants",
            "variantId",
            100,
            async |_| {},
        )
        .await;
        assert_eq!(variants.len(), 260);
        let skus: Vec<&str> = variants
            .iter()
            .map(|v| v["variantSku"].as_str().unwrap())
            .collect();
        let mut sorted = skus.clone();
        sorted.sort();
        assert_eq!(skus, sorted);
        // listVariants allows pages up to 5 000; other lists clamp to 100.
        let (_, b) = app.get("/v1/products/variants?limit=9999").await;
        assert_eq!(
            (b["limit"].as_u64(), b["count"].as_u64()),
            (Some(5000), Some(260))
        );
        let (_, b) = app.get("/v1/products?limit=1000").await;
        assert_eq!(b["limit"], 100);
        for i in 0..255 {
            crate::customers::customer(
                &app,
                &app.tenant,
                &format!("cust_{i:04}"),
                &format!("c{i}@example.com"),
                &format!("N{}", i % 17),
            )
            .await;
        }
        let cs = walk(
            &app,
            "/v1/customers?sortBy=firstName",
            "customers",
            "customerId",
            50,
            async |_| {},
        )
        .await;
        assert_eq!(cs.len(), 255);
        let ids: HashSet<&str> = cs
            .iter()
            .map(|c| c["customerId"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 255);
    }
);

both_engines!(
    empty_query_parameters_are_absent,
    |app: TestApp| async move {
        for path in [
            "/v1/products?status=&category=&brand=&sortBy=&sortDir=&limit=&startAfter=",
            "/v1/products/variants?status=&grade=&sku=&productSku=&limit=",
            "/v1/assets?status=&sku=&customerId=&rentalId=&sortBy=&sortDir=&limit=&startAfter=",
            "/v1/customers?status=&customerType=&email=&hasActiveRentals=&sortBy=&limit=",
            "/v1/orders?status=&customerId=&sortBy=&sortDir=&limit=&startAfter=",
            "/v1/subscriptions?status=&customerId=&orderId=&startDateFrom=&endDateTo=&limit=",
            "/v1/payments?status=&rentalId=&customerId=&dueDateFrom=&dueDateTo=&sortBy=&limit=",
        ] {
            let (s, b) = app.get(path).await;
            assert_eq!(s, 200, "{path}: {b}");
            assert_eq!(b["limit"], 50, "{path}: {b}");
        }
        // A value that is given is still checked.
        let (s, _) = app.get("/v1/assets?status=lost").await;
        assert_eq!(s, 400);
    }
);
