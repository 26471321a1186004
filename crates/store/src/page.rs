//! Keyset pagination (SPEC §1.8, §1.9): a stable order on (sort column, id) in one direction, and a
//! page that starts strictly after the cursor row. The cost of a page does not grow with its depth
//! when an index leads with `tenant_id` and then the sort column and id.

use sea_query::{Expr, ExprTrait, IntoColumnRef, Order, SelectStatement, Value};

/// Sort direction (`sortDir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    /// Ascending.
    Asc,
    /// Descending (the default, SPEC §1.9).
    Desc,
}

impl SortDir {
    /// Parses `asc` / `desc`.
    pub fn parse(text: &str) -> Option<SortDir> {
        match text {
            "asc" => Some(SortDir::Asc),
            "desc" => Some(SortDir::Desc),
            _ => None,
        }
    }
    fn order(self) -> Order {
        match self {
            SortDir::Asc => Order::Asc,
            SortDir::Desc => Order::Desc,
        }
    }
}

/// One page of records and whether more exist after it.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The records of this page, at most `limit`.
    pub items: Vec<T>,
    /// Whether more records follow in this order.
    pub has_more: bool,
}

/// Where a page starts: the sort value and id of the last row of the previous page.
#[derive(Debug, Clone)]
pub struct After {
    /// The cursor row's value of the sort column (integer or text).
    pub sort_value: Value,
    /// The cursor row's id.
    pub id: String,
}

/// Adds the keyset condition, the order and `LIMIT limit + 1` to `q`. When `sort` is the id column
/// itself, the order is on the id alone.
pub fn keyset<C: IntoColumnRef + Clone>(
    q: &mut SelectStatement,
    sort: C,
    id: C,
    same_column: bool,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) {
    if let Some(after) = after {
        if same_column {
            let cond = match dir {
                SortDir::Asc => Expr::col(id.clone()).gt(after.id),
                SortDir::Desc => Expr::col(id.clone()).lt(after.id),
            };
            q.and_where(cond);
        } else {
            let left = Expr::tuple([Expr::col(sort.clone()), Expr::col(id.clone())]);
            let right = Expr::tuple([Expr::val(after.sort_value), Expr::val(after.id)]);
            q.and_where(match dir {
                SortDir::Asc => left.gt(right),
                SortDir::Desc => left.lt(right),
            });
        }
    }
    if !same_column {
        q.order_by(sort, dir.order());
    }
    q.order_by(id, dir.order());
    q.limit(limit + 1);
}

/// Splits the `limit + 1` rows fetched by [`keyset`] into a page.
pub fn into_page<T>(mut rows: Vec<T>, limit: u64) -> Page<T> {
    let has_more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Page {
        items: rows,
        has_more,
    }
}

/// A listable table: its name and id column (its tenant column is `tenant_id`, like every
/// tenant-owned table).
#[derive(Debug, Clone, Copy)]
pub struct Keyed<T, C> {
    /// Table.
    pub table: T,
    /// The id column (cursor and tie-breaker).
    pub id: C,
}

/// Resolves a `startAfter` cursor: reads the sort value of the row `id` of the table in the
/// business unit. `None` when no such row exists (the caller answers 400 `VALIDATION_ERROR`).
pub async fn resolve_cursor<T: sea_query::IntoIden + Copy, C: IntoColumnRef + Copy>(
    conn: &mut crate::Conn,
    keyed: Keyed<T, C>,
    tenant_id: &str,
    id: &str,
    sort_col: C,
    sort_is_int: bool,
) -> crate::Result<Option<After>> {
    let mut q = crate::Scoped::select(keyed.table, tenant_id);
    q.expr(Expr::col(sort_col))
        .and_where(Expr::col(keyed.id).eq(id));
    let value = if sort_is_int {
        conn.fetch_optional::<i64, _>(&q).await?.map(Value::from)
    } else {
        conn.fetch_optional::<String, _>(&q).await?.map(Value::from)
    };
    Ok(value.map(|sort_value| After {
        sort_value,
        id: id.to_string(),
    }))
}
