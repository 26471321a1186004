//! Scenario `webhooks`: what webhook delivery (SPEC §2.11) costs the server, how fast the
//! delivery worker empties its queue and how late events reach a receiver, and what an
//! `Idempotency-Key` costs on `POST /v1/orders`.
//!
//! Every run uses the real server in-process (as `fulfil-http`: `flexportal_api::router` on
//! 127.0.0.1, its own runtime), with the delivery worker of `flexportal serve`
//! (`flexportal_app::delivery::spawn_worker`) on that runtime, and the application allowing
//! loopback targets. The receiver is a bare axum handler on 127.0.0.1 on a runtime of its own
//! (one thread): `POST /hook` answers 200 and records, per request, its `webhook-id`, when it
//! arrived (monotonic clock, for drain times) and the lag = its wall-clock arrival
//! (`jiff::Timestamp::now()`, the clock the server stamps events with) − the envelope's
//! `timestamp`. That timestamp is the use case's `now`, taken in its transaction before its
//! writes and the commit, in whole milliseconds: the lag includes the rest of the transaction
//! and up to 1 ms of truncation.
//!
//! 1. **Fulfilment with and without an endpoint** ([`phase_one`]: `--rounds` rounds, alternating
//!    which side goes first, medians reported). One fresh store gets the catalog, N
//!    `available` assets and N pending one-unit 36-month orders ([`fulfil::prepare_units`]); it
//!    is copied ([`FreshStore::duplicate`]: same rows, ids included) into a second and a third
//!    store. On the first (no endpoint) and on the second (one endpoint subscribed to every
//!    event, pointing at the receiver, created after the orders), `--connections` keep-alive
//!    connections send `POST /v1/subscriptions` for every unit ([`loadgen::work_queue`]), the
//!    worker running in both. Figures: both rates and their ratio; for the second, the
//!    deliveries created (rows of `webhook_deliveries`; 39 per fulfilment: `subscription.created`,
//!    `asset.assigned`, 36 `payment.scheduled`, `order.fulfilled`), how many the receiver had
//!    when the last fulfilment was answered, the drain time (last fulfilment answered → last new
//!    delivery received), the delivery throughput (deliveries ÷ first fulfilment sent → last
//!    delivery received), and the check that the receiver got exactly the stored delivery ids.
//!    With `--split` (diagnostic), a fourth copy gets the endpoint but the worker only after the
//!    load: the cost of writing the events apart from that of delivering them meanwhile.
//! 2. **Delivery alone.** The third store gets the endpoint, then every unit is fulfilled through
//!    the use case with no worker running (not timed), which queues 39 N deliveries; the worker
//!    is then started and timed until the receiver has them all.
//! 3. **Lag under load.** A fresh store with `--rate × --paced-seconds` units, the endpoint and
//!    the worker; `POST /v1/subscriptions` sent open loop at fixed instants `i / --rate` (each on
//!    a free keep-alive connection of a pool, or a new one when all are busy: never waiting for
//!    an answer). Figures: commit-to-delivery lag p50, p99 and max over every delivery, and the
//!    fulfilments' response times measured from their scheduled instants.
//! 4. **Idempotency keys.** Two fresh stores with the catalog (no assets); `--orders` distinct
//!    orders (customer and SKU pairs never repeat, so the 60 s duplicate check never answers)
//!    sent over `--connections` connections by the same client code, without a key to the
//!    first store and with a unique `Idempotency-Key` each to the second. Figures: both rates and
//!    their ratio; checks: every order and every key stored, and one key sent again is replayed.
//!
//! Stores are created and dropped per phase; `--phases` runs a subset.

mod phase_one;
mod phases;

use phases::{fulfil_phases, key_phase, lag_phase};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use flexportal_app::App;
use flexportal_app::delivery::{self, WebhookOptions};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::runtime::Runtime;

use crate::Engine;
use crate::dataset::{self, BenchTenant};
use crate::fulfil::{self, CONTRACT_MONTHS, Units, key_context};
use crate::http::{self, auth_headers};
use crate::loadgen::{self, Connection, Post, Target, WorkSummary};
use crate::stats::{Summary, ms, percentile, rate, ratio};
use crate::store::{FreshStore, TempDir, count_rows};

/// Options of the `webhooks` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct WebhooksArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Fulfilments of phases 1 and 2 (assets, one-unit orders and subscriptions per store).
    #[arg(long, default_value_t = 3_000)]
    pub fulfilments: usize,
    /// Concurrent keep-alive connections (phases 1 and 4; the pool of phase 3 starts with as
    /// many).
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Length of the paced run of phase 3, in seconds.
    #[arg(long, default_value_t = 20)]
    pub paced_seconds: u64,
    /// Fulfilments per second of the paced run of phase 3.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Orders of each side of phase 4.
    #[arg(long, default_value_t = 3_000)]
    pub orders: usize,
    /// Distinct customers placing the orders.
    #[arg(long, default_value_t = 300)]
    pub customers: usize,
    /// How long to wait for the receiver to get every delivery, in seconds.
    #[arg(long, default_value_t = 600)]
    pub drain_timeout_seconds: u64,
    /// Phases to run (1 with/without endpoint, 2 delivery alone, 3 lag, 4 idempotency keys).
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = [1u8, 2, 3, 4],
        value_parser = clap::value_parser!(u8).range(1..=4)
    )]
    pub phases: Vec<u8>,
    /// Diagnostic: phase 1 also fulfils on another copy with the endpoint but the worker
    /// started only after the load, which separates the cost of writing the events from the
    /// cost of delivering them while fulfilments run.
    #[arg(long)]
    pub split: bool,
    /// Rounds of phase 1 (each a run without and a run with the endpoint on fresh copies of the
    /// store, alternating which goes first); the figures are the medians.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Worker threads of the server's runtime (default: one per core).
    #[arg(long)]
    pub server_threads: Option<usize>,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// Seed of the dataset generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Webhook events per fulfilment of a one-unit order on a 36-month contract:
/// `subscription.created`, `asset.assigned`, one `payment.scheduled` per month, and
/// `order.fulfilled` (the one unit fulfils the order).
pub const EVENTS_PER_FULFILMENT: usize = 1 + 1 + CONTRACT_MONTHS as usize + 1;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

// ---------------------------------------------------------------------------------------------
// The receiver.

/// What the receiver recorded of one request.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// When it arrived (body read), monotonic.
    at: Instant,
    /// Arrival wall time − the envelope's `timestamp`, in microseconds; `None` when the body
    /// had no readable `timestamp`.
    lag_us: Option<i64>,
    /// Whether its `webhook-id` was new.
    new: bool,
}

/// Everything the receiver got.
#[derive(Default)]
struct Log {
    hits: Vec<Hit>,
    ids: HashSet<String>,
}

/// The receiver's state, shared with its handler.
#[derive(Default)]
struct Inner {
    log: Mutex<Log>,
    /// Distinct `webhook-id`s so far (read while waiting, without the lock).
    distinct: AtomicUsize,
}

/// A webhook receiver on 127.0.0.1: `POST /hook` answers 200 and records the request.
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

/// `POST /hook`: records the request (see [`Hit`]) and answers 200.
async fn hook(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let now_us = jiff::Timestamp::now().as_microsecond();
    let lag_us = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("timestamp")?
                .as_str()?
                .parse::<jiff::Timestamp>()
                .ok()
        })
        .map(|t| now_us - t.as_microsecond());
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut log = inner.log.lock().unwrap_or_else(|p| p.into_inner());
    let new = log.ids.insert(id.to_string());
    log.hits.push(Hit { at, lag_us, new });
    if new {
        inner.distinct.store(log.ids.len(), Ordering::Release);
    }
    StatusCode::OK
}

impl Receiver {
    /// Starts a receiver on a free loopback port of the current runtime.
    pub async fn start() -> Receiver {
        let inner = Arc::new(Inner::default());
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let url = format!(
            "http://{}/hook",
            listener.local_addr().expect("receiver address")
        );
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                eprintln!("receiver error: {e}");
            }
        });
        Receiver { url, inner, task }
    }

    /// Distinct `webhook-id`s received so far.
    pub fn distinct(&self) -> usize {
        self.inner.distinct.load(Ordering::Acquire)
    }

    /// Requests received so far (repeats of an id included).
    fn requests(&self) -> usize {
        self.inner
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .hits
            .len()
    }

    /// Every request so far.
    fn hits(&self) -> Vec<Hit> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .hits
            .clone()
    }

    /// The distinct `webhook-id`s so far (taken out of the receiver).
    fn take_ids(&self) -> HashSet<String> {
        std::mem::take(&mut self.inner.log.lock().unwrap_or_else(|p| p.into_inner()).ids)
    }

    /// Stops the receiver.
    pub fn stop(self) {
        self.task.abort();
    }

    /// Waits (polling every 2 ms) until `expected` distinct ids arrived or `timeout` passed,
    /// with progress on stderr every 5 s. Returns when the last new id arrived, if all did.
    fn wait_for(&self, expected: usize, timeout: Duration) -> Option<Instant> {
        let started = Instant::now();
        if expected == 0 {
            return Some(started);
        }
        let mut report = started + Duration::from_secs(5);
        while self.distinct() < expected {
            let now = Instant::now();
            if now.duration_since(started) > timeout {
                return None;
            }
            if now >= report {
                eprintln!("  … {} of {expected} deliveries received", self.distinct());
                report = now + Duration::from_secs(5);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        self.hits().iter().filter(|h| h.new).map(|h| h.at).max()
    }
}

// ---------------------------------------------------------------------------------------------
// Server, worker, stores.

/// The runtimes of a run: the server (with the delivery worker), the load generator and the
/// receiver.
struct Runtimes {
    server: Runtime,
    server_threads: usize,
    client: Runtime,
    receiver: Runtime,
}

/// The server and, when asked, the delivery worker, on the server's runtime (as `serve`).
struct Serving {
    server: http::Server,
    worker: Option<tokio::task::JoinHandle<()>>,
}

impl Serving {
    /// Starts the server on `app` and, with `worker`, the delivery worker, after writing out
    /// what the setup wrote (so a checkpoint does not fall into one run and not another).
    fn start(rt: &Runtime, app: &App, worker: bool) -> Serving {
        eprintln!(
            "  before the run: {}",
            rt.block_on(crate::rentals::flush(app))
        );
        let server = rt.block_on(http::start(app.clone()));
        let worker = worker.then(|| {
            let _guard = rt.enter();
            delivery::spawn_worker(app.clone())
        });
        Serving { server, worker }
    }

    /// Stops the worker (lanes already running finish their batch) and the server.
    fn stop(self) {
        if let Some(w) = self.worker {
            w.abort();
        }
        self.server.stop();
    }
}

/// The store's application, allowed to post to loopback receivers.
fn allow_loopback(store: &mut FreshStore) {
    store.app = store.app.clone().with_webhook_options(WebhookOptions {
        allow_private: true,
        ..WebhookOptions::default()
    });
}

/// Creates an endpoint subscribed to every event, pointing at `url`.
fn add_endpoint(rt: &Runtime, app: &App, t: &BenchTenant, url: &str) {
    let ep = rt
        .block_on(flexportal_app::webhooks::create(
            app,
            &t.ctx,
            &json!({"url": url, "events": []}),
        ))
        .expect("create the webhook endpoint");
    assert!(ep.secret.starts_with("whsec_"), "the endpoint has a secret");
}

/// `POST /v1/subscriptions` of every unit.
fn fulfil_posts(units: &Units) -> Vec<Post> {
    units
        .units
        .iter()
        .map(|u| Post {
            path: "/v1/subscriptions".into(),
            body: Bytes::from(
                json!({"orderId": u.order.order.order_id, "assetSerialNumber": u.serial})
                    .to_string(),
            ),
        })
        .collect()
}

/// Deliveries of the business unit by status: (all, delivered, pending, failed, attempts).
async fn delivery_counts(app: &App, tenant: &str) -> (i64, i64, i64, i64, i64) {
    (
        count_rows(app, "webhook_deliveries", tenant, "").await,
        count_rows(
            app,
            "webhook_deliveries",
            tenant,
            "AND status = 'delivered'",
        )
        .await,
        pending(app, tenant).await,
        count_rows(app, "webhook_deliveries", tenant, "AND status = 'failed'").await,
        count_rows(app, "webhook_attempts", tenant, "").await,
    )
}

/// Pending deliveries of the business unit.
async fn pending(app: &App, tenant: &str) -> i64 {
    count_rows(app, "webhook_deliveries", tenant, "AND status = 'pending'").await
}

/// The delivery ids stored for the business unit.
async fn stored_ids(app: &App, tenant: &str) -> HashSet<String> {
    let mut c = app.db.read().await.expect("read connection");
    c.fetch_all_sql::<String>(&format!(
        "SELECT delivery_id FROM webhook_deliveries WHERE tenant_id = '{tenant}'"
    ))
    .await
    .expect("read delivery ids")
    .into_iter()
    .collect()
}

/// Waits (up to 30 s) for the store to record every delivery as attempted (the worker records a
/// batch after its receiver answered), then prints the store's counts and whether the receiver
/// got exactly the stored delivery ids, once each. Returns whether everything matched: every
/// delivery delivered at its first attempt, each id received once.
fn check_deliveries(rt: &Runtime, app: &App, tenant: &str, receiver: &Receiver) -> bool {
    // Counted once nothing is pending any more (each count is its own statement).
    let started = Instant::now();
    while rt.block_on(pending(app, tenant)) > 0 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (all, delivered, pending, failed, attempts) = rt.block_on(delivery_counts(app, tenant));
    let requests = receiver.requests();
    let received = receiver.take_ids();
    let stored = rt.block_on(stored_ids(app, tenant));
    let same = received == stored;
    let ok = same
        && requests == received.len()
        && delivered == all
        && pending == 0
        && failed == 0
        && attempts == all;
    println!(
        "  check: store {all} deliveries ({delivered} delivered, {pending} pending, {failed} \
         failed, {attempts} attempts); receiver {} distinct webhook-ids in {requests} requests, \
         {} the stored delivery ids: {}",
        received.len(),
        if same { "exactly" } else { "NOT" },
        if ok { "ok" } else { "MISMATCH" }
    );
    ok
}

/// Lags of the receiver's requests (arrival wall time − envelope `timestamp`), sorted; requests
/// without a readable timestamp are counted apart, negative lags (clock stepped) count as zero.
fn lags(hits: &[Hit]) -> (Vec<Duration>, usize) {
    let mut out: Vec<Duration> = hits
        .iter()
        .filter_map(|h| h.lag_us)
        .map(|us| Duration::from_micros(us.max(0).unsigned_abs()))
        .collect();
    out.sort_unstable();
    let unreadable = hits.len() - out.len();
    (out, unreadable)
}

/// Prints `{label}: p50 … ms, p99 … ms, max … ms over … deliveries` of the receiver's lags (and
/// how many had no readable timestamp); returns the sorted lags and that count.
fn print_lags(label: &str, receiver: &Receiver) -> (Vec<Duration>, usize) {
    let (sorted, unreadable) = lags(&receiver.hits());
    println!(
        "{label}: p50 {} ms, p99 {} ms, max {} ms over {} deliveries{}",
        ms(percentile(&sorted, 50.0)),
        ms(percentile(&sorted, 99.0)),
        ms(sorted.last().copied().unwrap_or(Duration::ZERO)),
        sorted.len(),
        if unreadable > 0 {
            format!(" ({unreadable} without a readable timestamp)")
        } else {
            String::new()
        }
    );
    (sorted, unreadable)
}

// ---------------------------------------------------------------------------------------------
// Phase 1: fulfilment with and without an endpoint; phase 2: delivery alone.

/// The figures of phase 1.
struct FulfilFigures {
    without: f64,
    with: f64,
    /// The median of the rounds' ratios.
    ratio: f64,
    deliveries: i64,
    drain: Option<Duration>,
    throughput: Option<f64>,
    /// With `--split`: the rate with the endpoint and the worker started after the load, and its
    /// ratio to the rate without (medians of the rounds).
    deferred: Option<(f64, f64)>,
    ok: bool,
}

/// The figures of phase 2.
struct QueueFigures {
    queued: i64,
    took: Option<Duration>,
    ok: bool,
}

/// Sends every fulfilment over `connections` connections to a server on `store` (worker
/// running); returns the summary and the instants the load started and ended.
fn fulfil_load(
    rt: &Runtimes,
    serving: &Serving,
    units: &Units,
    connections: usize,
) -> (WorkSummary, Instant, Instant) {
    let target = Arc::new(Target::new(
        serving.server.addr,
        auth_headers(&units.tenant),
    ));
    let posts = Arc::new(fulfil_posts(units));
    let started = Instant::now();
    let w = rt.client.block_on(loadgen::work_queue(
        target,
        posts,
        connections,
        StatusCode::CREATED,
    ));
    (w, started, Instant::now())
}

fn print_load(label: &str, w: &WorkSummary, connections: usize) {
    let s = &w.summary;
    println!(
        "{label} (POST /v1/subscriptions, {connections} connections): {} created (201), {} \
         errors in {:.2} s = {:.0} fulfilments/s; p50 {} ms, p99 {} ms",
        w.succeeded,
        s.errors,
        s.elapsed.as_secs_f64(),
        rate(w.succeeded, s.elapsed),
        ms(s.p50),
        ms(s.p99)
    );
    if let Some(e) = &w.first_error {
        println!("  first error: {e}");
    }
}

/// The diagnostic side of phase 1 (`--split`): the endpoint, no worker during the load, then
/// the worker until the receiver has every delivery. Returns the fulfilment rate and whether the
/// checks passed.
fn deferred_side(
    args: &WebhooksArgs,
    rt: &Runtimes,
    mut store: FreshStore,
    units: &Units,
) -> (f64, bool) {
    allow_loopback(&mut store);
    let receiver = rt.receiver.block_on(Receiver::start());
    add_endpoint(&rt.server, &store.app, &units.tenant, &receiver.url);
    let serving = Serving::start(&rt.server, &store.app, false);
    let (w, _, _) = fulfil_load(rt, &serving, units, args.connections);
    print_load(
        "with endpoint, no worker during the load",
        &w,
        args.connections,
    );
    let tenant = units.tenant.ctx.tenant_id.clone();
    let deliveries = rt
        .server
        .block_on(count_rows(&store.app, "webhook_deliveries", &tenant, ""));
    let started = Instant::now();
    let worker = {
        let _guard = rt.server.enter();
        delivery::spawn_worker(store.app.clone())
    };
    let last = receiver.wait_for(
        deliveries as usize,
        Duration::from_secs(args.drain_timeout_seconds),
    );
    match last {
        Some(l) => println!(
            "  worker started after the load: {deliveries} deliveries received in {:.2} s",
            l.duration_since(started).as_secs_f64()
        ),
        None => println!(
            "  worker started after the load: NOT complete: {} of {deliveries} received",
            receiver.distinct()
        ),
    }
    let ok = w.summary.errors == 0
        && last.is_some()
        && deliveries == (w.succeeded as usize * EVENTS_PER_FULFILMENT) as i64
        && check_deliveries(&rt.server, &store.app, &tenant, &receiver);
    worker.abort();
    serving.stop();
    receiver.stop();
    rt.server.block_on(store.destroy());
    (rate(w.succeeded, w.summary.elapsed), ok)
}

/// The figures of phase 3.
struct LagFigures {
    fulfilments: u64,
    sent_rate: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    ok: bool,
}

/// The figures of phase 4.
struct KeyFigures {
    /// Orders per second without keys (median of the rounds).
    without: f64,
    /// Orders per second with keys (median of the rounds).
    with: f64,
    /// Median of the rounds' ratios.
    ratio: f64,
    ok: bool,
}

// ---------------------------------------------------------------------------------------------

/// Runs the scenario and prints its figures.
pub fn run(args: WebhooksArgs) {
    assert!(args.rate > 0.0, "--rate must be positive");
    let (server, server_threads) = http::server_runtime(args.server_threads);
    let rt = Runtimes {
        server,
        server_threads,
        client: http::client_runtime(args.client_threads),
        receiver: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("receiver")
            .enable_all()
            .build()
            .expect("receiver runtime"),
    };
    println!(
        "== webhooks: engine {}, {} fulfilments, {} connections, paced {} /s for {} s, {} orders \
         (server {} threads with the delivery worker, load generator {} threads, receiver 1 \
         thread; load average {}) ==",
        args.engine.name(),
        args.fulfilments,
        args.connections,
        args.rate,
        args.paced_seconds,
        args.orders,
        rt.server_threads,
        args.client_threads,
        crate::load_average()
    );
    let dir = TempDir::new();
    let (first, second) = if args.phases.contains(&1) || args.phases.contains(&2) {
        fulfil_phases(&args, &rt, &dir)
    } else {
        (None, None)
    };
    let third = args
        .phases
        .contains(&3)
        .then(|| lag_phase(&args, &rt, &dir));
    let fourth = args
        .phases
        .contains(&4)
        .then(|| key_phase(&args, &rt, &dir));
    drop(dir);

    let verdict = |ok: bool| if ok { "ok" } else { "MISMATCH" };
    let met = |r: f64| if r >= 0.8 { "met" } else { "NOT met" };
    let secs =
        |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{:.2}", d.as_secs_f64()));
    println!();
    println!("summary ({}):", args.engine.name());
    if let Some(f) = first {
        let r = f.ratio;
        println!(
            "  1 fulfilments/s without {:.0}, with endpoint {:.0} (medians of {} rounds): ratio \
             {r:.2} (target ≥ 0.8: {}); \
             {} deliveries, drain {} s, {} deliveries/s overall; checks {}",
            f.without,
            f.with,
            args.rounds.max(1),
            met(r),
            f.deliveries,
            secs(f.drain),
            f.throughput.map_or("-".to_string(), |t| format!("{t:.0}")),
            verdict(f.ok)
        );
        if let Some((d, r)) = f.deferred {
            println!(
                "    with endpoint, worker started after the load (--split) {d:.0}: median ratio \
                 {r:.2}"
            );
        }
    }
    if let Some(q) = second {
        println!(
            "  2 delivery alone: {} deliveries in {} s = {} deliveries/s; checks {}",
            q.queued,
            secs(q.took),
            q.took.map_or("-".to_string(), |t| format!(
                "{:.0}",
                rate(q.queued as u64, t)
            )),
            verdict(q.ok)
        );
    }
    if let Some(l) = third {
        println!(
            "  3 lag at {:.1} fulfilments/s ({} fulfilments): p50 {} ms, p99 {} ms, max {} ms; \
             checks {}",
            l.sent_rate,
            l.fulfilments,
            ms(l.p50),
            ms(l.p99),
            ms(l.max),
            verdict(l.ok)
        );
    }
    if let Some(k) = fourth {
        let r = k.ratio;
        println!(
            "  4 orders/s without key {:.0}, with Idempotency-Key {:.0} (medians of the rounds): \
             ratio {r:.2} (target ≥ 0.8: {}); checks {}",
            k.without,
            k.with,
            met(r),
            verdict(k.ok)
        );
    }
}
