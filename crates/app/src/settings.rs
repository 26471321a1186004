//! Business-unit settings that change API behaviour (SPEC §2.1), read from the unit's settings
//! document with the documented defaults.

use flexportal_domain::schedule::{BillingCycle, FirstPayment};
use flexportal_domain::settings::{BillingCycleSetting, FirstPaymentSetting, TaxCalculation};

use crate::TenantContext;

/// VAT: rate in basis points (2100 = 21 %) when enabled, else 0; and whether prices include it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vat {
    /// Rate in basis points; 0 when VAT is disabled.
    pub rate_bp: i64,
    /// `inclusive` calculation.
    pub inclusive: bool,
}

/// VAT settings (`taxes.vatEnabled`, `taxes.defaultRate` percent, `taxes.calculation`).
pub fn vat(ctx: &TenantContext) -> Vat {
    let t = &ctx.settings.taxes;
    if !t.vat_enabled {
        return Vat {
            rate_bp: 0,
            inclusive: false,
        };
    }
    Vat {
        rate_bp: t.default_rate.basis_points().unwrap_or(0).clamp(0, 10_000),
        inclusive: t.calculation == TaxCalculation::Inclusive,
    }
}

/// Default contract length in months (`pricing.defaultContractLength`, default 12).
pub fn default_contract_length(ctx: &TenantContext) -> i64 {
    ctx.settings.pricing.default_contract_length
}

/// Payment terms in days for business customers (`payments.paymentTerms`: `immediate`,
/// `net_7`, `net_14`, `net_30`); individuals always 0.
pub fn payment_terms_days(ctx: &TenantContext, business: bool) -> i64 {
    if business {
        ctx.settings.payments.payment_terms.days()
    } else {
        0
    }
}

/// Billing cycle (`payments.billingCycle`: `start_date`, `fixed_day` with `payments.dayOfMonth`
/// 1–28, `every_30_days`).
pub fn billing_cycle(ctx: &TenantContext) -> BillingCycle {
    let p = &ctx.settings.payments;
    match p.billing_cycle {
        BillingCycleSetting::FixedDay => BillingCycle::FixedDay(p.day_of_month.clamp(1, 28) as i8),
        BillingCycleSetting::Every30Days => BillingCycle::Every30Days,
        BillingCycleSetting::StartDate => BillingCycle::StartDate,
    }
}

/// First payment (`payments.firstPayment`).
pub fn first_payment(ctx: &TenantContext) -> FirstPayment {
    match ctx.settings.payments.first_payment {
        FirstPaymentSetting::ProRated => FirstPayment::ProRated,
        FirstPaymentSetting::FreeUntilCycle => FirstPayment::FreeUntilCycle,
        FirstPaymentSetting::CollectedExternally => FirstPayment::CollectedExternally,
        FirstPaymentSetting::FullMonth => FirstPayment::FullMonth,
    }
}

/// Order-form quantity limits the unit has set (`orderForm.minQuantity`, `orderForm.maxQuantity`).
pub fn quantity_limits(ctx: &TenantContext) -> (Option<i64>, Option<i64>) {
    let f = &ctx.settings.order_form;
    (f.min_quantity, f.max_quantity)
}

/// Ids of required custom fields of a section (`customFields[] {id, required, section}`).
pub fn required_custom_fields(ctx: &TenantContext, section: &str) -> Vec<String> {
    ctx.settings
        .custom_fields
        .iter()
        .filter(|f| f.required && f.section == section)
        .map(|f| f.id.clone())
        .collect()
}

/// ID prefix for orders, subscriptions and customers (`general.idPrefix`, 1–5 characters).
pub fn id_prefix(ctx: &TenantContext) -> Option<String> {
    ctx.settings
        .general
        .id_prefix
        .as_ref()
        .filter(|p| (1..=5).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
        .cloned()
}

/// A new id for an order, subscription or customer, with the unit's prefix (SPEC §1.5).
pub fn prefixed_id(ctx: &TenantContext, prefix: &str, now: i64) -> String {
    let id = flexportal_domain::ids::new_id(prefix, now);
    match id_prefix(ctx) {
        Some(p) => format!("{p}-{id}"),
        None => id,
    }
}
