//! JSON renderings of orders, subscriptions and payments (OpenAPI shapes; money in major units).

use flexportal_app::orders::OrderView;
use flexportal_app::subscriptions::SubscriptionView;
use flexportal_app::{AppError, TenantContext};
use flexportal_domain::money::amount_json;
use flexportal_domain::time::format_timestamp;
use flexportal_store::payments::PaymentRecord;
use serde_json::{Map, Value, json};

fn put(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v);
    }
}

/// An optional stored JSON document. Errors: 500 when it cannot be decoded.
fn doc(text: &Option<String>) -> Result<Option<Value>, AppError> {
    text.as_deref().map(json).transpose()
}

/// A stored JSON document. Errors: 500 when it cannot be decoded (never rendered as a default).
fn json(text: &str) -> Result<Value, AppError> {
    serde_json::from_str(text).map_err(AppError::corrupt)
}

/// An order (SPEC §2.5) with items, totals, progress and rental ids.
pub(crate) fn order(ctx: &TenantContext, v: &OrderView) -> Result<Value, AppError> {
    let exp = ctx.exponent();
    let o = &v.order;
    let items: Vec<Value> = v
        .items
        .iter()
        .enumerate()
        .map(|(idx, it)| {
            let rentals: Vec<&str> = v
                .rentals
                .iter()
                .filter(|(_, i)| *i == idx as i64)
                .map(|(r, _)| r.as_str())
                .collect();
            let status = match rentals.len() as i64 {
                0 => "pending",
                n if n >= it.quantity => "completed",
                _ => "partial",
            };
            let mut m = Map::new();
            m.insert("productId".into(), json!(it.product_id));
            put(
                &mut m,
                "productImageUrl",
                it.product_image_url.as_ref().map(|u| json!(u)),
            );
            m.insert("variantId".into(), json!(it.variant_id));
            m.insert("sku".into(), json!(it.sku));
            m.insert("productName".into(), json!(it.product_name));
            m.insert("quantity".into(), json!(it.quantity));
            m.insert("unitPrice".into(), amount_json(it.unit_price, exp));
            m.insert("contractLength".into(), json!(it.contract_length));
            put(
                &mut m,
                "listPrice",
                it.list_price.map(|p| amount_json(p, exp)),
            );
            m.insert("listPriceSource".into(), json!(it.list_price_source));
            put(
                &mut m,
                "acquisitionCost",
                it.acquisition_cost.map(|p| amount_json(p, exp)),
            );
            m.insert(
                "acquisitionCostSource".into(),
                json!(it.acquisition_cost_source),
            );
            put(
                &mut m,
                "listPriceOverride",
                it.list_price_override.map(|p| amount_json(p, exp)),
            );
            put(
                &mut m,
                "acquisitionCostOverride",
                it.acquisition_cost_override.map(|p| amount_json(p, exp)),
            );
            if it.used_list_price_as_acquisition {
                m.insert("usedListPriceAsAcquisition".into(), json!(true));
            }
            m.insert("rentalIds".into(), json!(rentals));
            m.insert("rentalStatus".into(), json!(status));
            Value::Object(m)
        })
        .collect();
    let mut m = Map::new();
    m.insert("orderId".into(), json!(o.order_id));
    m.insert("tenantId".into(), json!(o.tenant_id));
    m.insert("status".into(), json!(o.status));
    m.insert("orderType".into(), json!(o.order_type));
    let mut customer = json(&o.customer_snapshot)?;
    if let Some(c) = customer.as_object_mut() {
        c.retain(|_, v| !v.is_null());
    }
    m.insert("customer".into(), customer);
    m.insert("billingAddress".into(), json(&o.billing_address)?);
    m.insert("shippingAddress".into(), json(&o.shipping_address)?);
    m.insert("items".into(), Value::Array(items));
    m.insert(
        "totals".into(),
        json!({
            "subtotal": amount_json(o.subtotal, exp),
            "taxAmount": amount_json(o.tax_amount, exp),
            "total": amount_json(o.total, exp),
            "currency": o.currency,
            "totalDevices": o.total_devices,
        }),
    );
    m.insert(
        "customFields".into(),
        doc(&o.custom_fields)?.unwrap_or(Value::Null),
    );
    m.insert(
        "rentalProgress".into(),
        json!({"totalDevices": o.total_devices, "rentedDevices": o.rented_devices}),
    );
    m.insert(
        "rentalIds".into(),
        json!(
            v.rentals
                .iter()
                .map(|(r, _)| r.as_str())
                .collect::<Vec<_>>()
        ),
    );
    m.insert("createdAt".into(), json!(format_timestamp(o.created_at)));
    m.insert("updatedAt".into(), json!(format_timestamp(o.updated_at)));
    m.insert("createdBy".into(), json!(o.created_by));
    put(&mut m, "notes", o.notes.as_ref().map(|n| json!(n)));
    put(&mut m, "extensionDetails", doc(&o.extension_details)?);
    put(&mut m, "upgradeDetails", doc(&o.upgrade_details)?);
    put(
        &mut m,
        "cancellationReason",
        o.cancellation_reason.as_ref().map(|n| json!(n)),
    );
    put(
        &mut m,
        "cancelledAt",
        o.cancelled_at.map(|t| json!(format_timestamp(t))),
    );
    Ok(Value::Object(m))
}

fn tenths(v: Option<i64>) -> Value {
    v.map(|t| amount_json(t, 1)).unwrap_or(Value::Null)
}

/// A subscription (SPEC §2.6.1) with its computed fields and the additive `costRecovery` object.
pub(crate) fn subscription(ctx: &TenantContext, v: &SubscriptionView) -> Result<Value, AppError> {
    let exp = ctx.exponent();
    let s = &v.sub;
    let c = v.computed()?;
    let r = &c.recovery;
    let mut m = Map::new();
    m.insert("rentalId".into(), json!(s.rental_id));
    m.insert("tenantId".into(), json!(s.tenant_id));
    m.insert("assetSerialNumber".into(), json!(s.asset_serial_number));
    m.insert("customerId".into(), json!(s.customer_id));
    m.insert("productId".into(), json!(s.product_id));
    m.insert("variantId".into(), json!(s.variant_id));
    m.insert("sku".into(), json!(s.sku));
    m.insert("productName".into(), json!(s.product_name));
    put(
        &mut m,
        "productImageUrl",
        s.product_image_url.as_ref().map(|u| json!(u)),
    );
    m.insert("monthlyAmount".into(), amount_json(s.monthly_amount, exp));
    m.insert("currency".into(), json!(s.currency));
    m.insert("status".into(), json!(s.status));
    put(
        &mut m,
        "billingGroupId",
        s.billing_group_id.as_ref().map(|b| json!(b)),
    );
    m.insert(
        "originalContractLength".into(),
        json!(s.original_contract_length),
    );
    m.insert("contractLength".into(), json!(s.contract_length));
    m.insert("startDate".into(), json!(s.start_date));
    m.insert("endDate".into(), json!(s.end_date));
    put(
        &mut m,
        "nextBillingDate",
        c.next_billing_date.map(|d| json!(d.to_string())),
    );
    m.insert(
        "lastModifiedDate".into(),
        json!(format_timestamp(s.last_modified_date)),
    );
    m.insert("extensionHistory".into(), json!([]));
    m.insert("replacementHistory".into(), json!([]));
    m.insert("actualMonthsRented".into(), json!(c.months_elapsed));
    m.insert("monthsSaved".into(), json!(0));
    put(
        &mut m,
        "listPrice",
        s.list_price.map(|p| amount_json(p, exp)),
    );
    m.insert("listPriceSource".into(), json!(s.list_price_source));
    m.insert(
        "listPriceCapturedAt".into(),
        json!(format_timestamp(s.captured_at)),
    );
    put(
        &mut m,
        "acquisitionCost",
        s.acquisition_cost.map(|p| amount_json(p, exp)),
    );
    m.insert(
        "acquisitionCostSource".into(),
        json!(s.acquisition_cost_source),
    );
    m.insert(
        "acquisitionCostCapturedAt".into(),
        json!(format_timestamp(s.captured_at)),
    );
    m.insert("totalCollected".into(), amount_json(s.total_collected, exp));
    put(
        &mut m,
        "costRecoveryPercent",
        r.cost_recovery_percent_tenths.map(|t| amount_json(t, 1)),
    );
    put(
        &mut m,
        "currentProfit",
        r.current_profit.map(|p| amount_json(p, exp)),
    );
    put(
        &mut m,
        "breakevenMonths",
        r.breakeven_months_tenths.map(|t| amount_json(t, 1)),
    );
    m.insert("hasReachedBreakeven".into(), json!(r.has_reached_breakeven));
    m.insert("recoveryStatus".into(), json!(r.status.as_str()));
    m.insert("orderId".into(), json!(s.order_id));
    put(
        &mut m,
        "upgradeFromRentalId",
        s.upgrade_from_rental_id.as_ref().map(|u| json!(u)),
    );
    m.insert("customerEmail".into(), json!(s.customer_email));
    m.insert("customerName".into(), json!(s.customer_name));
    m.insert(
        "customFields".into(),
        doc(&s.custom_fields)?.unwrap_or_else(|| json!({})),
    );
    m.insert("createdAt".into(), json!(format_timestamp(s.created_at)));
    m.insert("updatedAt".into(), json!(format_timestamp(s.updated_at)));
    m.insert("createdBy".into(), json!(s.created_by));
    put(&mut m, "notes", s.notes.as_ref().map(|n| json!(n)));
    let projected = s.total_collected + c.open_value;
    let cost = s.acquisition_cost.filter(|c| *c > 0);
    m.insert(
        "costRecovery".into(),
        json!({
            "acquisitionCost": s.acquisition_cost.map(|p| amount_json(p, exp)),
            "listPrice": s.list_price.map(|p| amount_json(p, exp)),
            "totalCollected": amount_json(s.total_collected, exp),
            "costRecoveryPercent": tenths(r.cost_recovery_percent_tenths),
            "breakevenMonth": r.breakeven_month,
            "breakevenMonths": tenths(r.breakeven_months_tenths),
            "monthsActive": c.months_elapsed,
            "monthsRemaining": c.months_remaining,
            "projectedTotalCollection": amount_json(projected, exp),
            "projectedMargin": cost.map(|c| amount_json(projected - c, exp)),
            "projectedMarginPercent": cost.and_then(|c| flexportal_domain::money::percent_json(projected - c, c, 1)),
        }),
    );
    Ok(Value::Object(m))
}

/// A payment (SPEC §2.7) with its single line item.
pub(crate) fn payment(ctx: &TenantContext, p: &PaymentRecord) -> Value {
    let exp = ctx.exponent();
    let mut m = Map::new();
    m.insert("paymentId".into(), json!(p.payment_id));
    m.insert("tenantId".into(), json!(p.tenant_id));
    m.insert("customerId".into(), json!(p.customer_id));
    m.insert("subtotal".into(), amount_json(p.subtotal, exp));
    m.insert("taxAmount".into(), amount_json(p.tax_amount, exp));
    m.insert(
        "taxRate".into(),
        crate::views::trim_number(amount_json(p.tax_rate_bp, 2)),
    );
    m.insert("total".into(), amount_json(p.total, exp));
    m.insert("currency".into(), json!(p.currency));
    m.insert("amount".into(), amount_json(p.total, exp));
    m.insert("paymentType".into(), json!(p.payment_type));
    put(&mut m, "rentalId", p.rental_id.as_ref().map(|r| json!(r)));
    put(
        &mut m,
        "billingGroupId",
        p.billing_group_id.as_ref().map(|r| json!(r)),
    );
    m.insert("billingPeriod".into(), json!(p.billing_period));
    m.insert("status".into(), json!(p.status));
    m.insert("provider".into(), json!(p.provider));
    m.insert("manuallyMarked".into(), json!(p.manually_marked));
    put(
        &mut m,
        "paymentReference",
        p.payment_reference.as_ref().map(|r| json!(r)),
    );
    put(&mut m, "markedBy", p.marked_by.as_ref().map(|r| json!(r)));
    m.insert("captureAttempts".into(), json!(0));
    if let Some(r) = &p.rental_id {
        m.insert(
            "lineItems".into(),
            json!([{
                "rentalId": r,
                "description": p.description,
                "amount": amount_json(p.subtotal, exp),
                "taxAmount": amount_json(p.tax_amount, exp),
            }]),
        );
    }
    m.insert("lateFeeApplied".into(), json!(false));
    m.insert("idempotencyKey".into(), json!(p.idempotency_key));
    put(&mut m, "notes", p.notes.as_ref().map(|n| json!(n)));
    m.insert("billingDate".into(), json!(p.billing_date));
    m.insert("dueDate".into(), json!(p.due_date));
    m.insert(
        "paidAt".into(),
        p.paid_at
            .map(|t| json!(format_timestamp(t)))
            .unwrap_or(Value::Null),
    );
    m.insert("lastCaptureAttempt".into(), Value::Null);
    m.insert("nextRetryAt".into(), Value::Null);
    m.insert("createdAt".into(), json!(format_timestamp(p.created_at)));
    m.insert("updatedAt".into(), json!(format_timestamp(p.updated_at)));
    Value::Object(m)
}
