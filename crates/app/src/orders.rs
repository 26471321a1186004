//! Orders (SPEC §2.5): checkout with pricing, tax and customer resolution; reads, notes, cancel.

use std::collections::HashMap;

use crate::AppError;
use flexportal_domain::ids::prefix;
use flexportal_domain::money::{checked_sum, line_amount};
use flexportal_domain::pricing::{tier_for, unit_price};
use flexportal_domain::status::{CustomerType, OrderStatus, ProductStatus, VariantStatus};
use flexportal_domain::tax::apply_tax;
use flexportal_store::Conn;
use flexportal_store::customers::{self, CounterDelta, CustomerRecord};
use flexportal_store::orders::{self, OrderFilter, OrderRecord, OrderSort};
use flexportal_store::page::Page;
use flexportal_store::subscriptions;
use flexportal_store::variants;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::input::{self, Fields, MAX_LONG, body_object};
use crate::list::{self, Query};
pub use crate::orders_input::{CustomerInput, ItemInput, OrderInput, parse};
use crate::{App, AppResult, TenantContext, settings};

/// Seconds within which an identical order is answered with the earlier one (SPEC §1.12).
pub const DUPLICATE_WINDOW_MS: i64 = 60_000;

/// One order item as stored (money in minor units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    /// Variant SKU.
    pub sku: String,
    /// Product.
    pub product_id: String,
    /// Variant.
    pub variant_id: String,
    /// Display name.
    pub product_name: String,
    /// Image.
    pub product_image_url: Option<String>,
    /// Units.
    pub quantity: i64,
    /// Monthly price per unit after discount, minor units.
    pub unit_price: i64,
    /// Months.
    pub contract_length: i64,
    /// List price, minor units.
    pub list_price: Option<i64>,
    /// `variant`, `manual`, `unknown`.
    pub list_price_source: String,
    /// Acquisition cost, minor units.
    pub acquisition_cost: Option<i64>,
    /// `variant`, `manual`, `list_price`, `unknown`.
    pub acquisition_cost_source: String,
    /// List price override sent, minor units.
    pub list_price_override: Option<i64>,
    /// Acquisition cost override sent, minor units.
    pub acquisition_cost_override: Option<i64>,
    /// Only a list price was known and it stands in for the cost.
    pub used_list_price_as_acquisition: bool,
    /// One-off setup fee per unit of the tier at order time, minor units.
    pub setup_fee: Option<i64>,
}

/// The items of a stored order. Errors: 500 when the stored items cannot be decoded.
pub fn items_of(o: &OrderRecord) -> AppResult<Vec<OrderItem>> {
    serde_json::from_str(&o.items).map_err(AppError::corrupt)
}

/// An order with the subscriptions created from it: `(rentalId, itemIndex)`.
#[derive(Debug, Clone)]
pub struct OrderView {
    /// The order.
    pub order: OrderRecord,
    /// Its items.
    pub items: Vec<OrderItem>,
    /// Subscriptions created from it, oldest first, with the item index each fulfils.
    pub rentals: Vec<(String, i64)>,
}

async fn resolve_items(
    tx: &mut Conn,
    ctx: &TenantContext,
    inputs: &[ItemInput],
) -> AppResult<Vec<OrderItem>> {
    let mut out = Vec::new();
    for it in inputs {
        let v = variants::get_with_product_for_share(tx, &ctx.tenant_id, &it.sku)
            .await?
            .ok_or_else(|| {
                AppError::bad_request(
                    "VARIANT_NOT_FOUND",
                    format!("items[{}]: no variant with SKU {}", it.index, it.sku),
                )
            })?;
        if v.variant.status != VariantStatus::Active.as_str()
            || v.product_status != ProductStatus::Active.as_str()
        {
            return Err(AppError::bad_request(
                "VARIANT_INACTIVE",
                format!(
                    "items[{}]: variant {} or its product is not active",
                    it.index, it.sku
                ),
            ));
        }
        let tiers = v.variant.tiers()?;
        let tier = match it.contract_length {
            Some(len) => tier_for(&tiers, len).ok_or_else(|| {
                AppError::bad_request(
                    "INVALID_CONTRACT_LENGTH",
                    format!(
                        "items[{}]: variant {} has no {len}-month pricing tier",
                        it.index, it.sku
                    ),
                )
            })?,
            None => tier_for(&tiers, settings::default_contract_length(ctx))
                .or_else(|| tiers.iter().min_by_key(|t| t.contract_length))
                .ok_or_else(|| {
                    AppError::bad_request(
                        "INVALID_CONTRACT_LENGTH",
                        format!("variant {} has no pricing tier", it.sku),
                    )
                })?,
        };
        let (list_price, list_price_source) = match (it.list_price_override, v.variant.list_price) {
            (Some(p), _) => (Some(p), "manual"),
            (None, Some(p)) => (Some(p), "variant"),
            _ => (None, "unknown"),
        };
        let (acquisition_cost, acquisition_cost_source, used_list) = match (
            it.acquisition_cost_override,
            v.variant.acquisition_cost,
            list_price,
        ) {
            (Some(c), _, _) => (Some(c), "manual", false),
            (None, Some(c), _) => (Some(c), "variant", false),
            (None, None, Some(p)) => (Some(p), "list_price", true),
            _ => (None, "unknown", false),
        };
        out.push(OrderItem {
            sku: v.variant.variant_sku.clone(),
            product_id: v.variant.product_id.clone(),
            variant_id: v.variant.variant_id.clone(),
            product_name: crate::assets::product_name(&v.product_name, &v.variant.variant_name),
            product_image_url: crate::assets::image_url(&v)?,
            quantity: it.quantity,
            unit_price: unit_price(tier).map_err(crate::corrupt)?,
            contract_length: tier.contract_length,
            list_price,
            list_price_source: list_price_source.into(),
            acquisition_cost,
            acquisition_cost_source: acquisition_cost_source.into(),
            list_price_override: it.list_price_override,
            acquisition_cost_override: it.acquisition_cost_override,
            used_list_price_as_acquisition: used_list,
            setup_fee: tier.setup_fee.filter(|f| *f > 0),
        });
    }
    Ok(out)
}

fn dedupe_key(email: &str, items: &[OrderItem]) -> String {
    let mut parts: Vec<String> = items
        .iter()
        .map(|i| format!("{}:{}:{}", i.sku, i.quantity, i.contract_length))
        .collect();
    parts.sort();
    format!("{}|{}", customers::email_key(email), parts.join(","))
}

/// Order totals (SPEC §2.5): `(subtotal, taxAmount, total)` in minor units, every product and
/// sum checked. Errors: 400 `VALIDATION_ERROR` at `items[i].quantity` when a line (unit price ×
/// quantity) exceeds [`flexportal_domain::money::MAX_AMOUNT`], at `items` when the sum or the
/// total with tax does.
pub fn totals(items: &[OrderItem], vat: settings::Vat) -> AppResult<(i64, i64, i64)> {
    let lines = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            line_amount(it.unit_price, it.quantity)
                .map_err(|_| crate::overflow(format!("items[{i}].quantity")))
        })
        .collect::<AppResult<Vec<i64>>>()?;
    let gross = checked_sum(lines)
        .ok()
        .filter(|g| *g <= flexportal_domain::money::MAX_AMOUNT)
        .ok_or_else(|| crate::overflow("items"))?;
    let a = apply_tax(gross, vat.rate_bp, vat.inclusive)
        .ok()
        .filter(|a| a.total <= flexportal_domain::money::MAX_AMOUNT)
        .ok_or_else(|| crate::overflow("items"))?;
    Ok((a.subtotal, a.tax_amount, a.total))
}

fn fill(slot: &mut Option<String>, v: &Option<String>) {
    if slot.as_deref().is_none_or(str::is_empty) {
        slot.clone_from(v);
    }
}

/// Finds the customer of an order by email (any case), creating it when absent, and locks it
/// for the rest of the transaction: concurrent orders of one email serialise here, so exactly one
/// customer is created and the duplicate-order check below sees the earlier order.
/// Errors: 400 `CUSTOMER_INACTIVE`.
async fn lock_customer(
    tx: &mut Conn,
    ctx: &TenantContext,
    input: &OrderInput,
    now: i64,
) -> AppResult<(CustomerRecord, bool)> {
    let c = &input.customer;
    let fresh = CustomerRecord {
        tenant_id: ctx.tenant_id.clone(),
        customer_id: settings::prefixed_id(ctx, prefix::CUSTOMER, now),
        email: c.email.clone(),
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        company: c.company.clone(),
        phone: c.phone.clone(),
        customer_type: c
            .customer_type
            .unwrap_or(CustomerType::Individual)
            .as_str()
            .into(),
        status: "active".into(),
        last_billing_address: Some(input.billing.to_string()),
        last_shipping_address: Some(shipping_of(input).to_string()),
        created_by: ctx.actor.user_id.clone(),
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    let created = customers::insert_if_absent(tx, &fresh).await?;
    let customer = customers::get_by_email_for_update(tx, &ctx.tenant_id, &c.email)
        .await?
        .ok_or_else(|| AppError::Internal(format!("customer {} vanished", c.email)))?;
    if customer.status == "inactive" {
        return Err(AppError::bad_request(
            "CUSTOMER_INACTIVE",
            "The customer with this email is inactive",
        ));
    }
    Ok((customer, created))
}

fn shipping_of(input: &OrderInput) -> &Value {
    input.shipping.as_ref().unwrap_or(&input.billing)
}

/// createOrder in an open transaction (SPEC §2.5): prices the items, resolves and locks the
/// customer (created on first order), answers a repeat within 60 s of a still-pending identical
/// order with that order (SPEC §1.12), else stores the order and counts it on the customer.
/// Errors: 400 `VALIDATION_ERROR` (totals that do not fit), `VARIANT_NOT_FOUND`,
/// `VARIANT_INACTIVE`, `INVALID_CONTRACT_LENGTH`, `CUSTOMER_INACTIVE`.
pub async fn create_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    input: &OrderInput,
    now: i64,
) -> AppResult<OrderView> {
    let items = resolve_items(tx, ctx, &input.items).await?;
    let (subtotal, tax_amount, total) = totals(&items, settings::vat(ctx))?;
    let total_devices =
        checked_sum(items.iter().map(|i| i.quantity)).map_err(|_| crate::overflow("items"))?;
    let (mut customer, created) = lock_customer(tx, ctx, input, now).await?;
    let key = dedupe_key(&input.customer.email, &items);
    if let Some(prev) =
        orders::recent_duplicate(tx, &ctx.tenant_id, &key, now - DUPLICATE_WINDOW_MS).await?
        && prev.status == "pending"
        && prev.rented_devices == 0
    {
        return view_in(tx, ctx, prev).await;
    }
    let c = &input.customer;
    let billing_json = input.billing.to_string();
    let shipping_json = shipping_of(input).to_string();
    if !created {
        fill(&mut customer.company, &c.company);
        fill(&mut customer.phone, &c.phone);
        customer.last_billing_address = Some(billing_json.clone());
        customer.last_shipping_address = Some(shipping_json.clone());
        customer.updated_at = now;
        customers::update(tx, &customer).await?;
    }
    let snapshot = serde_json::json!({
        "customerId": customer.customer_id,
        "email": c.email,
        "firstName": c.first_name,
        "lastName": c.last_name,
        "company": c.company,
        "phone": c.phone,
        "customerType": c.customer_type.map(|t| t.as_str()).unwrap_or(customer.customer_type.as_str()),
    });
    let order = OrderRecord {
        tenant_id: ctx.tenant_id.clone(),
        order_id: settings::prefixed_id(ctx, prefix::ORDER, now),
        status: "pending".into(),
        order_type: input.order_type.clone(),
        customer_id: customer.customer_id.clone(),
        customer_snapshot: snapshot.to_string(),
        billing_address: billing_json,
        shipping_address: shipping_json,
        items: serde_json::to_string(&items).map_err(AppError::corrupt)?,
        subtotal,
        tax_amount,
        total,
        currency: ctx.currency.code().to_string(),
        total_devices,
        rented_devices: 0,
        custom_fields: input
            .custom_fields
            .clone()
            .map(|m| Value::Object(m).to_string()),
        notes: input.notes.clone(),
        extension_details: input.extension_details.as_ref().map(Value::to_string),
        upgrade_details: input.upgrade_details.as_ref().map(Value::to_string),
        dedupe_key: key,
        cancellation_reason: None,
        cancelled_at: None,
        created_by: ctx.actor.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    orders::insert(tx, &order).await?;
    let delta = CounterDelta {
        orders: 1,
        ..Default::default()
    };
    customers::add_counters(tx, &ctx.tenant_id, &customer.customer_id, delta, now).await?;
    crate::events::order_created(tx, ctx, &order, now);
    Ok(OrderView {
        order,
        items,
        rentals: Vec::new(),
    })
}

/// An order that a lifecycle action creates for an existing rental (SPEC §2.6.5: the upgrade
/// order of upgradeSubscription, the tracking order of an extension): one unit of `item`, the
/// customer, snapshot, addresses and custom fields of the rental's `original` order, the
/// upgrade or extension details, inserted with the customer's order count raised. Errors: 400
/// `VALIDATION_ERROR` when the totals do not fit.
pub async fn insert_for_rental(
    tx: &mut Conn,
    ctx: &TenantContext,
    original: &OrderRecord,
    item: OrderItem,
    kind: RentalOrder,
    notes: Option<String>,
    now: i64,
) -> AppResult<OrderRecord> {
    let items = vec![item];
    let (subtotal, tax_amount, total) = totals(&items, settings::vat(ctx))?;
    let (order_type, status, rented, extension_details, upgrade_details) = match kind {
        RentalOrder::Upgrade(d) => (
            "upgrade",
            OrderStatus::Pending,
            0,
            None,
            Some(d.to_string()),
        ),
        RentalOrder::Extension(d) => (
            "extension",
            OrderStatus::Fulfilled,
            1,
            Some(d.to_string()),
            None,
        ),
    };
    let order = OrderRecord {
        tenant_id: ctx.tenant_id.clone(),
        order_id: settings::prefixed_id(ctx, prefix::ORDER, now),
        status: status.as_str().into(),
        order_type: order_type.into(),
        customer_id: original.customer_id.clone(),
        customer_snapshot: original.customer_snapshot.clone(),
        billing_address: original.billing_address.clone(),
        shipping_address: original.shipping_address.clone(),
        items: serde_json::to_string(&items).map_err(AppError::corrupt)?,
        subtotal,
        tax_amount,
        total,
        currency: ctx.currency.code().to_string(),
        total_devices: 1,
        rented_devices: rented,
        custom_fields: original.custom_fields.clone(),
        notes,
        extension_details,
        upgrade_details,
        dedupe_key: format!("{order_type}|{}|{now}", original.order_id),
        cancellation_reason: None,
        cancelled_at: None,
        created_by: ctx.actor.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    orders::insert(tx, &order).await?;
    let delta = CounterDelta {
        orders: 1,
        ..Default::default()
    };
    customers::add_counters(tx, &ctx.tenant_id, &order.customer_id, delta, now).await?;
    crate::events::order_created(tx, ctx, &order, now);
    Ok(order)
}

/// The kind of an order created for an existing rental, with its details document.
#[derive(Debug, Clone)]
pub enum RentalOrder {
    /// `orderType: "upgrade"`, `pending` until fulfilled; `upgradeDetails`.
    Upgrade(Value),
    /// `orderType: "extension"`, `fulfilled` at once; `extensionDetails` (with the `rentalId`
    /// it tracks, so the order lists that subscription).
    Extension(Value),
}

/// The subscriptions an order lists: those created from it, or, for an extension tracking
/// order, the subscription it extended.
pub async fn rentals_of(
    c: &mut Conn,
    ctx: &TenantContext,
    order: &OrderRecord,
) -> AppResult<Vec<(String, i64)>> {
    if order.order_type == "extension"
        && let Some(d) = &order.extension_details
        && let Ok(v) = serde_json::from_str::<Value>(d)
        && let Some(id) = v["rentalId"].as_str()
    {
        return Ok(vec![(id.to_string(), 0)]);
    }
    Ok(subscriptions::for_order(c, &ctx.tenant_id, &order.order_id).await?)
}

/// createOrder (SPEC §2.5) in its own transaction, retried when a concurrent one wins. Errors:
/// those of [`parse`] and [`create_in`].
pub async fn create(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<OrderView> {
    let input = parse(ctx, body)?;
    crate::transact!(app, |tx| create_in(tx, ctx, &input, app.now()))
}

/// An order with its items and the subscriptions created from it, read on `c`.
pub async fn view_in(
    c: &mut Conn,
    ctx: &TenantContext,
    order: OrderRecord,
) -> AppResult<OrderView> {
    let rentals = rentals_of(c, ctx, &order).await?;
    Ok(OrderView {
        items: items_of(&order)?,
        order,
        rentals,
    })
}

/// getOrder. Errors: 404 `NOT_FOUND`.
pub async fn get(app: &App, ctx: &TenantContext, id: &str) -> AppResult<OrderView> {
    let mut c = app.db.read().await?;
    let order = orders::get(&mut c, &ctx.tenant_id, id, false)
        .await?
        .ok_or_else(|| AppError::not_found("Order"))?;
    view_in(&mut c, ctx, order).await
}

/// updateOrderNotes: `{notes}` required, ≤ 5 000 characters, replaces (empty clears). Errors:
/// 404 `NOT_FOUND`, 400 `VALIDATION_ERROR`.
pub async fn update_notes(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<OrderRecord> {
    crate::transact!(app, |tx| update_notes_in(tx, ctx, id, body, app.now()))
}

/// updateOrderNotes in an open transaction, the order locked. Errors: as [`update_notes`].
pub async fn update_notes_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<OrderRecord> {
    let mut o = orders::get(tx, &ctx.tenant_id, id, true)
        .await?
        .ok_or_else(|| AppError::not_found("Order"))?;
    o.notes = required_notes(body)?;
    o.updated_at = now;
    orders::update(tx, &o).await?;
    Ok(o)
}

/// Reads `{notes}`: a required string of at most 5 000 characters; empty clears.
pub fn required_notes(body: &Value) -> AppResult<Option<String>> {
    let obj = body_object(body)?;
    match obj.get("notes") {
        Some(Value::String(s)) if s.chars().count() <= MAX_LONG => {
            Ok(Some(s.clone()).filter(|s| !s.trim().is_empty()))
        }
        Some(Value::String(_)) => Err(AppError::field(
            "notes",
            "too_big",
            "Notes are limited to 5000 characters",
        )),
        Some(_) => Err(AppError::field(
            "notes",
            "invalid_type",
            "Expected a string",
        )),
        None => Err(AppError::field("notes", "required", "Required")),
    }
}

/// cancelOrder (SPEC §2.5): optional `{reason}` ≤ 1 000 characters. Errors: 404 `NOT_FOUND`,
/// 400 `VALIDATION_ERROR`, 400 `ALREADY_CANCELLED`, 400 `ORDER_NOT_CANCELLABLE`.
pub async fn cancel(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<OrderRecord> {
    crate::transact!(app, |tx| cancel_in(tx, ctx, id, body, app.now()))
}

/// cancelOrder in an open transaction, the order locked (a concurrent fulfilment either
/// completes first, and the order is no longer cancellable, or finds it cancelled). Errors: as
/// [`cancel`].
pub async fn cancel_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<OrderRecord> {
    let mut o = orders::get(tx, &ctx.tenant_id, id, true)
        .await?
        .ok_or_else(|| AppError::not_found("Order"))?;
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let reason = Fields::new(obj, "", &mut errors).opt_text("reason", 1_000);
    input::check(errors)?;
    let status = OrderStatus::parse(&o.status)
        .ok_or_else(|| AppError::corrupt(format!("order status {:?}", o.status)))?;
    let next = status.cancel().map_err(|code| {
        let message = match code {
            "ALREADY_CANCELLED" => "The order is already cancelled",
            _ => "Subscriptions exist for this order; cancel them individually",
        };
        AppError::bad_request(code, message)
    })?;
    o.status = next.as_str().into();
    o.cancellation_reason = reason;
    o.cancelled_at = Some(now);
    o.updated_at = now;
    orders::update(tx, &o).await?;
    if o.order_type == "upgrade" {
        crate::upgrades::order_cancelled(tx, ctx, &o, now).await?;
    }
    Ok(o)
}

/// listOrders (SPEC §2.5): filters `status`, `customerId`, `customField_<id>`; sorts
/// `createdAt`, `updatedAt`, `orderId`, `status`, `totals.total`.
pub async fn list(app: &App, ctx: &TenantContext, q: &Query) -> AppResult<(Page<OrderView>, u64)> {
    let params = list::parse(
        q,
        50,
        100,
        OrderSort::parse,
        "createdAt, updatedAt, orderId, status, totals.total",
    )?;
    let filter = OrderFilter {
        status: list::enum_filter(
            q,
            "status",
            |s| {
                matches!(
                    s,
                    "pending" | "confirmed" | "partial" | "fulfilled" | "cancelled"
                )
                .then(|| s.to_string())
            },
            "pending, confirmed, partial, fulfilled, cancelled",
        )?,
        customer_id: list::text_filter(q, "customerId"),
    };
    let custom: HashMap<String, String> = q
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("customField_")
                .map(|id| (id.to_string(), v.clone()))
        })
        .collect();
    let mut c = app.db.read().await?;
    let conn = &mut c;
    let mut after = list::resolve_cursor(&params.start_after, |id| async move {
        orders::cursor(conn, &ctx.tenant_id, &id, params.sort).await
    })
    .await?;
    // Custom fields are matched after the indexed filters: read on until the page is full.
    let mut items = Vec::new();
    let mut has_more;
    loop {
        let page = orders::list(
            &mut c,
            &ctx.tenant_id,
            &filter,
            params.sort,
            params.dir,
            after.clone(),
            params.limit,
        )
        .await?;
        has_more = page.has_more;
        let last = page.items.last().map(|o| o.order_id.clone());
        for o in page.items {
            if items.len() as u64 == params.limit {
                has_more = true;
                break;
            }
            if custom_matches(&o, &custom)? {
                items.push(o);
            }
        }
        if custom.is_empty() || items.len() as u64 == params.limit || !page.has_more {
            break;
        }
        let Some(last) = last else { break };
        after = orders::cursor(&mut c, &ctx.tenant_id, &last, params.sort).await?;
    }
    let mut views = Vec::with_capacity(items.len());
    for o in items {
        let rentals = rentals_of(&mut c, ctx, &o).await?;
        views.push(OrderView {
            items: items_of(&o)?,
            order: o,
            rentals,
        });
    }
    Ok((
        Page {
            items: views,
            has_more,
        },
        params.limit,
    ))
}

fn custom_matches(o: &OrderRecord, custom: &HashMap<String, String>) -> AppResult<bool> {
    if custom.is_empty() {
        return Ok(true);
    }
    let fields: Map<String, Value> = match o.custom_fields.as_deref() {
        Some(text) => serde_json::from_str(text).map_err(AppError::corrupt)?,
        None => Map::new(),
    };
    Ok(custom.iter().all(|(k, v)| match fields.get(k) {
        Some(Value::String(s)) => s == v,
        Some(Value::Number(n)) => n.as_str() == v,
        Some(Value::Bool(b)) => v == if *b { "true" } else { "false" },
        _ => false,
    }))
}

/// Whether any open order (`pending`, `confirmed`, `partial`) still has unfulfilled units of one
/// of these SKUs (SPEC §2.2 `VARIANT_IN_USE`, `PRODUCT_HAS_ACTIVE_ORDERS`).
pub async fn skus_have_open_units(
    tx: &mut Conn,
    tenant_id: &str,
    skus: &[String],
) -> AppResult<bool> {
    if skus.is_empty() {
        return Ok(false);
    }
    for o in orders::open_orders(tx, tenant_id).await? {
        let items = items_of(&o)?;
        if !items.iter().any(|i| skus.contains(&i.sku)) {
            continue;
        }
        let rentals = subscriptions::for_order(tx, tenant_id, &o.order_id).await?;
        for (idx, item) in items.iter().enumerate() {
            let done = rentals.iter().filter(|(_, i)| *i == idx as i64).count() as i64;
            if skus.contains(&item.sku) && done < item.quantity {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
#[path = "orders_tests.rs"]
mod tests;
