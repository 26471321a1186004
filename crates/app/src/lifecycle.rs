//! What every lifecycle action of a subscription shares (SPEC §2.6.2, §2.6.4, §2.6.5): loading
//! the subscription and its charges locked, the remaining charges at a date, the ending effects,
//! one-off charges, and the records written to the subscription's history.
//!
//! Money is minor units of the unit's currency; dates are calendar dates of the unit.

use flexportal_domain::ids::{self, prefix};
use flexportal_domain::quote::QuoteInput;
use flexportal_domain::schedule::{self, ChargeState, billing_period, due_date};
use flexportal_domain::status::{PaymentKind, SubscriptionEventKind, SubscriptionStatus};
use flexportal_domain::tax::apply_tax;
use flexportal_store::customers::{self, CounterDelta};
use flexportal_store::payments::{self, PaymentRecord};
use flexportal_store::subscription_events::{self, SubscriptionEvent};
use flexportal_store::subscriptions::{self, SubscriptionRecord};
use flexportal_store::{Conn, StoreError, assets, assignments, orders};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{AppError, AppResult, TenantContext, settings};

/// Who performed an action, as stored in the history (SPEC §1.15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorRecord {
    /// `apikey:<keyId>` for API calls, `system` for jobs.
    pub user_id: String,
    /// The key's name, or the job's.
    pub display_name: String,
}

impl ActorRecord {
    /// The actor of a context.
    pub fn of(ctx: &TenantContext) -> Self {
        ActorRecord {
            user_id: ctx.actor.user_id.clone(),
            display_name: ctx.actor.display_name.clone(),
        }
    }
}

/// How a buyout price is made up (SPEC §2.13), minor units and basis points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutBreakdownRecord {
    /// Remaining months.
    pub remaining_months: i64,
    /// The remaining-months part.
    pub remaining_months_payment: i64,
    /// Percentage of the list price, basis points.
    pub list_price_percentage_bp: i64,
    /// The list-price part.
    pub list_price_amount: i64,
    /// The flat part.
    pub flat_fee: i64,
}

/// `buyoutDetails` as stored (SPEC §2.6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutRecord {
    /// The price charged, minor units.
    pub buyout_price: i64,
    /// A price was sent (`manual_override`), else `auto_calculated`.
    pub manual: bool,
    /// The unit's method at the effective date.
    pub breakdown: BuyoutBreakdownRecord,
    /// `customer_request`, `end_of_contract` or `other`.
    pub reason: String,
    /// Free text.
    pub notes: Option<String>,
    /// Who processed it.
    pub processed_by: ActorRecord,
    /// The effective date `YYYY-MM-DD`.
    pub buyout_date: String,
}

/// How an early-return fee is made up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnBreakdownRecord {
    /// `remaining_months`, `flat_fee`, `no_fee` or `manual`.
    pub method: String,
    /// Remaining months.
    pub remaining_months: i64,
    /// The grace period waived the fee.
    pub grace_period_applied: bool,
    /// Days from the start date to the return.
    pub days_from_start: i64,
}

/// `earlyReturnDetails` as stored (SPEC §2.6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnRecord {
    /// The fee charged, minor units.
    pub fee: i64,
    /// `waiveFee` was sent.
    pub fee_waived: bool,
    /// A fee was sent or waived (`manual_override`), else `auto_calculated`.
    pub manual: bool,
    /// How the fee is made up.
    pub breakdown: EarlyReturnBreakdownRecord,
    /// `excellent`, `good`, `fair`, `poor` or `damaged`.
    pub return_condition: String,
    /// Why.
    pub reason: String,
    /// Damage found.
    pub damage_assessment: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// Who processed it.
    pub processed_by: ActorRecord,
    /// The return date `YYYY-MM-DD`.
    pub returned_on: String,
}

/// `cancellationDetails` as stored (SPEC §2.6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationRecord {
    /// One of the five cancellation reasons.
    pub reason: String,
    /// Free text.
    pub notes: Option<String>,
    /// Who processed it.
    pub processed_by: ActorRecord,
    /// The effective date `YYYY-MM-DD`.
    pub cancelled_on: String,
    /// `cancelledAt`, epoch milliseconds: the moment of the action when it takes effect today,
    /// else midnight UTC of the effective date.
    pub cancelled_at: i64,
}

/// An `extensionHistory` entry as stored (SPEC §2.6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionRecord {
    /// Months added.
    pub extension_months: i64,
    /// Contract length before, months.
    pub old_contract_length: i64,
    /// Contract length after, months.
    pub new_contract_length: i64,
    /// Monthly amount before, minor units.
    pub old_monthly_amount: i64,
    /// Monthly amount of the added months, minor units.
    pub new_monthly_amount: i64,
    /// Why (`""` when not given; "auto-renew monthly" etc. for the contract-end job).
    pub reason: String,
    /// Free text.
    pub notes: Option<String>,
    /// Who extended it.
    pub extended_by: ActorRecord,
    /// End date before, `YYYY-MM-DD`.
    pub old_end_date: String,
    /// End date after, `YYYY-MM-DD`.
    pub new_end_date: String,
    /// Epoch milliseconds.
    pub extended_at: i64,
}

/// A `replacementHistory` entry as stored (SPEC §2.6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplacementRecord {
    /// The asset taken back.
    pub old_serial_number: String,
    /// The asset given instead.
    pub new_serial_number: String,
    /// The enum value if given, else the free text.
    pub reason: String,
    /// Damage found.
    pub damage_assessment: Option<String>,
    /// Whether an insurance claim is made.
    pub insurance_claim: bool,
    /// Free text.
    pub notes: Option<String>,
    /// Who replaced it.
    pub replaced_by: ActorRecord,
    /// Epoch milliseconds.
    pub replaced_at: i64,
}

/// One entry of a subscription's history, decoded from its stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryEntry {
    /// An extension (by the API or the contract-end job).
    Extended(ExtensionRecord),
    /// A device replacement.
    Replaced(ReplacementRecord),
    /// An ending by buyout.
    BoughtOut(BuyoutRecord),
    /// An early return, or a return that completed the contract.
    Returned(EarlyReturnRecord),
    /// A cancellation.
    Cancelled(CancellationRecord),
    /// Anything this version does not render (creation, and kinds written by newer versions).
    Other,
}

impl HistoryEntry {
    /// Decodes a stored event. Errors: 500 when its details do not match its kind.
    pub fn decode(e: &SubscriptionEvent) -> AppResult<HistoryEntry> {
        let parse = |text: &str| -> AppResult<serde_json::Value> {
            serde_json::from_str(text).map_err(crate::corrupt)
        };
        Ok(match e.kind {
            SubscriptionEventKind::Extended => HistoryEntry::Extended(
                serde_json::from_value(parse(&e.details)?).map_err(crate::corrupt)?,
            ),
            SubscriptionEventKind::DeviceReplaced => HistoryEntry::Replaced(
                serde_json::from_value(parse(&e.details)?).map_err(crate::corrupt)?,
            ),
            SubscriptionEventKind::BoughtOut => HistoryEntry::BoughtOut(
                serde_json::from_value(parse(&e.details)?).map_err(crate::corrupt)?,
            ),
            SubscriptionEventKind::ReturnedEarly | SubscriptionEventKind::Completed
                if e.details.contains("\"returnedOn\"") =>
            {
                HistoryEntry::Returned(
                    serde_json::from_value(parse(&e.details)?).map_err(crate::corrupt)?,
                )
            }
            SubscriptionEventKind::Cancelled => HistoryEntry::Cancelled(
                serde_json::from_value(parse(&e.details)?).map_err(crate::corrupt)?,
            ),
            _ => HistoryEntry::Other,
        })
    }
}

/// The instant an action dated `x` took effect: `now` when `x` is today, else midnight UTC of
/// `x` (epoch milliseconds).
pub fn effective_instant(x: Date, today: Date, now: i64) -> i64 {
    if x == today {
        return now;
    }
    x.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(now)
}

/// A stored `YYYY-MM-DD` date. Errors: 500 when it is not one.
pub fn stored_date(s: &str) -> AppResult<Date> {
    s.parse()
        .map_err(|_| AppError::corrupt(format!("stored date {s:?}")))
}

/// What a contract-month state is read from: a whole payment or the narrow row a quote reads
/// ([`payments::charges_of_rental`]).
pub trait ChargeFields {
    /// Kind, service start (`YYYY-MM-DD`), stub, subtotal and tax (minor units), status.
    fn charge_fields(&self) -> (PaymentKind, &str, bool, i64, i64, &str);
}

impl ChargeFields for PaymentRecord {
    fn charge_fields(&self) -> (PaymentKind, &str, bool, i64, i64, &str) {
        let (start, status) = (self.service_start.as_str(), self.status.as_str());
        (
            self.kind,
            start,
            self.stub,
            self.subtotal,
            self.tax_amount,
            status,
        )
    }
}

impl ChargeFields for payments::ChargeRow {
    fn charge_fields(&self) -> (PaymentKind, &str, bool, i64, i64, &str) {
        let (start, status) = (self.service_start.as_str(), self.status.as_str());
        (
            self.kind,
            start,
            self.stub,
            self.subtotal,
            self.tax_amount,
            status,
        )
    }
}

/// The schedule charges of a subscription's payments as the remaining-months rules see them
/// (one-off charges excluded). The base amount of a charge is its net amount, or its total
/// before any late fee when the unit's prices include VAT (SPEC §2.7: inclusive `total` =
/// base; [`base_amount`]). Errors: 500 when a stored date cannot be read.
pub fn charge_states<P: ChargeFields>(
    payments: &[P],
    inclusive: bool,
) -> AppResult<Vec<ChargeState>> {
    payments
        .iter()
        .map(ChargeFields::charge_fields)
        .filter(|f| f.0.is_contract_month())
        .map(|(_, start, stub, subtotal, tax, status)| {
            Ok(ChargeState {
                service_start: stored_date(start)?,
                base_amount: base_of(subtotal, tax, inclusive),
                stub,
                open: !matches!(status, "paid" | "cancelled"),
                cancelled: status == "cancelled",
            })
        })
        .collect()
}

/// The base amount of a charge (SPEC §2.7): its net amount, or its total before any late fee
/// when the unit's prices include VAT (inclusive `total` = base). Minor units.
pub fn base_amount(p: &PaymentRecord, inclusive: bool) -> i64 {
    base_of(p.subtotal, p.tax_amount, inclusive)
}

/// [`base_amount`] of a net amount and its tax (minor units).
fn base_of(subtotal: i64, tax_amount: i64, inclusive: bool) -> i64 {
    if inclusive {
        subtotal.saturating_add(tax_amount)
    } else {
        subtotal
    }
}

/// A subscription loaded for an action: locked, with its payments locked.
pub struct Locked {
    /// The subscription.
    pub sub: SubscriptionRecord,
    /// Its payments, by billing date.
    pub payments: Vec<PaymentRecord>,
}

/// Loads a subscription for update. Errors: 404 `NOT_FOUND`.
pub async fn lock_subscription(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
) -> AppResult<SubscriptionRecord> {
    subscriptions::get_for_update(tx, &ctx.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Subscription"))
}

/// Loads a subscription and its payments for update. Errors: 404 `NOT_FOUND`.
pub async fn lock(tx: &mut Conn, ctx: &TenantContext, id: &str) -> AppResult<Locked> {
    let sub = lock_subscription(tx, ctx, id).await?;
    let payments = payments::for_rental_locked(tx, &ctx.tenant_id, &sub.rental_id).await?;
    Ok(Locked { sub, payments })
}

/// The stored status. Errors: 500 when it is not a known status.
pub fn status_of(sub: &SubscriptionRecord) -> AppResult<SubscriptionStatus> {
    SubscriptionStatus::parse(&sub.status)
        .ok_or_else(|| AppError::corrupt(format!("subscription status {:?}", sub.status)))
}

/// 400 `SUBSCRIPTION_NOT_ACTIVE` unless the subscription is `active` (SPEC §2.6.2).
pub fn require_active(sub: &SubscriptionRecord) -> AppResult<()> {
    if status_of(sub)? == SubscriptionStatus::Active {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "SUBSCRIPTION_NOT_ACTIVE",
            format!("Subscription {} is {}", sub.rental_id, sub.status),
        ))
    }
}

/// The quote input at `x` (SPEC §2.6.4): the contract's charges only, so holdover months billed
/// after the end date never count as remaining (a return after the end completes the contract
/// without a fee, SPEC §2.6.6). Errors: 500 for unreadable stored dates.
pub fn quote_input(
    ctx: &TenantContext,
    sub: &SubscriptionRecord,
    payments: &[PaymentRecord],
    x: Date,
) -> AppResult<QuoteInput> {
    let charges = charge_states(payments, settings::vat(ctx).inclusive)?;
    quote_input_of(sub, charges, x)
}

/// [`quote_input`] of the subscription's contract-month states ([`charge_states`]).
pub fn quote_input_of(
    sub: &SubscriptionRecord,
    mut charges: Vec<ChargeState>,
    x: Date,
) -> AppResult<QuoteInput> {
    let end = stored_date(&sub.end_date)?;
    charges.retain(|c| c.service_start <= end);
    let months_not_started = charges
        .iter()
        .filter(|c| !c.stub && !c.cancelled && c.service_start > x)
        .count() as i64;
    Ok(QuoteInput {
        months_not_started,
        remaining_months: schedule::remaining_months(&charges, x),
        remaining_value: schedule::remaining_value(&charges, x),
        list_price: sub.list_price,
        start_date: stored_date(&sub.start_date)?,
        as_of: x,
    })
}

/// What happens to the current asset at an ending (SPEC §2.6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetOutcome {
    /// Buyout: `sold`, links kept.
    Sold,
    /// Return: `returned`, links cleared, the return condition recorded when one is given.
    Returned {
        /// The condition of the returned device.
        condition: Option<String>,
    },
    /// Cancellation: stays `rented_out` and linked until the operator collects it.
    StaysWithCustomer,
}

/// One ending of an active subscription.
#[derive(Debug, Clone)]
pub struct Ending {
    /// The new status.
    pub status: SubscriptionStatus,
    /// The effective date `X`.
    pub effective: Date,
    /// What happens to the asset.
    pub asset: AssetOutcome,
    /// The history entry written.
    pub event: SubscriptionEventKind,
    /// Its details (JSON object text).
    pub details: String,
}

/// Applies the ending effects of SPEC §2.6.2 in the caller's transaction: cancels every open
/// remaining charge R(X), freezes `actualMonthsRented` and sets `monthsSaved` (0 for a
/// completion), moves the status, updates the customer counters and the asset, closes the
/// asset's assignment after X, and appends the history entry. Returns the months rented.
/// Errors: 500 for unreadable stored data.
pub async fn end(
    tx: &mut Conn,
    ctx: &TenantContext,
    locked: &mut Locked,
    ending: Ending,
    now: i64,
) -> AppResult<i64> {
    let x = ending.effective;
    let before = locked.sub.clone();
    let sub = &mut locked.sub;
    let charges = charge_states(&locked.payments, settings::vat(ctx).inclusive)?;
    let remaining: Vec<String> = locked
        .payments
        .iter()
        .filter(|p| {
            p.kind.is_contract_month()
                && p.payment_type == "individual"
                && !p.stub
                && matches!(p.status.as_str(), "pending" | "failed")
                && p.service_start.as_str() > x.to_string().as_str()
        })
        .map(|p| p.payment_id.clone())
        .collect();
    crate::events::cancel_payments(tx, ctx, &remaining, "Subscription ended", now).await?;
    // A billing-group member's lines for months after the end leave their consolidated payments
    // (SPEC §2.8 step 3).
    if sub.billing_group_id.is_some() {
        let today = flexportal_domain::time::today_in(&ctx.time_zone, now);
        crate::consolidation::leave(
            tx,
            ctx,
            &[&*sub],
            crate::consolidation::Leave::Ended(x),
            today,
            now,
        )
        .await?;
        locked.payments.retain(|p| {
            p.payment_type == "individual"
                || p.status != "pending"
                || stored_date(&p.service_start).is_ok_and(|s| s <= x)
        });
    }
    for p in locked.payments.iter_mut() {
        if remaining.contains(&p.payment_id) {
            p.status = "cancelled".into();
            p.notes = Some("Subscription ended".into());
            p.updated_at = now;
        }
    }
    // On or after the contract's end date every contract month has started (SPEC §2.6.4); the
    // contract-end job relies on this and loads only the charges billed after the end date.
    let rented = if stored_date(&sub.end_date).is_ok_and(|end| x >= end) {
        sub.contract_length
    } else {
        schedule::months_elapsed(&charges, x).min(sub.contract_length)
    };
    let saved = if ending.status == SubscriptionStatus::EndedCompleted {
        0
    } else {
        schedule::months_saved(sub.contract_length, rented)
    };
    // A pending upgrade order of a deferred upgrade is cancelled with the subscription.
    if let Some(order_id) = sub.pending_upgrade_order_id.take()
        && let Some(mut o) = orders::get(tx, &ctx.tenant_id, &order_id, true).await?
        && matches!(o.status.as_str(), "pending" | "confirmed")
    {
        o.status = "cancelled".into();
        o.cancellation_reason = Some("Subscription ended".into());
        o.cancelled_at = Some(now);
        o.updated_at = now;
        orders::update(tx, &o).await?;
    }
    sub.status = ending.status.as_str().into();
    sub.ended_on = Some(x.to_string());
    sub.months_rented = Some(rented);
    sub.months_saved = Some(saved);
    sub.last_modified_date = now;
    sub.updated_at = now;
    subscriptions::update_changed(tx, &before, sub).await?;
    let delta = CounterDelta {
        devices: -1,
        monthly_revenue: -sub.monthly_amount,
        ..Default::default()
    };
    customers::add_counters(tx, &ctx.tenant_id, &sub.customer_id, delta, now).await?;
    if let Some(mut asset) =
        assets::get_for_update(tx, &ctx.tenant_id, &sub.asset_serial_number).await?
        && asset.rental_id.as_deref() == Some(sub.rental_id.as_str())
    {
        let read = asset.clone();
        match &ending.asset {
            AssetOutcome::Sold => asset.status = "sold".into(),
            AssetOutcome::Returned { condition } => {
                asset.status = "returned".into();
                asset.customer_id = None;
                asset.rental_id = None;
                if condition.is_some() {
                    asset.condition.clone_from(condition);
                }
            }
            AssetOutcome::StaysWithCustomer => {}
        }
        if ending.asset != AssetOutcome::StaysWithCustomer {
            asset.updated_at = now;
            assets::update_changed(tx, &read, &asset).await?;
        }
    }
    assignments::close(
        tx,
        &ctx.tenant_id,
        &sub.rental_id,
        &sub.asset_serial_number,
        &schedule::add_days(x, 1).to_string(),
    )
    .await?;
    let info: serde_json::Value = serde_json::from_str(&ending.details).unwrap_or_default();
    let ended = crate::events::Ended {
        previous_status: &before.status,
        effective_date: x.to_string(),
        reason: info.get("reason").and_then(serde_json::Value::as_str),
        fee: info.get("fee").and_then(serde_json::Value::as_i64),
        buyout_price: info.get("buyoutPrice").and_then(serde_json::Value::as_i64),
    };
    crate::events::subscription_ended(tx, ctx, sub, &ended, now);
    if let AssetOutcome::Returned { condition } = &ending.asset {
        crate::events::asset_returned(
            tx,
            ctx,
            &crate::events::AssetReturn {
                serial: &sub.asset_serial_number,
                rental_id: &sub.rental_id,
                customer_id: &sub.customer_id,
                new_status: "returned",
                condition: condition.as_deref(),
            },
            now,
        );
    }
    append_event(tx, ctx, &sub.rental_id, ending.event, ending.details, now).await?;
    Ok(rented)
}

/// Appends one entry to a subscription's history.
pub async fn append_event(
    tx: &mut Conn,
    ctx: &TenantContext,
    rental_id: &str,
    kind: SubscriptionEventKind,
    details: String,
    now: i64,
) -> AppResult<()> {
    subscription_events::append(
        tx,
        &SubscriptionEvent {
            tenant_id: ctx.tenant_id.clone(),
            rental_id: rental_id.to_string(),
            event_id: ids::new_id(prefix::EVENT, now),
            kind,
            actor: ctx.actor.user_id.clone(),
            details,
            created_at: now,
        },
    )
    .await?;
    Ok(())
}

/// The payment rows of schedule charges of a rental (extensions, holdover months): taxed and due
/// per the unit's settings and the customer's type (SPEC §2.6.3, §2.7). Errors: as
/// [`crate::fulfilment::schedule_rows`].
pub async fn rental_charges(
    tx: &mut Conn,
    ctx: &TenantContext,
    sub: &SubscriptionRecord,
    charges: &[schedule::Charge],
    keys: Vec<String>,
    start: Date,
    now: i64,
) -> AppResult<Vec<PaymentRecord>> {
    let terms = customer_terms_days(tx, ctx, &sub.customer_id).await?;
    rental_charges_with_terms(ctx, sub, charges, keys, start, now, terms)
}

/// [`rental_charges`] with the customer's payment terms already known (`terms_days`, days from
/// billing to due date): for batches that look each customer up once.
pub fn rental_charges_with_terms(
    ctx: &TenantContext,
    sub: &SubscriptionRecord,
    charges: &[schedule::Charge],
    keys: Vec<String>,
    start: Date,
    now: i64,
    terms: i64,
) -> AppResult<Vec<PaymentRecord>> {
    let (rows, _) = crate::fulfilment::schedule_rows(
        ctx,
        &crate::fulfilment::ChargeOwner {
            customer_id: &sub.customer_id,
            rental_id: &sub.rental_id,
            product_name: &sub.product_name,
            terms_days: terms,
        },
        charges,
        keys,
        start,
        now,
    )?;
    Ok(rows)
}

/// Days from billing to due date for a customer: the unit's payment terms for a business
/// customer, 0 for an individual (SPEC §2.6.3).
pub async fn customer_terms_days(
    tx: &mut Conn,
    ctx: &TenantContext,
    customer_id: &str,
) -> AppResult<i64> {
    let business = customers::get(tx, &ctx.tenant_id, customer_id)
        .await?
        .is_some_and(|c| c.customer_type == "business");
    Ok(settings::payment_terms_days(ctx, business))
}

/// A one-off charge of a subscription (buyout price, early-return fee; SPEC §2.7 kinds): billed
/// on `on`, due after the unit's payment terms for business customers, taxed per §2.7, with
/// one line item. Inserted in the caller's transaction. Errors: 400 `VALIDATION_ERROR` on
/// `path` when the taxed amount does not fit; 409 `CONFLICT` when the idempotency key is taken.
#[allow(clippy::too_many_arguments)]
pub async fn charge_one_off(
    tx: &mut Conn,
    ctx: &TenantContext,
    sub: &SubscriptionRecord,
    kind: PaymentKind,
    base: i64,
    on: Date,
    path: &str,
    now: i64,
) -> AppResult<PaymentRecord> {
    let (description, key) = match kind {
        PaymentKind::Buyout => ("Buyout", format!("{}:buyout", sub.rental_id)),
        _ => (
            "Early return fee",
            format!("{}:early-return", sub.rental_id),
        ),
    };
    let terms = customer_terms_days(tx, ctx, &sub.customer_id).await?;
    let vat = settings::vat(ctx);
    let a = apply_tax(base, vat.rate_bp, vat.inclusive).map_err(|_| crate::overflow(path))?;
    let p = PaymentRecord {
        tenant_id: ctx.tenant_id.clone(),
        payment_id: ids::new_id(prefix::PAYMENT, now),
        customer_id: sub.customer_id.clone(),
        rental_id: Some(sub.rental_id.clone()),
        payment_type: "individual".into(),
        billing_date: on.to_string(),
        service_start: on.to_string(),
        stub: false,
        billing_period: billing_period(on),
        due_date: due_date(on, terms).to_string(),
        subtotal: a.subtotal,
        tax_amount: a.tax_amount,
        tax_rate_bp: vat.rate_bp,
        total: a.total,
        currency: ctx.currency.code().to_string(),
        status: "pending".into(),
        provider: "manual".into(),
        idempotency_key: key,
        description: description.into(),
        created_at: now,
        updated_at: now,
        kind,
        ..Default::default()
    };
    crate::events::insert_payments(tx, ctx, std::slice::from_ref(&p), now)
        .await
        .map_err(|e| match e {
            StoreError::Unique(_) => {
                AppError::conflict("CONFLICT", "A payment with this idempotency key exists")
            }
            other => crate::internal(other),
        })?;
    Ok(p)
}
