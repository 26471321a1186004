//! Order request bodies and query parameters on the wire (SPEC §2.5), for the document only: the
//! use cases validate the JSON themselves and answer every failing field (SPEC §1.4).

use flexportal_domain::status::{CustomerType, OrderStatus};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::orders::{ExtensionDetails, OrderType, UpgradeDetails};
use super::{Decimal, SortDirection};

/// The body of createOrder (SPEC §2.5): the customer is found by email or created, every item
/// is priced from its variant's tier.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CreateOrderBody {
    /// `standard` (default); `extension` and `upgrade` are stored as records only.
    pub order_type: Option<OrderType>,
    /// Required fields as shown when the object is sent.
    pub extension_details: Option<ExtensionDetails>,
    /// Required fields as shown when the object is sent.
    pub upgrade_details: Option<UpgradeDetails>,
    /// The ordering customer.
    pub customer: OrderCustomerBody,
    /// Order-section custom fields; the business unit's required ones must be present.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
    /// Billing address.
    pub billing_address: OrderAddressBody,
    /// Shipping address; defaults to the billing address.
    pub shipping_address: Option<OrderAddressBody>,
    /// At least one item.
    #[schema(min_items = 1)]
    pub items: Vec<OrderItemBody>,
    /// Free text, at most 5 000 characters.
    pub notes: Option<String>,
}

/// The `customer` of a createOrder body: with an unknown email a customer is created; with a
/// known one its empty profile fields are filled (400 `CUSTOMER_INACTIVE` when it is inactive).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct OrderCustomerBody {
    /// A valid email; the customer's key, compared case-insensitively.
    #[schema(format = Email)]
    pub email: String,
    /// Non-empty.
    pub first_name: String,
    /// Non-empty.
    pub last_name: String,
    /// Company.
    pub company: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// `individual` (default) or `business`.
    pub customer_type: Option<CustomerType>,
}

/// An address of a createOrder body: `streetAddress`, `city` and `country` required;
/// `contactName` defaults to the customer's `firstName lastName` (SPEC §2.5).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct OrderAddressBody {
    /// Addressee; defaults to the customer's full name.
    pub contact_name: Option<String>,
    /// Company line.
    pub company: Option<String>,
    /// Building, floor, suite.
    pub building_info: Option<String>,
    /// Street and number.
    pub street_address: String,
    /// District or neighbourhood.
    pub locality: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    pub admin_area: Option<String>,
    /// Postal code (optional).
    pub postal_code: Option<String>,
    /// Country.
    pub country: String,
}

/// One item of a createOrder body.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct OrderItemBody {
    /// SKU of an active variant of an active product (400 `VARIANT_NOT_FOUND`,
    /// `VARIANT_INACTIVE`).
    #[schema(min_length = 1)]
    pub sku: String,
    /// Units, at least 1 (and within the business unit's order-form limits).
    #[schema(minimum = 1)]
    pub quantity: i64,
    /// Months: a whole number for which the variant has a pricing tier (400
    /// `INVALID_CONTRACT_LENGTH`); defaults to the business unit's default length when the
    /// variant has that tier, else the variant's shortest tier.
    #[schema(value_type = Option<f64>)]
    pub contract_length: Option<i64>,
    /// List price per unit, major units (SPEC §2.5, additive); `listPriceSource` becomes
    /// `manual`.
    pub list_price_override: Option<Decimal>,
    /// Acquisition cost per unit, major units (SPEC §2.5, additive); `acquisitionCostSource`
    /// becomes `manual`.
    pub acquisition_cost_override: Option<Decimal>,
}

/// The body of updateOrderNotes: replaces the notes (an empty text clears them).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UpdateOrderNotesBody {
    /// At most 5 000 characters.
    #[schema(max_length = 5000)]
    pub notes: String,
}

/// The optional body of cancelOrder (no body, an empty body and `{}` are the same).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct CancelOrderBody {
    /// Why the order is cancelled; stored as `cancellationReason`. At most 1 000 characters.
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// Sort fields of listOrders.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub enum OrderSortBy {
    /// Creation instant (default).
    #[serde(rename = "createdAt")]
    CreatedAt,
    /// Last change.
    #[serde(rename = "updatedAt")]
    UpdatedAt,
    /// Order id.
    #[serde(rename = "orderId")]
    OrderId,
    /// Status.
    #[serde(rename = "status")]
    Status,
    /// `totals.total` (`total` is accepted as an alias).
    #[serde(rename = "totals.total")]
    TotalsTotal,
}

/// Query parameters of listOrders (SPEC §1.8, §1.9, §2.5). Empty values are absent.
/// `customField_<fieldId>=<value>` (any number of them) matches orders whose custom field
/// `fieldId` equals the value exactly.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct OrderListQuery {
    /// Items per page (default 50; larger values are clamped to 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor: the `nextCursor` of the previous page (an order id).
    pub start_after: Option<String>,
    /// Exact status.
    #[param(inline)]
    pub status: Option<OrderStatus>,
    /// Exact customer id.
    pub customer_id: Option<String>,
    /// Sort field (default `createdAt`).
    #[param(inline)]
    pub sort_by: Option<OrderSortBy>,
    /// Sort direction (default `desc`).
    #[param(inline)]
    pub sort_dir: Option<SortDirection>,
}
