//! A subscription's history: one row per lifecycle event (SPEC §2.6.1 histories), appended in
//! the transaction of the action, never rewritten. Keyed by (tenant_id, rental_id, event_id);
//! event ids are time-ordered, so the key order is the order of events.

use flexportal_domain::status::SubscriptionEventKind;
use sea_query::{Expr, ExprTrait, Order};

use crate::row::{FromRow, Row};
use crate::{Conn, Result, Scoped, StoreError};

const TABLE: &str = "subscription_events";

const COLUMNS: [&str; 7] = [
    "tenant_id",
    "rental_id",
    "event_id",
    "kind",
    "actor",
    "details",
    "created_at",
];

/// One event of a subscription's history.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionEvent {
    /// Business unit.
    pub tenant_id: String,
    /// The subscription.
    pub rental_id: String,
    /// `evt_…`, time-ordered.
    pub event_id: String,
    /// What happened.
    pub kind: SubscriptionEventKind,
    /// Who did it (`apikey:<keyId>` or `system`).
    pub actor: String,
    /// The event's entry (JSON object text), e.g. an `extensionHistory` entry.
    pub details: String,
    /// Epoch milliseconds.
    pub created_at: i64,
}

impl FromRow for SubscriptionEvent {
    fn from_row(r: &dyn Row) -> Result<Self> {
        let kind = r.text(3)?;
        Ok(SubscriptionEvent {
            tenant_id: r.text(0)?,
            rental_id: r.text(1)?,
            event_id: r.text(2)?,
            kind: SubscriptionEventKind::parse(&kind)
                .ok_or_else(|| StoreError::Decode(format!("subscription event kind {kind:?}")))?,
            actor: r.text(4)?,
            details: r.text(5)?,
            created_at: r.int(6)?,
        })
    }
}

/// Appends an event.
pub async fn append(conn: &mut Conn, e: &SubscriptionEvent) -> Result<()> {
    let mut q = Scoped::insert(TABLE, &e.tenant_id, COLUMNS[1..].iter().copied());
    q.row([
        e.rental_id.clone().into(),
        e.event_id.clone().into(),
        e.kind.as_str().into(),
        e.actor.clone().into(),
        e.details.clone().into(),
        e.created_at.into(),
    ]);
    conn.execute(&q).await.map(|_| ())
}

/// The history of a subscription, oldest first.
pub async fn for_rental(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
) -> Result<Vec<SubscriptionEvent>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLUMNS)
        .and_where(Expr::col("rental_id").eq(rental_id))
        .order_by("event_id", Order::Asc);
    conn.fetch_all(&q).await
}
