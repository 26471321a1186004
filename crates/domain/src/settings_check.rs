//! Validation of a settings document on write (SPEC §2.1): ranges, decimals, money in the
//! unit's currency, and unknown fields.

use serde_json::{Map, Value};

use super::{Decimal, LateFeeMethod, UnitSettings};
use crate::error::Detail;
use crate::money::parse_amount;

/// Every range and decimal rule of the settings; one [`Detail`] per failing path.
pub(super) fn check(s: &UnitSettings, exponent: u32, errors: &mut Vec<Detail>) {
    let mut range = |path: &str, v: i64, lo: i64, hi: i64| {
        if v < lo {
            errors.push(Detail::new(
                path.to_string(),
                "too_small",
                format!("must be at least {lo}"),
            ));
        } else if v > hi {
            errors.push(Detail::new(
                path.to_string(),
                "too_big",
                format!("must be at most {hi}"),
            ));
        }
    };
    range("payments.dayOfMonth", s.payments.day_of_month, 1, 28);
    if let Some(n) = s.api.rate_limit_per_minute {
        range("api.rateLimitPerMinute", i64::from(n), 1, 1_000_000);
    }
    if let Some(n) = s.api.abuse_ceiling_per_minute {
        range("api.abuseCeilingPerMinute", i64::from(n), 1, 1_000_000);
    }
    range("payments.maxAttempts", s.payments.max_attempts, 1, 5);
    range(
        "payments.lateFees.gracePeriodDays",
        s.payments.late_fees.grace_period_days,
        0,
        365,
    );
    range(
        "pricing.defaultContractLength",
        s.pricing.default_contract_length,
        1,
        120,
    );
    let ext = &s.subscriptions.extensions;
    for (i, len) in ext.allowed_lengths.iter().flatten().enumerate() {
        range(
            &format!("subscriptions.extensions.allowedLengths.{i}"),
            *len,
            1,
            120,
        );
    }
    if let Some(m) = ext.max_extensions {
        range("subscriptions.extensions.maxExtensions", m, 0, 1000);
    }
    if let Some(d) = ext.min_days_before_end {
        range("subscriptions.extensions.minDaysBeforeEnd", d, 0, 3650);
    }
    range(
        "subscriptions.earlyReturn.gracePeriodDays",
        s.subscriptions.early_return.grace_period_days,
        0,
        365,
    );
    if let Some(p) = &s.general.id_prefix
        && !((1..=5).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        errors.push(Detail::new(
            "general.idPrefix",
            "invalid_string",
            "must be 1-5 ASCII letters or digits",
        ));
    }
    if let (Some(lo), Some(hi)) = (s.order_form.min_quantity, s.order_form.max_quantity)
        && lo > hi
    {
        errors.push(Detail::new(
            "orderForm.maxQuantity",
            "too_small",
            "must be at least minQuantity",
        ));
    }
    let percents = [
        ("taxes.defaultRate", &s.taxes.default_rate, 100),
        (
            "pricing.valueRecoveryPercent",
            &s.pricing.value_recovery_percent,
            100,
        ),
        (
            "pricing.profitMarginPercent",
            &s.pricing.profit_margin_percent,
            1000,
        ),
        (
            "subscriptions.buyouts.rrpPercentage",
            &s.subscriptions.buyouts.rrp_percentage,
            100,
        ),
        (
            "subscriptions.earlyReturn.feePercentage",
            &s.subscriptions.early_return.fee_percentage,
            100,
        ),
    ];
    for (path, value, max) in percents {
        decimal(path, value, 2, max, errors);
    }
    if s.payments.late_fees.method == LateFeeMethod::Percentage {
        decimal(
            "payments.lateFees.value",
            &s.payments.late_fees.value,
            2,
            100,
            errors,
        );
    } else {
        money(
            "payments.lateFees.value",
            &s.payments.late_fees.value,
            exponent,
            errors,
        );
    }
    money(
        "subscriptions.buyouts.flatFee",
        &s.subscriptions.buyouts.flat_fee,
        exponent,
        errors,
    );
    money(
        "subscriptions.earlyReturn.flatFee",
        &s.subscriptions.early_return.flat_fee,
        exponent,
        errors,
    );
}

/// A non-negative decimal with at most `decimals` decimals and at most `max`.
fn decimal(path: &str, value: &Decimal, decimals: usize, max: i64, errors: &mut Vec<Detail>) {
    if value.too_precise(decimals) {
        errors.push(Detail::new(
            path,
            "invalid_string",
            format!("at most {decimals} decimals"),
        ));
        return;
    }
    match parse_amount(&value.0.to_string(), decimals as u32) {
        Ok(v) if v < 0 => errors.push(Detail::new(path, "too_small", "must be at least 0")),
        Ok(v) if v > max * 10i64.pow(decimals as u32) => errors.push(Detail::new(
            path,
            "too_big",
            format!("must be at most {max}"),
        )),
        Ok(_) => {}
        Err(e) => errors.push(Detail::new(path, "invalid_type", e.to_string())),
    }
}

/// A non-negative amount in major units with the currency's decimals.
fn money(path: &str, value: &Decimal, exponent: u32, errors: &mut Vec<Detail>) {
    decimal(
        path,
        value,
        exponent as usize,
        crate::money::MAX_AMOUNT / 10i64.pow(exponent),
        errors,
    )
}

/// The serialized default document with every optional field present, so that a key of the
/// input is known when it appears here or in the serialized parse.
pub(super) fn schema_defaults() -> Value {
    let mut s = UnitSettings::default();
    s.general.display_name = Some(String::new());
    s.general.id_prefix = Some(String::new());
    s.api.rate_limit_per_minute = Some(0);
    s.taxes.vat_number = Some(String::new());
    s.subscriptions.extensions.allowed_lengths = Some(Vec::new());
    s.subscriptions.extensions.max_extensions = Some(0);
    s.subscriptions.extensions.min_days_before_end = Some(0);
    s.order_form.min_quantity = Some(0);
    s.order_form.max_quantity = Some(0);
    s.addresses = Some(Value::Null);
    s.pricing.contract_lengths = Some(Value::Null);
    s.pricing.price_rounding = Some(Value::Null);
    serde_json::to_value(&s).unwrap_or(Value::Null)
}

/// Reports every key of `input` (objects only, recursively; arrays element-wise) that neither
/// the serialized parse nor the full default document knows.
pub(super) fn unknown_keys(
    input: &Value,
    known: &Value,
    defaults: &Value,
    path: &str,
    errors: &mut Vec<Detail>,
) {
    let empty = Map::new();
    match input {
        Value::Object(m) => {
            let k = known.as_object().unwrap_or(&empty);
            let d = defaults.as_object().unwrap_or(&empty);
            for (key, v) in m {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (k.get(key), d.get(key)) {
                    (None, None) => errors.push(Detail::new(
                        child,
                        "unrecognized_keys",
                        format!("unknown setting {key:?}"),
                    )),
                    (kn, df) => unknown_keys(
                        v,
                        kn.unwrap_or(&Value::Null),
                        df.unwrap_or(&Value::Null),
                        &child,
                        errors,
                    ),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let kn = known.get(i).unwrap_or(&Value::Null);
                unknown_keys(v, kn, kn, &format!("{path}.{i}"), errors);
            }
        }
        _ => {}
    }
}
