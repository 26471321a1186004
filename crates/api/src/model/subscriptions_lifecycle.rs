//! The lifecycle records of a subscription on the wire (SPEC §2.6.1, §2.6.5): the
//! `extensionHistory` and `replacementHistory` entries and the `buyoutDetails`,
//! `earlyReturnDetails` and `cancellationDetails` objects, in the official shapes, rendered from
//! the subscription's stored history ([`flexportal_app::lifecycle::HistoryEntry`]).

use flexportal_app::AppError;
use flexportal_app::lifecycle::{
    ActorRecord, BuyoutRecord, CancellationRecord, EarlyReturnRecord, HistoryEntry,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Decimal, Instant};

/// Midnight UTC of a stored `YYYY-MM-DD` date. Errors: 500 when it is not a date.
pub(crate) fn date_instant(date: &str) -> Result<Instant, AppError> {
    let d: jiff::civil::Date = date
        .parse()
        .map_err(|_| AppError::corrupt(format!("stored date {date:?}")))?;
    let z = d
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(AppError::corrupt)?;
    Ok(Instant(z.timestamp().as_millisecond()))
}

impl From<&ActorRecord> for SubscriptionActor {
    fn from(a: &ActorRecord) -> Self {
        SubscriptionActor {
            role: a
                .user_id
                .starts_with("apikey:")
                .then(|| "api_key".to_string()),
            user_id: a.user_id.clone(),
            email: None,
            display_name: Some(a.display_name.clone()),
            member_id: None,
        }
    }
}

/// The histories and details objects of a subscription, for the subscription's rendering.
#[derive(Debug, Default)]
pub struct Endings {
    /// `extensionHistory`, oldest first.
    pub extensions: Vec<SubscriptionExtension>,
    /// `replacementHistory`, oldest first.
    pub replacements: Vec<SubscriptionReplacement>,
    /// `buyoutDetails`.
    pub buyout: Option<BuyoutDetails>,
    /// `earlyReturnDetails`.
    pub early_return: Option<EarlyReturnDetails>,
    /// `cancellationDetails`.
    pub cancellation: Option<CancellationDetails>,
}

impl Endings {
    /// Renders the ending records of a history (amounts with `exponent` decimals). Errors: 500
    /// when a stored record holds an unknown enum value or date.
    pub fn new(history: &[HistoryEntry], exponent: u32) -> Result<Self, AppError> {
        let mut out = Endings::default();
        for h in history {
            match h {
                HistoryEntry::BoughtOut(r) => out.buyout = Some(buyout_details(r, exponent)?),
                HistoryEntry::Returned(r) => {
                    out.early_return = Some(early_return_details(r, exponent)?)
                }
                HistoryEntry::Cancelled(r) => out.cancellation = Some(cancellation_details(r)?),
                HistoryEntry::Extended(r) => out.extensions.push(SubscriptionExtension {
                    extension_months: r.extension_months,
                    old_contract_length: r.old_contract_length,
                    new_contract_length: r.new_contract_length,
                    old_monthly_amount: Decimal::money(r.old_monthly_amount, exponent),
                    new_monthly_amount: Decimal::money(r.new_monthly_amount, exponent),
                    reason: Some(r.reason.clone()).filter(|s| !s.is_empty()),
                    notes: r.notes.clone(),
                    extended_by: (&r.extended_by).into(),
                    old_end_date: r.old_end_date.clone(),
                    new_end_date: r.new_end_date.clone(),
                    extended_at: Instant(r.extended_at),
                }),
                HistoryEntry::Replaced(r) => out.replacements.push(SubscriptionReplacement {
                    old_serial_number: r.old_serial_number.clone(),
                    new_serial_number: r.new_serial_number.clone(),
                    reason: r.reason.clone(),
                    damage_assessment: r.damage_assessment.clone(),
                    insurance_claim: Some(r.insurance_claim),
                    notes: r.notes.clone(),
                    replaced_by: (&r.replaced_by).into(),
                    replaced_at: Instant(r.replaced_at),
                }),
                HistoryEntry::Other => {}
            }
        }
        // Renewals made in one run of the daily jobs share their instant; the contract length
        // they reached orders them.
        out.extensions
            .sort_by_key(|e| (e.extended_at.0, e.new_contract_length));
        Ok(out)
    }
}

fn unknown(what: &str, v: &str) -> AppError {
    AppError::corrupt(format!("stored {what} {v:?}"))
}

fn buyout_details(r: &BuyoutRecord, exp: u32) -> Result<BuyoutDetails, AppError> {
    let b = &r.breakdown;
    Ok(BuyoutDetails {
        buyout_price: Decimal::money(r.buyout_price, exp),
        calculation_method: if r.manual {
            FeeCalculationMethod::ManualOverride
        } else {
            FeeCalculationMethod::AutoCalculated
        },
        calculation_breakdown: Some(BuyoutBreakdown {
            remaining_months: b.remaining_months,
            remaining_months_payment: Decimal::money(b.remaining_months_payment, exp),
            list_price_percentage: Decimal::trimmed(b.list_price_percentage_bp, 2),
            list_price_amount: Decimal::money(b.list_price_amount, exp),
            flat_fee: Decimal::money(b.flat_fee, exp),
        }),
        reason: match r.reason.as_str() {
            "customer_request" => BuyoutReason::CustomerRequest,
            "end_of_contract" => BuyoutReason::EndOfContract,
            "other" => BuyoutReason::Other,
            v => return Err(unknown("buyout reason", v)),
        },
        notes: r.notes.clone(),
        processed_by: (&r.processed_by).into(),
        buyout_date: r.buyout_date.clone(),
    })
}

fn early_return_details(r: &EarlyReturnRecord, exp: u32) -> Result<EarlyReturnDetails, AppError> {
    let b = &r.breakdown;
    Ok(EarlyReturnDetails {
        fee: Decimal::money(r.fee, exp),
        fee_waived: r.fee_waived,
        calculation_method: if r.manual {
            FeeCalculationMethod::ManualOverride
        } else {
            FeeCalculationMethod::AutoCalculated
        },
        calculation_breakdown: Some(EarlyReturnBreakdown {
            method: match b.method.as_str() {
                "remaining_months" => EarlyReturnFeeMethod::RemainingMonths,
                "flat_fee" => EarlyReturnFeeMethod::FlatFee,
                "no_fee" => EarlyReturnFeeMethod::NoFee,
                "manual" => EarlyReturnFeeMethod::Manual,
                v => return Err(unknown("fee method", v)),
            },
            remaining_months: b.remaining_months,
            grace_period_applied: b.grace_period_applied,
            days_from_start: b.days_from_start,
        }),
        return_condition: match r.return_condition.as_str() {
            "excellent" => ReturnCondition::Excellent,
            "good" => ReturnCondition::Good,
            "fair" => ReturnCondition::Fair,
            "poor" => ReturnCondition::Poor,
            "damaged" => ReturnCondition::Damaged,
            v => return Err(unknown("return condition", v)),
        },
        reason: r.reason.clone(),
        damage_assessment: r.damage_assessment.clone(),
        notes: r.notes.clone(),
        processed_by: (&r.processed_by).into(),
        returned_at: date_instant(&r.returned_on)?,
    })
}

fn cancellation_details(r: &CancellationRecord) -> Result<CancellationDetails, AppError> {
    Ok(CancellationDetails {
        reason: match r.reason.as_str() {
            "customer_request" => CancellationReason::CustomerRequest,
            "payment_failure" => CancellationReason::PaymentFailure,
            "fraud" => CancellationReason::Fraud,
            "admin_decision" => CancellationReason::AdminDecision,
            "other" => CancellationReason::Other,
            v => return Err(unknown("cancellation reason", v)),
        },
        notes: r.notes.clone(),
        processed_by: (&r.processed_by).into(),
        cancelled_at: Instant(r.cancelled_at),
    })
}

/// The caller that performed a lifecycle action (SPEC §1.15): for API calls
/// `userId = "apikey:<keyId>"`, `displayName` = key name, `role = "api_key"`; for background jobs
/// `userId = "system"`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionActor {
    /// The caller's user id.
    pub user_id: String,
    /// Email, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub email: Option<String>,
    /// Display name (the API key's name for API calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub display_name: Option<String>,
    /// Role (`api_key` for API calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub role: Option<String>,
    /// Team member id, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub member_id: Option<String>,
}

/// One `extensionHistory` entry (extendSubscription, SPEC §2.6.5).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionExtension {
    /// Months added, 0–120.
    #[schema(minimum = 0, maximum = 120)]
    pub extension_months: i64,
    /// Contract length in months before the extension.
    #[schema(minimum = 1, maximum = 120)]
    pub old_contract_length: i64,
    /// Contract length in months after the extension.
    #[schema(minimum = 1, maximum = 120)]
    pub new_contract_length: i64,
    /// Monthly amount before, major units.
    pub old_monthly_amount: Decimal,
    /// Monthly amount of the added months, major units.
    pub new_monthly_amount: Decimal,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// Who extended it.
    pub extended_by: SubscriptionActor,
    /// `YYYY-MM-DD`, the end date before.
    #[schema(format = Date)]
    pub old_end_date: String,
    /// `YYYY-MM-DD`, the end date after.
    #[schema(format = Date)]
    pub new_end_date: String,
    /// Instant of the extension.
    pub extended_at: Instant,
}

/// One `replacementHistory` entry (replaceSubscriptionDevice, SPEC §2.6.5).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionReplacement {
    /// The asset taken back.
    pub old_serial_number: String,
    /// The asset given instead.
    pub new_serial_number: String,
    /// The reason's enum value if one was given, else the free text.
    pub reason: String,
    /// Damage found on the old asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub damage_assessment: Option<String>,
    /// Whether an insurance claim is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub insurance_claim: Option<bool>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// Who replaced it.
    pub replaced_by: SubscriptionActor,
    /// Instant of the replacement.
    pub replaced_at: Instant,
}

/// How a buyout price or an early-return fee was set.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeeCalculationMethod {
    /// Computed with the business unit's method.
    AutoCalculated,
    /// Given in the request.
    ManualOverride,
}

/// Why a subscription was bought out.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BuyoutReason {
    /// The customer asked.
    CustomerRequest,
    /// At the end of the contract.
    EndOfContract,
    /// Anything else.
    Other,
}

/// The breakdown of a buyout price (SPEC §2.13), always filled from the business unit's method.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutBreakdown {
    /// Remaining contract months, 0–120.
    #[schema(minimum = 0, maximum = 120)]
    pub remaining_months: i64,
    /// Σ base amounts of the remaining months, major units.
    pub remaining_months_payment: Decimal,
    /// Percentage of the list price applied.
    pub list_price_percentage: Decimal,
    /// That share of the list price, major units.
    pub list_price_amount: Decimal,
    /// Flat fee, major units.
    pub flat_fee: Decimal,
}

/// `buyoutDetails`, written once by buyoutSubscription (SPEC §2.6.5).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyoutDetails {
    /// The price charged, major units.
    pub buyout_price: Decimal,
    /// `manual_override` when a price was sent, else `auto_calculated`.
    pub calculation_method: FeeCalculationMethod,
    /// How the computed price is made up.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub calculation_breakdown: Option<BuyoutBreakdown>,
    /// Why.
    pub reason: BuyoutReason,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// Who processed it.
    pub processed_by: SubscriptionActor,
    /// `YYYY-MM-DD`, the effective date.
    #[schema(format = Date)]
    pub buyout_date: String,
}

/// How an early-return fee is computed.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EarlyReturnFeeMethod {
    /// The remaining months' amounts.
    RemainingMonths,
    /// A flat fee.
    FlatFee,
    /// No fee.
    NoFee,
    /// Given in the request.
    Manual,
}

/// The breakdown of an early-return fee.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnBreakdown {
    /// The method applied.
    pub method: EarlyReturnFeeMethod,
    /// Remaining contract months, 0–120.
    #[schema(minimum = 0, maximum = 120)]
    pub remaining_months: i64,
    /// Whether the grace period waived the fee.
    pub grace_period_applied: bool,
    /// Days from the start date to the return, 0–3650.
    #[schema(minimum = 0, maximum = 3650)]
    pub days_from_start: i64,
}

/// The condition of a returned device.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnCondition {
    /// Like new.
    Excellent,
    /// Normal wear.
    Good,
    /// Visible wear.
    Fair,
    /// Heavy wear.
    Poor,
    /// Damaged.
    Damaged,
}

/// `earlyReturnDetails`, written once by earlyReturnSubscription (SPEC §2.6.5).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyReturnDetails {
    /// The fee charged, major units.
    pub fee: Decimal,
    /// Whether the fee was waived.
    pub fee_waived: bool,
    /// `manual_override` when a fee was sent, else `auto_calculated`.
    pub calculation_method: FeeCalculationMethod,
    /// How the computed fee is made up.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub calculation_breakdown: Option<EarlyReturnBreakdown>,
    /// Condition of the returned device.
    pub return_condition: ReturnCondition,
    /// Why.
    #[schema(min_length = 1)]
    pub reason: String,
    /// Damage found.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub damage_assessment: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// Who processed it.
    pub processed_by: SubscriptionActor,
    /// Instant of the return.
    pub returned_at: Instant,
}

/// Why a subscription was cancelled.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancellationReason {
    /// The customer asked.
    CustomerRequest,
    /// Payments failed.
    PaymentFailure,
    /// Fraud.
    Fraud,
    /// Decided by an operator.
    AdminDecision,
    /// Anything else.
    Other,
}

/// `cancellationDetails`, written once by cancelSubscription (SPEC §2.6.5).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationDetails {
    /// Why.
    pub reason: CancellationReason,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// Who processed it.
    pub processed_by: SubscriptionActor,
    /// Instant of the cancellation.
    pub cancelled_at: Instant,
}
