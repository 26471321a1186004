//! Webhook delivery by real `flexportal serve` processes (SPEC §2.11), on SQLite and PostgreSQL:
//!
//! - a delivery whose attempt is cut short by `kill -9` of the server is delivered, once more
//!   and with the same delivery id, by the next server on the same store when its lease ends;
//! - two servers on one PostgreSQL database deliver each event exactly once between them;
//! - the `flexportal webhooks` commands (add, list, rotate-secret, deliveries, replay, remove)
//!   and their refusals (loopback and `http` URLs without `FLEXPORTAL_WEBHOOK_ALLOW_PRIVATE`,
//!   unknown event types, unknown deliveries).
//!
//! Receivers are [`flexportal_testkit::receiver::Receiver`]s on loopback, driven by a tokio
//! runtime of the test; the server is the built binary, spoken to over plain HTTP/1.1.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flexportal_testkit::receiver::{Receiver, verify_signatures};
use serde_json::{Value, json};

fn flexportal_env(url: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flexportal"))
        .args(args)
        .env("FLEXPORTAL_DATABASE_URL", url)
        .env("FLEXPORTAL_LOG", "warn")
        .env_remove("FLEXPORTAL_WEBHOOK_ALLOW_PRIVATE")
        .envs(env.iter().copied())
        .output()
        .expect("run flexportal");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn flexportal(url: &str, args: &[&str]) -> (bool, String, String) {
    flexportal_env(url, args, &[])
}

fn json(url: &str, args: &[&str]) -> Value {
    json_env(url, args, &[])
}

fn json_env(url: &str, args: &[&str], env: &[(&str, &str)]) -> Value {
    let (ok, out, err) = flexportal_env(url, args, env);
    assert!(ok, "{args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {out}"))
}

const PRIVATE: (&str, &str) = ("FLEXPORTAL_WEBHOOK_ALLOW_PRIVATE", "1");

/// Servers of this test process on its PostgreSQL database deliver every business unit's
/// webhooks, so the tests that start servers there take turns: a server of another test must
/// not take (or hold) a delivery whose fate a test is watching.
fn postgres_servers(postgres: bool) -> Option<std::sync::MutexGuard<'static, ()>> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    postgres.then(|| TURN.lock().unwrap_or_else(|p| p.into_inner()))
}

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "flexportal-webhooks-{}",
        flexportal_domain::ids::random_token(10)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The test's SQLite store (a new file) or the process's PostgreSQL test database; `None` when
/// PostgreSQL is skipped.
fn store(postgres: bool, dir: &Path) -> Option<String> {
    if postgres {
        let url = flexportal_testkit::pg_test_url();
        if url.is_none() {
            let _ = std::fs::remove_dir_all(dir);
        }
        url
    } else {
        Some(format!("sqlite://{}", dir.join("hooks.db").display()))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Polls `done` every 10 ms until it holds; panics with `what` after `limit`.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out after {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A running `flexportal serve`: killed (SIGKILL) when dropped; its standard error is printed
/// when the test is failing.
struct Serve {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Serve {
    fn start(url: &str, dir: &Path, env: &[(&str, &str)]) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let log = dir.join(format!("serve-{port}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_flexportal"))
            .args(["serve", "--addr", &addr])
            .current_dir(dir)
            .env("FLEXPORTAL_DATABASE_URL", url)
            .env("FLEXPORTAL_LOG", "warn")
            .env("FLEXPORTAL_JOBS_INTERVAL", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start serve");
        let mut s = Serve { child, addr, log };
        let start = Instant::now();
        while std::net::TcpStream::connect(&s.addr).is_err() {
            if let Some(status) = s.child.try_wait().unwrap() {
                panic!("serve exited before listening: {status:?}\n{}", s.stderr());
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "serve does not listen on {}",
                s.addr
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        s
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, at once.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `POST path` with a JSON body as a business unit; status and JSON answer.
    fn post(&self, tenant: &Tenant, path: &str, body: &Value) -> (u16, Value) {
        http_post(&self.addr, tenant, path, body)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- serve {} standard error ---\n{}",
                self.addr,
                self.stderr()
            );
        }
    }
}

/// A business unit with a key, made with the command line.
struct Tenant {
    id: String,
    key: String,
}

fn new_tenant(url: &str, name: &str) -> Tenant {
    let t = json(
        url,
        &[
            "tenants",
            "create",
            "--name",
            name,
            "--currency",
            "EUR",
            "--json",
        ],
    );
    let id = t["tenantId"].as_str().unwrap().to_string();
    let k = json(url, &["keys", "create", "--tenant", &id, "--json"]);
    Tenant {
        key: k["apiKey"].as_str().unwrap().to_string(),
        id,
    }
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = std::str::from_utf8(&raw[..eol]).unwrap().trim();
        let size = usize::from_str_radix(size.split(';').next().unwrap(), 16).unwrap();
        if size == 0 {
            return out;
        }
        raw = &raw[eol + 2..];
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// One HTTP/1.1 request on its own connection.
fn http_post(addr: &str, tenant: &Tenant, path: &str, body: &Value) -> (u16, Value) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to serve");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.to_string();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nTenant-ID: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        tenant.key,
        tenant.id,
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head}"));
    let mut content = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        content = dechunk(&content);
    }
    (
        status,
        serde_json::from_slice(&content).unwrap_or(Value::Null),
    )
}

fn create_product(serve: &Serve, t: &Tenant) {
    let (s, b) = serve.post(
        t,
        "/v1/products",
        &json!({
            "productSku": "P", "name": "Laptop", "specification": "s", "category": "Laptops", "brand": "B",
            "variants": [{"variantSku": "P-1", "variantName": "Base", "grade": "A",
                "pricing": [{"contractLength": 12, "monthlyPrice": 89.0}]}]
        }),
    );
    assert_eq!(s, 201, "create the product: {b}");
}

/// Places an order of one `P-1` for `email`; returns its id.
fn create_order(serve: &Serve, t: &Tenant, email: &str) -> String {
    let (s, b) = serve.post(
        t,
        "/v1/orders",
        &json!({
            "customer": {"email": email, "firstName": "Emma", "lastName": "Larsson"},
            "billingAddress": {"streetAddress": "Storgatan 15", "city": "Stockholm", "country": "Sweden"},
            "items": [{"sku": "P-1", "quantity": 1, "contractLength": 12}]
        }),
    );
    assert_eq!(s, 201, "create an order: {b}");
    b["orderId"].as_str().unwrap().to_string()
}

/// Adds an endpoint for `url` subscribed to `order.created`; returns (id, secret).
fn add_endpoint(url: &str, t: &Tenant, hook: &str) -> (String, String) {
    let e = json_env(
        url,
        &[
            "webhooks",
            "add",
            "--tenant",
            &t.id,
            "--url",
            hook,
            "--events",
            "order.created",
            "--json",
        ],
        &[PRIVATE],
    );
    (
        e["id"].as_str().unwrap().to_string(),
        e["secret"].as_str().unwrap().to_string(),
    )
}

fn deliveries(url: &str, t: &Tenant) -> Vec<Value> {
    json(
        url,
        &["webhooks", "deliveries", "--tenant", &t.id, "--json"],
    )
    .as_array()
    .expect("deliveries print an array")
    .clone()
}

/// A server killed with `kill -9` while its receiver holds an attempt open: the attempt is never
/// recorded, and the next server on the store sends the same delivery (same id, same signed
/// event) once the lease has ended, and records it delivered.
fn delivery_in_flight_survives_kill(postgres: bool) {
    let dir = scratch();
    let Some(url) = store(postgres, &dir) else {
        return;
    };
    let _turn = postgres_servers(postgres);
    let rt = runtime();
    let rx = rt.block_on(Receiver::start());
    rx.set_delay(Duration::from_secs(5));
    let t = new_tenant(&url, "Hooks after kill");
    let (endpoint, secret) = add_endpoint(&url, &t, &rx.url);
    let env = [PRIVATE, ("FLEXPORTAL_WEBHOOK_TIMEOUT_SECS", "2")];

    let mut first = Serve::start(&url, &dir, &env);
    create_product(&first, &t);
    let order = create_order(
        &first,
        &t,
        &format!(
            "kill-{}@example.com",
            flexportal_domain::ids::random_token(6)
        ),
    );
    wait_for(
        Duration::from_secs(10),
        "the first attempt reaches the receiver",
        || rx.started() == 1,
    );
    first.kill();
    rx.set_delay(Duration::ZERO);

    // The cut attempt left no result: one delivery, still pending, no attempt recorded.
    let log = deliveries(&url, &t);
    assert_eq!(log.len(), 1, "{log:?}");
    let d = &log[0];
    assert_eq!(d["status"], "pending", "{d}");
    assert_eq!(d["eventType"], "order.created", "{d}");
    assert_eq!(d["endpointId"], endpoint.as_str(), "{d}");
    assert_eq!(d["attempts"], 0, "{d}");
    let delivery = d["deliveryId"].as_str().unwrap().to_string();
    assert!(delivery.starts_with("dlv_"), "{d}");

    let second = Serve::start(&url, &dir, &env);
    wait_for(
        Duration::from_secs(30),
        "the delivery arrives again after the restart",
        || rx.started() >= 2 && !rx.accepted().is_empty(),
    );
    let accepted = rx.accepted();
    for r in rx.received() {
        // Whatever the receiver answered, every request is the one delivery.
        assert_eq!(r.header("webhook-id"), delivery, "{:?}", r.headers);
        assert_eq!(r.header("x-flexportal-delivery"), delivery);
    }
    let r = accepted.last().unwrap();
    assert_eq!(r.event(), "order.created");
    let body = r.json();
    assert_eq!(body["event"], "order.created", "{body}");
    assert_eq!(body["tenantId"], t.id.as_str(), "{body}");
    assert_eq!(body["data"]["orderId"], order.as_str(), "{body}");
    verify_signatures(&secret, r).unwrap_or_else(|e| panic!("signatures: {e}"));

    // Recorded delivered (the receiver records before it answers, the server after).
    let start = Instant::now();
    let d = loop {
        let log = deliveries(&url, &t);
        assert_eq!(log.len(), 1, "{log:?}");
        if log[0]["status"] != "pending" || start.elapsed() > Duration::from_secs(5) {
            break log[0].clone();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(d["deliveryId"], delivery.as_str(), "{d}");
    assert_eq!(d["status"], "delivered", "{d}");
    assert!(
        d["deliveredAt"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{d}"
    );
    let attempts = d["attemptLog"].as_array().unwrap();
    assert!(!attempts.is_empty(), "{d}");
    let last = attempts.last().unwrap();
    assert_eq!(last["statusCode"], 200, "{d}");
    assert!(last["error"].is_null(), "{d}");
    assert_eq!(
        rx.started(),
        2,
        "one attempt before the kill, one after the restart"
    );
    drop(second);
    drop(rx);
    let _ = std::fs::remove_dir_all(dir);
}

mod a_delivery_in_flight_when_serve_is_killed_arrives_after_restart {
    #[test]
    fn sqlite() {
        super::delivery_in_flight_survives_kill(false);
    }

    #[test]
    fn postgres() {
        super::delivery_in_flight_survives_kill(true);
    }
}

/// Two servers on one PostgreSQL database, orders placed on both: every `order.created` reaches
/// the receiver exactly once (claims under `SKIP LOCKED` and leases keep the servers apart).
#[test]
fn two_serve_processes_on_one_postgres_deliver_each_event_once() {
    let Some(url) = flexportal_testkit::pg_test_url() else {
        return;
    };
    let _turn = postgres_servers(true);
    let dir = scratch();
    let rt = runtime();
    let rx = rt.block_on(Receiver::start());
    let t = new_tenant(&url, "Hooks on two servers");
    let (_, secret) = add_endpoint(&url, &t, &rx.url);
    let a = Serve::start(&url, &dir, &[PRIVATE]);
    let b = Serve::start(&url, &dir, &[PRIVATE]);
    create_product(&a, &t);
    let run = flexportal_domain::ids::random_token(6);
    let orders: Vec<String> = (0..40)
        .map(|i| {
            let serve = if i % 2 == 0 { &a } else { &b };
            create_order(serve, &t, &format!("two-{run}-{i}@example.com"))
        })
        .collect();
    let expected: HashSet<&str> = orders.iter().map(String::as_str).collect();
    assert_eq!(expected.len(), 40);

    wait_for(Duration::from_secs(30), "40 deliveries accepted", || {
        rx.accepted().len() >= 40
    });
    // Anything delivered twice would arrive in the meantime.
    std::thread::sleep(Duration::from_secs(3));
    let got = rx.received();
    assert_eq!(got.len(), 40, "requests received in all");
    assert_eq!(rx.started(), 40, "requests started in all");
    let ids: HashSet<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), 40, "distinct delivery ids");
    let delivered: HashSet<String> = got
        .iter()
        .map(|r| {
            assert_eq!(r.event(), "order.created");
            assert_eq!(r.answered, 200);
            verify_signatures(&secret, r).unwrap_or_else(|e| panic!("signatures: {e}"));
            r.json()["data"]["orderId"].as_str().unwrap().to_string()
        })
        .collect();
    let delivered: HashSet<&str> = delivered.iter().map(String::as_str).collect();
    assert_eq!(delivered, expected, "each order announced once");

    let log = deliveries(&url, &t);
    assert_eq!(log.len(), 40);
    assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
    drop((a, b));
    let _ = std::fs::remove_dir_all(dir);
}

/// `flexportal webhooks …` without a server: refusals with their message, secrets shown on add
/// and rotate only, an empty log, unknown deliveries, removal.
fn webhook_commands(postgres: bool) {
    let dir = scratch();
    let Some(url) = store(postgres, &dir) else {
        return;
    };
    let t = new_tenant(&url, "Hook commands");
    let tenant = t.id.as_str();
    let add = |hook: &str, events: &str, env: &[(&str, &str)]| {
        flexportal_env(
            &url,
            &[
                "webhooks",
                "add",
                "--tenant",
                tenant,
                "--url",
                hook,
                "--events",
                events,
                "--description",
                "ERP",
                "--json",
            ],
            env,
        )
    };
    let hook = "http://127.0.0.1:9/hook";
    let (ok, out, err) = add(hook, "order.created", &[]);
    assert!(!ok && err.contains("https"), "{out} {err}");
    let (ok, out, err) = add("https://127.0.0.1:9/hook", "order.created", &[]);
    assert!(!ok && err.contains("private"), "{out} {err}");
    let (ok, out, err) = add(hook, "order.created,order.shipped_to_mars", &[PRIVATE]);
    assert!(!ok && err.contains("events"), "{out} {err}");
    assert_eq!(
        json(&url, &["webhooks", "list", "--tenant", tenant, "--json"]),
        json!([]),
        "refused endpoints are not stored"
    );

    let (ok, out, err) = add(hook, "order.created,payment.succeeded", &[PRIVATE]);
    assert!(ok, "{err}");
    let e: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let id = e["id"].as_str().unwrap().to_string();
    let secret = e["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{e}");
    assert_eq!(e["url"], hook, "{e}");
    assert_eq!(e["events"], json!(["order.created", "payment.succeeded"]));
    assert_eq!(e["enabled"], true);
    assert_eq!(e["description"], "ERP");

    let list = json(&url, &["webhooks", "list", "--tenant", tenant, "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["url"], hook);
    assert!(list[0].get("secret").is_none(), "secrets are never listed");

    let r = json(
        &url,
        &[
            "webhooks",
            "rotate-secret",
            "--tenant",
            tenant,
            &id,
            "--json",
        ],
    );
    assert_eq!(r["id"], id.as_str());
    let rotated = r["secret"].as_str().unwrap();
    assert!(rotated.starts_with("whsec_") && rotated != secret, "{r}");
    let (ok, _, _) = flexportal(
        &url,
        &["webhooks", "rotate-secret", "--tenant", tenant, "whe_nope"],
    );
    assert!(!ok, "rotating an unknown endpoint fails");

    assert_eq!(
        json(
            &url,
            &["webhooks", "deliveries", "--tenant", tenant, "--json"]
        ),
        json!([])
    );
    let (ok, out, err) = flexportal(&url, &["webhooks", "replay", "dlv_nope"]);
    assert!(!ok && !err.is_empty(), "{out} {err}");

    // Another unit's endpoints are out of reach.
    let other = new_tenant(&url, "Other unit");
    let (ok, _, _) = flexportal(&url, &["webhooks", "remove", "--tenant", &other.id, &id]);
    assert!(
        !ok,
        "an endpoint is removed only within its own business unit"
    );

    let (ok, out, err) = flexportal(&url, &["webhooks", "remove", "--tenant", tenant, &id]);
    assert!(ok && out.contains(&id), "{out} {err}");
    assert_eq!(
        json(&url, &["webhooks", "list", "--tenant", tenant, "--json"]),
        json!([])
    );
    let (ok, _, _) = flexportal(&url, &["webhooks", "remove", "--tenant", tenant, &id]);
    assert!(!ok, "removing twice fails");
    let _ = std::fs::remove_dir_all(dir);
}

mod webhook_commands {
    #[test]
    fn sqlite() {
        super::webhook_commands(false);
    }

    #[test]
    fn postgres() {
        super::webhook_commands(true);
    }
}
