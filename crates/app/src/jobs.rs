//! The daily jobs (SPEC §2.6.6 contract end, §2.7 late fees), run by `flexportal jobs run` and
//! on a schedule by `flexportal serve`.
//!
//! Both are idempotent for a date: the contract-end job acts only on `active` subscriptions whose
//! end date has passed and re-reads each one locked before it acts (holdover charges carry the
//! schedule's idempotency keys and are created only when missing); the late-fee job is one
//! statement guarded by `late_fee_applied = 0`. Work is committed in batches of
//! [`BATCH`] subscriptions, so a run killed halfway and run again leaves exactly the state of one
//! uninterrupted run, and memory does not grow with the size of the unit.

use flexportal_domain::Currency;
use flexportal_domain::schedule::{self, ScheduleInput, idempotency_keys};
use flexportal_domain::settings::{ContractEndBehaviour, LateFeeMethod, UnitSettings};
use flexportal_domain::status::{SubscriptionEventKind, SubscriptionStatus};
use flexportal_domain::time::today_in;
use flexportal_store::Conn;
use flexportal_store::payments::{self, LateFee};
use flexportal_store::subscriptions;
use flexportal_store::tenants::{self, TenantRecord};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

use crate::amendments::{Extension, extend_locked};
use crate::lifecycle::{self, AssetOutcome, Ending, Locked};
use crate::{Actor, App, AppError, AppResult, TenantContext};

/// Subscriptions handled per transaction.
pub const BATCH: u64 = 200;

/// What one run did, per kind of change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobReport {
    /// Business units processed.
    pub business_units: u64,
    /// Contracts past their end date that were looked at.
    pub contracts_ended: u64,
    /// Holdover charges created (`require_action`).
    pub holdover_charges: u64,
    /// Subscriptions completed (`auto_terminate`).
    pub completed: u64,
    /// Renewals made (`auto_renew_monthly`, `auto_renew_same_term`).
    pub renewals: u64,
    /// Payments that got a late fee.
    pub late_fees: u64,
    /// Idempotency keys purged (older than 24 hours).
    pub idempotency_keys_purged: u64,
    /// Files removed that were still empty a day after they were created (upload URLs never
    /// used, exports never finished).
    pub empty_files_removed: u64,
    /// Business units or subscriptions the run could not process (logged with their cause;
    /// the next run tries them again).
    pub failures: u64,
}

impl JobReport {
    fn add(&mut self, o: &JobReport) {
        self.business_units += o.business_units;
        self.contracts_ended += o.contracts_ended;
        self.holdover_charges += o.holdover_charges;
        self.completed += o.completed;
        self.renewals += o.renewals;
        self.late_fees += o.late_fees;
        self.idempotency_keys_purged += o.idempotency_keys_purged;
        self.empty_files_removed += o.empty_files_removed;
        self.failures += o.failures;
    }
}

/// The context the jobs act in for a business unit: its currency, time zone and settings, the
/// actor `system`. Errors: 500 when the stored currency or settings cannot be read.
pub fn job_context(t: &TenantRecord) -> AppResult<TenantContext> {
    Ok(TenantContext {
        tenant_id: t.tenant_id.clone(),
        currency: Currency::parse(&t.currency)
            .ok_or_else(|| AppError::corrupt(format!("currency {:?}", t.currency)))?,
        time_zone: t.time_zone.clone(),
        settings: Arc::new(UnitSettings::from_stored(&t.settings).map_err(AppError::corrupt)?),
        actor: Actor {
            user_id: "system".into(),
            display_name: "Daily jobs".into(),
        },
    })
}

/// Runs the daily jobs for one business unit, or every active one, as of `as_of` (default: each
/// unit's today). Errors: 404 `NOT_FOUND` for an unknown unit; storage failures.
pub async fn run(app: &App, tenant: Option<&str>, as_of: Option<Date>) -> AppResult<JobReport> {
    let units = {
        let mut c = app.db.read().await?;
        match tenant {
            Some(id) => vec![
                tenants::get(&mut c, id)
                    .await?
                    .ok_or_else(|| AppError::not_found("Business unit"))?,
            ],
            None => tenants::list(&mut c)
                .await?
                .into_iter()
                .filter(|t| t.status == "active")
                .collect(),
        }
    };
    let mut report = JobReport::default();
    // One unit that cannot be processed does not hold up the others; it is logged and counted.
    for t in &units {
        let result = match job_context(t) {
            Ok(ctx) => {
                let today = as_of.unwrap_or_else(|| today_in(&ctx.time_zone, app.now()));
                run_unit(app, &ctx, today).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(r) => report.add(&r),
            Err(e) => {
                tracing::error!(tenant = %t.tenant_id, error = ?e, "daily jobs failed for a business unit");
                report.failures += 1;
            }
        }
    }
    Ok(report)
}

/// Both jobs for one business unit as of `today`.
pub async fn run_unit(app: &App, ctx: &TenantContext, today: Date) -> AppResult<JobReport> {
    let mut report = JobReport {
        business_units: 1,
        ..Default::default()
    };
    contract_end(app, ctx, today, &mut report).await?;
    report.late_fees = late_fees(app, ctx, today).await?;
    let before = app.now() - flexportal_store::idempotency::TTL_MS;
    report.idempotency_keys_purged = crate::transact!(app, |tx| async {
        AppResult::Ok(flexportal_store::idempotency::purge(tx, &ctx.tenant_id, before).await?)
    })?;
    report.empty_files_removed = crate::files::remove_empty(app, ctx).await?;
    Ok(report)
}

/// The contract-end job (SPEC §2.6.6): every `active` subscription whose end date is before
/// `today`, in batches of [`BATCH`] per transaction.
async fn contract_end(
    app: &App,
    ctx: &TenantContext,
    today: Date,
    report: &mut JobReport,
) -> AppResult<()> {
    let before = today.to_string();
    let mut after: Option<String> = None;
    loop {
        let ids = {
            let mut c = app.db.read().await?;
            subscriptions::ended_contracts(&mut c, &ctx.tenant_id, &before, after.as_deref(), BATCH)
                .await?
        };
        let Some(last) = ids.last().cloned() else {
            return Ok(());
        };
        match crate::transact!(app, |tx| contract_end_batch(
            tx,
            ctx,
            &ids,
            today,
            app.now()
        )) {
            Ok(r) => report.add(&r),
            // A subscription the job cannot process must not hold up the others of its batch:
            // the batch runs again one subscription per transaction, and the failing ones are
            // logged and left for the next run.
            Err(e) if !e.is_retryable() => {
                tracing::warn!(error = ?e, "a contract-end batch failed; retrying one by one");
                for id in &ids {
                    let one = std::slice::from_ref(id);
                    match crate::transact!(app, |tx| contract_end_batch(
                        tx,
                        ctx,
                        one,
                        today,
                        app.now()
                    )) {
                        Ok(r) => report.add(&r),
                        Err(e) => {
                            tracing::error!(rental = %id, error = ?e, "contract end failed");
                            report.failures += 1;
                        }
                    }
                }
            }
            Err(e) => return Err(e),
        }
        after = Some(last);
    }
}

async fn contract_end_batch(
    tx: &mut Conn,
    ctx: &TenantContext,
    ids: &[String],
    today: Date,
    now: i64,
) -> AppResult<JobReport> {
    let mut r = JobReport::default();
    // Payment terms per customer, read once per batch (a business customer has many rentals).
    let mut terms: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    // The batch's subscriptions, locked, with one statement; those still active past their end.
    let mut ended = Vec::with_capacity(ids.len());
    for sub in subscriptions::get_many_for_update(tx, &ctx.tenant_id, ids).await? {
        if sub.status == SubscriptionStatus::Active.as_str()
            && lifecycle::stored_date(&sub.end_date)? < today
        {
            ended.push(sub);
        }
    }
    let behaviour = ctx.settings.subscriptions.contract_end.behaviour;
    // Holdover billing and the completion at the end date only look at what was billed after
    // the end date (every contract month has started by then); renewals extend the contract
    // and need each whole schedule (billed after "": every payment). Read for the whole batch
    // at once.
    let tails = matches!(
        behaviour,
        ContractEndBehaviour::RequireAction | ContractEndBehaviour::AutoTerminate
    );
    let pairs: Vec<(String, String)> = ended
        .iter()
        .map(|s| {
            let after = if tails {
                s.end_date.clone()
            } else {
                String::new()
            };
            (s.rental_id.clone(), after)
        })
        .collect();
    let mut billed = payments::for_rentals_billed_after_locked(tx, &ctx.tenant_id, &pairs).await?;
    for sub in ended {
        let id = &sub.rental_id.clone();
        r.contracts_ended += 1;
        let payments = billed.remove(id).unwrap_or_default();
        let mut locked = Locked { sub, payments };
        match behaviour {
            ContractEndBehaviour::RequireAction => {
                r.holdover_charges +=
                    holdover(tx, ctx, &mut locked, today, now, &mut terms).await?;
            }
            ContractEndBehaviour::AutoTerminate => {
                let x = lifecycle::stored_date(&locked.sub.end_date)?;
                lifecycle::end(
                    tx,
                    ctx,
                    &mut locked,
                    Ending {
                        status: SubscriptionStatus::EndedCompleted,
                        effective: x,
                        asset: AssetOutcome::Returned { condition: None },
                        event: SubscriptionEventKind::Completed,
                        details: json!({"reason": "Contract end", "behaviour": "auto_terminate"})
                            .to_string(),
                    },
                    now,
                )
                .await?;
                r.completed += 1;
            }
            b @ (ContractEndBehaviour::AutoRenewMonthly
            | ContractEndBehaviour::AutoRenewSameTerm) => {
                let (months, reason) = match b {
                    ContractEndBehaviour::AutoRenewMonthly => (1, "auto-renew monthly"),
                    _ => (
                        locked.sub.original_contract_length.max(1),
                        "auto-renew same term",
                    ),
                };
                // Renew until the contract covers today (a unit that runs the job late catches
                // up); a renewal that cannot be made falls back to holdover billing.
                while lifecycle::stored_date(&locked.sub.end_date)? < today {
                    let e = Extension {
                        months,
                        monthly_amount: None,
                        reason: reason.into(),
                        notes: None,
                        capped: false,
                    };
                    match extend_locked(tx, ctx, &mut locked, e, now).await {
                        Ok(_) => r.renewals += 1,
                        Err(AppError::Rejected(e)) => {
                            tracing::warn!(rental = %id, error = %e, "renewal refused; billing holdover");
                            r.holdover_charges +=
                                holdover(tx, ctx, &mut locked, today, now, &mut terms).await?;
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    Ok(r)
}

/// Holdover billing (SPEC §2.6.6 `require_action`): one charge of the current monthly amount for
/// each service month that started after the end date, up to `today`, with the schedule's keys
/// and tax, created only when its key is not billed yet. Returns the charges created.
async fn holdover(
    tx: &mut Conn,
    ctx: &TenantContext,
    locked: &mut Locked,
    today: Date,
    now: i64,
    terms: &mut std::collections::HashMap<String, i64>,
) -> AppResult<u64> {
    let sub = &locked.sub;
    let end = lifecycle::stored_date(&sub.end_date)?;
    let input = ScheduleInput {
        start: lifecycle::stored_date(&sub.start_date)?,
        months: sub.contract_length,
        monthly_amount: sub.monthly_amount,
        cycle: sub.billing.cycle,
        first_payment: sub.billing.first_payment,
        option: sub.billing.option,
    };
    let contract = schedule::generate(&input).charges.len();
    // Enough months to reach today: one per month between the end date and today, plus one.
    let span = end
        .until((jiff::Unit::Month, today))
        .map(|s| i64::from(s.get_months()))
        .unwrap_or(0)
        .max(0)
        + 2;
    let longer = schedule::generate(&ScheduleInput {
        months: sub.contract_length + span,
        ..input.clone()
    });
    let keys = idempotency_keys(&sub.rental_id, &longer.charges);
    // A month is billed once: a charge on its billing date exists, whatever became of it (a
    // holdover month the operator cancelled stays cancelled). Keys alone are not enough: the
    // key format of a 30-day cycle depends on how many charges share a month.
    let billed = |date: jiff::civil::Date| {
        let date = date.to_string();
        locked
            .payments
            .iter()
            .any(|p| p.kind.is_contract_month() && p.billing_date == date)
    };
    let (charges, keys): (Vec<_>, Vec<_>) = longer.charges[contract..]
        .iter()
        .cloned()
        .zip(keys[contract..].iter().cloned())
        .filter(|(c, _)| {
            c.service_start > end && c.service_start <= today && !billed(c.billing_date)
        })
        .map(|(mut c, k)| {
            c.base_amount = sub.monthly_amount;
            c.paid_at_creation = false;
            (c, k)
        })
        .unzip();
    if charges.is_empty() {
        return Ok(0);
    }
    let days = match terms.get(&sub.customer_id) {
        Some(d) => *d,
        None => {
            let d = lifecycle::customer_terms_days(tx, ctx, &sub.customer_id).await?;
            terms.insert(sub.customer_id.clone(), d);
            d
        }
    };
    let mut rows =
        lifecycle::rental_charges_with_terms(ctx, sub, &charges, keys, input.start, now, days)?;
    for r in rows.iter_mut() {
        r.description.push_str(" (holdover)");
    }
    crate::events::insert_payments(tx, ctx, &rows, now).await?;
    let n = rows.len() as u64;
    locked.payments.extend(rows);
    Ok(n)
}

/// The late-fee job (SPEC §2.7): when the unit has late fees on, every `pending` or `failed`
/// payment with `today > dueDate + grace days` and no fee yet gets the fee once. Returns the
/// payments changed.
async fn late_fees(app: &App, ctx: &TenantContext, today: Date) -> AppResult<u64> {
    let rules = &ctx.settings.payments.late_fees;
    if !rules.enabled {
        return Ok(0);
    }
    let fee = match rules.method {
        LateFeeMethod::Flat => {
            LateFee::Flat(rules.value.minor(ctx.exponent()).map_err(crate::corrupt)?)
        }
        LateFeeMethod::Percentage => {
            LateFee::Percentage(rules.value.basis_points().map_err(crate::corrupt)?)
        }
    };
    let due_before = schedule::add_days(today, -rules.grace_period_days).to_string();
    crate::transact!(app, |tx| async {
        let now = app.now();
        if !crate::events::subscribed(tx, ctx, "payment.updated").await? {
            return payments::apply_late_fees(tx, &ctx.tenant_id, &due_before, fee, now)
                .await
                .map_err(AppError::from);
        }
        let changed =
            payments::apply_late_fees_returning(tx, &ctx.tenant_id, &due_before, fee, now).await?;
        for p in &changed {
            let previous = p.original_amount.unwrap_or(p.total);
            crate::events::payment_updated(tx, ctx, p, previous, now);
        }
        Ok(changed.len() as u64)
    })
}
