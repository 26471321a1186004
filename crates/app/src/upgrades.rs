//! upgradeSubscription (SPEC §2.6.5): an upgrade order for a new device, fulfilled at once with
//! `newSerialNumber` (immediate mode) or later by createSubscription (deferred mode). Either way
//! the fulfilment ends the old subscription as `ended_upgrade` in the same transaction
//! ([`finish`]), with an early-return fee when the new contract is shorter than what remained,
//! unless the customer buys the old device (`buyoutAmount`).

use flexportal_domain::pricing::{tier_for, unit_price};
use flexportal_domain::status::{
    AssetStatus, PaymentKind, ProductStatus, SubscriptionEventKind, SubscriptionStatus,
    VariantStatus,
};
use flexportal_domain::time::today_in;
use flexportal_store::orders::{self, OrderRecord};
use flexportal_store::subscriptions::{self, SubscriptionRecord};
use flexportal_store::{Conn, assets, variants};
use serde_json::{Value, json};

use crate::endings::early_return_terms;
use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, body_object};
use crate::lifecycle::{self, AssetOutcome, Ending};
use crate::orders::{OrderItem, RentalOrder};
use crate::subscriptions::SubscriptionView;
use crate::{App, AppError, AppResult, TenantContext};

/// What upgradeSubscription did.
#[derive(Debug, Clone)]
pub struct Upgraded {
    /// The old subscription after it (`ended_upgrade` in immediate mode, still `active` with a
    /// pending upgrade order in deferred mode).
    pub old: SubscriptionRecord,
    /// The new subscription (immediate mode).
    pub new: Option<SubscriptionView>,
    /// The upgrade order.
    pub order: OrderRecord,
    /// The new device's display name.
    pub new_device: String,
    /// The new monthly amount, minor units.
    pub monthly_amount: i64,
}

struct UpgradeInput {
    sku: String,
    contract_length: Option<i64>,
    serial: Option<String>,
    amount: Option<i64>,
    reason: Option<String>,
    notes: Option<String>,
    start: Option<String>,
    buyout: Option<i64>,
}

fn parse(ctx: &TenantContext, body: &Value, rental_id: &str) -> AppResult<UpgradeInput> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    f.must_equal("rentalId", rental_id);
    let sku = f.req_text("newSku", MAX_SHORT).unwrap_or_default();
    let length_key = if f.has("contractLength") || !f.has("newContractLength") {
        "contractLength"
    } else {
        "newContractLength"
    };
    let contract_length = match f.raw(length_key) {
        None => {
            f.fail(length_key, "required", "Required");
            None
        }
        Some(v) => match v.as_i64() {
            Some(n) => Some(n),
            None => {
                f.fail(
                    length_key,
                    "invalid_type",
                    "Expected a whole number of months",
                );
                None
            }
        },
    };
    let serial = f.opt_text("newSerialNumber", MAX_SHORT);
    let exp = ctx.exponent();
    let amount = f.opt_money("newMonthlyAmount", exp);
    let reason = f.opt_text("reason", MAX_LONG);
    let notes = f.opt_text("notes", MAX_LONG);
    let start = f.date_patch("startDate").value();
    let buyout = f.opt_money("buyoutAmount", exp);
    input::check(errors)?;
    Ok(UpgradeInput {
        sku,
        contract_length,
        serial,
        amount,
        reason,
        notes,
        start,
        buyout,
    })
}

/// upgradeSubscription (SPEC §2.6.5): body `newSku` and `contractLength` (alias
/// `newContractLength`) required; `newSerialNumber` (immediate mode), `newMonthlyAmount`
/// (default the new variant's tier price), `reason`, `notes`, `startDate` (default today, not
/// before the old start), `buyoutAmount` (the customer keeps and buys the old device).
/// Errors: 404 `NOT_FOUND`; 400 `VALIDATION_ERROR`, `SUBSCRIPTION_NOT_ACTIVE`,
/// `FEATURE_DISABLED`, `VARIANT_NOT_FOUND`, `VARIANT_INACTIVE`, `INVALID_CONTRACT_LENGTH`,
/// `ASSET_NOT_FOUND`, `ASSET_NOT_AVAILABLE`, `SKU_MISMATCH`; 409 `UPGRADE_ALREADY_PENDING`.
pub async fn upgrade(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<Upgraded> {
    crate::transact!(app, |tx| upgrade_in(tx, ctx, id, body, app.now()))
}

/// upgradeSubscription in an open transaction. Errors: as [`upgrade`].
pub async fn upgrade_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<Upgraded> {
    let mut locked = lifecycle::lock(tx, ctx, id).await?;
    let input = parse(ctx, body, &locked.sub.rental_id)?;
    let old = &mut locked.sub;
    lifecycle::require_active(old)?;
    if !ctx.settings.subscriptions.upgrades.enabled {
        return Err(AppError::bad_request(
            "FEATURE_DISABLED",
            "Upgrades are disabled for this business unit",
        ));
    }
    if let Some(pending) = &old.pending_upgrade_order_id
        && let Some(o) = orders::get(tx, &ctx.tenant_id, pending, true).await?
        && matches!(o.status.as_str(), "pending" | "confirmed")
    {
        return Err(AppError::conflict(
            "UPGRADE_ALREADY_PENDING",
            format!("Upgrade order {pending} is pending for this subscription"),
        ));
    }
    // Share-locked, as createOrder reads its variants: a deactivation of the variant or its
    // product waits for this upgrade order, or this upgrade sees the deactivation.
    let v = variants::get_with_product_for_share(tx, &ctx.tenant_id, &input.sku)
        .await?
        .ok_or_else(|| {
            AppError::bad_request("VARIANT_NOT_FOUND", format!("No variant {}", input.sku))
        })?;
    if v.variant.status != VariantStatus::Active.as_str()
        || v.product_status != ProductStatus::Active.as_str()
    {
        return Err(AppError::bad_request(
            "VARIANT_INACTIVE",
            format!("Variant {} or its product is not active", input.sku),
        ));
    }
    let length = input.contract_length.unwrap_or(0);
    let invalid_length = || {
        AppError::bad_request(
            "INVALID_CONTRACT_LENGTH",
            format!("Variant {} has no {length}-month tier", input.sku),
        )
    };
    if !(1..=120).contains(&length) {
        return Err(invalid_length());
    }
    let amount = match input.amount {
        Some(a) => a,
        None => {
            let tiers = v.variant.tiers()?;
            let tier = tier_for(&tiers, length).ok_or_else(invalid_length)?;
            unit_price(tier).map_err(crate::corrupt)?
        }
    };
    if let Some(serial) = &input.serial {
        let asset = assets::get(tx, &ctx.tenant_id, serial)
            .await?
            .ok_or_else(|| {
                AppError::bad_request("ASSET_NOT_FOUND", format!("No asset {serial}"))
            })?;
        if asset.status != AssetStatus::Available.as_str() {
            return Err(AppError::bad_request(
                "ASSET_NOT_AVAILABLE",
                format!("Asset {serial} is {}", asset.status),
            ));
        }
        if asset.sku != input.sku {
            return Err(AppError::bad_request(
                "SKU_MISMATCH",
                format!("Asset {serial} is a {}, not a {}", asset.sku, input.sku),
            ));
        }
    }
    let today = today_in(&ctx.time_zone, now);
    let start = match &input.start {
        Some(d) => lifecycle::stored_date(d)?,
        None => today,
    };
    if start < lifecycle::stored_date(&old.start_date)? {
        return Err(AppError::field(
            "startDate",
            "too_small",
            format!(
                "Must not be before the current contract's start {}",
                old.start_date
            ),
        ));
    }
    // The upgrade order: same customer and addresses, one unit of the new variant.
    let original = orders::get(tx, &ctx.tenant_id, &old.order_id, false)
        .await?
        .ok_or_else(|| AppError::corrupt(format!("order {} of {}", old.order_id, old.rental_id)))?;
    let new_device = crate::assets::product_name(&v.product_name, &v.variant.variant_name);
    let item = OrderItem {
        sku: input.sku.clone(),
        product_id: v.variant.product_id.clone(),
        variant_id: v.variant.variant_id.clone(),
        product_name: new_device.clone(),
        product_image_url: crate::assets::image_url(&v)?,
        quantity: 1,
        unit_price: amount,
        contract_length: length,
        list_price: v.variant.list_price,
        list_price_source: if v.variant.list_price.is_some() {
            "variant"
        } else {
            "unknown"
        }
        .into(),
        acquisition_cost: v.variant.acquisition_cost.or(v.variant.list_price),
        acquisition_cost_source: match (v.variant.acquisition_cost, v.variant.list_price) {
            (Some(_), _) => "variant",
            (None, Some(_)) => "list_price",
            _ => "unknown",
        }
        .into(),
        list_price_override: None,
        acquisition_cost_override: None,
        used_list_price_as_acquisition: v.variant.acquisition_cost.is_none()
            && v.variant.list_price.is_some(),
        setup_fee: None,
    };
    let exp = ctx.exponent();
    let mut details = json!({
        "previousDevice": old.product_name,
        "previousSerialNumber": old.asset_serial_number,
        "previousMonthlyAmount": flexportal_domain::money::amount_json(old.monthly_amount, exp),
        "previousRentalId": old.rental_id,
    });
    if let Some(r) = &input.reason {
        details["upgradeReason"] = json!(r);
    }
    if let Some(b) = input.buyout {
        details["buyoutAmount"] = flexportal_domain::money::amount_json(b, exp);
    }
    let order = crate::orders::insert_for_rental(
        tx,
        ctx,
        &original,
        item,
        RentalOrder::Upgrade(details),
        input.notes.clone(),
        now,
    )
    .await?;
    old.pending_upgrade_order_id = Some(order.order_id.clone());
    old.updated_at = now;
    subscriptions::update(tx, old).await?;
    let Some(serial) = input.serial else {
        return Ok(Upgraded {
            old: locked.sub,
            new: None,
            order,
            new_device,
            monthly_amount: amount,
        });
    };
    // Immediate mode: fulfil the upgrade order now; the fulfilment ends the old subscription.
    let create = crate::subscriptions::parse(&json!({
        "orderId": order.order_id,
        "assetSerialNumber": serial,
        "startDate": start.to_string(),
    }))?;
    let new = crate::subscriptions::create_in(tx, ctx, &create, now).await?;
    let old = subscriptions::get(tx, &ctx.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Subscription"))?;
    let order = orders::get(tx, &ctx.tenant_id, &order.order_id, false)
        .await?
        .unwrap_or(order);
    Ok(Upgraded {
        old,
        new: Some(new),
        order,
        new_device,
        monthly_amount: amount,
    })
}

/// Called by createSubscription when it fulfils an upgrade order: when the order was created by
/// upgradeSubscription for an active subscription (its pending upgrade order is this one), ends
/// that subscription as `ended_upgrade` at the new start date (SPEC §2.6.5: ending effects, the
/// old asset `returned`, or `sold` with a buyout payment when the upgrade carries a
/// `buyoutAmount`; an early-return fee when the new contract is shorter than what remained) and
/// links the new subscription to it. Returns the old rental id when it did. Errors: 500 for
/// unreadable stored data; 400 `SUBSCRIPTION_NOT_ACTIVE` when the old subscription ended.
pub async fn finish(
    tx: &mut Conn,
    ctx: &TenantContext,
    order: &OrderRecord,
    new: &mut SubscriptionRecord,
    now: i64,
) -> AppResult<Option<String>> {
    let Some(details) = &order.upgrade_details else {
        return Ok(None);
    };
    let details: Value = serde_json::from_str(details).map_err(crate::corrupt)?;
    let Some(old_id) = details["previousRentalId"].as_str() else {
        return Ok(None);
    };
    let Some(mut locked) = subscriptions::get_for_update(tx, &ctx.tenant_id, old_id).await? else {
        return Ok(None);
    };
    if locked.pending_upgrade_order_id.as_deref() != Some(order.order_id.as_str()) {
        return Ok(None);
    }
    lifecycle::require_active(&locked)?;
    let payments =
        flexportal_store::payments::for_rental_locked(tx, &ctx.tenant_id, old_id).await?;
    locked.pending_upgrade_order_id = None;
    let mut locked = lifecycle::Locked {
        sub: locked,
        payments,
    };
    let x = lifecycle::stored_date(&new.start_date)?;
    let x = x.max(lifecycle::stored_date(&locked.sub.start_date)?);
    let exp = ctx.exponent();
    let buyout = match details.get("buyoutAmount") {
        Some(Value::Number(n)) => Some(
            flexportal_domain::money::parse_amount(&n.to_string(), exp).map_err(crate::corrupt)?,
        ),
        _ => None,
    };
    let q = lifecycle::quote_input(ctx, &locked.sub, &locked.payments, x)?;
    let fee = match buyout {
        None if new.contract_length < q.remaining_months => early_return_terms(ctx, &q)?.fee,
        _ => 0,
    };
    let record = json!({
        "newRentalId": new.rental_id,
        "upgradeOrderId": order.order_id,
        "earlyReturnFee": fee,
        "buyoutAmount": buyout,
        "remainingMonths": q.remaining_months,
    });
    lifecycle::end(
        tx,
        ctx,
        &mut locked,
        Ending {
            status: SubscriptionStatus::EndedUpgrade,
            effective: x,
            asset: if buyout.is_some() {
                AssetOutcome::Sold
            } else {
                AssetOutcome::Returned { condition: None }
            },
            event: SubscriptionEventKind::Upgraded,
            details: record.to_string(),
        },
        now,
    )
    .await?;
    if fee > 0 {
        lifecycle::charge_one_off(
            tx,
            ctx,
            &locked.sub,
            PaymentKind::EarlyReturn,
            fee,
            x,
            "orderId",
            now,
        )
        .await?;
    }
    if let Some(b) = buyout.filter(|b| *b > 0) {
        lifecycle::charge_one_off(
            tx,
            ctx,
            &locked.sub,
            PaymentKind::Buyout,
            b,
            x,
            "orderId",
            now,
        )
        .await?;
    }
    new.upgrade_from_rental_id = Some(old_id.to_string());
    subscriptions::update(tx, new).await?;
    crate::events::subscription_upgraded(
        tx,
        ctx,
        old_id,
        &new.rental_id,
        &order.order_id,
        &new.customer_id,
        now,
    );
    Ok(Some(old_id.to_string()))
}

/// Clears the pending-upgrade marker of the subscription an upgrade order was created for, when
/// that order is cancelled (SPEC §2.6.5 deferred mode).
pub async fn order_cancelled(
    tx: &mut Conn,
    ctx: &TenantContext,
    order: &OrderRecord,
    now: i64,
) -> AppResult<()> {
    let Some(details) = &order.upgrade_details else {
        return Ok(());
    };
    let details: Value = serde_json::from_str(details).map_err(crate::corrupt)?;
    let Some(old_id) = details["previousRentalId"].as_str() else {
        return Ok(());
    };
    if let Some(mut sub) = subscriptions::get_for_update(tx, &ctx.tenant_id, old_id).await?
        && sub.pending_upgrade_order_id.as_deref() == Some(order.order_id.as_str())
    {
        sub.pending_upgrade_order_id = None;
        sub.updated_at = now;
        subscriptions::update(tx, &sub).await?;
    }
    Ok(())
}
