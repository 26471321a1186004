//! Reading product bodies (SPEC §2.2): createProduct (complete) and updateProduct (partial), with
//! the documented aliases (`sku`, `specification`, `color`, the map form of `pricing`). Field
//! failures are `VALIDATION_ERROR`, tier failures `INVALID_PRICING`.

use std::collections::HashSet;

use flexportal_domain::Detail;
use flexportal_domain::money::parse_amount;
use flexportal_domain::pricing::{CONTRACT_LENGTH_RANGE, Discount, PricingTier};
use flexportal_domain::status::{Grade, ProductStatus, VariantStatus};
use serde_json::{Map, Value};

use crate::AppResult;
use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, Patch, body_object};

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
        let mut e = flexportal_domain::DomainError::validation(pricing_errors);
        e.code = "INVALID_PRICING";
        return Err(e.into());
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
