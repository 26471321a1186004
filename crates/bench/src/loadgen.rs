//! Load generator: keep-alive HTTP/1.1 connections (raw hyper client connections) to a server on
//! this machine. A closed-loop run keeps N connections busy for a fixed time, each sending its
//! next request as soon as the previous answer is read; a sequential run sends requests one by one
//! on a single connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpStream;

use crate::stats::Summary;

type Sender = SendRequest<Empty<Bytes>>;
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
    /// `prefix` followed by a serial number drawn at random for each request.
    RandomSuffix {
        /// Path up to the serial number, e.g. `/v1/assets/`.
        prefix: String,
        /// Serial numbers to draw from.
        suffixes: Arc<Vec<String>>,
    },
}

impl Paths {
    fn next(&self, rng: &mut StdRng) -> String {
        match self {
            Paths::Fixed(p) => p.clone(),
            Paths::RandomSuffix { prefix, suffixes } => {
                let s = &suffixes[rng.random_range(0..suffixes.len())];
                format!("{prefix}{s}")
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
        let mut req = Request::get(path).header(HOST, self.host.clone());
        for (k, v) in &self.target.headers {
            req = req.header(k, v);
        }
        let req = req.body(Empty::<Bytes>::new())?;
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

/// What one connection of a closed-loop run measured.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
}

async fn drive(target: Arc<Target>, paths: Arc<Paths>, deadline: Instant, seed: u64) -> Tally {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let mut conn: Option<Connection> = None;
    while Instant::now() < deadline {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Connection::open(target.clone()).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    tally.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        match c.get(&paths.next(&mut rng)).await {
            Ok(a) => {
                if a.status != StatusCode::OK {
                    tally.errors += 1;
                }
                tally.latencies.push(a.latency);
            }
            Err(_) => {
                tally.errors += 1;
                conn = None;
            }
        }
    }
    tally
}

/// Keeps `connections` connections busy with requests for `duration` and summarises every
/// request answered (a request in flight at the deadline is still awaited and counted).
pub async fn closed_loop(
    target: Arc<Target>,
    paths: Paths,
    connections: usize,
    duration: Duration,
) -> Summary {
    let paths = Arc::new(paths);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..connections {
        tasks.spawn(drive(target.clone(), paths.clone(), deadline, i as u64 + 1));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(t) = tasks.join_next().await {
        let t = t.expect("load task");
        latencies.extend(t.latencies);
        errors += t.errors;
    }
    Summary::from_latencies(latencies, errors, started.elapsed())
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
