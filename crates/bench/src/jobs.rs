//! Scenario `jobs`: the daily jobs (`flexportal_app::jobs::run_unit`: contract end, then late
//! fees) over a business unit with `--subscriptions` active 36-month subscriptions, against the
//! raw driver writing the same row changes.
//!
//! 1. Setup (one fresh store): the catalog, one `available` asset per subscription (imported),
//!    then in transactions of [`CHUNK`] subscriptions: the order (`orders::parse` +
//!    `orders::create_in`, the use case's own code, at the subscription's start date), the
//!    fulfilment plan of `flexportal_app::fulfilment::plan` for it (subscription, 36 payments,
//!    assignment, `created` event, order progress, customer counters) written with the store's
//!    statements, and past payments marked paid except the chosen overdue ones. Start dates are
//!    spread so that [`ENDED_PERCENT`] % of the contracts ended in the [`END_SPREAD_DAYS`] days
//!    before `--as-of` (still `active`), and `--overdue` payments are past their due date plus
//!    the grace period of the unit's late fees ([`GRACE_DAYS`]) without a fee.
//! 2. The store is copied ([`FreshStore::duplicate`]) for the baseline, so both start from the
//!    same rows.
//! 3. Measured: `run_unit` as of `--as-of` (wall time, rows changed by kind counted by SQL, peak
//!    RSS growth), then a second run for the same date, which must change nothing.
//! 4. Baseline: on the copy, the same row changes (computed before the clock from the same
//!    domain functions, see [`crate::raw_jobs`]) with prepared statements of the raw driver in
//!    two transactions; then the ratio of the two rates.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use flexportal_app::fulfilment::{self, FulfilmentInput};
use flexportal_app::jobs::JobReport;
use flexportal_app::{App, TenantContext};
use flexportal_domain::schedule::{add_days, add_months};
use flexportal_domain::settings::UnitSettings;
use flexportal_store::variants::{self, VariantWithProduct};
use flexportal_store::{
    FromRow, Row, assets, assignments, customers, orders, payments, subscription_events,
    subscriptions, tenants,
};
use serde_json::json;

use crate::dataset::{self, BenchTenant};
use crate::fulfil::{self, assign_customers, order_body};
use crate::raw_jobs;
use crate::rss::{self, Mem, Peaks};
use crate::stats::{rate, ratio};
use crate::store::{FreshStore, TempDir, count_rows};
use crate::{Engine, import, plan};

mod data;
pub(crate) use data::build;
use data::{Layout, date};

/// What the contract-end job does with an ended contract (the unit's
/// `subscriptions.contractEnd.behaviour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Behaviour {
    /// Holdover charges for every month started after the end date (the default).
    #[value(name = "require_action")]
    RequireAction,
    /// End the subscription as `ended_completed` on its end date.
    #[value(name = "auto_terminate")]
    AutoTerminate,
    /// Extend by one month at a time until the contract covers the date.
    #[value(name = "auto_renew_monthly")]
    AutoRenewMonthly,
}

impl Behaviour {
    /// The setting's value.
    pub fn setting(self) -> &'static str {
        match self {
            Behaviour::RequireAction => "require_action",
            Behaviour::AutoTerminate => "auto_terminate",
            Behaviour::AutoRenewMonthly => "auto_renew_monthly",
        }
    }
}

/// Options of the `jobs` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct JobsArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Active subscriptions (36 monthly payments each).
    #[arg(long, default_value_t = 100_000)]
    pub subscriptions: usize,
    /// Subscriptions per customer (customers = subscriptions / this).
    #[arg(long, default_value_t = 10)]
    pub per_customer: usize,
    /// Payments overdue without a fee before the run (default: half the subscriptions, one
    /// payment each).
    #[arg(long)]
    pub overdue: Option<usize>,
    /// Runs of the jobs for the same date (the first changes the rows, the others must not).
    #[arg(long, default_value_t = 2)]
    pub runs: usize,
    /// Contract-end behaviour of the unit.
    #[arg(long, value_enum, default_value = "require_action")]
    pub behaviour: Behaviour,
    /// The date the jobs run for, `YYYY-MM-DD` (default: today in the unit's time zone; not
    /// after today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Concurrent transactions of the setup (default: 1 on SQLite, 2 on PostgreSQL).
    #[arg(long)]
    pub setup_tasks: Option<usize>,
    /// Seed of the dataset generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Months of every contract.
pub const MONTHS: i64 = 36;
/// Share of the contracts whose end date is before `--as-of`, percent.
pub const ENDED_PERCENT: usize = 30;
/// The ended contracts ended about 1 to this many days before `--as-of` (month-end clamping can
/// move an end date up to 3 days earlier), so the contract-end job bills one or two holdover
/// months (or renews once or twice) per contract.
pub const END_SPREAD_DAYS: i64 = 60;
/// `payments.lateFees.gracePeriodDays` of the unit: longer than [`END_SPREAD_DAYS`] plus the
/// clamping, so the charges the contract-end job creates (billed after an end date) are not
/// overdue yet and the late-fee job changes exactly the `--overdue` payments of the dataset.
pub const GRACE_DAYS: i64 = 65;
/// The flat late fee, minor units (5.00 EUR).
pub const LATE_FEE_MINOR: i64 = 500;
/// Subscriptions per setup transaction.
pub const CHUNK: usize = 500;

/// Epoch milliseconds of 00:00 UTC on `date` (`YYYY-MM-DD`).
pub fn date_millis(date: &str) -> i64 {
    let part = |r: std::ops::Range<usize>| -> i64 {
        date.get(r)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a YYYY-MM-DD date: {date:?}"))
    };
    let (y, m, d) = (part(0..4), part(5..7), part(8..10));
    // Days from the civil date (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000
}

/// Rows a run changed, counted by SQL: rows created or updated at or after a time (every row of
/// the dataset is older), and assignments closed since a count taken before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Payments inserted (holdover charges, renewal charges).
    pub payments_inserted: i64,
    /// Σ total of those, minor units.
    pub inserted_total: i64,
    /// Existing payments updated (late fees, cancellations).
    pub payments_updated: i64,
    /// Of those, payments that got a late fee.
    pub late_fees: i64,
    /// Σ late fees, minor units.
    pub late_fee_total: i64,
    /// Subscriptions updated.
    pub subscriptions_updated: i64,
    /// Assets updated.
    pub assets_updated: i64,
    /// Customers updated.
    pub customers_updated: i64,
    /// History events inserted.
    pub events_inserted: i64,
    /// Asset assignments closed.
    pub assignments_closed: i64,
}

impl Changes {
    /// Every row inserted or updated.
    pub fn rows(&self) -> i64 {
        self.payments_inserted
            + self.payments_updated
            + self.subscriptions_updated
            + self.assets_updated
            + self.customers_updated
            + self.events_inserted
            + self.assignments_closed
    }
}

struct Ints(Vec<i64>);

impl FromRow for Ints {
    fn from_row(r: &dyn Row) -> flexportal_store::Result<Self> {
        let mut v = Vec::new();
        while r.column_name(v.len()).is_some() {
            v.push(r.int(v.len())?);
        }
        Ok(Ints(v))
    }
}

/// One row of integers of literal SQL (every value in it generated here).
async fn ints(app: &App, sql: &str) -> Vec<i64> {
    let mut c = app.db.read().await.expect("read connection");
    c.fetch_all_sql::<Ints>(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .pop()
        .map(|r| r.0)
        .unwrap_or_default()
}

/// Asset assignments closed so far in the unit.
pub async fn closed_assignments(app: &App, tenant: &str) -> i64 {
    count_rows(
        app,
        "asset_assignments",
        tenant,
        "AND assigned_to IS NOT NULL",
    )
    .await
}

/// The rows changed since `since` (epoch ms); `closed_before` from [`closed_assignments`].
pub async fn changes(app: &App, tenant: &str, since: i64, closed_before: i64) -> Changes {
    let w = format!("tenant_id = '{tenant}'");
    let sum = |e: &str| format!("CAST(COALESCE(SUM({e}), 0) AS BIGINT)");
    let ins = ints(
        app,
        &format!(
            "SELECT COUNT(*), {} FROM payments WHERE {w} AND created_at >= {since}",
            sum("total")
        ),
    )
    .await;
    let upd = ints(
        app,
        &format!(
            "SELECT COUNT(*), {}, {} FROM payments WHERE {w} AND created_at < {since} \
             AND updated_at >= {since}",
            sum("late_fee_applied"),
            sum("late_fee_amount")
        ),
    )
    .await;
    let count = |table: &'static str, col: &'static str| {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {w} AND {col} >= {since}");
        async move { ints(app, &sql).await[0] }
    };
    Changes {
        payments_inserted: ins[0],
        inserted_total: ins[1],
        payments_updated: upd[0],
        late_fees: upd[1],
        late_fee_total: upd[2],
        subscriptions_updated: count("subscriptions", "updated_at").await,
        assets_updated: count("assets", "updated_at").await,
        customers_updated: count("customers", "updated_at").await,
        events_inserted: count("subscription_events", "created_at").await,
        assignments_closed: closed_assignments(app, tenant).await - closed_before,
    }
}

/// Aggregates of the unit's state after a run (equal on both stores when both made the same
/// changes): active subscriptions and Σ contract months, Σ customer devices and monthly revenue,
/// payments and Σ totals, returned assets, events.
pub async fn state(app: &App, tenant: &str) -> Vec<i64> {
    let w = format!("tenant_id = '{tenant}'");
    let sum = |e: &str| format!("CAST(COALESCE(SUM({e}), 0) AS BIGINT)");
    let mut out = ints(
        app,
        &format!(
            "SELECT COUNT(*), {} FROM subscriptions WHERE {w} AND status = 'active'",
            sum("contract_length")
        ),
    )
    .await;
    out.extend(
        ints(
            app,
            &format!(
                "SELECT {}, {} FROM customers WHERE {w}",
                sum("total_devices_rented"),
                sum("total_monthly_revenue")
            ),
        )
        .await,
    );
    out.extend(
        ints(
            app,
            &format!(
                "SELECT COUNT(*), {}, {} FROM payments WHERE {w}",
                sum("total"),
                sum("late_fee_applied")
            ),
        )
        .await,
    );
    out.push(count_rows(app, "assets", tenant, "AND status = 'returned'").await);
    out.push(count_rows(app, "subscription_events", tenant, "").await);
    out
}

/// The job's context as `flexportal jobs run` builds it (actor `system`, stored settings).
pub async fn job_context(app: &App, tenant: &str) -> TenantContext {
    let mut c = app.db.read().await.expect("read connection");
    let t = tenants::get(&mut c, tenant)
        .await
        .expect("read the unit")
        .expect("the unit exists");
    flexportal_app::jobs::job_context(&t).expect("job context")
}

/// One measured run of the jobs.
pub struct Measured {
    /// What `run_unit` reported.
    pub report: JobReport,
    /// Wall time of `run_unit`.
    pub elapsed: Duration,
    /// Rows changed.
    pub changes: Changes,
    /// Memory before (after resetting the peak) and after.
    pub mem: (Mem, Mem),
    /// Highest anonymous and file-backed resident memory sampled during the run.
    pub peaks: Peaks,
    /// Whether the peak could be reset before the run.
    pub peak_reset: bool,
    /// The load average before the run.
    pub load: String,
}

/// Runs `run_unit` as of `today` on a worker of `rt`, measuring time, memory and rows changed.
pub fn measure(
    rt: &tokio::runtime::Runtime,
    app: &App,
    ctx: &TenantContext,
    today: &str,
) -> Measured {
    let tenant = ctx.tenant_id.clone();
    let closed_before = rt.block_on(closed_assignments(app, &tenant));
    let load = crate::load_average();
    let since = app.now();
    let peak_reset = rss::reset_peak();
    let before = rss::read();
    let sampler = rss::Sampler::start(Duration::from_millis(10));
    let started = Instant::now();
    let (a, c, d) = (app.clone(), ctx.clone(), today.to_string());
    let report = rt
        .block_on(rt.spawn(async move {
            let day = flexportal_app::lifecycle::stored_date(&d).expect("date");
            flexportal_app::jobs::run_unit(&a, &c, day).await
        }))
        .expect("job task")
        .unwrap_or_else(|e| panic!("run_unit: {e:?}"));
    let elapsed = started.elapsed();
    let peaks = sampler.stop();
    let after = rss::read();
    let changes = rt.block_on(changes(app, &tenant, since, closed_before));
    Measured {
        report,
        elapsed,
        changes,
        mem: (before, after),
        peaks,
        peak_reset,
        load,
    }
}

fn print_changes(label: &str, c: &Changes, elapsed: Duration) {
    println!(
        "{label}: {} rows in {:.2} s = {:.0} rows/s — payments inserted {} (Σ {} minor units), \
         payments updated {} (late fees {}, Σ {}), subscriptions updated {}, assets updated {}, \
         customers updated {}, events inserted {}, assignments closed {}",
        c.rows(),
        elapsed.as_secs_f64(),
        rate(c.rows() as u64, elapsed),
        c.payments_inserted,
        c.inserted_total,
        c.payments_updated,
        c.late_fees,
        c.late_fee_total,
        c.subscriptions_updated,
        c.assets_updated,
        c.customers_updated,
        c.events_inserted,
        c.assignments_closed
    );
}

fn print_memory(m: &Measured) {
    let (b, a) = (&m.mem.0, &m.mem.1);
    println!(
        "  memory: VmHWM {} → {} MiB (growth {} MiB{}); RssAnon {} → {} MiB (sampled peak {} \
         MiB, {} samples); RssFile {} → {} MiB (sampled peak {} MiB)",
        rss::mib(b.hwm_kib),
        rss::mib(a.hwm_kib),
        rss::delta_mib(a.hwm_kib, b.hwm_kib),
        if m.peak_reset {
            ", peak reset before the run"
        } else {
            ", peak NOT reset: includes the setup"
        },
        rss::mib(b.anon_kib),
        rss::mib(a.anon_kib),
        rss::mib(m.peaks.anon_kib),
        m.peaks.samples,
        rss::mib(b.file_kib),
        rss::mib(a.file_kib),
        rss::mib(m.peaks.file_kib)
    );
}

/// Prints the plans of the contract-end job's page query (first page and one after half the
/// ended contracts) and of the late-fee job's `UPDATE`, built as `subscriptions::ended_contracts`
/// and `payments::apply_late_fees` build them. SQLite: prepared, then given their values, as the
/// store runs them (every literal of those statements is a parameter), with the store's QPSG and
/// without it. PostgreSQL: the custom and generic plans of the `SELECT`s (the `UPDATE`'s rows as
/// a `SELECT`).
async fn print_plans(app: &App, tenant: &str, layout: &Layout) {
    use flexportal_store::sea_query::{
        Expr, ExprTrait, Order, Query, SelectStatement, SqliteQueryBuilder, UpdateStatement,
    };
    let middle: Option<String> = {
        let mut c = app.db.read().await.expect("read connection");
        let ids = subscriptions::ended_contracts(&mut c, tenant, &layout.as_of, None, 1 << 40)
            .await
            .expect("ended contracts");
        ids.get(ids.len() / 2).cloned()
    };
    let page = |after: Option<&str>| -> SelectStatement {
        let mut q = Query::select();
        q.from("subscriptions")
            .and_where(Expr::col(("subscriptions", "tenant_id")).eq(tenant))
            .column("rental_id")
            .and_where(Expr::col("status").eq("active"))
            .and_where(Expr::col("end_date").lt(layout.as_of.as_str()));
        if let Some(a) = after {
            q.and_where(Expr::col("rental_id").gt(a));
        }
        q.order_by("rental_id", Order::Asc)
            .limit(flexportal_app::jobs::BATCH);
        q
    };
    let late: UpdateStatement = {
        let mut u = Query::update();
        u.table("payments")
            .and_where(Expr::col("tenant_id").eq(tenant))
            .values([
                ("original_amount", Expr::col("total")),
                ("late_fee_amount", Expr::val(LATE_FEE_MINOR)),
                ("total", Expr::col("total").add(LATE_FEE_MINOR)),
                ("late_fee_applied", 1i64.into()),
                ("updated_at", 0i64.into()),
            ])
            .and_where(Expr::col("status").is_in(["pending", "failed"]))
            .and_where(Expr::col("late_fee_applied").eq(0i64))
            .and_where(Expr::col("due_date").lt(layout.cutoff.as_str()));
        u
    };
    let late_rows = {
        let mut q = Query::select();
        q.from("payments")
            .and_where(Expr::col(("payments", "tenant_id")).eq(tenant))
            .column("payment_id")
            .and_where(Expr::col("status").is_in(["pending", "failed"]))
            .and_where(Expr::col("late_fee_applied").eq(0i64))
            .and_where(Expr::col("due_date").lt(layout.cutoff.as_str()));
        q
    };
    let pages = [
        ("first page", page(None)),
        ("page after half of them", page(middle.as_deref())),
    ];
    match app.db.sqlite_path() {
        Some(path) => {
            for (label, q) in &pages {
                let (sql, values) = q.build(SqliteQueryBuilder);
                plan::print_sqlite_bound(
                    path,
                    &format!("contract-end job, {label} (subscriptions::ended_contracts)"),
                    &sql,
                    &values.0,
                );
            }
            let (sql, values) = late.build(SqliteQueryBuilder);
            plan::print_sqlite_bound(
                path,
                "late-fee job (payments::apply_late_fees)",
                &sql,
                &values.0,
            );
        }
        None => {
            for (label, q) in &pages {
                plan::print(
                    app,
                    &format!("contract-end job, {label} (subscriptions::ended_contracts)"),
                    q,
                )
                .await;
            }
            plan::print(
                app,
                "late-fee job: the rows of its UPDATE (payments::apply_late_fees)",
                &late_rows,
            )
            .await;
        }
    }
}

/// Runs the scenario and prints its figures.
pub fn run(args: JobsArgs) {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime");
    let now = flexportal_app::SystemClock;
    let today = flexportal_domain::time::today_in(
        "Europe/Amsterdam",
        flexportal_app::Clock::now_millis(&now),
    )
    .to_string();
    let as_of = date(args.as_of.as_deref().unwrap_or(&today));
    assert!(as_of <= today, "--as-of {as_of} is after today ({today})");
    let n = args.subscriptions;
    println!(
        "== jobs: engine {}, {n} subscriptions × {MONTHS} payments, behaviour {}, as of {as_of} \
         ({threads} runtime threads; load average {}) ==",
        args.engine.name(),
        args.behaviour.setting(),
        crate::load_average()
    );
    let dir = TempDir::new();
    let store = rt.block_on(FreshStore::create(args.engine, dir.path(), "jobs"));
    eprintln!("setup:");
    let data = rt.block_on(build(&store.app, dir.path(), &args, &as_of));
    let tenant = data.tenant.ctx.tenant_id.clone();
    let t = Instant::now();
    let (store, base) = rt.block_on(store.duplicate(dir.path(), "raw"));
    println!(
        "baseline store: a copy of the dataset ({:.1} s)",
        t.elapsed().as_secs_f64()
    );
    rt.block_on(print_plans(&store.app, &tenant, &data.layout));

    // Measured: the jobs, then again for the same date.
    let ctx = rt.block_on(job_context(&store.app, &tenant));
    let first = measure(&rt, &store.app, &ctx, &as_of);
    println!(
        "jobs run 1 (load average before {}): {:?}",
        first.load, first.report
    );
    print_changes("  rows changed", &first.changes, first.elapsed);
    print_memory(&first);
    let expected_late = data.layout.overdue.iter().filter(|o| **o).count() as i64;
    let ok_late = first.changes.late_fees == expected_late;
    println!(
        "  late fees: {} (expected {expected_late}: {})",
        first.changes.late_fees,
        if ok_late { "ok" } else { "MISMATCH" }
    );
    let mut second = None;
    for k in 2..=args.runs.max(2) {
        let m = measure(&rt, &store.app, &ctx, &as_of);
        println!(
            "jobs run {k}, same date (load average before {}): {:?}",
            m.load, m.report
        );
        print_changes("  rows changed", &m.changes, m.elapsed);
        print_memory(&m);
        second.get_or_insert(m);
    }
    let second = second.expect("a second run");
    println!("late-fee statement alone, after the runs (nothing overdue any more):");
    match store.sqlite_path() {
        Some(path) => raw_jobs::late_fee_probe(path, &tenant, &data.layout.cutoff),
        None => raw_jobs::late_fee_probe_pg(&store.url, &tenant, &data.layout.cutoff),
    }
    let job_state = rt.block_on(state(&store.app, &tenant));
    rt.block_on(store.destroy());

    // Baseline: the same changes with the raw driver on the copy.
    let raw_ctx = rt.block_on(job_context(&base.app, &tenant));
    let since = base.app.now();
    let closed_before = rt.block_on(closed_assignments(&base.app, &tenant));
    let t = Instant::now();
    let work = rt.block_on(raw_jobs::prepare(
        &base.app,
        &raw_ctx,
        &as_of,
        args.behaviour,
    ));
    println!(
        "raw changes computed before the clock in {:.1} s: {}",
        t.elapsed().as_secs_f64(),
        work.describe()
    );
    if let Some(path) = base.sqlite_path() {
        println!("late-fee statement alone, on the copy before any run (rolled back):");
        raw_jobs::late_fee_probe(path, &tenant, &data.layout.cutoff);
    }
    let raw_load = crate::load_average();
    let (driver, raw_elapsed) = match args.engine {
        Engine::Sqlite => {
            let path = base.sqlite_path().expect("SQLite file").to_path_buf();
            (
                "rusqlite prepare_cached, one connection",
                raw_jobs::sqlite_run(&path, &work),
            )
        }
        Engine::Postgres => (
            "tokio-postgres prepared statements, one connection",
            raw_jobs::postgres_run(&base.url, &work),
        ),
    };
    let raw_changes = rt.block_on(changes(&base.app, &tenant, since, closed_before));
    print_changes(
        &format!("raw ({driver}, two transactions; load average before {raw_load})"),
        &raw_changes,
        raw_elapsed,
    );
    let raw_state = rt.block_on(state(&base.app, &tenant));
    let same = raw_changes == first.changes && raw_state == job_state;
    println!(
        "same rows: the baseline's changes {} the jobs' (counts and sums by kind {}, unit \
         state after {})",
        if same { "equal" } else { "DIFFER FROM" },
        if raw_changes == first.changes {
            "equal"
        } else {
            "differ"
        },
        if raw_state == job_state {
            "equal"
        } else {
            "differs"
        }
    );
    if !same {
        println!(
            "  jobs: {:?} {job_state:?}\n  raw:  {raw_changes:?} {raw_state:?}",
            first.changes
        );
    }
    rt.block_on(base.destroy());
    drop(dir);

    let jobs_rate = rate(first.changes.rows() as u64, first.elapsed);
    let raw_rate = rate(raw_changes.rows() as u64, raw_elapsed);
    let r = ratio(jobs_rate, raw_rate);
    println!();
    println!(
        "engine    behaviour           subs     ended  rows     jobs s   rows/s    raw s    \
         raw rows/s  jobs/raw  ΔVmHWM MiB  run 2 s  run 2 rows"
    );
    println!(
        "{:<9} {:<18} {n:<8} {:<6} {:<8} {:>6.2} {:>8.0} {:>8.2} {:>11.0}  {r:>5.2} ({})  {:>8}  \
         {:>7.2}  {}",
        args.engine.name(),
        args.behaviour.setting(),
        first.report.contracts_ended,
        first.changes.rows(),
        first.elapsed.as_secs_f64(),
        jobs_rate,
        raw_elapsed.as_secs_f64(),
        raw_rate,
        if r >= 0.5 { "met" } else { "NOT met" },
        rss::delta_mib(first.mem.1.hwm_kib, first.mem.0.hwm_kib),
        second.elapsed.as_secs_f64(),
        second.changes.rows()
    );
}

/// The settings the scenario depends on, for printing.
pub fn describe_settings(s: &UnitSettings) -> String {
    let lf = &s.payments.late_fees;
    format!(
        "late fees {} ({:?} {}, grace {} days), contract end {:?}",
        if lf.enabled { "on" } else { "off" },
        lf.method,
        lf.value.0,
        lf.grace_period_days,
        s.subscriptions.contract_end.behaviour
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_epoch_days() {
        assert_eq!(date_millis("1970-01-01"), 0);
        assert_eq!(date_millis("1970-01-02"), 86_400_000);
        assert_eq!(date_millis("2000-03-01"), 951_868_800_000);
        assert_eq!(date_millis("2024-02-29"), 1_709_164_800_000);
    }

    #[test]
    fn layout_ends_thirty_percent_and_picks_the_overdue() {
        let l = Layout::new(1_000, "2025-06-15", 500);
        assert_eq!(l.ended.iter().filter(|e| **e).count(), 300);
        assert_eq!(l.overdue.iter().filter(|o| **o).count(), 500);
        assert_eq!(l.cutoff, "2025-04-11");
        for (i, s) in l.starts.iter().enumerate() {
            assert!(s.as_str() <= "2025-06-15", "{s}");
            if l.overdue[i] {
                assert!(*s < l.cutoff);
            }
        }
    }
}
