//! The raw-driver baseline of the daily jobs: the row changes `flexportal_app::jobs::run_unit`
//! makes as of a date, computed before the clock with the domain functions the jobs use
//! (`schedule::generate`, `schedule::extend`, `schedule::idempotency_keys`,
//! `fulfilment::schedule_rows`, `lifecycle::charge_states`, `schedule::months_elapsed`, the unit's
//! settings), then written with prepared statements of the raw driver in two transactions (the
//! contract-end changes, then the late fees), one statement execution per changed row: rusqlite
//! `prepare_cached` on a connection opened with the pragmas of the store's writer, or
//! tokio-postgres `prepare` on one connection.
//!
//! The raw statements write only the columns that change (the store's `subscriptions::update`
//! and `assets::update` write every mutable column).

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use flexportal_app::fulfilment::{ChargeOwner, schedule_rows};
use flexportal_app::lifecycle::{ActorRecord, ExtensionRecord, charge_states, stored_date};
use flexportal_app::{App, TenantContext, settings};
use flexportal_domain::ids::{self, prefix};
use flexportal_domain::schedule::{self, ScheduleInput, add_days, idempotency_keys};
use flexportal_domain::settings::LateFeeMethod;
use flexportal_domain::status::SubscriptionEventKind;
use flexportal_store::payments::PaymentRecord;
use flexportal_store::subscription_events::SubscriptionEvent;
use flexportal_store::subscriptions::{self, SubscriptionRecord};
use flexportal_store::{FromRow, Row, assets, customers, payments};
use serde_json::json;

use crate::jobs::Behaviour;
use crate::raw_fulfil::{self, Sql, payment_flags, payment_params};

mod probe;
pub use probe::{late_fee_probe, late_fee_probe_pg};
mod pg;
pub use pg::postgres_run;

/// The end of a contract by `auto_terminate` (SPEC §2.6.6): the rows `lifecycle::end` changes.
#[derive(Debug, Clone)]
pub struct RawEnding {
    /// The subscription.
    pub rental_id: String,
    /// Its customer (counters: one device and its monthly amount less).
    pub customer_id: String,
    /// Its monthly amount, minor units.
    pub monthly_amount: i64,
    /// Open charges starting after the end date, cancelled.
    pub cancel: Vec<String>,
    /// The effective date (the end date).
    pub ended_on: String,
    /// Months rented at the end date.
    pub months_rented: i64,
    /// The asset, when it is still linked to the subscription (then `returned`, unlinked).
    pub asset: Option<String>,
    /// The serial of the assignment closed.
    pub serial: String,
    /// The first day the asset is no longer held.
    pub assigned_to: String,
    /// The `completed` event.
    pub event: SubscriptionEvent,
}

/// One renewal by `auto_renew_monthly`: the rows `amendments::extend_locked` changes.
#[derive(Debug, Clone)]
pub struct RawRenewal {
    /// The subscription.
    pub rental_id: String,
    /// Contract length after it, months.
    pub contract_length: i64,
    /// End date after it.
    pub end_date: String,
    /// Monthly amount after it, minor units.
    pub monthly_amount: i64,
    /// The added months' charges not billed yet.
    pub payments: Vec<PaymentRecord>,
    /// The `extended` event.
    pub event: SubscriptionEvent,
}

/// What the contract-end job changes for one subscription.
#[derive(Debug, Clone)]
pub enum SubWork {
    /// Holdover charges inserted (`require_action`).
    Holdover(Vec<PaymentRecord>),
    /// Ended (`auto_terminate`).
    Ending(Box<RawEnding>),
    /// Renewed once or more (`auto_renew_monthly`).
    Renewals(Vec<RawRenewal>),
}

/// Every row change of one run, in the order the jobs make them.
#[derive(Debug, Clone)]
pub struct RawJobs {
    /// The business unit.
    pub tenant_id: String,
    /// Epoch milliseconds written as `updated_at` / `created_at`.
    pub now: i64,
    /// Per ended contract, in rental-id order.
    pub work: Vec<SubWork>,
    /// Payments that get a late fee, with the fee (minor units).
    pub late_fees: Vec<(String, i64)>,
}

impl RawJobs {
    /// A one-line summary.
    pub fn describe(&self) -> String {
        let (mut hold, mut ends, mut renewals, mut renewed) = (0, 0, 0, 0);
        for w in &self.work {
            match w {
                SubWork::Holdover(p) => hold += p.len(),
                SubWork::Ending(_) => ends += 1,
                SubWork::Renewals(r) => {
                    renewals += r.len();
                    renewed += r.iter().map(|x| x.payments.len()).sum::<usize>();
                }
            }
        }
        format!(
            "{} ended contracts: {hold} holdover charges, {ends} endings, {renewals} renewals \
             with {renewed} charges; {} late fees",
            self.work.len(),
            self.late_fees.len()
        )
    }
}

/// Whole months from `from` to `to` (`YYYY-MM-DD`), rounded down, at least 0.
fn months_between(from: &str, to: &str) -> i64 {
    let (f, t) = (
        stored_date(from).expect("date"),
        stored_date(to).expect("date"),
    );
    let m = (i64::from(t.year()) - i64::from(f.year())) * 12 + i64::from(t.month())
        - i64::from(f.month())
        - i64::from(t.day() < f.day());
    m.max(0)
}

fn schedule_input(sub: &SubscriptionRecord) -> ScheduleInput {
    ScheduleInput {
        start: stored_date(&sub.start_date).expect("start date"),
        months: sub.contract_length,
        monthly_amount: sub.monthly_amount,
        cycle: sub.billing.cycle,
        first_payment: sub.billing.first_payment,
        option: sub.billing.option,
    }
}

/// Whether a contract month billed on `billing_date` has a payment: any (holdover, as
/// `jobs::holdover`), or one not cancelled (renewal, as `extend_locked`).
fn billed(payments: &[PaymentRecord], billing_date: &str, any_status: bool) -> bool {
    payments.iter().any(|p| {
        (any_status || p.status != "cancelled")
            && p.kind.is_contract_month()
            && p.billing_date == billing_date
    })
}

fn event(
    ctx: &TenantContext,
    rental_id: &str,
    kind: SubscriptionEventKind,
    details: String,
    now: i64,
) -> SubscriptionEvent {
    SubscriptionEvent {
        tenant_id: ctx.tenant_id.clone(),
        rental_id: rental_id.to_string(),
        event_id: ids::new_id(prefix::EVENT, now),
        kind,
        actor: ctx.actor.user_id.clone(),
        details,
        created_at: now,
    }
}

/// The holdover charges of `sub` as of `today` (as `jobs::holdover`).
fn holdover(
    ctx: &TenantContext,
    sub: &SubscriptionRecord,
    paid: &[PaymentRecord],
    business: bool,
    today: &str,
    now: i64,
) -> Vec<PaymentRecord> {
    let end = stored_date(&sub.end_date).expect("end date");
    let day = stored_date(today).expect("date");
    let input = schedule_input(sub);
    let contract = schedule::generate(&input).charges.len();
    // At least the months the job generates (it stops at `today` either way).
    let span = months_between(&sub.end_date, today) + 3;
    let longer = schedule::generate(&ScheduleInput {
        months: sub.contract_length + span,
        ..input.clone()
    });
    let keys = idempotency_keys(&sub.rental_id, &longer.charges);
    let (charges, keys): (Vec<_>, Vec<_>) = longer.charges[contract..]
        .iter()
        .cloned()
        .zip(keys[contract..].iter().cloned())
        .filter(|(c, _)| {
            c.service_start > end
                && c.service_start <= day
                && !billed(paid, &c.billing_date.to_string(), true)
        })
        .map(|(mut c, k)| {
            c.base_amount = sub.monthly_amount;
            c.paid_at_creation = false;
            (c, k)
        })
        .unzip();
    if charges.is_empty() {
        return Vec::new();
    }
    let (mut rows, _) = schedule_rows(
        ctx,
        &ChargeOwner {
            customer_id: &sub.customer_id,
            rental_id: &sub.rental_id,
            product_name: &sub.product_name,
            terms_days: settings::payment_terms_days(ctx, business),
        },
        &charges,
        keys,
        input.start,
        now,
    )
    .expect("holdover rows");
    for r in rows.iter_mut() {
        r.description.push_str(" (holdover)");
    }
    rows
}

/// The end of `sub` on its end date (as `lifecycle::end` for `auto_terminate`).
fn ending(
    ctx: &TenantContext,
    sub: &SubscriptionRecord,
    paid: &[PaymentRecord],
    asset_linked: bool,
    now: i64,
) -> RawEnding {
    let x = stored_date(&sub.end_date).expect("end date");
    let xs = x.to_string();
    let cancel = paid
        .iter()
        .filter(|p| {
            p.kind.is_contract_month()
                && !p.stub
                && matches!(p.status.as_str(), "pending" | "failed")
                && p.service_start.as_str() > xs.as_str()
        })
        .map(|p| p.payment_id.clone())
        .collect();
    let charges = charge_states(paid, settings::vat(ctx).inclusive).expect("charges");
    let rented = schedule::months_elapsed(&charges, x).min(sub.contract_length);
    RawEnding {
        rental_id: sub.rental_id.clone(),
        customer_id: sub.customer_id.clone(),
        monthly_amount: sub.monthly_amount,
        cancel,
        ended_on: xs,
        months_rented: rented,
        asset: asset_linked.then(|| sub.asset_serial_number.clone()),
        serial: sub.asset_serial_number.clone(),
        assigned_to: add_days(x, 1).to_string(),
        event: event(
            ctx,
            &sub.rental_id,
            SubscriptionEventKind::Completed,
            json!({"reason": "Contract end", "behaviour": "auto_terminate"}).to_string(),
            now,
        ),
    }
}

/// Renewals of one month until the contract covers `today` (as `extend_locked`, uncapped).
fn renewals(
    ctx: &TenantContext,
    mut sub: SubscriptionRecord,
    mut paid: Vec<PaymentRecord>,
    business: bool,
    today: &str,
    now: i64,
) -> Vec<RawRenewal> {
    let day = stored_date(today).expect("date");
    let mut out = Vec::new();
    while stored_date(&sub.end_date).expect("end date") < day {
        let months = 1;
        let new_length = sub.contract_length + months;
        let amount = sub.monthly_amount;
        let input = schedule_input(&sub);
        let added = schedule::extend(&input, months, amount);
        let longer = schedule::generate(&ScheduleInput {
            months: new_length,
            ..input.clone()
        });
        let skip = longer.charges.len() - added.charges.len();
        let keys = idempotency_keys(&sub.rental_id, &longer.charges)[skip..].to_vec();
        let (mut rows, _) = schedule_rows(
            ctx,
            &ChargeOwner {
                customer_id: &sub.customer_id,
                rental_id: &sub.rental_id,
                product_name: &sub.product_name,
                terms_days: settings::payment_terms_days(ctx, business),
            },
            &added.charges,
            keys,
            input.start,
            now,
        )
        .expect("renewal rows");
        rows.retain(|r| !billed(&paid, &r.billing_date, false));
        let record = ExtensionRecord {
            extension_months: months,
            old_contract_length: sub.contract_length,
            new_contract_length: new_length,
            old_monthly_amount: sub.monthly_amount,
            new_monthly_amount: amount,
            reason: "auto-renew monthly".into(),
            notes: None,
            extended_by: ActorRecord::of(ctx),
            old_end_date: sub.end_date.clone(),
            new_end_date: added.end_date.to_string(),
            extended_at: now,
        };
        sub.contract_length = new_length;
        sub.end_date = added.end_date.to_string();
        sub.monthly_amount = amount;
        paid.extend(rows.iter().cloned());
        out.push(RawRenewal {
            rental_id: sub.rental_id.clone(),
            contract_length: new_length,
            end_date: sub.end_date.clone(),
            monthly_amount: amount,
            payments: rows,
            event: event(
                ctx,
                &sub.rental_id,
                SubscriptionEventKind::Extended,
                serde_json::to_string(&record).expect("extension record"),
                now,
            ),
        });
    }
    out
}

struct IdTotal(String, i64);

impl FromRow for IdTotal {
    fn from_row(r: &dyn Row) -> flexportal_store::Result<Self> {
        Ok(IdTotal(r.text(0)?, r.int(1)?))
    }
}

/// Computes every change the jobs make in the unit of `ctx` as of `today` with `behaviour`
/// (which must be the unit's setting), reading the store first (not timed).
pub async fn prepare(app: &App, ctx: &TenantContext, today: &str, behaviour: Behaviour) -> RawJobs {
    let tenant = ctx.tenant_id.as_str();
    let now = app.now();
    let mut c = app.db.read().await.expect("read connection");
    let ids = subscriptions::ended_contracts(&mut c, tenant, today, None, 1 << 40)
        .await
        .expect("ended contracts");
    let mut business_of: HashMap<String, bool> = HashMap::new();
    let mut work = Vec::with_capacity(ids.len());
    let mut inserted: Vec<PaymentRecord> = Vec::new();
    for id in &ids {
        let sub = subscriptions::get(&mut c, tenant, id)
            .await
            .expect("read subscription")
            .expect("subscription exists");
        let paid = payments::for_rental(&mut c, tenant, id)
            .await
            .expect("read payments");
        if !business_of.contains_key(&sub.customer_id) {
            let b = customers::get(&mut c, tenant, &sub.customer_id)
                .await
                .expect("read customer")
                .is_some_and(|x| x.customer_type == "business");
            business_of.insert(sub.customer_id.clone(), b);
        }
        let business = business_of[&sub.customer_id];
        let w = match behaviour {
            Behaviour::RequireAction => {
                let rows = holdover(ctx, &sub, &paid, business, today, now);
                inserted.extend(rows.iter().cloned());
                SubWork::Holdover(rows)
            }
            Behaviour::AutoTerminate => {
                let linked = assets::get(&mut c, tenant, &sub.asset_serial_number)
                    .await
                    .expect("read asset")
                    .is_some_and(|a| a.rental_id.as_deref() == Some(sub.rental_id.as_str()));
                SubWork::Ending(Box::new(ending(ctx, &sub, &paid, linked, now)))
            }
            Behaviour::AutoRenewMonthly => {
                let r = renewals(ctx, sub, paid, business, today, now);
                for x in &r {
                    inserted.extend(x.payments.iter().cloned());
                }
                SubWork::Renewals(r)
            }
        };
        work.push(w);
    }
    // The late-fee job runs after the contract end: the open payments due before the cutoff,
    // including any charge the contract end just created.
    let rules = &ctx.settings.payments.late_fees;
    let mut late_fees = Vec::new();
    if rules.enabled {
        let due_before =
            add_days(stored_date(today).expect("date"), -rules.grace_period_days).to_string();
        let fee_of = |total: i64| match rules.method {
            LateFeeMethod::Flat => rules.value.minor(ctx.exponent()).expect("flat fee"),
            LateFeeMethod::Percentage => {
                (total * rules.value.basis_points().expect("percentage") + 5_000) / 10_000
            }
        };
        let rows: Vec<IdTotal> = c
            .fetch_all_sql(&format!(
                "SELECT payment_id, total FROM payments WHERE tenant_id = '{tenant}' \
                 AND status IN ('pending', 'failed') AND late_fee_applied = 0 \
                 AND due_date < '{due_before}' ORDER BY payment_id"
            ))
            .await
            .expect("overdue payments");
        late_fees.extend(rows.into_iter().map(|r| (r.0, fee_of(r.1))));
        late_fees.extend(
            inserted
                .iter()
                .filter(|p| p.status == "pending" && p.due_date < due_before)
                .map(|p| (p.payment_id.clone(), fee_of(p.total))),
        );
    }
    RawJobs {
        tenant_id: tenant.to_string(),
        now,
        work,
        late_fees,
    }
}

/// The statements of the baseline; `numbered` renders PostgreSQL's `$n`, else SQLite's `?n`.
struct JobSql {
    numbered: bool,
    payment: String,
    end_sub: String,
    renew_sub: String,
    customer: String,
    asset_returned: String,
    close_assignment: String,
    event: String,
    late_fee: String,
}

impl JobSql {
    fn new(numbered: bool) -> JobSql {
        let p = |i: usize| {
            if numbered {
                format!("${i}")
            } else {
                format!("?{i}")
            }
        };
        let fulfil = Sql::new(numbered);
        JobSql {
            numbered,
            payment: Sql::payments(1, numbered),
            end_sub: format!(
                "UPDATE subscriptions SET status = 'ended_completed', ended_on = {}, \
                 months_rented = {}, months_saved = 0, last_modified_date = {}, updated_at = {} \
                 WHERE tenant_id = {} AND rental_id = {}",
                p(1),
                p(2),
                p(3),
                p(3),
                p(4),
                p(5)
            ),
            renew_sub: format!(
                "UPDATE subscriptions SET contract_length = {}, end_date = {}, \
                 monthly_amount = {}, last_modified_date = {}, updated_at = {} \
                 WHERE tenant_id = {} AND rental_id = {}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(4),
                p(5),
                p(6)
            ),
            customer: fulfil.customer,
            asset_returned: format!(
                "UPDATE assets SET status = 'returned', customer_id = NULL, rental_id = NULL, \
                 updated_at = {} WHERE tenant_id = {} AND serial_number = {}",
                p(1),
                p(2),
                p(3)
            ),
            close_assignment: format!(
                "UPDATE asset_assignments SET assigned_to = {} WHERE tenant_id = {} \
                 AND rental_id = {} AND serial_number = {} AND assigned_to IS NULL",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            event: fulfil.event,
            late_fee: format!(
                "UPDATE payments SET original_amount = total, late_fee_amount = {}, \
                 total = total + {}, late_fee_applied = 1, updated_at = {} \
                 WHERE tenant_id = {} AND payment_id = {}",
                p(1),
                p(1),
                p(2),
                p(3),
                p(4)
            ),
        }
    }

    /// Cancels `n` listed payments still open (as `payments::cancel_open`).
    fn cancel(&self, n: usize) -> String {
        let p = |i: usize| {
            if self.numbered {
                format!("${i}")
            } else {
                format!("?{i}")
            }
        };
        format!(
            "UPDATE payments SET status = 'cancelled', notes = {}, updated_at = {} \
             WHERE tenant_id = {} AND payment_id IN ({}) AND status IN ('pending', 'failed')",
            p(1),
            p(2),
            p(3),
            raw_fulfil::placeholders(4, n, self.numbered)
        )
    }
}

const ENDED_NOTE: &str = "Subscription ended";

/// Opens `path` with the pragmas of the store's writer connection.
pub fn sqlite_writer(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; \
         PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384; PRAGMA mmap_size=4294967296;",
    )
    .expect("set pragmas");
    conn.set_prepared_statement_cache_capacity(64);
    conn
}

/// Writes every change into the SQLite file at `path` over a connection opened here: the
/// contract-end changes in one `BEGIN IMMEDIATE … COMMIT`, the late fees in another. Returns the
/// time from the first `BEGIN` to the last `COMMIT`. Blocks.
pub fn sqlite_run(path: &Path, w: &RawJobs) -> Duration {
    type P<'a> = &'a dyn rusqlite::ToSql;
    let conn = sqlite_writer(path);
    let sql = JobSql::new(false);
    let t = w.tenant_id.as_str();
    let now = w.now;
    let insert = |p: &PaymentRecord| {
        let f = payment_flags(p);
        let k = p.kind.as_str();
        let params: Vec<P<'_>> = payment_params!(p, f, &k, P<'_>).to_vec();
        conn.prepare_cached(&sql.payment)
            .expect("prepare INSERT payment")
            .execute(&params[..])
            .expect("INSERT payment");
    };
    let append = |e: &SubscriptionEvent| {
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
    };
    let started = Instant::now();
    conn.execute_batch("BEGIN IMMEDIATE").expect("BEGIN");
    for item in &w.work {
        match item {
            SubWork::Holdover(rows) => rows.iter().for_each(insert),
            SubWork::Ending(e) => {
                if !e.cancel.is_empty() {
                    let mut params: Vec<P<'_>> = vec![&ENDED_NOTE, &now, &t];
                    params.extend(e.cancel.iter().map(|x| x as P<'_>));
                    conn.prepare_cached(&sql.cancel(e.cancel.len()))
                        .expect("prepare cancel")
                        .execute(&params[..])
                        .expect("cancel payments");
                }
                conn.prepare_cached(&sql.end_sub)
                    .expect("prepare end")
                    .execute(rusqlite::params![
                        e.ended_on,
                        e.months_rented,
                        now,
                        t,
                        e.rental_id
                    ])
                    .expect("UPDATE subscription");
                conn.prepare_cached(&sql.customer)
                    .expect("prepare customer")
                    .execute(rusqlite::params![
                        0,
                        -1,
                        -e.monthly_amount,
                        0,
                        0,
                        0,
                        now,
                        t,
                        e.customer_id
                    ])
                    .expect("UPDATE customer");
                if let Some(serial) = &e.asset {
                    conn.prepare_cached(&sql.asset_returned)
                        .expect("prepare asset")
                        .execute(rusqlite::params![now, t, serial])
                        .expect("UPDATE asset");
                }
                conn.prepare_cached(&sql.close_assignment)
                    .expect("prepare assignment")
                    .execute(rusqlite::params![e.assigned_to, t, e.rental_id, e.serial])
                    .expect("close assignment");
                append(&e.event);
            }
            SubWork::Renewals(rs) => {
                for r in rs {
                    r.payments.iter().for_each(insert);
                    conn.prepare_cached(&sql.renew_sub)
                        .expect("prepare renew")
                        .execute(rusqlite::params![
                            r.contract_length,
                            r.end_date,
                            r.monthly_amount,
                            now,
                            t,
                            r.rental_id
                        ])
                        .expect("UPDATE subscription");
                    append(&r.event);
                }
            }
        }
    }
    conn.execute_batch("COMMIT").expect("COMMIT");
    conn.execute_batch("BEGIN IMMEDIATE").expect("BEGIN");
    {
        let mut st = conn
            .prepare_cached(&sql.late_fee)
            .expect("prepare late fee");
        for (id, fee) in &w.late_fees {
            st.execute(rusqlite::params![fee, now, t, id])
                .expect("late fee");
        }
    }
    conn.execute_batch("COMMIT").expect("COMMIT");
    started.elapsed()
}

/// Columns of a payment row.
const PAYMENT_COLUMN_COUNT: usize = 31;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw_fulfil::PAYMENT_COLUMNS;

    #[test]
    fn payment_parameters_cover_every_column() {
        assert_eq!(PAYMENT_COLUMNS.len(), PAYMENT_COLUMN_COUNT);
    }

    #[test]
    fn whole_months_round_down() {
        assert_eq!(months_between("2025-01-31", "2025-02-28"), 0);
        assert_eq!(months_between("2025-01-15", "2025-03-15"), 2);
        assert_eq!(months_between("2025-03-15", "2025-01-15"), 0);
    }
}
