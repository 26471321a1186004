//! Load generator: keep-alive HTTP/1.1 connections (raw hyper client connections) to a server on
//! this machine. A closed-loop run keeps N connections busy for a fixed time (or, with
//! [`closed_loop_while`], until a flag is cleared, keeping when each answer came), each sending its
//! next request as soon as the previous answer is read; a sequential run sends requests one by one
//! on a single connection. A work-queue run sends a fixed list of requests (e.g. `POST`s that
//! each create something once) over N connections, each taking the next request from a shared
//! counter until the list is exhausted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpStream;

use crate::stats::Summary;

type Sender = SendRequest<Full<Bytes>>;
type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Where requests go and the headers every request carries.
#[derive(Debug, Clone)]
pub struct Target {
    /// Server address; only loopback addresses are accepted.
    pub addr: SocketAddr,
    /// Extra headers (`Authorization`, `Tenant-ID`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Target {
    /// A target at `addr` with `headers`. Panics unless `addr` is a loopback address: load is
    /// only ever sent to this machine.
    pub fn new(addr: SocketAddr, headers: Vec<(HeaderName, HeaderValue)>) -> Target {
        assert!(
            addr.ip().is_loopback(),
            "load is only sent to loopback addresses"
        );
        Target { addr, headers }
    }
}

/// The path of each request of a run.
#[derive(Debug, Clone)]
pub enum Paths {
    /// The same path every time.
    Fixed(String),
    /// Paths drawn in advance (see [`Paths::random_suffix`]).
    Drawn(Arc<Drawn>),
}

/// Paths drawn at random before a run, one after another in one buffer: a connection takes them
/// in order from its own starting point, so taking the next path is a sequential read, as for
/// [`Paths::Fixed`]. Drawing during the run would cost the load generator, on the cores it shares
/// with the server, cache misses into the whole set of serial numbers that a fixed path does not
/// cost, and so weigh on the measured side of a comparison with a fixed path.
#[derive(Debug)]
pub struct Drawn {
    /// The paths, concatenated.
    bytes: String,
    /// Where each path ends in `bytes`.
    ends: Vec<usize>,
}

/// Paths drawn for a [`Paths::Drawn`] (more than the requests of a 10-second run at 64
/// connections on these machines, so a connection seldom comes back to its first path).
const DRAWS: usize = 1 << 20;

impl Paths {
    /// `prefix` followed by one of `suffixes` drawn at random (with replacement) for each
    /// request, drawn now from `seed`. Panics when `suffixes` is empty.
    pub fn random_suffix(prefix: &str, suffixes: &[String], seed: u64) -> Paths {
        assert!(!suffixes.is_empty(), "nothing to draw from");
        let mut rng = StdRng::seed_from_u64(seed);
        let mut bytes = String::new();
        let mut ends = Vec::with_capacity(DRAWS);
        for _ in 0..DRAWS {
            bytes.push_str(prefix);
            bytes.push_str(&suffixes[rng.random_range(0..suffixes.len())]);
            ends.push(bytes.len());
        }
        Paths::Drawn(Arc::new(Drawn { bytes, ends }))
    }

    /// Where a connection seeded with `seed` starts in the paths.
    fn start(&self, seed: u64) -> usize {
        match self {
            Paths::Fixed(_) => 0,
            Paths::Drawn(d) => StdRng::seed_from_u64(seed).random_range(0..d.ends.len()),
        }
    }

    /// The path at `cursor`, which then moves to the next.
    fn next(&self, cursor: &mut usize) -> &str {
        match self {
            Paths::Fixed(p) => p,
            Paths::Drawn(d) => {
                let i = *cursor % d.ends.len();
                *cursor = i + 1;
                let from = if i == 0 { 0 } else { d.ends[i - 1] };
                &d.bytes[from..d.ends[i]]
            }
        }
    }
}

/// One answered request.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Body bytes.
    pub body: Bytes,
    /// Time from sending the request to the end of the body.
    pub latency: Duration,
}

/// A keep-alive connection to the target.
pub struct Connection {
    target: Arc<Target>,
    host: HeaderValue,
    sender: Sender,
}

impl Connection {
    /// Opens a connection (TCP_NODELAY, HTTP/1.1 handshake).
    pub async fn open(target: Arc<Target>) -> Result<Connection, AnyError> {
        let stream = TcpStream::connect(target.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let host = HeaderValue::from_str(&target.addr.to_string())?;
        Ok(Connection {
            target,
            host,
            sender,
        })
    }

    /// Sends `GET path` and reads the whole answer.
    pub async fn get(&mut self, path: &str) -> Result<Answer, AnyError> {
        self.send(Method::GET, path, None).await
    }

    /// Sends `POST path` with a JSON body and reads the whole answer.
    pub async fn post_json(&mut self, path: &str, body: Bytes) -> Result<Answer, AnyError> {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        json: Option<Bytes>,
    ) -> Result<Answer, AnyError> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.host.clone());
        for (k, v) in &self.target.headers {
            req = req.header(k, v);
        }
        let body = match json {
            Some(b) => {
                req = req.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                b
            }
            None => Bytes::new(),
        };
        let req = req.body(Full::new(body))?;
        self.sender.ready().await?;
        let started = Instant::now();
        let resp = self.sender.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            body,
            latency: started.elapsed(),
        })
    }
}

/// When the connections of a closed-loop run stop sending.
#[derive(Clone)]
enum Until {
    /// At this instant.
    Deadline(Instant),
    /// When this flag is cleared.
    Cleared(Arc<AtomicBool>),
}

impl Until {
    fn running(&self) -> bool {
        match self {
            Until::Deadline(d) => Instant::now() < *d,
            Until::Cleared(flag) => flag.load(Ordering::Relaxed),
        }
    }
}

/// One answered request of a closed-loop run.
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// When the answer was read, from the start of the run.
    pub at: Duration,
    /// Time from sending the request to the end of the body.
    pub latency: Duration,
}

/// What one connection of a closed-loop run measured.
#[derive(Default)]
struct Tally {
    answers: Vec<Timed>,
    /// When each failure (a non-200 answer or a transport error) happened, from the start.
    failures: Vec<Duration>,
}

async fn drive(
    target: Arc<Target>,
    paths: Arc<Paths>,
    until: Until,
    started: Instant,
    seed: u64,
) -> Tally {
    let mut cursor = paths.start(seed);
    let mut tally = Tally::default();
    let mut conn: Option<Connection> = None;
    while until.running() {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Connection::open(target.clone()).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    tally.failures.push(started.elapsed());
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        match c.get(paths.next(&mut cursor)).await {
            Ok(a) => {
                let at = started.elapsed();
                if a.status != StatusCode::OK {
                    tally.failures.push(at);
                }
                tally.answers.push(Timed {
                    at,
                    latency: a.latency,
                });
            }
            Err(_) => {
                tally.failures.push(started.elapsed());
                conn = None;
            }
        }
    }
    tally
}

/// Runs `connections` connections until `until` says stop and gathers what they measured (a
/// request in flight at the end is still awaited and counted).
async fn run_closed_loop(
    target: Arc<Target>,
    paths: Paths,
    connections: usize,
    until: Until,
) -> Timeline {
    let paths = Arc::new(paths);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..connections {
        tasks.spawn(drive(
            target.clone(),
            paths.clone(),
            until.clone(),
            started,
            i as u64 + 1,
        ));
    }
    let mut t = Tally::default();
    while let Some(x) = tasks.join_next().await {
        let x = x.expect("load task");
        t.answers.extend(x.answers);
        t.failures.extend(x.failures);
    }
    Timeline {
        answers: t.answers,
        failures: t.failures,
        elapsed: started.elapsed(),
    }
}

/// Keeps `connections` connections busy with requests for `duration` and summarises every
/// request answered (a request in flight at the deadline is still awaited and counted).
pub async fn closed_loop(
    target: Arc<Target>,
    paths: Paths,
    connections: usize,
    duration: Duration,
) -> Summary {
    let until = Until::Deadline(Instant::now() + duration);
    run_closed_loop(target, paths, connections, until)
        .await
        .summary()
}

/// Every request of a closed-loop run with the time it was answered.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// Every answered request (any status), in no particular order.
    pub answers: Vec<Timed>,
    /// When each failure (a non-200 answer or a transport error) happened, from the start.
    pub failures: Vec<Duration>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Timeline {
    /// Summarises the whole run.
    pub fn summary(&self) -> Summary {
        let latencies = self.answers.iter().map(|a| a.latency).collect();
        Summary::from_latencies(latencies, self.failures.len() as u64, self.elapsed)
    }

    /// Summarises the requests answered in `[from, to)` (failures likewise) over that interval
    /// (cut at the end of the run).
    pub fn window(&self, from: Duration, to: Duration) -> Summary {
        let inside = |at: &Duration| (from..to).contains(at);
        let latencies = self
            .answers
            .iter()
            .filter(|a| inside(&a.at))
            .map(|a| a.latency)
            .collect();
        let errors = self.failures.iter().filter(|at| inside(at)).count() as u64;
        Summary::from_latencies(latencies, errors, to.min(self.elapsed).saturating_sub(from))
    }
}

/// Keeps `connections` connections busy with requests while `running` is set and returns every
/// request with the time it was answered (a request in flight when the flag is cleared is still
/// awaited and counted).
pub async fn closed_loop_while(
    target: Arc<Target>,
    paths: Paths,
    connections: usize,
    running: Arc<AtomicBool>,
) -> Timeline {
    run_closed_loop(target, paths, connections, Until::Cleared(running)).await
}

/// Sends the `paths` in turn, `rounds` times, on one connection, and summarises each path's
/// latencies (index as in `paths`).
pub async fn sequential(target: Arc<Target>, paths: &[String], rounds: usize) -> Vec<Summary> {
    let mut conn = Connection::open(target).await.expect("connect");
    let mut lat: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); paths.len()];
    let mut errors = vec![0u64; paths.len()];
    let started = Instant::now();
    for _ in 0..rounds {
        for (i, p) in paths.iter().enumerate() {
            let a = conn.get(p).await.expect("sequential request");
            if a.status != StatusCode::OK {
                errors[i] += 1;
            }
            lat[i].push(a.latency);
        }
    }
    let elapsed = started.elapsed();
    lat.into_iter()
        .zip(errors)
        .map(|(l, e)| Summary::from_latencies(l, e, elapsed))
        .collect()
}

/// One request of a work-queue run: `POST path` with a JSON body.
#[derive(Debug, Clone)]
pub struct Post {
    /// Path, e.g. `/v1/subscriptions`.
    pub path: String,
    /// JSON body.
    pub body: Bytes,
}

/// What a work-queue run measured.
#[derive(Debug, Clone)]
pub struct WorkSummary {
    /// Latencies of every answered request (any status), errors and wall time.
    pub summary: Summary,
    /// Requests answered with `expected`.
    pub succeeded: u64,
    /// The first unexpected answer (`status body`) or transport error, if any.
    pub first_error: Option<String>,
}

#[derive(Default)]
struct WorkTally {
    latencies: Vec<Duration>,
    errors: u64,
    succeeded: u64,
    first_error: Option<String>,
}

async fn work(
    target: Arc<Target>,
    mut conn: Option<Connection>,
    posts: Arc<Vec<Post>>,
    next: Arc<AtomicUsize>,
    expected: StatusCode,
) -> WorkTally {
    let mut tally = WorkTally::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(p) = posts.get(i) else { break };
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Connection::open(target.clone()).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    tally.errors += 1;
                    tally
                        .first_error
                        .get_or_insert_with(|| format!("connect: {e}"));
                    continue;
                }
            },
        };
        match c.post_json(&p.path, p.body.clone()).await {
            Ok(a) => {
                if a.status == expected {
                    tally.succeeded += 1;
                } else {
                    tally.errors += 1;
                    tally.first_error.get_or_insert_with(|| {
                        format!("{} {}", a.status, String::from_utf8_lossy(&a.body))
                    });
                }
                tally.latencies.push(a.latency);
            }
            Err(e) => {
                tally.errors += 1;
                tally
                    .first_error
                    .get_or_insert_with(|| format!("transport: {e}"));
                conn = None;
            }
        }
    }
    tally
}

/// Sends every request of `posts` exactly once over `connections` keep-alive connections, each
/// taking the next request from a shared atomic counter as soon as its previous answer is read,
/// until all are sent; an answer other than `expected` is an error.
pub async fn work_queue(
    target: Arc<Target>,
    posts: Arc<Vec<Post>>,
    connections: usize,
    expected: StatusCode,
) -> WorkSummary {
    // Connect first, so the timed part is the requests only.
    let mut opened = Vec::with_capacity(connections);
    for _ in 0..connections {
        opened.push(Connection::open(target.clone()).await.expect("connect"));
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in opened {
        tasks.spawn(work(
            target.clone(),
            Some(c),
            posts.clone(),
            next.clone(),
            expected,
        ));
    }
    let mut t = WorkTally::default();
    while let Some(x) = tasks.join_next().await {
        let x = x.expect("load task");
        t.latencies.extend(x.latencies);
        t.errors += x.errors;
        t.succeeded += x.succeeded;
        if t.first_error.is_none() {
            t.first_error = x.first_error;
        }
    }
    WorkSummary {
        summary: Summary::from_latencies(t.latencies, t.errors, started.elapsed()),
        succeeded: t.succeeded,
        first_error: t.first_error,
    }
}

#[cfg(test)]
mod tests {
    use super::Paths;

    #[test]
    fn drawn_paths_are_the_prefix_and_a_suffix_taken_in_order_from_a_seeded_start() {
        let suffixes: Vec<String> = (0..50).map(|i| format!("SN-{i:03}")).collect();
        let paths = Paths::random_suffix("/v1/assets/", &suffixes, 7);
        let Paths::Drawn(drawn) = &paths else {
            panic!("random_suffix draws in advance");
        };
        let n = drawn.ends.len();
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        for _ in 0..n {
            let p = paths.next(&mut cursor).to_string();
            let serial = p.strip_prefix("/v1/assets/").expect("the prefix");
            assert!(suffixes.iter().any(|s| s == serial), "{p}");
            seen.insert(serial.to_string());
        }
        assert_eq!(seen.len(), suffixes.len(), "every serial is drawn");
        // After the last path the cursor wraps to the first.
        let mut again = 0;
        assert_eq!(paths.next(&mut cursor), paths.next(&mut again));
        // Connections start apart, and the same seed draws the same paths.
        let starts: std::collections::HashSet<usize> = (1..=64).map(|s| paths.start(s)).collect();
        assert!(starts.len() > 60, "{} distinct starts", starts.len());
        let same = Paths::random_suffix("/v1/assets/", &suffixes, 7);
        let (mut a, mut b) = (123, 123);
        assert_eq!(paths.next(&mut a), same.next(&mut b));
    }
}
