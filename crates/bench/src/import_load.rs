//! Scenario `import-under-load`: `GET /v1/assets/{serialNumber}` latency while a bulk asset import
//! runs in the server's own process and runtime (as a long in-process write such as a billing run
//! would), against the same requests on the idle server.
//!
//! Setup, before anything is measured (on the server's runtime): a fresh store with the business
//! unit and catalog of the dataset, `--preload` assets imported through the import use case (the
//! serials the requests read), and the CSV of `--rows` further assets (serials distinct from the
//! preloaded ones) written and synced to disk. The server runs in-process as in `assets-http`; the
//! load generator runs on its own runtime.
//!
//! 1. Idle: `--connections` keep-alive connections request random preloaded serials for
//!    `--idle-seconds` (after `--warmup-seconds`, not measured).
//! 2. Import: `flexportal_app::assets_import::import` of the CSV is spawned on the server's runtime
//!    with the server's `App`; the same load runs from its start until it finishes, reported per
//!    `--window-seconds` window and over the whole import.
//! 3. The ratio of the p99 latencies (import / idle, target ≤ 3), the import's rows/s, and the count
//!    check: the import created exactly `--rows` assets.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::dataset::{self, AssetsCsv, BenchTenant, CSV_HEADER};
use crate::loadgen::{self, Paths, Target, Timeline};
use crate::stats::{Summary, ms, rate, ratio};
use crate::store::{FreshStore, TempDir, count_assets};
use crate::{Engine, http, import};

/// Highest accepted ratio of the p99 latency during the import to the idle p99.
const P99_TARGET: f64 = 3.0;

/// Options of the `import-under-load` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportLoadArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Asset rows of the import run under load.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Assets imported before the measurements; the requests read these.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub preload: u64,
    /// Concurrent keep-alive connections of the load.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Measured seconds of the idle run.
    #[arg(long, default_value_t = 10)]
    pub idle_seconds: u64,
    /// Unmeasured warm-up seconds before the idle run.
    #[arg(long, default_value_t = 1)]
    pub warmup_seconds: u64,
    /// Length of the windows the load during the import is reported in.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub window_seconds: u64,
    /// Worker threads of the server's runtime, which also runs the import (default: one per
    /// core).
    #[arg(long)]
    pub server_threads: Option<usize>,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// Seed of the dataset generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// What the setup leaves for the measurements.
struct Setup {
    dir: TempDir,
    store: FreshStore,
    tenant: BenchTenant,
    /// Serials of the preloaded assets.
    serials: Arc<Vec<String>>,
    /// The assets to import under load.
    csv: AssetsCsv,
}

/// Runs the scenario: setup, server and import on one runtime, load on another.
pub fn run(args: ImportLoadArgs) {
    let (server_rt, threads) = http::server_runtime(args.server_threads);
    println!(
        "== import-under-load: engine {}, {} rows imported over {} preloaded, {} connections, \
         idle {} s (server and import {threads} threads, load generator {} threads; \
         load average {}) ==",
        args.engine.name(),
        args.rows,
        args.preload,
        args.connections,
        args.idle_seconds,
        args.client_threads,
        crate::load_average()
    );
    let setup = server_rt.block_on(prepare(&args));
    let server = server_rt.block_on(http::start(setup.store.app.clone()));
    println!("server listening on {}", server.addr);

    let client_rt = http::client_runtime(args.client_threads);
    let target = Arc::new(Target::new(server.addr, http::auth_headers(&setup.tenant)));
    let paths = Paths::random_suffix("/v1/assets/", &setup.serials, 1);
    let idle = client_rt.block_on(async {
        let first = setup.serials.first().expect("at least one preloaded asset");
        http::check(&target, &format!("/v1/assets/{first}")).await;
        if args.warmup_seconds > 0 {
            let warmup = Duration::from_secs(args.warmup_seconds);
            loadgen::closed_loop(target.clone(), paths.clone(), args.connections, warmup).await;
        }
        let idle = Duration::from_secs(args.idle_seconds);
        loadgen::closed_loop(target.clone(), paths.clone(), args.connections, idle).await
    });

    // The load starts first and stops as soon as the import is over.
    let running = Arc::new(AtomicBool::new(true));
    let load = client_rt.spawn(loadgen::closed_loop_while(
        target.clone(),
        paths,
        args.connections,
        running.clone(),
    ));
    let Setup {
        dir,
        store,
        tenant,
        csv,
        ..
    } = setup;
    let import = {
        let app = store.app.clone();
        let ctx = tenant.ctx.clone();
        server_rt.spawn(async move {
            let (summary, took) = import::timed_import(&app, &ctx, &csv).await;
            (summary, took, csv)
        })
    };
    let ((s, import_time, csv), timeline) = client_rt.block_on(async {
        let done = import.await.expect("import task");
        running.store(false, Ordering::Relaxed);
        (done, load.await.expect("load task"))
    });
    drop(client_rt);
    server.stop();

    print_windows(&timeline, Duration::from_secs(args.window_seconds));
    let during = timeline.summary();
    let count = server_rt.block_on(count_assets(&store.app, &tenant.ctx.tenant_id));
    let expected = (args.preload + args.rows) as i64;

    println!();
    print_header("GET /v1/assets/{serialNumber}");
    print_line("idle", &idle);
    print_line("during import", &during);
    let p99_ratio = ratio(during.p99.as_secs_f64(), idle.p99.as_secs_f64());
    println!(
        "p99 during import / idle p99: {p99_ratio:.2} (target ≤ {P99_TARGET}: {})",
        if p99_ratio <= P99_TARGET {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "import   (flexportal_app::assets_import::import on the server's runtime): {} rows in \
         {:.2} s = {:.0} rows/s (created {}, already existed {}, rejected {})",
        s.rows,
        import_time.as_secs_f64(),
        rate(s.created, import_time),
        s.created,
        s.skipped_existing,
        s.errors.len()
    );
    if let Some(e) = s.errors.first() {
        println!("  first rejected row: {e:?}");
    }
    println!(
        "verify: created {} of {} rows, asset count {count} (expected {} preloaded + {} \
         imported = {expected}): {}",
        s.created,
        csv.rows,
        args.preload,
        args.rows,
        if s.created == args.rows && count == expected {
            "ok"
        } else {
            "MISMATCH"
        }
    );

    server_rt.block_on(store.destroy());
    drop(dir);
}

/// Store, business unit and catalog, the preloaded assets, and the CSV to import under load.
async fn prepare(args: &ImportLoadArgs) -> Setup {
    let dir = TempDir::new();
    let store = FreshStore::create(args.engine, dir.path(), "import_load").await;
    let started = Instant::now();
    let all = args.preload + args.rows;
    let data = dataset::generate(&store.app, dir.path(), all, args.seed, 80).await;
    let (preload, csv) = {
        let (head, dir) = (args.preload, dir.path().to_path_buf());
        tokio::task::spawn_blocking(move || split(data.csv, head, &dir))
            .await
            .expect("CSV split")
    };
    let (s, took) = import::timed_import(&store.app, &data.tenant.ctx, &preload).await;
    assert_eq!(s.created, args.preload, "every preloaded row is imported");
    let _ = std::fs::remove_file(&preload.path);
    let size = std::fs::metadata(&csv.path).map_or(0, |m| m.len());
    println!(
        "dataset: {} products, {} variants; {} assets preloaded in {:.1} s; CSV of {} rows to \
         import ({:.1} % available, {:.1} MB, serials distinct from the preloaded ones); setup \
         {:.1} s",
        data.products,
        data.variants.len(),
        s.created,
        took.as_secs_f64(),
        csv.rows,
        100.0 * csv.available as f64 / csv.rows.max(1) as f64,
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Setup {
        dir,
        store,
        tenant: data.tenant,
        serials: Arc::new(preload.serials),
        csv,
    }
}

/// Splits `all` into its first `head` rows (`dir/preload.csv`) and the rest (`dir/import.csv`),
/// and removes it. Both parts are synced to disk, so their write-out is over before the
/// measurements.
fn split(all: AssetsCsv, head: u64, dir: &Path) -> (AssetsCsv, AssetsCsv) {
    let AssetsCsv {
        path,
        rows,
        mut serials,
        mut skus,
        ..
    } = all;
    let status = CSV_HEADER
        .iter()
        .position(|h| *h == "status")
        .expect("the CSV has a status column");
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut record = csv::StringRecord::new();
    let mut part = |name: &str, rows: u64, serials: Vec<String>, skus: Vec<String>| {
        let path = dir.join(name);
        let file = std::fs::File::create(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
        w.write_record(CSV_HEADER).expect("write the CSV header");
        let mut available = 0;
        for _ in 0..rows {
            let more = reader.read_record(&mut record).expect("read a CSV row");
            assert!(more, "the generated CSV has every row");
            if record.get(status) == Some("available") {
                available += 1;
            }
            w.write_record(&record).expect("write a CSV row");
        }
        let file = w
            .into_inner()
            .unwrap_or_else(|e| panic!("flush {}: {e}", path.display()))
            .into_inner()
            .unwrap_or_else(|e| panic!("flush {}: {e}", path.display()));
        file.sync_all().expect("sync the CSV file");
        AssetsCsv {
            path,
            rows,
            serials,
            skus,
            available,
        }
    };
    let rest_serials = serials.split_off(head as usize);
    let rest_skus = skus.split_off(head as usize);
    let first = part("preload.csv", head, serials, skus);
    let rest = part("import.csv", rows - head, rest_serials, rest_skus);
    let _ = std::fs::remove_file(&path);
    (first, rest)
}

/// Prints the load during the import per window of `window` (the last one cut at the end).
fn print_windows(timeline: &Timeline, window: Duration) {
    println!();
    print_header("during import, per window");
    let mut from = Duration::ZERO;
    while from < timeline.elapsed {
        let to = from + window;
        let label = format!(
            "{:.1}–{:.1} s",
            from.as_secs_f64(),
            to.min(timeline.elapsed).as_secs_f64()
        );
        print_line(&label, &timeline.window(from, to));
        from = to;
    }
}

/// The column heads of [`print_line`], with `title` over the first column.
fn print_header(title: &str) {
    println!(
        "{title:<30} {:>9} {:>9} {:>8} {:>8} {:>8} {:>6}",
        "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
}

/// One line of figures: requests, req/s, p50, p99, max and errors.
fn print_line(label: &str, s: &Summary) {
    println!(
        "{label:<30} {:>9} {:>9.0} {:>8} {:>8} {:>8} {:>6}",
        s.requests,
        s.rps(),
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        s.errors
    );
}
