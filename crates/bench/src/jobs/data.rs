//! Building the `jobs` dataset: the start dates, the units and their settings, and the rows
//! written chunk by chunk with the store's statements.

use super::*;

pub(super) fn date(s: &str) -> String {
    flexportal_app::lifecycle::stored_date(s)
        .unwrap_or_else(|_| panic!("not a date: {s:?}"))
        .to_string()
}

/// The start dates of the dataset and which contracts have ended and owe an overdue payment.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `--as-of`, `YYYY-MM-DD`.
    pub as_of: String,
    /// Late fees apply to payments due before this date (`as_of` − [`GRACE_DAYS`]).
    pub cutoff: String,
    /// Start date of subscription `i`.
    pub starts: Vec<String>,
    /// Whether contract `i` ends before `as_of`.
    pub ended: Vec<bool>,
    /// Whether subscription `i` keeps its last payment due before `cutoff` unpaid.
    pub overdue: Vec<bool>,
}

impl Layout {
    /// Lays out `n` subscriptions as of `as_of`: subscription `i` has ended when `i mod 10 < 3`
    /// (30 %), its end date 1–[`END_SPREAD_DAYS`] days before `as_of`; the others started within
    /// the 36 months up to `as_of`. `overdue` subscriptions whose first payment is due before the
    /// cutoff, evenly spread, keep one overdue payment. Panics when fewer qualify.
    pub fn new(n: usize, as_of: &str, overdue: usize) -> Layout {
        let x = flexportal_app::lifecycle::stored_date(as_of).expect("as-of date");
        let back = add_months(x, -MONTHS);
        let window = flexportal_domain::quote::days_between(back, x).max(1);
        let cutoff = add_days(x, -GRACE_DAYS).to_string();
        let mut starts = Vec::with_capacity(n);
        let mut ended = Vec::with_capacity(n);
        for i in 0..n {
            let h = i as i64;
            let e = (i % 10) * 10 < ENDED_PERCENT;
            let s = if e {
                add_days(back, -((h * 7_919) % END_SPREAD_DAYS))
            } else {
                add_days(back, 1 + (h * 104_729) % window)
            };
            starts.push(s.to_string());
            ended.push(e);
        }
        let eligible: Vec<usize> = (0..n).filter(|i| starts[*i] < cutoff).collect();
        assert!(
            eligible.len() >= overdue,
            "only {} subscriptions have a payment due before {cutoff}; asked for {overdue} \
             overdue payments",
            eligible.len()
        );
        let mut flags = vec![false; n];
        for j in 0..overdue {
            flags[eligible[j * eligible.len() / overdue]] = true;
        }
        Layout {
            as_of: as_of.to_string(),
            cutoff,
            starts,
            ended,
            overdue: flags,
        }
    }
}

/// One subscription of the setup: who orders what, which asset, from when.
#[derive(Debug, Clone)]
struct Unit {
    customer: usize,
    sku: String,
    serial: String,
    start: String,
    overdue: bool,
}

/// The unit's settings document for the scenario: late fees on (flat [`LATE_FEE_MINOR`], grace
/// [`GRACE_DAYS`] days) and the contract-end behaviour.
pub fn settings_patch(behaviour: Behaviour) -> serde_json::Value {
    json!({
        "payments": {"lateFees": {
            "enabled": true,
            "method": "flat",
            "value": LATE_FEE_MINOR / 100,
            "gracePeriodDays": GRACE_DAYS,
        }},
        "subscriptions": {"contractEnd": {"behaviour": behaviour.setting()}},
    })
}

/// What the setup built.
pub struct Data {
    /// The business unit and its key.
    pub tenant: BenchTenant,
    /// The layout of the dates.
    pub layout: Layout,
}

/// Builds the dataset in `app` (see the module documentation); progress to stderr, a summary to
/// stdout.
pub async fn build(app: &App, dir: &Path, args: &JobsArgs, as_of: &str) -> Data {
    let n = args.subscriptions;
    let overdue = args.overdue.unwrap_or(n / 2);
    let started = Instant::now();
    let layout = Layout::new(n, as_of, overdue);
    let data = dataset::generate(app, dir, n as u64, args.seed, 100).await;
    let (s, took) = import::timed_import(app, &data.tenant.ctx, &data.csv).await;
    assert_eq!(s.created, n as u64, "every generated asset is imported");
    eprintln!(
        "  {} products, {} variants, {n} available assets imported in {:.1} s",
        data.products,
        data.variants.len(),
        took.as_secs_f64()
    );
    let _ = std::fs::remove_file(&data.csv.path);
    let tenant_id = data.tenant.ctx.tenant_id.clone();
    let settings =
        flexportal_app::admin::set_settings(app, &tenant_id, &settings_patch(args.behaviour), true)
            .await
            .unwrap_or_else(|e| panic!("set the unit's settings: {e:?}"));
    eprintln!("  settings: {}", describe_settings(&settings));
    let ctx = TenantContext {
        settings: Arc::new(settings),
        ..fulfil::key_context(&data.tenant)
    };
    let customers = (n / args.per_customer.max(1)).max(1);
    let owner = assign_customers(&data.csv.skus, customers);
    let mut units: Vec<Unit> = (0..n)
        .map(|i| Unit {
            customer: owner[i],
            sku: data.csv.skus[i].clone(),
            serial: data.csv.serials[i].clone(),
            start: layout.starts[i].clone(),
            overdue: layout.overdue[i],
        })
        .collect();
    // In the order they started, as a unit's rows accumulate: ids and timestamps grow, so the
    // inserts append to the indexes instead of landing all over them (several times faster on a
    // store larger than the page cache).
    units.sort_by(|a, b| a.start.cmp(&b.start));
    let tasks = args
        .setup_tasks
        .unwrap_or(match args.engine {
            Engine::Sqlite => 1,
            Engine::Postgres => 2,
        })
        .max(1);
    let t = Instant::now();
    write_all(app, &ctx, &layout, units, tasks).await;
    let write_time = t.elapsed();
    let t = Instant::now();
    analyze(app).await;
    let analyze_time = t.elapsed();
    let flush = crate::rentals::flush(app).await;
    let n_subs = count_rows(app, "subscriptions", &tenant_id, "").await;
    let n_pay = count_rows(app, "payments", &tenant_id, "").await;
    let n_ended = count_rows(
        app,
        "subscriptions",
        &tenant_id,
        &format!("AND status = 'active' AND end_date < '{as_of}'"),
    )
    .await;
    let n_overdue = count_rows(
        app,
        "payments",
        &tenant_id,
        &format!(
            "AND status IN ('pending', 'failed') AND late_fee_applied = 0 AND due_date < '{}'",
            layout.cutoff
        ),
    )
    .await;
    let expect_ended = layout.ended.iter().filter(|e| **e).count();
    println!(
        "dataset: {n_subs} active subscriptions ({MONTHS} months) with {n_pay} payments of \
         {customers} customers; {n_ended} contracts ended before {as_of} (expected \
         {expect_ended}); {n_overdue} payments overdue before {} without a fee (expected \
         {overdue}); setup {:.1} s (orders + subscriptions {:.1} s = {:.0} subscriptions/s, \
         {:.0} payments/s, {tasks} task(s); ANALYZE {:.1} s; {flush})",
        layout.cutoff,
        started.elapsed().as_secs_f64(),
        write_time.as_secs_f64(),
        rate(n as u64, write_time),
        rate(n_pay as u64, write_time),
        analyze_time.as_secs_f64()
    );
    assert_eq!(n_subs, n as i64, "every subscription is stored");
    assert_eq!(n_pay, n as i64 * MONTHS, "every payment is stored");
    assert_eq!(n_ended, expect_ended as i64, "ended contracts as laid out");
    assert_eq!(n_overdue, overdue as i64, "overdue payments as laid out");
    Data {
        tenant: BenchTenant { ctx, ..data.tenant },
        layout,
    }
}

/// Writes every unit, `tasks` concurrent tasks each owning the customers `c ≡ k (mod tasks)`.
async fn write_all(
    app: &App,
    ctx: &TenantContext,
    layout: &Layout,
    units: Vec<Unit>,
    tasks: usize,
) {
    let total = units.len();
    let mut parts: Vec<Vec<Unit>> = vec![Vec::new(); tasks];
    for u in units {
        parts[u.customer % tasks].push(u);
    }
    let step = (total / 10).max(1);
    let done = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for part in parts {
        let (app, ctx, done) = (app.clone(), ctx.clone(), done.clone());
        let (as_of, cutoff) = (layout.as_of.clone(), layout.cutoff.clone());
        set.spawn(async move {
            let mut variant_cache = HashMap::new();
            for (k, chunk) in part.chunks(CHUNK).enumerate() {
                write_chunk(&app, &ctx, &as_of, &cutoff, chunk, &mut variant_cache).await;
                if (k + 1).is_power_of_two() {
                    analyze(&app).await;
                }
                let before = done.fetch_add(chunk.len(), Ordering::Relaxed);
                if (before + chunk.len()) / step > before / step {
                    eprintln!("  … {} subscriptions", before + chunk.len());
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("setup task");
    }
}

/// The tables the setup fills.
const TABLES: [&str; 7] = [
    "subscriptions",
    "payments",
    "customers",
    "assets",
    "orders",
    "asset_assignments",
    "subscription_events",
];

/// `ANALYZE` of the tables the setup fills, after 1, 2, 4, … chunks and at the end: a PostgreSQL
/// server without autovacuum (as the benchmark's may be) otherwise keeps the plans it cached
/// when the tables were nearly empty (sequential scans, foreign-key checks included) while they
/// grow to millions of rows, and the setup slows down quadratically.
async fn analyze(app: &App) {
    for table in TABLES {
        app.db
            .analyze(table)
            .await
            .unwrap_or_else(|e| panic!("ANALYZE {table}: {e}"));
    }
}

/// Orders and fulfils `chunk` in one transaction (see the module documentation).
async fn write_chunk(
    app: &App,
    ctx: &TenantContext,
    as_of: &str,
    cutoff: &str,
    chunk: &[Unit],
    variant_cache: &mut HashMap<String, Option<VariantWithProduct>>,
) {
    let tenant = ctx.tenant_id.as_str();
    let mut tx = app.db.begin().await.expect("write transaction");
    let mut all_payments = Vec::with_capacity(chunk.len() * MONTHS as usize);
    for (k, u) in chunk.iter().enumerate() {
        // Ordered at 09:00 UTC on the start date, fulfilled a second later.
        let now = date_millis(&u.start) + 9 * 3_600_000 + k as i64;
        let input = flexportal_app::orders::parse(ctx, &order_body(u.customer, &u.sku))
            .unwrap_or_else(|e| panic!("order body: {e:?}"));
        let view = flexportal_app::orders::create_in(&mut tx, ctx, &input, now)
            .await
            .unwrap_or_else(|e| panic!("createOrder: {e:?}"));
        let asset = assets::get(&mut tx, tenant, &u.serial)
            .await
            .expect("read asset")
            .unwrap_or_else(|| panic!("asset {} exists", u.serial));
        if !variant_cache.contains_key(&asset.sku) {
            let v = variants::get_with_product(&mut tx, tenant, &asset.sku)
                .await
                .expect("read variant");
            variant_cache.insert(asset.sku.clone(), v);
        }
        let item = &view.items[0];
        let start = flexportal_app::lifecycle::stored_date(&u.start).expect("start date");
        let now = now + 1_000;
        let mut plan = fulfilment::plan(
            ctx,
            &FulfilmentInput {
                order: &view.order,
                item,
                item_index: 0,
                asset: &asset,
                variant: variant_cache.get(&asset.sku).and_then(Option::as_ref),
                contract_length: item.contract_length,
                monthly_amount: item.unit_price,
                start,
                option: None,
                notes: None,
                now,
            },
        )
        .unwrap_or_else(|e| panic!("fulfilment plan: {e:?}"));
        // Past payments were paid, except the last one due before the cutoff of an overdue
        // subscription.
        let keep_open = if u.overdue {
            plan.payments
                .iter()
                .rposition(|p| p.due_date.as_str() < cutoff)
        } else {
            None
        };
        assert!(!u.overdue || keep_open.is_some(), "an overdue payment");
        let mut collected = 0;
        for (j, p) in plan.payments.iter_mut().enumerate() {
            if p.due_date.as_str() < as_of && Some(j) != keep_open {
                let paid_at = date_millis(&p.billing_date) + 10 * 3_600_000;
                p.status = "paid".into();
                p.paid_at = Some(paid_at);
                p.manually_marked = true;
                p.marked_by = Some(ctx.actor.user_id.clone());
                p.updated_at = paid_at;
                collected += p.subtotal;
            }
        }
        plan.sub.total_collected += collected;
        plan.delta.collected += collected;
        let s = &plan.sub;
        subscriptions::insert(&mut tx, s)
            .await
            .expect("insert subscription");
        let assigned = assets::assign(
            &mut tx,
            tenant,
            &s.asset_serial_number,
            &s.customer_id,
            &s.rental_id,
            now,
        )
        .await
        .expect("assign asset");
        assert!(assigned, "asset {} available", s.asset_serial_number);
        if plan.collected + collected > 0 {
            assets::add_collected(
                &mut tx,
                tenant,
                &s.asset_serial_number,
                plan.collected + collected,
                now,
            )
            .await
            .expect("asset collected");
        }
        orders::update(&mut tx, &plan.order)
            .await
            .expect("update order");
        customers::add_counters(&mut tx, tenant, &s.customer_id, plan.delta, now)
            .await
            .expect("customer counters");
        assignments::open(
            &mut tx,
            tenant,
            &s.rental_id,
            &s.asset_serial_number,
            &plan.assigned_from,
            now,
        )
        .await
        .expect("open assignment");
        subscription_events::append(&mut tx, &plan.event)
            .await
            .expect("created event");
        all_payments.append(&mut plan.payments);
    }
    payments::insert_many(&mut tx, &all_payments)
        .await
        .expect("insert payments");
    tx.commit().await.expect("commit");
}
