//! Subscriptions (rentals, SPEC §2.6), keyed by (tenant_id, rental_id).

use flexportal_domain::billing::BillingSettings;
use sea_query::{Expr, ExprTrait, SimpleExpr};

use crate::page::{self, After, Page, SortDir};
use crate::row::{FromRow, Row};
use crate::{Conn, Result, Scoped};

const TABLE: &str = "subscriptions";

/// The subscriptions columns in table order (the columns of [`SubscriptionRecord`]).
pub const COLUMNS: &[&str] = SubscriptionRecord::COLUMNS;

crate::record! {
    /// A subscription as stored (money in minor units, dates `YYYY-MM-DD`).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct SubscriptionRecord {
        /// Business unit.
        tenant_id: String,
        /// `sub_…` (the API's `rentalId`).
        rental_id: String,
        /// Order fulfilled.
        order_id: String,
        /// 0-based index of the order item fulfilled.
        order_item_index: i64,
        /// Customer.
        customer_id: String,
        /// Snapshot of the order's customer email.
        customer_email: String,
        /// `firstName lastName` of the order's customer.
        customer_name: String,
        /// Current asset.
        asset_serial_number: String,
        /// Variant SKU.
        sku: String,
        /// Variant.
        variant_id: String,
        /// Product.
        product_id: String,
        /// Display name.
        product_name: String,
        /// Image.
        product_image_url: Option<String>,
        /// Monthly amount, minor units.
        monthly_amount: i64,
        /// Currency.
        currency: String,
        /// Status.
        status: String,
        /// Billing group.
        billing_group_id: Option<String>,
        /// Months at activation.
        original_contract_length: i64,
        /// Current months.
        contract_length: i64,
        /// Start date.
        start_date: String,
        /// End date.
        end_date: String,
        /// Billing-cycle anchor `T` (SPEC §2.6.3).
        anchor_date: String,
        /// The billing settings the schedule was generated with (stored as the versioned document
        /// of [`BillingSettings`]), so extensions continue the same cycle.
        billing: BillingSettings,
        /// Epoch milliseconds of the last lifecycle action.
        last_modified_date: i64,
        /// List price snapshot, minor units.
        list_price: Option<i64>,
        /// `variant`, `order_override`, `estimated`, `unknown`.
        list_price_source: String,
        /// Acquisition cost snapshot, minor units.
        acquisition_cost: Option<i64>,
        /// `order_override`, `manual`, `variant`, `list_price`, `unknown`.
        acquisition_cost_source: String,
        /// Epoch milliseconds of the snapshots.
        captured_at: i64,
        /// Σ net paid amounts, minor units.
        total_collected: i64,
        /// Custom fields JSON.
        custom_fields: Option<String>,
        /// Notes.
        notes: Option<String>,
        /// Previous subscription of an upgrade.
        upgrade_from_rental_id: Option<String>,
        /// Actor.
        created_by: String,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
        /// Effective date `YYYY-MM-DD` of the ending (SPEC §2.6.2), once ended or cancelled.
        ended_on: Option<String>,
        /// `actualMonthsRented` frozen at the ending, months.
        months_rented: Option<i64>,
        /// `monthsSaved` set at the ending, months.
        months_saved: Option<i64>,
        /// The pending upgrade order of a deferred upgrade (SPEC §2.6.5).
        pending_upgrade_order_id: Option<String>,
    }
}

fn insert_cols() -> &'static [&'static str] {
    COLUMNS
}

/// Inserts a subscription.
pub async fn insert(conn: &mut Conn, s: &SubscriptionRecord) -> Result<()> {
    let mut q = Scoped::insert(TABLE, &s.tenant_id, insert_cols()[1..].iter().copied());
    q.row(s.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// Writes every field but the keys, creation data and `total_collected` (which changes only
/// through [`add_collected`]).
pub async fn update(conn: &mut Conn, s: &SubscriptionRecord) -> Result<()> {
    let pairs: Vec<(&'static str, SimpleExpr)> = insert_cols()
        .iter()
        .copied()
        .zip(s.values())
        .filter(|(c, _)| writable(c))
        .collect();
    write(conn, s, pairs).await
}

/// Writes the mutable fields of `after` that differ from `before`, the same subscription as
/// read (nothing when none differs). Same effect as [`update`] when `before` is the stored row,
/// at a fraction of its index writes.
pub async fn update_changed(
    conn: &mut Conn,
    before: &SubscriptionRecord,
    after: &SubscriptionRecord,
) -> Result<()> {
    debug_assert_eq!(before.rental_id, after.rental_id);
    let pairs =
        crate::record::changed_columns(insert_cols(), before.values(), after.values(), writable);
    if pairs.is_empty() {
        return Ok(());
    }
    write(conn, after, pairs).await
}

/// Whether [`update`] writes the column: all but the keys, the creation data and
/// `total_collected` (which changes only through [`add_collected`]).
fn writable(column: &str) -> bool {
    !matches!(
        column,
        "tenant_id" | "rental_id" | "order_id" | "created_by" | "created_at" | "total_collected"
    )
}

async fn write(
    conn: &mut Conn,
    s: &SubscriptionRecord,
    pairs: Vec<(&'static str, SimpleExpr)>,
) -> Result<()> {
    let mut q = Scoped::update(TABLE, s.tenant_id.as_str());
    q.values(pairs)
        .and_where(Expr::col("rental_id").eq(s.rental_id.as_str()));
    conn.execute(&q).await.map(|_| ())
}

fn select(tenant_id: &str) -> Scoped<sea_query::SelectStatement> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(insert_cols().iter().copied());
    q
}

/// One subscription by id.
pub async fn get(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
) -> Result<Option<SubscriptionRecord>> {
    let mut q = select(tenant_id);
    q.and_where(Expr::col("rental_id").eq(rental_id));
    conn.fetch_optional(&q).await
}

/// One subscription by id, locked until the transaction ends (PostgreSQL `FOR UPDATE`; a SQLite
/// write transaction already holds the write lock).
pub async fn get_for_update(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
) -> Result<Option<SubscriptionRecord>> {
    let mut q = select(tenant_id);
    q.and_where(Expr::col("rental_id").eq(rental_id))
        .lock_exclusive();
    conn.fetch_optional(&q).await
}

/// The listed subscriptions that exist, in id order, locked until the transaction ends
/// (PostgreSQL `FOR UPDATE`): one statement for a batch of the contract-end job (at most a few
/// hundred ids).
pub async fn get_many_for_update(
    conn: &mut Conn,
    tenant_id: &str,
    rental_ids: &[String],
) -> Result<Vec<SubscriptionRecord>> {
    if rental_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = select(tenant_id);
    q.and_where(Expr::col("rental_id").is_in(rental_ids.iter().map(String::as_str)))
        .order_by("rental_id", sea_query::Order::Asc)
        .lock_exclusive();
    conn.fetch_all(&q).await
}

/// Ids of up to `limit` `active` subscriptions whose end date is before `before` (`YYYY-MM-DD`),
/// in id order after `after` (keyset pages for the contract-end job, SPEC §2.6.6).
pub async fn ended_contracts(
    conn: &mut Conn,
    tenant_id: &str,
    before: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<String>> {
    struct Id(String);
    impl FromRow for Id {
        fn from_row(r: &dyn Row) -> Result<Self> {
            Ok(Id(r.text(0)?))
        }
    }
    let mut q = Scoped::select(TABLE, tenant_id);
    q.column("rental_id")
        .and_where(Expr::col("status").eq("active"))
        .and_where(Expr::col("end_date").lt(before));
    if let Some(a) = after {
        q.and_where(Expr::col("rental_id").gt(a));
    }
    q.order_by("rental_id", sea_query::Order::Asc).limit(limit);
    Ok(conn
        .fetch_all::<Id, _>(&q)
        .await?
        .into_iter()
        .map(|i| i.0)
        .collect())
}

/// `(rental_id, order_item_index)` of every subscription created from an order, oldest first.
pub async fn for_order(
    conn: &mut Conn,
    tenant_id: &str,
    order_id: &str,
) -> Result<Vec<(String, i64)>> {
    struct Pair(String, i64);
    impl FromRow for Pair {
        fn from_row(r: &dyn Row) -> Result<Self> {
            Ok(Pair(r.text(0)?, r.int(1)?))
        }
    }
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(["rental_id", "order_item_index"])
        .and_where(Expr::col("order_id").eq(order_id))
        .order_by("created_at", sea_query::Order::Asc)
        .order_by("rental_id", sea_query::Order::Asc);
    Ok(conn
        .fetch_all::<Pair, _>(&q)
        .await?
        .into_iter()
        .map(|p| (p.0, p.1))
        .collect())
}

/// Ids of a customer's subscriptions, oldest first.
pub async fn ids_for_customer(
    conn: &mut Conn,
    tenant_id: &str,
    customer_id: &str,
) -> Result<Vec<String>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.column("rental_id")
        .and_where(Expr::col("customer_id").eq(customer_id))
        .order_by("created_at", sea_query::Order::Asc)
        .order_by("rental_id", sea_query::Order::Asc);
    conn.fetch_all(&q).await
}

/// The earliest start date (`YYYY-MM-DD`) of a customer's subscriptions, if any.
pub async fn first_start(
    conn: &mut Conn,
    tenant_id: &str,
    customer_id: &str,
) -> Result<Option<String>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.column("start_date")
        .and_where(Expr::col("customer_id").eq(customer_id))
        .order_by("start_date", sea_query::Order::Asc)
        .limit(1);
    conn.fetch_optional(&q).await
}

/// Sort fields of listSubscriptions (SPEC §2.6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionSort {
    /// `createdAt` (default).
    CreatedAt,
    /// `updatedAt`.
    UpdatedAt,
    /// `startDate`.
    StartDate,
    /// `endDate`.
    EndDate,
    /// `monthlyAmount`.
    MonthlyAmount,
}

impl SubscriptionSort {
    /// Parses a `sortBy` value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            "startDate" => Self::StartDate,
            "endDate" => Self::EndDate,
            "monthlyAmount" => Self::MonthlyAmount,
            _ => return None,
        })
    }
    fn column(self) -> (&'static str, bool) {
        match self {
            Self::CreatedAt => ("created_at", true),
            Self::UpdatedAt => ("updated_at", true),
            Self::StartDate => ("start_date", false),
            Self::EndDate => ("end_date", false),
            Self::MonthlyAmount => ("monthly_amount", true),
        }
    }
}

/// Filters of listSubscriptions; date ranges are inclusive `YYYY-MM-DD`.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    /// Exact statuses (several for `ended`).
    pub statuses: Vec<String>,
    /// Customer.
    pub customer_id: Option<String>,
    /// Any of these customers (the export's `customerIds`); empty: no restriction.
    pub customer_ids: Vec<String>,
    /// Order.
    pub order_id: Option<String>,
    /// Current asset.
    pub serial_number: Option<String>,
    /// Variant SKU.
    pub sku: Option<String>,
    /// Billing group.
    pub billing_group_id: Option<String>,
    /// Start date from.
    pub start_date_from: Option<String>,
    /// Start date to.
    pub start_date_to: Option<String>,
    /// End date from.
    pub end_date_from: Option<String>,
    /// End date to.
    pub end_date_to: Option<String>,
}

/// Resolves a subscription cursor; `None` for an unknown id.
pub async fn cursor(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
    sort: SubscriptionSort,
) -> Result<Option<After>> {
    let (col, is_int) = sort.column();
    let keyed = page::Keyed {
        table: TABLE,
        id: "rental_id",
    };
    page::resolve_cursor(conn, keyed, tenant_id, rental_id, col, is_int).await
}

/// The statement of [`list`] (exposed for query-plan checks).
pub fn list_query(
    tenant_id: &str,
    f: &SubscriptionFilter,
    sort: SubscriptionSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Scoped<sea_query::SelectStatement> {
    let mut q = select(tenant_id);
    apply_filter(&mut q, f);
    let (col, _) = sort.column();
    page::keyset(&mut q, col, "rental_id", false, dir, after, limit);
    q
}

/// Adds the conditions of `f` to a statement over the subscriptions table.
pub fn apply_filter(q: &mut sea_query::SelectStatement, f: &SubscriptionFilter) {
    match f.statuses.len() {
        0 => {}
        1 => {
            q.and_where(Expr::col("status").eq(f.statuses[0].as_str()));
        }
        _ => {
            q.and_where(Expr::col("status").is_in(f.statuses.iter().map(String::as_str)));
        }
    }
    for (col, v) in [
        ("customer_id", &f.customer_id),
        ("order_id", &f.order_id),
        ("asset_serial_number", &f.serial_number),
        ("sku", &f.sku),
        ("billing_group_id", &f.billing_group_id),
    ] {
        if let Some(v) = v {
            q.and_where(Expr::col(col).eq(v.as_str()));
        }
    }
    if !f.customer_ids.is_empty() {
        q.and_where(Expr::col("customer_id").is_in(f.customer_ids.iter().map(String::as_str)));
    }
    if let Some(d) = &f.start_date_from {
        q.and_where(Expr::col("start_date").gte(d.as_str()));
    }
    if let Some(d) = &f.start_date_to {
        q.and_where(Expr::col("start_date").lte(d.as_str()));
    }
    if let Some(d) = &f.end_date_from {
        q.and_where(Expr::col("end_date").gte(d.as_str()));
    }
    if let Some(d) = &f.end_date_to {
        q.and_where(Expr::col("end_date").lte(d.as_str()));
    }
}

/// A page of subscriptions.
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    f: &SubscriptionFilter,
    sort: SubscriptionSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Result<Page<SubscriptionRecord>> {
    let q = list_query(tenant_id, f, sort, dir, after, limit);
    let rows = conn.fetch_all(&q).await?;
    Ok(page::into_page(rows, limit))
}

/// Adds collected net income (minor units) to a subscription's total.
pub async fn add_collected(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
    amount: i64,
    now: i64,
) -> Result<()> {
    let mut q = Scoped::update(TABLE, tenant_id);
    q.value("total_collected", Expr::col("total_collected").add(amount))
        .value("updated_at", now)
        .and_where(Expr::col("rental_id").eq(rental_id));
    conn.execute(&q).await.map(|_| ())
}
