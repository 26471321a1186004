//! The reads of the portfolio report (SPEC §2.13 "Portfolio / reports"): the active
//! subscriptions' recovery inputs in keyset pages, and aggregates over assets, payments and
//! customers, each one statement (no per-row queries).

use flexportal_domain::billing::BillingSettings;
use sea_query::{Expr, ExprTrait};

use crate::row::{FromRow, Row};
use crate::{Conn, Result, Scoped};

/// What the recovery status of an active subscription is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryRow {
    /// `sub_…`.
    pub rental_id: String,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// Months, extensions included.
    pub contract_length: i64,
    /// Minor units.
    pub monthly_amount: i64,
    /// Minor units; `None` when unknown.
    pub acquisition_cost: Option<i64>,
    /// Σ net paid, minor units.
    pub total_collected: i64,
    /// Billing settings (the schedule's shape).
    pub billing: BillingSettings,
    /// The rented product.
    pub product_id: String,
}

impl FromRow for RecoveryRow {
    fn from_row(row: &dyn Row) -> Result<Self> {
        Ok(RecoveryRow {
            rental_id: row.text(0)?,
            start_date: row.text(1)?,
            contract_length: row.int(2)?,
            monthly_amount: row.int(3)?,
            acquisition_cost: row.opt_int(4)?,
            total_collected: row.int(5)?,
            billing: BillingSettings::from_json(&row.text(6)?)
                .map_err(|e| crate::StoreError::Decode(e.to_string()))?,
            product_id: row.text(7)?,
        })
    }
}

/// A page of the business unit's `active` subscriptions after `after` (by rental id).
pub async fn active_page(
    conn: &mut Conn,
    tenant_id: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<RecoveryRow>> {
    let mut q = Scoped::select("subscriptions", tenant_id);
    q.columns([
        "rental_id",
        "start_date",
        "contract_length",
        "monthly_amount",
        "acquisition_cost",
        "total_collected",
        "billing",
        "product_id",
    ])
    .and_where(Expr::col("status").eq("active"));
    if let Some(a) = after {
        q.and_where(Expr::col("rental_id").gt(a));
    }
    q.order_by("rental_id", sea_query::Order::Asc).limit(limit);
    conn.fetch_all(&q).await
}

/// Lifetime recovery of the unit's assets (SPEC §2.13 "Asset level").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AssetTotals {
    /// Every asset.
    pub assets: i64,
    /// Assets with a known cost above 0.
    pub with_cost: i64,
    /// Of those, lifetime recovery above 100 %.
    pub above_full: i64,
    /// Of those, lifetime recovery at or below 50 %.
    pub at_or_below_half: i64,
}

/// The asset aggregates of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductAssets {
    /// The product.
    pub product_id: String,
    /// Counts.
    pub totals: AssetTotals,
    /// Σ over its assets with a cost of lifetime recovery in hundredths of a percent
    /// (collected × 10 000 ÷ cost, truncated per asset); `None` when it cannot be exact (see
    /// [`recovery_e2_sum`]) or the product has no asset with a cost.
    pub recovery_e2_sum: Option<i64>,
}

impl FromRow for ProductAssets {
    fn from_row(row: &dyn Row) -> Result<Self> {
        Ok(ProductAssets {
            product_id: row.text(0)?,
            totals: AssetTotals {
                assets: row.int(1)?,
                with_cost: row.opt_int(2)?.unwrap_or(0),
                above_full: row.opt_int(3)?.unwrap_or(0),
                at_or_below_half: row.opt_int(4)?.unwrap_or(0),
            },
            recovery_e2_sum: row.opt_int(5)?,
        })
    }
}

/// The asset aggregates per product, one statement (one pass over the unit's assets).
pub async fn asset_totals_by_product(
    conn: &mut Conn,
    tenant_id: &str,
) -> Result<Vec<ProductAssets>> {
    let mut q = Scoped::select("assets", tenant_id);
    q.column("product_id")
        .expr(Expr::cust("COUNT(*)"))
        .expr(Expr::cust(
            "CAST(SUM(CASE WHEN acquisition_cost > 0 THEN 1 ELSE 0 END) AS BIGINT)",
        ))
        .expr(Expr::cust(
            "CAST(SUM(CASE WHEN acquisition_cost > 0 AND lifetime_collected > acquisition_cost \
             THEN 1 ELSE 0 END) AS BIGINT)",
        ))
        // collected ≤ ⌊cost ÷ 2⌋ is 2 · collected ≤ cost for integers, without the doubling's
        // overflow (PostgreSQL refuses it, SQLite turns it into a float).
        .expr(Expr::cust(
            "CAST(SUM(CASE WHEN acquisition_cost > 0 AND lifetime_collected <= acquisition_cost / 2 \
             THEN 1 ELSE 0 END) AS BIGINT)",
        ))
        .expr(Expr::cust(recovery_e2_sum(conn.engine())))
        .group_by_col("product_id");
    conn.fetch_all(&q).await
}

/// Σ over a product's assets with a cost of their recovery in hundredths of a percent,
/// collected × 10 000 ÷ cost truncated per asset (integer division on both engines), or `NULL`
/// where that sum cannot be exact, so that its average is absent rather than wrong:
/// - an asset that collected more than 922,337,203,685,477 minor units (its product would leave
///   `BIGINT`) makes the sum `NULL`;
/// - so does a sum beyond ±2⁵³: PostgreSQL's `SUM` of `BIGINT` is an exact `numeric`, SQLite's
///   `TOTAL` a float that is exact up to there (its `SUM` fails on overflow instead).
///
/// No stored amount makes the statement fail.
fn recovery_e2_sum(engine: crate::Engine) -> String {
    const FITS: &str = "lifetime_collected BETWEEN -922337203685477 AND 922337203685477";
    let e2 = format!(
        "CASE WHEN acquisition_cost > 0 AND {FITS} \
         THEN (lifetime_collected * 10000) / acquisition_cost ELSE 0 END"
    );
    let sum = match engine {
        crate::Engine::Postgres => format!("SUM({e2})"),
        crate::Engine::Sqlite => format!("TOTAL({e2})"),
    };
    format!(
        "CASE WHEN SUM(CASE WHEN acquisition_cost > 0 AND NOT ({FITS}) THEN 1 ELSE 0 END) > 0 \
         THEN NULL WHEN ABS({sum}) > 9007199254740992 THEN NULL \
         ELSE CAST({sum} AS BIGINT) END"
    )
}

/// A product's name and the list prices and costs of its variants that have both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductCatalog {
    /// The product.
    pub product_id: String,
    /// Its name.
    pub name: String,
    /// Σ list price of its variants with a list price above 0 and a cost, minor units.
    pub list_sum: i64,
    /// Σ acquisition cost of the same variants, minor units.
    pub cost_sum: i64,
}

impl FromRow for ProductCatalog {
    fn from_row(row: &dyn Row) -> Result<Self> {
        Ok(ProductCatalog {
            product_id: row.text(0)?,
            name: row.text(1)?,
            list_sum: row.opt_int(2)?.unwrap_or(0),
            cost_sum: row.opt_int(3)?.unwrap_or(0),
        })
    }
}

/// Every product of the unit with the sums its margin is computed from, by product id: two
/// statements (the products, and the variants grouped by product).
pub async fn product_catalog(conn: &mut Conn, tenant_id: &str) -> Result<Vec<ProductCatalog>> {
    let mut q = Scoped::select("products", tenant_id);
    q.columns(["product_id", "name"])
        .expr(Expr::cust("CAST(0 AS BIGINT)"))
        .expr(Expr::cust("CAST(0 AS BIGINT)"))
        .order_by("product_id", sea_query::Order::Asc);
    let mut products: Vec<ProductCatalog> = conn.fetch_all(&q).await?;
    let mut v = Scoped::select("variants", tenant_id);
    v.column("product_id")
        .expr(Expr::cust("''"))
        .expr(Expr::cust(
            "CAST(SUM(CASE WHEN list_price > 0 AND acquisition_cost IS NOT NULL \
             THEN list_price ELSE 0 END) AS BIGINT)",
        ))
        .expr(Expr::cust(
            "CAST(SUM(CASE WHEN list_price > 0 AND acquisition_cost IS NOT NULL \
             THEN acquisition_cost ELSE 0 END) AS BIGINT)",
        ))
        .group_by_col("product_id");
    let sums: Vec<ProductCatalog> = conn.fetch_all(&v).await?;
    let at: std::collections::HashMap<String, usize> = products
        .iter()
        .enumerate()
        .map(|(i, p)| (p.product_id.clone(), i))
        .collect();
    for s in sums {
        if let Some(&i) = at.get(&s.product_id) {
            products[i].list_sum = s.list_sum;
            products[i].cost_sum = s.cost_sum;
        }
    }
    Ok(products)
}

/// The payment aggregates of a unit (SPEC §2.13 "Payment reports"), minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaymentTotals {
    /// Σ net (`subtotal`) of paid payments.
    pub income: i64,
    /// Paid payments.
    pub paid: i64,
    /// Σ `total` of pending payments.
    pub outstanding: i64,
    /// Pending payments.
    pub pending: i64,
    /// Failed payments.
    pub failed: i64,
    /// Payments not cancelled.
    pub not_cancelled: i64,
}

impl FromRow for PaymentTotals {
    fn from_row(row: &dyn Row) -> Result<Self> {
        let v = |i| row.opt_int(i).map(|v| v.unwrap_or(0));
        Ok(PaymentTotals {
            income: v(0)?,
            paid: v(1)?,
            outstanding: v(2)?,
            pending: v(3)?,
            failed: v(4)?,
            not_cancelled: v(5)?,
        })
    }
}

/// The payment aggregates, one statement over the index that holds status and amounts
/// (`payments_status_amounts`, migration V7), so no table row is visited.
pub async fn payment_totals(conn: &mut Conn, tenant_id: &str) -> Result<PaymentTotals> {
    let mut q = Scoped::select("payments", tenant_id);
    q.expr(Expr::cust(
        "CAST(SUM(CASE WHEN status = 'paid' THEN subtotal ELSE 0 END) AS BIGINT)",
    ))
    .expr(Expr::cust(
        "CAST(SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END) AS BIGINT)",
    ))
    .expr(Expr::cust(
        "CAST(SUM(CASE WHEN status = 'pending' THEN total ELSE 0 END) AS BIGINT)",
    ))
    .expr(Expr::cust(
        "CAST(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS BIGINT)",
    ))
    .expr(Expr::cust(
        "CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT)",
    ))
    .expr(Expr::cust(
        "CAST(SUM(CASE WHEN status <> 'cancelled' THEN 1 ELSE 0 END) AS BIGINT)",
    ));
    Ok(conn.fetch_optional(&q).await?.unwrap_or_default())
}

/// Customers owing a payment past its due date, with the oldest such due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    /// The customer.
    pub customer_id: String,
    /// The earliest due date of their unpaid payments due before the date asked, `YYYY-MM-DD`.
    pub oldest_due: String,
}

impl FromRow for Overdue {
    fn from_row(row: &dyn Row) -> Result<Self> {
        Ok(Overdue {
            customer_id: row.text(0)?,
            oldest_due: row.text(1)?,
        })
    }
}

/// Every customer with a `pending` or `failed` payment due before `before` (`YYYY-MM-DD`), one
/// statement through the partial index of unpaid payments by customer (`payments_unpaid_customer`,
/// migration V7): the status list is written into the statement as the index states it, since
/// with bound values neither engine can prove the index's predicate.
pub async fn overdue_customers(
    conn: &mut Conn,
    tenant_id: &str,
    before: &str,
) -> Result<Vec<Overdue>> {
    let mut q = Scoped::select("payments", tenant_id);
    q.column("customer_id")
        .expr(Expr::cust("MIN(due_date)"))
        .and_where(Expr::cust("status IN ('pending', 'failed')"))
        .and_where(Expr::col("due_date").lt(before))
        .group_by_col("customer_id");
    conn.fetch_all(&q).await
}

/// Active customers of the unit.
pub async fn active_customers(conn: &mut Conn, tenant_id: &str) -> Result<i64> {
    let mut q = Scoped::select("customers", tenant_id);
    q.expr(Expr::cust("COUNT(*)"))
        .and_where(Expr::col("status").eq("active"));
    Ok(conn.fetch_optional::<i64, _>(&q).await?.unwrap_or(0))
}
