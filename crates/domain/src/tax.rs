//! Tax on a charge or an order (SPEC §2.7 Amounts, worked examples §4.8): exact integer
//! arithmetic in minor units, rounding half away from zero, every step checked.

use crate::money::{Overflow, div_round_half_away};

/// `subtotal`, `taxAmount` and `total` of a payment or line, in minor units (SPEC §2.7 Amounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amounts {
    /// Net amount in minor units (the income counted for cost recovery).
    pub subtotal: i64,
    /// Tax in minor units.
    pub tax_amount: i64,
    /// Gross amount in minor units (= `amount`).
    pub total: i64,
}

/// The amounts of a charge with base amount `base` (minor units) at a VAT rate given in basis
/// points of a percent (2100 = 21.00 %; 0 = VAT disabled), per SPEC §2.7 Amounts, rounding half
/// away from zero to minor units:
/// exclusive: subtotal = base, tax = round(base × r/100), total = subtotal + tax;
/// inclusive: total = base, subtotal = round(base ÷ (1 + r/100)), tax = total − subtotal.
///
/// Errors: [`Overflow`] when the total does not fit in `i64` minor units.
pub fn apply_tax(base: i64, rate_basis_points: i64, inclusive: bool) -> Result<Amounts, Overflow> {
    apply_tax_ratio(base, rate_basis_points, 100, inclusive)
}

/// [`apply_tax`] for any exact rate: the rate in percent is `rate_numerator ÷ rate_denominator`
/// (e.g. 8.875 % = 8875 ÷ 1000). Amounts in minor units; a denominator ≤ 0 means no tax.
///
/// Errors: [`Overflow`] when an amount does not fit in `i64` minor units.
pub fn apply_tax_ratio(
    base: i64,
    rate_numerator: i64,
    rate_denominator: i64,
    inclusive: bool,
) -> Result<Amounts, Overflow> {
    if rate_numerator == 0 || rate_denominator <= 0 {
        return Ok(Amounts {
            subtotal: base,
            tax_amount: 0,
            total: base,
        });
    }
    // |base| < 2^63 and the rate factors < 2^63 · 100: the products fit in i128.
    let base_w = i128::from(base);
    let num = i128::from(rate_numerator);
    let den = i128::from(rate_denominator) * 100;
    if inclusive {
        let divisor = den.checked_add(num).filter(|d| *d != 0).ok_or(Overflow)?;
        let subtotal = narrow(div_round_half_away(base_w * den, divisor))?;
        Ok(Amounts {
            subtotal,
            tax_amount: base.checked_sub(subtotal).ok_or(Overflow)?,
            total: base,
        })
    } else {
        let tax_amount = narrow(div_round_half_away(base_w * num, den))?;
        Ok(Amounts {
            subtotal: base,
            tax_amount,
            total: base.checked_add(tax_amount).ok_or(Overflow)?,
        })
    }
}

fn narrow(v: i128) -> Result<i64, Overflow> {
    i64::try_from(v).map_err(|_| Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn a(subtotal: i64, tax_amount: i64, total: i64) -> Amounts {
        Amounts {
            subtotal,
            tax_amount,
            total,
        }
    }

    #[test]
    fn payment_tax_amounts() {
        // SPEC §4.8.
        assert_eq!(apply_tax(8_900, 2_100, false), Ok(a(8_900, 1_869, 10_769)));
        assert_eq!(apply_tax(8_900, 2_100, true), Ok(a(7_355, 1_545, 8_900)));
        assert_eq!(
            apply_tax(88_200, 2_100, false),
            Ok(a(88_200, 18_522, 106_722))
        );
        assert_eq!(
            apply_tax(88_200, 2_100, true),
            Ok(a(72_893, 15_307, 88_200))
        );
        assert_eq!(apply_tax(88_200, 0, false), Ok(a(88_200, 0, 88_200)));
        assert_eq!(apply_tax(88_200, 0, true), Ok(a(88_200, 0, 88_200)));
        // SPEC §4.9 lines.
        assert_eq!(
            apply_tax(12_900, 2_100, false).map(|x| x.tax_amount),
            Ok(2_709)
        );
        assert_eq!(
            apply_tax(15_900, 2_100, false).map(|x| x.tax_amount),
            Ok(3_339)
        );
        // 8.875 % exclusive on 100.00 → 8.875 → 8.88.
        assert_eq!(
            apply_tax_ratio(10_000, 8_875, 1_000, false).map(|x| x.tax_amount),
            Ok(888)
        );
        assert_eq!(
            apply_tax(-8_900, 2_100, false).map(|x| x.tax_amount),
            Ok(-1_869)
        );
    }

    #[test]
    fn totals_that_do_not_fit_are_errors() {
        assert_eq!(apply_tax(i64::MAX, 2_100, false), Err(Overflow));
        assert_eq!(
            apply_tax(i64::MAX / 2, 10_000, false),
            Ok(a(i64::MAX / 2, i64::MAX / 2, i64::MAX - 1))
        );
        assert_eq!(apply_tax(i64::MIN, 2_100, false), Err(Overflow));
        // Inclusive tax never grows the amount, so it always fits.
        assert!(apply_tax(i64::MAX, 2_100, true).is_ok());
        assert!(apply_tax(i64::MIN + 1, 2_100, true).is_ok());
    }

    proptest! {
        #[test]
        fn inclusive_and_exclusive_tax_are_consistent(
            base in -1_000_000_000i64..1_000_000_000,
            bp in 0i64..5_000,
        ) {
            let ex = apply_tax(base, bp, false).unwrap();
            prop_assert_eq!(ex.subtotal + ex.tax_amount, ex.total);
            prop_assert_eq!(ex.subtotal, base);
            let inc = apply_tax(base, bp, true).unwrap();
            prop_assert_eq!(inc.subtotal + inc.tax_amount, inc.total);
            prop_assert_eq!(inc.total, base);
            prop_assert!(inc.subtotal.abs() <= base.abs());
        }

        /// Over the whole `i64` range and every rate up to 100 %: either the exact result
        /// (checked against i128 arithmetic) or an overflow error, never a wrapped number.
        #[test]
        fn any_base_and_rate_is_exact_or_an_error(base in any::<i64>(), bp in 0i64..=10_000) {
            match apply_tax(base, bp, false) {
                Ok(x) => {
                    prop_assert_eq!(i128::from(x.subtotal) + i128::from(x.tax_amount), i128::from(x.total));
                    prop_assert_eq!(x.subtotal, base);
                }
                Err(Overflow) => {
                    let tax = div_round_half_away(i128::from(base) * i128::from(bp), 10_000);
                    prop_assert!(i64::try_from(i128::from(base) + tax).is_err());
                }
            }
            let inc = apply_tax(base, bp, true);
            if base > i64::MIN {
                let inc = inc.unwrap();
                prop_assert_eq!(inc.total, base);
                prop_assert_eq!(i128::from(inc.subtotal) + i128::from(inc.tax_amount), i128::from(base));
            }
        }
    }
}
