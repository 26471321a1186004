//! The fulfilment plan (SPEC §2.6.5, §2.6.1, §2.6.3): every row one fulfilment of an order unit
//! writes, computed from what the use case loaded and nothing else. `subscriptions::create`
//! writes it in its transaction; the benchmark's raw baseline writes the same plan with the bare
//! drivers.

use flexportal_domain::ids::{self, prefix};
use flexportal_domain::money::checked_sum;
use flexportal_domain::schedule::{
    self, BillingStartOption, ScheduleInput, billing_period, due_date, idempotency_keys,
};
use flexportal_domain::tax::apply_tax;
use flexportal_store::assets::AssetRecord;
use flexportal_store::customers::CounterDelta;
use flexportal_store::orders::OrderRecord;
use flexportal_store::payments::PaymentRecord;
use flexportal_store::subscriptions::SubscriptionRecord;
use flexportal_store::variants::VariantWithProduct;
use jiff::civil::Date;
use serde_json::{Value, json};

use flexportal_domain::billing::BillingSettings;
use flexportal_domain::status::{OrderStatus, PaymentKind, SubscriptionEventKind};
use flexportal_store::subscription_events::SubscriptionEvent;

use crate::orders::OrderItem;
use crate::{AppResult, TenantContext, settings};

/// What a fulfilment is computed from: the order (as loaded, before this fulfilment), the item
/// it fulfils, the asset and the item's variant (for the cost and list-price snapshots).
#[derive(Debug, Clone, Copy)]
pub struct FulfilmentInput<'a> {
    /// The order, locked by the caller.
    pub order: &'a OrderRecord,
    /// The fulfilled item.
    pub item: &'a OrderItem,
    /// Its index in the order's items.
    pub item_index: usize,
    /// The available asset.
    pub asset: &'a AssetRecord,
    /// The item's variant with its product, if it still exists.
    pub variant: Option<&'a VariantWithProduct>,
    /// Contract length in months (the item's, or the request's override).
    pub contract_length: i64,
    /// Monthly amount in minor units (the item's unit price, or the override tier's).
    pub monthly_amount: i64,
    /// First day of the contract.
    pub start: Date,
    /// `billingStartOption` of the request.
    pub option: Option<BillingStartOption>,
    /// Notes of the request.
    pub notes: Option<&'a str>,
    /// Epoch milliseconds of the fulfilment.
    pub now: i64,
}

/// Everything one fulfilment writes.
#[derive(Debug, Clone, PartialEq)]
pub struct FulfilmentPlan {
    /// The new subscription (rental), `active`.
    pub sub: SubscriptionRecord,
    /// Its payments: the schedule by billing date, then the setup fee when the tier has one.
    pub payments: Vec<PaymentRecord>,
    /// Net amount collected at creation (`collected_externally`), minor units; added to the
    /// asset's collected income.
    pub collected: i64,
    /// The order after the fulfilment (progress, status, `updated_at`).
    pub order: OrderRecord,
    /// The customer counter increments.
    pub delta: CounterDelta,
    /// The first day the rental holds the asset (its assignment opens then).
    pub assigned_from: String,
    /// The `created` event that opens the subscription's history.
    pub event: SubscriptionEvent,
}

/// Whose schedule charges are being written.
#[derive(Debug, Clone, Copy)]
pub struct ChargeOwner<'a> {
    /// The customer billed.
    pub customer_id: &'a str,
    /// The subscription.
    pub rental_id: &'a str,
    /// Product name for the line description `"<productName> <YYYY-MM>"`.
    pub product_name: &'a str,
    /// Days from billing to due date (payment terms of business customers, else 0).
    pub terms_days: i64,
}

/// The payments of schedule charges (SPEC §2.6.3, §2.7): one per charge with its idempotency
/// key, taxed with the unit's VAT, `pending` (or `paid` on `start` when created paid under
/// `collected_externally`). Returns the rows and the net amount created paid, minor units.
/// Errors: 400 `VALIDATION_ERROR` (`contractLength`) when an amount does not fit.
pub fn schedule_rows(
    ctx: &TenantContext,
    owner: &ChargeOwner<'_>,
    charges: &[schedule::Charge],
    keys: Vec<String>,
    start: Date,
    now: i64,
) -> AppResult<(Vec<PaymentRecord>, i64)> {
    let vat = settings::vat(ctx);
    let ids = ids::new_ids(prefix::PAYMENT, now, charges.len());
    let start_millis = start
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(now);
    let mut rows = Vec::with_capacity(charges.len() + 1);
    let mut collected = 0i64;
    for (n, (ch, key)) in charges.iter().zip(keys).enumerate() {
        let a = apply_tax(ch.base_amount, vat.rate_bp, vat.inclusive)
            .map_err(|_| crate::overflow("contractLength"))?;
        if ch.paid_at_creation {
            collected = checked_sum([collected, a.subtotal])
                .map_err(|_| crate::overflow("contractLength"))?;
        }
        rows.push(PaymentRecord {
            tenant_id: ctx.tenant_id.clone(),
            payment_id: ids[n].clone(),
            customer_id: owner.customer_id.to_string(),
            rental_id: Some(owner.rental_id.to_string()),
            billing_group_id: None,
            payment_type: "individual".into(),
            billing_date: ch.billing_date.to_string(),
            service_start: ch.service_start.to_string(),
            stub: ch.stub,
            billing_period: billing_period(ch.billing_date),
            due_date: due_date(ch.billing_date, owner.terms_days).to_string(),
            subtotal: a.subtotal,
            tax_amount: a.tax_amount,
            tax_rate_bp: vat.rate_bp,
            total: a.total,
            currency: ctx.currency.code().to_string(),
            status: if ch.paid_at_creation {
                "paid"
            } else {
                "pending"
            }
            .into(),
            provider: "manual".into(),
            manually_marked: ch.paid_at_creation,
            payment_reference: None,
            marked_by: ch.paid_at_creation.then(|| ctx.actor.user_id.clone()),
            paid_at: ch.paid_at_creation.then_some(start_millis),
            idempotency_key: key,
            description: format!("{} {}", owner.product_name, billing_period(ch.billing_date)),
            notes: None,
            created_at: now,
            updated_at: now,
            kind: PaymentKind::Installment,
            ..Default::default()
        });
    }
    Ok((rows, collected))
}

/// The acquisition-cost snapshot (SPEC §2.6.1): the order's override, else the asset's cost, else
/// the variant's cost, else its list price; with the source of the value.
fn cost_snapshot(i: &FulfilmentInput<'_>) -> (Option<i64>, String) {
    match (
        i.item.acquisition_cost_override,
        i.asset.acquisition_cost,
        i.variant,
    ) {
        (Some(c), _, _) => (Some(c), "order_override".into()),
        (None, Some(c), _) => (
            Some(c),
            i.asset
                .acquisition_cost_source
                .clone()
                .unwrap_or_else(|| "manual".into()),
        ),
        (None, None, Some(v)) if v.variant.acquisition_cost.is_some() => {
            (v.variant.acquisition_cost, "variant".into())
        }
        (None, None, Some(v)) if v.variant.list_price.is_some() => {
            (v.variant.list_price, "list_price".into())
        }
        _ => (None, "unknown".into()),
    }
}

/// Computes the fulfilment of one order unit. Errors: 400 `VALIDATION_ERROR` when an amount of
/// the schedule does not fit; 500 when the order's stored customer snapshot cannot be read.
pub fn plan(ctx: &TenantContext, i: &FulfilmentInput<'_>) -> AppResult<FulfilmentPlan> {
    let (order, item, now) = (i.order, i.item, i.now);
    let sched_input = ScheduleInput {
        start: i.start,
        months: i.contract_length,
        monthly_amount: i.monthly_amount,
        cycle: settings::billing_cycle(ctx),
        first_payment: settings::first_payment(ctx),
        option: i.option,
    };
    let sched = schedule::generate(&sched_input);
    let rental_id = settings::prefixed_id(ctx, prefix::SUBSCRIPTION, now);
    let (acquisition_cost, acquisition_cost_source) = cost_snapshot(i);
    let (list_price, list_price_source) = match (
        item.list_price_override,
        i.variant.and_then(|v| v.variant.list_price),
    ) {
        (Some(p), _) => (Some(p), "order_override"),
        (None, Some(p)) => (Some(p), "variant"),
        _ => (None, "unknown"),
    };
    let snapshot: Value = serde_json::from_str(&order.customer_snapshot).map_err(crate::corrupt)?;
    let business = snapshot["customerType"] == "business";
    let customer_name = format!(
        "{} {}",
        snapshot["firstName"].as_str().unwrap_or_default(),
        snapshot["lastName"].as_str().unwrap_or_default()
    );
    let start = i.start;
    let vat = settings::vat(ctx);
    let terms = settings::payment_terms_days(ctx, business);
    let keys = idempotency_keys(&rental_id, &sched.charges);
    let (mut rows, collected) = schedule_rows(
        ctx,
        &ChargeOwner {
            customer_id: &order.customer_id,
            rental_id: &rental_id,
            product_name: &item.product_name,
            terms_days: terms,
        },
        &sched.charges,
        keys,
        start,
        now,
    )?;
    let setup_id = ids::new_id(prefix::PAYMENT, now);
    // A one-off setup fee when the tier has one (SPEC §2.5).
    if let Some(fee) = item.setup_fee {
        let a =
            apply_tax(fee, vat.rate_bp, vat.inclusive).map_err(|_| crate::overflow("orderId"))?;
        rows.push(PaymentRecord {
            tenant_id: ctx.tenant_id.clone(),
            payment_id: setup_id,
            customer_id: order.customer_id.clone(),
            rental_id: Some(rental_id.clone()),
            payment_type: "individual".into(),
            billing_date: start.to_string(),
            service_start: start.to_string(),
            stub: false,
            billing_period: billing_period(start),
            due_date: due_date(start, terms).to_string(),
            subtotal: a.subtotal,
            tax_amount: a.tax_amount,
            tax_rate_bp: vat.rate_bp,
            total: a.total,
            currency: ctx.currency.code().to_string(),
            status: "pending".into(),
            provider: "manual".into(),
            idempotency_key: format!("{rental_id}:setup"),
            description: "Setup fee".into(),
            created_at: now,
            updated_at: now,
            kind: PaymentKind::Setup,
            ..Default::default()
        });
    }
    let sub = SubscriptionRecord {
        tenant_id: ctx.tenant_id.clone(),
        rental_id,
        order_id: order.order_id.clone(),
        order_item_index: i.item_index as i64,
        customer_id: order.customer_id.clone(),
        customer_email: snapshot["email"].as_str().unwrap_or_default().to_string(),
        customer_name: customer_name.trim().to_string(),
        asset_serial_number: i.asset.serial_number.clone(),
        sku: item.sku.clone(),
        variant_id: item.variant_id.clone(),
        product_id: item.product_id.clone(),
        product_name: item.product_name.clone(),
        product_image_url: item.product_image_url.clone(),
        monthly_amount: i.monthly_amount,
        currency: ctx.currency.code().to_string(),
        status: "active".into(),
        billing_group_id: None,
        original_contract_length: i.contract_length,
        contract_length: i.contract_length,
        start_date: start.to_string(),
        end_date: sched.end_date.to_string(),
        anchor_date: sched.anchor.to_string(),
        billing: BillingSettings {
            cycle: sched_input.cycle,
            first_payment: sched_input.first_payment,
            option: i.option,
        },
        last_modified_date: now,
        list_price,
        list_price_source: list_price_source.into(),
        acquisition_cost,
        acquisition_cost_source,
        captured_at: now,
        total_collected: collected,
        custom_fields: order.custom_fields.clone(),
        notes: i.notes.map(str::to_string),
        upgrade_from_rental_id: None,
        created_by: ctx.actor.user_id.clone(),
        created_at: now,
        updated_at: now,
        ended_on: None,
        months_rented: None,
        months_saved: None,
        pending_upgrade_order_id: None,
    };
    let mut order = order.clone();
    order.rented_devices += 1;
    order.status = OrderStatus::after_fulfilment(order.rented_devices, order.total_devices)
        .as_str()
        .into();
    order.updated_at = now;
    let delta = CounterDelta {
        devices: 1,
        monthly_revenue: i.monthly_amount,
        collected,
        acquisition_cost: acquisition_cost.unwrap_or(0),
        tracked: i64::from(acquisition_cost.is_some()),
        ..Default::default()
    };
    let event = SubscriptionEvent {
        tenant_id: ctx.tenant_id.clone(),
        rental_id: sub.rental_id.clone(),
        event_id: ids::new_id(prefix::EVENT, now),
        kind: SubscriptionEventKind::Created,
        actor: ctx.actor.user_id.clone(),
        details: json!({
            "orderId": order.order_id,
            "assetSerialNumber": i.asset.serial_number,
            "contractLength": i.contract_length,
            "startDate": start.to_string(),
        })
        .to_string(),
        created_at: now,
    };
    Ok(FulfilmentPlan {
        assigned_from: start.to_string(),
        sub,
        payments: rows,
        collected,
        order,
        delta,
        event,
    })
}
