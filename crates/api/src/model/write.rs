//! Hand-written JSON for the most frequent answers (getAsset and listAssets): byte for byte what
//! their derived `Serialize` writes (the tests compare both on every kind of field), without
//! escaping the field names on every answer, without parsing decimals back into numbers, and
//! without a string per instant.

use super::{Decimal, Instant, TEXT_MAX};

/// A value written as JSON into a byte buffer. Errors: a value that cannot be written (an
/// instant out of range), as the derived `Serialize` would report it.
pub trait WriteJson {
    /// Appends the value's JSON to `out`.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String>;

    /// Bytes to reserve before writing (a guess; the buffer grows past it).
    fn size_hint(&self) -> usize {
        1024
    }
}

/// An object being written: `{`, then fields separated by commas, then `}` from [`Obj::end`].
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Opens an object.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// Writes a field name, which must need no escaping (the field names of the contract are
    /// ASCII letters).
    fn key(&mut self, name: &'static str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A string field.
    pub fn str(&mut self, name: &'static str, value: &str) {
        let out = self.key(name);
        write_str(out, value);
    }

    /// A string field left out when `None` (`skip_serializing_if = "Option::is_none"`).
    pub fn opt_str(&mut self, name: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(name, v);
        }
    }

    /// A string field written `null` when `None`.
    pub fn nullable_str(&mut self, name: &'static str, value: Option<&str>) {
        match value {
            Some(v) => self.str(name, v),
            None => self.key(name).extend_from_slice(b"null"),
        }
    }

    /// A decimal number field.
    pub fn decimal(&mut self, name: &'static str, value: Decimal) {
        let mut buf = [0u8; TEXT_MAX];
        let text = value.write(&mut buf);
        self.key(name).extend_from_slice(text.as_bytes());
    }

    /// A decimal field left out when `None`.
    pub fn opt_decimal(&mut self, name: &'static str, value: Option<Decimal>) {
        if let Some(v) = value {
            self.decimal(name, v);
        }
    }

    /// An instant field (`2025-01-15T10:30:00.000Z`). Errors: an instant out of range.
    pub fn instant(&mut self, name: &'static str, value: Instant) -> Result<(), String> {
        let out = self.key(name);
        out.push(b'"');
        value.write(out)?;
        out.push(b'"');
        Ok(())
    }

    /// An unsigned integer field.
    pub fn uint(&mut self, name: &'static str, value: u64) {
        let mut buf = itoa::Buffer::new();
        let text = buf.format(value);
        self.key(name).extend_from_slice(text.as_bytes());
    }

    /// A boolean field.
    pub fn bool(&mut self, name: &'static str, value: bool) {
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.key(name).extend_from_slice(text);
    }

    /// An array field of `items`, each written by its [`WriteJson`].
    pub fn array<T: WriteJson>(&mut self, name: &'static str, items: &[T]) -> Result<(), String> {
        let out = self.key(name);
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.write_json(out)?;
        }
        out.push(b']');
        Ok(())
    }

    /// Closes the object.
    pub fn end(self) {
        self.out.push(b'}');
    }
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it: `"` and `\` with a
/// backslash, backspace, tab, line feed, form feed and carriage return by their letters, other
/// control characters below U+0020 as `\u00xx` (lowercase hex); everything else as is. Runs
/// of eight bytes with nothing to escape are copied without looking at each byte.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if !any_to_escape(u64::from_le_bytes(word)) {
                i += 8;
                continue;
            }
        }
        for (j, &b) in bytes.iter().enumerate().skip(i).take(8) {
            if let Some(esc) = escape(b) {
                out.extend_from_slice(&bytes[start..j]);
                out.extend_from_slice(esc.as_bytes());
                start = j + 1;
            }
        }
        i += 8;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether any of the eight bytes of `w` must be escaped: below 0x20, `"` or `\`. Exact: the
/// expressions flag a byte below 0x20 (or equal to zero after the exclusive or) only in a word
/// that holds one, and never a byte of 0x80 or more.
fn any_to_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    (below(w, 0x20) | below(quote, 1) | below(backslash, 1)) != 0
}

/// The escape of byte `b` in a JSON string, if it needs one (see [`write_str`]).
fn escape(b: u8) -> Option<&'static str> {
    /// `\u00xx` for each control character below U+0020.
    const CONTROL: [&str; 32] = [
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011",
        "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019",
        "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    ];
    match b {
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        0x00..=0x1f => Some(CONTROL[usize::from(b)]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assets::{Asset, AssetList};
    use flexportal_domain::status::AssetStatus;

    fn asset(full: bool, text: &str) -> Asset {
        let some = |s: &str| full.then(|| s.to_string());
        Asset {
            serial_number: format!("SN-{text}"),
            tenant_id: "bu_1".into(),
            product_id: "prod_1".into(),
            product_image_url: some("https://img.example/a.png?x=1&y=\"2\""),
            variant_id: "var_1".into(),
            sku: "SKU-1".into(),
            product_name: format!("Laptop - {text}"),
            status: if full {
                AssetStatus::RentedOut
            } else {
                AssetStatus::Available
            },
            location: some("Shelf \\ 4\nrow 2"),
            customer_id: some("cus_1"),
            rental_id: some("sub_1"),
            notes: some(text),
            condition: some("like_new"),
            acquisition_cost: full.then(|| Decimal::money(89_900, 2)),
            acquisition_date: "2025-01-15".into(),
            lifetime_collected: Decimal::money(-1_234, 2),
            cost_recovery_percent: full.then(|| Decimal::percent(1, 3, 1).unwrap()),
            lifetime_value: full.then(|| Decimal::money(0, 3)),
            created_at: Instant(1_736_937_000_000),
            updated_at: Instant(-1),
        }
    }

    fn written<T: WriteJson>(v: &T) -> String {
        let mut out = Vec::new();
        v.write_json(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn assets_are_written_exactly_as_serde_writes_them() {
        for (full, text) in [(true, "plain"), (false, "plain"), (true, "q\"\u{1}\t東京")] {
            let a = asset(full, text);
            assert_eq!(written(&a), serde_json::to_string(&a).unwrap());
        }
    }

    #[test]
    fn asset_pages_are_written_exactly_as_serde_writes_them() {
        for (items, cursor) in [
            (vec![asset(true, "a"), asset(false, "b")], Some("SN-b")),
            (vec![], None),
        ] {
            let page = AssetList {
                count: items.len(),
                items,
                limit: 50,
                has_more: cursor.is_some(),
                next_cursor: cursor.map(String::from),
            };
            assert_eq!(written(&page), serde_json::to_string(&page).unwrap());
        }
    }

    #[test]
    fn an_instant_out_of_range_is_an_error_as_with_serde() {
        let mut a = asset(false, "x");
        a.created_at = Instant(i64::MAX);
        assert!(a.write_json(&mut Vec::new()).is_err());
        assert!(serde_json::to_string(&a).is_err());
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut samples: Vec<String> = (0u8..0x80).map(|b| format!("a{}b", b as char)).collect();
        samples.extend(
            [
                "",
                "plain",
                "quote \" and \\ backslash",
                "line\nfeed\r\n\ttab",
                "ünïcödé – 東京 🚲",
                "\u{7f}\u{80}\u{2028}\u{2029}",
                "\"",
                "\\",
                "ends with \n",
            ]
            .map(String::from),
        );
        // Every ASCII character at every position of strings of 1 to 19 bytes (runs of eight
        // bytes checked at once, then the rest), between letters and next to the bytes one
        // above and below the escaped ones, and after characters of two, three and four bytes.
        for len in 1..20 {
            for at in 0..len {
                for b in 0u8..0x80 {
                    let mut chars: Vec<char> = "a#!][]~é東🚲".chars().cycle().take(len).collect();
                    chars[at] = b as char;
                    samples.push(chars.into_iter().collect());
                }
            }
        }
        for s in samples {
            let mut out = b"prefix".to_vec();
            write_str(&mut out, &s);
            assert_eq!(out.drain(..6).as_slice(), b"prefix");
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn a_word_needs_escaping_exactly_when_one_of_its_bytes_does() {
        let naive = |w: u64| {
            w.to_le_bytes()
                .iter()
                .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
        };
        // Each byte value at each position, among fillers that border the escaped values.
        let fillers = [
            0x20u8, 0x21, 0x23, 0x5b, 0x5d, 0x61, 0x7f, 0x80, 0xa2, 0xdc, 0xff,
        ];
        for filler in fillers {
            for at in 0..8 {
                for b in 0..=255u8 {
                    let mut bytes = [filler; 8];
                    bytes[at] = b;
                    let w = u64::from_le_bytes(bytes);
                    assert_eq!(any_to_escape(w), naive(w), "{bytes:?}");
                }
            }
        }
        // And words of random bytes (a fixed xorshift sequence).
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            assert_eq!(any_to_escape(x), naive(x), "{:?}", x.to_le_bytes());
        }
    }
}
