//! A slow file storage (a remote bucket) holds up only what waits for it: while an upload's or a
//! contract's content is being written, other writes of the store go on, on SQLite (one writer
//! for the whole store) as on PostgreSQL; two uploads of one URL still make one file.

use std::time::Duration;

use axum::http::StatusCode;
use flexportal_testkit::storage::TestStore;
use flexportal_testkit::{EngineKind, TestApp};
use serde_json::json;

use super::files::{download_file, fetch, local};

async fn run(engine: EngineKind) {
    let (storage, knobs) = TestStore::storage();
    let Some(app) = TestApp::with_storage(engine, Some(storage)).await else {
        return;
    };
    let (s, b) = app
        .post(
            "/v1/files/url",
            json!({"action": "upload", "fileName": "scan.pdf", "contentType": "application/pdf"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let id = b["fileId"].as_str().unwrap().to_string();
    let url = local(b["url"].as_str().unwrap());

    // Two uploads of the URL reach a storage that does not answer yet.
    knobs.hold();
    let put = |body: &'static [u8]| {
        let (app, url) = (&app, url.clone());
        async move { fetch(app, "PUT", &url, Some("application/pdf"), body.to_vec()).await }
    };
    let uploads = async { tokio::join!(put(b"%PDF-1.4 first"), put(b"%PDF-1.4 second!")) };
    let writes = async {
        knobs.until_held(1).await;
        // Meanwhile other writes are made and answered.
        let customer = tokio::time::timeout(
            Duration::from_secs(5),
            app.post(
                "/v1/products",
                json!({"productSku": "SLOW", "name": "Laptop", "specification": "s",
                    "category": "Laptops", "brand": "B",
                    "variants": [{"variantSku": "SLOW-1", "variantName": "Base", "grade": "A",
                        "pricing": [{"contractLength": 12, "monthlyPrice": 49.9}]}]}),
            ),
        )
        .await
        .expect("a write is not held up by the storage");
        assert_eq!(customer.0, 201, "{}", customer.1);
        knobs.release();
    };
    let ((a, b), ()) = tokio::join!(uploads, writes);
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let (s, f) = app.get(&format!("/v1/files/{id}")).await;
    assert_eq!(s, 200);
    let (_, content) = download_file(&app, &id).await;
    assert_eq!(
        f["fileSize"],
        content.len(),
        "the size is that of the stored content"
    );

    // A contract is stored the same way.
    let (s, o) = app
        .post(
            "/v1/orders",
            json!({"customer": {"email": "slow@example.com", "firstName": "S", "lastName": "L"},
                "billingAddress": {"streetAddress": "1 Road", "city": "Town", "country": "DE"},
                "items": [{"sku": "SLOW-1", "quantity": 1, "contractLength": 12}]}),
        )
        .await;
    assert_eq!(s, 201, "{o}");
    knobs.hold();
    let generate = app.post(
        "/v1/files/contracts/generate",
        json!({"orderId": o["orderId"]}),
    );
    let writes = async {
        knobs.until_held(1).await;
        let (s, b) = tokio::time::timeout(
            Duration::from_secs(5),
            app.post(
                "/v1/assets",
                json!({"serialNumber": "SLOW-SN", "sku": "SLOW-1"}),
            ),
        )
        .await
        .expect("a write is not held up by the storage");
        assert_eq!(s, 201, "{b}");
        knobs.release();
    };
    let ((s, c), ()) = tokio::join!(generate, writes);
    assert_eq!(s, 201, "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    run(EngineKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    run(EngineKind::Postgres).await;
}
