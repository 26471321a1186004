//! The reads of the rentals export (SPEC §2.10): how many subscriptions a filter matches, the
//! custom-field keys they carry, their rows in `startDate`, `rentalId` order (keyset pages through
//! the `(tenant_id, start_date, rental_id)` index) and their customers' companies. Meant to run on
//! one [`crate::Db::read_snapshot`] connection so that every statement sees the same rows.

use sea_query::{Expr, ExprTrait, Value};

use crate::page::{After, Page, SortDir};
use crate::row::{FromRow, Row};
use crate::subscriptions::{self, SubscriptionFilter, SubscriptionRecord, SubscriptionSort};
use crate::{Conn, Result, Scoped};

/// Subscriptions of the business unit matching `f`.
pub async fn count(conn: &mut Conn, tenant_id: &str, f: &SubscriptionFilter) -> Result<i64> {
    let mut q = Scoped::select("subscriptions", tenant_id);
    q.expr(Expr::cust("COUNT(*)"));
    subscriptions::apply_filter(&mut q, f);
    Ok(conn.fetch_optional::<i64, _>(&q).await?.unwrap_or(0))
}

/// The position of a subscription in the export's order: (`start_date`, `rental_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `sub_…`.
    pub rental_id: String,
}

impl Position {
    fn after(&self) -> After {
        After {
            sort_value: Value::from(self.start_date.clone()),
            id: self.rental_id.clone(),
        }
    }
}

/// A subscription's custom fields (JSON object text) and its position.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomFieldsRow {
    /// Where the row is in the export's order.
    pub position: Position,
    /// The stored JSON object text; `None` without custom fields.
    pub custom_fields: Option<String>,
}

impl FromRow for CustomFieldsRow {
    fn from_row(row: &dyn Row) -> Result<Self> {
        Ok(CustomFieldsRow {
            position: Position {
                start_date: row.text(0)?,
                rental_id: row.text(1)?,
            },
            custom_fields: row.opt_text(2)?,
        })
    }
}

/// A page of `limit` rows of (position, custom fields) of the subscriptions matching `f`, after
/// `after`, in the export's order: what the header's `customField_<id>` columns are found from
/// without reading whole rows.
pub async fn custom_fields_page(
    conn: &mut Conn,
    tenant_id: &str,
    f: &SubscriptionFilter,
    after: Option<&Position>,
    limit: u64,
) -> Result<Page<CustomFieldsRow>> {
    let mut q = Scoped::select("subscriptions", tenant_id);
    q.columns(["start_date", "rental_id", "custom_fields"]);
    subscriptions::apply_filter(&mut q, f);
    crate::page::keyset(
        &mut q,
        "start_date",
        "rental_id",
        false,
        SortDir::Asc,
        after.map(Position::after),
        limit,
    );
    let rows = conn.fetch_all(&q).await?;
    Ok(crate::page::into_page(rows, limit))
}

/// A page of `limit` whole subscriptions matching `f` after `after`, in the export's order
/// (`startDate` ascending, then `rentalId`).
pub async fn rows_page(
    conn: &mut Conn,
    tenant_id: &str,
    f: &SubscriptionFilter,
    after: Option<&Position>,
    limit: u64,
) -> Result<Page<SubscriptionRecord>> {
    subscriptions::list(
        conn,
        tenant_id,
        f,
        SubscriptionSort::StartDate,
        SortDir::Asc,
        after.map(Position::after),
        limit,
    )
    .await
}

/// The position of a subscription (the cursor of the next page).
pub fn position(s: &SubscriptionRecord) -> Position {
    Position {
        start_date: s.start_date.clone(),
        rental_id: s.rental_id.clone(),
    }
}

/// `(customer_id, company)` of the given customers that have a company, one statement.
pub async fn companies(
    conn: &mut Conn,
    tenant_id: &str,
    customer_ids: &[String],
) -> Result<Vec<(String, String)>> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Scoped::select("customers", tenant_id);
    q.columns(["customer_id", "company"])
        .and_where(Expr::col("customer_id").is_in(customer_ids.iter().map(String::as_str)))
        .and_where(Expr::col("company").is_not_null());
    conn.fetch_all(&q).await
}
