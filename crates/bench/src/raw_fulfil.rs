//! The raw-driver baseline of the fulfilment: the rows `flexportal_app::subscriptions::create`
//! writes for one order unit (one subscription, its payment schedule, the asset, the order and the
//! customer counters), taken from the use case's own fulfilment plan, and committed one transaction per
//! fulfilment with prepared statements of the raw driver (rusqlite on one writer connection,
//! tokio-postgres on one connection per worker).
//!
//! Column lists are those of `crates/store/migrations/*/V2__orders_subscriptions_payments.sql`
//! (checked by a test).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use flexportal_app::fulfilment::{self, FulfilmentInput};
use flexportal_app::orders::OrderItem;
use flexportal_app::{App, TenantContext};
use flexportal_domain::time::today_in;
use flexportal_store::assets::{self, AssetRecord};
use flexportal_store::customers::CounterDelta;
use flexportal_store::orders::OrderRecord;
use flexportal_store::payments::PaymentRecord;
use flexportal_store::subscription_events::SubscriptionEvent;
use flexportal_store::subscriptions::SubscriptionRecord;
use flexportal_store::variants::{self, VariantWithProduct};

/// Columns of `payments`, in table order (the store's own list).
pub use flexportal_store::payments::COLUMNS as PAYMENT_COLUMNS;
/// Columns of `subscriptions`, in table order (the store's own list).
pub use flexportal_store::subscriptions::COLUMNS as SUBSCRIPTION_COLUMNS;

/// Everything one fulfilment writes.
#[derive(Debug, Clone)]
pub struct RawFulfilment {
    /// The subscription row.
    pub sub: SubscriptionRecord,
    /// Its payment rows (the schedule, plus a setup fee when the tier has one).
    pub payments: Vec<PaymentRecord>,
    /// `stub`, `manually_marked` and `late_fee_applied` of each payment as stored (integers).
    flags: Vec<[i64; 3]>,
    /// `kind` of each payment as stored.
    kinds: Vec<&'static str>,
    /// The subscription's billing settings document as stored.
    billing: String,
    /// First day of the asset assignment.
    assigned_from: String,
    /// The `created` history event.
    event: SubscriptionEvent,
    /// Net amount collected at creation (`collected_externally`), added to the asset.
    pub collected: i64,
    /// The order after the fulfilment (status, progress, `updated_at`).
    pub order: OrderRecord,
    /// The customer counter increments.
    pub delta: CounterDelta,
    /// Epoch milliseconds of the fulfilment.
    pub now: i64,
}

/// The rows `flexportal_app::subscriptions::create` writes when `asset` fulfils the first open
/// unit of `order` with its SKU at `now` with the request `{orderId, assetSerialNumber}`: the
/// use case's own plan ([`flexportal_app::fulfilment::plan`]), for an order without earlier
/// subscriptions.
pub fn build(
    ctx: &TenantContext,
    order: &OrderRecord,
    items: &[OrderItem],
    asset: &AssetRecord,
    variant: Option<&VariantWithProduct>,
    now: i64,
) -> RawFulfilment {
    let index = items
        .iter()
        .position(|i| i.sku == asset.sku)
        .expect("an order item with the asset's SKU");
    let item = &items[index];
    let plan = fulfilment::plan(
        ctx,
        &FulfilmentInput {
            order,
            item,
            item_index: index,
            asset,
            variant,
            contract_length: item.contract_length,
            monthly_amount: item.unit_price,
            start: today_in(&ctx.time_zone, now),
            option: None,
            notes: None,
            now,
        },
    )
    .expect("a fulfilment plan");
    let flags = plan.payments.iter().map(payment_flags).collect();
    let kinds = plan.payments.iter().map(|p| p.kind.as_str()).collect();
    RawFulfilment {
        kinds,
        billing: plan.sub.billing.to_json(),
        assigned_from: plan.assigned_from,
        event: plan.event,
        sub: plan.sub,
        payments: plan.payments,
        flags,
        collected: plan.collected,
        order: plan.order,
        delta: plan.delta,
        now,
    }
}

/// Builds the rows of every `(order, items, serial)` at `now`, reading each asset and variant
/// from the store first (as the use case does inside its transaction).
pub async fn build_all(
    app: &App,
    ctx: &TenantContext,
    units: &[(OrderRecord, Vec<OrderItem>, String)],
    now: i64,
) -> Vec<RawFulfilment> {
    let mut c = app.db.read().await.expect("read connection");
    let mut variants_by_sku: HashMap<String, Option<VariantWithProduct>> = HashMap::new();
    let mut out = Vec::with_capacity(units.len());
    for (order, items, serial) in units {
        let asset = assets::get(&mut c, &ctx.tenant_id, serial)
            .await
            .expect("read asset")
            .unwrap_or_else(|| panic!("asset {serial} exists"));
        if !variants_by_sku.contains_key(&asset.sku) {
            let v = variants::get_with_product(&mut c, &ctx.tenant_id, &asset.sku)
                .await
                .expect("read variant");
            variants_by_sku.insert(asset.sku.clone(), v);
        }
        let v = variants_by_sku.get(&asset.sku).and_then(Option::as_ref);
        out.push(build(ctx, order, items, &asset, v, now));
    }
    out
}

/// `stub`, `manually_marked` and `late_fee_applied` of a payment as stored (integers).
pub(crate) fn payment_flags(p: &PaymentRecord) -> [i64; 3] {
    [
        i64::from(p.stub),
        i64::from(p.manually_marked),
        i64::from(p.late_fee_applied),
    ]
}

/// `n` placeholders numbered from `first`: `$first, …` (PostgreSQL) or `?first, …` (SQLite).
pub(crate) fn placeholders(first: usize, n: usize, numbered: bool) -> String {
    (first..first + n)
        .map(|i| {
            if numbered {
                format!("${i}")
            } else {
                format!("?{i}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statements of one fulfilment; `numbered` renders PostgreSQL's `$n`, else SQLite's `?n`.
pub(crate) struct Sql {
    pub(crate) subscription: String,
    pub(crate) assignment: String,
    pub(crate) event: String,
    pub(crate) asset: String,
    pub(crate) asset_collected: String,
    pub(crate) order: String,
    pub(crate) customer: String,
}

impl Sql {
    pub(crate) fn new(numbered: bool) -> Sql {
        let p = |i: usize| {
            if numbered {
                format!("${i}")
            } else {
                format!("?{i}")
            }
        };
        Sql {
            subscription: format!(
                "INSERT INTO subscriptions ({}) VALUES ({})",
                SUBSCRIPTION_COLUMNS.join(", "),
                placeholders(1, SUBSCRIPTION_COLUMNS.len(), numbered)
            ),
            asset: format!(
                "UPDATE assets SET status = 'rented_out', customer_id = {}, rental_id = {}, \
                 updated_at = {} WHERE tenant_id = {} AND serial_number = {} \
                 AND status = 'available'",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            assignment: format!(
                "INSERT INTO asset_assignments (tenant_id, rental_id, serial_number, \
                 assigned_from, assigned_to, created_at) VALUES ({}, {}, {}, {}, NULL, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            event: format!(
                "INSERT INTO subscription_events (tenant_id, rental_id, event_id, kind, actor, \
                 details, created_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7)
            ),
            asset_collected: format!(
                "UPDATE assets SET lifetime_collected = lifetime_collected + {}, updated_at = {} \
                 WHERE tenant_id = {} AND serial_number = {}",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            order: format!(
                "UPDATE orders SET status = {}, rented_devices = {}, notes = {}, \
                 cancellation_reason = {}, cancelled_at = {}, updated_at = {} \
                 WHERE tenant_id = {} AND order_id = {}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(8)
            ),
            customer: format!(
                "UPDATE customers SET total_orders = total_orders + {}, \
                 total_devices_rented = total_devices_rented + {}, \
                 total_monthly_revenue = total_monthly_revenue + {}, \
                 lifetime_collected = lifetime_collected + {}, \
                 total_acquisition_cost = total_acquisition_cost + {}, \
                 subscriptions_tracked = subscriptions_tracked + {}, updated_at = {} \
                 WHERE tenant_id = {} AND customer_id = {}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(8),
                p(9)
            ),
        }
    }

    /// One multi-row `INSERT` of `rows` payments (as `payments::insert_many` writes them).
    pub(crate) fn payments(rows: usize, numbered: bool) -> String {
        let n = PAYMENT_COLUMNS.len();
        let tuples: Vec<String> = (0..rows)
            .map(|r| format!("({})", placeholders(r * n + 1, n, numbered)))
            .collect();
        format!(
            "INSERT INTO payments ({}) VALUES {}",
            PAYMENT_COLUMNS.join(", "),
            tuples.join(", ")
        )
    }
}

macro_rules! subscription_params {
    ($s:expr, $billing:expr, $t:ty) => {
        [
            &$s.tenant_id as $t,
            &$s.rental_id,
            &$s.order_id,
            &$s.order_item_index,
            &$s.customer_id,
            &$s.customer_email,
            &$s.customer_name,
            &$s.asset_serial_number,
            &$s.sku,
            &$s.variant_id,
            &$s.product_id,
            &$s.product_name,
            &$s.product_image_url,
            &$s.monthly_amount,
            &$s.currency,
            &$s.status,
            &$s.billing_group_id,
            &$s.original_contract_length,
            &$s.contract_length,
            &$s.start_date,
            &$s.end_date,
            &$s.anchor_date,
            &$billing,
            &$s.last_modified_date,
            &$s.list_price,
            &$s.list_price_source,
            &$s.acquisition_cost,
            &$s.acquisition_cost_source,
            &$s.captured_at,
            &$s.total_collected,
            &$s.custom_fields,
            &$s.notes,
            &$s.upgrade_from_rental_id,
            &$s.created_by,
            &$s.created_at,
            &$s.updated_at,
            &$s.ended_on,
            &$s.months_rented,
            &$s.months_saved,
            &$s.pending_upgrade_order_id,
        ]
    };
}

macro_rules! payment_params {
    ($p:expr, $f:expr, $k:expr, $t:ty) => {
        [
            &$p.tenant_id as $t,
            &$p.payment_id,
            &$p.customer_id,
            &$p.rental_id,
            &$p.billing_group_id,
            &$p.payment_type,
            &$p.billing_date,
            &$p.service_start,
            &$f[0],
            &$p.billing_period,
            &$p.due_date,
            &$p.subtotal,
            &$p.tax_amount,
            &$p.tax_rate_bp,
            &$p.total,
            &$p.currency,
            &$p.status,
            &$p.provider,
            &$f[1],
            &$p.payment_reference,
            &$p.marked_by,
            &$p.paid_at,
            &$p.idempotency_key,
            &$p.description,
            &$p.notes,
            &$p.created_at,
            &$p.updated_at,
            $k,
            &$f[2],
            &$p.late_fee_amount,
            &$p.original_amount,
        ]
    };
}

/// The parameters of one payment row in `PAYMENT_COLUMNS` order, for either driver: the
/// payment, its [`payment_flags`] and its kind as text.
pub(crate) use payment_params;

/// Time and per-transaction latencies of a raw run.
pub struct RawRun {
    /// From the first `BEGIN` to the last `COMMIT`.
    pub elapsed: Duration,
    /// `BEGIN` to after `COMMIT` of every fulfilment.
    pub latencies: Vec<Duration>,
}

/// Commits every fulfilment in its own `BEGIN IMMEDIATE … COMMIT` on one connection to the
/// SQLite file at `path`, opened here with the pragmas of the store's writer (SQLite has one
/// writer). Blocks.
pub fn sqlite_run(path: &Path, rows: &[RawFulfilment]) -> RawRun {
    type P<'a> = &'a dyn rusqlite::ToSql;
    let conn = rusqlite::Connection::open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; \
         PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;",
    )
    .expect("set pragmas");
    conn.set_prepared_statement_cache_capacity(64);
    let sql = Sql::new(false);
    let mut latencies = Vec::with_capacity(rows.len());
    let started = Instant::now();
    for f in rows {
        let t = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE").expect("BEGIN");
        let s = &f.sub;
        conn.prepare_cached(&sql.subscription)
            .expect("prepare INSERT subscription")
            .execute(&subscription_params!(s, f.billing, P<'_>)[..])
            .expect("INSERT subscription");
        let mut params: Vec<P<'_>> = Vec::with_capacity(f.payments.len() * PAYMENT_COLUMNS.len());
        for ((p, fl), k) in f.payments.iter().zip(&f.flags).zip(&f.kinds) {
            params.extend(payment_params!(p, fl, k, P<'_>));
        }
        conn.prepare_cached(&Sql::payments(f.payments.len(), false))
            .expect("prepare INSERT payments")
            .execute(&params[..])
            .expect("INSERT payments");
        conn.prepare_cached(&sql.assignment)
            .expect("prepare INSERT assignment")
            .execute(rusqlite::params![
                s.tenant_id,
                s.rental_id,
                s.asset_serial_number,
                f.assigned_from,
                f.now
            ])
            .expect("INSERT assignment");
        let e = &f.event;
        conn.prepare_cached(&sql.event)
            .expect("prepare INSERT event")
            .execute(rusqlite::params![
                e.tenant_id,
                e.rental_id,
                e.event_id,
                e.kind.as_str(),
                e.actor,
                e.details,
                e.created_at
            ])
            .expect("INSERT event");
        let changed = conn
            .prepare_cached(&sql.asset)
            .expect("prepare UPDATE asset")
            .execute(rusqlite::params![
                s.customer_id,
                s.rental_id,
                f.now,
                s.tenant_id,
                s.asset_serial_number
            ])
            .expect("UPDATE asset");
        assert_eq!(changed, 1, "asset {} available", s.asset_serial_number);
        if f.collected > 0 {
            conn.prepare_cached(&sql.asset_collected)
                .expect("prepare UPDATE asset collected")
                .execute(rusqlite::params![
                    f.collected,
                    f.now,
                    s.tenant_id,
                    s.asset_serial_number
                ])
                .expect("UPDATE asset collected");
        }
        let o = &f.order;
        conn.prepare_cached(&sql.order)
            .expect("prepare UPDATE order")
            .execute(rusqlite::params![
                o.status,
                o.rented_devices,
                o.notes,
                o.cancellation_reason,
                o.cancelled_at,
                o.updated_at,
                o.tenant_id,
                o.order_id
            ])
            .expect("UPDATE order");
        let d = &f.delta;
        conn.prepare_cached(&sql.customer)
            .expect("prepare UPDATE customer")
            .execute(rusqlite::params![
                d.orders,
                d.devices,
                d.monthly_revenue,
                d.collected,
                d.acquisition_cost,
                d.tracked,
                f.now,
                s.tenant_id,
                s.customer_id
            ])
            .expect("UPDATE customer");
        conn.execute_batch("COMMIT").expect("COMMIT");
        latencies.push(t.elapsed());
    }
    RawRun {
        elapsed: started.elapsed(),
        latencies,
    }
}

/// Commits every fulfilment in its own `BEGIN … COMMIT` from `workers` threads, each with its own
/// tokio-postgres connection (and a single-threaded runtime) to `url` and its statements prepared
/// before the clock starts, each taking the next fulfilment from a shared counter. Blocks.
pub fn postgres_run(url: &str, rows: Arc<Vec<RawFulfilment>>, workers: usize) -> RawRun {
    let next = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(Barrier::new(workers + 1));
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (url, rows, next, ready) =
                (url.to_string(), rows.clone(), next.clone(), ready.clone());
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("raw PostgreSQL runtime")
                    .block_on(postgres_worker(&url, &rows, &next, &ready))
            })
        })
        .collect();
    ready.wait();
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(rows.len());
    for h in handles {
        latencies.extend(h.join().expect("raw PostgreSQL worker"));
    }
    RawRun {
        elapsed: started.elapsed(),
        latencies,
    }
}

async fn postgres_worker(
    url: &str,
    rows: &[RawFulfilment],
    next: &AtomicUsize,
    ready: &Barrier,
) -> Vec<Duration> {
    type P<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    let driver = tokio::spawn(conn);
    let sql = Sql::new(true);
    let prepare = |s: String| {
        let client = &client;
        async move { client.prepare(&s).await.expect("prepare") }
    };
    let st_sub = prepare(sql.subscription.clone()).await;
    let st_asset = prepare(sql.asset.clone()).await;
    let st_assignment = prepare(sql.assignment.clone()).await;
    let st_event = prepare(sql.event.clone()).await;
    let st_collected = prepare(sql.asset_collected.clone()).await;
    let st_order = prepare(sql.order.clone()).await;
    let st_customer = prepare(sql.customer.clone()).await;
    let mut st_payments = HashMap::new();
    if let Some(f) = rows.first() {
        let n = f.payments.len();
        st_payments.insert(n, prepare(Sql::payments(n, true)).await);
    }
    // Blocks this thread until every worker is ready: nothing else runs on its runtime yet.
    ready.wait();
    let mut latencies = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(f) = rows.get(i) else { break };
        let n = f.payments.len();
        if let std::collections::hash_map::Entry::Vacant(e) = st_payments.entry(n) {
            e.insert(prepare(Sql::payments(n, true)).await);
        }
        let t = Instant::now();
        client.batch_execute("BEGIN").await.expect("BEGIN");
        let s = &f.sub;
        client
            .execute(&st_sub, &subscription_params!(s, f.billing, P<'_>))
            .await
            .expect("INSERT subscription");
        let mut params: Vec<P<'_>> = Vec::with_capacity(n * PAYMENT_COLUMNS.len());
        for ((p, fl), k) in f.payments.iter().zip(&f.flags).zip(&f.kinds) {
            params.extend(payment_params!(p, fl, k, P<'_>));
        }
        client
            .execute(&st_payments[&n], &params)
            .await
            .expect("INSERT payments");
        client
            .execute(
                &st_assignment,
                &[
                    &s.tenant_id,
                    &s.rental_id,
                    &s.asset_serial_number,
                    &f.assigned_from,
                    &f.now,
                ],
            )
            .await
            .expect("INSERT assignment");
        let e = &f.event;
        client
            .execute(
                &st_event,
                &[
                    &e.tenant_id,
                    &e.rental_id,
                    &e.event_id,
                    &e.kind.as_str(),
                    &e.actor,
                    &e.details,
                    &e.created_at,
                ],
            )
            .await
            .expect("INSERT event");
        let changed = client
            .execute(
                &st_asset,
                &[
                    &s.customer_id,
                    &s.rental_id,
                    &f.now,
                    &s.tenant_id,
                    &s.asset_serial_number,
                ],
            )
            .await
            .expect("UPDATE asset");
        assert_eq!(changed, 1, "asset {} available", s.asset_serial_number);
        if f.collected > 0 {
            client
                .execute(
                    &st_collected,
                    &[&f.collected, &f.now, &s.tenant_id, &s.asset_serial_number],
                )
                .await
                .expect("UPDATE asset collected");
        }
        let o = &f.order;
        client
            .execute(
                &st_order,
                &[
                    &o.status,
                    &o.rented_devices,
                    &o.notes,
                    &o.cancellation_reason,
                    &o.cancelled_at,
                    &o.updated_at,
                    &o.tenant_id,
                    &o.order_id,
                ],
            )
            .await
            .expect("UPDATE order");
        let d = &f.delta;
        client
            .execute(
                &st_customer,
                &[
                    &d.orders,
                    &d.devices,
                    &d.monthly_revenue,
                    &d.collected,
                    &d.acquisition_cost,
                    &d.tracked,
                    &f.now,
                    &s.tenant_id,
                    &s.customer_id,
                ],
            )
            .await
            .expect("UPDATE customer");
        client.batch_execute("COMMIT").await.expect("COMMIT");
        latencies.push(t.elapsed());
    }
    drop(client);
    let _ = driver.await;
    latencies
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's column lists are the migrated tables' columns, in table order (the raw
    /// statements bind by position). Both engines' schemas are equal (testkit's schema test).
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn column_lists_match_the_migrated_tables() {
        let dir = std::env::temp_dir().join(format!(
            "flexportal-bench-cols-{}",
            flexportal_domain::ids::random_token(8)
        ));
        let db = flexportal_store::Db::connect(&format!("sqlite://{}", dir.join("t.db").display()))
            .await
            .expect("open");
        db.migrate().await.expect("migrate");
        let mut c = db.read().await.expect("read");
        for (table, expected) in [
            ("subscriptions", SUBSCRIPTION_COLUMNS),
            ("payments", PAYMENT_COLUMNS),
        ] {
            let cols: Vec<String> = c
                .fetch_all_sql(&format!(
                    "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                ))
                .await
                .expect("columns");
            assert_eq!(cols, expected, "{table}");
        }
        drop(c);
        drop(db);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn payment_insert_numbers_every_parameter() {
        let sql = Sql::payments(36, true);
        assert!(sql.ends_with(&format!("${})", 36 * PAYMENT_COLUMNS.len())));
        assert!(Sql::new(false).customer.contains("?9"));
    }
}
