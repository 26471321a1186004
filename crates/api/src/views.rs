//! JSON renderings of stored records in the OpenAPI shapes (SPEC §1.6 timestamps, §1.7 money in
//! major units with the currency's decimals). Optional fields that are unset are omitted.

use flexportal_app::AppError as DomainError;
use flexportal_app::TenantContext;
use flexportal_domain::money::{amount_json, percent_json};
use flexportal_domain::time::format_timestamp;
use flexportal_store::customers::CustomerRecord;
use flexportal_store::page::Page;
use flexportal_store::products::ProductRecord;
use flexportal_store::variants::VariantRecord;
use serde_json::{Map, Value, json};

fn put(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v);
    }
}

fn text(v: &Option<String>) -> Option<Value> {
    v.as_ref().map(|s| Value::String(s.clone()))
}

/// A stored JSON document. Errors: 500 when it cannot be decoded (never rendered as `null`).
fn json_text(v: &str) -> Result<Value, DomainError> {
    serde_json::from_str(v).map_err(DomainError::corrupt)
}

/// A list envelope `{<key>: [...], count, limit, hasMore, nextCursor}` (SPEC §1.8).
pub(crate) fn list<T>(
    key: &str,
    page: &Page<T>,
    limit: u64,
    cursor: impl Fn(&T) -> String,
    item: impl Fn(&T) -> Value,
) -> Value {
    let items: Vec<Value> = page.items.iter().map(item).collect();
    envelope(key, page, limit, cursor, items)
}

/// [`list`] for items whose rendering can fail (stored data that cannot be decoded).
pub(crate) fn try_list<T>(
    key: &str,
    page: &Page<T>,
    limit: u64,
    cursor: impl Fn(&T) -> String,
    item: impl Fn(&T) -> Result<Value, DomainError>,
) -> Result<Value, DomainError> {
    let items = page.items.iter().map(item).collect::<Result<Vec<_>, _>>()?;
    Ok(envelope(key, page, limit, cursor, items))
}

fn envelope<T>(
    key: &str,
    page: &Page<T>,
    limit: u64,
    cursor: impl Fn(&T) -> String,
    items: Vec<Value>,
) -> Value {
    let next = if page.has_more {
        page.items
            .last()
            .map(|t| Value::String(cursor(t)))
            .unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    let mut m = Map::new();
    m.insert("count".into(), json!(items.len()));
    m.insert(key.into(), Value::Array(items));
    m.insert("limit".into(), json!(limit));
    m.insert("hasMore".into(), json!(page.has_more));
    m.insert("nextCursor".into(), next);
    Value::Object(m)
}

/// A pricing tier list (money in major units).
fn pricing(ctx: &TenantContext, v: &VariantRecord) -> Result<Value, DomainError> {
    let exp = ctx.exponent();
    let tiers = v.tiers().map_err(DomainError::from)?;
    Ok(Value::Array(
        tiers
            .iter()
            .map(|t| -> Result<Value, DomainError> {
                let mut m = Map::new();
                m.insert("contractLength".into(), json!(t.contract_length));
                m.insert("monthlyPrice".into(), amount_json(t.monthly_price, exp));
                put(&mut m, "setupFee", t.setup_fee.map(|f| amount_json(f, exp)));
                if let Some(d) = &t.discount {
                    let value: i64 = d.value.parse().map_err(flexportal_app::corrupt)?;
                    let v = if d.kind == "fixed" {
                        amount_json(value, exp)
                    } else {
                        amount_json(value, 4)
                    };
                    let mut dm = Map::new();
                    dm.insert("type".into(), json!(d.kind));
                    dm.insert("value".into(), trim_number(v));
                    put(&mut dm, "description", text(&d.description));
                    m.insert("discount".into(), Value::Object(dm));
                }
                m.insert("source".into(), json!(t.source));
                put(&mut m, "calculatedAt", text(&t.calculated_at));
                put(&mut m, "presetUsed", text(&t.preset_used));
                Ok(Value::Object(m))
            })
            .collect::<Result<Vec<_>, _>>()?,
    ))
}

/// Drops trailing fractional zeros of a JSON number (`10.0000` → `10`).
pub(crate) fn trim_number(v: Value) -> Value {
    let s = v.to_string();
    if !s.contains('.') {
        return v;
    }
    let t = s.trim_end_matches('0').trim_end_matches('.');
    t.parse::<serde_json::Number>()
        .map(Value::Number)
        .unwrap_or(v)
}

/// A variant (OpenAPI variant shape plus `productName` on lists, SPEC §2.2).
pub(crate) fn variant(
    ctx: &TenantContext,
    v: &VariantRecord,
    product_sku: &str,
    product_name: Option<&str>,
) -> Result<Value, DomainError> {
    let exp = ctx.exponent();
    let mut m = Map::new();
    m.insert("variantId".into(), json!(v.variant_id));
    m.insert("tenantId".into(), json!(v.tenant_id));
    m.insert("productId".into(), json!(v.product_id));
    m.insert("productSku".into(), json!(product_sku));
    put(&mut m, "productName", product_name.map(|n| json!(n)));
    m.insert("variantSku".into(), json!(v.variant_sku));
    m.insert("variantName".into(), json!(v.variant_name));
    m.insert("grade".into(), json!(v.grade));
    put(&mut m, "condition", text(&v.condition));
    put(&mut m, "colorName", text(&v.color_name));
    m.insert("images".into(), json_text(&v.images)?);
    put(
        &mut m,
        "listPrice",
        v.list_price.map(|p| amount_json(p, exp)),
    );
    put(
        &mut m,
        "acquisitionCost",
        v.acquisition_cost.map(|p| amount_json(p, exp)),
    );
    if let (Some(list), Some(cost)) = (v.list_price, v.acquisition_cost) {
        // Margin % = (listPrice − acquisitionCost) ÷ listPrice × 100, 1 dp (SPEC §2.13).
        put(&mut m, "marginPercent", percent_json(list - cost, list, 1));
    }
    m.insert("pricing".into(), pricing(ctx, v)?);
    m.insert("status".into(), json!(v.status));
    m.insert("createdAt".into(), json!(format_timestamp(v.created_at)));
    m.insert("updatedAt".into(), json!(format_timestamp(v.updated_at)));
    Ok(Value::Object(m))
}

/// A product; `variants` embedded for getProduct, `variantCount` for lists.
pub(crate) fn product(
    p: &ProductRecord,
    variants: Option<Vec<Value>>,
    variant_count: Option<i64>,
) -> Result<Value, DomainError> {
    let mut m = Map::new();
    m.insert("productId".into(), json!(p.product_id));
    m.insert("tenantId".into(), json!(p.tenant_id));
    m.insert("productSku".into(), json!(p.product_sku));
    m.insert("name".into(), json!(p.name));
    m.insert("specification".into(), json!(p.specification));
    m.insert("category".into(), json!(p.category));
    m.insert("brand".into(), json!(p.brand));
    put(&mut m, "description", text(&p.description));
    m.insert("images".into(), json_text(&p.images)?);
    m.insert("status".into(), json!(p.status));
    m.insert(
        "_sync".into(),
        p.sync
            .as_deref()
            .map(json_text)
            .transpose()?
            .unwrap_or_else(|| json!({"source": "manual"})),
    );
    put(&mut m, "variants", variants.map(Value::Array));
    put(&mut m, "variantCount", variant_count.map(|c| json!(c)));
    m.insert("createdAt".into(), json!(format_timestamp(p.created_at)));
    m.insert("updatedAt".into(), json!(format_timestamp(p.updated_at)));
    Ok(Value::Object(m))
}

/// A customer with its server-maintained fields (SPEC §2.4). `order_ids` and `rental_ids` list
/// every order and subscription ever created for the customer.
pub(crate) fn customer(
    ctx: &TenantContext,
    c: &CustomerRecord,
    order_ids: &[String],
    rental_ids: &[String],
) -> Result<Value, DomainError> {
    let exp = ctx.exponent();
    let mut m = Map::new();
    m.insert("customerId".into(), json!(c.customer_id));
    m.insert("tenantId".into(), json!(c.tenant_id));
    m.insert("email".into(), json!(c.email));
    m.insert("firstName".into(), json!(c.first_name));
    m.insert("lastName".into(), json!(c.last_name));
    put(&mut m, "company", text(&c.company));
    put(&mut m, "phone", text(&c.phone));
    m.insert("customerType".into(), json!(c.customer_type));
    m.insert(
        "customFields".into(),
        c.custom_fields
            .as_deref()
            .map(json_text)
            .transpose()?
            .unwrap_or_else(|| json!({})),
    );
    m.insert("totalOrders".into(), json!(c.total_orders));
    m.insert("totalDevicesRented".into(), json!(c.total_devices_rented));
    m.insert(
        "totalMonthlyRevenue".into(),
        amount_json(c.total_monthly_revenue, exp),
    );
    m.insert("status".into(), json!(c.status));
    m.insert("orderIds".into(), json!(order_ids));
    m.insert("rentalIds".into(), json!(rental_ids));
    put(
        &mut m,
        "lastBillingAddress",
        c.last_billing_address
            .as_deref()
            .map(json_text)
            .transpose()?,
    );
    put(
        &mut m,
        "lastShippingAddress",
        c.last_shipping_address
            .as_deref()
            .map(json_text)
            .transpose()?,
    );
    m.insert("createdAt".into(), json!(format_timestamp(c.created_at)));
    m.insert("updatedAt".into(), json!(format_timestamp(c.updated_at)));
    m.insert("createdBy".into(), json!(c.created_by));
    m.insert(
        "lifetimeCollected".into(),
        amount_json(c.lifetime_collected, exp),
    );
    m.insert(
        "totalAcquisitionCost".into(),
        amount_json(c.total_acquisition_cost, exp),
    );
    m.insert(
        "customerMargin".into(),
        amount_json(c.lifetime_collected - c.total_acquisition_cost, exp),
    );
    put(
        &mut m,
        "customerMarginPercent",
        percent_json(
            c.lifetime_collected - c.total_acquisition_cost,
            c.total_acquisition_cost,
            2,
        ),
    );
    m.insert(
        "subscriptionsTracked".into(),
        json!(c.subscriptions_tracked),
    );
    Ok(Value::Object(m))
}
