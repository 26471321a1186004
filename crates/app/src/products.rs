//! Products and variants (SPEC §2.2): upsert by product SKU, partial update, soft delete, lists.

use std::collections::HashSet;

use flexportal_domain::ids::{self, prefix};
use flexportal_domain::money::parse_amount;
use flexportal_domain::pricing::{self, CONTRACT_LENGTH_RANGE, Discount, PricingTier};
use flexportal_domain::status::{Grade, ProductStatus, VariantStatus};
use flexportal_domain::{Detail, DomainError};
use flexportal_store::Conn;
use flexportal_store::page::Page;
use flexportal_store::products::{self, ProductFilter, ProductListRow, ProductRecord, ProductSort};
use flexportal_store::variants::{
    self, VariantFilter, VariantRecord, VariantSort, VariantWithProduct,
};
use serde_json::{Map, Value};

use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, Patch, body_object};
use crate::list::{self, Query};
use crate::{App, AppResult, StoreResultExt, TenantContext};

/// A variant as sent in a create or update body (SPEC §2.2, with the documented aliases `sku`,
/// `specification`, `color` and the map form of `pricing`).
#[derive(Debug, Clone)]
pub struct VariantInput {
    /// Position in the request's `variants` array (for error paths).
    pub index: usize,
    /// Variant SKU (`variantSku`, alias `sku`).
    pub sku: String,
    /// `variantName` (alias `specification`).
    pub name: Option<String>,
    /// Grade.
    pub grade: Option<Grade>,
    /// Catalogue condition code.
    pub condition: Patch<String>,
    /// `colorName` (alias `color`).
    pub color: Patch<String>,
    /// Image URLs.
    pub images: Option<Vec<String>>,
    /// List price, minor units.
    pub list_price: Patch<i64>,
    /// Default acquisition cost, minor units.
    pub acquisition_cost: Patch<i64>,
    /// Tiers sent (merged by contract length into stored ones).
    pub pricing: Option<Vec<PricingTier>>,
    /// Variant status.
    pub status: Option<VariantStatus>,
}

/// A product body of createProduct (complete) or updateProduct (partial).
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    /// Product SKU.
    pub product_sku: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Specification (an object is kept as its JSON text).
    pub specification: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Description.
    pub description: Patch<String>,
    /// Image URLs.
    pub images: Option<Vec<String>>,
    /// Product status.
    pub status: Option<ProductStatus>,
    /// Variants sent.
    pub variants: Vec<VariantInput>,
}

/// Outcome of a create or update: `operation` is `created` / `updated`, and each variant sent
/// reports `create` / `update`.
#[derive(Debug, Clone)]
pub struct UpsertOutcome {
    /// The product.
    pub product: ProductRecord,
    /// `created` or `updated`.
    pub operation: &'static str,
    /// `(variantSku, "create" | "update")` in request order.
    pub variant_results: Vec<(String, &'static str)>,
}

/// Parses the `pricing` of a variant: the array form or the map form `{"12": 149.0}`.
/// Failures go to `pricing_errors` (answered as `INVALID_PRICING`).
fn parse_pricing(
    v: &Value,
    path: &str,
    exponent: u32,
    errors: &mut Vec<Detail>,
) -> Option<Vec<PricingTier>> {
    let mut tiers = Vec::new();
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let Some(obj) = item.as_object() else {
                    errors.push(Detail::new(
                        p,
                        "invalid_type",
                        "Expected a pricing tier object",
                    ));
                    continue;
                };
                let len = contract_length(
                    obj.get("contractLength"),
                    &format!("{p}.contractLength"),
                    errors,
                );
                let price = obj.get("monthlyPrice");
                let price = monthly_price(price, &format!("{p}.monthlyPrice"), exponent, errors);
                let mut f_err = Vec::new();
                let mut f = Fields::new(obj, p.clone(), &mut f_err);
                let setup_fee = f.opt_money("setupFee", exponent);
                let source = f.opt_enum("source", "suggested, manual", |s| {
                    matches!(s, "suggested" | "manual").then(|| s.to_string())
                });
                let calculated_at = f.opt_text("calculatedAt", MAX_SHORT);
                let preset_used = f.opt_text("presetUsed", MAX_SHORT);
                let discount = match obj.get("discount") {
                    None | Some(Value::Null) => None,
                    Some(Value::Object(d)) => {
                        parse_discount(d, &format!("{p}.discount"), exponent, &mut f_err)
                    }
                    Some(_) => {
                        f_err.push(Detail::new(
                            format!("{p}.discount"),
                            "invalid_type",
                            "Expected an object",
                        ));
                        None
                    }
                };
                errors.extend(f_err);
                if let (Some(contract_length), Some(monthly_price)) = (len, price) {
                    tiers.push(PricingTier {
                        contract_length,
                        monthly_price,
                        setup_fee,
                        discount,
                        source: source.unwrap_or_else(|| "manual".into()),
                        calculated_at,
                        preset_used,
                    });
                }
            }
        }
        Value::Object(map) => {
            for (k, price) in map {
                let p = format!("{path}.{k}");
                let len = k
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| CONTRACT_LENGTH_RANGE.contains(n));
                if len.is_none() {
                    errors.push(Detail::new(
                        p.clone(),
                        "invalid_type",
                        "Contract length must be an integer 1–120",
                    ));
                }
                let price = monthly_price(Some(price), &p, exponent, errors);
                if let (Some(contract_length), Some(monthly_price)) = (len, price) {
                    tiers.push(PricingTier {
                        contract_length,
                        monthly_price,
                        setup_fee: None,
                        discount: None,
                        source: "manual".into(),
                        calculated_at: None,
                        preset_used: None,
                    });
                }
            }
        }
        _ => {
            errors.push(Detail::new(
                path,
                "invalid_type",
                "Expected an array of pricing tiers",
            ));
            return None;
        }
    }
    let mut seen = HashSet::new();
    for t in &tiers {
        if !seen.insert(t.contract_length) {
            errors.push(Detail::new(
                path,
                "custom",
                format!("Duplicate contract length {}", t.contract_length),
            ));
        }
    }
    Some(tiers)
}

fn contract_length(v: Option<&Value>, path: &str, errors: &mut Vec<Detail>) -> Option<i64> {
    match v.and_then(Value::as_i64) {
        Some(n) if CONTRACT_LENGTH_RANGE.contains(&n) => Some(n),
        Some(_) => {
            errors.push(Detail::new(
                path,
                "too_big",
                "Contract length must be 1–120 months",
            ));
            None
        }
        None if v.is_none_or(Value::is_null) => {
            errors.push(Detail::new(path, "required", "Required"));
            None
        }
        None => {
            errors.push(Detail::new(
                path,
                "invalid_type",
                "Contract length must be an integer",
            ));
            None
        }
    }
}

fn monthly_price(
    v: Option<&Value>,
    path: &str,
    exponent: u32,
    errors: &mut Vec<Detail>,
) -> Option<i64> {
    match v {
        None | Some(Value::Null) => {
            errors.push(Detail::new(path, "required", "Required"));
            None
        }
        Some(Value::Number(n)) => match parse_amount(&n.to_string(), exponent) {
            Ok(p) if p >= 0 => Some(p),
            Ok(_) => {
                errors.push(Detail::new(
                    path,
                    "too_small",
                    "Monthly price must be zero or more",
                ));
                None
            }
            Err(e) => {
                errors.push(Detail::new(
                    path,
                    "invalid_type",
                    format!("Monthly price {e}"),
                ));
                None
            }
        },
        Some(_) => {
            errors.push(Detail::new(
                path,
                "invalid_type",
                "Monthly price must be a number",
            ));
            None
        }
    }
}

fn parse_discount(
    d: &Map<String, Value>,
    path: &str,
    exponent: u32,
    errors: &mut Vec<Detail>,
) -> Option<Discount> {
    let kind = match d.get("type").and_then(Value::as_str) {
        Some(k @ ("percentage" | "fixed")) => k.to_string(),
        _ => {
            errors.push(Detail::new(
                format!("{path}.type"),
                "invalid_enum_value",
                "Expected percentage or fixed",
            ));
            return None;
        }
    };
    let value = match d.get("value") {
        Some(Value::Number(n)) => {
            let text = n.to_string();
            let exp = if kind == "fixed" { exponent } else { 4 };
            match parse_amount(&text, exp) {
                Ok(v) if v >= 0 => v,
                _ => {
                    errors.push(Detail::new(
                        format!("{path}.value"),
                        "too_small",
                        "Must be a number ≥ 0",
                    ));
                    return None;
                }
            }
        }
        _ => {
            errors.push(Detail::new(
                format!("{path}.value"),
                "required",
                "Required number",
            ));
            return None;
        }
    };
    let description = d
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_string);
    Some(Discount {
        kind,
        value: value.to_string(),
        description,
    })
}

fn specification(f: &mut Fields<'_>, key: &str) -> Patch<String> {
    match f.raw(key) {
        Some(v @ Value::Object(_)) => Patch::Value(v.to_string()),
        _ => f.text_patch(key, MAX_LONG, true),
    }
}

/// Parses a product body. `complete` (createProduct) makes the documented fields required.
/// Returns the input, or 400 `VALIDATION_ERROR` (field failures) / `INVALID_PRICING` (tier
/// failures only).
pub fn parse_product(body: &Value, complete: bool, exponent: u32) -> AppResult<ProductInput> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut pricing_errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let req = |f: &mut Fields<'_>, key: &str, max: usize| {
        if complete {
            f.req_text(key, max)
        } else {
            f.text_patch(key, max, true).value()
        }
    };
    let product_sku = req(&mut f, "productSku", MAX_SHORT);
    let name = req(&mut f, "name", MAX_SHORT);
    let spec = specification(&mut f, "specification");
    if complete && !spec.is_sent() {
        f.fail("specification", "required", "Required");
    }
    let category = req(&mut f, "category", MAX_SHORT);
    let brand = req(&mut f, "brand", MAX_SHORT);
    let description = f.text_patch("description", MAX_LONG, false);
    let images = f.opt_urls("images");
    let status = f.opt_enum("status", &ProductStatus::expected(), ProductStatus::parse);
    let mut variants = Vec::new();
    match obj.get("variants") {
        None | Some(Value::Null) if complete => {
            f.fail("variants", "required", "At least one variant is required")
        }
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if complete && items.is_empty() {
                f.fail("variants", "too_small", "At least one variant is required");
            }
            for (i, item) in items.iter().enumerate() {
                let path = format!("variants[{i}]");
                match item.as_object() {
                    Some(vobj) => {
                        if let Some(v) = parse_variant(
                            vobj,
                            &path,
                            i,
                            complete,
                            exponent,
                            f.errors,
                            &mut pricing_errors,
                        ) {
                            variants.push(v);
                        }
                    }
                    None => f.fail(&path, "invalid_type", "Expected a variant object"),
                }
            }
        }
        Some(_) => f.fail("variants", "invalid_type", "Expected an array of variants"),
    }
    let mut seen = HashSet::new();
    for v in &variants {
        if !seen.insert(v.sku.clone()) {
            errors.push(Detail::new(
                format!("variants[{}].variantSku", v.index),
                "custom",
                format!("Variant SKU {} appears twice in this request", v.sku),
            ));
        }
    }
    input::check(errors)?;
    if !pricing_errors.is_empty() {
        let mut e = DomainError::validation(pricing_errors);
        e.code = "INVALID_PRICING";
        return Err(e);
    }
    Ok(ProductInput {
        product_sku,
        name,
        specification: spec.value(),
        category,
        brand,
        description,
        images,
        status,
        variants,
    })
}

fn parse_variant(
    obj: &Map<String, Value>,
    path: &str,
    index: usize,
    complete: bool,
    exponent: u32,
    errors: &mut Vec<Detail>,
    pricing_errors: &mut Vec<Detail>,
) -> Option<VariantInput> {
    let mut f = Fields::new(obj, path, errors);
    let alias = |f: &Fields<'_>, main: &'static str, alt: &'static str| {
        if f.has(main) {
            main
        } else if f.has(alt) {
            alt
        } else {
            main
        }
    };
    let sku_key = alias(&f, "variantSku", "sku");
    let sku = f.req_text(sku_key, MAX_SHORT);
    let name_key = alias(&f, "variantName", "specification");
    let name = if complete {
        f.req_text(name_key, MAX_SHORT)
    } else {
        f.text_patch(name_key, MAX_SHORT, true).value()
    };
    let grade = f.opt_enum("grade", "A, B, C, D, E", Grade::parse_lenient);
    if complete && !f.has("grade") {
        f.fail("grade", "required", "Required");
    }
    let condition = f.text_patch("condition", MAX_SHORT, false);
    let color_key = alias(&f, "colorName", "color");
    let color = f.text_patch(color_key, MAX_SHORT, false);
    let images = f.opt_urls("images");
    let list_price = f.money_patch("listPrice", exponent);
    let acquisition_cost = f.money_patch("acquisitionCost", exponent);
    let status = f.opt_enum("status", &VariantStatus::expected(), VariantStatus::parse);
    let pricing = match obj.get("pricing") {
        None | Some(Value::Null) => {
            if complete {
                f.fail(
                    "pricing",
                    "required",
                    "At least one pricing tier is required",
                );
            }
            None
        }
        Some(v) => {
            let tiers = parse_pricing(v, &format!("{path}.pricing"), exponent, pricing_errors);
            if complete && tiers.as_ref().is_some_and(Vec::is_empty) {
                pricing_errors.push(Detail::new(
                    format!("{path}.pricing"),
                    "too_small",
                    "At least one pricing tier is required",
                ));
            }
            tiers
        }
    };
    Some(VariantInput {
        index,
        sku: sku?,
        name,
        grade,
        condition,
        color,
        images,
        list_price,
        acquisition_cost,
        pricing,
        status,
    })
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn new_variant(
    ctx: &TenantContext,
    product_id: &str,
    v: &VariantInput,
    now: i64,
) -> AppResult<VariantRecord> {
    let p = format!("variants[{}]", v.index);
    let mut missing = Vec::new();
    if v.name.is_none() {
        missing.push(Detail::new(
            format!("{p}.variantName"),
            "required",
            "Required for a new variant",
        ));
    }
    if v.grade.is_none() {
        missing.push(Detail::new(
            format!("{p}.grade"),
            "required",
            "Required for a new variant",
        ));
    }
    if v.pricing.as_ref().is_none_or(Vec::is_empty) {
        missing.push(Detail::new(
            format!("{p}.pricing"),
            "required",
            "A new variant needs at least one pricing tier",
        ));
    }
    input::check(missing)?;
    let mut tiers = v.pricing.clone().unwrap_or_default();
    tiers.sort_by_key(|t| t.contract_length);
    Ok(VariantRecord {
        tenant_id: ctx.tenant_id.clone(),
        variant_id: ids::new_id(prefix::VARIANT, now),
        product_id: product_id.to_string(),
        variant_sku: v.sku.clone(),
        variant_name: v.name.clone().unwrap_or_default(),
        grade: v.grade.unwrap_or(Grade::A).as_str().to_string(),
        condition: v.condition.clone().value(),
        color_name: v.color.clone().value(),
        images: json_list(v.images.as_deref().unwrap_or_default()),
        list_price: v.list_price.clone().value(),
        acquisition_cost: v.acquisition_cost.clone().value(),
        pricing: serde_json::to_string(&tiers).unwrap_or_else(|_| "[]".into()),
        status: v
            .status
            .unwrap_or(VariantStatus::Active)
            .as_str()
            .to_string(),
        created_at: now,
        updated_at: now,
    })
}

/// Decodes a stored variant's tiers.
pub fn tiers_of(v: &VariantRecord) -> Vec<PricingTier> {
    serde_json::from_str(&v.pricing).unwrap_or_default()
}

fn apply_variant(stored: &mut VariantRecord, v: &VariantInput, now: i64) {
    if let Some(n) = &v.name {
        stored.variant_name = n.clone();
    }
    if let Some(g) = v.grade {
        stored.grade = g.as_str().to_string();
    }
    stored.condition = v.condition.clone().apply(stored.condition.take());
    stored.color_name = v.color.clone().apply(stored.color_name.take());
    if let Some(imgs) = &v.images {
        stored.images = json_list(imgs);
    }
    stored.list_price = v.list_price.clone().apply(stored.list_price);
    stored.acquisition_cost = v.acquisition_cost.clone().apply(stored.acquisition_cost);
    if let Some(p) = &v.pricing {
        let merged = pricing::merge_tiers(&tiers_of(stored), p);
        stored.pricing = serde_json::to_string(&merged).unwrap_or_else(|_| "[]".into());
    }
    if let Some(s) = v.status {
        stored.status = s.as_str().to_string();
    }
    stored.updated_at = now;
}

/// Applies a product input to a stored or new product, and upserts its variants, in `tx`.
async fn write_product(
    tx: &mut Conn,
    ctx: &TenantContext,
    existing: Option<ProductRecord>,
    input: &ProductInput,
    now: i64,
) -> AppResult<UpsertOutcome> {
    let tenant = ctx.tenant_id.as_str();
    let skus: Vec<String> = input.variants.iter().map(|v| v.sku.clone()).collect();
    let stored_variants = variants::by_skus(tx, tenant, &skus).await.or_500()?;
    let product_id = existing.as_ref().map(|p| p.product_id.clone());
    for sv in &stored_variants {
        if Some(&sv.product_id) != product_id.as_ref() {
            return Err(DomainError::conflict(
                "DUPLICATE_SKU",
                format!(
                    "Variant SKU {} already exists on a different product",
                    sv.variant_sku
                ),
            ));
        }
    }
    let (mut product, operation) = match existing {
        Some(mut p) => {
            if let Some(v) = &input.name {
                p.name = v.clone();
            }
            if let Some(v) = &input.specification {
                p.specification = v.clone();
            }
            if let Some(v) = &input.category {
                p.category = v.clone();
            }
            if let Some(v) = &input.brand {
                p.brand = v.clone();
            }
            p.description = input.description.clone().apply(p.description.take());
            if let Some(imgs) = &input.images {
                p.images = json_list(imgs);
            }
            if let Some(s) = input.status {
                p.status = s.as_str().to_string();
            }
            p.updated_at = now;
            products::update(tx, &p).await.or_500()?;
            (p, "updated")
        }
        None => {
            let p = ProductRecord {
                tenant_id: tenant.to_string(),
                product_id: ids::new_id(prefix::PRODUCT, now),
                product_sku: input.product_sku.clone().unwrap_or_default(),
                name: input.name.clone().unwrap_or_default(),
                specification: input.specification.clone().unwrap_or_default(),
                category: input.category.clone().unwrap_or_default(),
                brand: input.brand.clone().unwrap_or_default(),
                description: input.description.clone().value(),
                images: json_list(input.images.as_deref().unwrap_or_default()),
                status: input
                    .status
                    .unwrap_or(ProductStatus::Active)
                    .as_str()
                    .to_string(),
                sync: None,
                created_at: now,
                updated_at: now,
            };
            products::insert(tx, &p).await.map_err(|e| {
                if e.is_unique() {
                    DomainError::conflict("DUPLICATE_SKU", "Product SKU already exists")
                } else {
                    crate::internal(e)
                }
            })?;
            (p, "created")
        }
    };
    let deactivated: Vec<String> = input
        .variants
        .iter()
        .filter(|v| v.status == Some(VariantStatus::Inactive))
        .filter(|v| {
            stored_variants
                .iter()
                .any(|s| s.variant_sku == v.sku && s.status == "active")
        })
        .map(|v| v.sku.clone())
        .collect();
    if crate::orders::skus_have_open_units(tx, tenant, &deactivated).await? {
        return Err(DomainError::conflict(
            "VARIANT_IN_USE",
            "An open order still has unfulfilled units of this variant",
        ));
    }
    let mut results = Vec::new();
    for v in &input.variants {
        match stored_variants.iter().find(|s| s.variant_sku == v.sku) {
            Some(sv) => {
                let mut sv = sv.clone();
                apply_variant(&mut sv, v, now);
                variants::update(tx, &sv).await.or_500()?;
                results.push((v.sku.clone(), "update"));
            }
            None => {
                let rec = new_variant(ctx, &product.product_id, v, now)?;
                variants::insert(tx, &rec).await.map_err(|e| {
                    if e.is_unique() {
                        DomainError::conflict(
                            "DUPLICATE_SKU",
                            format!("Variant SKU {} already exists", v.sku),
                        )
                    } else {
                        crate::internal(e)
                    }
                })?;
                results.push((v.sku.clone(), "create"));
            }
        }
    }
    if product.status == ProductStatus::Discontinued.as_str()
        && input.status == Some(ProductStatus::Discontinued)
    {
        ensure_no_open_orders(tx, tenant, &product.product_id).await?;
        variants::set_status_for_product(
            tx,
            tenant,
            &product.product_id,
            VariantStatus::Inactive.as_str(),
            now,
        )
        .await
        .or_500()?;
        product.updated_at = now;
    }
    Ok(UpsertOutcome {
        product,
        operation,
        variant_results: results,
    })
}

/// createProduct: upsert by product SKU (SPEC §2.2). Errors: 400 `VALIDATION_ERROR`,
/// 400 `INVALID_PRICING`, 409 `DUPLICATE_SKU`.
pub async fn create(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<UpsertOutcome> {
    let input = parse_product(body, true, ctx.exponent())?;
    let sku = input.product_sku.clone().unwrap_or_default();
    let mut tx = app.db.begin().await.or_500()?;
    let existing = products::get_by_sku(&mut tx, &ctx.tenant_id, &sku)
        .await
        .or_500()?;
    let out = write_product(&mut tx, ctx, existing, &input, app.now()).await?;
    tx.commit().await.or_500()?;
    Ok(out)
}

/// updateProduct: partial update by id (SPEC §2.2). Errors: 404 `NOT_FOUND`, 400
/// `VALIDATION_ERROR` (also for a different `productSku`), 400 `INVALID_PRICING`, 409
/// `DUPLICATE_SKU`.
pub async fn update(
    app: &App,
    ctx: &TenantContext,
    product_id: &str,
    body: &Value,
) -> AppResult<UpsertOutcome> {
    let mut tx = app.db.begin().await.or_500()?;
    let existing = products::get(&mut tx, &ctx.tenant_id, product_id)
        .await
        .or_500()?
        .ok_or_else(|| DomainError::not_found("Product"))?;
    let input = parse_product(body, false, ctx.exponent())?;
    if let Some(sku) = &input.product_sku
        && *sku != existing.product_sku
    {
        return Err(DomainError::field(
            "productSku",
            "custom",
            "productSku cannot be changed",
        ));
    }
    let out = write_product(&mut tx, ctx, Some(existing), &input, app.now()).await?;
    tx.commit().await.or_500()?;
    Ok(out)
}

/// 409 `PRODUCT_HAS_ACTIVE_ORDERS` when an open order has unfulfilled units of any variant of the
/// product (SPEC §2.2).
async fn ensure_no_open_orders(tx: &mut Conn, tenant: &str, product_id: &str) -> AppResult<()> {
    let skus: Vec<String> = variants::for_product(tx, tenant, product_id)
        .await
        .or_500()?
        .into_iter()
        .map(|v| v.variant_sku)
        .collect();
    if crate::orders::skus_have_open_units(tx, tenant, &skus).await? {
        return Err(DomainError::conflict(
            "PRODUCT_HAS_ACTIVE_ORDERS",
            "Open orders still have unfulfilled units of this product",
        ));
    }
    Ok(())
}

/// deleteProduct: soft delete (SPEC §2.2): product `discontinued`, every variant `inactive`;
/// repeating it is fine. Errors: 404 `NOT_FOUND`.
pub async fn delete(app: &App, ctx: &TenantContext, product_id: &str) -> AppResult<ProductRecord> {
    let now = app.now();
    let mut tx = app.db.begin().await.or_500()?;
    let mut p = products::get(&mut tx, &ctx.tenant_id, product_id)
        .await
        .or_500()?
        .ok_or_else(|| DomainError::not_found("Product"))?;
    ensure_no_open_orders(&mut tx, &ctx.tenant_id, product_id).await?;
    let changed =
        variants::set_status_for_product(&mut tx, &ctx.tenant_id, product_id, "inactive", now)
            .await
            .or_500()?;
    if p.status != ProductStatus::Discontinued.as_str() || changed > 0 {
        p.status = ProductStatus::Discontinued.as_str().to_string();
        p.updated_at = now;
        products::update(&mut tx, &p).await.or_500()?;
    }
    tx.commit().await.or_500()?;
    Ok(p)
}

/// getProduct: the product with all its variants. Errors: 404 `NOT_FOUND`.
pub async fn get(
    app: &App,
    ctx: &TenantContext,
    product_id: &str,
) -> AppResult<(ProductRecord, Vec<VariantRecord>)> {
    let mut c = app.db.read().await.or_500()?;
    let p = products::get(&mut c, &ctx.tenant_id, product_id)
        .await
        .or_500()?
        .ok_or_else(|| DomainError::not_found("Product"))?;
    let vs = variants::for_product(&mut c, &ctx.tenant_id, product_id)
        .await
        .or_500()?;
    Ok((p, vs))
}

/// listProducts (SPEC §2.2): filters `status`, `category`, `brand`; sorts `createdAt`,
/// `updatedAt`, `name`, `productSku`.
pub async fn list(
    app: &App,
    ctx: &TenantContext,
    q: &Query,
) -> AppResult<(Page<ProductListRow>, u64)> {
    let params = list::parse(
        q,
        50,
        100,
        ProductSort::parse,
        "createdAt, updatedAt, name, productSku",
    )?;
    let filter = ProductFilter {
        status: list::enum_filter(
            q,
            "status",
            ProductStatus::parse,
            &ProductStatus::expected(),
        )?
        .map(|s| s.as_str().to_string()),
        category: list::text_filter(q, "category"),
        brand: list::text_filter(q, "brand"),
    };
    let mut c = app.db.read().await.or_500()?;
    let conn = &mut c;
    let after = list::resolve_cursor(&params.start_after, |id| async move {
        products::cursor(conn, &ctx.tenant_id, &id, params.sort).await
    })
    .await?;
    let page = products::list(
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

/// listVariants (SPEC §2.2): limit default 50, max 5 000; filters `status`, `productSku`,
/// `grade`, `sku` (prefix), `category`, `brand`; sorts `createdAt`, `variantSku`.
pub async fn list_variants(
    app: &App,
    ctx: &TenantContext,
    q: &Query,
) -> AppResult<(Page<VariantWithProduct>, u64)> {
    let params = list::parse(q, 50, 5000, VariantSort::parse, "createdAt, variantSku")?;
    let filter = VariantFilter {
        status: list::enum_filter(
            q,
            "status",
            VariantStatus::parse,
            &VariantStatus::expected(),
        )?
        .map(|s| s.as_str().to_string()),
        product_sku: list::text_filter(q, "productSku"),
        grade: list::enum_filter(q, "grade", Grade::parse_lenient, "A, B, C, D, E")?
            .map(|g| g.as_str().to_string()),
        sku_prefix: list::text_filter(q, "sku"),
        category: list::text_filter(q, "category"),
        brand: list::text_filter(q, "brand"),
    };
    let mut c = app.db.read().await.or_500()?;
    let conn = &mut c;
    let after = list::resolve_cursor(&params.start_after, |id| async move {
        variants::cursor(conn, &ctx.tenant_id, &id, params.sort).await
    })
    .await?;
    let page = variants::list(
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

/// Runs a product input through the upsert in an open transaction (CSV import).
pub(crate) async fn upsert_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    input: &ProductInput,
    now: i64,
) -> AppResult<UpsertOutcome> {
    let sku = input.product_sku.clone().unwrap_or_default();
    let existing = products::get_by_sku(tx, &ctx.tenant_id, &sku)
        .await
        .or_500()?;
    write_product(tx, ctx, existing, input, now).await
}
