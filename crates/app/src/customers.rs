//! Customers (SPEC §2.4): created by orders; read, listed, updated and soft-deleted here.

use flexportal_domain::DomainError;
use flexportal_domain::status::{CustomerStatus, CustomerType};
use flexportal_store::customers::{self, CustomerFilter, CustomerRecord, CustomerSort};
use flexportal_store::page::Page;
use serde_json::{Map, Value};

use crate::input::{self, Fields, MAX_SHORT, Patch, body_object};
use crate::list::{self, Query};
use crate::{App, AppResult, StoreResultExt, TenantContext};

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
    let mut c = app.db.read().await.or_500()?;
    customers::get(&mut c, &ctx.tenant_id, id)
        .await
        .or_500()?
        .ok_or_else(|| DomainError::not_found("Customer"))
}

/// The deactivation preconditions (SPEC §2.4): no active subscription
/// (`CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS`), then no open order (`CUSTOMER_HAS_PENDING_ORDERS`).
/// The customer's counters hold both facts: active subscriptions are `total_devices_rented`.
fn check_can_deactivate(c: &CustomerRecord, open_orders: i64) -> AppResult<()> {
    if c.total_devices_rented > 0 {
        return Err(DomainError::conflict(
            "CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS",
            "The customer has active subscriptions",
        ));
    }
    if open_orders > 0 {
        return Err(DomainError::conflict(
            "CUSTOMER_HAS_PENDING_ORDERS",
            "The customer has pending, confirmed or partially fulfilled orders",
        ));
    }
    Ok(())
}

/// Orders of the customer in `pending`, `confirmed` or `partial`.
async fn open_orders(tx: &mut flexportal_store::Conn, c: &CustomerRecord) -> AppResult<i64> {
    flexportal_store::orders::open_count_for_customer(tx, &c.tenant_id, &c.customer_id)
        .await
        .or_500()
}

/// The ids of every order and every subscription ever created for the customer, oldest first
/// (`orderIds`, `rentalIds`).
pub async fn history(
    app: &App,
    ctx: &TenantContext,
    customer_id: &str,
) -> AppResult<(Vec<String>, Vec<String>)> {
    let mut c = app.db.read().await.or_500()?;
    let orders = flexportal_store::orders::ids_for_customer(&mut c, &ctx.tenant_id, customer_id)
        .await
        .or_500()?;
    let rentals =
        flexportal_store::subscriptions::ids_for_customer(&mut c, &ctx.tenant_id, customer_id)
            .await
            .or_500()?;
    Ok((orders, rentals))
}

/// updateCustomer: partial update (SPEC §2.4). Errors: 404 `NOT_FOUND`, 400 `VALIDATION_ERROR`,
/// 409 `CUSTOMER_EMAIL_EXISTS`, 409 `CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS` /
/// `CUSTOMER_HAS_PENDING_ORDERS` when deactivating.
pub async fn update(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<CustomerRecord> {
    let mut tx = app.db.begin().await.or_500()?;
    let mut c = customers::get(&mut tx, &ctx.tenant_id, id)
        .await
        .or_500()?
        .ok_or_else(|| DomainError::not_found("Customer"))?;
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    f.must_equal("customerId", &c.customer_id);
    let first = f.text_patch("firstName", MAX_SHORT, true);
    let last = f.text_patch("lastName", MAX_SHORT, true);
    let email = f.text_patch("email", MAX_SHORT, true);
    if let Patch::Value(e) = &email
        && !is_email(e)
    {
        f.fail("email", "invalid_string", "Invalid email address");
    }
    let company = f.text_patch("company", MAX_SHORT, false);
    let phone = f.text_patch("phone", MAX_SHORT, false);
    let ctype = f.opt_enum(
        "customerType",
        &CustomerType::expected(),
        CustomerType::parse,
    );
    let status = f.opt_enum("status", &CustomerStatus::expected(), CustomerStatus::parse);
    let billing = f.raw("billingAddress").cloned();
    let shipping = f.raw("shippingAddress").cloned();
    let custom = f.raw("customFields").cloned();
    if custom.as_ref().is_some_and(|v| !v.is_object()) {
        f.fail("customFields", "invalid_type", "Expected an object");
    }
    let billing = billing.and_then(|v| parse_address(&v, "billingAddress", &mut errors));
    let shipping = shipping.and_then(|v| parse_address(&v, "shippingAddress", &mut errors));
    input::check(errors)?;
    if status == Some(CustomerStatus::Inactive) && c.status != CustomerStatus::Inactive.as_str() {
        check_can_deactivate(&c, open_orders(&mut tx, &c).await?)?;
    }
    if let Some(v) = first.value() {
        c.first_name = v;
    }
    if let Some(v) = last.value() {
        c.last_name = v;
    }
    if let Some(v) = email.value() {
        c.email = v;
    }
    c.company = company.apply(c.company.take());
    c.phone = phone.apply(c.phone.take());
    if let Some(t) = ctype {
        c.customer_type = t.as_str().to_string();
    }
    if let Some(s) = status {
        c.status = s.as_str().to_string();
    }
    if billing.is_some() {
        c.last_billing_address = billing;
    }
    if shipping.is_some() {
        c.last_shipping_address = shipping;
    }
    if let Some(Value::Object(m)) = custom {
        let mut merged: Map<String, Value> = c
            .custom_fields
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        merged.extend(m);
        c.custom_fields = Some(Value::Object(merged).to_string());
    }
    c.updated_at = app.now();
    customers::update(&mut tx, &c).await.map_err(|e| {
        if e.is_unique() {
            DomainError::conflict(
                "CUSTOMER_EMAIL_EXISTS",
                "Another customer already has this email",
            )
        } else {
            crate::internal(e)
        }
    })?;
    tx.commit().await.or_500()?;
    Ok(c)
}

/// deleteCustomer: soft delete to `inactive`; repeating it is fine (SPEC §2.4). Errors: 404
/// `NOT_FOUND`, 409 `CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS`, 409 `CUSTOMER_HAS_PENDING_ORDERS`.
pub async fn delete(app: &App, ctx: &TenantContext, id: &str) -> AppResult<CustomerRecord> {
    let mut tx = app.db.begin().await.or_500()?;
    let mut c = customers::get(&mut tx, &ctx.tenant_id, id)
        .await
        .or_500()?
        .ok_or_else(|| DomainError::not_found("Customer"))?;
    if c.status != CustomerStatus::Inactive.as_str() {
        check_can_deactivate(&c, open_orders(&mut tx, &c).await?)?;
        c.status = CustomerStatus::Inactive.as_str().to_string();
        c.updated_at = app.now();
        customers::update(&mut tx, &c).await.or_500()?;
    }
    tx.commit().await.or_500()?;
    Ok(c)
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
    let mut c = app.db.read().await.or_500()?;
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
    .await
    .or_500()?;
    Ok((page, params.limit))
}
