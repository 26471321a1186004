//! The webhook events of SPEC §2.11, queued on the transaction of the change that causes them
//! ([`flexportal_store::Conn::emit`]): written when it commits, dropped when it rolls back.
//! Money is a JSON number in the unit's currency decimals, dates `YYYY-MM-DD`, times ISO 8601 UTC.

use flexportal_store::Conn;
use flexportal_store::payments::PaymentRecord;
use flexportal_store::subscriptions::SubscriptionRecord;
use flexportal_store::webhooks::OutboxEvent;
use serde_json::{Map, Value, json};

use crate::TenantContext;

/// The catalogue of SPEC §2.11, in its order.
pub const CATALOGUE: &[&str] = &[
    "order.created",
    "order.fulfilled",
    "subscription.created",
    "subscription.extended",
    "subscription.upgraded",
    "subscription.ended",
    "payment.scheduled",
    "payment.succeeded",
    "payment.failed",
    "payment.cancelled",
    "payment.updated",
    "asset.assigned",
    "asset.returned",
];

/// Whether an enabled endpoint of the business unit receives `event` (for changes made in bulk,
/// which read their rows back only when someone listens).
pub async fn subscribed(tx: &mut Conn, ctx: &TenantContext, event: &str) -> crate::AppResult<bool> {
    Ok(
        flexportal_store::webhooks::enabled_endpoints(tx, &ctx.tenant_id)
            .await?
            .iter()
            .any(|e| e.wants(event)),
    )
}

/// Queues `event` with `data` for the business unit of `ctx`.
pub fn emit(tx: &mut Conn, ctx: &TenantContext, event: &'static str, data: Value, now: i64) {
    tx.emit(OutboxEvent {
        tenant_id: ctx.tenant_id.clone(),
        event_type: event,
        data: data.to_string(),
        created_at: now,
    });
}

fn money(ctx: &TenantContext, minor: i64) -> Value {
    ctx.currency.money(minor).to_json()
}

fn iso(millis: i64) -> Value {
    Value::from(flexportal_domain::time::format_timestamp(millis))
}

/// `order.created`: `orderId`, `customerId`, `orderType`, `status`, `totals`.
pub fn order_created(
    tx: &mut Conn,
    ctx: &TenantContext,
    o: &flexportal_store::orders::OrderRecord,
    now: i64,
) {
    let data = json!({
        "orderId": o.order_id,
        "customerId": o.customer_id,
        "orderType": o.order_type,
        "status": o.status,
        "totals": {
            "subtotal": money(ctx, o.subtotal),
            "taxAmount": money(ctx, o.tax_amount),
            "total": money(ctx, o.total),
            "currency": o.currency,
        },
    });
    emit(tx, ctx, "order.created", data, now);
}

/// `order.fulfilled`: `orderId`, `customerId`, `rentalIds`.
pub fn order_fulfilled(
    tx: &mut Conn,
    ctx: &TenantContext,
    order_id: &str,
    customer_id: &str,
    rental_ids: &[String],
    now: i64,
) {
    let data = json!({"orderId": order_id, "customerId": customer_id, "rentalIds": rental_ids});
    emit(tx, ctx, "order.fulfilled", data, now);
}

fn subscription_ids(s: &SubscriptionRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("subscriptionId".into(), s.rental_id.clone().into());
    m.insert("rentalId".into(), s.rental_id.clone().into());
    m.insert("customerId".into(), s.customer_id.clone().into());
    m.insert("orderId".into(), s.order_id.clone().into());
    m
}

/// `subscription.created`: ids, `assetSerialNumber`, `sku`, `monthlyAmount`, `currency`,
/// `contractLength`, `startDate`, `endDate`, `upgradeFromRentalId` when it replaces one.
pub fn subscription_created(tx: &mut Conn, ctx: &TenantContext, s: &SubscriptionRecord, now: i64) {
    let mut m = subscription_ids(s);
    m.insert(
        "assetSerialNumber".into(),
        s.asset_serial_number.clone().into(),
    );
    m.insert("sku".into(), s.sku.clone().into());
    m.insert("monthlyAmount".into(), money(ctx, s.monthly_amount));
    m.insert("currency".into(), s.currency.clone().into());
    m.insert("contractLength".into(), s.contract_length.into());
    m.insert("startDate".into(), s.start_date.clone().into());
    m.insert("endDate".into(), s.end_date.clone().into());
    if let Some(from) = &s.upgrade_from_rental_id {
        m.insert("upgradeFromRentalId".into(), from.clone().into());
    }
    emit(tx, ctx, "subscription.created", Value::Object(m), now);
}

/// `subscription.extended`: ids, `extensionMonths`, `oldEndDate`, `newEndDate`,
/// `oldMonthlyAmount`, `newMonthlyAmount` (`before` and `after` the extension).
pub fn subscription_extended(
    tx: &mut Conn,
    ctx: &TenantContext,
    before: &SubscriptionRecord,
    after: &SubscriptionRecord,
    now: i64,
) {
    let mut m = subscription_ids(after);
    m.insert(
        "extensionMonths".into(),
        (after.contract_length - before.contract_length).into(),
    );
    m.insert("oldEndDate".into(), before.end_date.clone().into());
    m.insert("newEndDate".into(), after.end_date.clone().into());
    m.insert("oldMonthlyAmount".into(), money(ctx, before.monthly_amount));
    m.insert("newMonthlyAmount".into(), money(ctx, after.monthly_amount));
    emit(tx, ctx, "subscription.extended", Value::Object(m), now);
}

/// `subscription.upgraded`: `oldRentalId`, `newRentalId`, `upgradeOrderId`, `customerId`.
pub fn subscription_upgraded(
    tx: &mut Conn,
    ctx: &TenantContext,
    old_rental_id: &str,
    new_rental_id: &str,
    upgrade_order_id: &str,
    customer_id: &str,
    now: i64,
) {
    let data = json!({
        "oldRentalId": old_rental_id,
        "newRentalId": new_rental_id,
        "upgradeOrderId": upgrade_order_id,
        "customerId": customer_id,
    });
    emit(tx, ctx, "subscription.upgraded", data, now);
}

/// What a `subscription.ended` event tells beyond the subscription.
#[derive(Debug, Clone, Default)]
pub struct Ended<'a> {
    /// The status before (`active`).
    pub previous_status: &'a str,
    /// The date the ending takes effect, `YYYY-MM-DD`.
    pub effective_date: String,
    /// The reason given.
    pub reason: Option<&'a str>,
    /// Early-return or cancellation fee, minor units.
    pub fee: Option<i64>,
    /// Buyout price, minor units.
    pub buyout_price: Option<i64>,
}

/// `subscription.ended`: ids, `status` (new), `previousStatus`, `effectiveDate`, `reason?`,
/// `fee?`, `buyoutPrice?`.
pub fn subscription_ended(
    tx: &mut Conn,
    ctx: &TenantContext,
    s: &SubscriptionRecord,
    e: &Ended<'_>,
    now: i64,
) {
    let mut m = subscription_ids(s);
    m.insert("status".into(), s.status.clone().into());
    m.insert("previousStatus".into(), e.previous_status.into());
    m.insert("effectiveDate".into(), e.effective_date.clone().into());
    if let Some(r) = e.reason {
        m.insert("reason".into(), r.into());
    }
    if let Some(f) = e.fee {
        m.insert("fee".into(), money(ctx, f));
    }
    if let Some(b) = e.buyout_price {
        m.insert("buyoutPrice".into(), money(ctx, b));
    }
    emit(tx, ctx, "subscription.ended", Value::Object(m), now);
}

fn payment_data(ctx: &TenantContext, p: &PaymentRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("paymentId".into(), p.payment_id.clone().into());
    m.insert("paymentType".into(), p.payment_type.clone().into());
    if let Some(r) = &p.rental_id {
        m.insert("rentalId".into(), r.clone().into());
    }
    if let Some(g) = &p.billing_group_id {
        m.insert("billingGroupId".into(), g.clone().into());
    }
    m.insert("customerId".into(), p.customer_id.clone().into());
    m.insert("total".into(), money(ctx, p.total));
    m.insert("currency".into(), p.currency.clone().into());
    m.insert("billingPeriod".into(), p.billing_period.clone().into());
    m.insert("dueDate".into(), p.due_date.clone().into());
    m
}

/// `payment.scheduled` for a new `pending` payment, `payment.succeeded` for one created `paid`
/// (collected externally).
pub fn payment_created(tx: &mut Conn, ctx: &TenantContext, p: &PaymentRecord, now: i64) {
    if p.status == "paid" {
        payment_succeeded(tx, ctx, p, now);
    } else {
        emit(
            tx,
            ctx,
            "payment.scheduled",
            Value::Object(payment_data(ctx, p)),
            now,
        );
    }
}

/// `payment.succeeded`: as `payment.scheduled` + `paidAt`, `paymentReference?`.
pub fn payment_succeeded(tx: &mut Conn, ctx: &TenantContext, p: &PaymentRecord, now: i64) {
    let mut m = payment_data(ctx, p);
    m.insert("paidAt".into(), iso(p.paid_at.unwrap_or(now)));
    if let Some(r) = &p.payment_reference {
        m.insert("paymentReference".into(), r.clone().into());
    }
    emit(tx, ctx, "payment.succeeded", Value::Object(m), now);
}

/// `payment.cancelled`: as `payment.scheduled` + `reason`.
pub fn payment_cancelled(
    tx: &mut Conn,
    ctx: &TenantContext,
    p: &PaymentRecord,
    reason: &str,
    now: i64,
) {
    let mut m = payment_data(ctx, p);
    m.insert("reason".into(), reason.into());
    emit(tx, ctx, "payment.cancelled", Value::Object(m), now);
}

/// `payment.updated`: as `payment.scheduled` (after the change) + `previousTotal`.
pub fn payment_updated(
    tx: &mut Conn,
    ctx: &TenantContext,
    p: &PaymentRecord,
    previous_total: i64,
    now: i64,
) {
    let mut m = payment_data(ctx, p);
    m.insert("previousTotal".into(), money(ctx, previous_total));
    emit(tx, ctx, "payment.updated", Value::Object(m), now);
}

/// `asset.assigned`: `serialNumber`, `sku`, `rentalId`, `customerId`.
pub fn asset_assigned(
    tx: &mut Conn,
    ctx: &TenantContext,
    serial: &str,
    sku: &str,
    rental_id: &str,
    customer_id: &str,
    now: i64,
) {
    let data = json!({
        "serialNumber": serial, "sku": sku, "rentalId": rental_id, "customerId": customer_id,
    });
    emit(tx, ctx, "asset.assigned", data, now);
}

/// The asset of an `asset.returned` event.
#[derive(Debug, Clone, Copy)]
pub struct AssetReturn<'a> {
    /// Its serial number.
    pub serial: &'a str,
    /// The subscription it leaves.
    pub rental_id: &'a str,
    /// That subscription's customer.
    pub customer_id: &'a str,
    /// Its status now (`returned`, `unavailable`).
    pub new_status: &'a str,
    /// Its condition, when one was recorded.
    pub condition: Option<&'a str>,
}

/// `asset.returned`: `serialNumber`, `rentalId`, `customerId`, `newStatus`, `condition?`.
pub fn asset_returned(tx: &mut Conn, ctx: &TenantContext, a: &AssetReturn<'_>, now: i64) {
    let mut data = json!({
        "serialNumber": a.serial, "rentalId": a.rental_id, "customerId": a.customer_id,
        "newStatus": a.new_status,
    });
    if let Some(c) = a.condition {
        data["condition"] = c.into();
    }
    emit(tx, ctx, "asset.returned", data, now);
}

/// Inserts new payments and queues their `payment.scheduled` (or `payment.succeeded`) events.
/// Errors: the store's (a unique idempotency key among open payments).
pub async fn insert_payments(
    tx: &mut Conn,
    ctx: &TenantContext,
    rows: &[PaymentRecord],
    now: i64,
) -> flexportal_store::Result<()> {
    flexportal_store::payments::insert_many(tx, rows).await?;
    for p in rows {
        payment_created(tx, ctx, p, now);
    }
    Ok(())
}

/// Cancels the open (`pending`/`failed`) payments among `ids` with `reason` as their notes and
/// queues `payment.cancelled` for each. Returns how many were cancelled.
pub async fn cancel_payments(
    tx: &mut Conn,
    ctx: &TenantContext,
    ids: &[String],
    reason: &str,
    now: i64,
) -> flexportal_store::Result<u64> {
    let cancelled =
        flexportal_store::payments::cancel_open(tx, &ctx.tenant_id, ids, reason, now).await?;
    for p in &cancelled {
        payment_cancelled(tx, ctx, p, reason, now);
    }
    Ok(cancelled.len() as u64)
}
