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
    /// The name of the column at position `i`, if there is one.
    fn column_name(&self, i: usize) -> Option<&str>;
    /// The position of the column `name`: `hint` when that column has this name (rows selected
    /// in record order decode in one comparison per column), else the first column so named.
    /// Errors: [`StoreError::Decode`] when the row has no such column.
    fn index_of(&self, name: &str, hint: usize) -> Result<usize> {
        if self.column_name(hint) == Some(name) {
            return Ok(hint);
        }
        (0..)
            .map_while(|i| self.column_name(i).map(|n| (i, n)))
            .find(|(_, n)| *n == name)
            .map(|(i, _)| i)
            .ok_or_else(|| StoreError::Decode(format!("no column {name}")))
    }
}

/// A record decoded from a row.
pub trait FromRow: Sized {
    /// The columns `from_row` looks up, in the order it looks them up, when it asks
    /// [`Row::index_of`] for each with the position after the previous one as the hint (as the
    /// records of [`crate::record!`] do); empty when it decodes otherwise. A query whose
    /// columns begin with exactly these is decoded by position, without a lookup per column
    /// ([`in_order`]).
    const COLUMNS_READ: &'static [&'static str] = &[];

    /// Decodes the record from the columns in the order its query selected them.
    fn from_row(row: &dyn Row) -> Result<Self>;
}

/// Whether a statement with columns `names` can be decoded into `T` by position: its columns
/// begin with [`FromRow::COLUMNS_READ`], so every lookup would find its hint. Checked once per
/// statement run instead of once per column of every row.
pub(crate) fn in_order<'n, T: FromRow>(names: impl IntoIterator<Item = &'n str>) -> bool {
    let wanted = T::COLUMNS_READ;
    let mut names = names.into_iter();
    !wanted.is_empty() && wanted.iter().all(|w| names.next() == Some(*w))
}

/// Decodes `row` into `T`: by position when [`in_order`] found its statement's columns in the
/// record's order, by name otherwise.
pub(crate) fn decode<T: FromRow, R: Row>(row: &R, in_order: bool) -> Result<T> {
    if in_order {
        T::from_row(&InOrder(row))
    } else {
        T::from_row(row)
    }
}

/// A row whose columns [`in_order`] found in the order its record reads them: a lookup is its
/// hint.
pub(crate) struct InOrder<'a, R: Row + ?Sized>(pub &'a R);

impl<R: Row + ?Sized> Row for InOrder<'_, R> {
    fn text(&self, i: usize) -> Result<String> {
        self.0.text(i)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.0.opt_text(i)
    }
    fn int(&self, i: usize) -> Result<i64> {
        self.0.int(i)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.0.opt_int(i)
    }
    fn boolean(&self, i: usize) -> Result<bool> {
        self.0.boolean(i)
    }
    fn column_name(&self, i: usize) -> Option<&str> {
        self.0.column_name(i)
    }
    fn index_of(&self, _name: &str, hint: usize) -> Result<usize> {
        Ok(hint)
    }
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
    fn column_name(&self, i: usize) -> Option<&str> {
        self.as_ref().column_name(i).ok()
    }
}

/// A SQLite row with the column names of its statement, read once per query.
pub(crate) struct Named<'a, 'r> {
    /// The row.
    pub row: &'a rusqlite::Row<'r>,
    /// The statement's column names, in order.
    pub names: &'a [String],
}

impl Row for Named<'_, '_> {
    fn text(&self, i: usize) -> Result<String> {
        self.row.text(i)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.row.opt_text(i)
    }
    fn int(&self, i: usize) -> Result<i64> {
        self.row.int(i)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.row.opt_int(i)
    }
    fn boolean(&self, i: usize) -> Result<bool> {
        self.row.boolean(i)
    }
    fn column_name(&self, i: usize) -> Option<&str> {
        self.names.get(i).map(String::as_str)
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
    fn column_name(&self, i: usize) -> Option<&str> {
        self.columns().get(i).map(|c| c.name())
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
