//! Assets (SPEC §2.3): register, read, list, update and soft-delete serial-numbered devices.

use crate::AppError;
use flexportal_domain::serial::{is_phone_category, is_valid_imei};
use flexportal_domain::status::{AssetStatus, ProductStatus, VariantStatus};
use flexportal_store::Conn;
use flexportal_store::assets::{self, AssetFilter, AssetRecord, AssetSort};
use flexportal_store::page::Page;
use flexportal_store::variants::{self, VariantWithProduct};
use serde_json::Value;

use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, Patch, body_object};
use crate::list::{self, Query};
use crate::{App, AppResult, TenantContext};

/// Longest serial number, in characters.
pub const MAX_SERIAL: usize = 200;

/// Condition codes of a business unit (SPEC §2.1 catalog; default `new`, `like_new`, `good`,
/// `fair`) and whether returned assets need an inspection condition before `available`.
fn inspection_rules(ctx: &TenantContext) -> (bool, Vec<String>) {
    let s = &ctx.settings;
    let required = s.asset_workflow.require_inspection;
    let mut codes: Vec<String> = s
        .catalog
        .conditions
        .iter()
        .map(|c| c.code.clone())
        .collect();
    if codes.is_empty() {
        codes = ["new", "like_new", "good", "fair"]
            .map(String::from)
            .to_vec();
    }
    (required, codes)
}

/// The displayed product name of a variant: `"<product> - <variant>"`, or the product name alone
/// when the variant has no name or the same one (SPEC §2.3).
pub fn product_name(product: &str, variant: &str) -> String {
    if variant.is_empty() || variant == product {
        product.to_string()
    } else {
        format!("{product} - {variant}")
    }
}

/// The first variant image, else the first product image. Errors: 500 when a stored image
/// list cannot be decoded.
pub fn image_url(v: &VariantWithProduct) -> AppResult<Option<String>> {
    let first = |json: &str| -> AppResult<Option<String>> {
        let images: Vec<String> = serde_json::from_str(json).map_err(AppError::corrupt)?;
        Ok(images.into_iter().next())
    };
    match first(&v.variant.images)? {
        Some(url) => Ok(Some(url)),
        None => first(&v.product_images),
    }
}

/// A validated createAsset body.
#[derive(Debug, Clone)]
pub struct NewAsset {
    /// Trimmed serial number.
    pub serial_number: String,
    /// Variant SKU.
    pub sku: String,
    /// Minor units.
    pub acquisition_cost: Option<i64>,
    /// `YYYY-MM-DD`.
    pub acquisition_date: Option<String>,
    /// Free text.
    pub location: Option<String>,
    /// Free text.
    pub condition: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// `available` (default), `unavailable` or `returned`.
    pub status: AssetStatus,
}

/// Parses a createAsset body. Errors: 400 `VALIDATION_ERROR`; 400 `INVALID_STATUS` for a status
/// other than `available`, `unavailable`, `returned`.
pub fn parse_new(body: &Value, exponent: u32) -> AppResult<NewAsset> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let serial = f.req_text("serialNumber", MAX_SERIAL);
    let sku = f.req_text("sku", MAX_SHORT);
    let acquisition_cost = f.opt_money("acquisitionCost", exponent);
    let acquisition_date = f.date_patch("acquisitionDate").value();
    let location = f.opt_text("location", MAX_SHORT);
    let condition = f.opt_text("condition", MAX_SHORT);
    let notes = f.opt_text("notes", MAX_LONG);
    let status_raw = f.raw("status").cloned();
    input::check(errors)?;
    let status = match status_raw {
        None => AssetStatus::Available,
        Some(v) => match v.as_str().and_then(AssetStatus::parse) {
            Some(s) if s.allowed_on_create() => s,
            _ => {
                return Err(AppError::bad_request(
                    "INVALID_STATUS",
                    "A new asset's status must be available, unavailable or returned",
                ));
            }
        },
    };
    Ok(NewAsset {
        serial_number: serial.unwrap_or_default(),
        sku: sku.unwrap_or_default(),
        acquisition_cost,
        acquisition_date,
        location,
        condition,
        notes,
        status,
    })
}

/// Builds the stored asset for a validated body and its variant, checking the variant rules and
/// the IMEI rule. Errors: 400 `VALIDATION_ERROR` (`invalid_imei`), 400 `VARIANT_INACTIVE`.
pub fn build(
    ctx: &TenantContext,
    a: NewAsset,
    v: &VariantWithProduct,
    now: i64,
) -> AppResult<AssetRecord> {
    if is_phone_category(&v.product_category) && !is_valid_imei(&a.serial_number) {
        return Err(AppError::field(
            "serialNumber",
            "invalid_imei",
            "Phone serial numbers must be a valid 15-digit IMEI",
        ));
    }
    if v.variant.status != VariantStatus::Active.as_str()
        || v.product_status != ProductStatus::Active.as_str()
    {
        return Err(AppError::bad_request(
            "VARIANT_INACTIVE",
            format!("Variant {} or its product is not active", a.sku),
        ));
    }
    let (acquisition_cost, source) = match a.acquisition_cost {
        Some(c) => (Some(c), Some("manual".to_string())),
        None => match v.variant.acquisition_cost {
            Some(c) => (Some(c), Some("variant".to_string())),
            None => (None, None),
        },
    };
    Ok(AssetRecord {
        tenant_id: ctx.tenant_id.clone(),
        serial_number: a.serial_number,
        product_id: v.variant.product_id.clone(),
        variant_id: v.variant.variant_id.clone(),
        sku: v.variant.variant_sku.clone(),
        product_name: product_name(&v.product_name, &v.variant.variant_name),
        product_image_url: image_url(v)?,
        status: a.status.as_str().to_string(),
        location: a.location,
        condition: a.condition,
        notes: a.notes,
        customer_id: None,
        rental_id: None,
        acquisition_cost,
        acquisition_cost_source: source,
        acquisition_date: a
            .acquisition_date
            .unwrap_or_else(|| flexportal_domain::time::today_in(&ctx.time_zone, now).to_string()),
        lifetime_collected: 0,
        created_at: now,
        updated_at: now,
    })
}

/// createAsset in an open transaction (SPEC §2.3), the variant share-locked while it is checked.
/// Errors in order: 400 `VARIANT_NOT_FOUND`, 400 `VALIDATION_ERROR` (IMEI), 400
/// `VARIANT_INACTIVE`, 409 `ASSET_EXISTS`.
pub async fn create_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    input: &NewAsset,
    now: i64,
) -> AppResult<AssetRecord> {
    let v = variants::get_with_product_for_share(tx, &ctx.tenant_id, &input.sku)
        .await?
        .ok_or_else(|| {
            AppError::bad_request(
                "VARIANT_NOT_FOUND",
                format!("No variant with SKU {}", input.sku),
            )
        })?;
    let asset = build(ctx, input.clone(), &v, now)?;
    // Two creates of one serial number: the unique key decides, the loser gets ASSET_EXISTS.
    assets::insert(tx, &asset).await.map_err(|e| {
        if e.is_unique() {
            AppError::conflict(
                "ASSET_EXISTS",
                format!(
                    "An asset with serial number {} already exists",
                    asset.serial_number
                ),
            )
        } else {
            AppError::from(e)
        }
    })?;
    Ok(asset)
}

/// createAsset (SPEC §2.3) in its own transaction. Errors: 400 `VALIDATION_ERROR` and those of
/// [`create_in`].
pub async fn create(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<AssetRecord> {
    let input = parse_new(body, ctx.exponent())?;
    crate::transact!(app, |tx| create_in(tx, ctx, &input, app.now()))
}

/// getAsset. Errors: 404 `NOT_FOUND`.
pub async fn get(app: &App, ctx: &TenantContext, serial: &str) -> AppResult<AssetRecord> {
    assets::get_coalesced(&app.db, &app.asset_reads, &ctx.tenant_id, serial)
        .await?
        .ok_or_else(|| AppError::not_found("Asset"))
}

/// Whether the asset is held by a subscription that is still active. A cancelled subscription
/// leaves its device `rented_out` and linked until the operator collects it (SPEC §2.6.5), and
/// then it can be moved by hand.
async fn linked_to_active(tx: &mut Conn, a: &AssetRecord) -> AppResult<bool> {
    let Some(rental) = &a.rental_id else {
        return Ok(false);
    };
    if a.status != AssetStatus::RentedOut.as_str() {
        return Ok(false);
    }
    Ok(
        flexportal_store::subscriptions::get(tx, &a.tenant_id, rental)
            .await?
            .is_none_or(|s| s.status == "active"),
    )
}

fn clear_links_if_leaving_rented(a: &mut AssetRecord, to: AssetStatus) {
    if a.status == AssetStatus::RentedOut.as_str()
        && to != AssetStatus::RentedOut
        && to != AssetStatus::Sold
    {
        a.customer_id = None;
        a.rental_id = None;
    }
}

/// updateAsset: partial update (SPEC §2.3) in its own transaction. Errors: those of
/// [`update_in`].
pub async fn update(
    app: &App,
    ctx: &TenantContext,
    serial: &str,
    body: &Value,
) -> AppResult<AssetRecord> {
    crate::transact!(app, |tx| update_in(tx, ctx, serial, body, app.now()))
}

/// updateAsset in an open transaction: locks the asset, validates the body against it (the
/// `serialNumber` and `sku` sent must be the stored ones) and applies it. Errors: 404
/// `NOT_FOUND`, 400 `VALIDATION_ERROR`, 400 `INVALID_STATUS`, 409 `ASSET_IN_USE`.
pub async fn update_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    serial: &str,
    body: &Value,
    now: i64,
) -> AppResult<AssetRecord> {
    let mut a = assets::get_for_update(tx, &ctx.tenant_id, serial)
        .await?
        .ok_or_else(|| AppError::not_found("Asset"))?;
    let before = a.clone();
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    f.must_equal("serialNumber", &a.serial_number);
    f.must_equal("sku", &a.sku);
    let location = f.text_patch("location", MAX_SHORT, false);
    let condition = f.text_patch("condition", MAX_SHORT, false);
    let notes = f.text_patch("notes", MAX_LONG, false);
    let cost = f.money_patch("acquisitionCost", ctx.exponent());
    let date = f.date_patch("acquisitionDate");
    if matches!(date, Patch::Null) {
        f.fail(
            "acquisitionDate",
            "invalid_type",
            "acquisitionDate cannot be cleared",
        );
    }
    let status_raw = f.raw("status").cloned();
    input::check(errors)?;
    if let Some(v) = status_raw {
        let to = v.as_str().and_then(AssetStatus::parse).ok_or_else(|| {
            AppError::bad_request(
                "INVALID_STATUS",
                format!("status must be one of: {}", AssetStatus::expected()),
            )
        })?;
        let from = AssetStatus::parse(&a.status).unwrap_or(AssetStatus::Unavailable);
        let linked = linked_to_active(tx, &a).await?;
        from.manual_transition(to, linked)
            .map_err(|code| match code {
                "ASSET_IN_USE" => {
                    AppError::conflict(code, "The asset is assigned to an active subscription")
                }
                _ => AppError::bad_request(
                    "INVALID_STATUS",
                    "rented_out is set only by subscriptions",
                ),
            })?;
        if from == AssetStatus::Returned && to == AssetStatus::Available {
            let (required, codes) = inspection_rules(ctx);
            let sent = condition.clone().value();
            if required && !sent.as_ref().is_some_and(|c| codes.contains(c)) {
                return Err(AppError::field(
                    "condition",
                    "invalid_enum_value",
                    format!(
                        "A returned asset needs an inspection condition: one of {}",
                        codes.join(", ")
                    ),
                ));
            }
        }
        clear_links_if_leaving_rented(&mut a, to);
        a.status = to.as_str().to_string();
    }
    a.location = location.apply(a.location.take());
    a.condition = condition.apply(a.condition.take());
    a.notes = notes.apply(a.notes.take());
    match cost {
        Patch::Value(c) => {
            a.acquisition_cost = Some(c);
            a.acquisition_cost_source = Some("manual".into());
        }
        Patch::Null => {
            a.acquisition_cost = None;
            a.acquisition_cost_source = None;
        }
        Patch::Absent => {}
    }
    if let Patch::Value(d) = date {
        a.acquisition_date = d;
    }
    a.updated_at = now;
    assets::update(tx, &a).await?;
    crate::asset_history::record_change(tx, ctx, &before, &a, "updated", now).await?;
    Ok(a)
}

/// deleteAsset in its own transaction. Errors: those of [`delete_in`].
pub async fn delete(app: &App, ctx: &TenantContext, serial: &str) -> AppResult<AssetRecord> {
    crate::transact!(app, |tx| delete_in(tx, ctx, serial, app.now()))
}

/// deleteAsset in an open transaction: soft delete to `unavailable`, links cleared; repeating it
/// is fine (SPEC §2.3). Errors: 404 `NOT_FOUND`, 409 `ASSET_IN_USE`.
pub async fn delete_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    serial: &str,
    now: i64,
) -> AppResult<AssetRecord> {
    let mut a = assets::get_for_update(tx, &ctx.tenant_id, serial)
        .await?
        .ok_or_else(|| AppError::not_found("Asset"))?;
    if linked_to_active(tx, &a).await? {
        return Err(AppError::conflict(
            "ASSET_IN_USE",
            "The asset is assigned to an active subscription",
        ));
    }
    if a.status != AssetStatus::Unavailable.as_str()
        || a.customer_id.is_some()
        || a.rental_id.is_some()
    {
        let before = a.clone();
        a.status = AssetStatus::Unavailable.as_str().to_string();
        a.customer_id = None;
        a.rental_id = None;
        a.updated_at = now;
        assets::update(tx, &a).await?;
        crate::asset_history::record_change(tx, ctx, &before, &a, "deactivated", now).await?;
    }
    Ok(a)
}

/// listAssets (SPEC §2.3): filters `status`, `sku`, `customerId`, `rentalId`; sorts
/// `createdAt`, `updatedAt`, `serialNumber`, `status`, `sku`; cursor = serial number.
pub async fn list(
    app: &App,
    ctx: &TenantContext,
    q: &Query,
) -> AppResult<(Page<AssetRecord>, u64)> {
    let params = list::parse(
        q,
        50,
        100,
        AssetSort::parse,
        "createdAt, updatedAt, serialNumber, status, sku",
    )?;
    let filter = AssetFilter {
        status: list::enum_filter(q, "status", AssetStatus::parse, &AssetStatus::expected())?
            .map(|s| s.as_str().to_string()),
        sku: list::text_filter(q, "sku"),
        customer_id: list::text_filter(q, "customerId"),
        rental_id: list::text_filter(q, "rentalId"),
    };
    let mut c = app.db.read().await?;
    let conn = &mut c;
    let after = list::resolve_cursor(&params.start_after, |id| async move {
        assets::cursor(conn, &ctx.tenant_id, &id, params.sort).await
    })
    .await?;
    let page = assets::list(
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
