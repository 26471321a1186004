//! Business-unit settings that change API behaviour (SPEC §2.1), read from the unit's settings
//! document with the documented defaults.

use flexportal_domain::money::parse_amount;
use flexportal_domain::schedule::{BillingCycle, FirstPayment};
use serde_json::Value;

use crate::TenantContext;

/// VAT: rate in basis points (2100 = 21 %) when enabled, else 0; and whether prices include it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vat {
    /// Rate in basis points; 0 when VAT is disabled.
    pub rate_bp: i64,
    /// `inclusive` calculation.
    pub inclusive: bool,
}

fn get<'a>(ctx: &'a TenantContext, pointer: &str) -> Option<&'a Value> {
    ctx.settings.pointer(pointer)
}

/// VAT settings (`/taxes/vatEnabled`, `/taxes/defaultRate` percent, `/taxes/calculation`).
pub fn vat(ctx: &TenantContext) -> Vat {
    let enabled = get(ctx, "/taxes/vatEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !enabled {
        return Vat {
            rate_bp: 0,
            inclusive: false,
        };
    }
    let rate_bp = match get(ctx, "/taxes/defaultRate") {
        Some(Value::Number(n)) => parse_amount(&n.to_string(), 2)
            .unwrap_or(0)
            .clamp(0, 10_000),
        _ => 0,
    };
    let inclusive = get(ctx, "/taxes/calculation").and_then(Value::as_str) == Some("inclusive");
    Vat { rate_bp, inclusive }
}

/// Default contract length in months (`/pricing/defaultContractLength`, default 12).
pub fn default_contract_length(ctx: &TenantContext) -> i64 {
    get(ctx, "/pricing/defaultContractLength")
        .and_then(Value::as_i64)
        .unwrap_or(12)
}

/// Payment terms in days for business customers (`/payments/paymentTerms`: `immediate`,
/// `net_7`, `net_14`, `net_30`); individuals always 0.
pub fn payment_terms_days(ctx: &TenantContext, business: bool) -> i64 {
    if !business {
        return 0;
    }
    match get(ctx, "/payments/paymentTerms").and_then(Value::as_str) {
        Some("net_7") => 7,
        Some("net_14") => 14,
        Some("net_30") => 30,
        _ => 0,
    }
}

/// Billing cycle (`/payments/billingCycle`: `start_date`, `fixed_day` with `/payments/dayOfMonth`
/// 1–28, `every_30_days`).
pub fn billing_cycle(ctx: &TenantContext) -> BillingCycle {
    match get(ctx, "/payments/billingCycle").and_then(Value::as_str) {
        Some("fixed_day") => {
            let d = get(ctx, "/payments/dayOfMonth")
                .and_then(Value::as_i64)
                .unwrap_or(1)
                .clamp(1, 28);
            BillingCycle::FixedDay(d as i8)
        }
        Some("every_30_days") => BillingCycle::Every30Days,
        _ => BillingCycle::StartDate,
    }
}

/// First payment (`/payments/firstPayment`).
pub fn first_payment(ctx: &TenantContext) -> FirstPayment {
    match get(ctx, "/payments/firstPayment").and_then(Value::as_str) {
        Some("pro_rated") => FirstPayment::ProRated,
        Some("free_until_cycle") => FirstPayment::FreeUntilCycle,
        Some("collected_externally") => FirstPayment::CollectedExternally,
        _ => FirstPayment::FullMonth,
    }
}

/// Order-form quantity limits the unit has set (`/orderForm/minQuantity`, `/orderForm/maxQuantity`).
pub fn quantity_limits(ctx: &TenantContext) -> (Option<i64>, Option<i64>) {
    (
        get(ctx, "/orderForm/minQuantity").and_then(Value::as_i64),
        get(ctx, "/orderForm/maxQuantity").and_then(Value::as_i64),
    )
}

/// Ids of required custom fields of a section (`/customFields[] {id, required, section}`).
pub fn required_custom_fields(ctx: &TenantContext, section: &str) -> Vec<String> {
    get(ctx, "/customFields")
        .and_then(Value::as_array)
        .map(|fields| {
            fields
                .iter()
                .filter(|f| f.get("required").and_then(Value::as_bool) == Some(true))
                .filter(|f| f.get("section").and_then(Value::as_str).unwrap_or("order") == section)
                .filter_map(|f| f.get("id").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// ID prefix for orders, subscriptions and customers (`/general/idPrefix`, 1–5 characters).
pub fn id_prefix(ctx: &TenantContext) -> Option<String> {
    get(ctx, "/general/idPrefix")
        .and_then(Value::as_str)
        .filter(|p| (1..=5).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_string)
}

/// A new id for an order, subscription or customer, with the unit's prefix (SPEC §1.5).
pub fn prefixed_id(ctx: &TenantContext, prefix: &str, now: i64) -> String {
    let id = flexportal_domain::ids::new_id(prefix, now);
    match id_prefix(ctx) {
        Some(p) => format!("{p}-{id}"),
        None => id,
    }
}
