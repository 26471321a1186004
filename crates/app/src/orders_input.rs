//! Validation of createOrder bodies (SPEC §2.5): every failing field collected with its path,
//! the result a typed [`OrderInput`].

use flexportal_domain::Detail;
use flexportal_domain::money::amount_json;
use flexportal_domain::status::CustomerType;
use serde_json::{Map, Value};

use crate::customers::{is_email, parse_address};
use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, Patch, body_object};
use crate::{AppError, AppResult, TenantContext, settings};

/// One validated item of a createOrder body.
pub struct ItemInput {
    pub(crate) index: usize,
    pub(crate) sku: String,
    pub(crate) quantity: i64,
    pub(crate) contract_length: Option<i64>,
    pub(crate) list_price_override: Option<i64>,
    pub(crate) acquisition_cost_override: Option<i64>,
}

/// The `customer` of a createOrder body.
pub struct CustomerInput {
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) company: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) customer_type: Option<CustomerType>,
}

/// A validated createOrder body (SPEC §2.5).
pub struct OrderInput {
    pub(crate) order_type: String,
    pub(crate) customer: CustomerInput,
    pub(crate) billing: Value,
    pub(crate) shipping: Option<Value>,
    pub(crate) items: Vec<ItemInput>,
    pub(crate) custom_fields: Option<Map<String, Value>>,
    pub(crate) notes: Option<String>,
    pub(crate) extension_details: Option<Value>,
    pub(crate) upgrade_details: Option<Value>,
}

/// Validates an address with `contactName` defaulting to the customer's full name.
fn address(
    v: &Value,
    path: &str,
    default_contact: &str,
    errors: &mut Vec<Detail>,
) -> Option<Value> {
    let mut v = v.clone();
    if let Some(obj) = v.as_object_mut()
        && obj
            .get("contactName")
            .is_none_or(|c| c.as_str().is_none_or(|s| s.trim().is_empty()))
        && !default_contact.trim().is_empty()
    {
        obj.insert(
            "contactName".into(),
            Value::String(default_contact.trim().to_string()),
        );
    }
    parse_address(&v, path, errors).and_then(|s| serde_json::from_str(&s).ok())
}

/// The object at `key`, or a failure when it is sent and not an object (`null` reads as absent).
fn details_object<'a>(f: &mut Fields<'a>, key: &str) -> Option<&'a Map<String, Value>> {
    match f.raw(key)? {
        Value::Object(obj) => Some(obj),
        _ => {
            f.fail(key, "invalid_type", "Expected an object");
            None
        }
    }
}

/// A required whole number ≥ 1.
fn req_positive_int(f: &mut Fields<'_>, key: &str) -> Option<i64> {
    match f.raw(key) {
        None => {
            f.fail(key, "required", "Required");
            None
        }
        Some(v) => match whole_number(v) {
            Some(n) if n >= 1 => Some(n),
            Some(_) => {
                f.fail(key, "too_small", "Must be at least 1");
                None
            }
            None => {
                f.fail(key, "invalid_type", "Expected an integer");
                None
            }
        },
    }
}

/// A JSON number with no fractional part (`24` or `24.0`) as an integer.
fn whole_number(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|x| x.fract() == 0.0 && x.abs() < 1e15)
            .map(|x| x as i64)
    })
}

/// `extensionDetails` (SPEC §2.5, fields and types per the OpenAPI): stored with only these
/// fields, texts trimmed.
fn extension_details(f: &mut Fields<'_>) -> Option<Value> {
    let obj = details_object(f, "extensionDetails")?;
    let mut d = Fields::new(obj, "extensionDetails", f.errors);
    let mut out = Map::new();
    for key in ["originalOrderId", "previousEndDate", "newEndDate"] {
        if let Some(s) = d.req_text(key, MAX_SHORT) {
            out.insert(key.into(), Value::String(s));
        }
    }
    if let Some(n) = req_positive_int(&mut d, "extensionMonths") {
        out.insert("extensionMonths".into(), Value::from(n));
    }
    if let Some(s) = d.opt_text("reason", MAX_LONG) {
        out.insert("reason".into(), Value::String(s));
    }
    Some(Value::Object(out))
}

/// `upgradeDetails` (SPEC §2.5, fields and types per the OpenAPI): stored with only these
/// fields, texts trimmed, `previousMonthlyAmount` in major units with the currency's decimals.
fn upgrade_details(f: &mut Fields<'_>, exp: u32) -> Option<Value> {
    let obj = details_object(f, "upgradeDetails")?;
    let mut d = Fields::new(obj, "upgradeDetails", f.errors);
    let mut out = Map::new();
    for key in ["previousDevice", "previousSerialNumber", "previousRentalId"] {
        if let Some(s) = d.req_text(key, MAX_SHORT) {
            out.insert(key.into(), Value::String(s));
        }
    }
    match d.money_patch("previousMonthlyAmount", exp) {
        Patch::Value(m) => {
            out.insert("previousMonthlyAmount".into(), amount_json(m, exp));
        }
        Patch::Absent if d.has("previousMonthlyAmount") => {}
        _ => d.fail("previousMonthlyAmount", "required", "Required"),
    }
    if let Some(s) = d.opt_text("upgradeReason", MAX_LONG) {
        out.insert("upgradeReason".into(), Value::String(s));
    }
    Some(Value::Object(out))
}

/// Validates a createOrder body, collecting every failing field. Errors: 400
/// `VALIDATION_ERROR`.
pub fn parse(ctx: &TenantContext, body: &Value) -> AppResult<OrderInput> {
    let obj = body_object(body)?;
    let exp = ctx.exponent();
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let order_type = f
        .opt_enum("orderType", "standard, extension, upgrade", |s| {
            matches!(s, "standard" | "extension" | "upgrade").then(|| s.to_string())
        })
        .unwrap_or_else(|| "standard".into());
    let extension_details = extension_details(&mut f);
    let upgrade_details = upgrade_details(&mut f, exp);
    let notes = f.opt_text("notes", MAX_LONG);
    let custom_fields = match obj.get("customFields") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            f.fail("customFields", "invalid_type", "Expected an object or null");
            None
        }
    };
    for id in settings::required_custom_fields(ctx, "order") {
        if custom_fields
            .as_ref()
            .is_none_or(|m| m.get(&id).is_none_or(|v| v.is_null() || v == ""))
        {
            f.fail(
                &format!("customFields.{id}"),
                "required",
                "Required custom field",
            );
        }
    }
    let customer = match obj.get("customer") {
        Some(Value::Object(c)) => {
            let mut cf = Fields::new(c, "customer", f.errors);
            let email = cf.req_text("email", MAX_SHORT);
            if let Some(e) = &email
                && !is_email(e)
            {
                cf.fail("email", "invalid_string", "Invalid email address");
            }
            let first_name = cf.req_text("firstName", MAX_SHORT);
            let last_name = cf.req_text("lastName", MAX_SHORT);
            let company = cf.opt_text("company", MAX_SHORT);
            let phone = cf.opt_text("phone", MAX_SHORT);
            let customer_type = cf.opt_enum(
                "customerType",
                &CustomerType::expected(),
                CustomerType::parse,
            );
            Some(CustomerInput {
                email: email.unwrap_or_default(),
                first_name: first_name.unwrap_or_default(),
                last_name: last_name.unwrap_or_default(),
                company,
                phone,
                customer_type,
            })
        }
        Some(_) => {
            f.fail("customer", "invalid_type", "Expected an object");
            None
        }
        None => {
            f.fail("customer", "required", "Required");
            None
        }
    };
    let contact = customer
        .as_ref()
        .map(|c| format!("{} {}", c.first_name, c.last_name))
        .unwrap_or_default();
    let billing = match obj.get("billingAddress") {
        None | Some(Value::Null) => {
            f.fail("billingAddress", "required", "Required");
            None
        }
        Some(v) => address(v, "billingAddress", &contact, f.errors),
    };
    let shipping = match obj.get("shippingAddress") {
        None | Some(Value::Null) => None,
        Some(v) => address(v, "shippingAddress", &contact, f.errors),
    };
    let (min_q, max_q) = settings::quantity_limits(ctx);
    let mut items = Vec::new();
    match obj.get("items") {
        Some(Value::Array(list)) if !list.is_empty() => {
            for (i, it) in list.iter().enumerate() {
                let path = format!("items[{i}]");
                let Some(io) = it.as_object() else {
                    f.fail(&path, "invalid_type", "Expected an item object");
                    continue;
                };
                let mut itf = Fields::new(io, path.clone(), f.errors);
                let sku = itf.req_text("sku", MAX_SHORT);
                let quantity = match io.get("quantity") {
                    Some(v) => match whole_number(v) {
                        Some(q)
                            if q >= 1
                                && min_q.is_none_or(|m| q >= m)
                                && max_q.is_none_or(|m| q <= m) =>
                        {
                            Some(q)
                        }
                        Some(_) => {
                            itf.fail(
                                "quantity",
                                "too_small",
                                "Quantity is outside the allowed range",
                            );
                            None
                        }
                        None => {
                            itf.fail("quantity", "invalid_type", "Quantity must be an integer");
                            None
                        }
                    },
                    None => {
                        itf.fail("quantity", "required", "Required");
                        None
                    }
                };
                let contract_length = match io.get("contractLength") {
                    None | Some(Value::Null) => None,
                    Some(v) => match whole_number(v) {
                        Some(n) => Some(n),
                        None => {
                            itf.fail(
                                "contractLength",
                                "invalid_type",
                                "Contract length must be an integer",
                            );
                            None
                        }
                    },
                };
                let list_price_override = itf.opt_money("listPriceOverride", exp);
                let acquisition_cost_override = itf.opt_money("acquisitionCostOverride", exp);
                if let (Some(sku), Some(quantity)) = (sku, quantity) {
                    items.push(ItemInput {
                        index: i,
                        sku,
                        quantity,
                        contract_length,
                        list_price_override,
                        acquisition_cost_override,
                    });
                }
            }
        }
        Some(Value::Array(_)) => f.fail("items", "too_small", "At least one item is required"),
        Some(_) => f.fail("items", "invalid_type", "Expected an array of items"),
        None => f.fail("items", "required", "Required"),
    }
    input::check(errors)?;
    let (Some(customer), Some(billing)) = (customer, billing) else {
        return Err(AppError::validation(Vec::new()));
    };
    Ok(OrderInput {
        order_type,
        customer,
        billing,
        shipping,
        items,
        custom_fields,
        notes,
        extension_details,
        upgrade_details,
    })
}
