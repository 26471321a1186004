//! Scenario `assets-http`: the real server in-process under load from keep-alive connections.
//!
//! Setup (on the server's runtime): a fresh store, the dataset imported through the import use
//! case, the deep-page cursor found by SQL, and the query plans of the list statement. The server
//! (`flexportal_api::router` served by axum on 127.0.0.1:0, with the key-usage flusher) runs on
//! its own multi-thread runtime; the load generator runs on another.
//!
//! Measured, each for `--seconds` after a warm-up: `GET /healthz` (no store), then `--rounds`
//! rounds of four runs: a bare axum handler on the same server that answers a fixed body of the
//! size of a real page, `GET /v1/assets?limit=50&status=available`, a bare handler answering a
//! body of the size of a real asset, and `GET /v1/assets/{serialNumber}` with random existing
//! serials. The bare handlers are the baselines of the two asset reads (HTTP, routing and the
//! body's bytes, nothing of the application); each round's ratios compare runs made one after
//! the other, and their medians are reported, so that a machine whose speed drifts weighs on
//! both sides of a ratio alike. Then the first page and the page at depth 0.9 × rows of
//! `GET /v1/assets?limit=50`, sequentially on one connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flexportal_api::{AppState, UsageBuffer};
use flexportal_app::App;
use flexportal_store::assets::{self, AssetFilter, AssetSort};
use flexportal_store::page::SortDir;
use hyper::StatusCode;
use hyper::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde_json::Value;

use crate::dataset::{self, BenchTenant};
use crate::loadgen::{self, Connection, Paths, Target};
use crate::stats::{Summary, median, ms, ratio};
use crate::store::{FreshStore, TempDir};
use crate::{Engine, import, plan};
use flexportal_store::Engine as StoreEngine;

/// Options of the `assets-http` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Assets in the business unit.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Concurrent keep-alive connections of each load run.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured seconds of each load run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Rounds of the four compared runs (bare page, list, bare asset, get), one after the other,
    /// so that each ratio compares runs made under the same conditions; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Unmeasured warm-up seconds before each load run.
    #[arg(long, default_value_t = 1)]
    pub warmup_seconds: u64,
    /// Requests of each page in the deep-page check.
    #[arg(long, default_value_t = 500)]
    pub deep_requests: usize,
    /// Worker threads of the server's runtime (default: one per core).
    #[arg(long)]
    pub server_threads: Option<usize>,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// Seed of the dataset generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Run `ANALYZE assets` after the import (by default the store is measured as the import
    /// leaves it: without planner statistics unless PostgreSQL's autovacuum gathered them).
    #[arg(long)]
    pub analyze: bool,
}

/// What the setup leaves for the load runs.
struct Setup {
    dir: TempDir,
    store: FreshStore,
    tenant: BenchTenant,
    serials: Arc<Vec<String>>,
    deep: Option<DeepCursor>,
}

/// The cursor of the deep page and the serial the page must start with.
struct DeepCursor {
    depth: u64,
    cursor: String,
    next: Option<String>,
}

/// The server running on the server runtime.
pub(crate) struct Server {
    /// Where it listens (127.0.0.1, a free port).
    pub addr: SocketAddr,
    /// The bodies of the bare handlers `/bench/bare/{page,asset}`.
    pub bare: BareBodies,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// The fixed JSON bodies answered by the bare handlers, set once the real answers are known.
#[derive(Clone, Default)]
pub(crate) struct BareBodies {
    /// Served at `/bench/bare/page`.
    pub page: Arc<std::sync::RwLock<axum::body::Bytes>>,
    /// Served at `/bench/bare/asset`.
    pub asset: Arc<std::sync::RwLock<axum::body::Bytes>>,
}

/// A bare axum handler: the stored bytes as `application/json`, nothing else.
fn bare_route(body: Arc<std::sync::RwLock<axum::body::Bytes>>) -> axum::routing::MethodRouter {
    axum::routing::get(move || {
        let bytes = body.read().map(|b| b.clone()).unwrap_or_default();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                bytes,
            )
        }
    })
}

impl Server {
    /// Stops the server and its key-usage flusher.
    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// The runtime of the server (and of the setup): `threads` workers, default one per core.
pub(crate) fn server_runtime(threads: Option<usize>) -> (tokio::runtime::Runtime, usize) {
    let threads = threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("server")
        .enable_all()
        .build()
        .expect("server runtime");
    (rt, threads)
}

/// The runtime of the load generator: `threads` workers.
pub(crate) fn client_runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("loadgen")
        .enable_all()
        .build()
        .expect("load generator runtime")
}

/// Runs the scenario: setup and server on one runtime, load on another.
pub fn run(args: HttpArgs) {
    let (server_rt, threads) = server_runtime(args.server_threads);
    println!(
        "== assets-http: engine {}, {} rows, {} connections, {} s per run \
         (server {threads} threads, load generator {} threads; load average {}) ==",
        args.engine.name(),
        args.rows,
        args.connections,
        args.seconds,
        args.client_threads,
        crate::load_average()
    );
    let setup = server_rt.block_on(prepare(&args));
    let server = server_rt.block_on(start(setup.store.app.clone()));
    println!("server listening on {}", server.addr);

    let client_rt = client_runtime(args.client_threads);
    let target = Arc::new(Target::new(server.addr, auth_headers(&setup.tenant)));
    client_rt.block_on(load(&args, &setup, target, &server.bare));
    drop(client_rt);

    server.stop();
    let Setup { dir, store, .. } = setup;
    server_rt.block_on(store.destroy());
    drop(dir);
}

/// `Authorization: Bearer <key>` and `Tenant-ID` of the benchmark unit.
pub(crate) fn auth_headers(t: &BenchTenant) -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {}", t.key)).expect("key is a header value"),
        ),
        (
            HeaderName::from_static("tenant-id"),
            HeaderValue::from_str(&t.ctx.tenant_id).expect("tenant id is a header value"),
        ),
    ]
}

/// Store, dataset (imported), deep cursor and query plans.
async fn prepare(args: &HttpArgs) -> Setup {
    let dir = TempDir::new();
    let store = FreshStore::create(args.engine, dir.path(), "http").await;
    let started = Instant::now();
    let data = dataset::generate(&store.app, dir.path(), args.rows, args.seed, 80).await;
    let (s, took) = import::timed_import(&store.app, &data.tenant.ctx, &data.csv).await;
    assert_eq!(s.created, args.rows, "every generated row is imported");
    println!(
        "dataset: {} products, {} variants, {} assets ({} available) imported in {:.1} s \
         (setup {:.1} s)",
        data.products,
        data.variants.len(),
        s.created,
        data.csv.available,
        took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    statistics(&store.app, args.analyze).await;
    let tenant = data.tenant;
    let deep = deep_cursor(&store.app, &tenant.ctx.tenant_id, args.rows).await;
    print_plans(&store.app, &tenant.ctx.tenant_id, deep.as_ref()).await;
    let _ = std::fs::remove_file(&data.csv.path);
    Setup {
        dir,
        store,
        tenant,
        serials: Arc::new(data.csv.serials),
        deep,
    }
}

/// Runs `ANALYZE assets` when asked, and says whether the planner has statistics.
async fn statistics(app: &App, analyze: bool) {
    if analyze {
        let started = Instant::now();
        let mut tx = app.db.begin().await.expect("write transaction");
        tx.batch("ANALYZE assets").await.expect("ANALYZE");
        tx.commit().await.expect("commit ANALYZE");
        println!(
            "statistics: ANALYZE assets in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        return;
    }
    let mut c = app.db.read().await.expect("read connection");
    let note = match app.db.engine() {
        StoreEngine::Sqlite => "none, no ANALYZE after the import".to_string(),
        StoreEngine::Postgres => {
            let av = c
                .fetch_all_sql::<String>("SHOW autovacuum")
                .await
                .expect("SHOW autovacuum")
                .concat();
            format!("no ANALYZE after the import, server autovacuum = {av}")
        }
    };
    println!("statistics: {note} (--analyze runs ANALYZE before the load)");
}

/// The serial at depth `0.9 × rows` of the default order (createdAt desc, serialNumber desc),
/// and the one after it, by SQL.
async fn deep_cursor(app: &App, tenant_id: &str, rows: u64) -> Option<DeepCursor> {
    let depth = rows * 9 / 10;
    if depth == 0 {
        return None;
    }
    let mut c = app.db.read().await.expect("read connection");
    let at = |offset: u64| {
        format!(
            "SELECT serial_number FROM assets WHERE tenant_id = '{tenant_id}' \
             ORDER BY created_at DESC, serial_number DESC LIMIT 1 OFFSET {offset}"
        )
    };
    let cursor = c
        .fetch_all_sql::<String>(&at(depth - 1))
        .await
        .expect("deep cursor")
        .into_iter()
        .next()?;
    let next = c
        .fetch_all_sql::<String>(&at(depth))
        .await
        .expect("row after the deep cursor")
        .into_iter()
        .next();
    Some(DeepCursor {
        depth,
        cursor,
        next,
    })
}

async fn print_plans(app: &App, tenant_id: &str, deep: Option<&DeepCursor>) {
    let available = AssetFilter {
        status: Some("available".into()),
        ..AssetFilter::default()
    };
    let q = assets::list_query(
        tenant_id,
        &available,
        AssetSort::CreatedAt,
        SortDir::Desc,
        None,
        50,
    );
    plan::print(app, "GET /v1/assets?limit=50&status=available", &q).await;
    let q = assets::list_query(
        tenant_id,
        &AssetFilter::default(),
        AssetSort::CreatedAt,
        SortDir::Desc,
        None,
        50,
    );
    plan::print(app, "GET /v1/assets?limit=50", &q).await;
    if let Some(d) = deep {
        let mut c = app.db.read().await.expect("read connection");
        let after = assets::cursor(&mut c, tenant_id, &d.cursor, AssetSort::CreatedAt)
            .await
            .expect("resolve cursor");
        drop(c);
        let q = assets::list_query(
            tenant_id,
            &AssetFilter::default(),
            AssetSort::CreatedAt,
            SortDir::Desc,
            after,
            50,
        );
        let label = format!("GET /v1/assets?limit=50&startAfter={}", d.cursor);
        plan::print(app, &label, &q).await;
    }
}

/// Binds 127.0.0.1:0 and serves the router with the key-usage flusher and (on PostgreSQL) the
/// credentials listener of the key cache, as `flexportal serve`.
pub(crate) async fn start(app: App) -> Server {
    let mut tasks = Vec::new();
    if let Some(listener) = app.watch_credentials() {
        tasks.push(listener);
        while app.keys.mode() != flexportal_app::keycache::Mode::Notified {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let state = AppState {
        app,
        usage: Arc::new(UsageBuffer::default()),
    };
    let flusher = flexportal_api::spawn_usage_flusher(state.clone(), Duration::from_secs(5));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let bare = BareBodies::default();
    let router = flexportal_api::router(state).merge(
        axum::Router::new()
            .route("/bench/bare/page", bare_route(bare.page.clone()))
            .route("/bench/bare/asset", bare_route(bare.asset.clone())),
    );
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(flexportal_api::listener(listener), router).await {
            eprintln!("server error: {e}");
        }
    });
    tasks.extend([server, flusher]);
    Server { addr, bare, tasks }
}

/// Checks that `path` answers 200 with JSON and returns it.
pub(crate) async fn check(target: &Arc<Target>, path: &str) -> Value {
    let mut c = Connection::open(target.clone()).await.expect("connect");
    let a = c.get(path).await.expect("request");
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&a.body)
    );
    serde_json::from_slice(&a.body).expect("JSON answer")
}

async fn load(args: &HttpArgs, setup: &Setup, target: Arc<Target>, bare: &BareBodies) {
    let list_path = "/v1/assets?limit=50&status=available";
    check(&target, "/healthz").await;
    let page = check(&target, list_path).await;
    println!(
        "check: {list_path} → {} assets, hasMore {}",
        page["count"], page["hasMore"]
    );
    let first = setup.serials.first().expect("at least one asset");
    let asset = check(&target, &format!("/v1/assets/{first}")).await;
    let page = serde_json::to_vec(&page).expect("page JSON");
    let asset = serde_json::to_vec(&asset).expect("asset JSON");
    println!(
        "bare bodies: page {} bytes, asset {} bytes",
        page.len(),
        asset.len()
    );
    *bare.page.write().expect("bare page") = page.into();
    *bare.asset.write().expect("bare asset") = asset.into();

    let mut runs = vec![("GET /healthz".to_string(), Paths::Fixed("/healthz".into()))];
    let rounds = args.rounds.max(1);
    for r in 1..=rounds {
        runs.extend([
            (
                format!("[{r}] GET /bench/bare/page (bare, page-size body)"),
                Paths::Fixed("/bench/bare/page".into()),
            ),
            (
                format!("[{r}] GET /v1/assets?limit=50&status=available"),
                Paths::Fixed(list_path.into()),
            ),
            (
                format!("[{r}] GET /bench/bare/asset (bare, asset-size body)"),
                Paths::Fixed("/bench/bare/asset".into()),
            ),
            (
                format!("[{r}] GET /v1/assets/{{serialNumber}}"),
                Paths::random_suffix("/v1/assets/", &setup.serials, r as u64),
            ),
        ]);
    }
    let s = closed_loop_table(
        &target,
        runs,
        args.connections,
        args.seconds,
        args.warmup_seconds,
    )
    .await;
    let (mut lists, mut gets) = (Vec::new(), Vec::new());
    for round in s[1..].chunks(4) {
        lists.push(ratio(round[1].rps(), round[0].rps()));
        gets.push(ratio(round[3].rps(), round[2].rps()));
    }
    let show = |v: &[f64]| {
        v.iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "list/bare page median {:.3} (rounds {})   get/bare asset median {:.3} (rounds {})   \
         (req/s ratios)",
        median(&lists),
        show(&lists),
        median(&gets),
        show(&gets)
    );
    if let Some(d) = &setup.deep {
        deep_page(args, &target, d).await;
    }
}

/// Runs each of `runs` in turn (`warmup` unmeasured seconds, then `seconds` measured) with
/// `connections` connections, and prints a line per run with its ratios to the first run (the
/// baseline). Returns the summaries.
pub(crate) async fn closed_loop_table(
    target: &Arc<Target>,
    runs: Vec<(String, Paths)>,
    connections: usize,
    seconds: u64,
    warmup: u64,
) -> Vec<Summary> {
    let w = runs.iter().map(|(l, _)| l.len()).max().unwrap_or(0).max(42);
    println!();
    println!(
        "{:<w$} {:>9} {:>9} {:>8} {:>8} {:>6}  {:>8} {:>8} {:>8}",
        "closed loop",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "rps/base",
        "p50/base",
        "p99/base"
    );
    let mut out: Vec<Summary> = Vec::new();
    for (label, paths) in runs {
        if warmup > 0 {
            loadgen::closed_loop(
                target.clone(),
                paths.clone(),
                connections,
                Duration::from_secs(warmup),
            )
            .await;
        }
        let s = loadgen::closed_loop(
            target.clone(),
            paths,
            connections,
            Duration::from_secs(seconds),
        )
        .await;
        let base = out.first().unwrap_or(&s);
        println!(
            "{label:<w$} {:>9} {:>9.0} {:>8} {:>8} {:>6}  {:>8.3} {:>8.2} {:>8.2}",
            s.requests,
            s.rps(),
            ms(s.p50),
            ms(s.p99),
            s.errors,
            ratio(s.rps(), base.rps()),
            ratio(s.p50.as_secs_f64(), base.p50.as_secs_f64()),
            ratio(s.p99.as_secs_f64(), base.p99.as_secs_f64()),
        );
        out.push(s);
    }
    out
}

async fn deep_page(args: &HttpArgs, target: &Arc<Target>, d: &DeepCursor) {
    let first = "/v1/assets?limit=50".to_string();
    let deep = format!("/v1/assets?limit=50&startAfter={}", d.cursor);
    let page = check(target, &deep).await;
    let starts = page["assets"][0]["serialNumber"]
        .as_str()
        .map(str::to_string);
    println!();
    println!(
        "deep page: cursor at depth {} of {} = {}; page starts at {} (expected {}), {} items",
        d.depth,
        args.rows,
        d.cursor,
        starts.as_deref().unwrap_or("-"),
        d.next.as_deref().unwrap_or("-"),
        page["count"]
    );
    // Warm both pages, then alternate them on one connection.
    loadgen::sequential(target.clone(), &[first.clone(), deep.clone()], 20).await;
    let s = loadgen::sequential(target.clone(), &[first, deep], args.deep_requests).await;
    let (f, p) = (&s[0], &s[1]);
    for (label, x) in [
        ("first page  GET /v1/assets?limit=50", f),
        ("deep page   …&startAfter=<cursor>", p),
    ] {
        println!(
            "{label:<40} mean {:>7} ms  p99 {:>7} ms  ({} requests, {} errors)",
            ms(x.mean),
            ms(x.p99),
            x.requests,
            x.errors
        );
    }
    let mean_ratio = ratio(p.mean.as_secs_f64(), f.mean.as_secs_f64());
    println!(
        "deep/first: mean {mean_ratio:.2}, p99 {:.2} (target ≤ 1.5: {})",
        ratio(p.p99.as_secs_f64(), f.p99.as_secs_f64()),
        if mean_ratio <= 1.5 { "met" } else { "NOT met" }
    );
}
