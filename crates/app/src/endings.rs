//! The endings of a subscription and their quotes (SPEC §2.6.5): buyoutSubscription,
//! earlyReturnSubscription, cancelSubscription, calculateBuyoutPrice and
//! calculateEarlyReturnFee. Each action is one transaction with all its effects; a quote and the
//! action it quotes compute the price with the same functions ([`buyout_terms`],
//! [`early_return_terms`]), so they never differ for the same date.

use flexportal_domain::money::{AmountError, parse_amount};
use flexportal_domain::quote::{self, BuyoutQuote, EarlyReturnQuote, QuoteInput};
use flexportal_domain::schedule;
use flexportal_domain::status::{PaymentKind, SubscriptionEventKind, SubscriptionStatus};
use flexportal_domain::tax::apply_tax;
use flexportal_domain::time::today_in;
use flexportal_store::Conn;
use flexportal_store::payments;
use flexportal_store::subscriptions::{self, SubscriptionRecord};
use jiff::civil::Date;
use serde_json::Value;

use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, body_object};
use crate::lifecycle::{
    self, ActorRecord, AssetOutcome, BuyoutBreakdownRecord, BuyoutRecord, CancellationRecord,
    EarlyReturnBreakdownRecord, EarlyReturnRecord, Ending, Locked,
};
use crate::{App, AppError, AppResult, TenantContext, settings};

/// A money field of an action whose wrong values have their own error code
/// (`INVALID_BUYOUT_PRICE`, `INVALID_FEE`), checked after the subscription's state.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AmountInput {
    Absent,
    Valid(i64),
    Invalid(&'static str),
}

fn amount_input(f: &Fields<'_>, key: &str, exponent: u32) -> AmountInput {
    match f.raw(key) {
        None => AmountInput::Absent,
        Some(Value::Number(n)) => match parse_amount(&n.to_string(), exponent) {
            Ok(v) if v < 0 => AmountInput::Invalid("must be zero or more"),
            Ok(v) => AmountInput::Valid(v),
            Err(AmountError::TooLarge) => AmountInput::Invalid("is too large"),
            Err(AmountError::NotANumber) => AmountInput::Invalid("must be a number"),
        },
        Some(_) => AmountInput::Invalid("must be a number"),
    }
}

/// The effective date of an ending: the sent date, or today; never before the start date
/// (SPEC §2.6.5) and, as for a start date, at most 12 months after today: a later date is a typo,
/// and one near the end of the calendar would leave a subscription whose ending cannot be
/// rendered as an instant. Errors: 400 `VALIDATION_ERROR` on `key`.
fn effective_date(
    sent: Option<String>,
    key: &str,
    sub: &SubscriptionRecord,
    today: Date,
) -> AppResult<Date> {
    let x = match sent {
        Some(d) => lifecycle::stored_date(&d)?,
        None => today,
    };
    if x < lifecycle::stored_date(&sub.start_date)? {
        return Err(AppError::field(
            key,
            "too_small",
            format!("Must not be before the start date {}", sub.start_date),
        ));
    }
    let latest = schedule::add_months(today, 12);
    if x > latest {
        return Err(AppError::field(
            key,
            "too_big",
            format!("Must not be after {latest}, a year from today"),
        ));
    }
    Ok(x)
}

/// The net amount (SPEC §2.7 `subtotal`) of a charge with base `base`. Errors: 400 on `path`
/// when it does not fit.
fn net_of(ctx: &TenantContext, base: i64, path: &str) -> AppResult<i64> {
    let vat = settings::vat(ctx);
    apply_tax(base, vat.rate_bp, vat.inclusive)
        .map(|a| a.subtotal)
        .map_err(|_| crate::overflow(path))
}

/// The buyout price by the unit's method at the quote's date (SPEC §2.13). Errors: 500 when a
/// stored setting does not convert.
pub fn buyout_terms(ctx: &TenantContext, q: &QuoteInput) -> AppResult<BuyoutQuote> {
    quote::buyout(&ctx.settings.subscriptions.buyouts, ctx.exponent(), q).map_err(crate::corrupt)
}

/// The early-return fee by the unit's method at the quote's date (SPEC §2.13); 0 when every
/// contract month has started, since such a return completes the contract (SPEC §2.6.5; a month
/// paid in advance has not started). Errors: as [`buyout_terms`].
pub fn early_return_terms(ctx: &TenantContext, q: &QuoteInput) -> AppResult<EarlyReturnQuote> {
    let mut quote =
        quote::early_return(&ctx.settings.subscriptions.early_return, ctx.exponent(), q)
            .map_err(crate::corrupt)?;
    if q.months_not_started == 0 {
        quote.fee = 0;
    }
    Ok(quote)
}

/// What buyoutSubscription did.
#[derive(Debug, Clone)]
pub struct BuyoutOutcome {
    /// The subscription after it.
    pub sub: SubscriptionRecord,
    /// The price charged, minor units.
    pub price: i64,
    /// The effective date.
    pub effective: Date,
}

/// buyoutSubscription (SPEC §2.6.5, §4.5): body `buyoutPrice` (optional, ≥ 0), `reason`
/// (`customer_request` default, `end_of_contract`, `other`; free text is stored as `other` with
/// the text before the notes), `notes`, `effectiveDate` (default today, not before the start),
/// `rentalId` (optional, must match the path). Effects: `ended_buyout`, the ending effects at
/// the effective date, the asset `sold`, a one-off payment for a price above 0.
/// Errors: 404 `NOT_FOUND`; 400 `VALIDATION_ERROR`, `SUBSCRIPTION_NOT_ACTIVE`,
/// `FEATURE_DISABLED`, `INVALID_BUYOUT_PRICE` (negative or non-numeric, manual price not
/// allowed, or a price that the method cannot compute and none was sent).
pub async fn buyout(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<BuyoutOutcome> {
    crate::transact!(app, |tx| buyout_in(tx, ctx, id, body, app.now()))
}

/// buyoutSubscription in an open transaction. Errors: as [`buyout`].
pub async fn buyout_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<BuyoutOutcome> {
    let mut locked = lifecycle::lock(tx, ctx, id).await?;
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    f.must_equal("rentalId", &locked.sub.rental_id);
    let price = amount_input(&f, "buyoutPrice", ctx.exponent());
    let reason_text = f.opt_text("reason", MAX_SHORT);
    let mut notes = f.opt_text("notes", MAX_LONG);
    let sent_date = f.date_patch("effectiveDate").value();
    input::check(errors)?;
    let reason = match reason_text.as_deref() {
        None => "customer_request".to_string(),
        Some(r @ ("customer_request" | "end_of_contract" | "other")) => r.to_string(),
        Some(free) => {
            notes = Some(match notes {
                Some(n) => format!("{free}\n{n}"),
                None => free.to_string(),
            });
            "other".to_string()
        }
    };
    lifecycle::require_active(&locked.sub)?;
    let buyouts = &ctx.settings.subscriptions.buyouts;
    if !buyouts.enabled {
        return Err(AppError::bad_request(
            "FEATURE_DISABLED",
            "Buyouts are disabled for this business unit",
        ));
    }
    let invalid = |message: String| AppError::bad_request("INVALID_BUYOUT_PRICE", message);
    let manual = match price {
        AmountInput::Invalid(why) => return Err(invalid(format!("buyoutPrice {why}"))),
        AmountInput::Valid(_) if !buyouts.allow_manual_override => {
            return Err(invalid(
                "This business unit does not allow a manual buyout price".into(),
            ));
        }
        AmountInput::Valid(p) => Some(p),
        AmountInput::Absent => None,
    };
    let today = today_in(&ctx.time_zone, now);
    let x = effective_date(sent_date, "effectiveDate", &locked.sub, today)?;
    let q = buyout_terms(
        ctx,
        &lifecycle::quote_input(ctx, &locked.sub, &locked.payments, x)?,
    )?;
    let price = match manual {
        Some(p) => p,
        None if q.requires_manual_price => {
            return Err(invalid(
                "The buyout price cannot be computed by the unit's method (nothing remains or \
                 the list price is unknown); send buyoutPrice"
                    .into(),
            ));
        }
        None => q.price,
    };
    let record = BuyoutRecord {
        buyout_price: price,
        manual: manual.is_some(),
        breakdown: BuyoutBreakdownRecord {
            remaining_months: q.remaining_months,
            remaining_months_payment: q.remaining_months_payment,
            list_price_percentage_bp: q.list_price_percentage_bp,
            list_price_amount: q.list_price_amount,
            flat_fee: q.flat_fee,
        },
        reason,
        notes,
        processed_by: ActorRecord::of(ctx),
        buyout_date: x.to_string(),
    };
    lifecycle::end(
        tx,
        ctx,
        &mut locked,
        Ending {
            status: SubscriptionStatus::EndedBuyout,
            effective: x,
            asset: AssetOutcome::Sold,
            event: SubscriptionEventKind::BoughtOut,
            details: serde_json::to_string(&record).map_err(crate::corrupt)?,
        },
        now,
    )
    .await?;
    if price > 0 {
        lifecycle::charge_one_off(
            tx,
            ctx,
            &locked.sub,
            PaymentKind::Buyout,
            price,
            x,
            "buyoutPrice",
            now,
        )
        .await?;
    }
    Ok(BuyoutOutcome {
        sub: locked.sub,
        price,
        effective: x,
    })
}

/// What earlyReturnSubscription did.
#[derive(Debug, Clone)]
pub struct EarlyReturnOutcome {
    /// The subscription after it (`ended_early_return`, or `ended_completed` when nothing
    /// remained).
    pub sub: SubscriptionRecord,
    /// The fee charged, minor units.
    pub fee: i64,
    /// The return date.
    pub effective: Date,
    /// `actualMonthsRented` at the return.
    pub months_rented: i64,
}

const CONDITIONS: [&str; 5] = ["excellent", "good", "fair", "poor", "damaged"];

/// earlyReturnSubscription (SPEC §2.6.5, §4.6): body `earlyReturnFee` (optional, ≥ 0),
/// `waiveFee`, `returnCondition` (default `good`), `reason` (default "Early return"),
/// `damageAssessment`, `notes`, `effectiveDate` (alias `returnDate`; default today, not before
/// the start), `rentalId` (optional, must match). A return with no charge left whose service
/// has not started completes the contract (`ended_completed`, fee 0). Effects: the ending
/// effects, the asset `returned` with the condition, a one-off fee payment above 0.
/// Errors: 404 `NOT_FOUND`; 400 `VALIDATION_ERROR`, `SUBSCRIPTION_NOT_ACTIVE`,
/// `FEATURE_DISABLED`, `INVALID_FEE`.
pub async fn early_return(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<EarlyReturnOutcome> {
    crate::transact!(app, |tx| early_return_in(tx, ctx, id, body, app.now()))
}

/// earlyReturnSubscription in an open transaction. Errors: as [`early_return`].
pub async fn early_return_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<EarlyReturnOutcome> {
    let mut locked: Locked = lifecycle::lock(tx, ctx, id).await?;
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    f.must_equal("rentalId", &locked.sub.rental_id);
    let fee = amount_input(&f, "earlyReturnFee", ctx.exponent());
    let waive = match f.raw("waiveFee") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            f.fail("waiveFee", "invalid_type", "Expected a boolean");
            false
        }
    };
    let condition = f
        .opt_enum("returnCondition", &CONDITIONS.join(", "), |s| {
            CONDITIONS.contains(&s).then(|| s.to_string())
        })
        .unwrap_or_else(|| "good".into());
    let reason = f
        .opt_text("reason", MAX_SHORT)
        .unwrap_or_else(|| "Early return".into());
    let damage = f.opt_text("damageAssessment", MAX_LONG);
    let notes = f.opt_text("notes", MAX_LONG);
    let date_key = if f.has("effectiveDate") {
        "effectiveDate"
    } else {
        "returnDate"
    };
    let sent_date = f.date_patch(date_key).value();
    input::check(errors)?;
    lifecycle::require_active(&locked.sub)?;
    let rules = &ctx.settings.subscriptions.early_return;
    if !rules.enabled {
        return Err(AppError::bad_request(
            "FEATURE_DISABLED",
            "Early returns are disabled for this business unit",
        ));
    }
    let invalid = |message: String| AppError::bad_request("INVALID_FEE", message);
    let sent_fee = match fee {
        AmountInput::Invalid(why) => return Err(invalid(format!("earlyReturnFee {why}"))),
        AmountInput::Valid(v) => Some(v),
        AmountInput::Absent => None,
    };
    if (sent_fee.is_some() || waive) && !rules.allow_manual_override {
        return Err(invalid(
            "This business unit does not allow a manual or waived early-return fee".into(),
        ));
    }
    let today = today_in(&ctx.time_zone, now);
    let x = effective_date(sent_date, date_key, &locked.sub, today)?;
    let q = lifecycle::quote_input(ctx, &locked.sub, &locked.payments, x)?;
    let terms = early_return_terms(ctx, &q)?;
    let completion = q.months_not_started == 0;
    let manual = waive || sent_fee.is_some();
    let fee = match (completion, waive, sent_fee) {
        (true, _, _) | (false, true, _) => 0,
        (false, false, Some(v)) => v,
        (false, false, None) => terms.fee,
    };
    let record = EarlyReturnRecord {
        fee,
        fee_waived: waive,
        manual,
        breakdown: EarlyReturnBreakdownRecord {
            method: if manual {
                "manual".into()
            } else {
                terms.method.as_str().into()
            },
            remaining_months: terms.remaining_months,
            grace_period_applied: !manual && terms.grace_period_applied,
            days_from_start: terms.days_from_start.max(0),
        },
        return_condition: condition.clone(),
        reason,
        damage_assessment: damage,
        notes,
        processed_by: ActorRecord::of(ctx),
        returned_on: x.to_string(),
    };
    let (status, event) = if completion {
        (
            SubscriptionStatus::EndedCompleted,
            SubscriptionEventKind::Completed,
        )
    } else {
        (
            SubscriptionStatus::EndedEarlyReturn,
            SubscriptionEventKind::ReturnedEarly,
        )
    };
    let months_rented = lifecycle::end(
        tx,
        ctx,
        &mut locked,
        Ending {
            status,
            effective: x,
            asset: AssetOutcome::Returned {
                condition: Some(condition),
            },
            event,
            details: serde_json::to_string(&record).map_err(crate::corrupt)?,
        },
        now,
    )
    .await?;
    if fee > 0 {
        lifecycle::charge_one_off(
            tx,
            ctx,
            &locked.sub,
            PaymentKind::EarlyReturn,
            fee,
            x,
            "earlyReturnFee",
            now,
        )
        .await?;
    }
    Ok(EarlyReturnOutcome {
        sub: locked.sub,
        fee,
        effective: x,
        months_rented,
    })
}

const CANCEL_REASONS: [&str; 5] = [
    "customer_request",
    "payment_failure",
    "fraud",
    "admin_decision",
    "other",
];

/// What cancelSubscription did.
#[derive(Debug, Clone)]
pub struct CancelOutcome {
    /// The subscription after it.
    pub sub: SubscriptionRecord,
    /// The effective date.
    pub effective: Date,
    /// `cancelledAt`, epoch milliseconds.
    pub at: i64,
}

/// cancelSubscription (SPEC §2.6.5): body `reason` (required, one of five), `notes` (≤ 1 000),
/// `effectiveDate` (default today), `rentalId` (optional, must match). Effects: `cancelled`,
/// the ending effects (future charges voided, started ones stay collectible); the asset stays
/// `rented_out` with the customer. Errors, in this order: 404 `NOT_FOUND`; 400
/// `VALIDATION_ERROR`; 400 `ALREADY_CANCELLED`; 400 `ALREADY_ENDED`.
pub async fn cancel(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<CancelOutcome> {
    crate::transact!(app, |tx| cancel_in(tx, ctx, id, body, app.now()))
}

/// cancelSubscription in an open transaction. Errors: as [`cancel`].
pub async fn cancel_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<CancelOutcome> {
    let mut locked = lifecycle::lock(tx, ctx, id).await?;
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    f.must_equal("rentalId", &locked.sub.rental_id);
    let reason = match f.raw("reason") {
        None => {
            f.fail("reason", "required", "Required");
            None
        }
        Some(_) => f.opt_enum("reason", &CANCEL_REASONS.join(", "), |s| {
            CANCEL_REASONS.contains(&s).then(|| s.to_string())
        }),
    };
    let notes = f.opt_text("notes", 1_000);
    let sent_date = f.date_patch("effectiveDate").value();
    input::check(errors)?;
    match lifecycle::status_of(&locked.sub)? {
        SubscriptionStatus::Active => {}
        SubscriptionStatus::Cancelled => {
            return Err(AppError::bad_request(
                "ALREADY_CANCELLED",
                "The subscription is already cancelled",
            ));
        }
        _ => {
            return Err(AppError::bad_request(
                "ALREADY_ENDED",
                format!("The subscription has ended ({})", locked.sub.status),
            ));
        }
    }
    let today = today_in(&ctx.time_zone, now);
    let x = effective_date(sent_date, "effectiveDate", &locked.sub, today)?;
    let record = CancellationRecord {
        reason: reason.unwrap_or_default(),
        notes,
        processed_by: ActorRecord::of(ctx),
        cancelled_on: x.to_string(),
        cancelled_at: lifecycle::effective_instant(x, today, now),
    };
    lifecycle::end(
        tx,
        ctx,
        &mut locked,
        Ending {
            status: SubscriptionStatus::Cancelled,
            effective: x,
            asset: AssetOutcome::StaysWithCustomer,
            event: SubscriptionEventKind::Cancelled,
            details: serde_json::to_string(&record).map_err(crate::corrupt)?,
        },
        now,
    )
    .await?;
    Ok(CancelOutcome {
        sub: locked.sub,
        effective: x,
        at: record.cancelled_at,
    })
}

/// A read-only quote of a subscription as of today.
#[derive(Debug, Clone)]
pub struct Quote<Q> {
    /// The subscription.
    pub sub: SubscriptionRecord,
    /// The price or fee and its parts.
    pub quote: Q,
    /// The net amount (SPEC §2.7 `subtotal`) of the quoted charge, minor units.
    pub net: i64,
}

/// The `rentalId` (alias `subscriptionId`) of a calculate body. Errors: 400 `VALIDATION_ERROR`.
fn quoted_id(body: &Value) -> AppResult<String> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let key = if f.has("rentalId") || !f.has("subscriptionId") {
        "rentalId"
    } else {
        "subscriptionId"
    };
    let id = f.req_text(key, MAX_SHORT);
    input::check(errors)?;
    Ok(id.unwrap_or_default())
}

async fn quote_of(
    app: &App,
    ctx: &TenantContext,
    body: &Value,
) -> AppResult<(SubscriptionRecord, QuoteInput)> {
    let id = quoted_id(body)?;
    let mut c = app.db.read().await?;
    let sub = subscriptions::get(&mut c, &ctx.tenant_id, &id)
        .await?
        .ok_or_else(|| AppError::not_found("Subscription"))?;
    lifecycle::require_active(&sub)?;
    // The quote reads six columns of each payment.
    let rows = payments::charges_of_rental(&mut c, &ctx.tenant_id, &sub.rental_id).await?;
    let charges = lifecycle::charge_states(&rows, settings::vat(ctx).inclusive)?;
    let today = today_in(&ctx.time_zone, app.now());
    let q = lifecycle::quote_input_of(&sub, charges, today)?;
    Ok((sub, q))
}

/// calculateBuyoutPrice (SPEC §2.6.5): body `{rentalId}` (alias `subscriptionId`); the unit's
/// method as of today; nothing is stored. Errors: 400 `VALIDATION_ERROR`; 404 `NOT_FOUND`;
/// 400 `SUBSCRIPTION_NOT_ACTIVE`.
pub async fn calculate_buyout(
    app: &App,
    ctx: &TenantContext,
    body: &Value,
) -> AppResult<Quote<BuyoutQuote>> {
    let (sub, q) = quote_of(app, ctx, body).await?;
    let quote = buyout_terms(ctx, &q)?;
    let net = net_of(ctx, quote.price, "rentalId")?;
    Ok(Quote { sub, quote, net })
}

/// calculateEarlyReturnFee (SPEC §2.6.5): as [`calculate_buyout`] for the early-return fee.
/// Errors: as [`calculate_buyout`].
pub async fn calculate_early_return(
    app: &App,
    ctx: &TenantContext,
    body: &Value,
) -> AppResult<Quote<EarlyReturnQuote>> {
    let (sub, q) = quote_of(app, ctx, body).await?;
    let quote = early_return_terms(ctx, &q)?;
    let net = net_of(ctx, quote.fee, "rentalId")?;
    Ok(Quote { sub, quote, net })
}
