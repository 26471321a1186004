//! What a quote and a subscription's computed fields read of its payments (SPEC §2.6.1, §2.6.4):
//! [`ChargeRow`]s, seven columns of a payment instead of the whole record.

use sea_query::{Expr, ExprTrait};

use super::{COLUMNS, PaymentKind, PaymentRecord, TABLE, for_rental, has_lines, with_lines};
use crate::{Conn, Result, Scoped};

/// What a quote and a subscription's computed fields read of a payment (SPEC §2.6.1, §2.6.4): what
/// it charges, its billing date, the first day of its service period, whether it is a stub, its
/// amounts (minor units) and its status.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeRow {
    /// A contract month, a setup fee, a buyout, …
    pub kind: PaymentKind,
    /// `YYYY-MM-DD`.
    pub billing_date: String,
    /// `YYYY-MM-DD`.
    pub service_start: String,
    /// Pro-rated stub.
    pub stub: bool,
    /// Net amount, minor units.
    pub subtotal: i64,
    /// Tax, minor units.
    pub tax_amount: i64,
    /// `pending`, `processing`, `paid`, `failed`, `cancelled`.
    pub status: String,
}

impl From<&PaymentRecord> for ChargeRow {
    fn from(p: &PaymentRecord) -> Self {
        ChargeRow {
            kind: p.kind,
            billing_date: p.billing_date.clone(),
            service_start: p.service_start.clone(),
            stub: p.stub,
            subtotal: p.subtotal,
            tax_amount: p.tax_amount,
            status: p.status.clone(),
        }
    }
}

/// The columns of a [`ChargeRow`], in the order [`ChargeRow::decode_at`] reads them.
const CHARGE_COLUMNS: [&str; 7] = [
    "kind",
    "billing_date",
    "service_start",
    "stub",
    "subtotal",
    "tax_amount",
    "status",
];

impl ChargeRow {
    /// Decodes the [`CHARGE_COLUMNS`] of a row, the first at position `at`.
    fn decode_at(r: &dyn crate::row::Row, at: usize) -> Result<ChargeRow> {
        use crate::record::Column;
        Ok(ChargeRow {
            kind: PaymentKind::decode(r, at)?,
            billing_date: String::decode(r, at + 1)?,
            service_start: String::decode(r, at + 2)?,
            stub: bool::decode(r, at + 3)?,
            subtotal: i64::decode(r, at + 4)?,
            tax_amount: i64::decode(r, at + 5)?,
            status: String::decode(r, at + 6)?,
        })
    }
}

/// The charges of a subscription as a quote reads them, by billing date and id: the same rows as
/// [`for_rental`], read with one statement of seven columns (a subscription with billing-group
/// lines is read whole and narrowed).
pub async fn charges_of_rental(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
) -> Result<Vec<ChargeRow>> {
    struct Flagged(ChargeRow, bool);
    impl crate::row::FromRow for Flagged {
        fn from_row(r: &dyn crate::row::Row) -> Result<Self> {
            Ok(Flagged(
                ChargeRow::decode_at(r, 0)?,
                r.boolean(CHARGE_COLUMNS.len())?,
            ))
        }
    }
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(CHARGE_COLUMNS)
        .expr(has_lines(tenant_id, rental_id))
        .and_where(Expr::col("rental_id").eq(rental_id))
        .order_by("billing_date", sea_query::Order::Asc)
        .order_by("payment_id", sea_query::Order::Asc);
    let flagged: Vec<Flagged> = conn.fetch_all(&q).await?;
    if flagged.first().is_some_and(|f| !f.1) {
        return Ok(flagged.into_iter().map(|f| f.0).collect());
    }
    Ok(for_rental(conn, tenant_id, rental_id)
        .await?
        .iter()
        .map(ChargeRow::from)
        .collect())
}

/// The charges of several subscriptions (a page of subscriptions): for each, what
/// [`charges_of_rental`] reads, as `(rental id, charge)` by rental id, then billing date and id.
/// Two statements: the subscriptions' billing-group lines, then, when there are none, seven
/// columns of their payments (else every column, to put the lines in place of the payments they
/// absorbed).
pub async fn charges_of_rentals(
    conn: &mut Conn,
    tenant_id: &str,
    rental_ids: &[String],
) -> Result<Vec<(String, ChargeRow)>> {
    if rental_ids.is_empty() {
        return Ok(Vec::new());
    }
    let lines = crate::payment_lines::of_rentals(conn, tenant_id, rental_ids).await?;
    if !lines.is_empty() {
        let mut q = Scoped::select(TABLE, tenant_id);
        q.columns(COLUMNS.iter().copied())
            .and_where(Expr::col("rental_id").is_in(rental_ids.iter().map(String::as_str)));
        let rows = conn.fetch_all(&q).await?;
        return Ok(with_lines(conn, tenant_id, rows, lines, false)
            .await?
            .iter()
            .map(|p| (p.rental_id.clone().unwrap_or_default(), ChargeRow::from(p)))
            .collect());
    }
    struct Keyed(String, ChargeRow);
    impl crate::row::FromRow for Keyed {
        fn from_row(r: &dyn crate::row::Row) -> Result<Self> {
            use crate::record::Column;
            Ok(Keyed(String::decode(r, 0)?, ChargeRow::decode_at(r, 1)?))
        }
    }
    let rows: Vec<Keyed> = conn
        .fetch_all(&charges_of_rentals_query(tenant_id, rental_ids))
        .await?;
    Ok(rows.into_iter().map(|k| (k.0, k.1)).collect())
}

/// The statement of [`charges_of_rentals`] for subscriptions without billing-group lines (exposed
/// for query-plan checks): the rental id and the [`ChargeRow`] columns.
pub fn charges_of_rentals_query(
    tenant_id: &str,
    rental_ids: &[String],
) -> Scoped<sea_query::SelectStatement> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.column("rental_id")
        .columns(CHARGE_COLUMNS)
        .and_where(Expr::col("rental_id").is_in(rental_ids.iter().map(String::as_str)))
        .order_by("rental_id", sea_query::Order::Asc)
        .order_by("billing_date", sea_query::Order::Asc)
        .order_by("payment_id", sea_query::Order::Asc);
    q
}
