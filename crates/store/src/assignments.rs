//! Asset assignments: which asset a rental held over which days (`[assigned_from, assigned_to)`,
//! dates `YYYY-MM-DD`), keyed by (tenant_id, rental_id, assigned_from, serial_number). Income of
//! a paid charge is attributed to the asset held on its billing date
//! ([`flexportal_domain::assignment::asset_on`]).

use flexportal_domain::assignment::Assignment;
use sea_query::{Expr, ExprTrait, Order};

use crate::row::{FromRow, Row};
use crate::{Conn, Result, Scoped, StoreError};

const TABLE: &str = "asset_assignments";

struct Stored(Assignment);

impl FromRow for Stored {
    fn from_row(r: &dyn Row) -> Result<Self> {
        let date = |text: String| {
            text.parse()
                .map_err(|_| StoreError::Decode(format!("assignment date {text:?}")))
        };
        Ok(Stored(Assignment {
            serial_number: r.text(0)?,
            from: date(r.text(1)?)?,
            to: r.opt_text(2)?.map(date).transpose()?,
        }))
    }
}

/// Records that `rental_id` holds `serial_number` from `from` (`YYYY-MM-DD`) on.
pub async fn open(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
    serial_number: &str,
    from: &str,
    now: i64,
) -> Result<()> {
    let mut q = Scoped::insert(
        TABLE,
        tenant_id,
        [
            "rental_id",
            "serial_number",
            "assigned_from",
            "assigned_to",
            "created_at",
        ],
    );
    q.row([
        rental_id.into(),
        serial_number.into(),
        from.into(),
        Option::<String>::None.into(),
        now.into(),
    ]);
    conn.execute(&q).await.map(|_| ())
}

/// Ends the open assignment of `serial_number` to `rental_id` on `to` (`YYYY-MM-DD`, the first
/// day it is no longer held); returns whether one was open.
pub async fn close(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
    serial_number: &str,
    to: &str,
) -> Result<bool> {
    let mut q = Scoped::update(TABLE, tenant_id);
    q.value("assigned_to", to)
        .and_where(Expr::col("rental_id").eq(rental_id))
        .and_where(Expr::col("serial_number").eq(serial_number))
        .and_where(Expr::col("assigned_to").is_null());
    Ok(conn.execute(&q).await? > 0)
}

/// Every assignment of a rental, oldest first.
pub async fn for_rental(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
) -> Result<Vec<Assignment>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(["serial_number", "assigned_from", "assigned_to"])
        .and_where(Expr::col("rental_id").eq(rental_id))
        .order_by("assigned_from", Order::Asc);
    let rows: Vec<Stored> = conn.fetch_all(&q).await?;
    Ok(rows.into_iter().map(|s| s.0).collect())
}

/// Every assignment of an asset, oldest first: `(rental_id, assignment)`.
pub async fn for_asset(
    conn: &mut Conn,
    tenant_id: &str,
    serial_number: &str,
) -> Result<Vec<(String, Assignment)>> {
    struct WithRental(String, Assignment);
    impl FromRow for WithRental {
        fn from_row(r: &dyn Row) -> Result<Self> {
            let date = |text: String| {
                text.parse()
                    .map_err(|_| StoreError::Decode(format!("assignment date {text:?}")))
            };
            Ok(WithRental(
                r.text(0)?,
                Assignment {
                    serial_number: r.text(1)?,
                    from: date(r.text(2)?)?,
                    to: r.opt_text(3)?.map(date).transpose()?,
                },
            ))
        }
    }
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(["rental_id", "serial_number", "assigned_from", "assigned_to"])
        .and_where(Expr::col("serial_number").eq(serial_number))
        .order_by("assigned_from", Order::Asc);
    let rows: Vec<WithRental> = conn.fetch_all(&q).await?;
    Ok(rows.into_iter().map(|w| (w.0, w.1)).collect())
}
