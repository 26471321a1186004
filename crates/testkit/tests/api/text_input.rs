//! Text holding the NUL character (U+0000), which PostgreSQL cannot store, is refused the same
//! way on both engines: 400 `VALIDATION_ERROR` with one `invalid_string` detail per field that
//! holds it (query parameter, path parameter, body field at any depth, CSV file), and nothing
//! changes.

use axum::body::Body;
use axum::http::Request;
use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

/// The (path, code) of each detail of a 400 `VALIDATION_ERROR` answer.
fn details(status: axum::http::StatusCode, body: &Value) -> Vec<(String, String)> {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{body}");
    body["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn one(path: &str) -> Vec<(String, String)> {
    vec![(path.to_string(), "invalid_string".to_string())]
}

both_engines!(
    nul_characters_are_refused_and_change_nothing,
    |app: TestApp| async move {
        // Query parameters: each one holding NUL is named; the others are not.
        let (s, b) = app.get("/v1/assets?sku=A%00B&status=available").await;
        assert_eq!(details(s, &b), one("sku"));
        let (s, b) = app
            .get("/v1/customers?email=a%00&startAfter=x%00y&status=active")
            .await;
        assert_eq!(
            details(s, &b),
            [one("email"), one("startAfter")].concat(),
            "{b}"
        );
        for path in [
            "/v1/orders?customerId=c%00",
            "/v1/payments?rentalId=r%00",
            "/v1/subscriptions?customerId=c%00",
            "/v1/billing-groups?customerId=c%00",
            "/v1/products?category=c%00",
        ] {
            let (s, b) = app.get(path).await;
            assert_eq!(details(s, &b).len(), 1, "{path}: {b}");
        }

        // Path parameters, named after the route's parameter.
        let (s, b) = app.get("/v1/assets/SN%00X").await;
        assert_eq!(details(s, &b), one("serialNumber"));
        let (s, b) = app
            .put(
                "/v1/customers/cust%00a",
                json!({"email": "a@example.com", "firstName": "A", "lastName": "B"}),
            )
            .await;
        assert_eq!(details(s, &b), one("customerId"));

        // Body fields at any depth, and object keys.
        let (s, b) = app
            .put(
                "/v1/customers/cust_a",
                json!({"email": "a@example.com", "firstName": "A\u{0}", "lastName": "B",
                       "customFields": {"tier\u{0}": "gold"}}),
            )
            .await;
        assert_eq!(
            details(s, &b),
            [one("customFields.tier\u{0}"), one("firstName")].concat()
        );
        let (s, b) = app
            .post(
                "/v1/products",
                json!({
                    "productSku": "P1", "name": "Laptop", "category": "Laptops",
                    "variants": [{"variantSku": "P1-\u{0}", "variantName": "Base",
                                  "pricing": [{"contractLength": 12, "monthlyPrice": 10.0}]}]
                }),
            )
            .await;
        assert_eq!(details(s, &b), one("variants[0].variantSku"));
        // An escaped backslash before `u0000` is not a NUL.
        let (s, b) = app
            .post(
                "/v1/products",
                json!({
                    "productSku": "P2", "name": "Laptop \\u0000", "specification": "spec",
                    "category": "Laptops", "brand": "Acme",
                    "variants": [{"variantSku": "P2-BASE", "variantName": "Base", "grade": "A",
                                  "listPrice": 999.0, "acquisitionCost": 500.0,
                                  "pricing": [{"contractLength": 12, "monthlyPrice": 10.0}]}]
                }),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (_, p) = app
            .get(&format!(
                "/v1/products/{}",
                b["productId"].as_str().unwrap()
            ))
            .await;
        assert_eq!(p["name"], "Laptop \\u0000");

        // A CSV file holding a NUL byte.
        let csv = "Product Name,Product SKU,Category,Brand,Specification,Grade,Color,Variant SKU,\
                   List Price,Acquisition Cost,6mo_Price,12mo_Price,24mo_Price,36mo_Price\n\
                   Desk,DESK,Furniture,Ergo,Oak,A,Oak,DESK-\u{0},899,400,,49,39,\n";
        let (s, b) = app
            .raw(
                Request::builder()
                    .method("POST")
                    .uri("/v1/products/csv")
                    .header("authorization", format!("Bearer {}", app.tenant.key))
                    .header("tenant-id", &app.tenant.tenant_id)
                    .header("content-type", "text/csv")
                    .body(Body::from(csv))
                    .unwrap(),
            )
            .await;
        assert_eq!(details(s, &b), one("csvFile"));

        // Nothing was written but the one valid product.
        let (_, p) = app.get("/v1/products").await;
        assert_eq!(p["count"], 1, "{p}");
        assert_eq!(p["products"][0]["productSku"], "P2", "{p}");
        let (_, c) = app.get("/v1/customers").await;
        assert_eq!(c["count"], 0, "{c}");

        // Authentication still comes first.
        let (s, _) = app
            .raw(
                Request::builder()
                    .uri("/v1/assets/SN%00X")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(s, 401);
    }
);

both_engines!(
    a_nul_that_reaches_the_store_is_bad_input_not_a_failure,
    |app: TestApp| async move {
        // What the door would refuse, written past it: SQLite stores it; PostgreSQL refuses it,
        // and the refusal is answered as a 400, the transaction rolled back.
        let mut c =
            crate::customers::customer(&app, &app.tenant, "cust_ok", "ok@example.com", "Ok").await;
        c.customer_id = "cust_nul".into();
        c.email = "nul@example.com".into();
        c.first_name = "A\u{0}".into();
        let mut tx = app.app().db.begin().await.unwrap();
        let written = flexportal_store::customers::insert(&mut tx, &c).await;
        match app.app().db.engine() {
            flexportal_store::Engine::Sqlite => {
                written.unwrap();
                tx.rollback().await.unwrap();
            }
            flexportal_store::Engine::Postgres => {
                let e = written.unwrap_err();
                assert!(e.is_invalid_text(), "{e}");
                match flexportal_app::AppError::from(e) {
                    flexportal_app::AppError::Rejected(d) => {
                        assert_eq!((d.status, d.code), (400, "VALIDATION_ERROR"));
                        assert_eq!(d.details[0].code, "invalid_string");
                    }
                    other => panic!("{other}"),
                }
                drop(tx);
            }
        }
        let (_, l) = app.get("/v1/customers").await;
        assert_eq!(l["count"], 1, "{l}");
    }
);
