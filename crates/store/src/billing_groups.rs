//! Billing groups (SPEC §2.8), keyed by (tenant_id, billing_group_id). The members of a group are
//! the subscriptions whose `billing_group_id` names it ([`members`]).

use sea_query::{Expr, ExprTrait};

use crate::page::{self, After, Page, SortDir};
use crate::subscriptions::SubscriptionRecord;
use crate::{Conn, Result, Scoped};

const TABLE: &str = "billing_groups";

crate::record! {
    /// A billing group as stored.
    #[derive(Debug, Clone, PartialEq)]
    pub struct BillingGroupRecord {
        /// Business unit.
        tenant_id: String,
        /// `bg_…`.
        billing_group_id: String,
        /// The one customer whose subscriptions the group bundles (immutable).
        customer_id: String,
        /// Name.
        group_name: String,
        /// Day of the month the consolidated payment is billed, 1–28.
        billing_day: i64,
        /// `active` or `inactive`.
        status: String,
        /// Free text.
        notes: Option<String>,
        /// The business unit's currency.
        currency: String,
        /// Actor who created the group.
        created_by: String,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
}

/// Inserts a group.
pub async fn insert(conn: &mut Conn, g: &BillingGroupRecord) -> Result<()> {
    let cols = BillingGroupRecord::COLUMNS;
    let mut q = Scoped::insert(TABLE, &g.tenant_id, cols[1..].iter().copied());
    q.row(g.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// One group by id; with `lock`, locked until the transaction ends (PostgreSQL `FOR UPDATE`).
pub async fn get(
    conn: &mut Conn,
    tenant_id: &str,
    billing_group_id: &str,
    lock: bool,
) -> Result<Option<BillingGroupRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(BillingGroupRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("billing_group_id").eq(billing_group_id));
    if lock {
        q.lock_exclusive();
    }
    conn.fetch_optional(&q).await
}

/// Writes the mutable fields of a group (name, billing day, status, notes, `updated_at`).
pub async fn update(conn: &mut Conn, g: &BillingGroupRecord) -> Result<()> {
    let mut q = Scoped::update(TABLE, &g.tenant_id);
    q.values([
        ("group_name", g.group_name.clone().into()),
        ("billing_day", g.billing_day.into()),
        ("status", g.status.clone().into()),
        ("notes", g.notes.clone().into()),
        ("updated_at", g.updated_at.into()),
    ])
    .and_where(Expr::col("billing_group_id").eq(g.billing_group_id.as_str()));
    conn.execute(&q).await.map(|_| ())
}

/// Deletes a group row (its members' `billing_group_id` must be cleared first).
pub async fn delete(conn: &mut Conn, tenant_id: &str, billing_group_id: &str) -> Result<()> {
    let mut q = Scoped::delete(TABLE, tenant_id);
    q.and_where(Expr::col("billing_group_id").eq(billing_group_id));
    conn.execute(&q).await.map(|_| ())
}

/// The members of a group (subscriptions naming it, any status), by rental id; with `lock`,
/// locked until the transaction ends.
pub async fn members(
    conn: &mut Conn,
    tenant_id: &str,
    billing_group_id: &str,
    lock: bool,
) -> Result<Vec<SubscriptionRecord>> {
    let mut q = Scoped::select("subscriptions", tenant_id);
    q.columns(SubscriptionRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("billing_group_id").eq(billing_group_id))
        .order_by("rental_id", sea_query::Order::Asc);
    if lock {
        q.lock_exclusive();
    }
    conn.fetch_all(&q).await
}

/// Member rental ids of each of `groups` (one query), as `(billing_group_id, rental_id)` pairs by
/// group and rental id.
pub async fn member_ids(
    conn: &mut Conn,
    tenant_id: &str,
    groups: &[String],
) -> Result<Vec<MemberRow>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Scoped::select("subscriptions", tenant_id);
    q.columns(["billing_group_id", "rental_id", "status", "monthly_amount"])
        .and_where(Expr::col("billing_group_id").is_in(groups.iter().map(String::as_str)))
        .order_by("billing_group_id", sea_query::Order::Asc)
        .order_by("rental_id", sea_query::Order::Asc);
    conn.fetch_all(&q).await
}

/// A member as the group's rendering needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// The group.
    pub billing_group_id: String,
    /// The member subscription.
    pub rental_id: String,
    /// Its status.
    pub status: String,
    /// Its monthly amount, minor units.
    pub monthly_amount: i64,
}

impl crate::FromRow for MemberRow {
    fn from_row(row: &dyn crate::Row) -> Result<Self> {
        Ok(MemberRow {
            billing_group_id: row.text(0)?,
            rental_id: row.text(1)?,
            status: row.text(2)?,
            monthly_amount: row.int(3)?,
        })
    }
}

/// Sets or clears a subscription's group.
pub async fn set_member(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
    billing_group_id: Option<&str>,
    now: i64,
) -> Result<()> {
    let mut q = Scoped::update("subscriptions", tenant_id);
    q.values([
        (
            "billing_group_id",
            billing_group_id.map(str::to_string).into(),
        ),
        ("updated_at", now.into()),
    ])
    .and_where(Expr::col("rental_id").eq(rental_id));
    conn.execute(&q).await.map(|_| ())
}

/// Sort orders of listBillingGroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingGroupSort {
    /// `createdAt` (default).
    CreatedAt,
    /// `groupName`.
    GroupName,
}

impl BillingGroupSort {
    /// Parses a `sortBy` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "createdAt" => Some(Self::CreatedAt),
            "groupName" => Some(Self::GroupName),
            _ => None,
        }
    }
    fn column(self) -> (&'static str, bool) {
        match self {
            Self::CreatedAt => ("created_at", true),
            Self::GroupName => ("group_name", false),
        }
    }
}

/// Filters of listBillingGroups.
#[derive(Debug, Clone, Default)]
pub struct BillingGroupFilter {
    /// The group's customer.
    pub customer_id: Option<String>,
    /// `active` / `inactive`.
    pub status: Option<String>,
}

/// Resolves a cursor (a group id); `None` for an unknown id.
pub async fn cursor(
    conn: &mut Conn,
    tenant_id: &str,
    billing_group_id: &str,
    sort: BillingGroupSort,
) -> Result<Option<After>> {
    let (col, is_int) = sort.column();
    page::resolve_cursor(
        conn,
        page::Keyed {
            table: TABLE,
            id: "billing_group_id",
        },
        tenant_id,
        billing_group_id,
        col,
        is_int,
    )
    .await
}

/// A page of groups.
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    filter: &BillingGroupFilter,
    sort: BillingGroupSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Result<Page<BillingGroupRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(BillingGroupRecord::COLUMNS.iter().copied());
    if let Some(c) = &filter.customer_id {
        q.and_where(Expr::col("customer_id").eq(c.as_str()));
    }
    if let Some(s) = &filter.status {
        q.and_where(Expr::col("status").eq(s.as_str()));
    }
    let (col, _) = sort.column();
    page::keyset(&mut q, col, "billing_group_id", false, dir, after, limit);
    let rows = conn.fetch_all(&q).await?;
    Ok(page::into_page(rows, limit))
}
