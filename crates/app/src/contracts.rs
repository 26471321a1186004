//! Contract PDFs (SPEC §2.9 "generateContract") and the business unit's contract templates.
//!
//! A template is text with `{{placeholders}}` ([`PLACEHOLDERS`], and `{{customFields.<id>}}` for
//! the order's custom fields); `{{items}}` stands on a line of its own and becomes one line per
//! order item. A line starting with `# ` is a heading. Without `templateId` the unit's template
//! named after the contract type (`order`, `extension`, `upgrade`) is used when it exists, else
//! the built-in default of that type ([`default_template`]). Money is written in major units with
//! the currency's decimals.

use std::collections::HashMap;

use flexportal_domain::money::format_amount;
use flexportal_domain::time::today_in;
use flexportal_store::Conn;
use flexportal_store::contract_jobs::{self, ContractJobRecord};
use flexportal_store::contract_templates::{self, TemplateRecord};
use flexportal_store::orders::{self, OrderRecord};
use object_store::ObjectStore;
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};
use crate::files::{self, Action, SignedUrl};
use crate::input::{Fields, body_object, check};
use crate::orders::items_of;
use crate::{App, TenantContext, lifecycle};

/// Contract types.
pub const CONTRACT_TYPES: [&str; 3] = ["order", "extension", "upgrade"];

/// The placeholders a template may use (besides `{{customFields.<id>}}`).
pub const PLACEHOLDERS: &[&str] = &[
    "business.name",
    "currency",
    "today",
    "contract.type",
    "contract.months",
    "order.id",
    "order.type",
    "order.date",
    "order.notes",
    "customer.id",
    "customer.name",
    "customer.firstName",
    "customer.lastName",
    "customer.company",
    "customer.email",
    "customer.phone",
    "billingAddress",
    "shippingAddress",
    "items",
    "totals.monthly",
    "totals.contract",
    "payment.termsDays",
];

const BODY: &str = "\
{{business.name}}

Customer
{{customer.name}}
{{customer.company}}
{{customer.email}}   {{customer.phone}}
Billing address: {{billingAddress}}
Shipping address: {{shippingAddress}}

Order {{order.id}} of {{order.date}}

# Rented devices
{{items}}

# Billing terms
Monthly total: {{totals.monthly}} {{currency}}, charged monthly in advance from the start of each rental.
Total over the contract: {{totals.contract}} {{currency}}.
Payment terms: {{payment.termsDays}} days from each billing date.

# Duration and conditions
Each device is rented for the contract length shown beside it ({{contract.months}} months at most),
starting on the day it is handed over. The devices remain the property of {{business.name}}.
The customer keeps them in good condition and returns them at the end of the contract unless
they are bought out. Ending a rental early may incur an early-return fee.

Signed on {{today}}

______________________________          ______________________________
{{business.name}}                        {{customer.name}}
";

/// The built-in template of a contract type.
pub fn default_template(contract_type: &str) -> String {
    let title = match contract_type {
        "extension" => "# Contract extension",
        "upgrade" => "# Upgrade contract",
        _ => "# Rental contract",
    };
    format!("{title}\n{BODY}")
}

/// The placeholders of `body` that are neither in [`PLACEHOLDERS`] nor `customFields.<id>`.
pub fn unknown_placeholders(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push(after.chars().take(30).collect());
            break;
        };
        let name = after[..end].trim();
        if !PLACEHOLDERS.contains(&name) && !name.starts_with("customFields.") {
            out.push(name.to_string());
        }
        rest = &after[end + 2..];
    }
    out
}

/// Fills a template: `{{items}}` on its own line becomes `items` lines; other placeholders their
/// value (empty when unknown); a line that held only placeholders and came out empty is dropped.
pub fn fill(body: &str, values: &HashMap<String, String>, items: &[String]) -> String {
    let mut out = String::new();
    for line in body.lines() {
        if line.trim() == "{{items}}" {
            for item in items {
                out.push_str(item);
                out.push('\n');
            }
            continue;
        }
        let mut text = String::new();
        let mut rest = line;
        let mut had_placeholder = false;
        while let Some(start) = rest.find("{{") {
            text.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find("}}") {
                Some(end) => {
                    had_placeholder = true;
                    let name = after[..end].trim();
                    text.push_str(values.get(name).map(String::as_str).unwrap_or(""));
                    rest = &after[end + 2..];
                }
                None => {
                    text.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        text.push_str(rest);
        if had_placeholder && text.trim().is_empty() {
            continue;
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

fn address_line(json: &str) -> String {
    let v: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    [
        "streetAddress",
        "streetAddress2",
        "postalCode",
        "city",
        "state",
        "country",
    ]
    .iter()
    .filter_map(|k| v.get(*k).and_then(Value::as_str))
    .filter(|s| !s.trim().is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

/// The text of the contract for `order` (the template filled with the order's, customer's,
/// items' and pricing fields).
async fn contract_text(
    c: &mut flexportal_store::Conn,
    app: &App,
    ctx: &TenantContext,
    order: &OrderRecord,
    contract_type: &str,
    template: &str,
) -> AppResult<String> {
    let exp = ctx.exponent();
    let cur = ctx.currency.code().to_string();
    let items = items_of(order)?;
    let customer: Value =
        serde_json::from_str(&order.customer_snapshot).map_err(AppError::corrupt)?;
    let text = |k: &str| {
        customer
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let business = flexportal_store::tenants::get(c, &ctx.tenant_id)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let overflow = || AppError::field("items", "too_big", "Order amounts overflow");
    let mut monthly: i64 = 0;
    let mut whole: i64 = 0;
    let mut lines = Vec::new();
    for it in &items {
        let line_monthly = it
            .unit_price
            .checked_mul(it.quantity)
            .ok_or_else(overflow)?;
        monthly = monthly.checked_add(line_monthly).ok_or_else(overflow)?;
        whole = line_monthly
            .checked_mul(it.contract_length)
            .and_then(|v| whole.checked_add(v))
            .ok_or_else(overflow)?;
        lines.push(format!(
            "- {} x {} ({}): {} {cur} per month each, {} months",
            it.quantity,
            it.product_name,
            it.sku,
            format_amount(it.unit_price, exp),
            it.contract_length
        ));
    }
    let terms = lifecycle::customer_terms_days(c, ctx, &order.customer_id).await?;
    let created = flexportal_domain::time::today_in(&ctx.time_zone, order.created_at);
    let mut values: HashMap<String, String> = [
        ("business.name", business),
        ("currency", cur.clone()),
        ("today", today_in(&ctx.time_zone, app.now()).to_string()),
        ("contract.type", contract_type.to_string()),
        (
            "contract.months",
            items
                .iter()
                .map(|i| i.contract_length)
                .max()
                .unwrap_or(0)
                .to_string(),
        ),
        ("order.id", order.order_id.clone()),
        ("order.type", order.order_type.clone()),
        ("order.date", created.to_string()),
        ("order.notes", order.notes.clone().unwrap_or_default()),
        ("customer.id", order.customer_id.clone()),
        (
            "customer.name",
            format!("{} {}", text("firstName"), text("lastName"))
                .trim()
                .to_string(),
        ),
        ("customer.firstName", text("firstName")),
        ("customer.lastName", text("lastName")),
        ("customer.company", text("company")),
        ("customer.email", text("email")),
        ("customer.phone", text("phone")),
        ("billingAddress", address_line(&order.billing_address)),
        ("shippingAddress", address_line(&order.shipping_address)),
        ("totals.monthly", format_amount(monthly, exp)),
        ("totals.contract", format_amount(whole, exp)),
        ("payment.termsDays", terms.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(Value::Object(fields)) = order
        .custom_fields
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
    {
        for (k, v) in fields {
            let v = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            values.insert(format!("customFields.{k}"), v);
        }
    }
    Ok(fill(template, &values, &lines))
}

/// generateContract (SPEC §2.9): `orderId` (required), `contractType` (`order`, `extension`,
/// `upgrade`; default from the order's type), `templateId`. Stores the PDF as a new file
/// `contract-<orderId>.pdf` linked to the order (each call a new file) and returns it with a
/// 60-minute download URL. Errors: 400 `VALIDATION_ERROR`, 400 `ORDER_NOT_FOUND`, 400
/// `TEMPLATE_NOT_FOUND`.
pub async fn generate(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<SignedUrl> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let order_id = f.req_text("orderId", 200);
    let contract_type = f.opt_enum("contractType", "order, extension, upgrade", |s| {
        CONTRACT_TYPES.contains(&s).then(|| s.to_string())
    });
    let template_id = f.opt_text("templateId", 100);
    check(errors)?;
    let order_id = order_id.unwrap_or_default();
    let mut c = app.db.read().await?;
    let order = orders::get(&mut c, &ctx.tenant_id, &order_id, false)
        .await?
        .ok_or_else(|| AppError::bad_request("ORDER_NOT_FOUND", "Order not found"))?;
    let contract_type = contract_type.unwrap_or_else(|| default_type(&order).to_string());
    let pdf = render(
        &mut c,
        app,
        ctx,
        &order,
        &contract_type,
        template_id.as_deref(),
    )
    .await?;
    drop(c);
    let mut metadata = Map::new();
    if let Some(t) = &template_id {
        metadata.insert("templateId".into(), Value::from(t.clone()));
    }
    let file = store(app, ctx, &order, &contract_type, metadata, None, pdf).await?;
    files::signed_url(app, file, Action::Download, 60).await
}

/// The contract type an order calls for: `extension` and `upgrade` orders their own, every
/// other order `order`.
pub fn default_type(order: &OrderRecord) -> &'static str {
    match order.order_type.as_str() {
        "extension" => "extension",
        "upgrade" => "upgrade",
        _ => "order",
    }
}

/// The PDF of `order`'s contract of `contract_type`: with the unit's template `template_id`,
/// else the unit's template named after the type, else the built-in one. Errors: 400
/// `TEMPLATE_NOT_FOUND` for an unknown `template_id`; 500 when the PDF cannot be made.
pub async fn render(
    c: &mut Conn,
    app: &App,
    ctx: &TenantContext,
    order: &OrderRecord,
    contract_type: &str,
    template_id: Option<&str>,
) -> AppResult<Vec<u8>> {
    let template = match template_id {
        Some(id) => {
            contract_templates::get(c, &ctx.tenant_id, id)
                .await?
                .ok_or_else(|| {
                    AppError::bad_request("TEMPLATE_NOT_FOUND", format!("No template {id}"))
                })?
                .body
        }
        None => contract_templates::get(c, &ctx.tenant_id, contract_type)
            .await?
            .map(|t| t.body)
            .unwrap_or_else(|| default_template(contract_type)),
    };
    let text = contract_text(c, app, ctx, order, contract_type, &template).await?;
    crate::contract_pdf::render(&format!("Contract {}", order.order_id), &text)
        .map_err(|e| AppError::Internal(format!("contract PDF: {e}")))
}

/// Stores a contract PDF of `order` and records it as a generated `contract` file
/// `contract-<orderId>.pdf` linked to the order, with `metadata` plus `customerId` and
/// `contractType`; under a new file id, or for an automatic contract's `job` (taken by this
/// worker) under the job's file id, its job marked done in the same transaction (a retry
/// writes the same object again). The object is written before the transaction that records it
/// (a slow storage does not hold SQLite's writer). Errors:
/// 409 `CONFLICT` when the job's lease was lost to another worker; storage failures.
pub async fn store(
    app: &App,
    ctx: &TenantContext,
    order: &OrderRecord,
    contract_type: &str,
    mut metadata: Map<String, Value>,
    job: Option<&ContractJobRecord>,
    pdf: Vec<u8>,
) -> AppResult<flexportal_store::files::FileRecord> {
    metadata.insert("customerId".into(), Value::from(order.customer_id.clone()));
    metadata.insert("contractType".into(), Value::from(contract_type));
    // The content is written before the transaction that records it, so a slow storage does not
    // hold SQLite's one writer; the object's key is the file's own, unused until the record
    // commits.
    let file_id = match job {
        Some(j) => j.file_id.clone(),
        None => flexportal_domain::ids::new_id("file", app.now()),
    };
    let filename = files::safe_filename(&format!("contract-{}.pdf", order.order_id));
    let path = files::storage_path(&ctx.tenant_id, &file_id, &filename);
    let size = pdf.len() as i64;
    app.files
        .store()
        .put(&object_store::path::Path::from(path.as_str()), pdf.into())
        .await
        .map_err(crate::files::storage_error)?;
    let mut tx = app.begin().await?;
    let file = files::create_record(
        &mut tx,
        app,
        ctx,
        files::NewFile {
            order: Some(order),
            file_type: "contract",
            category: "generated",
            filename: &filename,
            content_type: "application/pdf",
            metadata,
            file_size: size,
            file_id: Some(&file_id),
        },
    )
    .await?;
    debug_assert_eq!(file.storage_path, path);
    if let Some(j) = job
        && !contract_jobs::finish(&mut tx, j, app.now()).await?
    {
        return Err(AppError::conflict(
            "CONFLICT",
            "The contract job was taken by another worker",
        ));
    }
    tx.commit().await?;
    Ok(file)
}

/// Sets the unit's template `template_id` for `contract_type` (as `flexportal tenants templates
/// set`). Errors: 400 `VALIDATION_ERROR` for an unknown contract type, an empty body, an id that
/// is not `[A-Za-z0-9_-]{1,100}`, or unknown placeholders (named in the message).
pub async fn set_template(
    app: &App,
    tenant_id: &str,
    template_id: &str,
    contract_type: &str,
    body: &str,
) -> AppResult<TemplateRecord> {
    let id_ok = !template_id.is_empty()
        && template_id.len() <= 100
        && template_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !id_ok {
        return Err(AppError::field(
            "templateId",
            "invalid_string",
            "Expected [A-Za-z0-9_-]{1,100}",
        ));
    }
    if !CONTRACT_TYPES.contains(&contract_type) {
        return Err(AppError::field(
            "contractType",
            "invalid_enum_value",
            "contractType must be one of: order, extension, upgrade",
        ));
    }
    if body.trim().is_empty() || body.len() > 100_000 {
        return Err(AppError::field(
            "body",
            "invalid_string",
            "A template is 1 to 100,000 bytes",
        ));
    }
    let unknown = unknown_placeholders(body);
    if !unknown.is_empty() {
        return Err(AppError::field(
            "body",
            "invalid_string",
            format!(
                "Unknown placeholders: {}; known: {}, customFields.<id>",
                unknown.join(", "),
                PLACEHOLDERS.join(", ")
            ),
        ));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if flexportal_store::tenants::get(&mut tx, tenant_id)
        .await?
        .is_none()
    {
        return Err(AppError::not_found("Business unit"));
    }
    let created_at = contract_templates::get(&mut tx, tenant_id, template_id)
        .await?
        .map(|t| t.created_at)
        .unwrap_or(now);
    let t = TemplateRecord {
        tenant_id: tenant_id.to_string(),
        template_id: template_id.to_string(),
        contract_type: contract_type.to_string(),
        body: body.to_string(),
        created_at,
        updated_at: now,
    };
    contract_templates::upsert(&mut tx, &t).await?;
    tx.commit().await?;
    Ok(t)
}

/// The unit's templates, by id.
pub async fn list_templates(app: &App, tenant_id: &str) -> AppResult<Vec<TemplateRecord>> {
    let mut c = app.db.read().await?;
    Ok(contract_templates::list(&mut c, tenant_id).await?)
}

/// Removes a template. Errors: 404 `NOT_FOUND` when the unit has none with that id.
pub async fn remove_template(app: &App, tenant_id: &str, template_id: &str) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    if !contract_templates::delete(&mut tx, tenant_id, template_id).await? {
        return Err(AppError::not_found("Template"));
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_and_check_their_placeholders() {
        let values: HashMap<String, String> =
            [("customer.name", "Ann Lee"), ("customer.company", "")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let body =
            "Dear {{customer.name}},\n{{customer.company}}\n{{items}}\nEnd {{ customFields.po }}";
        let out = fill(body, &values, &["- 1 x A".into(), "- 2 x B".into()]);
        assert_eq!(out, "Dear Ann Lee,\n- 1 x A\n- 2 x B\nEnd\n");
        assert!(unknown_placeholders(body).is_empty());
        assert_eq!(
            unknown_placeholders("{{customer.nmae}} {{x"),
            ["customer.nmae", "x"]
        );
        for t in CONTRACT_TYPES {
            assert!(unknown_placeholders(&default_template(t)).is_empty());
        }
    }
}
