//! Orders (SPEC §2.5), keyed by (tenant_id, order_id). Items, addresses and the customer snapshot
//! are JSON documents written once at creation; progress and status change with fulfilment.

use sea_query::{Expr, ExprTrait, SimpleExpr};

use crate::page::{self, After, Page, SortDir};
use crate::row::{FromRow, Row};
use crate::{Conn, Result, Scoped};

const TABLE: &str = "orders";

/// The order columns in the order [`OrderRecord`] decodes them.
const COLS: [&str; 25] = [
    "tenant_id",
    "order_id",
    "status",
    "order_type",
    "customer_id",
    "customer_snapshot",
    "billing_address",
    "shipping_address",
    "items",
    "subtotal",
    "tax_amount",
    "total",
    "currency",
    "total_devices",
    "rented_devices",
    "custom_fields",
    "notes",
    "extension_details",
    "upgrade_details",
    "dedupe_key",
    "cancellation_reason",
    "cancelled_at",
    "created_by",
    "created_at",
    "updated_at",
];

/// An order as stored (money in minor units).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderRecord {
    /// Business unit.
    pub tenant_id: String,
    /// `ord_…`.
    pub order_id: String,
    /// `pending`, `confirmed`, `partial`, `fulfilled` or `cancelled`.
    pub status: String,
    /// `standard`, `extension` or `upgrade`.
    pub order_type: String,
    /// The customer.
    pub customer_id: String,
    /// Customer snapshot JSON.
    pub customer_snapshot: String,
    /// Address JSON.
    pub billing_address: String,
    /// Address JSON (the billing address when none was sent).
    pub shipping_address: String,
    /// Items JSON (`Vec<OrderItem>` of the app crate).
    pub items: String,
    /// Σ unit price × quantity, net, minor units.
    pub subtotal: i64,
    /// Tax, minor units.
    pub tax_amount: i64,
    /// Total, minor units.
    pub total: i64,
    /// Business unit currency.
    pub currency: String,
    /// Σ quantity.
    pub total_devices: i64,
    /// Subscriptions created from the order.
    pub rented_devices: i64,
    /// Custom fields JSON object.
    pub custom_fields: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Extension details JSON.
    pub extension_details: Option<String>,
    /// Upgrade details JSON.
    pub upgrade_details: Option<String>,
    /// Email key and item multiset, for the duplicate window (SPEC §1.12).
    pub dedupe_key: String,
    /// Cancellation reason.
    pub cancellation_reason: Option<String>,
    /// Epoch milliseconds of the cancellation.
    pub cancelled_at: Option<i64>,
    /// Actor.
    pub created_by: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds.
    pub updated_at: i64,
}

impl FromRow for OrderRecord {
    fn from_row(r: &dyn Row) -> Result<Self> {
        Ok(OrderRecord {
            tenant_id: r.text(0)?,
            order_id: r.text(1)?,
            status: r.text(2)?,
            order_type: r.text(3)?,
            customer_id: r.text(4)?,
            customer_snapshot: r.text(5)?,
            billing_address: r.text(6)?,
            shipping_address: r.text(7)?,
            items: r.text(8)?,
            subtotal: r.int(9)?,
            tax_amount: r.int(10)?,
            total: r.int(11)?,
            currency: r.text(12)?,
            total_devices: r.int(13)?,
            rented_devices: r.int(14)?,
            custom_fields: r.opt_text(15)?,
            notes: r.opt_text(16)?,
            extension_details: r.opt_text(17)?,
            upgrade_details: r.opt_text(18)?,
            dedupe_key: r.text(19)?,
            cancellation_reason: r.opt_text(20)?,
            cancelled_at: r.opt_int(21)?,
            created_by: r.text(22)?,
            created_at: r.int(23)?,
            updated_at: r.int(24)?,
        })
    }
}

impl OrderRecord {
    fn values(&self) -> [SimpleExpr; 25] {
        [
            self.tenant_id.clone().into(),
            self.order_id.clone().into(),
            self.status.clone().into(),
            self.order_type.clone().into(),
            self.customer_id.clone().into(),
            self.customer_snapshot.clone().into(),
            self.billing_address.clone().into(),
            self.shipping_address.clone().into(),
            self.items.clone().into(),
            self.subtotal.into(),
            self.tax_amount.into(),
            self.total.into(),
            self.currency.clone().into(),
            self.total_devices.into(),
            self.rented_devices.into(),
            self.custom_fields.clone().into(),
            self.notes.clone().into(),
            self.extension_details.clone().into(),
            self.upgrade_details.clone().into(),
            self.dedupe_key.clone().into(),
            self.cancellation_reason.clone().into(),
            self.cancelled_at.into(),
            self.created_by.clone().into(),
            self.created_at.into(),
            self.updated_at.into(),
        ]
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
    q.columns(COLS)
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
    q.columns(COLS)
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
    q.columns(COLS)
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
    q.columns(COLS);
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
