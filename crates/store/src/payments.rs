//! Payments (SPEC §2.7), keyed by (tenant_id, payment_id); the idempotency key is unique per
//! business unit among payments that are not cancelled.

use sea_query::{Expr, ExprTrait, SimpleExpr};

use flexportal_domain::status::PaymentKind;

use crate::page::{self, After, Page, SortDir};
use crate::row::{FromRow, Row};
use crate::{Conn, Result, Scoped};

const TABLE: &str = "payments";

/// The payments columns in table order, as the record decodes them.
pub const COLUMNS: [&str; 28] = [
    "tenant_id",
    "payment_id",
    "customer_id",
    "rental_id",
    "billing_group_id",
    "payment_type",
    "billing_date",
    "service_start",
    "stub",
    "billing_period",
    "due_date",
    "subtotal",
    "tax_amount",
    "tax_rate_bp",
    "total",
    "currency",
    "status",
    "provider",
    "manually_marked",
    "payment_reference",
    "marked_by",
    "paid_at",
    "idempotency_key",
    "description",
    "notes",
    "created_at",
    "updated_at",
    "kind",
];

/// A payment as stored (money in minor units, dates `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PaymentRecord {
    /// Business unit.
    pub tenant_id: String,
    /// `pay_…`.
    pub payment_id: String,
    /// Customer.
    pub customer_id: String,
    /// Subscription of an individual payment.
    pub rental_id: Option<String>,
    /// Billing group of a consolidated payment.
    pub billing_group_id: Option<String>,
    /// `individual` or `consolidated`.
    pub payment_type: String,
    /// Billing date.
    pub billing_date: String,
    /// First day of the service period the charge pays for.
    pub service_start: String,
    /// Whether this is a pro-rated stub (not a contract month).
    pub stub: bool,
    /// `YYYY-MM` of the billing date.
    pub billing_period: String,
    /// Due date.
    pub due_date: String,
    /// Net amount, minor units.
    pub subtotal: i64,
    /// Tax, minor units.
    pub tax_amount: i64,
    /// VAT rate in basis points (2100 = 21 %).
    pub tax_rate_bp: i64,
    /// Total, minor units.
    pub total: i64,
    /// Currency.
    pub currency: String,
    /// `pending`, `processing`, `paid`, `failed`, `cancelled`.
    pub status: String,
    /// `manual` unless a provider collects.
    pub provider: String,
    /// Marked paid by an operator.
    pub manually_marked: bool,
    /// Bank reference etc.
    pub payment_reference: Option<String>,
    /// Actor who marked it paid.
    pub marked_by: Option<String>,
    /// Epoch milliseconds.
    pub paid_at: Option<i64>,
    /// Idempotency key (SPEC §2.7).
    pub idempotency_key: String,
    /// Line description, e.g. `"<productName> 2025-01"`.
    pub description: String,
    /// Notes.
    pub notes: Option<String>,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds.
    pub updated_at: i64,
    /// What the payment charges: a contract month, a setup fee, a buyout, … (SPEC §2.7).
    pub kind: PaymentKind,
}

impl FromRow for PaymentRecord {
    fn from_row(r: &dyn Row) -> Result<Self> {
        Ok(PaymentRecord {
            tenant_id: r.text(0)?,
            payment_id: r.text(1)?,
            customer_id: r.text(2)?,
            rental_id: r.opt_text(3)?,
            billing_group_id: r.opt_text(4)?,
            payment_type: r.text(5)?,
            billing_date: r.text(6)?,
            service_start: r.text(7)?,
            stub: r.int(8)? != 0,
            billing_period: r.text(9)?,
            due_date: r.text(10)?,
            subtotal: r.int(11)?,
            tax_amount: r.int(12)?,
            tax_rate_bp: r.int(13)?,
            total: r.int(14)?,
            currency: r.text(15)?,
            status: r.text(16)?,
            provider: r.text(17)?,
            manually_marked: r.int(18)? != 0,
            payment_reference: r.opt_text(19)?,
            marked_by: r.opt_text(20)?,
            paid_at: r.opt_int(21)?,
            idempotency_key: r.text(22)?,
            description: r.text(23)?,
            notes: r.opt_text(24)?,
            created_at: r.int(25)?,
            updated_at: r.int(26)?,
            kind: {
                let text = r.text(27)?;
                PaymentKind::parse(&text)
                    .ok_or_else(|| crate::StoreError::Decode(format!("payment kind {text:?}")))?
            },
        })
    }
}

impl PaymentRecord {
    fn values(&self) -> Vec<SimpleExpr> {
        vec![
            self.tenant_id.clone().into(),
            self.payment_id.clone().into(),
            self.customer_id.clone().into(),
            self.rental_id.clone().into(),
            self.billing_group_id.clone().into(),
            self.payment_type.clone().into(),
            self.billing_date.clone().into(),
            self.service_start.clone().into(),
            i64::from(self.stub).into(),
            self.billing_period.clone().into(),
            self.due_date.clone().into(),
            self.subtotal.into(),
            self.tax_amount.into(),
            self.tax_rate_bp.into(),
            self.total.into(),
            self.currency.clone().into(),
            self.status.clone().into(),
            self.provider.clone().into(),
            i64::from(self.manually_marked).into(),
            self.payment_reference.clone().into(),
            self.marked_by.clone().into(),
            self.paid_at.into(),
            self.idempotency_key.clone().into(),
            self.description.clone().into(),
            self.notes.clone().into(),
            self.created_at.into(),
            self.updated_at.into(),
            self.kind.as_str().into(),
        ]
    }
}

/// Inserts payments in one statement per 500 rows; a taken idempotency key is
/// [`crate::StoreError::Unique`].
pub async fn insert_many(conn: &mut Conn, rows: &[PaymentRecord]) -> Result<()> {
    for chunk in rows.chunks(500) {
        let tenant_id = chunk.first().map_or("", |p| p.tenant_id.as_str());
        let mut q = Scoped::insert(TABLE, tenant_id, COLUMNS[1..].iter().copied());
        for p in chunk {
            if p.tenant_id != tenant_id {
                return Err(crate::StoreError::Config(
                    "one payment insert writes one business unit".into(),
                ));
            }
            q.row(p.values().into_iter().skip(1));
        }
        conn.execute(&q).await?;
    }
    Ok(())
}

/// Writes the mutable fields of a payment.
pub async fn update(conn: &mut Conn, p: &PaymentRecord) -> Result<()> {
    let mut q = Scoped::update(TABLE, p.tenant_id.as_str());
    q.values([
        ("status", p.status.clone().into()),
        ("provider", p.provider.clone().into()),
        ("manually_marked", i64::from(p.manually_marked).into()),
        ("payment_reference", p.payment_reference.clone().into()),
        ("marked_by", p.marked_by.clone().into()),
        ("paid_at", p.paid_at.into()),
        ("notes", p.notes.clone().into()),
        ("updated_at", p.updated_at.into()),
    ])
    .and_where(Expr::col("payment_id").eq(p.payment_id.as_str()));
    conn.execute(&q).await.map(|_| ())
}

/// One payment by id; with `lock`, locked until the transaction ends (PostgreSQL `FOR UPDATE`).
pub async fn get(
    conn: &mut Conn,
    tenant_id: &str,
    payment_id: &str,
    lock: bool,
) -> Result<Option<PaymentRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLUMNS)
        .and_where(Expr::col("payment_id").eq(payment_id));
    if lock {
        q.lock_exclusive();
    }
    conn.fetch_optional(&q).await
}

/// Every payment of a subscription, by billing date.
pub async fn for_rental(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
) -> Result<Vec<PaymentRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLUMNS)
        .and_where(Expr::col("rental_id").eq(rental_id))
        .order_by("billing_date", sea_query::Order::Asc)
        .order_by("payment_id", sea_query::Order::Asc);
    conn.fetch_all(&q).await
}

/// Sort fields of listPayments (SPEC §2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentSort {
    /// `createdAt` (default).
    CreatedAt,
    /// `dueDate`.
    DueDate,
    /// `total`.
    Total,
    /// `status`.
    Status,
}

impl PaymentSort {
    /// Parses a `sortBy` value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "createdAt" => Self::CreatedAt,
            "dueDate" => Self::DueDate,
            "total" => Self::Total,
            "status" => Self::Status,
            _ => return None,
        })
    }
    fn column(self) -> (&'static str, bool) {
        match self {
            Self::CreatedAt => ("created_at", true),
            Self::DueDate => ("due_date", false),
            Self::Total => ("total", true),
            Self::Status => ("status", false),
        }
    }
}

/// Filters of listPayments; due dates inclusive.
#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    /// Status.
    pub status: Option<String>,
    /// Customer.
    pub customer_id: Option<String>,
    /// Subscription.
    pub rental_id: Option<String>,
    /// Billing group.
    pub billing_group_id: Option<String>,
    /// Due date from.
    pub due_date_from: Option<String>,
    /// Due date to.
    pub due_date_to: Option<String>,
}

/// Resolves a payment cursor; `None` for an unknown id.
pub async fn cursor(
    conn: &mut Conn,
    tenant_id: &str,
    payment_id: &str,
    sort: PaymentSort,
) -> Result<Option<After>> {
    let (col, is_int) = sort.column();
    let keyed = page::Keyed {
        table: TABLE,
        id: "payment_id",
    };
    page::resolve_cursor(conn, keyed, tenant_id, payment_id, col, is_int).await
}

/// The statement of [`list`] (exposed for query-plan checks).
pub fn list_query(
    tenant_id: &str,
    f: &PaymentFilter,
    sort: PaymentSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Scoped<sea_query::SelectStatement> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLUMNS);
    for (col, v) in [
        ("status", &f.status),
        ("customer_id", &f.customer_id),
        ("rental_id", &f.rental_id),
        ("billing_group_id", &f.billing_group_id),
    ] {
        if let Some(v) = v {
            q.and_where(Expr::col(col).eq(v.as_str()));
        }
    }
    if let Some(d) = &f.due_date_from {
        q.and_where(Expr::col("due_date").gte(d.as_str()));
    }
    if let Some(d) = &f.due_date_to {
        q.and_where(Expr::col("due_date").lte(d.as_str()));
    }
    let (col, _) = sort.column();
    page::keyset(&mut q, col, "payment_id", false, dir, after, limit);
    q
}

/// A page of payments.
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    f: &PaymentFilter,
    sort: PaymentSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Result<Page<PaymentRecord>> {
    let q = list_query(tenant_id, f, sort, dir, after, limit);
    let rows = conn.fetch_all(&q).await?;
    Ok(page::into_page(rows, limit))
}
