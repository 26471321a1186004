//! Test harness: a [`TestApp`] serving the real router over a temporary SQLite file or a fresh
//! PostgreSQL database, with a manual clock and a business unit with a full-access key.
//!
//! PostgreSQL comes from `FLEXPORTAL_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test process creates its own database. When
//! the server cannot be reached the PostgreSQL half of each test is skipped with a loud message,
//! unless `FLEXPORTAL_TEST_REQUIRE_POSTGRES=1`, which makes it a failure.

pub mod contract;
pub mod receiver;
pub mod storage;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use flexportal_api::{AppState, UsageBuffer};
use flexportal_app::{App, ManualClock};
use flexportal_domain::status::KeyScope;
use flexportal_store::Db;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// 2025-01-15T10:30:00.000Z, the default "now" of tests.
pub const T0: i64 = 1_736_937_000_000;

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// Temporary SQLite file.
    Sqlite,
    /// Database on the PostgreSQL server.
    Postgres,
}

/// A business unit and a key for it.
#[derive(Debug, Clone)]
pub struct TestTenant {
    /// Tenant-ID.
    pub tenant_id: String,
    /// API key secret.
    pub key: String,
    /// Key id.
    pub key_id: String,
}

/// A running application over real storage.
pub struct TestApp {
    /// Router state (use cases, store).
    pub state: AppState,
    /// The HTTP router.
    pub router: Router,
    /// The clock tests move.
    pub clock: Arc<ManualClock>,
    /// The default business unit (EUR).
    pub tenant: TestTenant,
    /// Engine in use.
    pub engine: EngineKind,
    sqlite_dir: Option<std::path::PathBuf>,
    /// Where this application keeps file content.
    pub files_dir: std::path::PathBuf,
}

/// The upload limit of test applications, bytes (small, so the limit is cheap to exceed).
pub const FILES_MAX_UPLOAD: u64 = 1024 * 1024;

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        let _ = std::fs::remove_dir_all(&self.files_dir);
    }
}

fn pg_base_url() -> String {
    std::env::var("FLEXPORTAL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn pg_required() -> bool {
    std::env::var("FLEXPORTAL_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

fn with_db_name(url: &str, name: &str) -> String {
    match url.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{}", &url[..i], name),
        _ => format!("{url}/{name}"),
    }
}

/// The URL of this process's PostgreSQL test database, created (and migrated) once; `None` when
/// the server is unreachable and not required.
pub fn pg_test_url() -> Option<String> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let base = pg_base_url();
                let (client, conn) = match tokio_postgres::connect(&base, tokio_postgres::NoTls).await {
                    Ok(c) => c,
                    Err(e) => {
                        if pg_required() {
                            panic!("PostgreSQL is required (FLEXPORTAL_TEST_REQUIRE_POSTGRES) but unreachable at {base}: {e}");
                        }
                        eprintln!("\n!!! PostgreSQL unreachable at {base}: {e}\n!!! SKIPPING the PostgreSQL half of every storage test\n");
                        return None;
                    }
                };
                tokio::spawn(conn);
                // Drop databases left by test processes that no longer run.
                if let Ok(rows) = client
                    .query("SELECT datname FROM pg_database WHERE datname LIKE 'flexportal_test_%'", &[])
                    .await
                {
                    for r in rows {
                        let name: String = r.get(0);
                        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
                        if pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()) {
                            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await;
                        }
                    }
                }
                let name = format!(
                    "flexportal_test_{}_{}",
                    std::process::id(),
                    flexportal_domain::ids::random_token(6)
                );
                client
                    .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
                let url = with_db_name(&base, &name);
                let db = Db::connect(&url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
                db.migrate().await.unwrap_or_else(|e| panic!("cannot migrate {url}: {e}"));
                Some(url)
            })
        })
        .join()
        .unwrap_or_else(|_| panic!("PostgreSQL test database setup failed"))
    })
    .clone()
}

/// Opens a fresh store of `engine`: a new SQLite file (with its directory) or this process's
/// PostgreSQL test database. `None` when PostgreSQL is skipped.
pub async fn open_db(engine: EngineKind) -> Option<(Db, Option<std::path::PathBuf>)> {
    match engine {
        EngineKind::Sqlite => {
            let dir = std::env::temp_dir().join(format!(
                "flexportal-test-{}",
                flexportal_domain::ids::random_token(12)
            ));
            let url = format!("sqlite://{}", dir.join("test.db").display());
            let db = Db::connect(&url).await.expect("open sqlite");
            db.migrate().await.expect("migrate sqlite");
            Some((db, Some(dir)))
        }
        EngineKind::Postgres => {
            let url = pg_test_url()?;
            let db = Db::connect(&url).await.expect("open postgres");
            Some((db, None))
        }
    }
}

/// A fresh store of `engine` with no migration applied: a new SQLite file, or a new PostgreSQL
/// database of this process (dropped by a later test process once this one has exited). For
/// tests that build a database of an earlier schema and migrate it forward. `None` when
/// PostgreSQL is skipped.
pub async fn open_unmigrated_db(engine: EngineKind) -> Option<(Db, Option<std::path::PathBuf>)> {
    match engine {
        EngineKind::Sqlite => {
            let dir = std::env::temp_dir().join(format!(
                "flexportal-test-{}",
                flexportal_domain::ids::random_token(12)
            ));
            let url = format!("sqlite://{}", dir.join("test.db").display());
            let db = Db::connect(&url).await.expect("open sqlite");
            Some((db, Some(dir)))
        }
        EngineKind::Postgres => {
            // Ensures the server is reachable (or skipped) the same way as every other test.
            pg_test_url()?;
            let base = pg_base_url();
            let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
                .await
                .expect("connect to PostgreSQL");
            let driver = tokio::spawn(conn);
            let name = format!(
                "flexportal_test_{}_{}",
                std::process::id(),
                flexportal_domain::ids::random_token(6)
            );
            client
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create database");
            drop(client);
            driver.abort();
            let db = Db::connect(&with_db_name(&base, &name))
                .await
                .expect("open postgres");
            Some((db, None))
        }
    }
}

/// Fails the test when a `/v1` answer is outside the official contract ([`contract::check`]).
fn assert_contract(method: &str, path: &str, status: StatusCode, body: &Value) {
    if let Err(violations) = contract::check(method, path, status.as_u16(), body) {
        panic!("{method} {path} answered {status} outside the contract:\n{violations}\n{body}");
    }
}

impl TestApp {
    /// A new application on `engine`, with one EUR business unit; `None` when PostgreSQL is
    /// skipped. Each test gets its own business units, so tests sharing the PostgreSQL database
    /// never see each other's data.
    pub async fn new(engine: EngineKind) -> Option<TestApp> {
        Self::with_storage(engine, None).await
    }

    /// As [`TestApp::new`], with file content in `files` instead of a local directory of its own.
    pub async fn with_storage(
        engine: EngineKind,
        files: Option<flexportal_app::files::FileStorage>,
    ) -> Option<TestApp> {
        let (db, sqlite_dir) = open_db(engine).await?;
        let clock = Arc::new(ManualClock::new(T0));
        // File content in a directory of its own, as `serve` keeps it under ./data/files.
        let files_dir = std::env::temp_dir().join(format!(
            "flexportal-files-{}",
            flexportal_domain::ids::random_token(10)
        ));
        let files = match files {
            Some(f) => f,
            None => flexportal_app::files::FileStorage::local(&files_dir)
                .expect("create the files directory"),
        }
        .with_max_upload_bytes(FILES_MAX_UPLOAD);
        // Test receivers listen on loopback, which a server refuses unless told otherwise.
        let webhooks = flexportal_app::delivery::WebhookOptions {
            allow_private: true,
            timeout: std::time::Duration::from_secs(5),
            ..Default::default()
        };
        let app = App::new(db, clock.clone())
            .with_files(files)
            .with_webhook_options(webhooks);
        // As `serve` does: on PostgreSQL the key cache follows the credential notifications.
        if app.watch_credentials().is_some() {
            let ready = async {
                while app.keys.mode() != flexportal_app::keycache::Mode::Notified {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(10), ready)
                .await
                .expect("the credentials listener starts");
        }
        let state = AppState {
            app,
            usage: Arc::new(UsageBuffer::default()),
        };
        let router = flexportal_api::router(state.clone());
        let mut t = TestApp {
            state,
            router,
            clock,
            tenant: TestTenant {
                tenant_id: String::new(),
                key: String::new(),
                key_id: String::new(),
            },
            engine,
            sqlite_dir,
            files_dir,
        };
        t.tenant = t.new_tenant("EUR").await;
        Some(t)
    }

    /// The use cases.
    pub fn app(&self) -> &App {
        &self.state.app
    }

    /// Creates another business unit with a full-access key.
    pub async fn new_tenant(&self, currency: &str) -> TestTenant {
        self.new_tenant_with_scope(currency, KeyScope::All).await
    }

    /// Creates another business unit with a key of `scope`.
    pub async fn new_tenant_with_scope(&self, currency: &str, scope: KeyScope) -> TestTenant {
        let t = flexportal_app::admin::create_tenant(self.app(), "Test unit", currency, None)
            .await
            .expect("create tenant");
        let k = flexportal_app::admin::create_key(self.app(), &t.tenant_id, "test key", scope)
            .await
            .expect("create key");
        TestTenant {
            tenant_id: t.tenant_id,
            key: k.secret,
            key_id: k.record.key_id,
        }
    }

    /// Sends a request with explicit headers and raw body; returns status and JSON (or `Null`).
    /// Every `/v1` answer is checked against the official contract ([`contract::check`]).
    pub async fn raw(&self, req: Request<Body>) -> (StatusCode, Value) {
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router never fails");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_contract(&method, &path, status, &v);
        (status, v)
    }

    /// Sends `method path` as `tenant` with an optional JSON body.
    pub async fn call_as(
        &self,
        tenant: &TestTenant,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", tenant.key))
            .header("tenant-id", &tenant.tenant_id);
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.raw(b.body(body).expect("request")).await
    }

    /// Sends every `(method, path, body)` at once as the default business unit, each on its own
    /// task (the runtime's worker threads run them in parallel); answers in request order.
    pub async fn concurrently(
        &self,
        requests: Vec<(&str, String, Option<Value>)>,
    ) -> Vec<(StatusCode, Value)> {
        let requests = requests
            .into_iter()
            .map(|(method, path, body)| {
                let mut b = Request::builder()
                    .method(method)
                    .uri(path)
                    .header("authorization", format!("Bearer {}", self.tenant.key))
                    .header("tenant-id", &self.tenant.tenant_id);
                let body = match body {
                    Some(v) => {
                        b = b.header("content-type", "application/json");
                        Body::from(v.to_string())
                    }
                    None => Body::empty(),
                };
                b.body(body).expect("request")
            })
            .collect();
        self.concurrently_raw(requests).await
    }

    /// Sends every request at once, each on its own task, released together; answers in request
    /// order with the JSON body (or `Null`).
    pub async fn concurrently_raw(&self, requests: Vec<Request<Body>>) -> Vec<(StatusCode, Value)> {
        let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
        let handles: Vec<_> = requests
            .into_iter()
            .map(|req| {
                let router = self.router.clone();
                let barrier = barrier.clone();
                let (method, path) = (req.method().to_string(), req.uri().path().to_string());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let resp = router.oneshot(req).await.expect("router never fails");
                    let status = resp.status();
                    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
                    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    assert_contract(&method, &path, status, &v);
                    (status, v)
                })
            })
            .collect();
        let mut out = Vec::with_capacity(handles.len());
        for h in handles {
            out.push(h.await.expect("request task"));
        }
        out
    }

    /// Replaces a business unit's settings document (SPEC §2.1 settings) as
    /// `flexportal tenants settings set` does: validated, and seen by the next request. Panics
    /// when the document is refused.
    pub async fn set_settings(&self, tenant: &TestTenant, settings: Value) {
        flexportal_app::admin::set_settings(self.app(), &tenant.tenant_id, &settings, false)
            .await
            .unwrap_or_else(|e| panic!("settings {settings} refused: {e:?}"));
    }

    /// Another handle on this test's database, as another process would open it (its own SQLite
    /// connections, or its own PostgreSQL pool).
    pub async fn other_process_db(&self) -> Db {
        let url = match (&self.sqlite_dir, self.engine) {
            (Some(dir), _) => format!("sqlite://{}", dir.join("test.db").display()),
            (None, _) => pg_test_url().expect("PostgreSQL URL"),
        };
        Db::connect(&url).await.expect("open the database again")
    }

    /// Waits until this process has seen a credentials change made elsewhere after its cache's
    /// invalidation count was `before` (PostgreSQL notifications arrive asynchronously); returns
    /// at once on SQLite, where every request checks the credentials epoch. Panics after 10 s.
    pub async fn await_credentials_change(&self, before: u64) {
        if self.engine != EngineKind::Postgres {
            return;
        }
        let keys = self.app().keys.clone();
        let seen = async {
            while keys.invalidations() <= before {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), seen)
            .await
            .expect("the credentials notification arrives");
    }

    /// Sets the clock to midnight UTC of a `YYYY-MM-DD` date plus `hour` hours.
    pub fn set_date(&self, date: &str, hour: i64) {
        let d: jiff::civil::Date = date.parse().expect("date");
        let ms = d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .expect("zoned")
            .timestamp()
            .as_millisecond();
        self.clock.set(ms + hour * 3_600_000);
    }

    /// The use-case context of a business unit (as the command line builds it).
    pub async fn context(&self, tenant: &TestTenant) -> flexportal_app::TenantContext {
        let mut c = self.app().db.read().await.expect("read");
        let t = flexportal_store::tenants::get(&mut c, &tenant.tenant_id)
            .await
            .expect("tenant")
            .expect("tenant exists");
        flexportal_app::TenantContext {
            tenant_id: t.tenant_id,
            currency: flexportal_domain::Currency::parse(&t.currency).expect("currency"),
            time_zone: t.time_zone,
            settings: std::sync::Arc::new(
                flexportal_domain::settings::UnitSettings::from_stored(&t.settings)
                    .expect("settings"),
            ),
            actor: flexportal_app::Actor {
                user_id: "system".into(),
                display_name: "test".into(),
            },
        }
    }

    /// `GET path` as the default business unit.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call_as(&self.tenant, "GET", path, None).await
    }
    /// `POST path` with a JSON body as the default business unit.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call_as(&self.tenant, "POST", path, Some(body)).await
    }
    /// `PUT path` with a JSON body as the default business unit.
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call_as(&self.tenant, "PUT", path, Some(body)).await
    }
    /// `PATCH path` with a JSON body as the default business unit.
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call_as(&self.tenant, "PATCH", path, Some(body)).await
    }
    /// `DELETE path` as the default business unit.
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call_as(&self.tenant, "DELETE", path, None).await
    }
}

/// The documented contract files kept in the repository under `spec/` (the official OpenAPI file
/// and the documentation's request examples), so a clone with nothing beside it can test itself.
pub fn spec_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../spec")
        .join(name)
}

/// Reads and parses a JSON file of the repository's `spec/` folder (`examples.json`,
/// `flexportal-openapi.json`).
pub fn spec_json(name: &str) -> Value {
    let path = spec_path(name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The request examples of `spec/examples.json` for an operation, in order.
pub fn examples(operation_id: &str) -> Vec<Value> {
    request_examples(&spec_json("examples.json"), operation_id)
}

/// The request examples of an operation within an examples document, in order.
pub fn request_examples(all: &Value, operation_id: &str) -> Vec<Value> {
    all["examples"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["operationId"] == operation_id && e["kind"] == "request")
                .map(|e| e["body"].clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Runs a test body on SQLite and on PostgreSQL: `both_engines!(name, |app| async move { … })`.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::TestApp::new($crate::EngineKind::Sqlite).await {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::TestApp::new($crate::EngineKind::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// File storage in a new bucket of the S3-compatible server at `FLEXPORTAL_TEST_S3_ENDPOINT`
/// (for example `moto_server`; CI starts one), under a prefix; `None`, said loudly, when the
/// variable is unset, unless `FLEXPORTAL_TEST_REQUIRE_S3` is set (CI), which makes it a failure.
pub fn s3_test_storage() -> Option<flexportal_app::files::FileStorage> {
    let Ok(endpoint) = std::env::var("FLEXPORTAL_TEST_S3_ENDPOINT") else {
        assert!(
            std::env::var_os("FLEXPORTAL_TEST_REQUIRE_S3").is_none(),
            "FLEXPORTAL_TEST_REQUIRE_S3 is set but FLEXPORTAL_TEST_S3_ENDPOINT is not"
        );
        eprintln!("WARNING: FLEXPORTAL_TEST_S3_ENDPOINT unset: S3 file storage tests skipped");
        return None;
    };
    let bucket = format!(
        "flexportal-{}",
        flexportal_domain::ids::random_token(10).to_lowercase()
    );
    // Create the bucket with a plain PUT (S3 emulators accept it unsigned).
    let hostport = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = std::net::TcpStream::connect(&hostport).expect("connect to the S3 endpoint");
    use std::io::{Read, Write};
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "create bucket: {answer}"
    );
    Some(
        flexportal_app::files::FileStorage::from_url(
            &format!("s3://{bucket}/flexportal"),
            &[
                ("aws_endpoint", endpoint.as_str()),
                ("aws_allow_http", "true"),
                ("aws_access_key_id", "test"),
                ("aws_secret_access_key", "test"),
                ("aws_region", "us-east-1"),
                ("aws_virtual_hosted_style_request", "false"),
            ],
        )
        .expect("S3 storage"),
    )
}
