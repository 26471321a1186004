//! The consolidation algorithm of billing groups (SPEC §2.8, Recommended): member charges join the
//! group's consolidated payment of their billing period as lines, leave it again, and follow the
//! group's billing day. Only `pending` consolidated payments are ever restructured (step 5).
//!
//! Every function runs in the caller's transaction with the group and the member subscriptions
//! already locked (group, then subscriptions by id, then payments), so two restructurings of one
//! consolidated payment run one after the other.

use std::collections::BTreeMap;

use flexportal_domain::ids::{self, prefix};
use flexportal_domain::schedule;
use flexportal_store::Conn;
use flexportal_store::billing_groups::BillingGroupRecord;
use flexportal_store::payment_lines::{self, LineRecord};
use flexportal_store::payments::{self, PaymentRecord};
use flexportal_store::subscriptions::SubscriptionRecord;
use jiff::civil::Date;

use crate::error::{AppError, AppResult};
use crate::{TenantContext, lifecycle, settings};

/// The consolidated billing date of period `P` (`YYYY-MM`): day `billing_day` (1–28) of that
/// month (SPEC §2.8 step 1). Errors: 500 for an unreadable stored period.
pub fn group_date(period: &str, billing_day: i64) -> AppResult<Date> {
    let bad = || AppError::corrupt(format!("billing period {period:?}"));
    let (y, m) = period.split_once('-').ok_or_else(bad)?;
    let year: i16 = y.parse().map_err(|_| bad())?;
    let month: i8 = m.parse().map_err(|_| bad())?;
    let day = i8::try_from(billing_day.clamp(1, 28)).map_err(|_| bad())?;
    Date::new(year, month, day).map_err(|_| bad())
}

/// The idempotency key of a group's consolidated payment for a period (SPEC §2.7).
pub fn group_key(billing_group_id: &str, period: &str) -> String {
    format!("{billing_group_id}:{period}")
}

/// Whether a member charge joins now (SPEC §2.8 step 2): `pending`, a contract month or stub
/// (not a one-off), individual, its own billing date and the consolidated billing date after
/// `today`.
fn joins(p: &PaymentRecord, group: &BillingGroupRecord, today: Date) -> AppResult<bool> {
    if p.payment_type != "individual"
        || p.status != "pending"
        || !matches!(p.kind, flexportal_domain::status::PaymentKind::Installment)
    {
        return Ok(false);
    }
    let own = lifecycle::stored_date(&p.billing_date)?;
    Ok(own > today && group_date(&p.billing_period, group.billing_day)? > today)
}

/// The consolidated payments a run of joins works on, by period: the pending payment of each
/// period (read or created), or `None` when the period's payment exists but is no longer
/// pending (its charges then stay individual, step 5).
struct Open<'a> {
    ctx: &'a TenantContext,
    group: &'a BillingGroupRecord,
    terms: i64,
    now: i64,
    by_period: BTreeMap<String, Option<PaymentRecord>>,
}

impl<'a> Open<'a> {
    async fn new(
        tx: &mut Conn,
        ctx: &'a TenantContext,
        group: &'a BillingGroupRecord,
        now: i64,
    ) -> AppResult<Open<'a>> {
        Ok(Open {
            ctx,
            group,
            terms: lifecycle::customer_terms_days(tx, ctx, &group.customer_id).await?,
            now,
            by_period: BTreeMap::new(),
        })
    }

    /// The pending consolidated payment of the charge's period, created (without lines) when
    /// the period has none.
    async fn payment_for(
        &mut self,
        tx: &mut Conn,
        charge: &PaymentRecord,
    ) -> AppResult<Option<String>> {
        let period = charge.billing_period.clone();
        if !self.by_period.contains_key(&period) {
            let key = group_key(&self.group.billing_group_id, &period);
            // The period's payment may not exist yet, so no row lock can order two members'
            // transactions that both need it (concurrent extensions): a lock on its key does,
            // and the second finds the payment the first created instead of a duplicate key.
            tx.lock_key(&self.ctx.tenant_id, &format!("consolidated:{key}"))
                .await?;
            let found = payments::by_key(tx, &self.ctx.tenant_id, &key, true).await?;
            let open = match found {
                Some(p) if p.status == "pending" => Some(p),
                Some(_) => None,
                None => {
                    let date = group_date(&period, self.group.billing_day)?;
                    let p = PaymentRecord {
                        tenant_id: self.ctx.tenant_id.clone(),
                        payment_id: ids::new_id(prefix::PAYMENT, self.now),
                        customer_id: self.group.customer_id.clone(),
                        rental_id: None,
                        billing_group_id: Some(self.group.billing_group_id.clone()),
                        payment_type: "consolidated".into(),
                        billing_date: date.to_string(),
                        service_start: date.to_string(),
                        stub: false,
                        billing_period: period.clone(),
                        due_date: schedule::due_date(date, self.terms).to_string(),
                        subtotal: 0,
                        tax_amount: 0,
                        tax_rate_bp: charge.tax_rate_bp,
                        total: 0,
                        currency: charge.currency.clone(),
                        status: "pending".into(),
                        provider: "manual".into(),
                        idempotency_key: key,
                        description: format!("{} {period}", self.group.group_name),
                        created_at: self.now,
                        updated_at: self.now,
                        kind: flexportal_domain::status::PaymentKind::Installment,
                        ..Default::default()
                    };
                    // Announced by `recompute` once its lines give it a total.
                    payments::insert_many(tx, std::slice::from_ref(&p)).await?;
                    Some(p)
                }
            };
            self.by_period.insert(period.clone(), open);
        }
        Ok(self.by_period[&period]
            .as_ref()
            .map(|p| p.payment_id.clone()))
    }

    /// Recomputes the totals of every payment touched.
    async fn finish(self, tx: &mut Conn) -> AppResult<()> {
        for p in self.by_period.into_values().flatten() {
            recompute(tx, self.ctx, p, self.now).await?;
        }
        Ok(())
    }
}

/// A line for a charge: its rental, key, dates, description and amounts.
fn line_of(ctx: &TenantContext, c: &PaymentRecord, payment_id: &str, now: i64) -> LineRecord {
    LineRecord {
        tenant_id: ctx.tenant_id.clone(),
        line_id: ids::new_id("pl", now),
        payment_id: payment_id.to_string(),
        rental_id: c.rental_id.clone().unwrap_or_default(),
        source_payment_id: None,
        charge_key: c.idempotency_key.clone(),
        billing_date: c.billing_date.clone(),
        service_start: c.service_start.clone(),
        stub: c.stub,
        description: c.description.clone(),
        base_amount: lifecycle::base_amount(c, settings::vat(ctx).inclusive),
        subtotal: c.subtotal,
        tax_amount: c.tax_amount,
        created_at: now,
        removed_at: None,
    }
}

/// Moves the members' pending future individual charges onto the group's consolidated payments
/// (SPEC §2.8 step 2): each becomes `cancelled` ("Consolidated into <paymentId>") and a line.
/// Every consolidated payment touched is recomputed once, whatever the number of members.
/// Returns the lines added.
pub async fn join(
    tx: &mut Conn,
    ctx: &TenantContext,
    group: &BillingGroupRecord,
    rental_ids: &[String],
    today: Date,
    now: i64,
) -> AppResult<u64> {
    let mut open = Open::new(tx, ctx, group, now).await?;
    let mut lines = Vec::new();
    // Absorbed individual payments, by the consolidated payment that took them.
    let mut absorbed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rental_id in rental_ids {
        let charges = payments::for_rental_locked(tx, &ctx.tenant_id, rental_id).await?;
        for c in charges {
            if !joins(&c, group, today)? {
                continue;
            }
            let Some(payment_id) = open.payment_for(tx, &c).await? else {
                continue;
            };
            let mut line = line_of(ctx, &c, &payment_id, now);
            line.source_payment_id = Some(c.payment_id.clone());
            absorbed.entry(payment_id).or_default().push(c.payment_id);
            lines.push(line);
        }
    }
    for (payment_id, ids) in &absorbed {
        crate::events::cancel_payments(
            tx,
            ctx,
            ids,
            &format!("Consolidated into {payment_id}"),
            now,
        )
        .await?;
    }
    payment_lines::insert_many(tx, &lines).await?;
    open.finish(tx).await?;
    Ok(lines.len() as u64)
}

/// Places new charges of a member of an active group (a new subscription, an extension): those
/// the date rule admits become lines directly, without an individual payment (SPEC §2.8 step 2);
/// the others are returned, to be inserted as individual payments.
pub async fn place(
    tx: &mut Conn,
    ctx: &TenantContext,
    group: &BillingGroupRecord,
    rows: Vec<PaymentRecord>,
    today: Date,
    now: i64,
) -> AppResult<Vec<PaymentRecord>> {
    let mut open = Open::new(tx, ctx, group, now).await?;
    let mut lines = Vec::new();
    let mut individual = Vec::new();
    for c in rows {
        if joins(&c, group, today)?
            && let Some(payment_id) = open.payment_for(tx, &c).await?
        {
            lines.push(line_of(ctx, &c, &payment_id, now));
        } else {
            individual.push(c);
        }
    }
    payment_lines::insert_many(tx, &lines).await?;
    open.finish(tx).await?;
    Ok(individual)
}

/// Places new charges of a subscription (an extension, a renewal): when it is a member of an
/// active group they go through [`place`], else all are returned. The group is read without a
/// lock (the subscription is locked, and a group operation locks the group before its members).
pub async fn place_for_member(
    tx: &mut Conn,
    ctx: &TenantContext,
    sub: &SubscriptionRecord,
    rows: Vec<PaymentRecord>,
    now: i64,
) -> AppResult<Vec<PaymentRecord>> {
    let Some(id) = &sub.billing_group_id else {
        return Ok(rows);
    };
    match flexportal_store::billing_groups::get(tx, &ctx.tenant_id, id, false).await? {
        Some(group) if group.status == "active" => {
            let today = flexportal_domain::time::today_in(&ctx.time_zone, now);
            place(tx, ctx, &group, rows, today, now).await
        }
        _ => Ok(rows),
    }
}

/// Why a member's lines leave (SPEC §2.8 step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leave {
    /// Removed from the group, or the group deactivated or deleted: lines on pending payments
    /// billed after today leave and come back as individual payments.
    Member,
    /// The subscription ended on this date: lines whose service starts after it leave, and are
    /// not re-created.
    Ended(Date),
}

/// Removes the members' lines (SPEC §2.8 step 3) from the pending consolidated payments,
/// recomputes each of those once (a payment left without lines is cancelled) and, unless the
/// subscriptions ended, re-creates each removed line as an individual `pending` payment on the
/// charge's own billing date (today if that has passed), key `<charge key>:r<n>`. Returns the
/// lines removed.
pub async fn leave(
    tx: &mut Conn,
    ctx: &TenantContext,
    subs: &[&SubscriptionRecord],
    how: Leave,
    today: Date,
    now: i64,
) -> AppResult<u64> {
    let mut leaving: Vec<(&SubscriptionRecord, LineRecord, usize)> = Vec::new();
    let mut touched: BTreeMap<String, PaymentRecord> = BTreeMap::new();
    for sub in subs {
        let all = payment_lines::of_rental(tx, &ctx.tenant_id, &sub.rental_id).await?;
        let mut ids: Vec<String> = all
            .iter()
            .filter(|l| l.removed_at.is_none() && !touched.contains_key(&l.payment_id))
            .map(|l| l.payment_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        for c in payments::get_many(tx, &ctx.tenant_id, &ids, true).await? {
            touched.insert(c.payment_id.clone(), c);
        }
        for l in all.iter().filter(|l| l.removed_at.is_none()) {
            let Some(c) = touched.get(&l.payment_id) else {
                continue;
            };
            if c.status != "pending" {
                continue;
            }
            let goes = match how {
                Leave::Member => lifecycle::stored_date(&c.billing_date)? > today,
                Leave::Ended(x) => lifecycle::stored_date(&l.service_start)? > x,
            };
            if goes {
                // The how-many-th removal of this charge, for the re-created payment's key.
                let n = all
                    .iter()
                    .filter(|x| x.charge_key == l.charge_key && x.removed_at.is_some())
                    .count()
                    + 1;
                leaving.push((sub, l.clone(), n));
            }
        }
    }
    if leaving.is_empty() {
        return Ok(0);
    }
    let line_ids: Vec<String> = leaving.iter().map(|(_, l, _)| l.line_id.clone()).collect();
    payment_lines::remove(tx, &ctx.tenant_id, &line_ids, now).await?;
    for c in touched.into_values() {
        if leaving.iter().any(|(_, l, _)| l.payment_id == c.payment_id) {
            recompute(tx, ctx, c, now).await?;
        }
    }
    if how == Leave::Member {
        let mut terms_of: BTreeMap<String, i64> = BTreeMap::new();
        let mut rows = Vec::new();
        for (sub, l, n) in &leaving {
            let terms = match terms_of.get(&sub.customer_id) {
                Some(t) => *t,
                None => {
                    let t = lifecycle::customer_terms_days(tx, ctx, &sub.customer_id).await?;
                    terms_of.insert(sub.customer_id.clone(), t);
                    t
                }
            };
            let on = lifecycle::stored_date(&l.billing_date)?.max(today);
            rows.push(PaymentRecord {
                tenant_id: ctx.tenant_id.clone(),
                payment_id: ids::new_id(prefix::PAYMENT, now),
                customer_id: sub.customer_id.clone(),
                rental_id: Some(sub.rental_id.clone()),
                billing_group_id: None,
                payment_type: "individual".into(),
                billing_date: on.to_string(),
                service_start: l.service_start.clone(),
                stub: l.stub,
                billing_period: l.billing_date[..7].to_string(),
                due_date: schedule::due_date(on, terms).to_string(),
                subtotal: l.subtotal,
                tax_amount: l.tax_amount,
                tax_rate_bp: settings::vat(ctx).rate_bp,
                total: l.subtotal.saturating_add(l.tax_amount),
                currency: ctx.currency.code().to_string(),
                status: "pending".into(),
                provider: "manual".into(),
                idempotency_key: format!("{}:r{n}", l.charge_key),
                description: l.description.clone(),
                created_at: now,
                updated_at: now,
                kind: flexportal_domain::status::PaymentKind::Installment,
                ..Default::default()
            });
        }
        crate::events::insert_payments(tx, ctx, &rows, now).await?;
    }
    Ok(leaving.len() as u64)
}

/// Recomputes a consolidated payment from the lines that count (SPEC §2.7: subtotal = Σ line
/// subtotals, tax = Σ line taxes, total = their sum, plus a late fee already added); without
/// lines it becomes `cancelled`.
/// Webhooks (SPEC §2.11): `payment.scheduled` for a payment created in this transaction,
/// `payment.cancelled` when its last line left, else `payment.updated` when its total moved.
async fn recompute(
    tx: &mut Conn,
    ctx: &TenantContext,
    mut p: PaymentRecord,
    now: i64,
) -> AppResult<()> {
    let previous_total = p.total;
    let created_now = p.created_at == now && p.total == 0;
    let lines =
        payment_lines::of_payments(tx, &ctx.tenant_id, std::slice::from_ref(&p.payment_id)).await?;
    let too_large = || AppError::bad_request("VALIDATION_ERROR", "Amount too large");
    let sum = |f: fn(&LineRecord) -> i64| -> AppResult<i64> {
        lines
            .iter()
            .try_fold(0i64, |acc, l| acc.checked_add(f(l)).ok_or_else(too_large))
    };
    p.subtotal = sum(|l| l.subtotal)?;
    p.tax_amount = sum(|l| l.tax_amount)?;
    let charges = p.subtotal.checked_add(p.tax_amount).ok_or_else(too_large)?;
    // A late fee already added stays on the payment (SPEC §2.7: total = the charges + the fee,
    // `originalAmount` = the charges), however its lines change.
    p.total = match p
        .late_fee_amount
        .filter(|_| p.late_fee_applied && !lines.is_empty())
    {
        Some(fee) => {
            p.original_amount = Some(charges);
            charges.checked_add(fee).ok_or_else(too_large)?
        }
        None => charges,
    };
    if lines.is_empty() {
        p.status = "cancelled".into();
        p.notes = Some("No charges left on this consolidated payment".into());
    }
    p.updated_at = now;
    payments::update_consolidated(tx, &p).await?;
    if lines.is_empty() {
        if !created_now {
            crate::events::payment_cancelled(tx, ctx, &p, "No charges left", now);
        }
    } else if created_now {
        crate::events::payment_created(tx, ctx, &p, now);
    } else if p.total != previous_total {
        crate::events::payment_updated(tx, ctx, &p, previous_total, now);
    }
    Ok(())
}

/// Moves the billing and due dates of every pending consolidated payment of the group to the new
/// billing day, where the new date is after today (SPEC §2.8 step 4). Returns the payments moved.
pub async fn move_day(
    tx: &mut Conn,
    ctx: &TenantContext,
    group: &BillingGroupRecord,
    today: Date,
    now: i64,
) -> AppResult<u64> {
    let terms = lifecycle::customer_terms_days(tx, ctx, &group.customer_id).await?;
    let mut moved = 0;
    for mut p in payments::pending_of_group(tx, &ctx.tenant_id, &group.billing_group_id).await? {
        let date = group_date(&p.billing_period, group.billing_day)?;
        if date <= today || p.billing_date == date.to_string() {
            continue;
        }
        p.billing_date = date.to_string();
        p.service_start = date.to_string();
        p.due_date = schedule::due_date(date, terms).to_string();
        p.updated_at = now;
        payments::update_consolidated(tx, &p).await?;
        crate::events::payment_updated(tx, ctx, &p, p.total, now);
        moved += 1;
    }
    Ok(moved)
}
