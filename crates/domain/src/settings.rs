//! The settings document of a business unit (SPEC §2.1 "Settings that change API behaviour"):
//! one typed value per unit, stored as JSON with camelCase sections, every field defaulted as
//! SPEC §2.1 says, so `{}` is the default unit.
//!
//! Reading is lenient about what it does not know (a stored document keeps working when a later
//! version adds a field); writing goes through [`UnitSettings::parse_for_write`], which rejects
//! unknown fields, wrong types and values out of range with one [`Detail`] per failing path.
//!
//! Money in settings (flat fees) is a JSON number in major units of the unit's currency, checked
//! against the currency's decimals on write and converted with [`Decimal::minor`]; percentages
//! are JSON numbers 0–100 with at most two decimals ([`Decimal::basis_points`]).

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::error::Detail;
use crate::money::{AmountError, parse_amount};

/// A decimal setting kept as the JSON number it was written as (`12.5`, `500`), converted to
/// integers only where a rule uses it, so no value ever passes through `f64` arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Decimal(pub Number);

impl Decimal {
    /// An integer value.
    pub fn int(v: i64) -> Self {
        Decimal(Number::from(v))
    }

    /// The value in minor units with `exponent` decimals (a flat fee of `500` in EUR → `50000`).
    /// Errors: [`AmountError`] when it is not a plain decimal or too large.
    pub fn minor(&self, exponent: u32) -> Result<i64, AmountError> {
        parse_amount(&self.0.to_string(), exponent)
    }

    /// A percentage in basis points (`21` → `2100`, `12.5` → `1250`).
    pub fn basis_points(&self) -> Result<i64, AmountError> {
        parse_amount(&self.0.to_string(), 2)
    }

    /// Whether the text has more than `decimals` digits after the point.
    fn too_precise(&self, decimals: usize) -> bool {
        let text = self.0.to_string();
        text.contains(['e', 'E'])
            || text
                .split_once('.')
                .is_some_and(|(_, f)| f.trim_end_matches('0').len() > decimals)
    }
}

impl Default for Decimal {
    fn default() -> Self {
        Decimal::int(0)
    }
}

/// `general` (SPEC §2.1 General).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct General {
    /// Display name of the unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Prefix of order, customer and subscription ids, 1–5 ASCII letters or digits (SPEC §1.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_prefix: Option<String>,
}

/// The abuse ceiling of an unlimited plan, requests per minute per API key (SPEC §1.14,
/// Recommended default).
pub const DEFAULT_ABUSE_CEILING: u32 = 6_000;

/// `api` (SPEC §1.14 rate limiting): requests per rolling minute per API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiSettings {
    /// The plan's limit (Starter: 100), 1–1,000,000; `null` (default): unlimited under the abuse
    /// ceiling.
    pub rate_limit_per_minute: Option<u32>,
    /// The ceiling every plan stays under, 1–1,000,000 (default 6,000); `null` turns it off
    /// (development, load tests).
    pub abuse_ceiling_per_minute: Option<u32>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            rate_limit_per_minute: None,
            abuse_ceiling_per_minute: Some(DEFAULT_ABUSE_CEILING),
        }
    }
}

impl ApiSettings {
    /// Requests per minute allowed per key: the lower of the plan's limit and the ceiling;
    /// `None` when neither is set.
    pub fn effective_limit(&self) -> Option<u32> {
        match (self.rate_limit_per_minute, self.abuse_ceiling_per_minute) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// `taxes` (SPEC §2.1 Taxes, §2.7 Amounts).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Taxes {
    /// VAT on charges and orders.
    pub vat_enabled: bool,
    /// The unit's VAT number (informational).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_number: Option<String>,
    /// Default VAT rate in percent, 0–100 with at most two decimals.
    pub default_rate: Decimal,
    /// Whether prices include VAT.
    pub calculation: TaxCalculation,
}

/// `taxes.calculation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxCalculation {
    /// Tax is added to prices (default).
    #[default]
    Exclusive,
    /// Prices include tax.
    Inclusive,
}

/// `payments` (SPEC §2.1 Payments, §2.6.3, §2.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Payments {
    /// Billing cycle.
    pub billing_cycle: BillingCycleSetting,
    /// Day of month of the `fixed_day` cycle, 1–28.
    pub day_of_month: i64,
    /// What the first payment charges.
    pub first_payment: FirstPaymentSetting,
    /// Payment terms of business customers.
    pub payment_terms: PaymentTerms,
    /// Late fees (the daily job, SPEC §2.7).
    pub late_fees: LateFees,
    /// Automatic capture retries (a payment provider's; stored, no effect without one).
    pub automatic_retry: bool,
    /// Capture attempts at most, 1–5.
    pub max_attempts: i64,
}

impl Default for Payments {
    fn default() -> Self {
        Payments {
            billing_cycle: BillingCycleSetting::StartDate,
            day_of_month: 1,
            first_payment: FirstPaymentSetting::FullMonth,
            payment_terms: PaymentTerms::Immediate,
            late_fees: LateFees::default(),
            automatic_retry: false,
            max_attempts: 3,
        }
    }
}

/// `payments.billingCycle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingCycleSetting {
    /// Charges on the start date's day (default).
    #[default]
    StartDate,
    /// Charges on `dayOfMonth`.
    FixedDay,
    /// Charges every 30 days.
    #[serde(rename = "every_30_days")]
    Every30Days,
}

/// `payments.firstPayment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstPaymentSetting {
    /// A full month on the start date (default).
    #[default]
    FullMonth,
    /// A pro-rated stub until the cycle day.
    ProRated,
    /// Nothing until the cycle day.
    FreeUntilCycle,
    /// The first charge is created paid.
    CollectedExternally,
}

/// `payments.paymentTerms` (business customers only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentTerms {
    /// Due on the billing date (default).
    #[default]
    Immediate,
    /// 7 days.
    #[serde(rename = "net_7")]
    Net7,
    /// 14 days.
    #[serde(rename = "net_14")]
    Net14,
    /// 30 days.
    #[serde(rename = "net_30")]
    Net30,
}

impl PaymentTerms {
    /// Days between billing and due date.
    pub fn days(self) -> i64 {
        match self {
            PaymentTerms::Immediate => 0,
            PaymentTerms::Net7 => 7,
            PaymentTerms::Net14 => 14,
            PaymentTerms::Net30 => 30,
        }
    }
}

/// `payments.lateFees` (SPEC §2.7 "Late fees"; off by default).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LateFees {
    /// Whether the daily job applies late fees.
    pub enabled: bool,
    /// Flat amount or percentage of the payment's total.
    pub method: LateFeeMethod,
    /// The flat amount (major units) or the percentage (0–100).
    pub value: Decimal,
    /// Days after the due date before a fee applies, 0–365.
    pub grace_period_days: i64,
}

/// `payments.lateFees.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LateFeeMethod {
    /// A flat amount (default).
    #[default]
    Flat,
    /// A percentage of the payment's total.
    Percentage,
}

/// `pricing` (SPEC §2.1 Pricing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Pricing {
    /// Default contract length of order items, 1–120 months.
    pub default_contract_length: i64,
    /// Value recovery in percent, 1–100 (list-price estimation, SPEC §2.6.1).
    pub value_recovery_percent: Decimal,
    /// Profit margin in percent, 0–1000.
    pub profit_margin_percent: Decimal,
    /// Contract lengths offered with their price adjustments, kept as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_lengths: Option<Value>,
    /// Price rounding (nearest/up/down to 1/5/10/100), kept as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_rounding: Option<Value>,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            default_contract_length: 12,
            value_recovery_percent: Decimal::int(80),
            profit_margin_percent: Decimal::int(20),
            contract_lengths: None,
            price_rounding: None,
        }
    }
}

/// `subscriptions` (SPEC §2.1 Subscriptions).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionSettings {
    /// Extension rules.
    pub extensions: Extensions,
    /// Upgrades.
    pub upgrades: Upgrades,
    /// Buyouts.
    pub buyouts: Buyouts,
    /// Early returns.
    pub early_return: EarlyReturn,
    /// Contract end.
    pub contract_end: ContractEnd,
    /// Partial-month rounding and charging for the current month: stored, no effect, since
    /// months are counted by whole service periods (SPEC §2.6.4).
    pub fee_calculation: FeeCalculation,
}

/// `subscriptions.feeCalculation` (SPEC §2.1; stored, no effect in this version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FeeCalculation {
    /// Rounding of partial months.
    pub partial_month_rounding: MonthRounding,
    /// Charge for the current month.
    pub charge_for_current_month: bool,
}

/// `subscriptions.feeCalculation.partialMonthRounding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthRounding {
    /// Up (default).
    #[default]
    Up,
    /// Down.
    Down,
}

/// `features` (SPEC §2.1 Features).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Features {
    /// `manual` (default) or `stripe` capture of payments.
    pub payments_capture: PaymentsCapture,
    /// Files (default on).
    pub files: bool,
    /// Automatic contract generation (default off).
    pub contract_generation: bool,
    /// Timeline (default on).
    pub timeline: bool,
    /// Checkout (default off).
    pub checkout: bool,
    /// E-commerce (default off).
    pub ecommerce: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            payments_capture: PaymentsCapture::Manual,
            files: true,
            contract_generation: false,
            timeline: true,
            checkout: false,
            ecommerce: false,
        }
    }
}

/// `features.paymentsCapture`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentsCapture {
    /// Operators record payments with mark-paid (default).
    #[default]
    Manual,
    /// A Stripe integration captures them.
    Stripe,
}

/// `subscriptions.extensions` (extendSubscription checks, SPEC §2.6.5); absent rules do not
/// apply.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Extensions {
    /// Extension lengths allowed, months 1–120; any when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_lengths: Option<Vec<i64>>,
    /// Most extensions per subscription; unlimited when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_extensions: Option<i64>,
    /// Least days between the request and the end date; none when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_days_before_end: Option<i64>,
    /// A dashboard workflow; does not block API calls.
    pub require_approval: bool,
    /// Create a fulfilled tracking order of type `extension` for each extension.
    pub create_tracking_order: bool,
}

/// `subscriptions.upgrades`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Upgrades {
    /// Whether upgradeSubscription is allowed (default on).
    pub enabled: bool,
}

impl Default for Upgrades {
    fn default() -> Self {
        Upgrades { enabled: true }
    }
}

/// `subscriptions.buyouts` (SPEC §2.13 quote metrics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Buyouts {
    /// Whether buyouts are allowed (default on).
    pub enabled: bool,
    /// How the price is computed.
    pub method: BuyoutMethod,
    /// Percentage of the list price for the RRP methods, 0–100.
    pub rrp_percentage: Decimal,
    /// Flat fee (major units) of `flat_fee` and `remaining_plus_flat`.
    pub flat_fee: Decimal,
    /// Whether a request may set its own price (default on).
    pub allow_manual_override: bool,
    /// Estimate an unknown list price from the monthly amount (SPEC §2.6.1).
    pub allow_rrp_estimation: bool,
}

impl Default for Buyouts {
    fn default() -> Self {
        Buyouts {
            enabled: true,
            method: BuyoutMethod::RemainingMonths,
            rrp_percentage: Decimal::int(0),
            flat_fee: Decimal::int(0),
            allow_manual_override: true,
            allow_rrp_estimation: false,
        }
    }
}

/// `subscriptions.buyouts.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuyoutMethod {
    /// The remaining months' amounts (default).
    #[default]
    RemainingMonths,
    /// A percentage of the list price.
    RrpPercentage,
    /// Remaining months plus a percentage of the list price.
    RemainingPlusRrp,
    /// A flat fee.
    FlatFee,
    /// Remaining months plus a flat residual value.
    RemainingPlusFlat,
}

impl BuyoutMethod {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            BuyoutMethod::RemainingMonths => "remaining_months",
            BuyoutMethod::RrpPercentage => "rrp_percentage",
            BuyoutMethod::RemainingPlusRrp => "remaining_plus_rrp",
            BuyoutMethod::FlatFee => "flat_fee",
            BuyoutMethod::RemainingPlusFlat => "remaining_plus_flat",
        }
    }
}

/// `subscriptions.earlyReturn` (SPEC §2.13 quote metrics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EarlyReturn {
    /// Whether early returns are allowed (default on).
    pub enabled: bool,
    /// How the fee is computed.
    pub fee_method: EarlyReturnMethod,
    /// Percentage of the remaining value for `remaining_months`, 0–100 (default 100).
    pub fee_percentage: Decimal,
    /// Flat fee (major units) of `flat_fee`.
    pub flat_fee: Decimal,
    /// Whether a request may set or waive the fee (default on).
    pub allow_manual_override: bool,
    /// Days from the start date within which a return costs nothing, 0–365.
    pub grace_period_days: i64,
}

impl Default for EarlyReturn {
    fn default() -> Self {
        EarlyReturn {
            enabled: true,
            fee_method: EarlyReturnMethod::RemainingMonths,
            fee_percentage: Decimal::int(100),
            flat_fee: Decimal::int(0),
            allow_manual_override: true,
            grace_period_days: 0,
        }
    }
}

/// `subscriptions.earlyReturn.feeMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarlyReturnMethod {
    /// A percentage of the remaining months' amounts (default).
    #[default]
    RemainingMonths,
    /// A flat fee.
    FlatFee,
    /// No fee.
    NoFee,
}

impl EarlyReturnMethod {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            EarlyReturnMethod::RemainingMonths => "remaining_months",
            EarlyReturnMethod::FlatFee => "flat_fee",
            EarlyReturnMethod::NoFee => "no_fee",
        }
    }
}

/// `subscriptions.contractEnd` (SPEC §2.6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContractEnd {
    /// What the daily job does with an active contract past its end date.
    pub behaviour: ContractEndBehaviour,
}

/// `subscriptions.contractEnd.behaviour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractEndBehaviour {
    /// Wait for the operator, billing holdover months (default).
    #[default]
    RequireAction,
    /// End as `ended_completed` on the end date.
    AutoTerminate,
    /// Extend by one month at the current price.
    AutoRenewMonthly,
    /// Extend by the original contract length at the current price.
    AutoRenewSameTerm,
}

/// `orderForm` quantity limits (createOrder validation, only for limits the unit has set).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderForm {
    /// Least quantity per item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_quantity: Option<i64>,
    /// Most quantity per item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_quantity: Option<i64>,
}

/// One custom field (SPEC §2.1 Custom fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomField {
    /// Field id (no spaces).
    pub id: String,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `text`, `email`, `phone`, `number`, `textarea` or `select`.
    #[serde(default = "text_type", rename = "type")]
    pub field_type: String,
    /// Whether the field must be sent.
    #[serde(default)]
    pub required: bool,
    /// `customer`, `order` (default) or `subscription`.
    #[serde(default = "order_section")]
    pub section: String,
    /// Choices of a `select` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// Validation rules (min/max/exact length, regex, phone format), kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Value>,
}

fn text_type() -> String {
    "text".into()
}

fn order_section() -> String {
    "order".into()
}

/// `assetWorkflow` (SPEC §2.1 Asset workflow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AssetWorkflow {
    /// Returned assets need a condition before they become `available` (default on).
    pub require_inspection: bool,
}

impl Default for AssetWorkflow {
    fn default() -> Self {
        AssetWorkflow {
            require_inspection: true,
        }
    }
}

/// `catalog` (SPEC §2.1 Catalog).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Catalog {
    /// Condition grades; `new`, `like_new`, `good`, `fair` when empty.
    pub conditions: Vec<Condition>,
}

/// One condition grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Code used on assets.
    pub code: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// RRP factor 0.1–1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrp_factor: Option<Decimal>,
}

/// The settings of a business unit (SPEC §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UnitSettings {
    /// General.
    pub general: General,
    /// Features.
    pub features: Features,
    /// Taxes.
    pub taxes: Taxes,
    /// Payments.
    pub payments: Payments,
    /// Pricing.
    pub pricing: Pricing,
    /// Subscriptions: extensions, upgrades, buyouts, early returns, contract end.
    pub subscriptions: SubscriptionSettings,
    /// Order form.
    pub order_form: OrderForm,
    /// Custom fields.
    pub custom_fields: Vec<CustomField>,
    /// Asset workflow.
    pub asset_workflow: AssetWorkflow,
    /// Catalog.
    pub catalog: Catalog,
    /// API rate limits (SPEC §1.14).
    pub api: ApiSettings,
    /// Address form settings (company field, per-field visibility, required flags, labels),
    /// kept as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Value>,
}

impl UnitSettings {
    /// Reads a stored document: every absent field takes its default, unknown fields are
    /// ignored. Errors: a message when the text is not JSON or a known field has a wrong type.
    pub fn from_stored(text: &str) -> Result<UnitSettings, String> {
        if text.trim().is_empty() {
            return Ok(UnitSettings::default());
        }
        serde_json::from_str(text).map_err(|e| format!("settings document: {e}"))
    }

    /// Validates a document to be written, in the currency with `exponent` decimals: a JSON
    /// object whose every field is known, of the right type and in range. Returns the typed
    /// settings, or one [`Detail`] per failing path (`code` `unrecognized_keys`,
    /// `invalid_type`, `too_small`, `too_big`, `invalid_string`).
    pub fn parse_for_write(doc: &Value, exponent: u32) -> Result<UnitSettings, Vec<Detail>> {
        let settings: UnitSettings = serde_json::from_value(doc.clone()).map_err(|e| {
            vec![Detail::new(
                String::new(),
                "invalid_type",
                format!("settings: {e}"),
            )]
        })?;
        let mut errors = Vec::new();
        let known = serde_json::to_value(&settings).unwrap_or(Value::Null);
        check::unknown_keys(doc, &known, &check::schema_defaults(), "", &mut errors);
        check::check(&settings, exponent, &mut errors);
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }
}

#[path = "settings_check.rs"]
mod check;

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
