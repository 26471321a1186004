//! Customers (SPEC §2.4), keyed by (tenant_id, customer_id), unique by (tenant_id, lower(email)).
//! The counters (orders, active rentals, monthly revenue, collected, cost) are columns kept current
//! by the use cases that change them, in the same transaction.

use sea_query::{Expr, ExprTrait, Iden, SimpleExpr};

use crate::page::{self, After, Page, SortDir};
use crate::{Conn, Result, Scoped};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Customers {
    Table,
    TenantId,
    CustomerId,
    EmailKey,
    FirstName,
    LastName,
    CustomerType,
    Status,
    TotalOrders,
    TotalDevicesRented,
    TotalMonthlyRevenue,
    LifetimeCollected,
    TotalAcquisitionCost,
    SubscriptionsTracked,
    CreatedAt,
    UpdatedAt,
}

crate::record! {
    /// A customer as stored (money in minor units).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct CustomerRecord {
        /// Business unit.
        tenant_id: String,
        /// `cust_…` (with the unit's id prefix, if any).
        customer_id: String,
        /// Email as written.
        email: String,
        /// First name.
        first_name: String,
        /// Last name.
        last_name: String,
        /// Company.
        company: Option<String>,
        /// Phone.
        phone: Option<String>,
        /// `individual` or `business`.
        customer_type: String,
        /// Customer-section custom fields, JSON object text.
        custom_fields: Option<String>,
        /// `active` or `inactive`.
        status: String,
        /// Address JSON text.
        last_billing_address: Option<String>,
        /// Address JSON text.
        last_shipping_address: Option<String>,
        /// Orders ever created for the customer.
        total_orders: i64,
        /// Subscriptions with status `active`.
        total_devices_rented: i64,
        /// Σ monthly amount of active subscriptions, minor units.
        total_monthly_revenue: i64,
        /// Σ net paid amounts, minor units.
        lifetime_collected: i64,
        /// Σ acquisition cost captured by the customer's subscriptions, minor units.
        total_acquisition_cost: i64,
        /// Subscriptions counted in `total_acquisition_cost`.
        subscriptions_tracked: i64,
        /// Actor of the order that created the customer.
        created_by: String,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
    derived {
        email_key: |r| email_key(&r.email),
    }
}

/// The case-insensitive key of an email (trimmed, lowercased).
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Inserts a customer; a taken email is [`crate::StoreError::Unique`].
pub async fn insert(conn: &mut Conn, c: &CustomerRecord) -> Result<()> {
    let mut q = Scoped::insert(
        Customers::Table,
        &c.tenant_id,
        CustomerRecord::COLUMNS[1..].iter().copied(),
    );
    q.row(c.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// Inserts a customer unless one with the same email (any case) exists in the business unit;
/// returns whether it was inserted. A concurrent insert of the same email waits for the other
/// transaction and then inserts nothing (`INSERT … ON CONFLICT DO NOTHING`), so callers never see
/// a unique-key failure for the email.
pub async fn insert_if_absent(conn: &mut Conn, c: &CustomerRecord) -> Result<bool> {
    let mut q = Scoped::insert(
        Customers::Table,
        &c.tenant_id,
        CustomerRecord::COLUMNS[1..].iter().copied(),
    );
    q.row(c.values().into_iter().skip(1)).on_conflict(
        sea_query::OnConflict::columns([Customers::TenantId, Customers::EmailKey])
            .do_nothing()
            .to_owned(),
    );
    Ok(conn.execute(&q).await? == 1)
}

/// Writes the profile fields of a stored customer (not its keys, creation data or counters, which
/// change only through [`add_counters`]); a taken email is [`crate::StoreError::Unique`].
pub async fn update(conn: &mut Conn, c: &CustomerRecord) -> Result<()> {
    // Keys, creation data and counters are not written here.
    const KEPT: [&str; 10] = [
        "tenant_id",
        "customer_id",
        "created_by",
        "created_at",
        "total_orders",
        "total_devices_rented",
        "total_monthly_revenue",
        "lifetime_collected",
        "total_acquisition_cost",
        "subscriptions_tracked",
    ];
    let pairs: Vec<(&str, SimpleExpr)> = CustomerRecord::COLUMNS
        .iter()
        .copied()
        .zip(c.values())
        .filter(|(col, _)| !KEPT.contains(col))
        .collect();
    let mut q = Scoped::update(Customers::Table, c.tenant_id.as_str());
    q.values(pairs)
        .and_where(Expr::col(Customers::CustomerId).eq(c.customer_id.as_str()));
    conn.execute(&q).await.map(|_| ())
}

async fn get_where(
    conn: &mut Conn,
    tenant_id: &str,
    col: Customers,
    value: &str,
    lock: bool,
) -> Result<Option<CustomerRecord>> {
    let mut q = Scoped::select(Customers::Table, tenant_id);
    q.columns(CustomerRecord::COLUMNS.iter().copied())
        .and_where(Expr::col(col).eq(value));
    if lock {
        q.lock_exclusive();
    }
    conn.fetch_optional(&q).await
}

/// One customer by id (any status).
pub async fn get(
    conn: &mut Conn,
    tenant_id: &str,
    customer_id: &str,
) -> Result<Option<CustomerRecord>> {
    get_where(conn, tenant_id, Customers::CustomerId, customer_id, false).await
}

/// One customer by id, locked until the transaction ends (PostgreSQL `FOR UPDATE`; a SQLite
/// write transaction already holds the write lock). Every use case that writes a customer's
/// profile, creates an order for it or deactivates it locks the row first.
pub async fn get_for_update(
    conn: &mut Conn,
    tenant_id: &str,
    customer_id: &str,
) -> Result<Option<CustomerRecord>> {
    get_where(conn, tenant_id, Customers::CustomerId, customer_id, true).await
}

/// One customer by email, compared case-insensitively.
pub async fn get_by_email(
    conn: &mut Conn,
    tenant_id: &str,
    email: &str,
) -> Result<Option<CustomerRecord>> {
    get_where(
        conn,
        tenant_id,
        Customers::EmailKey,
        &email_key(email),
        false,
    )
    .await
}

/// One customer by email (any case), locked until the transaction ends (see
/// [`get_for_update`]).
pub async fn get_by_email_for_update(
    conn: &mut Conn,
    tenant_id: &str,
    email: &str,
) -> Result<Option<CustomerRecord>> {
    get_where(
        conn,
        tenant_id,
        Customers::EmailKey,
        &email_key(email),
        true,
    )
    .await
}

/// Sort fields of listCustomers (SPEC §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerSort {
    /// `createdAt` (default).
    CreatedAt,
    /// `firstName`.
    FirstName,
    /// `lastName`.
    LastName,
    /// `email` (case-insensitive order).
    Email,
    /// `totalMonthlyRevenue`.
    TotalMonthlyRevenue,
    /// `totalDevicesRented`.
    TotalDevicesRented,
}

impl CustomerSort {
    /// Parses a `sortBy` value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "createdAt" => Self::CreatedAt,
            "firstName" => Self::FirstName,
            "lastName" => Self::LastName,
            "email" => Self::Email,
            "totalMonthlyRevenue" => Self::TotalMonthlyRevenue,
            "totalDevicesRented" => Self::TotalDevicesRented,
            _ => return None,
        })
    }
    fn column(self) -> (Customers, bool) {
        match self {
            Self::CreatedAt => (Customers::CreatedAt, true),
            Self::FirstName => (Customers::FirstName, false),
            Self::LastName => (Customers::LastName, false),
            Self::Email => (Customers::EmailKey, false),
            Self::TotalMonthlyRevenue => (Customers::TotalMonthlyRevenue, true),
            Self::TotalDevicesRented => (Customers::TotalDevicesRented, true),
        }
    }
}

/// Filters of listCustomers.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// `active` (the default when absent) or `inactive`.
    pub status: String,
    /// `individual` / `business`.
    pub customer_type: Option<String>,
    /// Exact email, any case.
    pub email: Option<String>,
    /// With (`true`) or without (`false`) an active subscription.
    pub has_active_rentals: Option<bool>,
}

/// Resolves a customer cursor; `None` for an unknown id.
pub async fn cursor(
    conn: &mut Conn,
    tenant_id: &str,
    customer_id: &str,
    sort: CustomerSort,
) -> Result<Option<After>> {
    let (col, is_int) = sort.column();
    page::resolve_cursor(
        conn,
        page::Keyed {
            table: Customers::Table,
            id: Customers::CustomerId,
        },
        tenant_id,
        customer_id,
        col,
        is_int,
    )
    .await
}

/// A page of customers.
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    filter: &CustomerFilter,
    sort: CustomerSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Result<Page<CustomerRecord>> {
    let mut q = Scoped::select(Customers::Table, tenant_id);
    q.columns(CustomerRecord::COLUMNS.iter().copied())
        .and_where(Expr::col(Customers::Status).eq(filter.status.as_str()));
    if let Some(t) = &filter.customer_type {
        q.and_where(Expr::col(Customers::CustomerType).eq(t.as_str()));
    }
    if let Some(e) = &filter.email {
        q.and_where(Expr::col(Customers::EmailKey).eq(email_key(e)));
    }
    match filter.has_active_rentals {
        Some(true) => {
            q.and_where(Expr::col(Customers::TotalDevicesRented).gt(0i64));
        }
        Some(false) => {
            q.and_where(Expr::col(Customers::TotalDevicesRented).eq(0i64));
        }
        None => {}
    }
    let (col, _) = sort.column();
    page::keyset(&mut q, col, Customers::CustomerId, false, dir, after, limit);
    let rows = conn.fetch_all(&q).await?;
    Ok(page::into_page(rows, limit))
}

/// Changes to a customer's counters, applied as `column = column + delta` so concurrent use cases
/// never lose an update.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterDelta {
    /// Orders.
    pub orders: i64,
    /// Active subscriptions.
    pub devices: i64,
    /// Monthly revenue of active subscriptions, minor units.
    pub monthly_revenue: i64,
    /// Collected net amounts, minor units.
    pub collected: i64,
    /// Acquisition cost captured, minor units.
    pub acquisition_cost: i64,
    /// Subscriptions counted in the cost.
    pub tracked: i64,
}

/// Adds `d` to the customer's counters and bumps `updated_at`.
pub async fn add_counters(
    conn: &mut Conn,
    tenant_id: &str,
    customer_id: &str,
    d: CounterDelta,
    now: i64,
) -> Result<()> {
    let mut q = Scoped::update(Customers::Table, tenant_id);
    q.value(
        Customers::TotalOrders,
        Expr::col(Customers::TotalOrders).add(d.orders),
    )
    .value(
        Customers::TotalDevicesRented,
        Expr::col(Customers::TotalDevicesRented).add(d.devices),
    )
    .value(
        Customers::TotalMonthlyRevenue,
        Expr::col(Customers::TotalMonthlyRevenue).add(d.monthly_revenue),
    )
    .value(
        Customers::LifetimeCollected,
        Expr::col(Customers::LifetimeCollected).add(d.collected),
    )
    .value(
        Customers::TotalAcquisitionCost,
        Expr::col(Customers::TotalAcquisitionCost).add(d.acquisition_cost),
    )
    .value(
        Customers::SubscriptionsTracked,
        Expr::col(Customers::SubscriptionsTracked).add(d.tracked),
    )
    .value(Customers::UpdatedAt, now)
    .and_where(Expr::col(Customers::CustomerId).eq(customer_id));
    conn.execute(&q).await.map(|_| ())
}
