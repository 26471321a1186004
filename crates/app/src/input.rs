//! Reading JSON request bodies field by field, collecting every failure with its path
//! (SPEC §1.4 details). Unknown fields are ignored (SPEC §1.3).

use flexportal_domain::money::{AmountError, parse_amount};
use flexportal_domain::{Detail, DomainError};
use serde_json::{Map, Value};

/// Longest accepted short text (names, SKUs, locations), in characters.
pub const MAX_SHORT: usize = 500;
/// Longest accepted long text (descriptions, specifications, notes of assets), in characters.
pub const MAX_LONG: usize = 5_000;

/// A field of a partial update: absent, explicitly `null`, or a value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    /// Not sent: keep the stored value.
    #[default]
    Absent,
    /// Sent as `null`: clear the stored value.
    Null,
    /// Sent with a value.
    Value(T),
}

impl<T> Patch<T> {
    /// Applies the patch to an optional stored value.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Absent => current,
            Patch::Null => None,
            Patch::Value(v) => Some(v),
        }
    }
    /// The value, if one was sent.
    pub fn value(self) -> Option<T> {
        match self {
            Patch::Value(v) => Some(v),
            _ => None,
        }
    }
    /// Whether anything was sent.
    pub fn is_sent(&self) -> bool {
        !matches!(self, Patch::Absent)
    }
}

/// A reader over one JSON object at a path, appending failures to a shared list.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    prefix: String,
    /// Failures collected so far.
    pub errors: &'a mut Vec<Detail>,
}

/// The body as an object, or 400 `VALIDATION_ERROR` (a missing body reads as `{}`).
pub fn body_object(body: &Value) -> Result<&Map<String, Value>, DomainError> {
    body.as_object()
        .ok_or_else(|| DomainError::field("", "invalid_type", "Request body must be a JSON object"))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl<'a> Fields<'a> {
    /// Reads `obj`, naming fields `<prefix>.<key>` (or `<key>` at the top).
    pub fn new(
        obj: &'a Map<String, Value>,
        prefix: impl Into<String>,
        errors: &'a mut Vec<Detail>,
    ) -> Self {
        Fields {
            obj,
            prefix: prefix.into(),
            errors,
        }
    }

    /// The path of `key`.
    pub fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    /// Adds a failure at `key`.
    pub fn fail(&mut self, key: &str, code: &'static str, message: impl Into<String>) {
        let path = self.path(key);
        self.errors.push(Detail::new(path, code, message));
    }

    /// The raw value of `key` (absent and `null` are both `None`).
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    /// Whether `key` is present (even as `null`).
    pub fn has(&self, key: &str) -> bool {
        self.obj.contains_key(key)
    }

    /// A text field as a patch: trimmed; an empty text is `Null` unless `required`.
    pub fn text_patch(&mut self, key: &str, max: usize, non_empty: bool) -> Patch<String> {
        match self.obj.get(key) {
            None => Patch::Absent,
            Some(Value::Null) => {
                if non_empty {
                    self.fail(key, "invalid_type", "Expected a string, received null");
                }
                Patch::Null
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.chars().count() > max {
                    self.fail(key, "too_big", format!("Must be at most {max} characters"));
                    Patch::Absent
                } else if t.is_empty() {
                    if non_empty {
                        self.fail(key, "too_small", "Must not be empty");
                    }
                    Patch::Null
                } else {
                    Patch::Value(t.to_string())
                }
            }
            Some(other) => {
                let m = format!("Expected a string, received {}", type_name(other));
                self.fail(key, "invalid_type", m);
                Patch::Absent
            }
        }
    }

    /// A required non-empty text.
    pub fn req_text(&mut self, key: &str, max: usize) -> Option<String> {
        match self.text_patch(key, max, true) {
            Patch::Value(v) => Some(v),
            Patch::Absent if !self.has(key) => {
                self.fail(key, "required", "Required");
                None
            }
            _ => None,
        }
    }

    /// An optional text (empty and `null` read as absent).
    pub fn opt_text(&mut self, key: &str, max: usize) -> Option<String> {
        self.text_patch(key, max, false).value()
    }

    /// An optional money amount in minor units, ≥ 0.
    pub fn money_patch(&mut self, key: &str, exponent: u32) -> Patch<i64> {
        match self.obj.get(key) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::Number(n)) => match parse_amount(&n.to_string(), exponent) {
                Ok(v) if v < 0 => {
                    self.fail(key, "too_small", "Must be zero or more");
                    Patch::Absent
                }
                Ok(v) => Patch::Value(v),
                Err(AmountError::TooLarge) => {
                    self.fail(key, "too_big", "Amount is too large");
                    Patch::Absent
                }
                Err(AmountError::NotANumber) => {
                    self.fail(key, "invalid_type", "Expected a number");
                    Patch::Absent
                }
            },
            Some(other) => {
                let m = format!("Expected a number, received {}", type_name(other));
                self.fail(key, "invalid_type", m);
                Patch::Absent
            }
        }
    }

    /// An optional money amount (≥ 0) in minor units.
    pub fn opt_money(&mut self, key: &str, exponent: u32) -> Option<i64> {
        self.money_patch(key, exponent).value()
    }

    /// An optional enum value parsed by `parse`; anything else fails with `invalid_enum_value`.
    pub fn opt_enum<T>(
        &mut self,
        key: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        match self.obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match parse(s) {
                Some(v) => Some(v),
                None => {
                    self.fail(
                        key,
                        "invalid_enum_value",
                        format!("Expected one of: {expected}"),
                    );
                    None
                }
            },
            Some(other) => {
                let m = format!("Expected a string, received {}", type_name(other));
                self.fail(key, "invalid_type", m);
                None
            }
        }
    }

    /// An optional calendar date (`YYYY-MM-DD` or ISO date-time), as `YYYY-MM-DD`.
    pub fn date_patch(&mut self, key: &str) -> Patch<String> {
        match self.obj.get(key) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::String(s)) => match flexportal_domain::time::parse_date_input(s) {
                Some(d) => Patch::Value(d.to_string()),
                None => {
                    self.fail(key, "invalid_string", "Expected a date YYYY-MM-DD");
                    Patch::Absent
                }
            },
            Some(other) => {
                let m = format!("Expected a date string, received {}", type_name(other));
                self.fail(key, "invalid_type", m);
                Patch::Absent
            }
        }
    }

    /// An optional array of URL strings (images).
    pub fn opt_urls(&mut self, key: &str) -> Option<Vec<String>> {
        match self.obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    match it.as_str().map(str::trim) {
                        Some(s)
                            if (s.starts_with("http://") || s.starts_with("https://"))
                                && s.len() <= 2048 =>
                        {
                            out.push(s.to_string())
                        }
                        _ => self.fail(
                            &format!("{key}[{i}]"),
                            "invalid_string",
                            "Expected an http(s) URL",
                        ),
                    }
                }
                Some(out)
            }
            Some(other) => {
                let m = format!("Expected an array, received {}", type_name(other));
                self.fail(key, "invalid_type", m);
                None
            }
        }
    }

    /// The value of `key` if it must equal `stored` when sent (immutable fields echoed back).
    pub fn must_equal(&mut self, key: &str, stored: &str) {
        if let Some(v) = self.raw(key)
            && v.as_str().map(str::trim) != Some(stored)
        {
            self.fail(
                key,
                "custom",
                format!("Cannot be changed (stored value: {stored})"),
            );
        }
    }
}

/// Returns 400 `VALIDATION_ERROR` when any failure was collected.
pub fn check(errors: Vec<Detail>) -> Result<(), DomainError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::validation(errors))
    }
}
