//! Subscriptions (rentals) on the wire (SPEC §2.6; the official subscription shape with its
//! computed fields, plus the additive `costRecovery` object of SPEC §2.6.1 and the additive
//! filters and sorts of listSubscriptions). The lifecycle records (histories and details objects)
//! are in [`super::subscriptions_lifecycle`].

use flexportal_app::subscriptions::SubscriptionView;
use flexportal_app::{AppError, TenantContext};
use flexportal_domain::recovery;
use flexportal_domain::status::SubscriptionStatus;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use flexportal_app::lifecycle::HistoryEntry;

use super::subscriptions_lifecycle::{
    BuyoutDetails, CancellationDetails, EarlyReturnDetails, Endings, SubscriptionExtension,
    SubscriptionReplacement,
};
use super::{Decimal, Instant, SortDirection, list_envelope, stored_enum};

/// A subscription (rental): one asset rented to one customer on a monthly contract.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `sub_…`, the subscription id.
    pub rental_id: String,
    /// Business unit.
    pub tenant_id: String,
    /// Serial number of the current asset (changes only on replace).
    pub asset_serial_number: String,
    /// Customer.
    pub customer_id: String,
    /// Product of the variant.
    pub product_id: String,
    /// Variant.
    pub variant_id: String,
    /// Variant SKU.
    pub sku: String,
    /// Display name of the product and variant.
    pub product_name: String,
    /// First variant image, else first product image.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub product_image_url: Option<String>,
    /// Monthly amount, major units.
    pub monthly_amount: Decimal,
    /// ISO 4217 code of the business unit's currency.
    pub currency: String,
    /// Status (SPEC §2.6.2 transitions).
    pub status: SubscriptionStatus,
    /// Billing group the subscription is invoiced with (SPEC §2.8).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub billing_group_id: Option<String>,
    /// Contract length in months at activation; never changes.
    pub original_contract_length: i64,
    /// Current contract length in months (original plus every extension).
    pub contract_length: i64,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub start_date: String,
    /// `YYYY-MM-DD`, the last day of the contract (SPEC §2.6.3).
    #[schema(format = Date)]
    pub end_date: String,
    /// `YYYY-MM-DD`: the earliest billing date after today of an open charge; absent when none
    /// is left or the subscription is not `active` (SPEC §2.6.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = Date)]
    pub next_billing_date: Option<String>,
    /// Instant of the last lifecycle action (creation, extend, replace, end).
    pub last_modified_date: Instant,
    /// Extensions, oldest first (appended by extendSubscription).
    pub extension_history: Vec<SubscriptionExtension>,
    /// Replacements, oldest first (appended by replaceSubscriptionDevice).
    pub replacement_history: Vec<SubscriptionReplacement>,
    /// Contract months whose service period has started (SPEC §2.6.4).
    pub actual_months_rented: i64,
    /// Months not served at an early ending; 0 otherwise (SPEC §2.6.4).
    pub months_saved: i64,
    /// List price snapshot at activation, major units; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub list_price: Option<Decimal>,
    /// Where the list price snapshot came from.
    pub list_price_source: SubscriptionListPriceSource,
    /// Instant of the list price snapshot (activation).
    pub list_price_captured_at: Instant,
    /// Acquisition cost snapshot at activation, major units; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub acquisition_cost: Option<Decimal>,
    /// Where the acquisition cost snapshot came from.
    pub acquisition_cost_source: SubscriptionAcquisitionCostSource,
    /// Instant of the acquisition cost snapshot (activation).
    pub acquisition_cost_captured_at: Instant,
    /// Σ net amounts of the subscription's paid payments, major units (SPEC §2.13).
    pub total_collected: Decimal,
    /// `totalCollected ÷ acquisitionCost × 100`, 1 decimal; absent when the cost is unknown or 0,
    /// or when the percentage exceeds what the server computes exactly (a cost of a few minor
    /// units against a huge amount collected).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cost_recovery_percent: Option<Decimal>,
    /// `totalCollected − acquisitionCost`, major units (negative while recovering); absent when
    /// the cost is unknown or 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub current_profit: Option<Decimal>,
    /// `acquisitionCost ÷ monthlyAmount` in months, 1 decimal; absent when not computable.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub breakeven_months: Option<Decimal>,
    /// `totalCollected ≥ acquisitionCost` (false when the cost is unknown or 0).
    pub has_reached_breakeven: bool,
    /// Recovery status (SPEC §2.13).
    pub recovery_status: RecoveryStatus,
    /// Written once by buyoutSubscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub buyout_details: Option<BuyoutDetails>,
    /// Written once by earlyReturnSubscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub early_return_details: Option<EarlyReturnDetails>,
    /// Written once by cancelSubscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cancellation_details: Option<CancellationDetails>,
    /// Order the subscription fulfils.
    pub order_id: String,
    /// On the new subscription of an upgrade: the previous subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub upgrade_from_rental_id: Option<String>,
    /// Snapshot of the order's customer email.
    pub customer_email: String,
    /// Snapshot of the order's customer name (`firstName lastName`).
    pub customer_name: String,
    /// Custom fields copied from the order at activation (`{}` when none).
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    /// Creation instant.
    pub created_at: Instant,
    /// Last change.
    pub updated_at: Instant,
    /// The `userId` of the caller that created it (SPEC §1.15).
    pub created_by: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// Additive cost-recovery summary (SPEC §2.6.1).
    pub cost_recovery: CostRecovery,
}

/// The additive `costRecovery` object of a subscription (SPEC §2.6.1, §2.13). Cost-based members
/// are `null` when the acquisition cost is unknown (or 0, for the margins).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CostRecovery {
    /// Acquisition cost snapshot, major units.
    #[schema(required = true)]
    pub acquisition_cost: Option<Decimal>,
    /// List price snapshot, major units.
    #[schema(required = true)]
    pub list_price: Option<Decimal>,
    /// Σ net paid amounts, major units.
    pub total_collected: Decimal,
    /// `totalCollected ÷ acquisitionCost × 100`, 1 decimal.
    #[schema(required = true)]
    pub cost_recovery_percent: Option<Decimal>,
    /// `⌈acquisitionCost ÷ monthlyAmount⌉`: the month during which breakeven happens.
    #[schema(required = true)]
    pub breakeven_month: Option<i64>,
    /// `acquisitionCost ÷ monthlyAmount` in months, 1 decimal.
    #[schema(required = true)]
    pub breakeven_months: Option<Decimal>,
    /// Equals `actualMonthsRented`.
    pub months_active: i64,
    /// Remaining open contract months (SPEC §2.6.4).
    pub months_remaining: i64,
    /// `totalCollected` + the net amounts of every charge neither paid nor cancelled, major
    /// units.
    pub projected_total_collection: Decimal,
    /// `projectedTotalCollection − acquisitionCost`, major units.
    #[schema(required = true)]
    pub projected_margin: Option<Decimal>,
    /// `projectedMargin ÷ acquisitionCost × 100`, 1 decimal.
    #[schema(required = true)]
    pub projected_margin_percent: Option<Decimal>,
}

/// Where a subscription's list price snapshot came from (SPEC §2.6.1).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionListPriceSource {
    /// The variant's list price.
    Variant,
    /// Entered by an operator.
    Manual,
    /// The order item's `listPriceOverride`.
    OrderOverride,
    /// Estimated from the monthly amount (RRP estimation).
    Estimated,
    /// Unknown (the list price is absent).
    Unknown,
}

impl SubscriptionListPriceSource {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "variant" => Self::Variant,
            "manual" => Self::Manual,
            "order_override" => Self::OrderOverride,
            "estimated" => Self::Estimated,
            "unknown" => Self::Unknown,
            _ => return None,
        })
    }
}

/// Where a subscription's acquisition cost snapshot came from (SPEC §2.6.1).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionAcquisitionCostSource {
    /// The variant's acquisition cost (also an asset cost copied from the variant).
    Variant,
    /// Entered on the asset.
    Manual,
    /// The order item's `acquisitionCostOverride`.
    OrderOverride,
    /// The variant's list price, used for want of a cost.
    ListPrice,
    /// Unknown (the acquisition cost is absent).
    Unknown,
}

impl SubscriptionAcquisitionCostSource {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "variant" => Self::Variant,
            "manual" => Self::Manual,
            "order_override" => Self::OrderOverride,
            "list_price" => Self::ListPrice,
            "unknown" => Self::Unknown,
            _ => return None,
        })
    }
}

/// `recoveryStatus` (SPEC §2.13 "Recovery status").
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryStatus {
    /// Recovery above 100 %.
    Profitable,
    /// Recovery above 50 % up to 100 %, or at most 50 % with contract progress ≤ 50 %.
    Recovering,
    /// Recovery at most 50 % with contract progress above 50 %.
    AtRisk,
    /// Acquisition cost unknown or 0.
    NoData,
}

impl From<recovery::RecoveryStatus> for RecoveryStatus {
    fn from(s: recovery::RecoveryStatus) -> Self {
        match s {
            recovery::RecoveryStatus::Profitable => RecoveryStatus::Profitable,
            recovery::RecoveryStatus::Recovering => RecoveryStatus::Recovering,
            recovery::RecoveryStatus::AtRisk => RecoveryStatus::AtRisk,
            recovery::RecoveryStatus::NoData => RecoveryStatus::NoData,
        }
    }
}

/// A stored JSON object document. Errors: 500 when it is not a JSON object.
fn object(text: &str) -> Result<Map<String, Value>, AppError> {
    serde_json::from_str(text).map_err(AppError::corrupt)
}

impl Subscription {
    /// Renders a subscription with its computed fields as of the view's today. Errors: 500 when
    /// a stored status, source, date or custom-fields document cannot be read.
    pub fn new(ctx: &TenantContext, v: &SubscriptionView) -> Result<Self, AppError> {
        let exp = ctx.exponent();
        let s = &v.sub;
        let c = v.computed()?;
        let r = &c.recovery;
        let money = |minor| Decimal::money(minor, exp);
        let projected = s.total_collected + c.open_value;
        let cost = s.acquisition_cost.filter(|c| *c > 0);
        let history = v
            .events
            .iter()
            .map(HistoryEntry::decode)
            .collect::<Result<Vec<_>, _>>()?;
        let mut endings = Endings::new(&history, exp)?;
        Ok(Subscription {
            rental_id: s.rental_id.clone(),
            tenant_id: s.tenant_id.clone(),
            asset_serial_number: s.asset_serial_number.clone(),
            customer_id: s.customer_id.clone(),
            product_id: s.product_id.clone(),
            variant_id: s.variant_id.clone(),
            sku: s.sku.clone(),
            product_name: s.product_name.clone(),
            product_image_url: s.product_image_url.clone(),
            monthly_amount: money(s.monthly_amount),
            currency: s.currency.clone(),
            status: stored_enum(&s.status, SubscriptionStatus::parse)?,
            billing_group_id: s.billing_group_id.clone(),
            original_contract_length: s.original_contract_length,
            contract_length: s.contract_length,
            start_date: s.start_date.clone(),
            end_date: s.end_date.clone(),
            next_billing_date: c.next_billing_date.map(|d| d.to_string()),
            last_modified_date: Instant(s.last_modified_date),
            extension_history: std::mem::take(&mut endings.extensions),
            replacement_history: std::mem::take(&mut endings.replacements),
            actual_months_rented: c.months_elapsed,
            months_saved: c.months_saved,
            list_price: Decimal::money_opt(s.list_price, exp),
            list_price_source: stored_enum(
                &s.list_price_source,
                SubscriptionListPriceSource::parse,
            )?,
            list_price_captured_at: Instant(s.captured_at),
            acquisition_cost: Decimal::money_opt(s.acquisition_cost, exp),
            acquisition_cost_source: stored_enum(
                &s.acquisition_cost_source,
                SubscriptionAcquisitionCostSource::parse,
            )?,
            acquisition_cost_captured_at: Instant(s.captured_at),
            total_collected: money(s.total_collected),
            cost_recovery_percent: r.cost_recovery_percent_tenths.map(Decimal::tenths),
            current_profit: Decimal::money_opt(r.current_profit, exp),
            breakeven_months: r.breakeven_months_tenths.map(Decimal::tenths),
            has_reached_breakeven: r.has_reached_breakeven,
            recovery_status: r.status.into(),
            buyout_details: endings.buyout,
            early_return_details: endings.early_return,
            cancellation_details: endings.cancellation,
            order_id: s.order_id.clone(),
            upgrade_from_rental_id: s.upgrade_from_rental_id.clone(),
            customer_email: s.customer_email.clone(),
            customer_name: s.customer_name.clone(),
            custom_fields: s
                .custom_fields
                .as_deref()
                .map(object)
                .transpose()?
                .unwrap_or_default(),
            created_at: Instant(s.created_at),
            updated_at: Instant(s.updated_at),
            created_by: s.created_by.clone(),
            notes: s.notes.clone(),
            cost_recovery: CostRecovery {
                acquisition_cost: Decimal::money_opt(s.acquisition_cost, exp),
                list_price: Decimal::money_opt(s.list_price, exp),
                total_collected: money(s.total_collected),
                cost_recovery_percent: r.cost_recovery_percent_tenths.map(Decimal::tenths),
                breakeven_month: r.breakeven_month,
                breakeven_months: r.breakeven_months_tenths.map(Decimal::tenths),
                months_active: c.months_elapsed,
                months_remaining: c.months_remaining,
                projected_total_collection: money(projected),
                projected_margin: cost.map(|c| money(projected - c)),
                projected_margin_percent: cost.and_then(|c| Decimal::percent(projected - c, c, 1)),
            },
        })
    }
}

list_envelope!(
    /// listSubscriptions: the page's subscriptions under `rentals`.
    SubscriptionList,
    "rentals",
    Subscription
);

/// createSubscription: `{success, message, rentalId, rental}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionCreated {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The new subscription's id.
    pub rental_id: String,
    /// The subscription as stored, with its computed fields.
    pub rental: Subscription,
}

/// updateSubscriptionNotes: `{success, message, rentalId}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionNotesUpdated {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The subscription changed.
    pub rental_id: String,
}

/// When the first charge of a new subscription is billed (SPEC §2.6.3); overrides the business
/// unit's billing cycle.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum BillingStartOption {
    /// Billed on the start date (the `start_date` cycle).
    Immediate,
    /// Billed from the first of the month after the start date.
    FirstOfNextMonth,
    /// Billed in arrears, one month after the start date.
    SameDayNextMonth,
}

/// The body of createSubscription (SPEC §2.6.5): fulfils one unit of an order item with an
/// available asset of the item's SKU.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CreateSubscriptionBody {
    /// Order to fulfil (`pending`, `confirmed` or `partial`).
    #[schema(min_length = 1)]
    pub order_id: String,
    /// Serial number of an `available` asset (alias `serialNumber`).
    #[schema(min_length = 1)]
    pub asset_serial_number: String,
    /// Alias of `assetSerialNumber` (SPEC §2.6.5).
    pub serial_number: Option<String>,
    /// Must be the order's customer when sent (400 `CUSTOMER_MISMATCH`); defaults to it.
    #[schema(min_length = 1)]
    pub customer_id: Option<String>,
    /// An active billing group of the order's customer (SPEC §2.8). Billing groups are not
    /// served yet, so any value is refused with 400 `VALIDATION_ERROR`.
    pub billing_group_id: Option<String>,
    /// `YYYY-MM-DD` or an ISO date-time (its date part is used); defaults to today.
    #[schema(format = DateTime)]
    pub start_date: Option<String>,
    /// Months, 1–120; defaults to the item's. Another length needs a tier of the variant (400
    /// `INVALID_CONTRACT_LENGTH`) and takes that tier's price.
    #[schema(minimum = 1, maximum = 120)]
    pub contract_length: Option<i64>,
    /// Free text.
    pub notes: Option<String>,
    /// 0-based index of the order item to fulfil; defaults to the first item of the asset's SKU
    /// with units left.
    #[schema(minimum = 0)]
    pub order_item_index: Option<i64>,
    /// Overrides the business unit's billing cycle for this subscription.
    pub billing_start_option: Option<BillingStartOption>,
}

/// The body of updateSubscriptionNotes: replaces the notes (any status).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SubscriptionNotesBody {
    /// At most 5 000 characters; blank clears them.
    #[schema(max_length = 5000)]
    pub notes: String,
}

/// The `status` filter of listSubscriptions: a status, or `ended` for any `ended_*` one.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum SubscriptionStatusFilter {
    /// Running.
    Active,
    /// Cancelled.
    Cancelled,
    /// Any `ended_*` status (SPEC §2.6.5, Recommended).
    Ended,
    /// Contract served.
    EndedCompleted,
    /// Bought out.
    EndedBuyout,
    /// Replaced by an upgrade.
    EndedUpgrade,
    /// Returned early.
    EndedEarlyReturn,
}

/// Sort fields of listSubscriptions.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum SubscriptionSortBy {
    /// Creation instant (default).
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Start date.
    StartDate,
    /// End date.
    EndDate,
    /// Monthly amount.
    MonthlyAmount,
}

/// Query parameters of listSubscriptions (SPEC §1.8, §1.9, §2.6.5). Empty values are absent;
/// date bounds are inclusive (`YYYY-MM-DD`, or an ISO date-time whose date part is used).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct SubscriptionListQuery {
    /// Items per page (default 50; larger values are clamped to 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor: the `nextCursor` of the previous page (a `rentalId`).
    pub start_after: Option<String>,
    /// Exact status, or `ended` for any ended status.
    #[param(inline)]
    pub status: Option<SubscriptionStatusFilter>,
    /// Customer.
    pub customer_id: Option<String>,
    /// Order fulfilled.
    pub order_id: Option<String>,
    /// Serial number of the current asset.
    pub serial_number: Option<String>,
    /// Exact variant SKU.
    pub sku: Option<String>,
    /// Billing group.
    pub billing_group_id: Option<String>,
    /// Start date on or after.
    #[param(format = Date)]
    pub start_date_from: Option<String>,
    /// Start date on or before.
    #[param(format = Date)]
    pub start_date_to: Option<String>,
    /// End date on or after.
    #[param(format = Date)]
    pub end_date_from: Option<String>,
    /// End date on or before.
    #[param(format = Date)]
    pub end_date_to: Option<String>,
    /// Sort field (default `createdAt`).
    #[param(inline)]
    pub sort_by: Option<SubscriptionSortBy>,
    /// Sort direction (default `desc`).
    #[param(inline)]
    pub sort_dir: Option<SortDirection>,
}
