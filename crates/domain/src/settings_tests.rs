//! Tests of the settings document.

use super::*;
use serde_json::json;

#[test]
fn an_empty_document_is_the_documented_default() {
    let s = UnitSettings::from_stored("{}").unwrap();
    assert_eq!(s, UnitSettings::default());
    assert_eq!(
        s.subscriptions.buyouts.method,
        BuyoutMethod::RemainingMonths
    );
    assert!(s.subscriptions.buyouts.enabled && s.subscriptions.buyouts.allow_manual_override);
    assert_eq!(
        s.subscriptions.early_return.fee_percentage.basis_points(),
        Ok(10_000)
    );
    assert_eq!(
        s.subscriptions.contract_end.behaviour,
        ContractEndBehaviour::RequireAction
    );
    assert!(s.asset_workflow.require_inspection);
    assert!(!s.payments.late_fees.enabled);
    assert_eq!(s.pricing.default_contract_length, 12);
}

#[test]
fn stored_documents_keep_working_with_unknown_fields() {
    let s = UnitSettings::from_stored(
        r#"{"kept": true, "taxes": {"vatEnabled": true, "defaultRate": 21}}"#,
    )
    .unwrap();
    assert!(s.taxes.vat_enabled);
    assert_eq!(s.taxes.default_rate.basis_points(), Ok(2100));
}

#[test]
fn a_write_reports_every_failing_path() {
    let doc = json!({
        "payments": {"dayOfMonth": 31, "lateFees": {"enabled": true, "method": "flat", "value": 1.005}},
        "subscriptions": {"buyouts": {"rrpPercentage": 150, "flatFe": 5}, "earlyReturn": {"gracePeriodDays": -1}},
        "colour": "red"
    });
    let errors = UnitSettings::parse_for_write(&doc, 2).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
    for p in [
        "payments.dayOfMonth",
        "payments.lateFees.value",
        "subscriptions.buyouts.rrpPercentage",
        "subscriptions.buyouts.flatFe",
        "subscriptions.earlyReturn.gracePeriodDays",
        "colour",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    assert_eq!(errors.len(), 6, "{errors:?}");
}

#[test]
fn a_wrong_type_or_enum_value_is_refused() {
    for doc in [
        json!({"subscriptions": {"buyouts": {"method": "sliding"}}}),
        json!({"taxes": {"vatEnabled": "yes"}}),
        json!([1]),
    ] {
        assert!(UnitSettings::parse_for_write(&doc, 2).is_err(), "{doc}");
    }
}

#[test]
fn a_valid_document_round_trips() {
    let doc = json!({
        "general": {"idPrefix": "ELE"},
        "taxes": {"vatEnabled": true, "defaultRate": 21, "calculation": "inclusive"},
        "subscriptions": {
            "buyouts": {"method": "remaining_plus_rrp", "rrpPercentage": 50},
            "earlyReturn": {"feeMethod": "remaining_months", "feePercentage": 12.5, "gracePeriodDays": 14},
            "extensions": {"allowedLengths": [6, 12], "maxExtensions": 2},
            "contractEnd": {"behaviour": "auto_renew_monthly"}
        },
        "customFields": [{"id": "po", "required": true}],
        "catalog": {"conditions": [{"code": "new", "rrpFactor": 1.0}]}
    });
    let s = UnitSettings::parse_for_write(&doc, 2).unwrap();
    assert_eq!(
        s.subscriptions.early_return.fee_percentage.basis_points(),
        Ok(1250)
    );
    assert_eq!(
        s.subscriptions.extensions.allowed_lengths,
        Some(vec![6, 12])
    );
    assert_eq!(s.custom_fields[0].section, "order");
    let again = UnitSettings::from_stored(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(again, s);
    // JPY has no decimals: a fee of 10.5 does not fit.
    let jpy = json!({"subscriptions": {"buyouts": {"flatFee": 10.5}}});
    assert!(UnitSettings::parse_for_write(&jpy, 0).is_err());
    assert!(UnitSettings::parse_for_write(&jpy, 2).is_ok());
}

#[test]
fn payment_terms_use_the_documented_spelling() {
    let s =
        UnitSettings::parse_for_write(&json!({"payments": {"paymentTerms": "net_30"}}), 2).unwrap();
    assert_eq!(s.payments.payment_terms, PaymentTerms::Net30);
    assert_eq!(s.payments.payment_terms.days(), 30);
    assert!(
        UnitSettings::parse_for_write(&json!({"payments": {"paymentTerms": "net30"}}), 2).is_err()
    );
}

#[test]
fn documented_settings_without_an_effect_yet_are_stored() {
    let doc = json!({
        "features": {"paymentsCapture": "manual", "contractGeneration": true},
        "payments": {"automaticRetry": true, "maxAttempts": 5},
        "subscriptions": {"feeCalculation": {"partialMonthRounding": "down", "chargeForCurrentMonth": true}},
        "customFields": [{"id": "po", "type": "select", "options": ["a", "b"], "validation": {"maxLength": 20}}],
        "addresses": {"showCompany": "business", "fields": {"postalCode": {"required": true}}},
        "pricing": {"priceRounding": {"mode": "nearest", "to": 5}}
    });
    let s = UnitSettings::parse_for_write(&doc, 2).unwrap();
    assert!(s.features.contract_generation && s.features.files);
    assert_eq!(
        s.subscriptions.fee_calculation.partial_month_rounding,
        MonthRounding::Down
    );
    let again = serde_json::to_value(&s).unwrap();
    assert_eq!(again["addresses"], doc["addresses"]);
    assert_eq!(
        again["customFields"][0]["validation"],
        doc["customFields"][0]["validation"]
    );
    assert!(UnitSettings::parse_for_write(&json!({"payments": {"maxAttempts": 9}}), 2).is_err());
}

#[test]
fn the_thirty_day_cycle_uses_the_documented_spelling() {
    let s =
        UnitSettings::parse_for_write(&json!({"payments": {"billingCycle": "every_30_days"}}), 2)
            .unwrap();
    assert_eq!(s.payments.billing_cycle, BillingCycleSetting::Every30Days);
}
