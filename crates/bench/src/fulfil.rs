//! Scenario `fulfil-http`: order fulfilment (`POST /v1/subscriptions`) over HTTP against raw
//! single-transaction commits of the same rows.
//!
//! 1. A fresh store gets the catalog, N `available` assets (imported) and N pending one-unit
//!    orders with a 36-month contract, created through `flexportal_app::orders::create` for a few
//!    hundred customers. The real server runs in-process; `--connections` keep-alive connections
//!    each take the next `(orderId, serialNumber)` from a shared counter and send
//!    `POST /v1/subscriptions` until all N are sent (any answer but 201 is an error).
//! 2. Baseline: a second fresh store with the same catalog, assets and orders receives the rows
//!    the use case writes (built with the same domain functions, see [`crate::raw_fulfil`]), one
//!    transaction per fulfilment with prepared statements of the raw driver, with the same
//!    concurrency (PostgreSQL: one connection per worker; SQLite: its one writer).
//! 3. The ratio of the two rates.
//!
//! The setup (assets, orders, fulfilment through the use case) is shared with `rentals-http`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flexportal_app::orders::OrderView;
use flexportal_app::{Actor, App, TenantContext};
use flexportal_store::{payments, subscriptions};
use hyper::StatusCode;
use hyper::body::Bytes;
use serde_json::{Value, json};

use crate::dataset::{self, BenchTenant};
use crate::http::{self, auth_headers};
use crate::loadgen::{self, Post, Target};
use crate::raw_fulfil::{self, RawFulfilment};
use crate::stats::{Summary, ms, rate, ratio};
use crate::store::{FreshStore, TempDir, count_rows};
use crate::{Engine, import};

/// Options of the `fulfil-http` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct FulfilArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Fulfilments (assets, one-unit orders and subscriptions).
    #[arg(long, default_value_t = 5_000)]
    pub fulfilments: usize,
    /// Concurrent keep-alive connections (and raw PostgreSQL workers).
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Distinct customers placing the orders.
    #[arg(long, default_value_t = 300)]
    pub customers: usize,
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

/// Contract length of every order.
pub const CONTRACT_MONTHS: i64 = 36;

/// One order unit ready to be fulfilled: the pending order (as created) and the asset for it.
pub struct Unit {
    /// The order and its items as `orders::create` returned them.
    pub order: OrderView,
    /// Serial number of an `available` asset with the order item's SKU.
    pub serial: String,
}

/// The business unit of a fulfilment store and its order units.
pub struct Units {
    /// Business unit and key.
    pub tenant: BenchTenant,
    /// Order units, in asset-file order.
    pub units: Vec<Unit>,
    /// Customers that placed orders.
    pub customers: usize,
}

impl Units {
    /// `(order id, asset serial number)` of every unit, as [`fulfil_direct`] takes them.
    pub fn order_serial_pairs(&self) -> Vec<(String, String)> {
        self.units
            .iter()
            .map(|u| (u.order.order.order_id.clone(), u.serial.clone()))
            .collect()
    }
}

const FIRST_NAMES: [&str; 12] = [
    "Anna", "Bram", "Chloé", "Daan", "Eva", "Finn", "Greta", "Hugo", "Iris", "Jonas", "Lotte",
    "Milan",
];
const LAST_NAMES: [&str; 10] = [
    "de Vries", "Jansen", "Müller", "Bakker", "Visser", "Schmidt", "Dubois", "Smit", "Meyer",
    "Peeters",
];
const CITIES: [(&str, &str); 5] = [
    ("Amsterdam", "NL"),
    ("Rotterdam", "NL"),
    ("Berlin", "DE"),
    ("Munich", "DE"),
    ("Paris", "FR"),
];

/// The createOrder body of customer `c` for one unit of `sku` on a 36-month contract; every fifth
/// customer is a business.
pub fn order_body(c: usize, sku: &str) -> Value {
    order_body_months(c, sku, CONTRACT_MONTHS)
}

/// The createOrder body of customer `c` for one unit of `sku` on a contract of `months` months
/// (a length the catalog prices: 6, 12, 24 or 36); every fifth customer is a business.
pub fn order_body_months(c: usize, sku: &str, months: i64) -> Value {
    let first = FIRST_NAMES[c % FIRST_NAMES.len()];
    let last = LAST_NAMES[(c / FIRST_NAMES.len()) % LAST_NAMES.len()];
    let (city, country) = CITIES[c % CITIES.len()];
    let business = c.is_multiple_of(5);
    let mut customer = json!({
        "email": format!("customer{c:06}@bench.example"),
        "firstName": first,
        "lastName": last,
        "customerType": if business { "business" } else { "individual" },
    });
    if business {
        customer["company"] = json!(format!("{last} Holding {c}"));
    }
    json!({
        "customer": customer,
        "billingAddress": {
            "streetAddress": format!("Keizersgracht {}", 1 + c % 700),
            "city": city,
            "country": country,
            "postalCode": format!("{:04}", 1000 + c % 9000),
        },
        "items": [{"sku": sku, "quantity": 1, "contractLength": months}],
    })
}

/// Assigns a customer to each asset row: customer `i mod customers`, or the next one that has no
/// order for that SKU yet, so no two orders share (customer, SKU) (identical orders within 60 s
/// would be answered with the earlier one, SPEC §1.12).
pub fn assign_customers(skus: &[String], customers: usize) -> Vec<usize> {
    let mut used = HashSet::new();
    skus.iter()
        .enumerate()
        .map(|(i, sku)| {
            let mut c = i % customers;
            for _ in 0..customers {
                if used.insert((c, sku.as_str())) {
                    return c;
                }
                c = (c + 1) % customers;
            }
            panic!("every customer already ordered {sku}: use more customers");
        })
        .collect()
}

/// Creates the business unit, the catalog, `n` `available` assets (written as CSV under `dir` and
/// imported with the import use case) and one pending one-unit order per asset, placed by
/// `customers` customers through `flexportal_app::orders::create` (`tasks` concurrent tasks, each
/// with its own customers). Progress goes to stderr.
pub async fn prepare_units(
    app: &App,
    dir: &Path,
    n: usize,
    customers: usize,
    seed: u64,
    tasks: usize,
) -> Units {
    prepare_units_months(app, dir, n, customers, seed, tasks, |_| CONTRACT_MONTHS).await
}

/// As [`prepare_units`], with the contract length of unit `i` given by `months(i)` (a length the
/// catalog prices: 6, 12, 24 or 36).
pub async fn prepare_units_months(
    app: &App,
    dir: &Path,
    n: usize,
    customers: usize,
    seed: u64,
    tasks: usize,
    months: impl Fn(usize) -> i64,
) -> Units {
    let started = Instant::now();
    let data = dataset::generate(app, dir, n as u64, seed, 100).await;
    let (s, took) = import::timed_import(app, &data.tenant.ctx, &data.csv).await;
    assert_eq!(s.created, n as u64, "every generated asset is imported");
    eprintln!(
        "  {} products, {} variants, {n} available assets imported in {:.1} s",
        data.products,
        data.variants.len(),
        took.as_secs_f64()
    );
    let _ = std::fs::remove_file(&data.csv.path);
    let customers = customers.clamp(1, n.max(1));
    let owner = assign_customers(&data.csv.skus, customers);
    let t = Instant::now();
    let lengths: Vec<i64> = (0..n).map(months).collect();
    let orders = create_orders(
        app,
        &data.tenant.ctx,
        &owner,
        &data.csv.skus,
        &lengths,
        tasks,
    )
    .await;
    let distinct: HashSet<&str> = orders.iter().map(|o| o.order.order_id.as_str()).collect();
    assert_eq!(distinct.len(), n, "every order is a new order");
    eprintln!(
        "  {n} orders of {customers} customers created in {:.1} s ({:.0} orders/s); setup {:.1} s",
        t.elapsed().as_secs_f64(),
        rate(n as u64, t.elapsed()),
        started.elapsed().as_secs_f64()
    );
    let units = orders
        .into_iter()
        .zip(data.csv.serials)
        .map(|(order, serial)| Unit { order, serial })
        .collect();
    Units {
        tenant: data.tenant,
        units,
        customers,
    }
}

/// Creates one order per row (`owner[i]` ordering `skus[i]` on a `months[i]`-month contract)
/// through the use case, in `tasks` concurrent tasks that each own the customers
/// `c ≡ k (mod tasks)` (a new customer is inserted by its first order, so one customer's orders
/// never race). Returns the orders in row order.
async fn create_orders(
    app: &App,
    ctx: &TenantContext,
    owner: &[usize],
    skus: &[String],
    months: &[i64],
    tasks: usize,
) -> Vec<OrderView> {
    let tasks = tasks.max(1);
    let n = owner.len();
    let step = (n / 10).max(1);
    let done = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for k in 0..tasks {
        let rows: Vec<(usize, usize, String, i64)> = (0..n)
            .filter(|i| owner[*i] % tasks == k)
            .map(|i| (i, owner[i], skus[i].clone(), months[i]))
            .collect();
        let (app, ctx, done) = (app.clone(), ctx.clone(), done.clone());
        set.spawn(async move {
            let mut out = Vec::with_capacity(rows.len());
            for (i, c, sku, m) in rows {
                let v = flexportal_app::orders::create(&app, &ctx, &order_body_months(c, &sku, m))
                    .await
                    .unwrap_or_else(|e| panic!("createOrder {i}: {e:?}"));
                out.push((i, v));
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d % step == 0 {
                    eprintln!("  … {d} orders");
                }
            }
            out
        });
    }
    let mut slots: Vec<Option<OrderView>> = (0..n).map(|_| None).collect();
    while let Some(r) = set.join_next().await {
        for (i, v) in r.expect("order task") {
            slots[i] = Some(v);
        }
    }
    slots
        .into_iter()
        .map(|o| o.expect("every order created"))
        .collect()
}

/// The context of requests made with the benchmark key (as authentication builds it).
pub fn key_context(t: &BenchTenant) -> TenantContext {
    TenantContext {
        actor: Actor {
            user_id: format!("apikey:{}", t.key_id),
            display_name: "bench key".into(),
        },
        ..t.ctx.clone()
    }
}

/// Fulfils every unit through `flexportal_app::subscriptions::create` (no HTTP), `tasks` at a
/// time, each taking the next unit from a shared counter; returns the time taken.
pub async fn fulfil_direct(
    app: &App,
    ctx: &TenantContext,
    units: Arc<Vec<(String, String)>>,
    tasks: usize,
) -> Duration {
    let next = Arc::new(AtomicUsize::new(0));
    let step = (units.len() / 10).max(1);
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks.max(1) {
        let (app, ctx, units, next) = (app.clone(), ctx.clone(), units.clone(), next.clone());
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((order_id, serial)) = units.get(i) else {
                    break;
                };
                let body = json!({"orderId": order_id, "assetSerialNumber": serial});
                flexportal_app::subscriptions::create(&app, &ctx, &body)
                    .await
                    .unwrap_or_else(|e| panic!("createSubscription {order_id}: {e:?}"));
                if (i + 1) % step == 0 {
                    eprintln!("  … {} subscriptions", i + 1);
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("fulfilment task");
    }
    started.elapsed()
}

/// What a fulfilled store holds, by SQL.
struct Counts {
    subscriptions: i64,
    payments: i64,
    fulfilled_orders: i64,
    rented_assets: i64,
    devices_counted: i64,
}

async fn counts(app: &App, tenant_id: &str) -> Counts {
    Counts {
        subscriptions: count_rows(app, "subscriptions", tenant_id, "").await,
        payments: count_rows(app, "payments", tenant_id, "").await,
        fulfilled_orders: count_rows(app, "orders", tenant_id, "AND status = 'fulfilled'").await,
        rented_assets: count_rows(app, "assets", tenant_id, "AND status = 'rented_out'").await,
        devices_counted: {
            let mut c = app.db.read().await.expect("read connection");
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(total_devices_rented), 0) AS BIGINT) FROM customers \
                 WHERE tenant_id = '{tenant_id}'"
            );
            c.fetch_all_sql::<i64>(&sql)
                .await
                .expect("sum devices")
                .first()
                .copied()
                .unwrap_or(0)
        },
    }
}

fn print_counts(label: &str, c: &Counts, n: usize, schedule: usize) {
    let ok = c.subscriptions == n as i64
        && c.payments == (n * schedule) as i64
        && c.fulfilled_orders == n as i64
        && c.rented_assets == n as i64
        && c.devices_counted == n as i64;
    println!(
        "verify {label}: {} subscriptions, {} payments, {} orders fulfilled, {} assets rented out, \
         customers count {} devices: {}",
        c.subscriptions,
        c.payments,
        c.fulfilled_orders,
        c.rented_assets,
        c.devices_counted,
        if ok { "ok" } else { "MISMATCH" }
    );
}

/// Compares what the use case stored for the first unit with the rows [`raw_fulfil::build`] makes
/// for it (ids and times taken from the stored rows): the baseline writes the same rows.
async fn same_rows_check(app: &App, ctx: &TenantContext, unit: &Unit) -> bool {
    let mut c = app.db.read().await.expect("read connection");
    let tenant = &ctx.tenant_id;
    let order_id = &unit.order.order.order_id;
    let Some((rental_id, _)) = subscriptions::for_order(&mut c, tenant, order_id)
        .await
        .expect("read subscriptions")
        .into_iter()
        .next()
    else {
        println!("same rows: no subscription for {order_id}");
        return false;
    };
    let stored = subscriptions::get(&mut c, tenant, &rental_id)
        .await
        .expect("read subscription")
        .expect("subscription exists");
    let stored_payments = payments::for_rental(&mut c, tenant, &rental_id)
        .await
        .expect("read payments");
    drop(c);
    let units = [(
        unit.order.order.clone(),
        unit.order.items.clone(),
        unit.serial.clone(),
    )];
    let mut built = raw_fulfil::build_all(app, ctx, &units, stored.created_at).await;
    let mut f = built.remove(0);
    let raw_rental = f.sub.rental_id.clone();
    f.sub.rental_id.clone_from(&rental_id);
    for (p, s) in f.payments.iter_mut().zip(&stored_payments) {
        p.payment_id.clone_from(&s.payment_id);
        p.rental_id = Some(rental_id.clone());
        p.idempotency_key = p.idempotency_key.replace(&raw_rental, &rental_id);
    }
    let same_sub = f.sub == stored;
    let same_payments = f.payments == stored_payments;
    println!(
        "same rows: the baseline's rows for {order_id} {} the use case's (subscription {}, \
         {} of {} payments equal; ids and times aside)",
        if same_sub && same_payments {
            "equal"
        } else {
            "DIFFER FROM"
        },
        if same_sub { "equal" } else { "differs" },
        f.payments
            .iter()
            .zip(&stored_payments)
            .filter(|(a, b)| a == b)
            .count(),
        stored_payments.len()
    );
    if !same_sub {
        println!("  baseline: {:?}\n  stored:   {stored:?}", f.sub);
    }
    if let Some((a, b)) = f
        .payments
        .iter()
        .zip(&stored_payments)
        .find(|(a, b)| a != b)
    {
        println!("  baseline payment: {a:?}\n  stored payment:   {b:?}");
    }
    same_sub && same_payments && f.payments.len() == stored_payments.len()
}

/// Reads back what the raw baseline wrote for one fulfilment and compares it with the plan it
/// was given (the subscription and every payment, field by field).
async fn raw_rows_equal_plan(app: &App, ctx: &TenantContext, plan: &RawFulfilment) -> bool {
    let mut c = app.db.read().await.expect("read connection");
    let stored = subscriptions::get(&mut c, &ctx.tenant_id, &plan.sub.rental_id)
        .await
        .expect("read subscription");
    let mut stored_payments = payments::for_rental(&mut c, &ctx.tenant_id, &plan.sub.rental_id)
        .await
        .expect("read payments");
    let mut planned = plan.payments.clone();
    stored_payments.sort_by(|a, b| a.payment_id.cmp(&b.payment_id));
    planned.sort_by(|a, b| a.payment_id.cmp(&b.payment_id));
    let same = stored.as_ref() == Some(&plan.sub) && stored_payments == planned;
    println!(
        "raw rows: what the baseline stored for {} {} its plan ({} payments)",
        plan.sub.rental_id,
        if same { "equals" } else { "DIFFERS FROM" },
        stored_payments.len()
    );
    same
}

/// The figures of one side.
struct Side {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs the scenario and prints its figures.
pub fn run(args: FulfilArgs) {
    let (server_rt, threads) = http::server_runtime(args.server_threads);
    let n = args.fulfilments;
    println!(
        "== fulfil-http: engine {}, {n} fulfilments, {} connections (server {threads} threads, \
         load generator {} threads; load average {}) ==",
        args.engine.name(),
        args.connections,
        args.client_threads,
        crate::load_average()
    );
    let dir = TempDir::new();

    // Store under test: setup, server, load.
    let store = server_rt.block_on(FreshStore::create(args.engine, dir.path(), "fulfil"));
    eprintln!("setup (use case store):");
    let units = server_rt.block_on(prepare_units(
        &store.app,
        dir.path(),
        n,
        args.customers,
        args.seed,
        8,
    ));
    println!(
        "dataset: {n} available assets, {n} pending one-unit orders ({CONTRACT_MONTHS} months) of \
         {} customers",
        units.customers
    );
    let server = server_rt.block_on(http::start(store.app.clone()));
    let client_rt = http::client_runtime(args.client_threads);
    let target = Arc::new(Target::new(server.addr, auth_headers(&units.tenant)));
    let posts: Vec<Post> = units
        .units
        .iter()
        .map(|u| Post {
            path: "/v1/subscriptions".into(),
            body: Bytes::from(
                json!({"orderId": u.order.order.order_id, "assetSerialNumber": u.serial})
                    .to_string(),
            ),
        })
        .collect();
    let w = client_rt.block_on(loadgen::work_queue(
        target,
        Arc::new(posts),
        args.connections,
        StatusCode::CREATED,
    ));
    drop(client_rt);
    server.stop();
    let s: &Summary = &w.summary;
    println!(
        "use case (POST /v1/subscriptions, {} connections): {} answered, {} created (201), {} \
         errors in {:.2} s = {:.0} fulfilments/s; p50 {} ms, p99 {} ms",
        args.connections,
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
    let ctx = key_context(&units.tenant);
    let c = server_rt.block_on(counts(&store.app, &ctx.tenant_id));
    let schedule = CONTRACT_MONTHS as usize;
    print_counts("use case", &c, n, schedule);
    if let Some(u) = units.units.first() {
        assert!(
            server_rt.block_on(same_rows_check(&store.app, &ctx, u)),
            "the use case stored rows other than its fulfilment plan"
        );
    }
    let use_case = Side {
        rate: rate(w.succeeded, s.elapsed),
        p50: s.p50,
        p99: s.p99,
    };
    let errors = s.errors;
    server_rt.block_on(store.destroy());

    // Baseline store: same catalog, assets and orders; the same rows through the raw driver.
    let base = server_rt.block_on(FreshStore::create(args.engine, dir.path(), "raw"));
    eprintln!("setup (raw store):");
    let raw_units = server_rt.block_on(prepare_units(
        &base.app,
        dir.path(),
        n,
        args.customers,
        args.seed,
        8,
    ));
    let raw_ctx = key_context(&raw_units.tenant);
    let unit_rows: Vec<_> = raw_units
        .units
        .iter()
        .map(|u| {
            (
                u.order.order.clone(),
                u.order.items.clone(),
                u.serial.clone(),
            )
        })
        .collect();
    let now = base.app.now();
    let rows: Vec<RawFulfilment> =
        server_rt.block_on(raw_fulfil::build_all(&base.app, &raw_ctx, &unit_rows, now));
    let payments_each = rows.first().map_or(0, |f| f.payments.len());
    let first_plan = rows.first().cloned();
    let (driver, run) = match args.engine {
        Engine::Sqlite => {
            let path = base
                .sqlite_path()
                .expect("SQLite store has a file")
                .to_path_buf();
            // On this (non-runtime) thread, with its own connection.
            let run = raw_fulfil::sqlite_run(&path, &rows);
            ("rusqlite prepare_cached, one writer connection", run)
        }
        Engine::Postgres => {
            let url = base.url.clone();
            let workers = args.connections;
            let run = raw_fulfil::postgres_run(&url, Arc::new(rows), workers);
            (
                "tokio-postgres prepared statements, one connection per worker",
                run,
            )
        }
    };
    let raw_summary = Summary::from_latencies(run.latencies, 0, run.elapsed);
    let workers = match args.engine {
        Engine::Sqlite => 1,
        Engine::Postgres => args.connections,
    };
    println!(
        "raw      ({driver}, {workers} worker(s); per fulfilment BEGIN, INSERT subscription, \
         INSERT {payments_each} payments, assignment, event, UPDATE asset, order, customer, COMMIT): {} in {:.2} s \
         = {:.0} fulfilments/s; p50 {} ms, p99 {} ms",
        raw_summary.requests,
        run.elapsed.as_secs_f64(),
        raw_summary.rps(),
        ms(raw_summary.p50),
        ms(raw_summary.p99)
    );
    let c = server_rt.block_on(counts(&base.app, &raw_ctx.tenant_id));
    print_counts("raw", &c, n, payments_each);
    if let Some(plan) = first_plan {
        assert!(
            server_rt.block_on(raw_rows_equal_plan(&base.app, &raw_ctx, &plan)),
            "the raw baseline stored rows other than the fulfilment plan"
        );
    }
    let raw = Side {
        rate: raw_summary.rps(),
        p50: raw_summary.p50,
        p99: raw_summary.p99,
    };
    server_rt.block_on(base.destroy());
    drop(dir);

    println!();
    println!(
        "engine    fulfilments  use case f/s  p50 ms   p99 ms   errors  raw f/s  p50 ms   \
         p99 ms   use case/raw"
    );
    let r = ratio(use_case.rate, raw.rate);
    println!(
        "{:<9} {n:<12} {:>12.0}  {:>7} {:>8} {:>6}  {:>7.0}  {:>7} {:>8}   {r:>5.2} (target ≥ 0.5: {})",
        args.engine.name(),
        use_case.rate,
        ms(use_case.p50),
        ms(use_case.p99),
        errors,
        raw.rate,
        ms(raw.p50),
        ms(raw.p99),
        if r >= 0.5 { "met" } else { "NOT met" }
    );
}
