//! The wire types of the API: one Rust type per documented request body, resource, list envelope
//! and the error envelope, with serde derives for what the server writes and utoipa derives for
//! `/openapi.json`. Field names, enums and optionality follow the official document; what SPEC
//! adds is additive and optional.
//!
//! Money crosses the wire through [`Decimal`] only (a JSON number in major units with the
//! currency's decimals, SPEC §1.7), instants through [`Instant`] only (SPEC §1.6), calendar dates
//! as `YYYY-MM-DD` strings.

pub mod assets;
pub mod billing_groups;
pub mod catalog;
pub mod catalog_input;
pub mod customers;
pub mod exports;
pub mod files;
pub mod orders;
pub mod orders_input;
pub mod payments;
pub mod reports;
pub mod subscriptions;
pub mod subscriptions_actions;
pub mod subscriptions_lifecycle;
pub mod webhooks;
pub mod write;

use flexportal_app::AppError;
use flexportal_domain::money::div_round_half_away;
use serde::{Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// An exact decimal on the wire: `units / 10^scale`, written as a JSON number with exactly
/// `scale` decimals (`8900`, 2 → `89.00`; `-5`, 1 → `-0.5`), or with trailing fractional zeros
/// removed when built by [`Decimal::trimmed`] (`100000`, 4 → `10`). Never a binary float, never
/// exponent form (SPEC §1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    units: i64,
    scale: u32,
    trim: bool,
}

impl Decimal {
    /// An amount in minor units of a currency with `exponent` decimals (EUR 2, JPY 0, KWD 3).
    pub fn money(minor: i64, exponent: u32) -> Self {
        Decimal {
            units: minor,
            scale: exponent,
            trim: false,
        }
    }

    /// An optional amount in minor units.
    pub fn money_opt(minor: Option<i64>, exponent: u32) -> Option<Self> {
        minor.map(|m| Decimal::money(m, exponent))
    }

    /// A figure stored in tenths (percentages and months of SPEC §2.13, one decimal).
    pub fn tenths(tenths: i64) -> Self {
        Decimal::money(tenths, 1)
    }

    /// `units / 10^scale` without trailing fractional zeros (`10.0000` → `10`, `19.50` → `19.5`):
    /// discount values and tax rates, whose stored precision is not the currency's.
    pub fn trimmed(units: i64, scale: u32) -> Self {
        Decimal {
            units,
            scale,
            trim: true,
        }
    }

    /// `part / whole × 100` rounded half away from zero to `decimals` places (SPEC §1.7: 1 for
    /// cost recovery and margins, 2 for customer-level figures); `None` when `whole` is 0.
    pub fn percent(part: i64, whole: i64, decimals: u32) -> Option<Self> {
        if whole == 0 {
            return None;
        }
        let scale = 10i128.pow(decimals);
        let scaled = div_round_half_away(part as i128 * 100 * scale, whole as i128);
        i64::try_from(scaled)
            .ok()
            .map(|v| Decimal::money(v, decimals))
    }

    /// The decimal text, e.g. `89.00`.
    pub fn text(self) -> String {
        let mut buf = [0u8; TEXT_MAX];
        self.write(&mut buf).to_string()
    }

    /// Writes the decimal text into `buf` and returns it: a sign for a negative value, the
    /// integer digits, and `scale` fractional digits (without trailing zeros when trimmed).
    fn write(self, buf: &mut [u8; TEXT_MAX]) -> &str {
        // The digits of |units|, left-padded with zeros to at least `scale + 1` of them.
        let mut digits = [b'0'; TEXT_MAX];
        let mut n = self.units.unsigned_abs();
        let mut end = TEXT_MAX;
        while n > 0 {
            end -= 1;
            digits[end] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let scale = (self.scale as usize).min(MAX_SCALE);
        let start = end.min(TEXT_MAX - scale - 1);
        let (int, mut frac) = digits[start..].split_at(TEXT_MAX - start - scale);
        if self.trim {
            while let [rest @ .., b'0'] = frac {
                frac = rest;
            }
        }
        let mut len = 0;
        let mut push = |bytes: &[u8]| {
            buf[len..len + bytes.len()].copy_from_slice(bytes);
            len += bytes.len();
        };
        if self.units < 0 {
            push(b"-");
        }
        push(int);
        if !frac.is_empty() {
            push(b".");
            push(frac);
        }
        std::str::from_utf8(&buf[..len]).unwrap_or("0")
    }
}

/// Largest number of fractional digits written (an `i64` has at most 19 digits).
const MAX_SCALE: usize = 19;
/// Room for a sign, 20 digits and a point.
const TEXT_MAX: usize = 24;

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // With serde_json's `arbitrary_precision`, a `Number` keeps the digits as written.
        let mut buf = [0u8; TEXT_MAX];
        let n: serde_json::Number = self
            .write(&mut buf)
            .parse()
            .map_err(serde::ser::Error::custom)?;
        n.serialize(s)
    }
}

impl PartialSchema for Decimal {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(
                "Exact decimal in major units of the business unit's currency, written with the \
                 currency's decimals (SPEC 1.7)",
            ))
            .into()
    }
}

impl ToSchema for Decimal {}

/// An instant, stored as milliseconds since the Unix epoch, written as ISO 8601 UTC with
/// milliseconds (`2025-01-15T10:30:00.000Z`, SPEC §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant(pub i64);

impl Instant {
    /// An optional instant.
    pub fn opt(millis: Option<i64>) -> Option<Self> {
        millis.map(Instant)
    }

    /// Appends the ISO 8601 text (without quotes). Errors: an instant out of range.
    fn write(self, out: &mut Vec<u8>) -> Result<(), String> {
        let ts = jiff::Timestamp::from_millisecond(self.0).map_err(|e| e.to_string())?;
        PRINTER.print_timestamp(&ts, out).map_err(|e| e.to_string())
    }
}

static PRINTER: jiff::fmt::temporal::DateTimePrinter =
    jiff::fmt::temporal::DateTimePrinter::new().precision(Some(3));

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ts = jiff::Timestamp::from_millisecond(self.0).map_err(serde::ser::Error::custom)?;
        let mut out = String::with_capacity(24);
        PRINTER
            .print_timestamp(&ts, &mut out)
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&out)
    }
}

impl PartialSchema for Instant {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

impl ToSchema for Instant {}

/// A list envelope type `{<key>: [...], count, limit, hasMore, nextCursor}` (SPEC §1.8), with
/// `from_page` building it from a store page.
macro_rules! list_envelope {
    ($(#[$meta:meta])* $name:ident, $key:literal, $item:ty) => {
        $(#[$meta])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The page's items.
            #[serde(rename = $key)]
            #[schema(rename = $key)]
            pub items: Vec<$item>,
            /// Items on this page.
            pub count: usize,
            /// The page size asked for (default 50, at most 100).
            pub limit: u64,
            /// Whether another page follows.
            pub has_more: bool,
            /// The cursor to pass as `startAfter` for the next page; `null` on the last page.
            #[schema(required = true)]
            pub next_cursor: Option<String>,
        }

        impl $name {
            /// The envelope of a store page; `cursor` gives an item's cursor, `item` renders it.
            pub fn from_page<T, E>(
                page: &flexportal_store::page::Page<T>,
                limit: u64,
                cursor: impl Fn(&T) -> String,
                item: impl FnMut(&T) -> Result<$item, E>,
            ) -> Result<Self, E> {
                let items = page.items.iter().map(item).collect::<Result<Vec<_>, E>>()?;
                Ok($name {
                    count: items.len(),
                    items,
                    limit,
                    has_more: page.has_more,
                    next_cursor: if page.has_more {
                        page.items.last().map(cursor)
                    } else {
                        None
                    },
                })
            }

            /// [`Self::from_page`] consuming the page, so `item` can move the stored values into
            /// the rendering instead of copying them.
            #[allow(dead_code)]
            pub fn from_owned_page<T, E>(
                page: flexportal_store::page::Page<T>,
                limit: u64,
                cursor: impl Fn(&T) -> String,
                item: impl FnMut(T) -> Result<$item, E>,
            ) -> Result<Self, E> {
                let next_cursor = if page.has_more {
                    page.items.last().map(cursor)
                } else {
                    None
                };
                let items = page.items.into_iter().map(item).collect::<Result<Vec<_>, E>>()?;
                Ok($name {
                    count: items.len(),
                    items,
                    limit,
                    has_more: page.has_more,
                    next_cursor,
                })
            }
        }
    };
}
pub(crate) use list_envelope;

/// The error envelope of every failure (SPEC §1.4).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorEnvelope {
    /// What went wrong.
    pub error: ErrorBody,
}

/// The body of [`ErrorEnvelope`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Machine code, e.g. `VALIDATION_ERROR`, `NOT_FOUND` (SPEC §1.4 catalogue).
    pub code: String,
    /// Human text.
    pub message: String,
    /// Every failing field of the request, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub details: Vec<ErrorDetail>,
}

/// One failing field of a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The field's path in the request (dots for objects, `[i]` for arrays).
    pub path: String,
    /// Human text.
    pub message: String,
    /// Machine code of the failure, e.g. `required`, `invalid_type`.
    pub code: String,
}

/// A stored status or kind as its enum. Errors: 500 when the stored text is not a known value
/// (corrupt data is never rendered).
pub fn stored_enum<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, AppError> {
    parse(text).ok_or_else(|| AppError::corrupt(format!("unknown stored value {text:?}")))
}

/// Sort direction of every list (default `desc`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortDirection {
    /// Ascending.
    Asc,
    /// Descending (default).
    Desc,
}

/// The `Tenant-ID` header every `/v1` operation takes (SPEC §1.2).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct TenantHeader {
    /// The business unit the call acts in; it must be one the API key may access
    /// (403 `NO_TENANT_ACCESS` otherwise).
    #[param(rename = "Tenant-ID")]
    pub tenant_id: String,
}

#[cfg(test)]
mod tests {
    use super::Decimal;

    #[test]
    fn decimals_are_written_with_the_scale_of_their_currency() {
        assert_eq!(Decimal::money(8900, 2).text(), "89.00");
        assert_eq!(Decimal::money(5, 2).text(), "0.05");
        assert_eq!(Decimal::money(-5, 2).text(), "-0.05");
        assert_eq!(Decimal::money(-12345, 2).text(), "-123.45");
        assert_eq!(Decimal::money(0, 2).text(), "0.00");
        assert_eq!(Decimal::money(1500, 0).text(), "1500");
        assert_eq!(Decimal::money(0, 0).text(), "0");
        assert_eq!(Decimal::money(1234, 3).text(), "1.234");
        assert_eq!(Decimal::tenths(1000).text(), "100.0");
        assert_eq!(Decimal::money(i64::MAX, 2).text(), "92233720368547758.07");
        assert_eq!(Decimal::money(i64::MIN, 2).text(), "-92233720368547758.08");
        assert_eq!(Decimal::money(i64::MIN, 0).text(), "-9223372036854775808");
        assert_eq!(Decimal::money(1, 19).text(), "0.0000000000000000001");
    }

    #[test]
    fn trimmed_decimals_drop_trailing_fractional_zeros() {
        assert_eq!(Decimal::trimmed(100_000, 4).text(), "10");
        assert_eq!(Decimal::trimmed(195_000, 4).text(), "19.5");
        assert_eq!(Decimal::trimmed(0, 4).text(), "0");
        assert_eq!(Decimal::trimmed(-2_500, 4).text(), "-0.25");
        assert_eq!(Decimal::trimmed(7, 0).text(), "7");
    }

    #[test]
    fn decimals_serialize_as_json_numbers_with_their_digits() {
        let v = serde_json::to_string(&[Decimal::money(8900, 2), Decimal::money(-5, 3)]).unwrap();
        assert_eq!(v, "[89.00,-0.005]");
    }
}
