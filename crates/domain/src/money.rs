//! Exact money (SPEC §1.7): amounts live as `i64` minor units of the business unit's currency and
//! cross the wire as JSON decimal numbers in major units, converted with the currency's exponent
//! (EUR 2, JPY 0, KWD 3). No binary floating point is ever involved.

use serde_json::Value;

/// An ISO 4217 currency: its three-letter code and the number of decimal digits of its minor unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    code: String,
    exponent: u32,
}

/// An amount in minor units (cents for EUR) with its currency exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money {
    /// Minor units.
    pub minor: i64,
    /// Decimal digits of the minor unit.
    pub exponent: u32,
}

impl Money {
    /// The amount as a JSON number in major units with exactly `exponent` decimals (`89.00`).
    pub fn to_json(self) -> Value {
        amount_json(self.minor, self.exponent)
    }
}

const ZERO_DECIMALS: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
const THREE_DECIMALS: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

impl Currency {
    /// Parses a three-letter ISO 4217 code (case-insensitive input, stored uppercase).
    /// Returns `None` for anything that is not three ASCII letters.
    pub fn parse(code: &str) -> Option<Currency> {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let exponent = if ZERO_DECIMALS.contains(&code.as_str()) {
            0
        } else if THREE_DECIMALS.contains(&code.as_str()) {
            3
        } else {
            2
        };
        Some(Currency { code, exponent })
    }
    /// The uppercase code, e.g. `EUR`.
    pub fn code(&self) -> &str {
        &self.code
    }
    /// Decimal digits of the minor unit (EUR 2, JPY 0, KWD 3).
    pub fn exponent(&self) -> u32 {
        self.exponent
    }
    /// Wraps minor units of this currency.
    pub fn money(&self, minor: i64) -> Money {
        Money {
            minor,
            exponent: self.exponent,
        }
    }
}

/// The largest amount, in minor units, that any money field accepts and any order total may reach:
/// 10^15 (10 000 000 000 000.00 EUR). Far beyond any rental, and small enough that every derived
/// figure (a monthly price over the longest contract of 120 months, tax of up to 100 %, a
/// customer's totals over thousands of rentals) stays exact in `i64` minor units.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// An amount or quantity computation whose result does not fit (in `i64` minor units, or beyond
/// [`MAX_AMOUNT`] where that bound applies). Use cases answer it with 400 `VALIDATION_ERROR`
/// naming the field that made it overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the amount does not fit")]
pub struct Overflow;

/// `unit × quantity` in minor units, checked: [`Overflow`] when the product exceeds
/// [`MAX_AMOUNT`] in magnitude or does not fit in `i64`.
pub fn line_amount(unit: i64, quantity: i64) -> Result<i64, Overflow> {
    unit.checked_mul(quantity)
        .filter(|v| v.unsigned_abs() <= MAX_AMOUNT as u64)
        .ok_or(Overflow)
}

/// The sum of amounts or quantities, checked: [`Overflow`] when any partial sum does not fit in
/// `i64`.
pub fn checked_sum(values: impl IntoIterator<Item = i64>) -> Result<i64, Overflow> {
    values
        .into_iter()
        .try_fold(0i64, |acc, v| acc.checked_add(v).ok_or(Overflow))
}

/// Why a decimal text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a plain decimal number (exponents, signs in the middle, empty text).
    #[error("must be a decimal number")]
    NotANumber,
    /// Beyond [`MAX_AMOUNT`] minor units in magnitude.
    #[error("is too large")]
    TooLarge,
}

/// Parses a decimal text (`"1750.0"`, `"-3.5"`, `"12"`, `"1e3"`) into minor units with
/// `exponent` decimals, rounding half away from zero beyond that precision (SPEC §1.7).
/// Amounts beyond [`MAX_AMOUNT`] minor units in magnitude are [`AmountError::TooLarge`].
pub fn parse_amount(text: &str, exponent: u32) -> Result<i64, AmountError> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    // Split an optional scientific exponent (serde_json keeps numbers like 1e3 as written).
    let (mantissa, sci) = match body.find(['e', 'E']) {
        Some(i) => {
            let e: i32 = body[i + 1..].parse().map_err(|_| AmountError::NotANumber)?;
            (&body[..i], e)
        }
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(AmountError::NotANumber);
    }
    // All digits, and the position of the decimal point after shifting by the exponents.
    let digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .collect();
    let point = int_part.len() as i64 + sci as i64 + exponent as i64;
    if point > 40 {
        // More than 40 integer digits of minor units is certainly too large, unless all are zero.
        if digits.iter().all(|d| *d == 0) {
            return Ok(0);
        }
        return Err(AmountError::TooLarge);
    }
    let mut value: i128 = 0;
    let mut round_up = false;
    for (i, d) in digits.iter().enumerate() {
        let i = i as i64;
        if i < point {
            value = value * 10 + *d as i128;
            if value > i64::MAX as i128 {
                return Err(AmountError::TooLarge);
            }
        } else if i == point {
            round_up = *d >= 5;
            break;
        }
    }
    // Digits missing before the point are zeros (e.g. "12" with exponent 2 → 1200).
    let have = digits.len() as i64;
    if have < point {
        for _ in 0..(point - have) {
            value *= 10;
            if value > i64::MAX as i128 {
                return Err(AmountError::TooLarge);
            }
        }
    }
    if round_up {
        value += 1;
    }
    if value > MAX_AMOUNT as i128 {
        return Err(AmountError::TooLarge);
    }
    let v = value as i64;
    Ok(if negative { -v } else { v })
}

/// Formats minor units as a decimal text with exactly `exponent` decimals (`8900`, 2 → `"89.00"`).
pub fn format_amount(minor: i64, exponent: u32) -> String {
    let negative = minor < 0;
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(exponent);
    let int = abs / scale;
    let frac = abs % scale;
    let sign = if negative { "-" } else { "" };
    if exponent == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:0width$}", width = exponent as usize)
    }
}

/// The amount as a JSON number in major units, written with exactly `exponent` decimals.
pub fn amount_json(minor: i64, exponent: u32) -> Value {
    let text = format_amount(minor, exponent);
    match text.parse::<serde_json::Number>() {
        Ok(n) => Value::Number(n),
        Err(_) => Value::Null,
    }
}

/// `numerator ÷ denominator` rounded half up (toward +∞ on a tie), exactly; `denominator` > 0
/// (SPEC §1.7). Exact for any operands that are `i64` values widened or scaled by a few powers of
/// ten: the doubling stays far inside `i128`.
pub fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    (2 * numerator + denominator).div_euclid(2 * denominator)
}

/// Rounds `numerator / denominator` half away from zero (both in exact integers).
pub fn div_round_half_away(numerator: i128, denominator: i128) -> i128 {
    if denominator == 0 {
        return 0;
    }
    let q = numerator / denominator;
    let r = numerator % denominator;
    if (r.abs() * 2) >= denominator.abs() {
        if (numerator < 0) != (denominator < 0) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    }
}

/// A percentage `part / whole × 100` rounded half up to `decimals` places, returned as a JSON
/// number (SPEC §1.7: 1 decimal for cost recovery and margins, 2 for customer-level figures).
/// `None` when `whole` is 0.
pub fn percent_json(part: i64, whole: i64, decimals: u32) -> Option<Value> {
    if whole == 0 {
        return None;
    }
    let scale = 10i128.pow(decimals);
    let scaled = div_round_half_away(part as i128 * 100 * scale, whole as i128);
    Some(amount_json(scaled as i64, decimals))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(parse_amount("1750.0", 2), Ok(175_000));
        assert_eq!(parse_amount("59", 2), Ok(5_900));
        assert_eq!(parse_amount("0.1", 2), Ok(10));
        assert_eq!(parse_amount("89.005", 2), Ok(8_901));
        assert_eq!(parse_amount("-89.005", 2), Ok(-8_901));
        assert_eq!(parse_amount("89.004", 2), Ok(8_900));
        assert_eq!(parse_amount("1e3", 2), Ok(100_000));
        assert_eq!(parse_amount("1.5E-1", 2), Ok(15));
        assert_eq!(parse_amount("1234", 0), Ok(1234));
        assert_eq!(parse_amount("1.2345", 3), Ok(1235));
        assert_eq!(parse_amount("", 2), Err(AmountError::NotANumber));
        assert_eq!(parse_amount("abc", 2), Err(AmountError::NotANumber));
        assert_eq!(parse_amount("1e300", 2), Err(AmountError::TooLarge));
        assert_eq!(
            parse_amount("99999999999999999999", 2),
            Err(AmountError::TooLarge)
        );
        assert_eq!(parse_amount("10000000000000", 2), Ok(MAX_AMOUNT));
        assert_eq!(parse_amount("-10000000000000", 2), Ok(-MAX_AMOUNT));
        assert_eq!(
            parse_amount("10000000000000.01", 2),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn formats_with_the_currency_exponent() {
        assert_eq!(format_amount(8_900, 2), "89.00");
        assert_eq!(format_amount(-5, 2), "-0.05");
        assert_eq!(format_amount(1234, 0), "1234");
        assert_eq!(format_amount(1234, 3), "1.234");
        assert_eq!(amount_json(8_900, 2).to_string(), "89.00");
    }

    #[test]
    fn currencies_know_their_exponent() {
        assert_eq!(Currency::parse("eur").map(|c| c.exponent()), Some(2));
        assert_eq!(Currency::parse("JPY").map(|c| c.exponent()), Some(0));
        assert_eq!(Currency::parse("KWD").map(|c| c.exponent()), Some(3));
        assert_eq!(Currency::parse("EURO"), None);
        assert_eq!(Currency::parse("E1R"), None);
    }

    #[test]
    fn percentages_round_half_up_from_unrounded_inputs() {
        // SPEC §4.10: margin (1 999 − 1 000) / 1 999 → 50.0; customer 4 250 / 3 600 → 118.06.
        assert_eq!(
            percent_json(99_900, 199_900, 1).map(|v| v.to_string()),
            Some("50.0".into())
        );
        assert_eq!(
            percent_json(425_000, 360_000, 2).map(|v| v.to_string()),
            Some("118.06".into())
        );
        assert_eq!(percent_json(1, 0, 1), None);
    }

    #[test]
    fn amounts_render_as_plain_decimals_up_to_the_limits() {
        assert_eq!(amount_json(i64::MAX, 2).to_string(), "92233720368547758.07");
        assert_eq!(
            amount_json(i64::MIN, 2).to_string(),
            "-92233720368547758.08"
        );
        assert_eq!(amount_json(MAX_AMOUNT, 0).to_string(), "1000000000000000");
        assert_eq!(
            amount_json(89_000_000_000_000_000, 2).to_string(),
            "890000000000000.00"
        );
    }

    #[test]
    fn line_amounts_and_sums_are_checked() {
        assert_eq!(line_amount(15_900, 3), Ok(47_700));
        assert_eq!(line_amount(15_900, i64::MAX), Err(Overflow));
        assert_eq!(
            line_amount(15_900, 4_611_686_018_427_387_904),
            Err(Overflow)
        );
        assert_eq!(line_amount(15_900, 9_007_199_254_740_992), Err(Overflow));
        assert_eq!(line_amount(MAX_AMOUNT, 1), Ok(MAX_AMOUNT));
        assert_eq!(line_amount(MAX_AMOUNT, 2), Err(Overflow));
        assert_eq!(checked_sum([i64::MAX, 1]), Err(Overflow));
        assert_eq!(checked_sum([1, 2, 3]), Ok(6));
    }

    proptest! {
        /// `unit × quantity` is exact or an error over the whole `i64` range, never wrapped.
        #[test]
        fn line_amount_is_exact_or_an_error(unit in any::<i64>(), qty in any::<i64>()) {
            let exact = i128::from(unit) * i128::from(qty);
            match line_amount(unit, qty) {
                Ok(v) => prop_assert_eq!(i128::from(v), exact),
                Err(Overflow) => prop_assert!(exact.abs() > i128::from(MAX_AMOUNT)),
            }
        }

        /// Any text of digits parses to the exact amount or to `TooLarge`, never a wrapped value.
        #[test]
        fn parse_is_exact_or_too_large(int in "[0-9]{1,25}", exp in 0u32..4) {
            let exact: u128 = int.parse::<u128>().unwrap() * 10u128.pow(exp);
            match parse_amount(&int, exp) {
                Ok(v) => prop_assert_eq!(v as u128, exact),
                Err(AmountError::TooLarge) => prop_assert!(exact > MAX_AMOUNT as u128),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        #[test]
        fn format_then_parse_round_trips(minor in -1_000_000_000_000i64..1_000_000_000_000, exp in 0u32..4) {
            prop_assert_eq!(parse_amount(&format_amount(minor, exp), exp), Ok(minor));
        }
    }
}
