//! Scenario `rentals-http`: the payment list of one rental and the subscription list of one
//! customer in a business unit with about `--payments` payments, under keep-alive load, against
//! `GET /healthz`; with the query plans of both list statements.
//!
//! Setup: `--payments` / 36 one-unit orders (36-month contracts) of `--payments` / 360 customers
//! (about 10 subscriptions each) created through `flexportal_app::orders::create`, then fulfilled:
//! by default in bulk (`--setup bulk`): the rows the fulfilment use case writes, built by
//! [`crate::raw_fulfil::build`] (the rows `fulfil-http` checks against the use case's), written in
//! transactions of 500 fulfilments with the store's own statements (500-row payment INSERTs of
//! `payments::insert_many`, `subscriptions::insert`, `assets::assign`, `orders::update`,
//! `customers::add_counters`); or through `flexportal_app::subscriptions::create` itself
//! (`--setup use-case`, one transaction per fulfilment, slower). Then `ANALYZE` of `subscriptions`
//! and `payments` (`Db::analyze`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use flexportal_app::orders::OrderItem;
use flexportal_app::{App, TenantContext};
use flexportal_store::orders::OrderRecord;
use flexportal_store::page::SortDir;
use flexportal_store::payments::{self, PaymentFilter, PaymentSort};
use flexportal_store::subscriptions::{self, SubscriptionFilter, SubscriptionSort};
use flexportal_store::{assets, customers, orders};

use crate::fulfil::{self, CONTRACT_MONTHS, Units};
use crate::http::{self, auth_headers, check};
use crate::loadgen::{Paths, Target};
use crate::raw_fulfil;
use crate::stats::{rate, ratio};
use crate::store::{FreshStore, TempDir, count_rows};
use crate::{Engine, plan};

/// How the subscriptions of the setup are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Setup {
    /// The use case's rows in large transactions (fast).
    Bulk,
    /// `flexportal_app::subscriptions::create`, one transaction per subscription.
    UseCase,
}

/// Options of the `rentals-http` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct RentalsArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Payments in the business unit (payments / 36 subscriptions of 36 payments each).
    #[arg(long, default_value_t = 1_000_000)]
    pub payments: usize,
    /// Subscriptions per customer (customers = subscriptions / this).
    #[arg(long, default_value_t = 10)]
    pub per_customer: usize,
    /// How the subscriptions are created.
    #[arg(long, value_enum, default_value = "bulk")]
    pub setup: Setup,
    /// Concurrent transactions of the bulk setup (default: 1 on SQLite, 2 on PostgreSQL).
    #[arg(long)]
    pub setup_tasks: Option<usize>,
    /// Concurrent keep-alive connections of each load run.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured seconds of each load run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Unmeasured warm-up seconds before each load run.
    #[arg(long, default_value_t = 1)]
    pub warmup_seconds: u64,
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

/// Fulfilments per bulk transaction.
const BULK_UNITS: usize = 500;

/// Fulfils every unit in bulk: the rows of [`raw_fulfil::build`] (at the time each chunk is
/// built), written with the store's statements in one transaction per [`BULK_UNITS`] units, by
/// `tasks` concurrent tasks that each own a share of the customers (so no two transactions
/// update the same customer row).
async fn fulfil_bulk(app: &App, ctx: &TenantContext, units: &Units, tasks: usize) {
    let tasks = tasks.max(1);
    let mut ids: Vec<&str> = units
        .units
        .iter()
        .map(|u| u.order.order.customer_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let share: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i % tasks))
        .collect();
    let mut parts: Vec<Vec<UnitRow>> = vec![Vec::new(); tasks];
    for u in &units.units {
        parts[share[u.order.order.customer_id.as_str()]].push((
            u.order.order.clone(),
            u.order.items.clone(),
            u.serial.clone(),
        ));
    }
    let total = units.units.len();
    let step = (total / 10).max(1);
    let done = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for part in parts {
        let (app, ctx, done) = (app.clone(), ctx.clone(), done.clone());
        set.spawn(async move {
            for chunk in part.chunks(BULK_UNITS) {
                write_chunk(&app, &ctx, chunk).await;
                let before = done.fetch_add(chunk.len(), Ordering::Relaxed);
                if (before + chunk.len()) / step > before / step {
                    eprintln!("  … {} subscriptions", before + chunk.len());
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("bulk task");
    }
}

type UnitRow = (OrderRecord, Vec<OrderItem>, String);

/// Builds and writes the fulfilments of `chunk` in one transaction.
async fn write_chunk(app: &App, ctx: &TenantContext, chunk: &[UnitRow]) {
    let rows = raw_fulfil::build_all(app, ctx, chunk, app.now()).await;
    let all_payments: Vec<_> = rows.iter().flat_map(|f| f.payments.clone()).collect();
    let tenant = &ctx.tenant_id;
    let mut tx = app.db.begin().await.expect("write transaction");
    for f in &rows {
        subscriptions::insert(&mut tx, &f.sub)
            .await
            .expect("insert subscription");
    }
    payments::insert_many(&mut tx, &all_payments)
        .await
        .expect("insert payments");
    for f in &rows {
        let s = &f.sub;
        let assigned = assets::assign(
            &mut tx,
            tenant,
            &s.asset_serial_number,
            &s.customer_id,
            &s.rental_id,
            f.now,
        )
        .await
        .expect("assign asset");
        assert!(assigned, "asset {} available", s.asset_serial_number);
        if f.collected > 0 {
            assets::add_collected(&mut tx, tenant, &s.asset_serial_number, f.collected, f.now)
                .await
                .expect("asset collected");
        }
        orders::update(&mut tx, &f.order)
            .await
            .expect("update order");
        customers::add_counters(&mut tx, tenant, &s.customer_id, f.delta, f.now)
            .await
            .expect("customer counters");
    }
    tx.commit().await.expect("commit");
}

/// What the setup leaves for the load runs.
struct Data {
    units: Units,
    rentals: Vec<String>,
    customer_ids: Vec<String>,
}

async fn prepare(args: &RentalsArgs, store: &FreshStore, dir: &TempDir) -> Data {
    let app = &store.app;
    let subs = args.payments.div_ceil(CONTRACT_MONTHS as usize).max(1);
    let customers = (subs / args.per_customer.max(1)).max(1);
    let started = Instant::now();
    eprintln!("setup:");
    let units = fulfil::prepare_units(app, dir.path(), subs, customers, args.seed, 8).await;
    let orders_done = started.elapsed();
    let ctx = fulfil::key_context(&units.tenant);
    let t = Instant::now();
    let how = match args.setup {
        Setup::Bulk => {
            let tasks = args.setup_tasks.unwrap_or(match args.engine {
                Engine::Sqlite => 1,
                Engine::Postgres => 2,
            });
            fulfil_bulk(app, &ctx, &units, tasks).await;
            format!(
                "in bulk (the use case's rows, {BULK_UNITS} fulfilments per transaction, store \
                 statements, {tasks} task(s))"
            )
        }
        Setup::UseCase => {
            let pairs = units.order_serial_pairs();
            fulfil::fulfil_direct(app, &ctx, Arc::new(pairs), 16).await;
            "through flexportal_app::subscriptions::create (16 tasks)".to_string()
        }
    };
    let fulfil_time = t.elapsed();
    let t = Instant::now();
    app.db
        .analyze("subscriptions")
        .await
        .expect("ANALYZE subscriptions");
    app.db.analyze("payments").await.expect("ANALYZE payments");
    let analyze_time = t.elapsed();
    let flush = flush(app).await;
    let tenant_id = &ctx.tenant_id;
    let n_subs = count_rows(app, "subscriptions", tenant_id, "").await;
    let n_pay = count_rows(app, "payments", tenant_id, "").await;
    println!(
        "dataset: {n_subs} subscriptions with {n_pay} payments ({CONTRACT_MONTHS} each) of {} \
         customers (~{} subscriptions each); assets and orders {:.1} s, subscriptions {how} {:.1} s \
         ({:.0}/s), ANALYZE subscriptions, payments {:.1} s; {flush}",
        units.customers,
        subs / units.customers,
        orders_done.as_secs_f64(),
        fulfil_time.as_secs_f64(),
        rate(subs as u64, fulfil_time),
        analyze_time.as_secs_f64()
    );
    assert_eq!(n_subs, subs as i64, "every subscription is stored");
    assert_eq!(
        n_pay,
        (subs * CONTRACT_MONTHS as usize) as i64,
        "every payment is stored"
    );
    let mut c = app.db.read().await.expect("read connection");
    let rentals = c
        .fetch_all_sql::<String>(&format!(
            "SELECT rental_id FROM subscriptions WHERE tenant_id = '{tenant_id}'"
        ))
        .await
        .expect("rental ids");
    let customer_ids = c
        .fetch_all_sql::<String>(&format!(
            "SELECT DISTINCT customer_id FROM subscriptions WHERE tenant_id = '{tenant_id}'"
        ))
        .await
        .expect("customer ids");
    drop(c);
    Data {
        units,
        rentals,
        customer_ids,
    }
}

/// Writes the bulk load out before the load runs (PostgreSQL `CHECKPOINT`, SQLite
/// `wal_checkpoint(TRUNCATE)`), so the runs do not share the machine with the background
/// write-out of a million fresh rows; says what it did.
pub(crate) async fn flush(app: &App) -> String {
    let t = Instant::now();
    let mut c = app.db.read().await.expect("read connection");
    let (what, done) = match app.db.engine() {
        flexportal_store::Engine::Postgres => ("CHECKPOINT", c.batch("CHECKPOINT").await.is_ok()),
        flexportal_store::Engine::Sqlite => (
            "wal_checkpoint(TRUNCATE)",
            c.fetch_all_sql::<i64>("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .is_ok(),
        ),
    };
    if done {
        format!("{what} {:.1} s", t.elapsed().as_secs_f64())
    } else {
        format!("{what} failed (not permitted?), measured without it")
    }
}

async fn print_plans(app: &App, tenant_id: &str, rental: &str, customer: &str) {
    let q = payments::list_query(
        tenant_id,
        &PaymentFilter {
            rental_id: Some(rental.to_string()),
            ..PaymentFilter::default()
        },
        &[],
        PaymentSort::CreatedAt,
        SortDir::Desc,
        None,
        50,
    );
    plan::print(app, &format!("GET /v1/payments?rentalId={rental}"), &q).await;
    let q = subscriptions::list_query(
        tenant_id,
        &SubscriptionFilter {
            customer_id: Some(customer.to_string()),
            ..SubscriptionFilter::default()
        },
        SubscriptionSort::CreatedAt,
        SortDir::Desc,
        None,
        50,
    );
    plan::print(
        app,
        &format!("GET /v1/subscriptions?customerId={customer}"),
        &q,
    )
    .await;
    // The subscription list then reads the charges of the page's subscriptions in one statement.
    let rentals: Vec<String> = {
        let mut c = app.db.read().await.expect("read connection");
        c.fetch_all::<subscriptions::SubscriptionRecord, _>(&q)
            .await
            .expect("subscriptions of the customer")
            .into_iter()
            .map(|s| s.rental_id)
            .collect()
    };
    let q = payments::charges_of_rentals_query(tenant_id, &rentals);
    plan::print(
        app,
        &format!(
            "charges of the listed subscriptions (payments::charges_of_rentals, {} rentals)",
            rentals.len()
        ),
        &q,
    )
    .await;
}

/// Runs the scenario: setup and server on one runtime, load on another.
pub fn run(args: RentalsArgs) {
    let (server_rt, threads) = http::server_runtime(args.server_threads);
    println!(
        "== rentals-http: engine {}, ~{} payments, {} connections, {} s per run (server \
         {threads} threads, load generator {} threads; load average {}) ==",
        args.engine.name(),
        args.payments,
        args.connections,
        args.seconds,
        args.client_threads,
        crate::load_average()
    );
    let dir = TempDir::new();
    let store = server_rt.block_on(FreshStore::create(args.engine, dir.path(), "rentals"));
    let data = server_rt.block_on(prepare(&args, &store, &dir));
    let tenant_id = data.units.tenant.ctx.tenant_id.clone();
    server_rt.block_on(print_plans(
        &store.app,
        &tenant_id,
        &data.rentals[data.rentals.len() / 2],
        &data.customer_ids[data.customer_ids.len() / 2],
    ));
    let server = server_rt.block_on(http::start(store.app.clone()));
    println!("server listening on {}", server.addr);

    let client_rt = http::client_runtime(args.client_threads);
    let target = Arc::new(Target::new(server.addr, auth_headers(&data.units.tenant)));
    let payments_prefix = "/v1/payments?rentalId=";
    let subs_prefix = "/v1/subscriptions?customerId=";
    client_rt.block_on(async {
        check(&target, "/healthz").await;
        let p = check(&target, &format!("{payments_prefix}{}", data.rentals[0])).await;
        let s = check(&target, &format!("{subs_prefix}{}", data.customer_ids[0])).await;
        println!(
            "check: payments of a rental → {} payments, hasMore {}; subscriptions of a customer → \
             {} rentals, hasMore {}",
            p["count"], p["hasMore"], s["count"], s["hasMore"]
        );
        let runs = vec![
            ("GET /healthz".to_string(), Paths::Fixed("/healthz".into())),
            (
                "GET /v1/payments?rentalId={rentalId}".to_string(),
                Paths::random_suffix(payments_prefix, &data.rentals, 1),
            ),
            (
                "GET /v1/subscriptions?customerId={customerId}".to_string(),
                Paths::random_suffix(subs_prefix, &data.customer_ids, 2),
            ),
        ];
        let s = http::closed_loop_table(
            &target,
            runs,
            args.connections,
            args.seconds,
            args.warmup_seconds,
        )
        .await;
        let errors: u64 = s.iter().map(|x| x.errors).sum();
        println!(
            "errors over all runs: {errors}; payments list keeps {:.3} of the /healthz rate, \
             subscriptions list {:.3}",
            ratio(s[1].rps(), s[0].rps()),
            ratio(s[2].rps(), s[0].rps())
        );
    });
    drop(client_rt);
    server.stop();
    server_rt.block_on(store.destroy());
    drop(dir);
}
