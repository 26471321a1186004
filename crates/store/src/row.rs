//! One decoding interface over both drivers' rows, so each record type is decoded in one place.

use crate::{Result, StoreError};

/// A result row of either engine, read by column index. Integers are `BIGINT` on PostgreSQL and
/// `INTEGER` on SQLite; booleans are `BOOLEAN` / `INTEGER 0|1`; JSON is stored as text.
pub trait Row {
    /// A non-null text column.
    fn text(&self, i: usize) -> Result<String>;
    /// A nullable text column.
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    /// A non-null integer column.
    fn int(&self, i: usize) -> Result<i64>;
    /// A nullable integer column.
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    /// A non-null boolean column.
    fn boolean(&self, i: usize) -> Result<bool>;
}

/// A record decoded from a row.
pub trait FromRow: Sized {
    /// Decodes the record from the columns in the order its query selected them.
    fn from_row(row: &dyn Row) -> Result<Self>;
}

fn dec<E: std::fmt::Display>(i: usize) -> impl FnOnce(E) -> StoreError {
    move |e| StoreError::Decode(format!("column {i}: {e}"))
}

impl Row for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<String> {
        self.get(i).map_err(dec(i))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.get(i).map_err(dec(i))
    }
    fn int(&self, i: usize) -> Result<i64> {
        self.get(i).map_err(dec(i))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.get(i).map_err(dec(i))
    }
    fn boolean(&self, i: usize) -> Result<bool> {
        self.get(i).map_err(dec(i))
    }
}

impl Row for tokio_postgres::Row {
    fn text(&self, i: usize) -> Result<String> {
        self.try_get(i).map_err(dec(i))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.try_get(i).map_err(dec(i))
    }
    fn int(&self, i: usize) -> Result<i64> {
        self.try_get(i).map_err(dec(i))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.try_get(i).map_err(dec(i))
    }
    fn boolean(&self, i: usize) -> Result<bool> {
        self.try_get(i).map_err(dec(i))
    }
}

impl FromRow for i64 {
    fn from_row(row: &dyn Row) -> Result<Self> {
        row.int(0)
    }
}

impl FromRow for String {
    fn from_row(row: &dyn Row) -> Result<Self> {
        row.text(0)
    }
}

impl FromRow for (String, String) {
    fn from_row(row: &dyn Row) -> Result<Self> {
        Ok((row.text(0)?, row.text(1)?))
    }
}
