//! Tests of `orders`: order totals over quantities, prices, discounts and tax up to the limits.

use flexportal_domain::money::MAX_AMOUNT;
use flexportal_domain::pricing::{Discount, PricingTier, unit_price};
use proptest::prelude::*;

use super::{OrderItem, totals};
use crate::ErrorKind;
use crate::settings::Vat;

fn item(unit_price: i64, quantity: i64) -> OrderItem {
    OrderItem {
        sku: "SKU".into(),
        product_id: "prod".into(),
        variant_id: "var".into(),
        product_name: "Laptop".into(),
        product_image_url: None,
        quantity,
        unit_price,
        contract_length: 12,
        list_price: None,
        list_price_source: "unknown".into(),
        acquisition_cost: None,
        acquisition_cost_source: "unknown".into(),
        list_price_override: None,
        acquisition_cost_override: None,
        used_list_price_as_acquisition: false,
        setup_fee: None,
    }
}

/// The exact totals in i128, rounding half away from zero as SPEC §2.5 does.
fn exact(lines: &[(i64, i64)], vat: Vat) -> (i128, i128, i128) {
    let gross: i128 = lines
        .iter()
        .map(|(p, q)| i128::from(*p) * i128::from(*q))
        .sum();
    let rate = i128::from(vat.rate_bp);
    let round = |n: i128, d: i128| flexportal_domain::money::div_round_half_away(n, d);
    if rate == 0 || gross > i128::from(MAX_AMOUNT) {
        // Beyond the limit the order is refused whatever its tax; the products stay within i128.
        (gross, 0, gross)
    } else if vat.inclusive {
        let subtotal = round(gross * 10_000, 10_000 + rate);
        (subtotal, gross - subtotal, gross)
    } else {
        let tax = round(gross * rate, 10_000);
        (gross, tax, gross + tax)
    }
}

#[test]
fn the_reported_overflows_are_validation_errors() {
    let vat = Vat {
        rate_bp: 0,
        inclusive: false,
    };
    for q in [i64::MAX, 4_611_686_018_427_387_904, 9_007_199_254_740_992] {
        let e = totals(&[item(15_900, q)], vat).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert_eq!(e.into_wire().details[0].path, "items[0].quantity");
    }
    let e = totals(&[item(MAX_AMOUNT, 1), item(1, 1)], vat).unwrap_err();
    assert_eq!(e.into_wire().details[0].path, "items");
    assert_eq!(
        totals(&[item(MAX_AMOUNT, 1)], vat).unwrap(),
        (MAX_AMOUNT, 0, MAX_AMOUNT)
    );
}

proptest! {
    /// Any items (prices after any discount, quantities up to i64::MAX) at any VAT rate up to
    /// 100 %, inclusive or exclusive: the exact totals when they stay within `MAX_AMOUNT`,
    /// otherwise a validation error; never a wrapped number.
    #[test]
    fn totals_are_exact_or_refused(
        lines in prop::collection::vec(
            (0i64..=MAX_AMOUNT, prop_oneof![1i64..1_000, 1i64..=i64::MAX], prop::option::of((any::<bool>(), 0i64..=2_000_000))),
            1..6,
        ),
        rate_bp in prop_oneof![Just(0i64), 0i64..=10_000],
        inclusive in any::<bool>(),
    ) {
        let vat = Vat { rate_bp, inclusive };
        let priced: Vec<(i64, i64)> = lines
            .iter()
            .map(|(price, qty, discount)| {
                let tier = PricingTier {
                    contract_length: 12,
                    monthly_price: *price,
                    setup_fee: None,
                    discount: discount.map(|(percentage, v)| Discount {
                        kind: if percentage { "percentage" } else { "fixed" }.into(),
                        value: v.to_string(),
                        description: None,
                    }),
                    source: "manual".into(),
                    calculated_at: None,
                    preset_used: None,
                };
                let unit = unit_price(&tier).unwrap();
                prop_assert!((0..=*price).contains(&unit));
                Ok((unit, *qty))
            })
            .collect::<Result<_, TestCaseError>>()?;
        let items: Vec<OrderItem> = priced.iter().map(|(p, q)| item(*p, *q)).collect();
        let (subtotal, tax, total) = exact(&priced, vat);
        let line_too_big = priced
            .iter()
            .any(|(p, q)| i128::from(*p) * i128::from(*q) > i128::from(MAX_AMOUNT));
        match totals(&items, vat) {
            Ok((s, t, g)) => {
                prop_assert!(!line_too_big);
                prop_assert_eq!((i128::from(s), i128::from(t), i128::from(g)), (subtotal, tax, total));
                prop_assert!(g <= MAX_AMOUNT);
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::Validation);
                prop_assert!(line_too_big || total > i128::from(MAX_AMOUNT) || subtotal > i128::from(MAX_AMOUNT));
            }
        }
    }
}
