//! The lifecycle records of a subscription on the wire (SPEC §2.6.1, §2.6.5): the
//! `extensionHistory` and `replacementHistory` entries and the `buyoutDetails`,
//! `earlyReturnDetails` and `cancellationDetails` objects, in the official shapes. The lifecycle
//! operations that write them are not served yet, so the histories are empty and the details
//! absent.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Decimal, Instant};

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
