//! The request bodies and responses of the subscription lifecycle actions and their quotes
//! (SPEC §2.6.5): extend, replace, buyout, early return, cancel, calculate-buyout and
//! calculate-early-return-fee.
//! Request bodies are described here for `/openapi.json`; the use cases validate them and
//! collect every failing field.

use flexportal_app::TenantContext;
use flexportal_app::amendments::{Extended, Replaced};
use flexportal_app::endings::{BuyoutOutcome, CancelOutcome, EarlyReturnOutcome, Quote};
use flexportal_app::upgrades::Upgraded;
use flexportal_domain::quote::{BuyoutQuote, EarlyReturnQuote};
use serde::Serialize;
use utoipa::ToSchema;

use super::Decimal;
use super::subscriptions_lifecycle::{BuyoutReason, CancellationReason, ReturnCondition};

/// The body of buyoutSubscription. Every field is optional: without `buyoutPrice` the business
/// unit's method computes the price at the effective date (SPEC §2.13).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct BuyoutBody {
    /// Must equal the path's id when sent.
    #[schema(min_length = 1)]
    pub rental_id: Option<String>,
    /// Price in major units, ≥ 0 (`INVALID_BUYOUT_PRICE` otherwise); `0` gives the device
    /// away and must be sent explicitly.
    #[schema(minimum = 0)]
    pub buyout_price: Option<f64>,
    /// `customer_request` (default), `end_of_contract` or `other`; free text is stored as
    /// `other` with the text before the notes.
    pub reason: Option<BuyoutReason>,
    /// Free text.
    pub notes: Option<String>,
    /// `YYYY-MM-DD`, default today, not before the start date nor more than a year after today.
    #[schema(format = Date)]
    pub effective_date: Option<String>,
}

/// buyoutSubscription: `{success, rentalId, assetSerialNumber, buyoutPrice, currency,
/// effectiveDate, message}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutDone {
    /// Always `true`.
    pub success: bool,
    /// The subscription, now `ended_buyout`.
    pub rental_id: String,
    /// The asset, now `sold`.
    pub asset_serial_number: String,
    /// The price charged, major units.
    #[schema(minimum = 0)]
    pub buyout_price: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub effective_date: String,
    /// Human text.
    pub message: &'static str,
}

impl BuyoutDone {
    /// The response of a buyout.
    pub fn new(ctx: &TenantContext, o: &BuyoutOutcome) -> Self {
        BuyoutDone {
            success: true,
            rental_id: o.sub.rental_id.clone(),
            asset_serial_number: o.sub.asset_serial_number.clone(),
            buyout_price: Decimal::money(o.price, ctx.exponent()),
            currency: o.sub.currency.clone(),
            effective_date: o.effective.to_string(),
            message: "Buyout processed successfully",
        }
    }
}

/// The body of earlyReturnSubscription. Every field is optional: without `earlyReturnFee` the
/// business unit's method computes the fee (SPEC §2.13, with the grace period).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct EarlyReturnBody {
    /// Must equal the path's id when sent.
    #[schema(min_length = 1)]
    pub rental_id: Option<String>,
    /// Condition of the returned device; default `good`.
    pub return_condition: Option<ReturnCondition>,
    /// Fee in major units, ≥ 0 (`INVALID_FEE` otherwise).
    #[schema(minimum = 0)]
    pub early_return_fee: Option<f64>,
    /// `true` waives the fee.
    pub waive_fee: Option<bool>,
    /// Why; default "Early return".
    #[schema(min_length = 1)]
    pub reason: Option<String>,
    /// Damage found.
    pub damage_assessment: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// `YYYY-MM-DD` (alias `returnDate`), default today, not before the start date nor more than a
    /// year after today.
    #[schema(format = Date)]
    pub effective_date: Option<String>,
}

/// earlyReturnSubscription: `{success, rentalId, assetSerialNumber, earlyReturnFee, currency,
/// actualMonthsRented, returnDate, message}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnDone {
    /// Always `true`.
    pub success: bool,
    /// The subscription, now `ended_early_return` (or `ended_completed`).
    pub rental_id: String,
    /// The asset, now `returned`.
    pub asset_serial_number: String,
    /// The fee charged, major units.
    #[schema(minimum = 0)]
    pub early_return_fee: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// Months whose service started by the return, 0–120.
    #[schema(minimum = 0, maximum = 120)]
    pub actual_months_rented: i64,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub return_date: String,
    /// Human text.
    pub message: &'static str,
}

impl EarlyReturnDone {
    /// The response of an early return.
    pub fn new(ctx: &TenantContext, o: &EarlyReturnOutcome) -> Self {
        EarlyReturnDone {
            success: true,
            rental_id: o.sub.rental_id.clone(),
            asset_serial_number: o.sub.asset_serial_number.clone(),
            early_return_fee: Decimal::money(o.fee, ctx.exponent()),
            currency: o.sub.currency.clone(),
            actual_months_rented: o.months_rented,
            return_date: o.effective.to_string(),
            message: if o.sub.status == "ended_completed" {
                "Return processed; the contract is completed"
            } else {
                "Early return processed"
            },
        }
    }
}

/// The body of cancelSubscription.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CancelSubscriptionBody {
    /// Must equal the path's id when sent.
    #[schema(min_length = 1)]
    pub rental_id: Option<String>,
    /// Why.
    pub reason: CancellationReason,
    /// Free text.
    #[schema(max_length = 1000)]
    pub notes: Option<String>,
    /// `YYYY-MM-DD`, default today, not before the start date nor more than a year after today:
    /// charges whose service starts after it are cancelled.
    #[schema(format = Date)]
    pub effective_date: Option<String>,
}

/// The previous status of a cancelled subscription.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PreviousStatus {
    /// Only active subscriptions can be cancelled.
    Active,
}

/// cancelSubscription: `{success, rentalId, assetSerialNumber, previousStatus, cancelledAt,
/// message}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelDone {
    /// Always `true`.
    pub success: bool,
    /// The subscription, now `cancelled`.
    pub rental_id: String,
    /// The asset, still with the customer until collected.
    pub asset_serial_number: String,
    /// Always `active`.
    pub previous_status: PreviousStatus,
    /// When it took effect: the moment of the request for a cancellation effective today,
    /// else midnight UTC of the effective date.
    pub cancelled_at: super::Instant,
    /// Human text.
    pub message: &'static str,
}

impl CancelDone {
    /// The response of a cancellation.
    pub fn new(o: &CancelOutcome) -> Self {
        CancelDone {
            success: true,
            rental_id: o.sub.rental_id.clone(),
            asset_serial_number: o.sub.asset_serial_number.clone(),
            previous_status: PreviousStatus::Active,
            cancelled_at: super::Instant(o.at),
            message: "Subscription cancelled",
        }
    }
}

/// The body of the calculate operations: the subscription (alias `subscriptionId`).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct QuoteBody {
    /// The subscription ID.
    pub rental_id: String,
}

/// The parts of a buyout quote (the page's `calculation.breakdown`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutQuoteBreakdown {
    /// Σ base amounts of the remaining months, major units.
    pub remaining_contract_value: Decimal,
    /// List-price part plus flat part, major units.
    pub residual_value: Decimal,
    /// Remaining months.
    pub months_remaining: i64,
    /// Current monthly amount, major units.
    pub monthly_amount: Decimal,
}

/// Cost recovery after the quoted buyout is paid.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutQuoteRecovery {
    /// Acquisition cost snapshot, major units; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub acquisition_cost: Option<Decimal>,
    /// Net amounts collected so far, major units.
    pub total_collected: Decimal,
    /// Collected plus the net of the buyout price, major units.
    pub projected_after_buyout: Decimal,
    /// Projected minus cost, major units; absent when the cost is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub projected_margin: Option<Decimal>,
    /// Projected margin ÷ cost × 100, one decimal; absent when the cost is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub margin_percent: Option<Decimal>,
}

/// The page's `calculation` object of calculate-buyout.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutCalculation {
    /// The price, major units.
    pub buyout_price: Decimal,
    /// How it is made up.
    pub breakdown: BuyoutQuoteBreakdown,
    /// Cost recovery after it.
    pub cost_recovery: BuyoutQuoteRecovery,
    /// The method cannot compute a price (nothing remains, or an RRP method without a list
    /// price): a buyout needs an explicit `buyoutPrice`.
    pub requires_manual_price: bool,
}

/// calculateBuyoutPrice: `{success, buyoutPrice, remainingPayments, depreciatedValue}` plus the
/// additive `rentalId` and `calculation`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutQuoted {
    /// Always `true`.
    pub success: bool,
    /// The subscription quoted.
    pub rental_id: String,
    /// The price by the unit's method today, major units.
    pub buyout_price: Decimal,
    /// Σ base amounts of the remaining months, major units.
    pub remaining_payments: Decimal,
    /// max(0, acquisition cost − collected), major units; 0 when the cost is unknown.
    pub depreciated_value: Decimal,
    /// The breakdown and cost recovery.
    pub calculation: BuyoutCalculation,
}

impl BuyoutQuoted {
    /// The response of a buyout quote.
    pub fn new(ctx: &TenantContext, q: &Quote<BuyoutQuote>) -> Self {
        let exp = ctx.exponent();
        let m = |v| Decimal::money(v, exp);
        let s = &q.sub;
        let cost = s.acquisition_cost.filter(|c| *c > 0);
        let projected = s.total_collected.saturating_add(q.net);
        BuyoutQuoted {
            success: true,
            rental_id: s.rental_id.clone(),
            buyout_price: m(q.quote.price),
            remaining_payments: m(q.quote.remaining_value),
            depreciated_value: m(cost.map_or(0, |c| (c - s.total_collected).max(0))),
            calculation: BuyoutCalculation {
                buyout_price: m(q.quote.price),
                breakdown: BuyoutQuoteBreakdown {
                    remaining_contract_value: m(q.quote.remaining_value),
                    residual_value: m(q.quote.list_price_amount + q.quote.flat_fee),
                    months_remaining: q.quote.remaining_months,
                    monthly_amount: m(s.monthly_amount),
                },
                cost_recovery: BuyoutQuoteRecovery {
                    acquisition_cost: Decimal::money_opt(s.acquisition_cost, exp),
                    total_collected: m(s.total_collected),
                    projected_after_buyout: m(projected),
                    projected_margin: cost.map(|c| m(projected - c)),
                    margin_percent: cost.and_then(|c| Decimal::percent(projected - c, c, 1)),
                },
                requires_manual_price: q.quote.requires_manual_price,
            },
        }
    }
}

/// The parts of an early-return quote.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnQuoteBreakdown {
    /// Σ base amounts of the remaining months, major units.
    pub remaining_contract_value: Decimal,
    /// The unit's fee percentage (`remaining_months` method), else 0.
    pub fee_percentage: Decimal,
    /// Remaining months.
    pub months_remaining: i64,
    /// Current monthly amount, major units.
    pub monthly_amount: Decimal,
    /// The grace period waives the fee today.
    pub grace_period_applied: bool,
}

/// Cost recovery after the quoted fee is paid.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnQuoteRecovery {
    /// Acquisition cost snapshot, major units; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub acquisition_cost: Option<Decimal>,
    /// Net amounts collected so far, major units.
    pub total_collected: Decimal,
    /// Collected plus the net of the fee, major units.
    pub projected_with_fee: Decimal,
    /// Projected ÷ cost × 100, one decimal; absent when the cost is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cost_recovery_percent: Option<Decimal>,
}

/// The page's `calculation` object of calculate-early-return-fee.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnCalculation {
    /// The fee, major units.
    pub early_return_fee: Decimal,
    /// How it is made up.
    pub breakdown: EarlyReturnQuoteBreakdown,
    /// Cost recovery after it.
    pub cost_recovery: EarlyReturnQuoteRecovery,
}

/// calculateEarlyReturnFee: `{success, earlyReturnFee, remainingMonths, penaltyPercentage}` plus
/// the additive `rentalId` and `calculation`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnQuoted {
    /// Always `true`.
    pub success: bool,
    /// The subscription quoted.
    pub rental_id: String,
    /// The fee by the unit's method today, major units.
    pub early_return_fee: Decimal,
    /// Remaining months.
    pub remaining_months: i64,
    /// The unit's fee percentage for `remaining_months`, 0 for other methods.
    pub penalty_percentage: Decimal,
    /// The breakdown and cost recovery.
    pub calculation: EarlyReturnCalculation,
}

impl EarlyReturnQuoted {
    /// The response of an early-return quote.
    pub fn new(ctx: &TenantContext, q: &Quote<EarlyReturnQuote>) -> Self {
        let exp = ctx.exponent();
        let m = |v| Decimal::money(v, exp);
        let s = &q.sub;
        let cost = s.acquisition_cost.filter(|c| *c > 0);
        let projected = s.total_collected.saturating_add(q.net);
        let pct = Decimal::trimmed(q.quote.fee_percentage_bp, 2);
        EarlyReturnQuoted {
            success: true,
            rental_id: s.rental_id.clone(),
            early_return_fee: m(q.quote.fee),
            remaining_months: q.quote.remaining_months,
            penalty_percentage: pct,
            calculation: EarlyReturnCalculation {
                early_return_fee: m(q.quote.fee),
                breakdown: EarlyReturnQuoteBreakdown {
                    remaining_contract_value: m(q.quote.remaining_value),
                    fee_percentage: pct,
                    months_remaining: q.quote.remaining_months,
                    monthly_amount: m(s.monthly_amount),
                    grace_period_applied: q.quote.grace_period_applied,
                },
                cost_recovery: EarlyReturnQuoteRecovery {
                    acquisition_cost: Decimal::money_opt(s.acquisition_cost, exp),
                    total_collected: m(s.total_collected),
                    projected_with_fee: m(projected),
                    cost_recovery_percent: cost.and_then(|c| Decimal::percent(projected, c, 1)),
                },
            },
        }
    }
}

/// The body of extendSubscription. Only `extensionMonths` is required.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ExtendBody {
    /// Must equal the path's id when sent.
    #[schema(min_length = 1)]
    pub rental_id: Option<String>,
    /// Months added, a whole number ≥ 1; the new contract length is at most 120
    /// (`INVALID_EXTENSION_MONTHS` otherwise).
    #[schema(minimum = 1, maximum = 120)]
    pub extension_months: i64,
    /// Monthly amount of the added months, major units, ≥ 0; default the current amount.
    /// Charges already generated keep their amounts.
    #[schema(minimum = 0)]
    pub new_monthly_amount: Option<f64>,
    /// Why.
    pub reason: Option<String>,
    /// Free text.
    pub notes: Option<String>,
}

/// extendSubscription: `{success, message, rentalId, assetSerialNumber, oldEndDate, newEndDate,
/// extensionMonths, oldContractLength, newContractLength}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExtendDone {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The subscription.
    pub rental_id: String,
    /// Its current asset.
    pub asset_serial_number: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub old_end_date: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub new_end_date: String,
    /// Months added.
    #[schema(minimum = 0, maximum = 120)]
    pub extension_months: i64,
    /// Months before.
    #[schema(minimum = 1, maximum = 120)]
    pub old_contract_length: i64,
    /// Months after.
    #[schema(minimum = 1, maximum = 120)]
    pub new_contract_length: i64,
}

impl ExtendDone {
    /// The response of an extension.
    pub fn new(e: &Extended) -> Self {
        ExtendDone {
            success: true,
            message: "Subscription extended",
            rental_id: e.sub.rental_id.clone(),
            asset_serial_number: e.sub.asset_serial_number.clone(),
            old_end_date: e.record.old_end_date.clone(),
            new_end_date: e.record.new_end_date.clone(),
            extension_months: e.record.extension_months,
            old_contract_length: e.record.old_contract_length,
            new_contract_length: e.record.new_contract_length,
        }
    }
}

/// Why a device is replaced.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ReplacementReason {
    /// Damaged.
    Damaged,
    /// Stolen.
    Stolen,
    /// Defective.
    Defective,
    /// Lost.
    Lost,
}

/// The body of replaceSubscriptionDevice: `newSerialNumber` and a reason (`replacementReason`
/// or free-text `reason`).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ReplaceBody {
    /// Must equal the path's id when sent.
    #[schema(min_length = 1)]
    pub rental_id: Option<String>,
    /// An `available` asset of the subscription's SKU (or of `newSku`).
    #[schema(min_length = 1)]
    pub new_serial_number: String,
    /// Another SKU for the replacement (an active variant).
    pub new_sku: Option<String>,
    /// Why, as one of four values.
    pub replacement_reason: Option<ReplacementReason>,
    /// Why, as free text.
    pub reason: Option<String>,
    /// Damage found on the old asset.
    pub damage_assessment: Option<String>,
    /// Whether an insurance claim is made; default `false`.
    pub insurance_claim: Option<bool>,
    /// Free text.
    pub notes: Option<String>,
}

/// replaceSubscriptionDevice: `{success, message, rentalId, oldSerialNumber, newSerialNumber,
/// reason}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplaceDone {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The subscription.
    pub rental_id: String,
    /// The asset taken back, now `unavailable`.
    pub old_serial_number: String,
    /// The asset given, now `rented_out`.
    pub new_serial_number: String,
    /// The reason recorded.
    pub reason: String,
}

impl ReplaceDone {
    /// The response of a replacement.
    pub fn new(r: &Replaced) -> Self {
        ReplaceDone {
            success: true,
            message: "Device replaced",
            rental_id: r.sub.rental_id.clone(),
            old_serial_number: r.record.old_serial_number.clone(),
            new_serial_number: r.record.new_serial_number.clone(),
            reason: r.record.reason.clone(),
        }
    }
}

/// The body of upgradeSubscription. With `newSerialNumber` the upgrade order is fulfilled at
/// once and the old subscription ends (immediate mode); without it the upgrade order waits for
/// createSubscription (deferred mode).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct UpgradeBody {
    /// Must equal the path's id when sent.
    #[schema(min_length = 1)]
    pub rental_id: Option<String>,
    /// The new variant (active).
    #[schema(min_length = 1)]
    pub new_sku: String,
    /// An `available` asset of `newSku`: immediate mode.
    #[schema(min_length = 1)]
    pub new_serial_number: Option<String>,
    /// Months of the new contract, 1–120 (alias `newContractLength`).
    #[schema(minimum = 1, maximum = 120)]
    pub contract_length: i64,
    /// Monthly amount of the new contract, major units; default the variant's tier price.
    #[schema(minimum = 0)]
    pub new_monthly_amount: Option<f64>,
    /// Why.
    #[schema(min_length = 1)]
    pub reason: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// `YYYY-MM-DD`, start of the new contract and end of the old one; default today.
    #[schema(format = Date)]
    pub start_date: Option<String>,
    /// The customer keeps and buys the old device for this amount, major units (no
    /// early-return fee then).
    #[schema(minimum = 0)]
    pub buyout_amount: Option<f64>,
}

/// upgradeSubscription: `{success, message, oldRentalId, newRentalId, oldDevice, newDevice,
/// newMonthlyAmount, currency}` plus the additive `upgradeOrderId`. `newRentalId` is `null` in
/// deferred mode (a listed deviation from the official document, SPEC §2.6.5).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeDone {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The subscription upgraded.
    pub old_rental_id: String,
    /// The new subscription; `null` until the upgrade order is fulfilled.
    pub new_rental_id: Option<String>,
    /// The old device's name.
    pub old_device: String,
    /// The new device's name.
    pub new_device: String,
    /// The new monthly amount, major units.
    #[schema(minimum = 0)]
    pub new_monthly_amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// The upgrade order.
    pub upgrade_order_id: String,
}

impl UpgradeDone {
    /// The response of an upgrade.
    pub fn new(ctx: &TenantContext, u: &Upgraded) -> Self {
        UpgradeDone {
            success: true,
            message: if u.new.is_some() {
                "Subscription upgraded"
            } else {
                "Upgrade order created"
            },
            old_rental_id: u.old.rental_id.clone(),
            new_rental_id: u.new.as_ref().map(|v| v.sub.rental_id.clone()),
            old_device: u.old.product_name.clone(),
            new_device: u.new_device.clone(),
            new_monthly_amount: Decimal::money(u.monthly_amount, ctx.exponent()),
            currency: u.old.currency.clone(),
            upgrade_order_id: u.order.order_id.clone(),
        }
    }
}
