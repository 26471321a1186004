//! Orders (SPEC §2.5), keyed by (tenant_id, order_id). Items, addresses and the customer snapshot
//! are JSON documents written once at creation; progress and status change with fulfilment.

use sea_query::{Expr, ExprTrait};

use crate::page::{self, After, Page, SortDir};
use crate::{Conn, Result, Scoped};

const TABLE: &str = "orders";

/// The orders columns in table order (the columns of [`OrderRecord`]).
const COLS: &[&str] = OrderRecord::COLUMNS;

crate::record! {
    /// An order as stored (money in minor units).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct OrderRecord {
        /// Business unit.
        tenant_id: String,
        /// `ord_…`.
        order_id: String,
        /// `pending`, `confirmed`, `partial`, `fulfilled` or `cancelled`.
        status: String,
        /// `standard`, `extension` or `upgrade`.
        order_type: String,
        /// The customer.
        customer_id: String,
        /// Customer snapshot JSON.
        customer_snapshot: String,
        /// Address JSON.
        billing_address: String,
        /// Address JSON (the billing address when none was sent).
        shipping_address: String,
        /// Items JSON (`Vec<OrderItem>` of the app crate).
        items: String,
        /// Σ unit price × quantity, net, minor units.
        subtotal: i64,
        /// Tax, minor units.
        tax_amount: i64,
        /// Total, minor units.
        total: i64,
        /// Business unit currency.
        currency: String,
        /// Σ quantity.
        total_devices: i64,
        /// Subscriptions created from the order.
        rented_devices: i64,
        /// Custom fields JSON object.
        custom_fields: Option<String>,
        /// Notes.
        notes: Option<String>,
        /// Extension details JSON.
        extension_details: Option<String>,
        /// Upgrade details JSON.
        upgrade_details: Option<String>,
        /// Email key and item multiset, for the duplicate window (SPEC §1.12).
        dedupe_key: String,
        /// Cancellation reason.
        cancellation_reason: Option<String>,
        /// Epoch milliseconds of the cancellation.
        cancelled_at: Option<i64>,
        /// Actor.
        created_by: String,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
}

/// Inserts an order.
pub async fn insert(conn: &mut Conn, o: &OrderRecord) -> Result<()> {
    let mut q = Scoped::insert(TABLE, &o.tenant_id, COLS[1..].iter().copied());
    q.row(o.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// Writes the mutable fields: status, progress, notes, cancellation.
pub async fn update(conn: &mut Conn, o: &OrderRecord) -> Result<()> {
    let mut q = Scoped::update(TABLE, o.tenant_id.as_str());
    q.values([
        ("status", o.status.clone().into()),
        ("rented_devices", o.rented_devices.into()),
        ("notes", o.notes.clone().into()),
        ("cancellation_reason", o.cancellation_reason.clone().into()),
        ("cancelled_at", o.cancelled_at.into()),
        ("updated_at", o.updated_at.into()),
    ])
    .and_where(Expr::col("order_id").eq(o.order_id.as_str()));
    conn.execute(&q).await.map(|_| ())
}

/// One order by id. With `lock`, the row is locked until the transaction ends (PostgreSQL
/// `FOR UPDATE`; SQLite transactions already hold the write lock).
pub async fn get(
    conn: &mut Conn,
    tenant_id: &str,
    order_id: &str,
    lock: bool,
) -> Result<Option<OrderRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLS.iter().copied())
        .and_where(Expr::col("order_id").eq(order_id));
    if lock {
        q.lock_exclusive();
    }
    conn.fetch_optional(&q).await
}

/// The most recent order with this duplicate key created at or after `since` (epoch ms).
pub async fn recent_duplicate(
    conn: &mut Conn,
    tenant_id: &str,
    dedupe_key: &str,
    since: i64,
) -> Result<Option<OrderRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLS.iter().copied())
        .and_where(Expr::col("dedupe_key").eq(dedupe_key))
        .and_where(Expr::col("created_at").gte(since))
        .order_by("created_at", sea_query::Order::Desc)
        .limit(1);
    conn.fetch_optional(&q).await
}

/// Ids of a customer's orders, oldest first.
pub async fn ids_for_customer(
    conn: &mut Conn,
    tenant_id: &str,
    customer_id: &str,
) -> Result<Vec<String>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.column("order_id")
        .and_where(Expr::col("customer_id").eq(customer_id))
        .order_by("created_at", sea_query::Order::Asc)
        .order_by("order_id", sea_query::Order::Asc);
    conn.fetch_all(&q).await
}

/// Number of the customer's orders in `pending`, `confirmed` or `partial`.
pub async fn open_count_for_customer(
    conn: &mut Conn,
    tenant_id: &str,
    customer_id: &str,
) -> Result<i64> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.expr(Expr::cust("COUNT(*)"))
        .and_where(Expr::col("customer_id").eq(customer_id))
        .and_where(Expr::col("status").is_in(["pending", "confirmed", "partial"]));
    Ok(conn.fetch_optional(&q).await?.unwrap_or(0))
}

/// Open orders (`pending`, `confirmed`, `partial`) of the business unit, with their items, for
/// the rules that ask whether a SKU still has unfulfilled units.
pub async fn open_orders(conn: &mut Conn, tenant_id: &str) -> Result<Vec<OrderRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLS.iter().copied())
        .and_where(Expr::col("status").is_in(["pending", "confirmed", "partial"]));
    conn.fetch_all(&q).await
}

/// Sort fields of listOrders (SPEC §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSort {
    /// `createdAt` (default).
    CreatedAt,
    /// `updatedAt`.
    UpdatedAt,
    /// `orderId`.
    OrderId,
    /// `status`.
    Status,
    /// `totals.total`.
    Total,
}

impl OrderSort {
    /// Parses a `sortBy` value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            "orderId" => Self::OrderId,
            "status" => Self::Status,
            "totals.total" | "total" => Self::Total,
            _ => return None,
        })
    }
    fn column(self) -> (&'static str, bool) {
        match self {
            Self::CreatedAt => ("created_at", true),
            Self::UpdatedAt => ("updated_at", true),
            Self::OrderId => ("order_id", false),
            Self::Status => ("status", false),
            Self::Total => ("total", true),
        }
    }
}

/// Filters of listOrders; custom fields are matched exactly (`customField_<id>=<value>`).
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Status.
    pub status: Option<String>,
    /// Customer.
    pub customer_id: Option<String>,
}

/// Resolves an order cursor; `None` for an unknown id.
pub async fn cursor(
    conn: &mut Conn,
    tenant_id: &str,
    order_id: &str,
    sort: OrderSort,
) -> Result<Option<After>> {
    let (col, is_int) = sort.column();
    let keyed = page::Keyed {
        table: TABLE,
        id: "order_id",
    };
    page::resolve_cursor(conn, keyed, tenant_id, order_id, col, is_int).await
}

/// A page of orders. Custom-field filters are applied after the indexed filters, so a page may
/// hold fewer than `limit` items while `has_more` is true only when the index has more rows.
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    filter: &OrderFilter,
    sort: OrderSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Result<Page<OrderRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLS.iter().copied());
    if let Some(s) = &filter.status {
        q.and_where(Expr::col("status").eq(s.as_str()));
    }
    if let Some(c) = &filter.customer_id {
        q.and_where(Expr::col("customer_id").eq(c.as_str()));
    }
    let (col, _) = sort.column();
    page::keyset(
        &mut q,
        col,
        "order_id",
        sort == OrderSort::OrderId,
        dir,
        after,
        limit,
    );
    let rows = conn.fetch_all(&q).await?;
    Ok(page::into_page(rows, limit))
}
