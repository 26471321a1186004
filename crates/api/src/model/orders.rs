//! Orders on the wire (SPEC §2.5; the official `Order` shape plus the additive
//! `cancellationReason` and `cancelledAt`). Request bodies and query parameters are in
//! [`super::orders_input`].

use flexportal_app::orders::{OrderItem as StoredItem, OrderView};
use flexportal_app::{AppError, TenantContext};
use flexportal_domain::money::parse_amount;
use flexportal_domain::status::{CustomerType, OrderStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::customers::{Address, stored_custom_fields};
use super::{Decimal, Instant, list_envelope, stored_enum};

/// What an order records (SPEC §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderType {
    /// A new subscription order (default).
    Standard,
    /// The tracking record of a contract extension, with `extensionDetails`.
    Extension,
    /// Created by the upgrade flow, with `upgradeDetails`.
    Upgrade,
}

impl OrderType {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "standard" => Some(OrderType::Standard),
            "extension" => Some(OrderType::Extension),
            "upgrade" => Some(OrderType::Upgrade),
            _ => None,
        }
    }
}

/// Where an item's list price comes from (SPEC §2.5 item-level fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderListPriceSource {
    /// The variant's list price.
    Variant,
    /// The item's `listPriceOverride`.
    Manual,
    /// No list price known.
    Unknown,
}

impl OrderListPriceSource {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "variant" => Some(OrderListPriceSource::Variant),
            "manual" => Some(OrderListPriceSource::Manual),
            "unknown" => Some(OrderListPriceSource::Unknown),
            _ => None,
        }
    }
}

/// Where an item's acquisition cost comes from (SPEC §2.5 item-level fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderAcquisitionCostSource {
    /// The variant's acquisition cost.
    Variant,
    /// The item's `acquisitionCostOverride`.
    Manual,
    /// Only a list price was known; it stands in for the cost.
    ListPrice,
    /// No cost known.
    Unknown,
}

impl OrderAcquisitionCostSource {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "variant" => Some(OrderAcquisitionCostSource::Variant),
            "manual" => Some(OrderAcquisitionCostSource::Manual),
            "list_price" => Some(OrderAcquisitionCostSource::ListPrice),
            "unknown" => Some(OrderAcquisitionCostSource::Unknown),
            _ => None,
        }
    }
}

/// How far an item is fulfilled by subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderItemRentalStatus {
    /// No subscription created for the item yet.
    Pending,
    /// Some units fulfilled.
    Partial,
    /// A subscription for every unit.
    Completed,
}

/// An order (SPEC §2.5) with its items, totals, fulfilment progress and subscriptions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// `ord_…` (with the business unit's id prefix, if any).
    pub order_id: String,
    /// Business unit.
    pub tenant_id: String,
    /// Status (SPEC §2.5 transitions).
    pub status: OrderStatus,
    /// What the order records.
    pub order_type: OrderType,
    /// The customer as it was when the order was placed.
    pub customer: OrderCustomer,
    /// Billing address.
    pub billing_address: Address,
    /// Shipping address (the billing address when none was sent).
    pub shipping_address: Address,
    /// The line items, in request order.
    pub items: Vec<OrderItem>,
    /// Monthly recurring totals.
    pub totals: OrderTotals,
    /// Payment state; set by no `/v1` operation (dashboard and integration use), absent when
    /// unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub payment: Option<OrderPayment>,
    /// Order-section custom fields; `null` when none were sent.
    #[schema(value_type = Option<Object>, required = true)]
    pub custom_fields: Option<Map<String, Value>>,
    /// Fulfilment progress.
    pub rental_progress: RentalProgress,
    /// Every subscription created from the order, oldest first.
    pub rental_ids: Vec<String>,
    /// Billing group; set by no `/v1` operation, absent when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub billing_group_id: Option<String>,
    /// Shipment tracking number; set by no `/v1` operation, absent when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tracking_number: Option<String>,
    /// Shipment instant; set by no `/v1` operation, absent when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub shipped_at: Option<Instant>,
    /// Creation instant.
    pub created_at: Instant,
    /// Last change.
    pub updated_at: Instant,
    /// Actor that created the order.
    pub created_by: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// For `orderType: extension`, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub extension_details: Option<ExtensionDetails>,
    /// For `orderType: upgrade`, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub upgrade_details: Option<UpgradeDetails>,
    /// Reason given to cancelOrder (SPEC §2.5, additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cancellation_reason: Option<String>,
    /// Instant of the cancellation (SPEC §2.5, additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cancelled_at: Option<Instant>,
}

impl Order {
    /// Renders a stored order with its items and subscriptions. Errors: 500 when a stored
    /// status, type, source, snapshot, address or details document cannot be decoded.
    pub fn new(ctx: &TenantContext, v: &OrderView) -> Result<Self, AppError> {
        let exp = ctx.exponent();
        let o = &v.order;
        let items = v
            .items
            .iter()
            .enumerate()
            .map(|(idx, it)| OrderItem::new(exp, it, rentals_of(v, idx)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Order {
            order_id: o.order_id.clone(),
            tenant_id: o.tenant_id.clone(),
            status: stored_enum(&o.status, OrderStatus::parse)?,
            order_type: stored_enum(&o.order_type, OrderType::parse)?,
            customer: OrderCustomer::stored(&o.customer_snapshot)?,
            billing_address: Address::stored(&o.billing_address)?,
            shipping_address: Address::stored(&o.shipping_address)?,
            items,
            totals: OrderTotals {
                subtotal: Decimal::money(o.subtotal, exp),
                tax_amount: Decimal::money(o.tax_amount, exp),
                total: Decimal::money(o.total, exp),
                currency: o.currency.clone(),
                total_devices: o.total_devices,
            },
            payment: None,
            custom_fields: o
                .custom_fields
                .as_deref()
                .map(stored_custom_fields)
                .transpose()?,
            rental_progress: RentalProgress {
                total_devices: o.total_devices,
                rented_devices: o.rented_devices,
            },
            rental_ids: v.rentals.iter().map(|(r, _)| r.clone()).collect(),
            billing_group_id: None,
            tracking_number: None,
            shipped_at: None,
            created_at: Instant(o.created_at),
            updated_at: Instant(o.updated_at),
            created_by: o.created_by.clone(),
            notes: o.notes.clone(),
            extension_details: o
                .extension_details
                .as_deref()
                .map(ExtensionDetails::stored)
                .transpose()?,
            upgrade_details: o
                .upgrade_details
                .as_deref()
                .map(|t| UpgradeDetails::stored(t, exp))
                .transpose()?,
            cancellation_reason: o.cancellation_reason.clone(),
            cancelled_at: Instant::opt(o.cancelled_at),
        })
    }
}

/// The ids of the subscriptions created for item `idx` of an order, oldest first.
fn rentals_of(v: &OrderView, idx: usize) -> Vec<String> {
    v.rentals
        .iter()
        .filter(|(_, i)| *i == idx as i64)
        .map(|(r, _)| r.clone())
        .collect()
}

/// The customer snapshot of an order (SPEC §2.5): the customer as it was when the order was
/// placed; later changes to the customer never rewrite it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCustomer {
    /// The customer found or created by email.
    pub customer_id: String,
    /// Email as sent with the order.
    pub email: String,
    /// First name as sent.
    pub first_name: String,
    /// Last name as sent.
    pub last_name: String,
    /// Company as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub company: Option<String>,
    /// Phone as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub phone: Option<String>,
    /// Type as sent, else the customer's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub customer_type: Option<CustomerType>,
}

/// The stored customer snapshot (`null` for what was not sent).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredSnapshot {
    customer_id: String,
    email: String,
    first_name: String,
    last_name: String,
    company: Option<String>,
    phone: Option<String>,
    customer_type: Option<String>,
}

impl OrderCustomer {
    /// Decodes a stored snapshot. Errors: 500 when it cannot be decoded.
    pub fn stored(text: &str) -> Result<Self, AppError> {
        let s: StoredSnapshot = serde_json::from_str(text).map_err(AppError::corrupt)?;
        Ok(OrderCustomer {
            customer_id: s.customer_id,
            email: s.email,
            first_name: s.first_name,
            last_name: s.last_name,
            company: s.company,
            phone: s.phone,
            customer_type: s
                .customer_type
                .map(|t| stored_enum(&t, CustomerType::parse))
                .transpose()?,
        })
    }
}

/// One line of an order: a variant, a quantity and a contract length, priced at order time
/// (SPEC §2.5 item-level fields).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    /// Product of the variant.
    pub product_id: String,
    /// First variant image, else first product image.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub product_image_url: Option<String>,
    /// Variant.
    pub variant_id: String,
    /// Variant SKU.
    pub sku: String,
    /// `"<product name> - <variant name>"`.
    pub product_name: String,
    /// Units ordered.
    pub quantity: i64,
    /// Monthly price per unit after the tier's discount, major units.
    pub unit_price: Decimal,
    /// Months of the priced tier.
    pub contract_length: i64,
    /// List price per unit, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub list_price: Option<Decimal>,
    /// Where `listPrice` comes from.
    pub list_price_source: OrderListPriceSource,
    /// Acquisition cost per unit, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub acquisition_cost: Option<Decimal>,
    /// Where `acquisitionCost` comes from.
    pub acquisition_cost_source: OrderAcquisitionCostSource,
    /// The list price override sent with the item, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub list_price_override: Option<Decimal>,
    /// The acquisition cost override sent with the item, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub acquisition_cost_override: Option<Decimal>,
    /// `true` when only a list price was known and it stands in for the cost; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub used_list_price_as_acquisition: Option<bool>,
    /// Subscriptions created for this item, oldest first.
    pub rental_ids: Vec<String>,
    /// How far the item is fulfilled.
    pub rental_status: OrderItemRentalStatus,
}

impl OrderItem {
    /// Renders a stored item with the subscriptions created for it. Errors: 500 when a stored
    /// source is unknown.
    fn new(exp: u32, it: &StoredItem, rental_ids: Vec<String>) -> Result<Self, AppError> {
        let rental_status = match rental_ids.len() as i64 {
            0 => OrderItemRentalStatus::Pending,
            n if n >= it.quantity => OrderItemRentalStatus::Completed,
            _ => OrderItemRentalStatus::Partial,
        };
        Ok(OrderItem {
            product_id: it.product_id.clone(),
            product_image_url: it.product_image_url.clone(),
            variant_id: it.variant_id.clone(),
            sku: it.sku.clone(),
            product_name: it.product_name.clone(),
            quantity: it.quantity,
            unit_price: Decimal::money(it.unit_price, exp),
            contract_length: it.contract_length,
            list_price: Decimal::money_opt(it.list_price, exp),
            list_price_source: stored_enum(&it.list_price_source, OrderListPriceSource::parse)?,
            acquisition_cost: Decimal::money_opt(it.acquisition_cost, exp),
            acquisition_cost_source: stored_enum(
                &it.acquisition_cost_source,
                OrderAcquisitionCostSource::parse,
            )?,
            list_price_override: Decimal::money_opt(it.list_price_override, exp),
            acquisition_cost_override: Decimal::money_opt(it.acquisition_cost_override, exp),
            used_list_price_as_acquisition: it.used_list_price_as_acquisition.then_some(true),
            rental_ids,
            rental_status,
        })
    }
}

/// Monthly recurring totals of an order (SPEC §2.5 totals).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderTotals {
    /// Σ unit price × quantity, net of VAT, major units.
    pub subtotal: Decimal,
    /// VAT, major units (0 when VAT is disabled).
    pub tax_amount: Decimal,
    /// `subtotal + taxAmount`, major units.
    pub total: Decimal,
    /// The business unit's currency (ISO 4217).
    pub currency: String,
    /// Σ quantity.
    pub total_devices: i64,
}

/// Fulfilment progress of an order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalProgress {
    /// Σ quantity.
    pub total_devices: i64,
    /// Subscriptions created from the order.
    pub rented_devices: i64,
}

/// Payment state of an order (official shape; set by no `/v1` operation).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPayment {
    /// Payment status.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub status: Option<OrderPaymentStatus>,
    /// Payment method.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub method: Option<OrderPaymentMethod>,
    /// Provider transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub transaction_id: Option<String>,
    /// Amount paid, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub paid_amount: Option<Decimal>,
    /// Marked paid by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub manually_marked: Option<bool>,
}

/// Status of [`OrderPayment`].
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderPaymentStatus {
    /// Not paid yet.
    Pending,
    /// Paid.
    Paid,
    /// The charge failed.
    Failed,
}

/// Method of [`OrderPayment`].
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderPaymentMethod {
    /// Charged through Stripe.
    Stripe,
    /// Settled outside the platform.
    Manual,
}

/// The contract extension an `extension` order records (stored as validated by createOrder;
/// it changes no subscription).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionDetails {
    /// The order of the extended contract.
    pub original_order_id: String,
    /// Months added, at least 1.
    #[schema(minimum = 1)]
    pub extension_months: i64,
    /// End date before the extension, as sent.
    pub previous_end_date: String,
    /// End date after the extension, as sent.
    pub new_end_date: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

impl ExtensionDetails {
    /// Decodes stored extension details. Errors: 500 when they cannot be decoded.
    pub fn stored(text: &str) -> Result<Self, AppError> {
        serde_json::from_str(text).map_err(AppError::corrupt)
    }
}

/// The device change an `upgrade` order records (stored as validated by createOrder; it
/// changes no subscription).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeDetails {
    /// The device replaced, as named by the client.
    pub previous_device: String,
    /// Serial number of the device replaced.
    pub previous_serial_number: String,
    /// Monthly amount of the replaced subscription, major units.
    pub previous_monthly_amount: Decimal,
    /// The replaced subscription.
    pub previous_rental_id: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub upgrade_reason: Option<String>,
}

/// Stored upgrade details: the amount as a JSON number in major units.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredUpgrade {
    previous_device: String,
    previous_serial_number: String,
    previous_monthly_amount: serde_json::Number,
    previous_rental_id: String,
    #[serde(default)]
    upgrade_reason: Option<String>,
}

impl UpgradeDetails {
    /// Decodes stored upgrade details; the amount is read with the currency's `exp` decimals.
    /// Errors: 500 when they cannot be decoded.
    pub fn stored(text: &str, exp: u32) -> Result<Self, AppError> {
        let s: StoredUpgrade = serde_json::from_str(text).map_err(AppError::corrupt)?;
        let amount = parse_amount(&s.previous_monthly_amount.to_string(), exp)
            .map_err(|e| AppError::corrupt(format!("previousMonthlyAmount: {e:?}")))?;
        Ok(UpgradeDetails {
            previous_device: s.previous_device,
            previous_serial_number: s.previous_serial_number,
            previous_monthly_amount: Decimal::money(amount, exp),
            previous_rental_id: s.previous_rental_id,
            upgrade_reason: s.upgrade_reason,
        })
    }
}

list_envelope!(
    /// listOrders.
    OrderList,
    "orders",
    Order
);

/// createOrder: `{success, message, orderId, order}` (also the answer to a repeat within the
/// duplicate window, SPEC §1.12).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The order created (or the earlier identical one).
    pub order_id: String,
    /// The order as stored.
    pub order: Order,
}

/// updateOrderNotes and cancelOrder: `{success, message, orderId}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderChanged {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The order changed.
    pub order_id: String,
}
