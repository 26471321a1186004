//! Changes to a running subscription that keep it `active` (SPEC §2.6.5): extendSubscription
//! and replaceSubscriptionDevice. Each is one transaction with all its effects; the contract-end
//! job extends through [`extend_locked`] as the API does, without the unit's extension rules.

use flexportal_domain::money::parse_amount;
use flexportal_domain::schedule::{self, ScheduleInput, idempotency_keys};
use flexportal_domain::status::{AssetStatus, ProductStatus, SubscriptionEventKind, VariantStatus};
use flexportal_domain::time::today_in;
use flexportal_store::customers::{self, CounterDelta};
use flexportal_store::subscriptions::{self, SubscriptionRecord};
use flexportal_store::{Conn, StoreError, assets, assignments, orders, payments, variants};
use serde_json::{Value, json};

use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, body_object};
use crate::lifecycle::{self, ActorRecord, ExtensionRecord, Locked, ReplacementRecord};
use crate::orders::{OrderItem, RentalOrder};
use crate::{App, AppError, AppResult, TenantContext};

/// Longest contract, in months (SPEC §2.6.5).
pub const MAX_CONTRACT_MONTHS: i64 = 120;

/// What extendSubscription did.
#[derive(Debug, Clone)]
pub struct Extended {
    /// The subscription after it.
    pub sub: SubscriptionRecord,
    /// The history entry written.
    pub record: ExtensionRecord,
}

/// extendSubscription (SPEC §2.6.5, §4.7): body `extensionMonths` (required, ≥ 1, the new
/// length ≤ 120), `newMonthlyAmount` (optional ≥ 0; the added months' price), `reason`, `notes`,
/// `rentalId` (optional, must match). Appends the added months' charges continuing the cycle,
/// moves the end date, records the history and adjusts the customer's monthly revenue.
/// Errors: 404 `NOT_FOUND`; 400 `VALIDATION_ERROR`, `SUBSCRIPTION_NOT_ACTIVE`,
/// `INVALID_EXTENSION_MONTHS`, `EXTENSION_NOT_ALLOWED` (the unit's allowed lengths, maximum
/// count or minimum days before the end).
pub async fn extend(app: &App, ctx: &TenantContext, id: &str, body: &Value) -> AppResult<Extended> {
    crate::transact!(app, |tx| extend_in(tx, ctx, id, body, app.now()))
}

/// extendSubscription in an open transaction. Errors: as [`extend`].
pub async fn extend_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<Extended> {
    // An extension only adds charges after the end date; what was billed before it does not
    // matter to it (SPEC §2.6.3 "Extension"), so only that tail is read.
    let sub = lifecycle::lock_subscription(tx, ctx, id).await?;
    let payments =
        payments::for_rental_billed_after_locked(tx, &ctx.tenant_id, id, &sub.end_date).await?;
    let mut locked = Locked { sub, payments };
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    f.must_equal("rentalId", &locked.sub.rental_id);
    // Whole numbers only; a value that is not one is the operation's own error code.
    let months = match f.raw("extensionMonths") {
        None => {
            f.fail("extensionMonths", "required", "Required");
            None
        }
        Some(Value::Number(n)) => Some(
            parse_amount(&n.to_string(), 0)
                .ok()
                .filter(|v| n.as_i64() == Some(*v) || n.as_f64() == Some(*v as f64)),
        ),
        Some(_) => Some(None),
    };
    let amount = f.opt_money("newMonthlyAmount", ctx.exponent());
    let reason = f.opt_text("reason", MAX_SHORT).unwrap_or_default();
    let notes = f.opt_text("notes", MAX_LONG);
    input::check(errors)?;
    lifecycle::require_active(&locked.sub)?;
    let months = months.flatten().filter(|m| *m >= 1).ok_or_else(|| {
        AppError::bad_request(
            "INVALID_EXTENSION_MONTHS",
            "extensionMonths must be a whole number of at least 1",
        )
    })?;
    // The 120-month cap comes before the unit's own rules (SPEC §2.6.5 check order).
    if locked.sub.contract_length.saturating_add(months) > MAX_CONTRACT_MONTHS {
        return Err(AppError::bad_request(
            "INVALID_EXTENSION_MONTHS",
            format!(
                "The contract would last {} months; at most {MAX_CONTRACT_MONTHS}",
                locked.sub.contract_length.saturating_add(months)
            ),
        ));
    }
    check_rules(tx, ctx, &locked.sub, months, now).await?;
    let record = extend_locked(
        tx,
        ctx,
        &mut locked,
        Extension {
            months,
            monthly_amount: amount,
            reason,
            notes,
            capped: true,
        },
        now,
    )
    .await?;
    let order_id = if ctx.settings.subscriptions.extensions.create_tracking_order {
        tracking_order(tx, ctx, &locked.sub, &record, now).await?
    } else {
        locked.sub.order_id.clone()
    };
    // The unit's automatic extension contract (SPEC §2.9): of the tracking order when there is
    // one, else of the subscription's order; one per extension.
    crate::auto_contracts::enqueue(
        tx,
        ctx,
        &order_id,
        &locked.sub.rental_id,
        "extension",
        format!(
            "extension:{}:{}",
            locked.sub.rental_id, record.new_contract_length
        ),
        now,
    )
    .await?;
    Ok(Extended {
        sub: locked.sub,
        record,
    })
}

/// The tracking order of an extension (SPEC §2.6.5, the unit's "create order for extensions"):
/// `orderType: "extension"`, `fulfilled`, one unit of the subscription's SKU at the new amount
/// for the extension's months, listing the subscription. Returns its id.
async fn tracking_order(
    tx: &mut Conn,
    ctx: &TenantContext,
    sub: &SubscriptionRecord,
    record: &ExtensionRecord,
    now: i64,
) -> AppResult<String> {
    let original = orders::get(tx, &ctx.tenant_id, &sub.order_id, false)
        .await?
        .ok_or_else(|| AppError::corrupt(format!("order {} of {}", sub.order_id, sub.rental_id)))?;
    let item = OrderItem {
        sku: sub.sku.clone(),
        product_id: sub.product_id.clone(),
        variant_id: sub.variant_id.clone(),
        product_name: sub.product_name.clone(),
        product_image_url: sub.product_image_url.clone(),
        quantity: 1,
        unit_price: record.new_monthly_amount,
        contract_length: record.extension_months,
        list_price: sub.list_price,
        list_price_source: sub.list_price_source.clone(),
        acquisition_cost: sub.acquisition_cost,
        acquisition_cost_source: sub.acquisition_cost_source.clone(),
        list_price_override: None,
        acquisition_cost_override: None,
        used_list_price_as_acquisition: false,
        setup_fee: None,
    };
    let mut details = json!({
        "originalOrderId": sub.order_id,
        "extensionMonths": record.extension_months,
        "previousEndDate": record.old_end_date,
        "newEndDate": record.new_end_date,
        "rentalId": sub.rental_id,
    });
    if !record.reason.is_empty() {
        details["reason"] = json!(record.reason);
    }
    let order = crate::orders::insert_for_rental(
        tx,
        ctx,
        &original,
        item,
        RentalOrder::Extension(details),
        None,
        now,
    )
    .await?;
    Ok(order.order_id)
}

/// The unit's extension rules (SPEC §2.1 Extensions; only those configured apply).
async fn check_rules(
    tx: &mut Conn,
    ctx: &TenantContext,
    sub: &SubscriptionRecord,
    months: i64,
    now: i64,
) -> AppResult<()> {
    let rules = &ctx.settings.subscriptions.extensions;
    let refuse = |m: String| AppError::bad_request("EXTENSION_NOT_ALLOWED", m);
    if let Some(allowed) = &rules.allowed_lengths
        && !allowed.is_empty()
        && !allowed.contains(&months)
    {
        return Err(refuse(format!(
            "Extensions of {months} months are not offered; allowed: {allowed:?}"
        )));
    }
    if let Some(max) = rules.max_extensions {
        let events =
            flexportal_store::subscription_events::for_rental(tx, &ctx.tenant_id, &sub.rental_id)
                .await?;
        let done = events
            .iter()
            .filter(|e| e.kind == SubscriptionEventKind::Extended)
            .count() as i64;
        if done >= max {
            return Err(refuse(format!("At most {max} extensions per subscription")));
        }
    }
    if let Some(min) = rules.min_days_before_end {
        let today = today_in(&ctx.time_zone, now);
        let end = lifecycle::stored_date(&sub.end_date)?;
        if flexportal_domain::quote::days_between(today, end) < min {
            return Err(refuse(format!(
                "Extensions must be made at least {min} days before the end date {end}"
            )));
        }
    }
    Ok(())
}

/// One extension to apply.
#[derive(Debug, Clone)]
pub struct Extension {
    /// Months added, ≥ 1.
    pub months: i64,
    /// The added months' monthly amount, minor units; the current one when `None`.
    pub monthly_amount: Option<i64>,
    /// Why.
    pub reason: String,
    /// Free text.
    pub notes: Option<String>,
    /// Whether the 120-month cap applies (the contract-end job's renewals are not capped).
    pub capped: bool,
}

/// Extends a locked active subscription (SPEC §2.6.3 "Extension", §2.6.5): appends the charges
/// of the added months continuing the same cycle at the new amount, recomputes the end date,
/// sets the monthly amount, adjusts the customer's monthly revenue and appends the history
/// entry. Errors: 400 `INVALID_EXTENSION_MONTHS` past 120 months (when capped); 400
/// `VALIDATION_ERROR` when an amount does not fit; 409 `CONFLICT` when a charge's idempotency
/// key is taken.
pub async fn extend_locked(
    tx: &mut Conn,
    ctx: &TenantContext,
    locked: &mut Locked,
    e: Extension,
    now: i64,
) -> AppResult<ExtensionRecord> {
    let before = locked.sub.clone();
    let sub = &mut locked.sub;
    let new_length = sub.contract_length.saturating_add(e.months);
    if e.capped && new_length > MAX_CONTRACT_MONTHS {
        return Err(AppError::bad_request(
            "INVALID_EXTENSION_MONTHS",
            format!("The contract would last {new_length} months; at most {MAX_CONTRACT_MONTHS}"),
        ));
    }
    let amount = e.monthly_amount.unwrap_or(sub.monthly_amount);
    let input = ScheduleInput {
        start: lifecycle::stored_date(&sub.start_date)?,
        months: sub.contract_length,
        monthly_amount: sub.monthly_amount,
        cycle: sub.billing.cycle,
        first_payment: sub.billing.first_payment,
        option: sub.billing.option,
    };
    let added = schedule::extend(&input, e.months, amount);
    let longer = schedule::generate(&ScheduleInput {
        months: new_length,
        ..input.clone()
    });
    let skip = longer.charges.len() - added.charges.len();
    let keys = idempotency_keys(&sub.rental_id, &longer.charges)[skip..].to_vec();
    let mut rows =
        lifecycle::rental_charges(tx, ctx, sub, &added.charges, keys, input.start, now).await?;
    // A month already billed (a holdover charge of the contract-end job) keeps its payment
    // (SPEC §2.7: a generator that hits an existing key reuses the payment).
    rows.retain(|r| {
        !locked.payments.iter().any(|p| {
            p.status != "cancelled"
                && p.kind.is_contract_month()
                && p.billing_date == r.billing_date
        })
    });
    // A member of an active billing group gets its future months as lines (SPEC §2.8 step 2).
    let rows = crate::consolidation::place_for_member(tx, ctx, sub, rows, now).await?;
    crate::events::insert_payments(tx, ctx, &rows, now)
        .await
        .map_err(|err| match err {
            StoreError::Unique(_) => {
                AppError::conflict("CONFLICT", "A payment with this idempotency key exists")
            }
            other => crate::internal(other),
        })?;
    locked.payments.extend(rows);
    let record = ExtensionRecord {
        extension_months: e.months,
        old_contract_length: sub.contract_length,
        new_contract_length: new_length,
        old_monthly_amount: sub.monthly_amount,
        new_monthly_amount: amount,
        reason: e.reason,
        notes: e.notes,
        extended_by: ActorRecord::of(ctx),
        old_end_date: sub.end_date.clone(),
        new_end_date: added.end_date.to_string(),
        extended_at: now,
    };
    let delta = CounterDelta {
        monthly_revenue: amount - sub.monthly_amount,
        ..Default::default()
    };
    sub.contract_length = new_length;
    sub.end_date = added.end_date.to_string();
    sub.monthly_amount = amount;
    sub.last_modified_date = now;
    sub.updated_at = now;
    subscriptions::update_changed(tx, &before, sub).await?;
    if delta.monthly_revenue != 0 {
        customers::add_counters(tx, &ctx.tenant_id, &sub.customer_id, delta, now).await?;
    }
    crate::events::subscription_extended(tx, ctx, &before, sub, now);
    lifecycle::append_event(
        tx,
        ctx,
        &sub.rental_id,
        SubscriptionEventKind::Extended,
        serde_json::to_string(&record).map_err(crate::corrupt)?,
        now,
    )
    .await?;
    Ok(record)
}

/// What replaceSubscriptionDevice did.
#[derive(Debug, Clone)]
pub struct Replaced {
    /// The subscription after it.
    pub sub: SubscriptionRecord,
    /// The history entry written.
    pub record: ReplacementRecord,
}

const REPLACEMENT_REASONS: [&str; 4] = ["damaged", "stolen", "defective", "lost"];

/// replaceSubscriptionDevice (SPEC §2.6.5): body `newSerialNumber` (required),
/// `replacementReason` (`damaged`, `stolen`, `defective`, `lost`) and/or free-text `reason`
/// (one of them required), `newSku`, `damageAssessment`, `insuranceClaim`, `notes`, `rentalId`.
/// The old asset becomes `unavailable` with a note, the new one `rented_out`; amounts, dates,
/// payments and cost snapshot stay. Errors: 404 `NOT_FOUND`; 400 `VALIDATION_ERROR`,
/// `SUBSCRIPTION_NOT_ACTIVE`, `ASSET_NOT_FOUND`, `ASSET_NOT_AVAILABLE`, `VARIANT_NOT_FOUND`,
/// `VARIANT_INACTIVE`, `SKU_MISMATCH`.
pub async fn replace(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<Replaced> {
    crate::transact!(app, |tx| replace_in(tx, ctx, id, body, app.now()))
}

/// replaceSubscriptionDevice in an open transaction. Errors: as [`replace`].
pub async fn replace_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<Replaced> {
    // A replacement changes no payment (SPEC §2.6.5): the subscription alone is locked.
    let mut locked = Locked {
        sub: lifecycle::lock_subscription(tx, ctx, id).await?,
        payments: Vec::new(),
    };
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    f.must_equal("rentalId", &locked.sub.rental_id);
    let serial = f.req_text("newSerialNumber", MAX_SHORT).unwrap_or_default();
    let enum_reason = f.opt_enum("replacementReason", &REPLACEMENT_REASONS.join(", "), |s| {
        REPLACEMENT_REASONS.contains(&s).then(|| s.to_string())
    });
    let free_reason = f.opt_text("reason", MAX_SHORT);
    let new_sku = f.opt_text("newSku", MAX_SHORT);
    let damage = f.opt_text("damageAssessment", MAX_LONG);
    let insurance = match f.raw("insuranceClaim") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            f.fail("insuranceClaim", "invalid_type", "Expected a boolean");
            false
        }
    };
    let notes = f.opt_text("notes", MAX_LONG);
    if enum_reason.is_none() && free_reason.is_none() && !f.has("replacementReason") {
        f.fail(
            "replacementReason",
            "required",
            "Give replacementReason or reason",
        );
    }
    if serial == locked.sub.asset_serial_number {
        f.fail(
            "newSerialNumber",
            "custom",
            "The new asset must differ from the current one",
        );
    }
    input::check(errors)?;
    lifecycle::require_active(&locked.sub)?;
    let reason = enum_reason.or(free_reason).unwrap_or_default();
    let new_asset = assets::get_for_update(tx, &ctx.tenant_id, &serial)
        .await?
        .ok_or_else(|| AppError::bad_request("ASSET_NOT_FOUND", format!("No asset {serial}")))?;
    if new_asset.status != AssetStatus::Available.as_str() {
        return Err(AppError::bad_request(
            "ASSET_NOT_AVAILABLE",
            format!("Asset {serial} is {}", new_asset.status),
        ));
    }
    let before = locked.sub.clone();
    let sub = &mut locked.sub;
    match &new_sku {
        None if new_asset.sku != sub.sku => {
            return Err(AppError::bad_request(
                "SKU_MISMATCH",
                format!(
                    "Asset {serial} is a {}, the subscription rents a {}",
                    new_asset.sku, sub.sku
                ),
            ));
        }
        None => {}
        Some(sku) => {
            // Share-locked: a concurrent deactivation waits for the switch, or is seen.
            let v = variants::get_with_product_for_share(tx, &ctx.tenant_id, sku)
                .await?
                .ok_or_else(|| {
                    AppError::bad_request("VARIANT_NOT_FOUND", format!("No variant {sku}"))
                })?;
            if v.variant.status != VariantStatus::Active.as_str()
                || v.product_status != ProductStatus::Active.as_str()
            {
                return Err(AppError::bad_request(
                    "VARIANT_INACTIVE",
                    format!("Variant {sku} or its product is not active"),
                ));
            }
            if new_asset.sku != *sku {
                return Err(AppError::bad_request(
                    "SKU_MISMATCH",
                    format!("Asset {serial} is a {}, not a {sku}", new_asset.sku),
                ));
            }
            sub.sku = sku.clone();
            sub.variant_id = v.variant.variant_id.clone();
            sub.product_id = v.variant.product_id.clone();
            sub.product_name =
                crate::assets::product_name(&v.product_name, &v.variant.variant_name);
            sub.product_image_url = crate::assets::image_url(&v)?;
        }
    }
    let today = today_in(&ctx.time_zone, now);
    let old_serial = sub.asset_serial_number.clone();
    if let Some(mut old) = assets::get_for_update(tx, &ctx.tenant_id, &old_serial).await?
        && old.rental_id.as_deref() == Some(sub.rental_id.as_str())
    {
        let read = old.clone();
        old.status = AssetStatus::Unavailable.as_str().into();
        old.customer_id = None;
        old.rental_id = None;
        let line = format!("Replaced on {today}: {reason}");
        old.notes = Some(match old.notes.take() {
            Some(n) if !n.is_empty() => format!("{n}\n{line}"),
            _ => line,
        });
        old.updated_at = now;
        assets::update_changed(tx, &read, &old).await?;
        crate::events::asset_returned(
            tx,
            ctx,
            &crate::events::AssetReturn {
                serial: &old_serial,
                rental_id: &sub.rental_id,
                customer_id: &sub.customer_id,
                new_status: &old.status,
                condition: old.condition.as_deref(),
            },
            now,
        );
    }
    if !assets::assign(
        tx,
        &ctx.tenant_id,
        &serial,
        &sub.customer_id,
        &sub.rental_id,
        now,
    )
    .await?
    {
        return Err(AppError::bad_request(
            "ASSET_NOT_AVAILABLE",
            format!("Asset {serial} is no longer available"),
        ));
    }
    let on = today.to_string();
    assignments::close(tx, &ctx.tenant_id, &sub.rental_id, &old_serial, &on).await?;
    assignments::open(tx, &ctx.tenant_id, &sub.rental_id, &serial, &on, now)
        .await
        .map_err(|e| match e {
            StoreError::Unique(_) => AppError::conflict(
                "CONFLICT",
                "This asset was already assigned to the subscription today",
            ),
            other => crate::internal(other),
        })?;
    // Charges billed from today on that were paid ahead were credited to the old device when they
    // were paid; their income belongs to the device held on the billing date (SPEC §2.7).
    let yesterday = schedule::add_days(today, -1).to_string();
    let paid_ahead =
        payments::for_rental_billed_after_locked(tx, &ctx.tenant_id, &sub.rental_id, &yesterday)
            .await?
            .iter()
            .filter(|p| p.status == "paid")
            .try_fold(0i64, |acc, p| acc.checked_add(p.subtotal))
            .ok_or_else(|| AppError::corrupt("collected income overflows"))?;
    if paid_ahead != 0 && old_serial != serial {
        assets::add_collected(tx, &ctx.tenant_id, &old_serial, -paid_ahead, now).await?;
        assets::add_collected(tx, &ctx.tenant_id, &serial, paid_ahead, now).await?;
    }
    crate::events::asset_assigned(
        tx,
        ctx,
        &serial,
        &sub.sku,
        &sub.rental_id,
        &sub.customer_id,
        now,
    );
    sub.asset_serial_number = serial.clone();
    sub.last_modified_date = now;
    sub.updated_at = now;
    subscriptions::update_changed(tx, &before, sub).await?;
    let record = ReplacementRecord {
        old_serial_number: old_serial,
        new_serial_number: serial,
        reason,
        damage_assessment: damage,
        insurance_claim: insurance,
        notes,
        replaced_by: ActorRecord::of(ctx),
        replaced_at: now,
    };
    lifecycle::append_event(
        tx,
        ctx,
        &sub.rental_id,
        SubscriptionEventKind::DeviceReplaced,
        serde_json::to_string(&record).map_err(crate::corrupt)?,
        now,
    )
    .await?;
    Ok(Replaced {
        sub: locked.sub,
        record,
    })
}
