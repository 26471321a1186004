//! Webhook delivery (SPEC §2.11): a worker inside `serve` posts each pending delivery to its
//! endpoint, signed, and records every attempt.
//!
//! Work is taken per endpoint: a *lane* holds a lease on one endpoint (of several processes on
//! one store one serves an endpoint at a time, so each delivery goes to one), reads up to
//! [`WebhookOptions::batch`] of its due deliveries, posts them concurrently, records the results
//! in one transaction, and renews the lease for the next batch. Each endpoint has at most one lane,
//! and lanes run side by side, so a slow or failing endpoint never delays the others. A process
//! killed during an attempt leaves the endpoint to be taken again when the lease ends, and the
//! deliveries it had not recorded are sent again (at least once; receivers deduplicate by
//! `X-FlexPortal-Delivery` / `webhook-id`). A success brings the endpoint's waiting retries
//! forward, so a receiver that comes back gets its backlog at once.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flexportal_store::webhooks::{self, AttemptRecord, DeliveryRecord, EndpointRecord};
use futures_util::StreamExt;
use futures_util::future::join_all;

use crate::App;
use crate::error::AppResult;
use crate::webhooks::{
    check_url, flexportal_signature, is_public, next_attempt, standard_signature,
};

/// Requests in flight to one endpoint at a time.
pub const PARALLEL: usize = 16;

/// The worker looks for due deliveries at most this often, however many commits wake it.
const PROBE_INTERVAL: Duration = Duration::from_millis(10);

/// API requests in flight in this process, which the delivery worker yields to: deliveries are
/// asynchronous, requests have a caller waiting. While at least [`Foreground::busy_at`] requests
/// run, a lane rests after each batch for as long as the batch took, so that under a load that
/// fills the cores delivery takes at most about half of the time it would otherwise take from the
/// requests (it goes on meanwhile, at a lower rate, and catches up at full speed once the load
/// falls). Counted by the API's gate around every `/v1` operation.
#[derive(Debug)]
pub struct Foreground {
    in_flight: AtomicUsize,
    busy_at: usize,
}

impl Default for Foreground {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Foreground {
            in_flight: AtomicUsize::new(0),
            busy_at: (2 * cores).max(4),
        }
    }
}

impl Foreground {
    /// Counts a request in flight until the guard drops.
    pub fn enter(self: &Arc<Self>) -> ForegroundGuard {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        ForegroundGuard(self.clone())
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Requests in flight from which the worker yields: twice the cores, at least 4.
    pub fn busy_at(&self) -> usize {
        self.busy_at
    }

    /// Whether the worker yields now.
    pub fn busy(&self) -> bool {
        self.in_flight() >= self.busy_at
    }
}

/// One request in flight (see [`Foreground::enter`]).
#[derive(Debug)]
pub struct ForegroundGuard(Arc<Foreground>);

impl Drop for ForegroundGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Whether endpoints on loopback and private networks (and `http`) are allowed
    /// (`FLEXPORTAL_WEBHOOK_ALLOW_PRIVATE=1`; development and tests).
    pub allow_private: bool,
    /// Timeout of one attempt (SPEC §2.11: 10 s; `FLEXPORTAL_WEBHOOK_TIMEOUT_SECS`).
    pub timeout: Duration,
    /// Deliveries of one endpoint claimed together at most (a lane starts with one round of
    /// [`PARALLEL`] and doubles up to this while the endpoint answers in time).
    pub batch: u64,
    /// How often the worker looks for due deliveries without being told of new ones (new ones
    /// committed by this process wake it at once).
    pub poll: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            allow_private: false,
            timeout: Duration::from_secs(10),
            batch: 256,
            poll: Duration::from_secs(1),
        }
    }
}

impl WebhookOptions {
    /// The defaults, changed by `FLEXPORTAL_WEBHOOK_ALLOW_PRIVATE=1` and
    /// `FLEXPORTAL_WEBHOOK_TIMEOUT_SECS`.
    pub fn from_env() -> Self {
        let mut o = WebhookOptions {
            allow_private: std::env::var("FLEXPORTAL_WEBHOOK_ALLOW_PRIVATE")
                .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes")),
            ..WebhookOptions::default()
        };
        if let Some(secs) = std::env::var("FLEXPORTAL_WEBHOOK_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
        {
            o.timeout = Duration::from_secs(secs);
        }
        o
    }

    /// How long a lane's lease on its endpoint lasts for a batch of `limit` deliveries, in
    /// milliseconds: one attempt timeout per round of [`PARALLEL`] requests, and 5 seconds to
    /// record the results.
    pub fn lease_ms(&self, limit: u64) -> i64 {
        let rounds = limit.div_ceil(PARALLEL as u64).max(1);
        i64::try_from(self.timeout.as_millis())
            .unwrap_or(i64::MAX / 4)
            .saturating_mul(i64::try_from(rounds).unwrap_or(i64::MAX))
            .saturating_add(5_000)
    }
}

/// Resolves names to their public addresses only: a name that resolves to a private or loopback
/// address is not called (a DNS answer cannot turn a webhook into a request to the inside).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<std::net::SocketAddr> = addrs.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// The HTTP client of webhook attempts: the attempt timeout, no redirects (a receiver answers
/// where it is), and, unless private targets are allowed, public addresses only.
pub fn client(options: &WebhookOptions) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("FlexPortal-Webhooks/", env!("CARGO_PKG_VERSION")));
    if !options.allow_private {
        b = b.dns_resolver(Arc::new(PublicOnly));
    }
    b.build().unwrap_or_else(|_| reqwest::Client::new())
}

/// What a run of deliveries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRun {
    /// Attempts made.
    pub attempted: u64,
    /// Attempts that succeeded (2xx).
    pub delivered: u64,
}

struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    latency_ms: i64,
}

/// Posts one delivery: the payload with the SPEC §2.11 headers and the Standard Webhooks ones.
async fn attempt(
    client: &reqwest::Client,
    allow_private: bool,
    ep: &EndpointRecord,
    d: &DeliveryRecord,
    payload: &str,
    now: i64,
) -> Outcome {
    let started = Instant::now();
    if let Err(e) = check_url(&ep.url, allow_private) {
        return Outcome {
            status: None,
            error: Some(e),
            latency_ms: 0,
        };
    }
    let ts = now.div_euclid(1000);
    let body = payload.as_bytes();
    let sent = client
        .post(&ep.url)
        .header("content-type", "application/json")
        .header("x-flexportal-event", &d.event_type)
        .header("x-flexportal-delivery", &d.delivery_id)
        .header(
            "x-flexportal-signature",
            flexportal_signature(&ep.secret, body),
        )
        .header("webhook-id", &d.delivery_id)
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            standard_signature(&ep.secret, &d.delivery_id, ts, body),
        )
        .body(payload.to_string())
        .send()
        .await;
    let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    match sent {
        Ok(r) if r.status().is_success() => Outcome {
            status: Some(r.status().as_u16()),
            error: None,
            latency_ms,
        },
        Ok(r) => Outcome {
            status: Some(r.status().as_u16()),
            error: Some(format!("HTTP {}", r.status().as_u16())),
            latency_ms,
        },
        Err(e) => {
            let kind = if e.is_timeout() {
                "timeout"
            } else {
                "connection failed"
            };
            let mut text = format!("{kind}: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            Outcome {
                status: None,
                error: Some(text),
                latency_ms,
            }
        }
    }
}

/// Settings of the worker's own transactions (lanes, results) on PostgreSQL, for this
/// transaction only: they commit without waiting for the disk (`synchronous_commit = off`: a
/// crash may forget the last few, which only sends those deliveries again — at least once
/// either way, and receivers deduplicate by delivery id), and their statements are planned with
/// their values (`force_custom_plan`: the outbox grows and empties fast, and a generic plan made
/// while it was small may scan it whole later).
async fn bookkeeping(tx: &mut flexportal_store::Conn) -> AppResult<()> {
    if tx.engine() == flexportal_store::Engine::Postgres {
        tx.batch(
            "SET LOCAL synchronous_commit = off; SET LOCAL plan_cache_mode = force_custom_plan",
        )
        .await?;
    }
    Ok(())
}

/// Serves one endpoint until it has nothing due: take its lane, read a batch, post it, record
/// it.
async fn lane(
    app: &App,
    client: &reqwest::Client,
    tenant_id: &str,
    endpoint_id: &str,
) -> AppResult<DeliveryRun> {
    let opts = &app.webhook_options;
    // This lane's name on the endpoint's lease.
    let owner = flexportal_domain::ids::random_token(20);
    let mut run = DeliveryRun::default();
    // Slow start: one round of PARALLEL at first, doubling up to `batch` while the endpoint
    // answers every request in time, so a slow endpoint holds few deliveries per lease.
    let mut limit = PARALLEL as u64;
    loop {
        let started = tokio::time::Instant::now();
        let now = app.now();
        let lease = now.saturating_add(opts.lease_ms(limit));
        // Take (or renew) the endpoint's lane, then read its next batch; with nothing due, let
        // the lane go. Another worker holding it, or the endpoint disabled or removed: done.
        let taken = crate::transact!(app, |tx| async {
            bookkeeping(tx).await?;
            let Some(ep) =
                webhooks::take_lane(tx, tenant_id, endpoint_id, &owner, now, lease).await?
            else {
                return AppResult::Ok(None);
            };
            let due = webhooks::due_deliveries(tx, tenant_id, endpoint_id, now, limit).await?;
            if due.is_empty() {
                webhooks::release_lane(tx, tenant_id, endpoint_id, &owner).await?;
                return AppResult::Ok(None);
            }
            AppResult::Ok(Some((ep, due)))
        })?;
        let Some((ep, claimed)) = taken else {
            return Ok(run);
        };
        let sent_at = app.now();
        // At most PARALLEL requests to one endpoint at a time, in claim order.
        let ep = Arc::new(ep);
        let sends: Vec<_> = claimed
            .iter()
            .map(|d| {
                let (client, ep, d) = (client.clone(), ep.clone(), d.clone());
                let allow_private = opts.allow_private;
                async move { attempt(&client, allow_private, &ep, &d, &d.payload, sent_at).await }
            })
            .collect();
        let outcomes: Vec<Outcome> = futures_util::stream::iter(sends)
            .buffered(PARALLEL)
            .collect()
            .await;
        let done = app.now();
        let mut rows = Vec::with_capacity(claimed.len());
        let mut any_success = false;
        for (mut d, o) in claimed.into_iter().zip(outcomes) {
            d.attempts += 1;
            d.last_attempt_at = Some(sent_at);
            d.last_status_code = o.status.map(i64::from);
            if o.error.is_none() {
                any_success = true;
                d.status = "delivered".into();
                d.delivered_at = Some(done);
                d.last_error = None;
            } else {
                match next_attempt(d.attempts, d.created_at, done) {
                    Some(at) => d.next_attempt_at = at,
                    None => d.status = "failed".into(),
                }
                d.last_error.clone_from(&o.error);
            }
            let a = AttemptRecord {
                tenant_id: d.tenant_id.clone(),
                delivery_id: d.delivery_id.clone(),
                attempt: d.attempts,
                attempted_at: sent_at,
                status_code: d.last_status_code,
                latency_ms: o.latency_ms,
                error: o.error,
            };
            rows.push((d, a));
        }
        run.attempted += rows.len() as u64;
        run.delivered += rows.iter().filter(|(d, _)| d.status == "delivered").count() as u64;
        crate::transact!(app, |tx| async {
            bookkeeping(tx).await?;
            webhooks::record_attempts(tx, tenant_id, &rows, done).await?;
            if any_success {
                webhooks::bring_forward(tx, tenant_id, endpoint_id, done).await?;
            }
            AppResult::Ok(())
        })?;
        if app.foreground.busy() {
            tokio::time::sleep(started.elapsed()).await;
        }
        let healthy = rows.iter().all(|(d, a)| {
            d.status == "delivered"
                && u128::from(a.latency_ms.unsigned_abs()) * 2 < opts.timeout.as_millis()
        });
        limit = if healthy {
            limit.saturating_mul(2).min(opts.batch.max(1))
        } else {
            PARALLEL as u64
        };
    }
}

/// The pairs (business unit, endpoint) with deliveries due now, of one business unit or all.
async fn due(app: &App, tenant_id: Option<&str>) -> AppResult<Vec<(String, String)>> {
    let mut c = app.db.read().await?;
    Ok(webhooks::due_endpoints(&mut c, tenant_id, app.now(), 1_000).await?)
}

/// Delivers everything due now in one business unit (or all with `None`), every endpoint side
/// by side, until nothing is due (attempts that fail are due again only later). For the CLI
/// and tests; `serve` runs [`spawn_worker`].
pub async fn deliver_due(app: &App, tenant_id: Option<&str>) -> AppResult<DeliveryRun> {
    let client = app.webhook_client();
    let mut total = DeliveryRun::default();
    loop {
        let pairs = due(app, tenant_id).await?;
        if pairs.is_empty() {
            return Ok(total);
        }
        let runs = join_all(pairs.iter().map(|(t, e)| lane(app, &client, t, e))).await;
        let mut round = DeliveryRun::default();
        for r in runs {
            let r = r?;
            round.attempted += r.attempted;
            round.delivered += r.delivered;
        }
        total.attempted += round.attempted;
        total.delivered += round.delivered;
        if round.attempted == 0 {
            return Ok(total);
        }
    }
}

/// Starts the delivery worker: it wakes when this process commits deliveries, when a lane ends,
/// and every [`WebhookOptions::poll`], and starts a lane for each endpoint with due deliveries
/// that has none running.
pub fn spawn_worker(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = app.webhook_client();
        let running: Arc<Mutex<HashSet<(String, String)>>> = Arc::default();
        let lane_ended = Arc::new(tokio::sync::Notify::new());
        let signal = app.db.outbox_signal();
        loop {
            match due(&app, None).await {
                Ok(pairs) => {
                    for pair in pairs {
                        if !running
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(pair.clone())
                        {
                            continue;
                        }
                        let (app, client, running, ended) = (
                            app.clone(),
                            client.clone(),
                            running.clone(),
                            lane_ended.clone(),
                        );
                        tokio::spawn(async move {
                            if let Err(e) = lane(&app, &client, &pair.0, &pair.1).await {
                                tracing::warn!(error = ?e, endpoint = %pair.1, "webhook lane failed");
                            }
                            running
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .remove(&pair);
                            ended.notify_one();
                        });
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "looking for due webhook deliveries failed"),
            }
            let probed = tokio::time::Instant::now();
            tokio::select! {
                _ = signal.notified() => {}
                _ = lane_ended.notified() => {}
                _ = tokio::time::sleep(app.webhook_options.poll) => {}
            }
            // Commits that come in a stream share one look: at most one per PROBE_INTERVAL
            // (a lane already running takes their deliveries anyway).
            tokio::time::sleep_until(probed + PROBE_INTERVAL).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_yields_while_enough_requests_are_in_flight() {
        let f = Arc::new(Foreground::default());
        assert!(f.busy_at() >= 4);
        let mut guards: Vec<_> = (0..f.busy_at() - 1).map(|_| f.enter()).collect();
        assert!(!f.busy());
        guards.push(f.enter());
        assert!(f.busy());
        assert_eq!(f.in_flight(), f.busy_at());
        guards.pop();
        assert!(!f.busy(), "an answered request no longer counts");
        drop(guards);
        assert_eq!(f.in_flight(), 0);
    }
}
