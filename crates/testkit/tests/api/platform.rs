//! Authentication, tenant selection, scopes, the error envelope, body limits, health.

use axum::body::Body;
use axum::http::Request;
use flexportal_domain::status::KeyScope;
use flexportal_testkit::{TestApp, both_engines};
use serde_json::json;

fn req(method: &str, path: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(path)
}

both_engines!(
    authentication_follows_the_check_order,
    |app: TestApp| async move {
        // No Authorization header → 401 AUTH_REQUIRED.
        let (s, b) = app
            .raw(
                req("GET", "/v1/assets")
                    .header("tenant-id", &app.tenant.tenant_id)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (401, Some("AUTH_REQUIRED"))
        );
        // Not of the form Bearer <token>.
        let (s, b) = app
            .raw(
                req("GET", "/v1/assets")
                    .header("authorization", "Basic abc")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (401, Some("AUTH_REQUIRED"))
        );
        // Unknown token → 401 INVALID_TOKEN, even without a Tenant-ID.
        let (s, b) = app
            .raw(
                req("GET", "/v1/assets")
                    .header("authorization", "Bearer pk_live_local_nope")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (401, Some("INVALID_TOKEN"))
        );
        // Valid key, no Tenant-ID → 403.
        let (s, b) = app
            .raw(
                req("GET", "/v1/assets")
                    .header("authorization", format!("Bearer {}", app.tenant.key))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (403, Some("NO_TENANT_ACCESS"))
        );
        // Valid key with another unit's Tenant-ID → 403, not 401.
        let other = app.new_tenant("USD").await;
        let (s, b) = app
            .raw(
                req("GET", "/v1/assets")
                    .header("authorization", format!("Bearer {}", app.tenant.key))
                    .header("tenant-id", &other.tenant_id)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (403, Some("NO_TENANT_ACCESS"))
        );
        // Auth comes before route lookup: an unknown asset without a key is 401, not 404.
        let (s, _) = app
            .raw(req("GET", "/v1/assets/NOPE").body(Body::empty()).unwrap())
            .await;
        assert_eq!(s, 401);
        // The good pair works.
        let (s, b) = app.get("/v1/assets").await;
        assert_eq!(s, 200, "{b}");
    }
);

both_engines!(
    revoked_keys_and_inactive_units_are_refused,
    |app: TestApp| async move {
        flexportal_app::admin::revoke_key(app.app(), &app.tenant.tenant_id, &app.tenant.key_id)
            .await
            .unwrap();
        let (s, b) = app.get("/v1/assets").await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (401, Some("INVALID_TOKEN"))
        );

        let t = app.new_tenant("EUR").await;
        let mut c = app.app().db.begin().await.unwrap();
        flexportal_store::tenants::set_status(&mut c, &t.tenant_id, "inactive", 1)
            .await
            .unwrap();
        c.commit().await.unwrap();
        let (s, b) = app.call_as(&t, "GET", "/v1/assets", None).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (403, Some("NO_TENANT_ACCESS"))
        );
    }
);

both_engines!(
    a_revocation_by_another_process_applies_to_the_next_request,
    |app: TestApp| async move {
        // The key is cached once used: later requests do not read it from the store.
        let hits = app.app().keys.hits();
        for _ in 0..20 {
            assert_eq!(app.get("/v1/assets").await.0, 200);
        }
        assert!(app.app().keys.hits() > hits, "the key cache is never hit");
        // Another process (the CLI, another node) revokes the key: this process has no part in
        // it, yet its next request is refused.
        let before = app.app().keys.invalidations();
        let other = app.other_process_db().await;
        let mut tx = other.begin().await.unwrap();
        let revoked = flexportal_store::api_keys::revoke(
            &mut tx,
            &app.tenant.tenant_id,
            &app.tenant.key_id,
            1,
        )
        .await
        .unwrap();
        assert!(revoked);
        tx.commit().await.unwrap();
        app.await_credentials_change(before).await;
        let (s, b) = app.get("/v1/assets").await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (401, Some("INVALID_TOKEN"))
        );
        // A unit deactivated elsewhere is refused at once too.
        let t = app.new_tenant("EUR").await;
        assert_eq!(app.call_as(&t, "GET", "/v1/assets", None).await.0, 200);
        let before = app.app().keys.invalidations();
        let mut tx = other.begin().await.unwrap();
        flexportal_store::tenants::set_status(&mut tx, &t.tenant_id, "inactive", 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        app.await_credentials_change(before).await;
        let (s, b) = app.call_as(&t, "GET", "/v1/assets", None).await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (403, Some("NO_TENANT_ACCESS"))
        );
    }
);

both_engines!(scopes_split_reads_and_writes, |app: TestApp| async move {
    let reader = app.new_tenant_with_scope("EUR", KeyScope::Read).await;
    let (s, _) = app.call_as(&reader, "GET", "/v1/products", None).await;
    assert_eq!(s, 200);
    let (s, b) = app
        .call_as(
            &reader,
            "POST",
            "/v1/assets",
            Some(json!({"serialNumber": "X", "sku": "Y"})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (403, Some("INSUFFICIENT_PERMISSIONS"))
    );
    let writer = app.new_tenant_with_scope("EUR", KeyScope::Write).await;
    let (s, b) = app.call_as(&writer, "GET", "/v1/products", None).await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].as_str()),
        (403, Some("INSUFFICIENT_PERMISSIONS"))
    );
});

both_engines!(
    bad_bodies_get_the_envelope_and_change_nothing,
    |app: TestApp| async move {
        let auth = |b: axum::http::request::Builder| {
            b.header("authorization", format!("Bearer {}", app.tenant.key))
                .header("tenant-id", &app.tenant.tenant_id)
                .header("content-type", "application/json")
        };
        // Malformed JSON.
        let (s, b) = app
            .raw(
                auth(req("POST", "/v1/assets"))
                    .body(Body::from("{\"serialNumber\": "))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Malformed JSON")
        );
        // Not an object.
        let (s, b) = app
            .raw(
                auth(req("POST", "/v1/assets"))
                    .body(Body::from("[1,2]"))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        // Wrong types name the field.
        let (s, b) = app
            .post("/v1/assets", json!({"serialNumber": 12, "sku": true}))
            .await;
        assert_eq!(s, 400);
        let paths: Vec<&str> = b["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, vec!["serialNumber", "sku"]);
        assert_eq!(b["error"]["details"][0]["code"], "invalid_type");
        // Oversized body → 413 before parsing.
        let big = format!("{{\"notes\": \"{}\"}}", "x".repeat(1_100_000));
        let (s, b) = app
            .raw(
                auth(req("POST", "/v1/assets"))
                    .body(Body::from(big))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (413, Some("PAYLOAD_TOO_LARGE"))
        );
        // A 100 kB name inside the limit → 400 with details.
        let (s, b) = app
            .post(
                "/v1/assets",
                json!({"serialNumber": "x".repeat(100_000), "sku": "S"}),
            )
            .await;
        assert_eq!(
            (s.as_u16(), b["error"]["details"][0]["code"].as_str()),
            (400, Some("too_big"))
        );
        // Nothing was stored.
        let (_, list) = app.get("/v1/assets").await;
        assert_eq!(list["count"], 0);
        // Unknown query values and bad limits.
        for q in [
            "status=lost",
            "limit=0",
            "limit=abc",
            "sortBy=color",
            "sortDir=up",
            "startAfter=NOPE",
        ] {
            let (s, b) = app.get(&format!("/v1/assets?{q}")).await;
            assert_eq!(
                (s.as_u16(), b["error"]["code"].as_str()),
                (400, Some("VALIDATION_ERROR")),
                "{q}"
            );
        }
        // Unknown route.
        let (s, b) = app.get("/v1/nothing-here").await;
        assert_eq!(
            (s.as_u16(), b["error"]["code"].as_str()),
            (404, Some("NOT_FOUND"))
        );
    }
);

/// The body of `GET path` as text, with its status and content type.
async fn text(app: &TestApp, path: &str) -> (u16, String, String) {
    use http_body_util::BodyExt;
    let resp = tower::ServiceExt::oneshot(
        app.router.clone(),
        req("GET", path).body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers()[axum::http::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8_lossy(&body).into_owned())
}

both_engines!(
    the_api_reference_is_served_without_internet,
    |app: TestApp| async move {
        let (s, ct, page) = text(&app, "/docs").await;
        assert_eq!((s, ct.as_str()), (200, "text/html"));
        assert!(page.contains("/openapi.json"), "{page}");
        // Every script and style the page loads is served by this server.
        let assets: Vec<&str> = page
            .split(['"', '\''])
            .filter(|a| a.ends_with(".js") || a.ends_with(".css"))
            .collect();
        assert!(assets.len() >= 2, "{page}");
        for a in assets {
            assert!(a.starts_with('/'), "{a} is not served by this server");
            let (s, _, body) = text(&app, a).await;
            assert_eq!(s, 200, "{a}");
            assert!(body.len() > 1000, "{a} is empty");
        }
        let (s, ct, doc) = text(&app, "/openapi.json").await;
        assert_eq!((s, ct.as_str()), (200, "application/json"));
        assert!(doc.contains("\"getAsset\""));
    }
);

both_engines!(health_and_request_ids, |app: TestApp| async move {
    let (s, _) = app
        .raw(req("GET", "/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, 200);
    let (s, b) = app
        .raw(req("GET", "/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!((s.as_u16(), b["status"].as_str()), (200, Some("ready")));
    let resp = tower::ServiceExt::oneshot(
        app.router.clone(),
        req("GET", "/healthz").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert!(
        resp.headers()
            .get("x-request-id")
            .is_some_and(|v| v.to_str().unwrap().starts_with("req_"))
    );
    let resp = tower::ServiceExt::oneshot(
        app.router.clone(),
        req("GET", "/healthz")
            .header("x-request-id", "abc-123")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
});

both_engines!(key_usage_is_counted, |app: TestApp| async move {
    for _ in 0..3 {
        app.get("/v1/products").await;
    }
    app.state.usage.flush(app.app()).await;
    let mut c = app.app().db.read().await.unwrap();
    let keys = flexportal_store::api_keys::list(&mut c, &app.tenant.tenant_id)
        .await
        .unwrap();
    assert_eq!(keys[0].usage_count, 3);
    assert_eq!(keys[0].last_used_at, Some(flexportal_testkit::T0));
    drop(c);
    // A newer batch, then another process's older one: both counts add up, the time stays the
    // latest.
    let key_id = keys[0].key_id.clone();
    for (uses, at) in [
        (1, flexportal_testkit::T0 + 5_000),
        (2, flexportal_testkit::T0 - 60_000),
    ] {
        let batch = [(app.tenant.tenant_id.clone(), key_id.clone(), uses, at)];
        flexportal_app::admin::flush_key_usage(app.app(), &batch)
            .await
            .unwrap();
    }
    let mut c = app.app().db.read().await.unwrap();
    let keys = flexportal_store::api_keys::list(&mut c, &app.tenant.tenant_id)
        .await
        .unwrap();
    assert_eq!(keys[0].usage_count, 6);
    assert_eq!(
        keys[0].last_used_at,
        Some(flexportal_testkit::T0 + 5_000),
        "the latest use, whatever the order of the flushes"
    );
});

/// The copies under `spec/` are the official files: when the published contract folder
/// (`../shared/spec/`) sits beside the repository, every copied file must equal it byte for byte.
#[test]
fn spec_copies_equal_the_published_contract() {
    let published = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec");
    if !published.is_dir() {
        eprintln!(
            "no published contract at {}: the spec/ copies are not compared",
            published.display()
        );
        return;
    }
    for name in ["examples.json", "flexportal-openapi.json"] {
        let ours = std::fs::read(flexportal_testkit::spec_path(name)).unwrap();
        let theirs = std::fs::read(published.join(name)).unwrap();
        assert!(
            ours == theirs,
            "spec/{name} differs from {}; copy the published file into spec/",
            published.join(name).display()
        );
    }
}

/// A handler that panics answers 500 with the error envelope and the request id; the
/// connection is not dropped and the next request is served.
#[tokio::test]
async fn a_panicking_handler_answers_500_with_the_envelope() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let app = flexportal_api::layered(
        axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    if std::hint::black_box(true) {
                        panic!("handler bug");
                    }
                    "unreachable"
                }),
            )
            .route("/fine", axum::routing::get(|| async { "ok" })),
    );
    let resp = app
        .clone()
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert!(resp.headers().contains_key("x-request-id"));
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], "INTERNAL_ERROR");
    assert!(!v.to_string().contains("handler bug"), "{v}");
    let resp = app
        .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Files stay small and named after what they hold (DESIGN conventions): no Rust source file of
/// the workspace grows past 800 lines.
#[test]
fn no_source_file_exceeds_800_lines() {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, usize)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                out.push((path.display().to_string(), lines));
            }
        }
    }
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    walk(&crates, &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    let long: Vec<_> = files.iter().filter(|(_, n)| *n > 800).collect();
    assert!(long.is_empty(), "files over 800 lines: {long:?}");
}

both_engines!(
    reads_go_on_when_the_database_ends_their_connections,
    |app: TestApp| async move {
        assert_eq!(app.get("/v1/assets").await.0, 200);
        let db = &app.app().db;
        if db.engine() == flexportal_store::Engine::Postgres {
            // Reads outside a transaction share a few connections; hold eight reads at once so
            // that every shared connection is lent, and learn their server processes.
            let mut held = Vec::new();
            let mut pids = std::collections::BTreeSet::new();
            for _ in 0..8 {
                let mut c = db.read().await.unwrap();
                let pid: Vec<i64> = c
                    .fetch_all_sql("SELECT pg_backend_pid()::bigint")
                    .await
                    .unwrap();
                pids.extend(pid);
                held.push(c);
            }
            drop(held);
            assert!(pids.len() >= 2, "reads share {} connection(s)", pids.len());
            // The server ends them (an administrator, a restart).
            let mut admin = db.exclusive().await.unwrap();
            for pid in &pids {
                admin
                    .batch(&format!("SELECT pg_terminate_backend({pid})"))
                    .await
                    .unwrap();
            }
            drop(admin);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        // Every later read is answered, on fresh connections.
        for _ in 0..20 {
            let (s, b) = app.get("/v1/assets").await;
            assert_eq!(s, 200, "{b}");
        }
    }
);
