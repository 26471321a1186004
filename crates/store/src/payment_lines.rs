//! The lines of consolidated payments (SPEC §2.7, §2.8): one per member charge, keyed by
//! (tenant_id, line_id). A removed line (`removed_at` set) no longer counts in its payment but
//! keeps hiding the individual payment it absorbed.

use sea_query::{Expr, ExprTrait};

use crate::{Conn, Result, Scoped};

/// The table.
pub const TABLE: &str = "payment_lines";

crate::record! {
    /// A line of a consolidated payment (money in minor units, dates `YYYY-MM-DD`).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct LineRecord {
        /// Business unit.
        tenant_id: String,
        /// `pl_…`.
        line_id: String,
        /// The consolidated payment.
        payment_id: String,
        /// The member subscription charged.
        rental_id: String,
        /// The individual payment the line absorbed (cancelled, "Consolidated into …"), if the
        /// charge existed as one.
        source_payment_id: Option<String>,
        /// The member charge's own idempotency key (`<rentalId>:<YYYY-MM>`, …).
        charge_key: String,
        /// The member charge's own billing date.
        billing_date: String,
        /// First day of the service period.
        service_start: String,
        /// Whether the charge is a pro-rated stub.
        stub: bool,
        /// `"<productName> <YYYY-MM>"`.
        description: String,
        /// The charge's base amount (monthly price or stub amount), minor units.
        base_amount: i64,
        /// Net amount, minor units.
        subtotal: i64,
        /// Tax, minor units.
        tax_amount: i64,
        /// Epoch milliseconds.
        created_at: i64,
        /// When the line left its payment (epoch milliseconds), or `None` while it counts.
        removed_at: Option<i64>,
    }
}

/// Inserts lines.
pub async fn insert_many(conn: &mut Conn, rows: &[LineRecord]) -> Result<()> {
    for chunk in rows.chunks(500) {
        let tenant_id = chunk.first().map_or("", |l| l.tenant_id.as_str());
        let cols = LineRecord::COLUMNS;
        let mut q = Scoped::insert(TABLE, tenant_id, cols[1..].iter().copied());
        for l in chunk {
            q.row(l.values().into_iter().skip(1));
        }
        conn.execute(&q).await?;
    }
    Ok(())
}

/// The lines of the listed payments that count (not removed), by payment, billing date and id.
pub async fn of_payments(
    conn: &mut Conn,
    tenant_id: &str,
    payment_ids: &[String],
) -> Result<Vec<LineRecord>> {
    if payment_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(LineRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("payment_id").is_in(payment_ids.iter().map(String::as_str)))
        .and_where(Expr::col("removed_at").is_null())
        .order_by("payment_id", sea_query::Order::Asc)
        .order_by("billing_date", sea_query::Order::Asc)
        .order_by("line_id", sea_query::Order::Asc);
    conn.fetch_all(&q).await
}

/// The consolidated payments that carry a line (not removed) of a subscription: what
/// listPayments shows of it besides its own payments (SPEC §2.7). Read through
/// `payment_lines_rental`; empty for a subscription outside billing groups.
pub async fn payments_of_rental(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
) -> Result<Vec<String>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.column("payment_id")
        .distinct()
        .and_where(Expr::col("rental_id").eq(rental_id))
        .and_where(Expr::col("removed_at").is_null())
        .order_by("payment_id", sea_query::Order::Asc);
    conn.fetch_all(&q).await
}

/// Every line of a subscription, removed ones included, by billing date.
pub async fn of_rental(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
) -> Result<Vec<LineRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(LineRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("rental_id").eq(rental_id))
        .order_by("billing_date", sea_query::Order::Asc)
        .order_by("line_id", sea_query::Order::Asc);
    conn.fetch_all(&q).await
}

/// Every line of the listed subscriptions, removed ones included, by rental and billing date.
pub async fn of_rentals(
    conn: &mut Conn,
    tenant_id: &str,
    rental_ids: &[String],
) -> Result<Vec<LineRecord>> {
    if rental_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(LineRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("rental_id").is_in(rental_ids.iter().map(String::as_str)))
        .order_by("rental_id", sea_query::Order::Asc)
        .order_by("billing_date", sea_query::Order::Asc);
    conn.fetch_all(&q).await
}

/// Marks the listed lines removed, in one statement per 500 lines.
pub async fn remove(conn: &mut Conn, tenant_id: &str, line_ids: &[String], now: i64) -> Result<()> {
    for chunk in line_ids.chunks(500) {
        let mut q = Scoped::update(TABLE, tenant_id);
        q.values([("removed_at", now.into())])
            .and_where(Expr::col("line_id").is_in(chunk.iter().map(String::as_str)))
            .and_where(Expr::col("removed_at").is_null());
        conn.execute(&q).await?;
    }
    Ok(())
}
