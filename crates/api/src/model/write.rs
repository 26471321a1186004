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
/// control characters below U+0020 as `\u00xx` (lowercase hex); everything else as is.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(short);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
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
        for s in samples {
            let mut out = Vec::new();
            write_str(&mut out, &s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&s).unwrap(),
                "{s:?}"
            );
        }
    }
}
