//! A webhook receiver for tests: an HTTP server on loopback that records every request and
//! answers as the test tells it (fail the next n requests, be down, be slow), and an independent
//! check of the two signatures a delivery carries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Headers, lower-case names.
    pub headers: HashMap<String, String>,
    /// The raw body.
    pub body: String,
    /// The status it answered.
    pub answered: u16,
}

impl Received {
    /// A header's value (empty when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }
    /// `X-FlexPortal-Event`.
    pub fn event(&self) -> &str {
        self.header("x-flexportal-event")
    }
}

#[derive(Default)]
struct Inner {
    got: Mutex<Vec<Received>>,
    fail_next: AtomicUsize,
    down: AtomicBool,
    delay_ms: AtomicU64,
    started: AtomicUsize,
}

/// The receiver; dropped, it stops.
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn hook(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inner.started.fetch_add(1, Ordering::SeqCst);
    let delay = inner.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = if inner.down.load(Ordering::SeqCst) {
        StatusCode::SERVICE_UNAVAILABLE
    } else if inner
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    inner.got.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        answered: status.as_u16(),
    });
    status
}

impl Receiver {
    /// Starts a receiver on a free loopback port.
    pub async fn start() -> Receiver {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, inner, task }
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.inner.got.lock().unwrap().clone()
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    /// Requests that arrived, answered or not yet (a slow receiver is still holding them).
    pub fn started(&self) -> usize {
        self.inner.started.load(Ordering::SeqCst)
    }

    /// Answers 500 to the next `n` requests.
    pub fn fail_next(&self, n: usize) {
        self.inner.fail_next.store(n, Ordering::SeqCst);
    }

    /// Answers 503 to everything while `down`.
    pub fn set_down(&self, down: bool) {
        self.inner.down.store(down, Ordering::SeqCst);
    }

    /// Waits this long before answering.
    pub fn set_delay(&self, d: Duration) {
        self.inner
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Checks a delivery's signatures with the endpoint's `secret`, computed here independently of
/// the server: `X-FlexPortal-Signature: sha256=<hex HMAC-SHA256(secret, body)>` and the Standard
/// Webhooks `webhook-signature: v1,<base64 HMAC-SHA256(base64-decoded secret after whsec_,
/// "<webhook-id>.<webhook-timestamp>.<body>")>`. Returns which failed.
pub fn verify_signatures(secret: &str, r: &Received) -> Result<(), String> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(r.body.as_bytes());
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    if r.header("x-flexportal-signature") != expected {
        return Err(format!(
            "X-FlexPortal-Signature {:?}, expected {expected:?}",
            r.header("x-flexportal-signature")
        ));
    }
    let key = BASE64
        .decode(
            secret
                .strip_prefix("whsec_")
                .ok_or("secret without whsec_")?,
        )
        .map_err(|e| e.to_string())?;
    let mut mac = HmacSha256::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.{}",
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.body
    );
    mac.update(signed.as_bytes());
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    let given = r.header("webhook-signature");
    if !given.split(' ').any(|s| s == expected) {
        return Err(format!(
            "webhook-signature {given:?}, expected {expected:?}"
        ));
    }
    Ok(())
}
