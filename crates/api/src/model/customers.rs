//! Customers on the wire (SPEC §2.4; the official `Customer` shape plus the additive
//! `profitability` object of getCustomer), and the postal [`Address`] customers and orders share.

use flexportal_app::{AppError, TenantContext};
use flexportal_domain::status::{CustomerStatus, CustomerType};
use flexportal_store::customers::CustomerRecord;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{Decimal, Instant, SortDirection, list_envelope, stored_enum};

/// A postal address: a customer's last billing or shipping address, an order's billing or
/// shipping address, and the address objects of updateCustomer (SPEC §2.4). Stored as sent,
/// trimmed, with only these fields.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Addressee.
    pub contact_name: String,
    /// Company line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub company: Option<String>,
    /// Building, floor, suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub building_info: Option<String>,
    /// Street and number.
    pub street_address: String,
    /// District or neighbourhood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub locality: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub admin_area: Option<String>,
    /// Postal code (optional in the API); absent when none was given, `null` accepted on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country (name or code, as sent).
    pub country: String,
}

impl Address {
    /// Decodes a stored address. Errors: 500 when the stored document is not an address.
    pub fn stored(text: &str) -> Result<Self, AppError> {
        serde_json::from_str(text).map_err(AppError::corrupt)
    }

    /// Decodes an optional stored address.
    pub fn stored_opt(text: Option<&str>) -> Result<Option<Self>, AppError> {
        text.map(Address::stored).transpose()
    }
}

/// Decodes a stored custom-fields object. Errors: 500 when it is not a JSON object.
pub fn stored_custom_fields(text: &str) -> Result<Map<String, Value>, AppError> {
    serde_json::from_str(text).map_err(AppError::corrupt)
}

/// A customer with its server-maintained fields (SPEC §2.4).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// `cust_…` (with the business unit's id prefix, if any).
    pub customer_id: String,
    /// Business unit.
    pub tenant_id: String,
    /// Email as written; unique in the business unit, compared case-insensitively.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Company.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub company: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub phone: Option<String>,
    /// `individual` or `business`.
    pub customer_type: CustomerType,
    /// Customer-section custom fields (`{}` when none).
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    /// Orders ever created for the customer, any status.
    pub total_orders: i64,
    /// Subscriptions of the customer with status `active`.
    pub total_devices_rented: i64,
    /// Σ `monthlyAmount` of the active subscriptions, major units.
    pub total_monthly_revenue: Decimal,
    /// `active` or `inactive` (soft-deleted).
    pub status: CustomerStatus,
    /// Every order created for the customer, oldest first.
    pub order_ids: Vec<String>,
    /// Every subscription created for the customer, oldest first.
    pub rental_ids: Vec<String>,
    /// Billing address of the most recent order or of the latest updateCustomer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_billing_address: Option<Address>,
    /// Shipping address of the most recent order or of the latest updateCustomer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_shipping_address: Option<Address>,
    /// Creation instant.
    pub created_at: Instant,
    /// Last change.
    pub updated_at: Instant,
    /// Actor of the order that created the customer.
    pub created_by: String,
    /// Σ net amount of the customer's paid payments, major units (SPEC §2.4).
    pub lifetime_collected: Decimal,
    /// Σ acquisition cost captured by the customer's subscriptions, major units.
    pub total_acquisition_cost: Decimal,
    /// `lifetimeCollected − totalAcquisitionCost`, major units.
    pub customer_margin: Decimal,
    /// `customerMargin ÷ totalAcquisitionCost × 100`, 2 decimals; absent when the cost total
    /// is 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub customer_margin_percent: Option<Decimal>,
    /// Subscriptions counted in `totalAcquisitionCost`.
    pub subscriptions_tracked: i64,
    /// Cost recovery of the customer (getCustomer only; SPEC §2.4, additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub profitability: Option<CustomerProfitability>,
}

impl Customer {
    /// Renders a stored customer; `order_ids` and `rental_ids` list every order and
    /// subscription ever created for it. Errors: 500 when a stored status, type, address or
    /// custom-fields document cannot be decoded.
    pub fn new(
        ctx: &TenantContext,
        c: &CustomerRecord,
        order_ids: &[String],
        rental_ids: &[String],
    ) -> Result<Self, AppError> {
        let exp = ctx.exponent();
        let margin = c.lifetime_collected - c.total_acquisition_cost;
        Ok(Customer {
            customer_id: c.customer_id.clone(),
            tenant_id: c.tenant_id.clone(),
            email: c.email.clone(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            company: c.company.clone(),
            phone: c.phone.clone(),
            customer_type: stored_enum(&c.customer_type, CustomerType::parse)?,
            custom_fields: c
                .custom_fields
                .as_deref()
                .map(stored_custom_fields)
                .transpose()?
                .unwrap_or_default(),
            total_orders: c.total_orders,
            total_devices_rented: c.total_devices_rented,
            total_monthly_revenue: Decimal::money(c.total_monthly_revenue, exp),
            status: stored_enum(&c.status, CustomerStatus::parse)?,
            order_ids: order_ids.to_vec(),
            rental_ids: rental_ids.to_vec(),
            last_billing_address: Address::stored_opt(c.last_billing_address.as_deref())?,
            last_shipping_address: Address::stored_opt(c.last_shipping_address.as_deref())?,
            created_at: Instant(c.created_at),
            updated_at: Instant(c.updated_at),
            created_by: c.created_by.clone(),
            lifetime_collected: Decimal::money(c.lifetime_collected, exp),
            total_acquisition_cost: Decimal::money(c.total_acquisition_cost, exp),
            customer_margin: Decimal::money(margin, exp),
            customer_margin_percent: Decimal::percent(margin, c.total_acquisition_cost, 2),
            subscriptions_tracked: c.subscriptions_tracked,
            profitability: None,
        })
    }
}

/// The additive `profitability` object of getCustomer (SPEC §2.4).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerProfitability {
    /// Σ net amount of the customer's paid payments, major units.
    pub lifetime_collected: Decimal,
    /// Σ acquisition cost captured by the customer's subscriptions, major units.
    pub total_acquisition_cost: Decimal,
    /// `lifetimeCollected ÷ totalAcquisitionCost × 100`, 2 decimals; `null` when the cost total
    /// is 0.
    #[schema(required = true)]
    pub cost_recovery_percent: Option<Decimal>,
    /// `lifetimeCollected ÷` the calendar months from the first subscription's start month to
    /// the current month inclusive (at least 1), major units rounded half up to 2 decimals.
    pub average_monthly_revenue: Decimal,
    /// Every subscription ever created for the customer.
    pub total_devices_ever: usize,
    /// Subscriptions with status `active` (= `totalDevicesRented`).
    pub active_devices: i64,
}

impl CustomerProfitability {
    /// The profitability of a stored customer with `rentals_ever` subscriptions, the first of
    /// which started in `first_start` (`YYYY-MM-DD`), as of `today`.
    pub fn new(
        ctx: &TenantContext,
        c: &CustomerRecord,
        rentals_ever: usize,
        first_start: Option<&str>,
        today: jiff::civil::Date,
    ) -> Self {
        let exp = ctx.exponent();
        let months = first_start
            .and_then(|s| s.parse::<jiff::civil::Date>().ok())
            .map_or(1, |f| {
                (i64::from(today.year()) * 12 + i64::from(today.month()))
                    - (i64::from(f.year()) * 12 + i64::from(f.month()))
                    + 1
            })
            .max(1);
        let average = flexportal_domain::money::div_round_half_away(
            i128::from(c.lifetime_collected),
            i128::from(months),
        ) as i64;
        CustomerProfitability {
            lifetime_collected: Decimal::money(c.lifetime_collected, exp),
            total_acquisition_cost: Decimal::money(c.total_acquisition_cost, exp),
            cost_recovery_percent: Decimal::percent(
                c.lifetime_collected,
                c.total_acquisition_cost,
                2,
            ),
            average_monthly_revenue: Decimal::money(average, exp),
            total_devices_ever: rentals_ever,
            active_devices: c.total_devices_rented,
        }
    }
}

list_envelope!(
    /// listCustomers.
    CustomerList,
    "customers",
    Customer
);

/// updateCustomer: `{success, message, customerId, customer}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerUpdated {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The customer changed.
    pub customer_id: String,
    /// The customer as stored.
    pub customer: Customer,
}

/// deleteCustomer: `{success, message, customerId}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDeleted {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The customer now `inactive`.
    pub customer_id: String,
}

/// The body of updateCustomer: only the fields sent change; `null` or an empty text clears
/// `company` and `phone` (SPEC §2.4). Existing orders and subscriptions are never modified.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct UpdateCustomerBody {
    /// Optional; when sent it must equal the path's customer id (400 otherwise).
    pub customer_id: Option<String>,
    /// Non-empty.
    pub first_name: Option<String>,
    /// Non-empty.
    pub last_name: Option<String>,
    /// A valid email, unique in the business unit (409 `CUSTOMER_EMAIL_EXISTS`); SPEC §2.4
    /// addition.
    pub email: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// `individual` or `business`.
    pub customer_type: Option<CustomerType>,
    /// `inactive` applies the preconditions of deleteCustomer (409); `active` reactivates.
    pub status: Option<CustomerStatus>,
    /// Stored as `lastBillingAddress`.
    pub billing_address: Option<Address>,
    /// Stored as `lastShippingAddress`.
    pub shipping_address: Option<Address>,
    /// Customer-section custom fields, merged key by key into the stored ones (SPEC §2.4,
    /// additive).
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
}

/// Sort fields of listCustomers.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum CustomerSortBy {
    /// Creation instant (default).
    CreatedAt,
    /// First name.
    FirstName,
    /// Last name.
    LastName,
    /// Email.
    Email,
    /// Σ monthly amount of active subscriptions.
    TotalMonthlyRevenue,
    /// Active subscriptions.
    TotalDevicesRented,
}

/// Query parameters of listCustomers (SPEC §1.8, §1.9, §2.4). Empty values are absent.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CustomerListQuery {
    /// Items per page (default 50; larger values are clamped to 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor: the `nextCursor` of the previous page (a customer id).
    pub start_after: Option<String>,
    /// Exact status (default `active`: inactive customers are listed only when asked for).
    #[param(inline)]
    pub status: Option<CustomerStatus>,
    /// Exact customer type.
    #[param(inline)]
    pub customer_type: Option<CustomerType>,
    /// Exact email, compared case-insensitively.
    pub email: Option<String>,
    /// Only customers with (`true`) or without (`false`) an active subscription.
    pub has_active_rentals: Option<bool>,
    /// Sort field (default `createdAt`).
    #[param(inline)]
    pub sort_by: Option<CustomerSortBy>,
    /// Sort direction (default `desc`).
    #[param(inline)]
    pub sort_dir: Option<SortDirection>,
}
