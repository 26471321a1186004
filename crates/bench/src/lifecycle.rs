//! Scenario `lifecycle-http`: each lifecycle action of a subscription over HTTP on the real
//! server, against raw single-transaction commits of the same rows with the same concurrency.
//!
//! 1. Setup (per store): the catalog, 6 × `--actions` `available` assets (imported), as many
//!    one-unit orders (`flexportal_app::orders::create`; 12-month and 36-month contracts in
//!    turn) and their subscriptions through the fulfilment use case
//!    (`flexportal_app::subscriptions::create`, 16 tasks); `--actions` more `available` assets
//!    with the SKUs of the subscriptions to be replaced. Each action gets its own `--actions`
//!    active subscriptions.
//! 2. The real server runs in-process (as `fulfil-http`); for each action in turn,
//!    `--connections` keep-alive connections send its requests until all are sent, each to a
//!    distinct subscription (any answer but 200 is an error). The store is then checked by SQL.
//! 3. Baseline: a second fresh store set up the same way. The changes of every action are those
//!    the use case makes, captured in a rolled-back transaction before the clock
//!    ([`crate::raw_lifecycle::capture`]), then committed one transaction per action with the raw
//!    driver, with the same concurrency (PostgreSQL: a connection per worker; SQLite: its one
//!    writer). `calculate-buyout` (read-only) against its two reads.
//! 4. Per action: actions/s of both and the ratio.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use flexportal_app::App;
use hyper::StatusCode;
use hyper::body::Bytes;

use crate::catalog;
use crate::dataset::{self, AssetsCsv, BenchTenant, CSV_HEADER};
use crate::fulfil::{self, key_context};
use crate::http::{self, auth_headers};
use crate::loadgen::{self, Post, Target, WorkSummary};
use crate::raw_fulfil::RawRun;
use crate::raw_lifecycle::{self, ACTIONS, Action, PgWork, RawAction};
use crate::stats::{Summary, ms, rate, ratio};
use crate::store::{FreshStore, TempDir, count_rows};
use crate::{Engine, import};

/// Options of the `lifecycle-http` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct LifecycleArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Requests of each action (each on its own subscription).
    #[arg(long, default_value_t = 1_000)]
    pub actions: usize,
    /// Concurrent keep-alive connections (and raw PostgreSQL workers).
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Subscriptions per customer (customers = subscriptions / this).
    #[arg(long, default_value_t = 10)]
    pub per_customer: usize,
    /// Worker threads of the server's runtime (default: one per core).
    #[arg(long)]
    pub server_threads: Option<usize>,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// Seed of the dataset generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Diagnostic (SQLite): the raw subscription and asset updates write every column the
    /// store's `subscriptions::update` / `assets::update` write, not only those that change.
    #[arg(long)]
    pub raw_full_rows: bool,
}

/// The subscription of one request.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The subscription.
    pub rental_id: String,
    /// The new asset of a replace.
    pub replacement: Option<String>,
}

/// A prepared store: the unit and, per action (in [`ACTIONS`] order), its subscriptions.
pub struct Prepared {
    /// Business unit and key.
    pub tenant: BenchTenant,
    /// Subscriptions of each action.
    pub subjects: Vec<Vec<Subject>>,
}

/// Contract length of unit `i`: 12 and 36 months in turn for each action.
fn months(i: usize) -> i64 {
    if (i / ACTIONS.len()).is_multiple_of(2) {
        12
    } else {
        36
    }
}

/// Writes `skus.len()` `available` assets of the given SKUs to `path` (serials after those of the
/// dataset: `base + k`).
fn write_replacements(path: &Path, skus: &[String], base: u64) -> AssetsCsv {
    let (_, specs) = catalog::catalog();
    let spec: HashMap<&str, &catalog::VariantSpec> =
        specs.iter().map(|v| (v.sku.as_str(), v)).collect();
    let file = std::fs::File::create(path).expect("create the replacements CSV");
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    w.write_record(CSV_HEADER).expect("CSV header");
    let mut serials = Vec::with_capacity(skus.len());
    for (k, sku) in skus.iter().enumerate() {
        let v = spec[sku.as_str()];
        let i = base + k as u64;
        let serial = if v.phone {
            dataset::imei(i)
        } else {
            format!("{}{i:09}", v.serial_prefix)
        };
        w.write_record([
            serial.as_str(),
            sku,
            "",
            "2025-01-15",
            "Amsterdam DC",
            "new",
            "",
            "available",
        ])
        .expect("CSV row");
        serials.push(serial);
    }
    w.into_inner()
        .expect("flush the CSV")
        .flush()
        .expect("flush the CSV file");
    AssetsCsv {
        path: path.to_path_buf(),
        rows: skus.len() as u64,
        serials,
        skus: skus.to_vec(),
        available: skus.len() as u64,
    }
}

/// Sets up a store (see the module documentation); progress to stderr.
pub async fn prepare(app: &App, dir: &Path, args: &LifecycleArgs) -> Prepared {
    let started = Instant::now();
    let n = ACTIONS.len() * args.actions;
    let customers = (n / args.per_customer.max(1)).max(1);
    let units = fulfil::prepare_units_months(app, dir, n, customers, args.seed, 8, months).await;
    let ctx = key_context(&units.tenant);
    let pairs = units.order_serial_pairs();
    let took = fulfil::fulfil_direct(app, &ctx, Arc::new(pairs), 16).await;
    eprintln!(
        "  {n} subscriptions through the fulfilment use case in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        rate(n as u64, took)
    );
    let rental_of: HashMap<String, String> = {
        let mut c = app.db.read().await.expect("read connection");
        c.fetch_all_sql::<(String, String)>(&format!(
            "SELECT order_id, rental_id FROM subscriptions WHERE tenant_id = '{}'",
            ctx.tenant_id
        ))
        .await
        .expect("rental ids")
        .into_iter()
        .collect()
    };
    let replace_at = ACTIONS
        .iter()
        .position(|a| *a == Action::Replace)
        .expect("replace is an action");
    let replaced: Vec<usize> = (0..n).filter(|i| i % ACTIONS.len() == replace_at).collect();
    let skus: Vec<String> = replaced
        .iter()
        .map(|i| units.units[*i].order.items[0].sku.clone())
        .collect();
    let csv = write_replacements(&dir.join("replacements.csv"), &skus, 900_000_000);
    let (s, _) = import::timed_import(app, &ctx, &csv).await;
    assert_eq!(s.created, csv.rows, "every replacement asset is imported");
    let _ = std::fs::remove_file(&csv.path);
    let replacement: HashMap<usize, String> = replaced.into_iter().zip(csv.serials).collect();
    let mut subjects: Vec<Vec<Subject>> = vec![Vec::new(); ACTIONS.len()];
    for (i, u) in units.units.iter().enumerate() {
        subjects[i % ACTIONS.len()].push(Subject {
            rental_id: rental_of[&u.order.order.order_id].clone(),
            replacement: replacement.get(&i).cloned(),
        });
    }
    // Planner statistics as autovacuum would have gathered them (it may be off on the benchmark
    // server); this also drops the plans the pool cached while the tables were nearly empty.
    for table in [
        "subscriptions",
        "payments",
        "customers",
        "assets",
        "orders",
        "asset_assignments",
        "subscription_events",
    ] {
        app.db
            .analyze(table)
            .await
            .unwrap_or_else(|e| panic!("ANALYZE {table}: {e}"));
    }
    eprintln!("  setup {:.1} s", started.elapsed().as_secs_f64());
    Prepared {
        tenant: units.tenant,
        subjects,
    }
}

/// Checks by SQL that every request of every action took effect; prints one line per store.
async fn verify(app: &App, label: &str, tenant: &str, n: usize) -> bool {
    let counts = [
        (
            "extended",
            count_rows(
                app,
                "subscriptions",
                tenant,
                "AND contract_length = original_contract_length + 6",
            )
            .await,
        ),
        (
            "replaced",
            count_rows(
                app,
                "subscription_events",
                tenant,
                "AND kind = 'device_replaced'",
            )
            .await,
        ),
        (
            "bought out",
            count_rows(app, "subscriptions", tenant, "AND status = 'ended_buyout'").await,
        ),
        (
            "returned early",
            count_rows(
                app,
                "subscriptions",
                tenant,
                "AND status = 'ended_early_return'",
            )
            .await,
        ),
        (
            "cancelled",
            count_rows(app, "subscriptions", tenant, "AND status = 'cancelled'").await,
        ),
        (
            "active",
            count_rows(app, "subscriptions", tenant, "AND status = 'active'").await,
        ),
    ];
    let ok = counts[..5].iter().all(|(_, c)| *c == n as i64) && counts[5].1 == 3 * n as i64;
    println!(
        "verify {label}: {}: {}",
        counts
            .iter()
            .map(|(k, c)| format!("{c} {k}"))
            .collect::<Vec<_>>()
            .join(", "),
        if ok { "ok" } else { "MISMATCH" }
    );
    ok
}

/// The figures of one action on one side.
#[derive(Debug, Clone)]
struct Side {
    summary: Summary,
    ok: u64,
}

impl Side {
    fn rate(&self) -> f64 {
        rate(self.ok, self.summary.elapsed)
    }
}

fn from_work(w: &WorkSummary) -> Side {
    Side {
        summary: w.summary.clone(),
        ok: w.succeeded,
    }
}

fn from_raw(r: RawRun) -> Side {
    let n = r.latencies.len() as u64;
    Side {
        summary: Summary::from_latencies(r.latencies, 0, r.elapsed),
        ok: n,
    }
}

/// Runs the scenario: setup and server on one runtime, load on another.
pub fn run(args: LifecycleArgs) {
    let (server_rt, threads) = http::server_runtime(args.server_threads);
    let n = args.actions;
    println!(
        "== lifecycle-http: engine {}, {n} requests per action on distinct subscriptions \
         (12/36-month contracts), {} connections (server {threads} threads, load generator {} \
         threads; load average {}) ==",
        args.engine.name(),
        args.connections,
        args.client_threads,
        crate::load_average()
    );
    let dir = TempDir::new();

    // Store under test: setup, server, one work queue per action.
    let store = server_rt.block_on(FreshStore::create(args.engine, dir.path(), "lifecycle"));
    eprintln!("setup (use case store):");
    let prep = server_rt.block_on(prepare(&store.app, dir.path(), &args));
    let server = server_rt.block_on(http::start(store.app.clone()));
    let client_rt = http::client_runtime(args.client_threads);
    let target = Arc::new(Target::new(server.addr, auth_headers(&prep.tenant)));
    let mut use_case = Vec::new();
    for (a, subjects) in ACTIONS.iter().zip(&prep.subjects) {
        let posts: Vec<Post> = subjects
            .iter()
            .map(|s| Post {
                path: a.path(&s.rental_id),
                body: Bytes::from(a.body(&s.rental_id, s.replacement.as_deref()).to_string()),
            })
            .collect();
        let load = crate::load_average();
        let w = client_rt.block_on(loadgen::work_queue(
            target.clone(),
            Arc::new(posts),
            args.connections,
            StatusCode::OK,
        ));
        let s = &w.summary;
        println!(
            "use case POST {:<17} {} answered, {} ok, {} errors in {:.2} s = {:.0}/s; p50 {} \
             ms, p99 {} ms (load average before {load})",
            a.name(),
            s.requests,
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
        use_case.push(from_work(&w));
    }
    drop(client_rt);
    server.stop();
    let tenant = prep.tenant.ctx.tenant_id.clone();
    server_rt.block_on(verify(&store.app, "use case", &tenant, n));
    server_rt.block_on(store.destroy());

    // Baseline store: the same setup; the use case's changes through the raw driver.
    let base = server_rt.block_on(FreshStore::create(args.engine, dir.path(), "raw"));
    eprintln!("setup (raw store):");
    let raw_prep = server_rt.block_on(prepare(&base.app, dir.path(), &args));
    let raw_ctx = key_context(&raw_prep.tenant);
    let raw_tenant = raw_ctx.tenant_id.clone();
    let mut raw = Vec::new();
    let mut checks = Vec::new();
    for (a, subjects) in ACTIONS.iter().zip(&raw_prep.subjects) {
        let mut load = crate::load_average();
        let run = if *a == Action::CalculateBuyout {
            let ids: Vec<String> = subjects.iter().map(|s| s.rental_id.clone()).collect();
            match args.engine {
                Engine::Sqlite => raw_lifecycle::sqlite_reads(
                    base.sqlite_path().expect("SQLite file"),
                    &raw_tenant,
                    &ids,
                    args.connections,
                ),
                Engine::Postgres => raw_lifecycle::postgres_run(
                    &base.url,
                    PgWork::Reads(raw_tenant.clone(), Arc::new(ids)),
                    args.connections,
                ),
            }
        } else {
            let t = Instant::now();
            let actions: Vec<RawAction> = server_rt.block_on(async {
                let mut out = Vec::with_capacity(subjects.len());
                for s in subjects {
                    let body = a.body(&s.rental_id, s.replacement.as_deref());
                    out.push(
                        raw_lifecycle::capture(
                            &base.app,
                            &raw_ctx,
                            *a,
                            &s.rental_id,
                            &body,
                            s.replacement.as_deref(),
                        )
                        .await,
                    );
                }
                out
            });
            let first = actions.first().cloned();
            eprintln!(
                "  {} {} changes captured in {:.1} s; first: {}",
                actions.len(),
                a.name(),
                t.elapsed().as_secs_f64(),
                first.as_ref().map(describe).unwrap_or_default()
            );
            load = crate::load_average();
            let run = match args.engine {
                Engine::Sqlite => raw_lifecycle::sqlite_writes(
                    base.sqlite_path().expect("SQLite file"),
                    &actions,
                    args.raw_full_rows,
                ),
                Engine::Postgres => raw_lifecycle::postgres_run(
                    &base.url,
                    PgWork::Writes(Arc::new(actions)),
                    args.connections,
                ),
            };
            if let Some(f) = first {
                checks.push((*a, f));
            }
            run
        };
        let side = from_raw(run);
        let s = &side.summary;
        println!(
            "raw      {:<17} {} in {:.2} s = {:.0}/s; p50 {} ms, p99 {} ms (load average \
             before {load})",
            a.name(),
            side.ok,
            s.elapsed.as_secs_f64(),
            side.rate(),
            ms(s.p50),
            ms(s.p99)
        );
        raw.push(side);
    }
    server_rt.block_on(verify(&base.app, "raw", &raw_tenant, n));
    for (a, x) in &checks {
        let same = server_rt.block_on(raw_lifecycle::stored_equals(&base.app, x));
        println!(
            "same rows: {} of {} as the raw baseline stored it {} what the use case computed \
             (subscription and payments)",
            a.name(),
            x.rental_id,
            if same { "equals" } else { "DIFFERS FROM" }
        );
    }
    server_rt.block_on(base.destroy());
    drop(dir);

    let driver = match args.engine {
        Engine::Sqlite => {
            "SQLite: raw writes on one writer connection, raw reads on one \
                           connection per load connection"
        }
        Engine::Postgres => "PostgreSQL: one raw connection per load connection",
    };
    println!();
    println!(
        "({driver}{})",
        if args.raw_full_rows {
            "; --raw-full-rows: raw subscription and asset updates write every column"
        } else {
            ""
        }
    );
    println!(
        "engine    action             use case/s  p50 ms   p99 ms   errors  raw/s     p50 ms   \
         p99 ms   use case/raw"
    );
    for ((a, u), r) in ACTIONS.iter().zip(&use_case).zip(&raw) {
        let x = ratio(u.rate(), r.rate());
        println!(
            "{:<9} {:<18} {:>10.0}  {:>7} {:>8} {:>6}  {:>8.0}  {:>7} {:>8}   {x:>5.2} ({})",
            args.engine.name(),
            a.name(),
            u.rate(),
            ms(u.summary.p50),
            ms(u.summary.p99),
            u.summary.errors,
            r.rate(),
            ms(r.summary.p50),
            ms(r.summary.p99),
            if x >= 0.5 { "met" } else { "NOT met" }
        );
    }
}

/// What one captured action writes, in a few words.
fn describe(x: &RawAction) -> String {
    format!(
        "subscription update, {} payments cancelled, {} inserted, customer {}, {} assets, {} \
         assignments closed, {} opened, {} events",
        x.cancelled.len(),
        x.inserted.len(),
        if x.customer.is_some() {
            "updated"
        } else {
            "unchanged"
        },
        x.assets.len(),
        x.closed.len(),
        x.opened.len(),
        x.events.len()
    )
}
