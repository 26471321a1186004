//! One definition per table of its columns and their mapping to a record: [`crate::record!`]
//! declares the record struct and derives from it the column list (in table order), the values
//! of an insert, and the decoding of a row by column name.

use sea_query::SimpleExpr;

use crate::row::Row;
use crate::{Result, StoreError};

/// A field type that a column stores: decoded from a row by position, encoded as a statement
/// value. Integers are `BIGINT`, booleans `0|1`, enums their wire text, documents JSON text.
pub trait Column: Sized {
    /// Decodes the column at position `i`.
    fn decode(row: &dyn Row, i: usize) -> Result<Self>;
    /// The value written to the column.
    fn encode(&self) -> SimpleExpr;
}

impl Column for String {
    fn decode(row: &dyn Row, i: usize) -> Result<Self> {
        row.text(i)
    }
    fn encode(&self) -> SimpleExpr {
        self.clone().into()
    }
}

impl Column for Option<String> {
    fn decode(row: &dyn Row, i: usize) -> Result<Self> {
        row.opt_text(i)
    }
    fn encode(&self) -> SimpleExpr {
        self.clone().into()
    }
}

impl Column for i64 {
    fn decode(row: &dyn Row, i: usize) -> Result<Self> {
        row.int(i)
    }
    fn encode(&self) -> SimpleExpr {
        (*self).into()
    }
}

impl Column for Option<i64> {
    fn decode(row: &dyn Row, i: usize) -> Result<Self> {
        row.opt_int(i)
    }
    fn encode(&self) -> SimpleExpr {
        (*self).into()
    }
}

/// Stored as the integer 0 or 1 on both engines.
impl Column for bool {
    fn decode(row: &dyn Row, i: usize) -> Result<Self> {
        Ok(row.int(i)? != 0)
    }
    fn encode(&self) -> SimpleExpr {
        i64::from(*self).into()
    }
}

impl Column for flexportal_domain::status::PaymentKind {
    fn decode(row: &dyn Row, i: usize) -> Result<Self> {
        let text = row.text(i)?;
        Self::parse(&text).ok_or_else(|| StoreError::Decode(format!("payment kind {text:?}")))
    }
    fn encode(&self) -> SimpleExpr {
        self.as_str().into()
    }
}

impl Column for flexportal_domain::status::SubscriptionEventKind {
    fn decode(row: &dyn Row, i: usize) -> Result<Self> {
        let text = row.text(i)?;
        Self::parse(&text)
            .ok_or_else(|| StoreError::Decode(format!("subscription event kind {text:?}")))
    }
    fn encode(&self) -> SimpleExpr {
        self.as_str().into()
    }
}

impl Column for flexportal_domain::billing::BillingSettings {
    fn decode(row: &dyn Row, i: usize) -> Result<Self> {
        Self::from_json(&row.text(i)?).map_err(|e| StoreError::Decode(e.to_string()))
    }
    fn encode(&self) -> SimpleExpr {
        self.to_json().into()
    }
}

/// The `(column, value)` pairs of a row update that writes only what changed: the columns of
/// `columns` accepted by `writable` whose value in `after` differs from `before` (both in
/// `columns` order, as a record's `values()` gives them). Writing fewer columns spares the
/// engines the index entries of unchanged columns (SQLite rewrites the entries of every indexed
/// column a `SET` names).
pub fn changed_columns(
    columns: &[&'static str],
    before: Vec<SimpleExpr>,
    after: Vec<SimpleExpr>,
    writable: impl Fn(&str) -> bool,
) -> Vec<(&'static str, SimpleExpr)> {
    columns
        .iter()
        .copied()
        .zip(before)
        .zip(after)
        .filter(|((c, b), a)| writable(c) && a != b)
        .map(|((c, _), a)| (c, a))
        .collect()
}

/// Declares a table's record: the struct, `COLUMNS` (field columns in table order, then the
/// derived ones), `values()` (in `COLUMNS` order) and [`crate::FromRow`] by column name.
///
/// ```ignore
/// record! {
///     /// doc
///     #[derive(Debug, Clone, PartialEq)]
///     pub struct AssetRecord {
///         /// doc
///         serial_number: String,
///         /// A field whose column is named otherwise.
///         condition: Option<String> = "condition_note",
///     }
///     /// Columns computed from the record (written, never read back).
///     derived { email_key: |r| crate::customers::email_key(&r.email) }
/// }
/// ```
#[macro_export]
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty $(= $col:literal)? ),+ $(,)?
        }
        $(derived { $( $dcol:ident : |$r:ident| $dexpr:expr ),+ $(,)? })?
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty ),+
        }

        impl $name {
            /// The table's columns: the fields' in table order, then the derived ones.
            pub const COLUMNS: &'static [&'static str] = &[
                $( $crate::record!(@col $field $($col)?) ),+
                $( $(, stringify!($dcol))+ )?
            ];

            /// The values of an insert, in [`Self::COLUMNS`] order.
            pub fn values(&self) -> Vec<sea_query::SimpleExpr> {
                #[allow(unused_mut)]
                let mut v = vec![$( $crate::record::Column::encode(&self.$field) ),+];
                $( $( {
                    let $r = self;
                    v.push(sea_query::SimpleExpr::from($dexpr));
                } )+ )?
                v
            }
        }

        impl $crate::row::FromRow for $name {
            const COLUMNS_READ: &'static [&'static str] =
                &[ $( $crate::record!(@col $field $($col)?) ),+ ];

            #[allow(unused_assignments)]
            fn from_row(row: &dyn $crate::row::Row) -> $crate::Result<Self> {
                let mut at = 0usize;
                Ok($name {
                    $( $field: {
                        let i = row.index_of($crate::record!(@col $field $($col)?), at)?;
                        at = i + 1;
                        $crate::record::Column::decode(row, i)?
                    } ),+
                })
            }
        }
    };
    (@col $field:ident) => { stringify!($field) };
    (@col $field:ident $col:literal) => { $col };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::FromRow;
    use crate::tenants::TenantRecord;

    /// A row held in memory: column names and text or integer values.
    struct MemRow(Vec<(&'static str, Option<String>, Option<i64>)>);

    impl Row for MemRow {
        fn text(&self, i: usize) -> Result<String> {
            self.opt_text(i)?
                .ok_or_else(|| StoreError::Decode(format!("column {i} is null")))
        }
        fn opt_text(&self, i: usize) -> Result<Option<String>> {
            Ok(self.0[i].1.clone())
        }
        fn int(&self, i: usize) -> Result<i64> {
            self.0[i]
                .2
                .ok_or_else(|| StoreError::Decode(format!("column {i} is null")))
        }
        fn opt_int(&self, i: usize) -> Result<Option<i64>> {
            Ok(self.0[i].2)
        }
        fn boolean(&self, i: usize) -> Result<bool> {
            Ok(self.int(i)? != 0)
        }
        fn column_name(&self, i: usize) -> Option<&str> {
            self.0.get(i).map(|c| c.0)
        }
    }

    fn tenant() -> TenantRecord {
        TenantRecord {
            tenant_id: "bu_1".into(),
            name: "Unit".into(),
            currency: "EUR".into(),
            time_zone: "UTC".into(),
            status: "active".into(),
            id_prefix: None,
            settings: "{}".into(),
            created_at: 1,
            updated_at: 2,
        }
    }

    fn text(name: &'static str, v: &str) -> (&'static str, Option<String>, Option<i64>) {
        (name, Some(v.into()), None)
    }

    #[test]
    fn rows_decode_by_column_name_in_any_order() {
        assert_eq!(
            TenantRecord::COLUMNS,
            [
                "tenant_id",
                "name",
                "currency",
                "time_zone",
                "status",
                "id_prefix",
                "settings",
                "created_at",
                "updated_at"
            ]
        );
        assert_eq!(tenant().values().len(), TenantRecord::COLUMNS.len());
        // Reversed, with an unrelated column in the middle.
        let row = MemRow(vec![
            ("updated_at", None, Some(2)),
            ("created_at", None, Some(1)),
            text("settings", "{}"),
            ("id_prefix", None, None),
            text("extra", "ignored"),
            text("status", "active"),
            text("time_zone", "UTC"),
            text("currency", "EUR"),
            text("name", "Unit"),
            text("tenant_id", "bu_1"),
        ]);
        assert_eq!(TenantRecord::from_row(&row).unwrap(), tenant());
        // A row without one of the record's columns is a decode error, not a default.
        let missing = MemRow(vec![text("tenant_id", "bu_1"), text("name", "Unit")]);
        assert!(matches!(
            TenantRecord::from_row(&missing),
            Err(StoreError::Decode(_))
        ));
    }

    #[test]
    fn rows_in_record_order_decode_by_position_and_others_by_name() {
        use crate::row::{InOrder, in_order};
        let columns = TenantRecord::COLUMNS;
        assert_eq!(TenantRecord::COLUMNS_READ, columns);
        let in_table_order = MemRow(vec![
            text("tenant_id", "bu_1"),
            text("name", "Unit"),
            text("currency", "EUR"),
            text("time_zone", "UTC"),
            text("status", "active"),
            ("id_prefix", None, None),
            text("settings", "{}"),
            ("created_at", None, Some(1)),
            ("updated_at", None, Some(2)),
            text("extra", "after the record's columns"),
        ]);
        let names = || in_table_order.0.iter().map(|c| c.0);
        assert!(in_order::<TenantRecord>(names()));
        assert_eq!(
            TenantRecord::from_row(&InOrder(&in_table_order)).unwrap(),
            tenant()
        );
        // Two columns swapped, one missing, or none: looked up by name as before.
        let swapped = ["name", "tenant_id"].into_iter().chain(names().skip(2));
        assert!(!in_order::<TenantRecord>(swapped));
        assert!(!in_order::<TenantRecord>(names().take(columns.len() - 1)));
        assert!(!in_order::<TenantRecord>(std::iter::empty()));
        // A type that decodes otherwise never qualifies.
        assert!(!in_order::<i64>(["tenant_id"]));
    }
}
