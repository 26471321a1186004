//! Buyout prices and early-return fees (SPEC §2.13 "Quote metrics", §2.6.5), computed from the
//! remaining charges of a subscription at an as-of date and the business unit's settings. The
//! calculate endpoints and the actions call the same functions, so a quote and the charge of
//! the action on the same date never differ.
//!
//! Money is `i64` minor units of the unit's currency; percentages are basis points (4 000 =
//! 40 %); products are rounded half away from zero to the currency's minor unit (SPEC §1.7).

use jiff::civil::Date;

use crate::money::{AmountError, checked_sum, div_round_half_away};
use crate::settings::{BuyoutMethod, Buyouts, EarlyReturn, EarlyReturnMethod};

/// What every quote starts from (SPEC §2.6.4 at the as-of date `X`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteInput {
    /// `remainingMonths` = |R(X)|.
    pub remaining_months: i64,
    /// `remainingContractValue` = Σ base amounts of R(X), minor units.
    pub remaining_value: i64,
    /// Contract months whose service starts after `X`, open or paid in advance (not cancelled):
    /// 0 means every contract month has started, so a return completes the contract
    /// (SPEC §2.6.5).
    pub months_not_started: i64,
    /// The list-price snapshot, minor units; `None` when unknown.
    pub list_price: Option<i64>,
    /// The subscription's start date.
    pub start_date: Date,
    /// The as-of date `X`.
    pub as_of: Date,
}

/// A buyout quote (SPEC §2.13): `price = remaining_months_payment + list_price_amount +
/// flat_fee`, unused parts 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuyoutQuote {
    /// The method it was computed with.
    pub method: BuyoutMethod,
    /// The price, minor units.
    pub price: i64,
    /// Remaining months (always filled, for information).
    pub remaining_months: i64,
    /// `remainingPayments`: the remaining contract value whatever the method, minor units.
    pub remaining_value: i64,
    /// The remaining-months part, minor units.
    pub remaining_months_payment: i64,
    /// Percentage of the list price applied, basis points.
    pub list_price_percentage_bp: i64,
    /// The list-price part, minor units.
    pub list_price_amount: i64,
    /// The flat part, minor units.
    pub flat_fee: i64,
    /// The price cannot be computed (an RRP method without a list price, or a total of 0):
    /// processing needs an explicit `buyoutPrice`.
    pub requires_manual_price: bool,
}

/// `amount × bp ÷ 10 000`, rounded half away from zero to the minor unit.
pub fn percent_of(amount: i64, bp: i64) -> i64 {
    div_round_half_away(i128::from(amount) * i128::from(bp), 10_000) as i64
}

/// The buyout price by the unit's method (SPEC §2.13, §4.5). Errors: a setting that does not
/// convert in the currency with `exponent` decimals (settings are validated on write, so only
/// a document written around the validation can fail).
pub fn buyout(s: &Buyouts, exponent: u32, q: &QuoteInput) -> Result<BuyoutQuote, AmountError> {
    let rrp_bp = s.rrp_percentage.basis_points()?;
    let flat = s.flat_fee.minor(exponent)?;
    let (remaining, rrp, flat) = match s.method {
        BuyoutMethod::RemainingMonths => (q.remaining_value, 0, 0),
        BuyoutMethod::RrpPercentage => (0, rrp_bp, 0),
        BuyoutMethod::RemainingPlusRrp => (q.remaining_value, rrp_bp, 0),
        BuyoutMethod::FlatFee => (0, 0, flat),
        BuyoutMethod::RemainingPlusFlat => (q.remaining_value, 0, flat),
    };
    let rrp_method = matches!(
        s.method,
        BuyoutMethod::RrpPercentage | BuyoutMethod::RemainingPlusRrp
    );
    let list_price_amount = q.list_price.map_or(0, |lp| percent_of(lp, rrp));
    let price =
        checked_sum([remaining, list_price_amount, flat]).map_err(|_| AmountError::TooLarge)?;
    Ok(BuyoutQuote {
        method: s.method,
        price,
        remaining_months: q.remaining_months,
        remaining_value: q.remaining_value,
        remaining_months_payment: remaining,
        list_price_percentage_bp: rrp,
        list_price_amount,
        flat_fee: flat,
        requires_manual_price: price == 0 || (rrp_method && q.list_price.is_none()),
    })
}

/// An early-return fee quote (SPEC §2.13, §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyReturnQuote {
    /// The method it was computed with.
    pub method: EarlyReturnMethod,
    /// The fee, minor units.
    pub fee: i64,
    /// Remaining months.
    pub remaining_months: i64,
    /// Remaining contract value, minor units.
    pub remaining_value: i64,
    /// The unit's fee percentage for `remaining_months` in basis points, 0 for other methods
    /// (`penaltyPercentage`).
    pub fee_percentage_bp: i64,
    /// The grace period waived the fee.
    pub grace_period_applied: bool,
    /// Days from the start date to the as-of date (negative before the start).
    pub days_from_start: i64,
}

/// Days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    from.until((jiff::Unit::Day, to))
        .map(|s| i64::from(s.get_days()))
        .unwrap_or(0)
}

/// The early-return fee by the unit's method, with the grace period: when `gracePeriodDays` > 0
/// and the days from the start are at most that, the fee is 0 (SPEC §2.13). Errors: as
/// [`buyout`].
pub fn early_return(
    s: &EarlyReturn,
    exponent: u32,
    q: &QuoteInput,
) -> Result<EarlyReturnQuote, AmountError> {
    let pct = s.fee_percentage.basis_points()?;
    let days = days_between(q.start_date, q.as_of);
    let grace = s.grace_period_days > 0 && days <= s.grace_period_days;
    let (fee, fee_percentage_bp) = match s.fee_method {
        EarlyReturnMethod::RemainingMonths => (percent_of(q.remaining_value, pct), pct),
        EarlyReturnMethod::FlatFee => (s.flat_fee.minor(exponent)?, 0),
        EarlyReturnMethod::NoFee => (0, 0),
    };
    Ok(EarlyReturnQuote {
        method: s.fee_method,
        fee: if grace { 0 } else { fee },
        remaining_months: q.remaining_months,
        remaining_value: q.remaining_value,
        fee_percentage_bp,
        grace_period_applied: grace,
        days_from_start: days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Decimal;
    use jiff::civil::date;

    /// SPEC §4.5/§4.6: 12 × 89.00 from 2025-01-01, 6 paid, as of 2025-06-15, list 1 999.00.
    fn spec() -> QuoteInput {
        QuoteInput {
            remaining_months: 6,
            remaining_value: 53_400,
            months_not_started: 6,
            list_price: Some(199_900),
            start_date: date(2025, 1, 1),
            as_of: date(2025, 6, 15),
        }
    }

    fn buyouts(method: BuyoutMethod, rrp: i64, flat: i64) -> Buyouts {
        Buyouts {
            method,
            rrp_percentage: Decimal::int(rrp),
            flat_fee: Decimal::int(flat),
            ..Buyouts::default()
        }
    }

    #[test]
    fn buyout_by_each_method_gives_the_spec_figures() {
        let cases = [
            (
                BuyoutMethod::RemainingMonths,
                0,
                0,
                53_400,
                (53_400, 0, 0, 0),
            ),
            (
                BuyoutMethod::RrpPercentage,
                40,
                0,
                79_960,
                (0, 4_000, 79_960, 0),
            ),
            (
                BuyoutMethod::RemainingPlusRrp,
                50,
                0,
                153_350,
                (53_400, 5_000, 99_950, 0),
            ),
            (BuyoutMethod::FlatFee, 0, 500, 50_000, (0, 0, 0, 50_000)),
            (
                BuyoutMethod::RemainingPlusFlat,
                0,
                200,
                73_400,
                (53_400, 0, 0, 20_000),
            ),
        ];
        for (method, rrp, flat, price, (rem, pct, amount, fee)) in cases {
            let q = buyout(&buyouts(method, rrp, flat), 2, &spec()).unwrap();
            assert_eq!(q.price, price, "{method:?}");
            assert_eq!(
                (
                    q.remaining_months,
                    q.remaining_months_payment,
                    q.list_price_percentage_bp,
                    q.list_price_amount,
                    q.flat_fee
                ),
                (6, rem, pct, amount, fee),
                "{method:?}"
            );
            assert!(!q.requires_manual_price);
            assert_eq!(
                q.remaining_value, 53_400,
                "remainingPayments whatever the method"
            );
        }
        // A list price of 1 000.00 at 40 % is 400.00; the calculate page's 129.00 × 4 + 142.00.
        let q = buyout(
            &buyouts(BuyoutMethod::RrpPercentage, 40, 0),
            2,
            &QuoteInput {
                list_price: Some(100_000),
                ..spec()
            },
        )
        .unwrap();
        assert_eq!(q.price, 40_000);
        let q = buyout(
            &buyouts(BuyoutMethod::RemainingPlusFlat, 0, 142),
            2,
            &QuoteInput {
                remaining_months: 4,
                remaining_value: 51_600,
                ..spec()
            },
        )
        .unwrap();
        assert_eq!(q.price, 65_800);
    }

    #[test]
    fn a_buyout_that_cannot_be_computed_asks_for_a_price() {
        let none_left = QuoteInput {
            remaining_months: 0,
            months_not_started: 0,
            remaining_value: 0,
            ..spec()
        };
        let q = buyout(&Buyouts::default(), 2, &none_left).unwrap();
        assert_eq!((q.price, q.requires_manual_price), (0, true));
        let no_list = QuoteInput {
            list_price: None,
            ..spec()
        };
        let q = buyout(&buyouts(BuyoutMethod::RemainingPlusRrp, 50, 0), 2, &no_list).unwrap();
        assert_eq!((q.price, q.list_price_amount), (53_400, 0));
        assert!(q.requires_manual_price);
    }

    fn returns(method: EarlyReturnMethod, pct: i64, flat: i64, grace: i64) -> EarlyReturn {
        EarlyReturn {
            fee_method: method,
            fee_percentage: Decimal::int(pct),
            flat_fee: Decimal::int(flat),
            grace_period_days: grace,
            ..EarlyReturn::default()
        }
    }

    #[test]
    fn early_return_fee_by_each_method_gives_the_spec_figures() {
        let cases = [
            (EarlyReturnMethod::RemainingMonths, 100, 0, 53_400, 10_000),
            (EarlyReturnMethod::RemainingMonths, 50, 0, 26_700, 5_000),
            (EarlyReturnMethod::RemainingMonths, 20, 0, 10_680, 2_000),
            (EarlyReturnMethod::FlatFee, 100, 200, 20_000, 0),
            (EarlyReturnMethod::NoFee, 100, 0, 0, 0),
        ];
        for (method, pct, flat, fee, penalty) in cases {
            let q = early_return(&returns(method, pct, flat, 0), 2, &spec()).unwrap();
            assert_eq!(
                (q.fee, q.fee_percentage_bp),
                (fee, penalty),
                "{method:?} {pct}"
            );
            assert_eq!((q.remaining_months, q.days_from_start), (6, 165));
            assert!(!q.grace_period_applied);
        }
        // The calculate page: 129.00 × 4 = 516.00 at 50 % → 258.00.
        let q = early_return(
            &returns(EarlyReturnMethod::RemainingMonths, 50, 0, 0),
            2,
            &QuoteInput {
                remaining_months: 4,
                remaining_value: 51_600,
                ..spec()
            },
        )
        .unwrap();
        assert_eq!(q.fee, 25_800);
    }

    #[test]
    fn the_grace_period_waives_the_fee() {
        let s = returns(EarlyReturnMethod::RemainingMonths, 100, 0, 14);
        let early = QuoteInput {
            as_of: date(2025, 1, 10),
            remaining_months: 11,
            remaining_value: 97_900,
            ..spec()
        };
        let q = early_return(&s, 2, &early).unwrap();
        assert_eq!(
            (q.fee, q.grace_period_applied, q.days_from_start),
            (0, true, 9)
        );
        let last_day = QuoteInput {
            as_of: date(2025, 1, 15),
            ..early
        };
        assert!(early_return(&s, 2, &last_day).unwrap().grace_period_applied);
        let after = QuoteInput {
            as_of: date(2025, 1, 16),
            ..early
        };
        let q = early_return(&s, 2, &after).unwrap();
        assert_eq!((q.fee, q.grace_period_applied), (97_900, false));
    }
}
