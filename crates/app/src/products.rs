//! Products and variants (SPEC §2.2): upsert by product SKU, partial update, soft delete, lists.

use crate::AppError;
use flexportal_domain::Detail;
use flexportal_domain::ids::{self, prefix};
use flexportal_domain::pricing;
use flexportal_domain::status::{Grade, ProductStatus, VariantStatus};
use flexportal_store::Conn;
use flexportal_store::page::Page;
use flexportal_store::products::{self, ProductFilter, ProductListRow, ProductRecord, ProductSort};
use flexportal_store::variants::{
    self, VariantFilter, VariantRecord, VariantSort, VariantWithProduct,
};
use serde_json::Value;

use crate::input;
use crate::list::{self, Query};
pub use crate::products_input::{ProductInput, VariantInput, parse_product};
use crate::{App, AppResult, TenantContext};

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
        pricing: pricing::tiers_to_json(&tiers),
        status: v
            .status
            .unwrap_or(VariantStatus::Active)
            .as_str()
            .to_string(),
        created_at: now,
        updated_at: now,
    })
}

fn apply_variant(stored: &mut VariantRecord, v: &VariantInput, now: i64) -> AppResult<()> {
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
        let merged = pricing::merge_tiers(&stored.tiers()?, p);
        stored.pricing = pricing::tiers_to_json(&merged);
    }
    if let Some(s) = v.status {
        stored.status = s.as_str().to_string();
    }
    stored.updated_at = now;
    Ok(())
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
    // Locked before any status check: see `variants::by_skus_for_update`.
    let stored_variants = variants::by_skus_for_update(tx, tenant, &skus).await?;
    let product_id = existing.as_ref().map(|p| p.product_id.clone());
    for sv in &stored_variants {
        if Some(&sv.product_id) != product_id.as_ref() {
            return Err(AppError::conflict(
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
            products::update(tx, &p).await?;
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
            // A concurrent create of the same product SKU committed first: run again, and
            // this request updates the product it created (the upsert of SPEC §1.12).
            products::insert(tx, &p).await.map_err(race_or_internal)?;
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
        return Err(AppError::conflict(
            "VARIANT_IN_USE",
            "An open order still has unfulfilled units of this variant",
        ));
    }
    let mut results = Vec::new();
    for v in &input.variants {
        match stored_variants.iter().find(|s| s.variant_sku == v.sku) {
            Some(sv) => {
                let mut sv = sv.clone();
                apply_variant(&mut sv, v, now)?;
                variants::update(tx, &sv).await?;
                results.push((v.sku.clone(), "update"));
            }
            None => {
                let rec = new_variant(ctx, &product.product_id, v, now)?;
                // A concurrent request created this variant SKU first: running again finds it
                // (on this product: updated; on another: `DUPLICATE_SKU`).
                variants::insert(tx, &rec).await.map_err(race_or_internal)?;
                results.push((v.sku.clone(), "create"));
            }
        }
    }
    if product.status == ProductStatus::Discontinued.as_str()
        && input.status == Some(ProductStatus::Discontinued)
    {
        variants::for_product_for_update(tx, tenant, &product.product_id).await?;
        ensure_no_open_orders(tx, tenant, &product.product_id).await?;
        variants::set_status_for_product(
            tx,
            tenant,
            &product.product_id,
            VariantStatus::Inactive.as_str(),
            now,
        )
        .await?;
        product.updated_at = now;
    }
    Ok(UpsertOutcome {
        product,
        operation,
        variant_results: results,
    })
}

/// A unique-key failure on insert means a concurrent transaction wrote the same key first:
/// retryable, so the next attempt reads what it wrote. Anything else is internal.
fn race_or_internal(e: flexportal_store::StoreError) -> AppError {
    if e.is_unique() {
        AppError::Retryable(e)
    } else {
        AppError::from(e)
    }
}

/// createProduct in an open transaction: upsert by product SKU (SPEC §2.2), the product row
/// locked when it exists.
pub async fn create_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    input: &ProductInput,
    now: i64,
) -> AppResult<UpsertOutcome> {
    let sku = input.product_sku.clone().unwrap_or_default();
    // A product that does not exist yet cannot be row-locked: creates and imports of one product
    // SKU take this lock first, so the second sees what the first wrote.
    tx.lock_key(&ctx.tenant_id, &format!("product:{sku}"))
        .await?;
    let existing = products::get_by_sku_for_update(tx, &ctx.tenant_id, &sku).await?;
    write_product(tx, ctx, existing, input, now).await
}

/// createProduct: upsert by product SKU (SPEC §2.2). Errors: 400 `VALIDATION_ERROR`,
/// 400 `INVALID_PRICING`, 409 `DUPLICATE_SKU`, 409 `VARIANT_IN_USE`.
pub async fn create(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<UpsertOutcome> {
    let input = parse_product(body, true, ctx.exponent())?;
    crate::transact!(app, |tx| create_in(tx, ctx, &input, app.now()))
}

/// updateProduct in an open transaction: partial update by id, the product row locked.
/// Errors: 404 `NOT_FOUND`, 400 `VALIDATION_ERROR` (a different `productSku`), 409
/// `DUPLICATE_SKU`, 409 `VARIANT_IN_USE`, 409 `PRODUCT_HAS_ACTIVE_ORDERS`.
pub async fn update_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    product_id: &str,
    input: &ProductInput,
    now: i64,
) -> AppResult<UpsertOutcome> {
    let existing = products::get_for_update(tx, &ctx.tenant_id, product_id)
        .await?
        .ok_or_else(|| AppError::not_found("Product"))?;
    if let Some(sku) = &input.product_sku
        && *sku != existing.product_sku
    {
        return Err(AppError::field(
            "productSku",
            "custom",
            "productSku cannot be changed",
        ));
    }
    write_product(tx, ctx, Some(existing), input, now).await
}

/// updateProduct: partial update by id (SPEC §2.2). Errors: 400 `INVALID_PRICING` and those of
/// [`update_in`].
pub async fn update(
    app: &App,
    ctx: &TenantContext,
    product_id: &str,
    body: &Value,
) -> AppResult<UpsertOutcome> {
    let input = parse_product(body, false, ctx.exponent())?;
    crate::transact!(app, |tx| update_in(tx, ctx, product_id, &input, app.now()))
}

/// 409 `PRODUCT_HAS_ACTIVE_ORDERS` when an open order has unfulfilled units of any variant of the
/// product (SPEC §2.2).
async fn ensure_no_open_orders(tx: &mut Conn, tenant: &str, product_id: &str) -> AppResult<()> {
    let skus: Vec<String> = variants::for_product(tx, tenant, product_id)
        .await?
        .into_iter()
        .map(|v| v.variant_sku)
        .collect();
    if crate::orders::skus_have_open_units(tx, tenant, &skus).await? {
        return Err(AppError::conflict(
            "PRODUCT_HAS_ACTIVE_ORDERS",
            "Open orders still have unfulfilled units of this product",
        ));
    }
    Ok(())
}

/// deleteProduct in an open transaction: soft delete (SPEC §2.2): product `discontinued`, every
/// variant `inactive`; repeating it is fine. The product and its variants are locked before the
/// open-order check. Errors: 404 `NOT_FOUND`, 409 `PRODUCT_HAS_ACTIVE_ORDERS`.
pub async fn delete_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    product_id: &str,
    now: i64,
) -> AppResult<ProductRecord> {
    let mut p = products::get_for_update(tx, &ctx.tenant_id, product_id)
        .await?
        .ok_or_else(|| AppError::not_found("Product"))?;
    variants::for_product_for_update(tx, &ctx.tenant_id, product_id).await?;
    ensure_no_open_orders(tx, &ctx.tenant_id, product_id).await?;
    let changed =
        variants::set_status_for_product(tx, &ctx.tenant_id, product_id, "inactive", now).await?;
    if p.status != ProductStatus::Discontinued.as_str() || changed > 0 {
        p.status = ProductStatus::Discontinued.as_str().to_string();
        p.updated_at = now;
        products::update(tx, &p).await?;
    }
    Ok(p)
}

/// deleteProduct in its own transaction. Errors: those of [`delete_in`].
pub async fn delete(app: &App, ctx: &TenantContext, product_id: &str) -> AppResult<ProductRecord> {
    crate::transact!(app, |tx| delete_in(tx, ctx, product_id, app.now()))
}

/// getProduct: the product with all its variants. Errors: 404 `NOT_FOUND`.
pub async fn get(
    app: &App,
    ctx: &TenantContext,
    product_id: &str,
) -> AppResult<(ProductRecord, Vec<VariantRecord>)> {
    let mut c = app.db.read().await?;
    let p = products::get(&mut c, &ctx.tenant_id, product_id)
        .await?
        .ok_or_else(|| AppError::not_found("Product"))?;
    let vs = variants::for_product(&mut c, &ctx.tenant_id, product_id).await?;
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
    let mut c = app.db.read().await?;
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
    .await?;
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
    let mut c = app.db.read().await?;
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
    .await?;
    Ok((page, params.limit))
}
