//! Files (SPEC §2.9): signed upload and download URLs served by this server, their expiry and
//! tampering, upload limits, listing, metadata, deletion with and without the stored object, and
//! isolation between business units.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use flexportal_testkit::{FILES_MAX_UPLOAD, TestApp, both_engines, examples};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The path and query of a signed URL (what follows the server's base URL).
pub fn local(url: &str) -> String {
    let rest = url.split_once("://").expect("absolute URL").1;
    rest[rest.find('/').expect("a path")..].to_string()
}

/// Sends a request without API key to a signed path; returns status, headers and body bytes.
pub async fn fetch(
    app: &TestApp,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let resp = app
        .router
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, bytes)
}

/// An order of one laptop for `email`; returns (order id, customer id).
async fn order(app: &TestApp, email: &str) -> (String, String) {
    let (s, b) = app
        .post(
            "/v1/products",
            json!({"productSku": format!("F-{email}"), "name": "Laptop", "specification": "s",
                "category": "Laptops", "brand": "B",
                "variants": [{"variantSku": format!("F-{email}-1"), "variantName": "Base",
                    "grade": "A", "pricing": [{"contractLength": 12, "monthlyPrice": 49.9}]}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .post(
            "/v1/orders",
            json!({"customer": {"email": email, "firstName": "Ann", "lastName": "Lee"},
                "billingAddress": {"streetAddress": "Main 1", "city": "Oslo", "country": "NO"},
                "items": [{"sku": format!("F-{email}-1"), "quantity": 1, "contractLength": 12}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    (
        b["orderId"].as_str().unwrap().to_string(),
        b["order"]["customer"]["customerId"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// Downloads a stored file through a new signed download URL: the download's status and bytes.
pub async fn download_file(app: &TestApp, id: &str) -> (StatusCode, Vec<u8>) {
    let (s, b) = app
        .post("/v1/files/url", json!({"fileId": id, "action": "download"}))
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, _, got) = fetch(app, "GET", &local(b["url"].as_str().unwrap()), None, vec![]).await;
    (s, got)
}

/// Uploads `bytes` as a new PDF through a signed URL; returns the file id.
pub async fn upload(app: &TestApp, body: Value, bytes: &[u8]) -> String {
    let (s, b) = app.post("/v1/files/url", body).await;
    assert_eq!(s, 200, "{b}");
    let id = b["fileId"].as_str().unwrap().to_string();
    let (s, _, out) = fetch(
        app,
        "PUT",
        &local(b["url"].as_str().unwrap()),
        Some("application/pdf"),
        bytes.to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&out));
    id
}

both_engines!(
    upload_then_download_the_same_bytes,
    |app: TestApp| async move {
        let (order_id, customer_id) = order(&app, "ann@example.com").await;
        // The documentation's upload example, as written.
        let ex = examples("getFileUrl");
        let (s, b) = app.post("/v1/files/url", ex[2].clone()).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["filename"], "contract-order-123.pdf");
        assert_eq!(b["contentType"], "application/pdf");
        assert_eq!(b["fileSize"], 0);
        let expires = b["expiresAt"].as_i64().unwrap();
        let (s, f) = app
            .get(&format!("/v1/files/{}", b["fileId"].as_str().unwrap()))
            .await;
        assert_eq!(s, 200, "{f}");
        assert_eq!(
            expires - app.app().now(),
            60 * 60_000,
            "60 minutes by default"
        );
        assert_eq!(
            (f["category"].as_str(), f["type"].as_str()),
            (Some("uploaded"), Some("document"))
        );
        assert_eq!(f["orderId"], "");

        let content: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        app.clock.set(app.app().now() + 1_000);
        let id = upload(
            &app,
            json!({"action": "upload", "fileName": "signed contract ÆØÅ.pdf",
            "contentType": "application/pdf", "orderId": order_id, "type": "contract",
            "expiresInMinutes": 5}),
            &content,
        )
        .await;
        let (s, f) = app.get(&format!("/v1/files/{id}")).await;
        assert_eq!(s, 200, "{f}");
        assert_eq!(f["fileSize"], content.len());
        assert_eq!(f["orderId"], order_id.as_str());
        assert_eq!(f["originalFilename"], "signed contract ÆØÅ.pdf");
        assert_eq!(
            f["storagePath"],
            format!(
                "tenants/{}/files/{id}/signed contract ÆØÅ.pdf",
                app.tenant.tenant_id
            )
            .as_str()
        );
        // The content is on disk in the file's own folder of the record's storage path.
        let folder = app
            .files_dir
            .join(format!("tenants/{}/files/{id}", app.tenant.tenant_id));
        let stored: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
        assert_eq!(stored.len(), 1);
        assert_eq!(
            std::fs::read(stored[0].as_ref().unwrap().path()).unwrap(),
            content
        );

        for (action, disposition) in [("download", "attachment"), ("view", "inline")] {
            let (s, b) = app
                .post("/v1/files/url", json!({"fileId": id, "action": action}))
                .await;
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["fileSize"], content.len());
            assert!(
                b.get("fileId").is_none(),
                "only uploads name a new file: {b}"
            );
            let (s, h, got) = fetch(
                &app,
                "GET",
                &local(b["url"].as_str().unwrap()),
                None,
                vec![],
            )
            .await;
            assert_eq!(s, 200);
            assert_eq!(got, content, "{action}: the same bytes");
            assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
            assert_eq!(
                h[header::CONTENT_LENGTH],
                content.len().to_string().as_str()
            );
            let d = h[header::CONTENT_DISPOSITION].to_str().unwrap();
            assert!(d.starts_with(disposition), "{d}");
            assert!(
                d.contains("filename*=UTF-8''signed%20contract%20%C3%86%C3%98%C3%85.pdf"),
                "{d}"
            );
        }

        // Listed newest first, with the filters of SPEC 2.9.
        let (s, l) = app.get("/v1/files").await;
        assert_eq!(s, 200, "{l}");
        assert_eq!(l["count"], 2);
        assert_eq!(l["files"][0]["fileId"], id.as_str());
        assert_eq!(
            (l["limit"].as_i64(), l["offset"].as_i64()),
            (Some(50), Some(0))
        );
        for (query, n) in [
            (format!("orderId={order_id}"), 1),
            ("type=contract".to_string(), 1),
            ("type=document".to_string(), 1),
            (format!("customerId={customer_id}"), 1),
            ("customerId=cust_nobody".to_string(), 0),
            ("limit=1&offset=1".to_string(), 1),
            ("limit=1&offset=2".to_string(), 0),
        ] {
            let (s, l) = app.get(&format!("/v1/files?{query}")).await;
            assert_eq!(s, 200, "{query}: {l}");
            assert_eq!(l["count"], n, "{query}: {l}");
        }
        let (s, l) = app
            .get(&format!("/v1/files?orderId={order_id}&type=contract"))
            .await;
        assert_eq!(s, 200);
        assert_eq!(
            l["filters"],
            json!({"orderId": order_id, "type": "contract"})
        );
        for bad in ["limit=0", "limit=101", "offset=-1", "type=video"] {
            let (s, b) = app.get(&format!("/v1/files?{bad}")).await;
            assert_eq!(s, 400, "{bad}: {b}");
        }
    }
);

both_engines!(
    signed_urls_refuse_tampering_expiry_and_misuse,
    |app: TestApp| async move {
        let content = b"%PDF-1.4 contract".to_vec();
        let id = upload(
            &app,
            json!({"action": "upload", "fileName": "a.pdf", "contentType": "application/pdf"}),
            &content,
        )
        .await;
        let other = upload(
            &app,
            json!({"action": "upload", "fileName": "b.pdf", "contentType": "application/pdf"}),
            b"%PDF-1.4 other",
        )
        .await;
        let (_, b) = app
            .post(
                "/v1/files/url",
                json!({"fileId": id, "action": "download", "expiresInMinutes": 1}),
            )
            .await;
        let good = local(b["url"].as_str().unwrap());
        let (s, _, got) = fetch(&app, "GET", &good, None, vec![]).await;
        assert_eq!((s, got), (StatusCode::OK, content.clone()));

        let (path, query) = good.split_once('?').unwrap();
        let parts: Vec<(&str, &str)> = query
            .split('&')
            .map(|kv| kv.split_once('=').unwrap())
            .collect();
        let with = |key: &str, value: &str| -> String {
            let q: Vec<String> = parts
                .iter()
                .map(|(k, v)| {
                    if *k == key {
                        format!("{k}={value}")
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect();
            format!("{path}?{}", q.join("&"))
        };
        let get = |k: &str| parts.iter().find(|(x, _)| *x == k).unwrap().1.to_string();
        let other_tenant = app.new_tenant("EUR").await;
        let mut tampered = vec![
            with("t", &other_tenant.tenant_id),
            with("a", "view"),
            with("a", "upload"),
            with(
                "e",
                &(get("e").parse::<i64>().unwrap() + 3_600_000).to_string(),
            ),
            with("s", &{
                let sig = get("s");
                let last = if sig.ends_with('0') { '1' } else { '0' };
                format!("{}{last}", &sig[..sig.len() - 1])
            }),
            with("s", "zz"),
            good.replace(&id, &other),
            path.to_string(),
        ];
        for key in ["t", "a", "e", "s"] {
            tampered.push(format!(
                "{path}?{}",
                parts
                    .iter()
                    .filter(|(k, _)| *k != key)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            ));
        }
        for url in &tampered {
            let (s, _, body) = fetch(&app, "GET", url, None, vec![]).await;
            assert_eq!(s, 403, "{url}");
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["error"]["code"], "FORBIDDEN", "{url}");
        }
        // A download URL does not take a PUT, and nothing is written.
        let (s, _, _) = fetch(
            &app,
            "PUT",
            &good,
            Some("application/pdf"),
            b"evil".to_vec(),
        )
        .await;
        assert_eq!(s, 403);
        let (s, _, got) = fetch(&app, "GET", &good, None, vec![]).await;
        assert_eq!((s, got), (StatusCode::OK, content.clone()));
        // Another unit cannot ask for this unit's file.
        let (s, b) = app
            .call_as(
                &other_tenant,
                "POST",
                "/v1/files/url",
                Some(json!({"fileId": id})),
            )
            .await;
        assert_eq!(s, 404, "{b}");
        let (s, _) = app
            .call_as(&other_tenant, "GET", &format!("/v1/files/{id}"), None)
            .await;
        assert_eq!(s, 404);
        let (s, b) = app.call_as(&other_tenant, "GET", "/v1/files", None).await;
        assert_eq!((s.as_u16(), b["count"].as_i64()), (200, Some(0)));
        let (s, _) = app
            .call_as(&other_tenant, "DELETE", &format!("/v1/files/{id}"), None)
            .await;
        assert_eq!(s, 404);
        // After its minute the URL is refused.
        let now = app.app().now();
        app.clock.set(now + 61_000);
        let (s, _, _) = fetch(&app, "GET", &good, None, vec![]).await;
        assert_eq!(s, 403, "expired");
    }
);

both_engines!(uploads_have_limits, |app: TestApp| async move {
    let new_url = |ct: &str| json!({"action": "upload", "fileName": "x.pdf", "contentType": ct});
    let (s, b) = app.post("/v1/files/url", new_url("application/pdf")).await;
    assert_eq!(s, 200, "{b}");
    let url = local(b["url"].as_str().unwrap());
    let id = b["fileId"].as_str().unwrap().to_string();
    // Too big: 413, nothing stored.
    let big = vec![b'x'; FILES_MAX_UPLOAD as usize + 1];
    let (s, _, body) = fetch(&app, "PUT", &url, Some("application/pdf"), big).await;
    assert_eq!(s, 413, "{}", String::from_utf8_lossy(&body));
    // Another content type than declared: 400.
    let (s, _, _) = fetch(&app, "PUT", &url, Some("text/html"), b"<p>".to_vec()).await;
    assert_eq!(s, 400);
    let (_, f) = app.get(&format!("/v1/files/{id}")).await;
    assert_eq!(f["fileSize"], 0, "nothing was written");
    // Before the upload the content is not there.
    let (_, b) = app.post("/v1/files/url", json!({"fileId": id})).await;
    let (s, _, _) = fetch(
        &app,
        "GET",
        &local(b["url"].as_str().unwrap()),
        None,
        vec![],
    )
    .await;
    assert_eq!(s, 404);
    // Exactly the limit passes, once.
    let max = vec![b'y'; FILES_MAX_UPLOAD as usize];
    let (s, _, _) = fetch(&app, "PUT", &url, Some("application/pdf"), max.clone()).await;
    assert_eq!(s, 200);
    let (s, _, body) = fetch(
        &app,
        "PUT",
        &url,
        Some("application/pdf"),
        b"again".to_vec(),
    )
    .await;
    assert_eq!(s, 409, "{}", String::from_utf8_lossy(&body));
    let (_, f) = app.get(&format!("/v1/files/{id}")).await;
    assert_eq!(f["fileSize"], max.len());

    // Bad requests for URLs.
    for (body, code) in [
        (new_url("text/html"), "VALIDATION_ERROR"),
        (new_url("application/x-msdownload"), "VALIDATION_ERROR"),
        (
            json!({"action": "upload", "contentType": "application/pdf"}),
            "VALIDATION_ERROR",
        ),
        (
            json!({"action": "upload", "fileName": "x.pdf", "contentType": "application/pdf",
            "orderId": "ord_unknown"}),
            "ORDER_NOT_FOUND",
        ),
        (
            json!({"action": "upload", "fileName": "x.pdf", "contentType": "application/pdf",
            "type": "video"}),
            "VALIDATION_ERROR",
        ),
        (
            json!({"fileId": id, "expiresInMinutes": 0}),
            "VALIDATION_ERROR",
        ),
        (
            json!({"fileId": id, "expiresInMinutes": 1441}),
            "VALIDATION_ERROR",
        ),
        (
            json!({"fileId": id, "expiresInMinutes": "60"}),
            "VALIDATION_ERROR",
        ),
        (json!({"fileId": id, "action": "zip"}), "VALIDATION_ERROR"),
        (json!({"action": "view"}), "VALIDATION_ERROR"),
    ] {
        let (s, b) = app.post("/v1/files/url", body.clone()).await;
        assert_eq!(s, 400, "{body}: {b}");
        assert_eq!(b["error"]["code"], code, "{body}: {b}");
    }
    // The documentation's other examples, as written: an unknown file is 404; a body without
    // fileId (the response shown as a request) is 400.
    let ex = examples("getFileUrl");
    let (s, _) = app.post("/v1/files/url", ex[0].clone()).await;
    assert_eq!(s, 404);
    let (s, b) = app.post("/v1/files/url", ex[1].clone()).await;
    assert_eq!(s, 400, "{b}");
    let (s, _) = app.get("/v1/files/file_unknown").await;
    assert_eq!(s, 404);
});

both_engines!(
    delete_removes_the_record_and_the_object_unless_told,
    |app: TestApp| async move {
        let a = upload(
            &app,
            json!({"action": "upload", "fileName": "a.pdf", "contentType": "application/pdf"}),
            b"aaaa",
        )
        .await;
        let b_id = upload(
            &app,
            json!({"action": "upload", "fileName": "b.pdf", "contentType": "application/pdf"}),
            b"bbbb",
        )
        .await;
        let path_of = |id: &str| {
            app.files_dir
                .join(format!("tenants/{}/files/{id}", app.tenant.tenant_id))
        };
        assert!(path_of(&a).join("a.pdf").exists());
        let (s, b) = app
            .call_as(
                &app.tenant,
                "DELETE",
                &format!("/v1/files/{a}"),
                Some(json!({"deleteFromStorage": "no"})),
            )
            .await;
        assert_eq!(s, 400, "{b}");
        let (s, b) = app.delete(&format!("/v1/files/{a}")).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            b,
            json!({"success": true, "message": "File deleted", "fileId": a})
        );
        assert!(
            !path_of(&a).join("a.pdf").exists(),
            "removed from storage by default"
        );
        let (s, _) = app.get(&format!("/v1/files/{a}")).await;
        assert_eq!(s, 404);
        let (s, _) = app.delete(&format!("/v1/files/{a}")).await;
        assert_eq!(s, 404);

        let (s, b) = app
            .call_as(
                &app.tenant,
                "DELETE",
                &format!("/v1/files/{b_id}"),
                Some(json!({"deleteFromStorage": false})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert!(path_of(&b_id).join("b.pdf").exists(), "kept in storage");
        let (_, l) = app.get("/v1/files").await;
        assert_eq!(l["count"], 0);
    }
);

both_engines!(
    concurrent_uploads_store_one_content,
    |app: TestApp| async move {
        for round in 0..5 {
            let (s, b) = app
                .post(
                    "/v1/files/url",
                    json!({"action": "upload", "fileName": format!("r{round}.pdf"),
                    "contentType": "application/pdf"}),
                )
                .await;
            assert_eq!(s, 200, "{b}");
            let url = local(b["url"].as_str().unwrap());
            let id = b["fileId"].as_str().unwrap().to_string();
            let bodies: Vec<Vec<u8>> = vec![vec![b'a'; 50_000], vec![b'b'; 70_000]];
            let requests = bodies
                .iter()
                .map(|body| {
                    Request::builder()
                        .method("PUT")
                        .uri(&url)
                        .header(header::CONTENT_TYPE, "application/pdf")
                        .body(Body::from(body.clone()))
                        .unwrap()
                })
                .collect();
            let answers = app.concurrently_raw(requests).await;
            let won: Vec<usize> = (0..2).filter(|i| answers[*i].0 == 200).collect();
            assert_eq!(won.len(), 1, "one upload wins: {answers:?}");
            let lost = 1 - won[0];
            assert_eq!(answers[lost].0, 409, "{answers:?}");
            assert_eq!(answers[lost].1["error"]["code"], "UPLOAD_COMPLETE");
            let (_, f) = app.get(&format!("/v1/files/{id}")).await;
            assert_eq!(f["fileSize"], bodies[won[0]].len());
            let (_, d) = app.post("/v1/files/url", json!({"fileId": id})).await;
            let (_, _, got) = fetch(
                &app,
                "GET",
                &local(d["url"].as_str().unwrap()),
                None,
                vec![],
            )
            .await;
            assert_eq!(got, bodies[won[0]], "the stored content is the winner's");
        }
        // An empty upload is refused and leaves the URL usable.
        let (_, b) = app
            .post(
                "/v1/files/url",
                json!({"action": "upload", "fileName": "e.pdf", "contentType": "application/pdf"}),
            )
            .await;
        let url = local(b["url"].as_str().unwrap());
        let (s, _, _) = fetch(&app, "PUT", &url, Some("application/pdf"), vec![]).await;
        assert_eq!(s, 400);
        let (s, _, _) = fetch(&app, "PUT", &url, Some("application/pdf"), b"x".to_vec()).await;
        assert_eq!(s, 200);
    }
);

/// The same flows with the content in an S3-compatible bucket: a signed upload and download of
/// the same bytes, a generated contract, deletion from the bucket.
mod on_s3 {
    use super::*;

    async fn run(engine: flexportal_testkit::EngineKind) {
        let Some(storage) = flexportal_testkit::s3_test_storage() else {
            return;
        };
        let Some(app) = TestApp::with_storage(engine, Some(storage)).await else {
            return;
        };
        let content: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let id = upload(
            &app,
            json!({"action": "upload", "fileName": "scan.pdf", "contentType": "application/pdf"}),
            &content,
        )
        .await;
        let (_, b) = app
            .post("/v1/files/url", json!({"fileId": id, "action": "download"}))
            .await;
        let url = local(b["url"].as_str().unwrap());
        let (s, _, got) = fetch(&app, "GET", &url, None, vec![]).await;
        assert_eq!((s, got == content), (StatusCode::OK, true));
        let (order_id, _) = order(&app, "s3@example.com").await;
        let (s, c) = app
            .post("/v1/files/contracts/generate", json!({"orderId": order_id}))
            .await;
        assert_eq!(s, 201, "{c}");
        let (s, _, pdf) = fetch(
            &app,
            "GET",
            &local(c["downloadUrl"].as_str().unwrap()),
            None,
            vec![],
        )
        .await;
        assert_eq!(s, 200);
        assert!(pdf.starts_with(b"%PDF-"));
        // The export's copy goes to the bucket with a multipart upload.
        let (s, e) = app.post("/v1/exports/rentals", json!({})).await;
        assert_eq!(s, 200, "{e}");
        let (s, _, csv) = fetch(
            &app,
            "GET",
            &local(e["downloadUrl"].as_str().unwrap()),
            None,
            vec![],
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(csv, e["csvData"].as_str().unwrap().as_bytes());
        let (s, _) = app.delete(&format!("/v1/files/{id}")).await;
        assert_eq!(s, 200);
        let (s, _, _) = fetch(&app, "GET", &url, None, vec![]).await;
        assert_eq!(s, 403, "the record is gone, so the URL serves nothing");
        let (s, b) = app
            .post(
                "/v1/files/url",
                json!({"fileId": c["fileId"], "action": "view"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(flexportal_testkit::EngineKind::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(flexportal_testkit::EngineKind::Postgres).await;
    }
}

/// Storage that refuses deletes: deleteFile answers 500 `DELETE_FAILED` and keeps the record, so
/// the file can still be found and deleted again; without `deleteFromStorage` it goes.
mod refused_delete {
    use super::*;

    async fn run(engine: flexportal_testkit::EngineKind) {
        let (storage, knobs) = flexportal_testkit::storage::TestStore::storage();
        knobs
            .refuse_deletes
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let Some(app) = TestApp::with_storage(engine, Some(storage)).await else {
            return;
        };
        let id = upload(
            &app,
            json!({"action": "upload", "fileName": "a.pdf", "contentType": "application/pdf"}),
            b"%PDF-1.4 a",
        )
        .await;
        let (s, b) = app.delete(&format!("/v1/files/{id}")).await;
        assert_eq!(s, 500, "{b}");
        assert_eq!(b["error"]["code"], "DELETE_FAILED");
        let (s, f) = app.get(&format!("/v1/files/{id}")).await;
        assert_eq!(
            (s.as_u16(), f["fileSize"].as_i64()),
            (200, Some(10)),
            "the record is kept"
        );
        let (s, b) = app
            .call_as(
                &app.tenant,
                "DELETE",
                &format!("/v1/files/{id}"),
                Some(json!({"deleteFromStorage": false})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let (s, _) = app.get(&format!("/v1/files/{id}")).await;
        assert_eq!(s, 404);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(flexportal_testkit::EngineKind::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(flexportal_testkit::EngineKind::Postgres).await;
    }
}

both_engines!(
    long_and_escaped_names_upload_and_download,
    |app: TestApp| async move {
        // 130 × "é" is 260 bytes, past what a file system takes for one name; "#" and "%" are
        // percent-encoded by the object store, three bytes each. Both answered 500 on upload.
        let long = format!("{}.pdf", "é".repeat(130));
        let escaped = format!("{}.pdf", "#%".repeat(60));
        for name in [long.as_str(), escaped.as_str()] {
            let content = format!("%PDF-1.4 {}", name.len()).into_bytes();
            let id = upload(
                &app,
                json!({"action": "upload", "fileName": name, "contentType": "application/pdf"}),
                &content,
            )
            .await;
            let (s, f) = app.get(&format!("/v1/files/{id}")).await;
            assert_eq!(s, 200, "{f}");
            assert_eq!(f["filename"], name, "the name as sent");
            assert_eq!(f["fileSize"], content.len());
            let key = f["storagePath"].as_str().unwrap();
            let segment = key.rsplit('/').next().unwrap();
            assert!(segment.len() <= 200, "{segment}");
            assert!(segment.ends_with(".pdf"), "{segment}");
            assert!(!segment.contains(['#', '%']), "{segment}");
            assert_eq!(download_file(&app, &id).await, (StatusCode::OK, content));
        }
    }
);
