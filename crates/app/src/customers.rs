//! Customers (SPEC §2.4): created by orders; read, listed, updated and soft-deleted here.

use crate::AppError;
use flexportal_domain::status::{CustomerStatus, CustomerType};
use flexportal_store::Conn;
use flexportal_store::customers::{self, CustomerFilter, CustomerRecord, CustomerSort};
use flexportal_store::page::Page;
use serde_json::{Map, Value};

use crate::input::{self, Fields, MAX_SHORT, Patch, body_object};
use crate::list::{self, Query};
use crate::{App, AppResult, TenantContext};

/// Whether a text looks like an email address (one `@`, a dot in the domain, no spaces).
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && s.len() <= 254
}

/// Validates an address object (SPEC §2.4: `contactName`, `streetAddress`, `city`, `country`
/// required) and returns it as stored JSON text with only the known fields.
pub fn parse_address(
    v: &Value,
    path: &str,
    errors: &mut Vec<flexportal_domain::Detail>,
) -> Option<String> {
    let Some(obj) = v.as_object() else {
        errors.push(flexportal_domain::Detail::new(
            path,
            "invalid_type",
            "Expected an address object",
        ));
        return None;
    };
    let mut f = Fields::new(obj, path, errors);
    let mut out = Map::new();
    for key in ["contactName", "streetAddress", "city", "country"] {
        if let Some(s) = f.req_text(key, MAX_SHORT) {
            out.insert(key.into(), Value::String(s));
        }
    }
    for key in [
        "company",
        "buildingInfo",
        "locality",
        "adminArea",
        "postalCode",
    ] {
        if let Some(s) = f.opt_text(key, MAX_SHORT) {
            out.insert(key.into(), Value::String(s));
        }
    }
    Some(Value::Object(out).to_string())
}

/// getCustomer (any status). Errors: 404 `NOT_FOUND`.
pub async fn get(app: &App, ctx: &TenantContext, id: &str) -> AppResult<CustomerRecord> {
    let mut c = app.db.read().await?;
    customers::get(&mut c, &ctx.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Customer"))
}

/// The deactivation preconditions (SPEC §2.4): no active subscription
/// (`CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS`), then no open order (`CUSTOMER_HAS_PENDING_ORDERS`).
/// The customer's counters hold both facts: active subscriptions are `total_devices_rented`.
fn check_can_deactivate(c: &CustomerRecord, open_orders: i64) -> AppResult<()> {
    if c.total_devices_rented > 0 {
        return Err(AppError::conflict(
            "CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS",
            "The customer has active subscriptions",
        ));
    }
    if open_orders > 0 {
        return Err(AppError::conflict(
            "CUSTOMER_HAS_PENDING_ORDERS",
            "The customer has pending, confirmed or partially fulfilled orders",
        ));
    }
    Ok(())
}

/// Orders of the customer in `pending`, `confirmed` or `partial`.
async fn open_orders(tx: &mut Conn, c: &CustomerRecord) -> AppResult<i64> {
    flexportal_store::orders::open_count_for_customer(tx, &c.tenant_id, &c.customer_id)
        .await
        .map_err(AppError::from)
}

/// The ids of every order and every subscription ever created for the customer, oldest first
/// (`orderIds`, `rentalIds`).
pub async fn history(
    app: &App,
    ctx: &TenantContext,
    customer_id: &str,
) -> AppResult<(Vec<String>, Vec<String>)> {
    let mut c = app.db.read().await?;
    let orders =
        flexportal_store::orders::ids_for_customer(&mut c, &ctx.tenant_id, customer_id).await?;
    let rentals =
        flexportal_store::subscriptions::ids_for_customer(&mut c, &ctx.tenant_id, customer_id)
            .await?;
    Ok((orders, rentals))
}

/// The start date (`YYYY-MM-DD`) of the customer's earliest subscription, if any (SPEC §2.4
/// `averageMonthlyRevenue`).
pub async fn first_rental_start(
    app: &App,
    ctx: &TenantContext,
    customer_id: &str,
) -> AppResult<Option<String>> {
    let mut c = app.db.read().await?;
    Ok(flexportal_store::subscriptions::first_start(&mut c, &ctx.tenant_id, customer_id).await?)
}

/// The fields of an updateCustomer body, validated (SPEC §2.4); what was not sent is kept.
#[derive(Debug, Clone, Default)]
pub struct CustomerPatch {
    first_name: Patch<String>,
    last_name: Patch<String>,
    email: Patch<String>,
    company: Patch<String>,
    phone: Patch<String>,
    customer_type: Option<CustomerType>,
    status: Option<CustomerStatus>,
    billing_address: Option<String>,
    shipping_address: Option<String>,
    custom_fields: Option<Map<String, Value>>,
}

/// Validates an updateCustomer body for the customer `id`, collecting every failing field.
/// Errors: 400 `VALIDATION_ERROR`.
pub fn parse_patch(id: &str, body: &Value) -> AppResult<CustomerPatch> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    f.must_equal("customerId", id);
    let first_name = f.text_patch("firstName", MAX_SHORT, true);
    let last_name = f.text_patch("lastName", MAX_SHORT, true);
    let email = f.text_patch("email", MAX_SHORT, true);
    if let Patch::Value(e) = &email
        && !is_email(e)
    {
        f.fail("email", "invalid_string", "Invalid email address");
    }
    let company = f.text_patch("company", MAX_SHORT, false);
    let phone = f.text_patch("phone", MAX_SHORT, false);
    let customer_type = f.opt_enum(
        "customerType",
        &CustomerType::expected(),
        CustomerType::parse,
    );
    let status = f.opt_enum("status", &CustomerStatus::expected(), CustomerStatus::parse);
    let billing = f.raw("billingAddress").cloned();
    let shipping = f.raw("shippingAddress").cloned();
    let custom = f.raw("customFields").cloned();
    let custom_fields = match custom {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            f.fail("customFields", "invalid_type", "Expected an object");
            None
        }
    };
    let billing_address = billing.and_then(|v| parse_address(&v, "billingAddress", &mut errors));
    let shipping_address = shipping.and_then(|v| parse_address(&v, "shippingAddress", &mut errors));
    input::check(errors)?;
    Ok(CustomerPatch {
        first_name,
        last_name,
        email,
        company,
        phone,
        customer_type,
        status,
        billing_address,
        shipping_address,
        custom_fields,
    })
}

/// updateCustomer in an open transaction: locks the customer, applies the patch (custom fields
/// merged key by key) and writes it. Errors: 404 `NOT_FOUND`, 409 `CUSTOMER_EMAIL_EXISTS`,
/// 409 `CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS` / `CUSTOMER_HAS_PENDING_ORDERS` when deactivating.
pub async fn update_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    patch: &CustomerPatch,
    now: i64,
) -> AppResult<CustomerRecord> {
    let mut c = customers::get_for_update(tx, &ctx.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Customer"))?;
    if patch.status == Some(CustomerStatus::Inactive)
        && c.status != CustomerStatus::Inactive.as_str()
    {
        check_can_deactivate(&c, open_orders(tx, &c).await?)?;
    }
    if let Some(v) = patch.first_name.clone().value() {
        c.first_name = v;
    }
    if let Some(v) = patch.last_name.clone().value() {
        c.last_name = v;
    }
    if let Some(v) = patch.email.clone().value() {
        c.email = v;
    }
    c.company = patch.company.clone().apply(c.company.take());
    c.phone = patch.phone.clone().apply(c.phone.take());
    if let Some(t) = patch.customer_type {
        c.customer_type = t.as_str().to_string();
    }
    if let Some(s) = patch.status {
        c.status = s.as_str().to_string();
    }
    if patch.billing_address.is_some() {
        c.last_billing_address.clone_from(&patch.billing_address);
    }
    if patch.shipping_address.is_some() {
        c.last_shipping_address.clone_from(&patch.shipping_address);
    }
    if let Some(m) = &patch.custom_fields {
        let mut merged: Map<String, Value> = match c.custom_fields.as_deref() {
            Some(text) => serde_json::from_str(text).map_err(AppError::corrupt)?,
            None => Map::new(),
        };
        merged.extend(m.clone());
        c.custom_fields = Some(Value::Object(merged).to_string());
    }
    c.updated_at = now;
    customers::update(tx, &c).await.map_err(|e| {
        if e.is_unique() {
            AppError::conflict(
                "CUSTOMER_EMAIL_EXISTS",
                "Another customer already has this email",
            )
        } else {
            AppError::from(e)
        }
    })?;
    Ok(c)
}

/// updateCustomer: partial update (SPEC §2.4) in its own transaction, retried when a concurrent
/// one wins. Errors: those of [`parse_patch`] and [`update_in`].
pub async fn update(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<CustomerRecord> {
    let patch = parse_patch(id, body)?;
    crate::transact!(app, |tx| update_in(tx, ctx, id, &patch, app.now()))
}

/// deleteCustomer in an open transaction: soft delete to `inactive`; repeating it is fine
/// (SPEC §2.4). Errors: 404 `NOT_FOUND`, 409 `CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS`,
/// 409 `CUSTOMER_HAS_PENDING_ORDERS`.
pub async fn delete_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    now: i64,
) -> AppResult<CustomerRecord> {
    let mut c = customers::get_for_update(tx, &ctx.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Customer"))?;
    if c.status != CustomerStatus::Inactive.as_str() {
        check_can_deactivate(&c, open_orders(tx, &c).await?)?;
        c.status = CustomerStatus::Inactive.as_str().to_string();
        c.updated_at = now;
        customers::update(tx, &c).await?;
    }
    Ok(c)
}

/// deleteCustomer in its own transaction. Errors: those of [`delete_in`].
pub async fn delete(app: &App, ctx: &TenantContext, id: &str) -> AppResult<CustomerRecord> {
    crate::transact!(app, |tx| delete_in(tx, ctx, id, app.now()))
}

/// listCustomers (SPEC §2.4): `status` (default `active`), `customerType`, `email` (exact, any
/// case), `hasActiveRentals`; sorts `createdAt`, `firstName`, `lastName`, `email`,
/// `totalMonthlyRevenue`, `totalDevicesRented`.
pub async fn list(
    app: &App,
    ctx: &TenantContext,
    q: &Query,
) -> AppResult<(Page<CustomerRecord>, u64)> {
    let params = list::parse(
        q,
        50,
        100,
        CustomerSort::parse,
        "createdAt, firstName, lastName, email, totalMonthlyRevenue, totalDevicesRented",
    )?;
    let filter = CustomerFilter {
        status: list::enum_filter(
            q,
            "status",
            CustomerStatus::parse,
            &CustomerStatus::expected(),
        )?
        .unwrap_or(CustomerStatus::Active)
        .as_str()
        .to_string(),
        customer_type: list::enum_filter(
            q,
            "customerType",
            CustomerType::parse,
            &CustomerType::expected(),
        )?
        .map(|t| t.as_str().to_string()),
        email: list::text_filter(q, "email"),
        has_active_rentals: list::bool_filter(q, "hasActiveRentals")?,
    };
    let mut c = app.db.read().await?;
    let conn = &mut c;
    let after = list::resolve_cursor(&params.start_after, |id| async move {
        customers::cursor(conn, &ctx.tenant_id, &id, params.sort).await
    })
    .await?;
    let page = customers::list(
        &mut c,
        &ctx.tenant_id,
        &filter,
        params.sort,
        params.dir,
        after,
        params.limit,
    )
    .await?;
    Ok((page, params.limit))
}
