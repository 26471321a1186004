//! A subscription's history: one row per lifecycle event (SPEC §2.6.1 histories), appended in
//! the transaction of the action, never rewritten. Keyed by (tenant_id, rental_id, event_id);
//! event ids are time-ordered, so the key order is the order of events.

use flexportal_domain::status::SubscriptionEventKind;
use sea_query::{Expr, ExprTrait, Order};

use crate::{Conn, Result, Scoped};

const TABLE: &str = "subscription_events";

crate::record! {
    /// One event of a subscription's history.
    #[derive(Debug, Clone, PartialEq)]
    pub struct SubscriptionEvent {
        /// Business unit.
        tenant_id: String,
        /// The subscription.
        rental_id: String,
        /// `evt_…`, time-ordered.
        event_id: String,
        /// What happened.
        kind: SubscriptionEventKind,
        /// Who did it (`apikey:<keyId>` or `system`).
        actor: String,
        /// The event's entry (JSON object text), e.g. an `extensionHistory` entry.
        details: String,
        /// Epoch milliseconds.
        created_at: i64,
    }
}

const COLUMNS: &[&str] = SubscriptionEvent::COLUMNS;

/// Appends an event.
pub async fn append(conn: &mut Conn, e: &SubscriptionEvent) -> Result<()> {
    let mut q = Scoped::insert(TABLE, &e.tenant_id, COLUMNS[1..].iter().copied());
    q.row(e.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// The history of a subscription, oldest first.
pub async fn for_rental(
    conn: &mut Conn,
    tenant_id: &str,
    rental_id: &str,
) -> Result<Vec<SubscriptionEvent>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLUMNS.iter().copied())
        .and_where(Expr::col("rental_id").eq(rental_id))
        .order_by("event_id", Order::Asc);
    conn.fetch_all(&q).await
}

/// The histories of several subscriptions in one query (a page), by rental id, oldest first.
pub async fn for_rentals(
    conn: &mut Conn,
    tenant_id: &str,
    rental_ids: &[String],
) -> Result<Vec<SubscriptionEvent>> {
    if rental_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(COLUMNS.iter().copied())
        .and_where(Expr::col("rental_id").is_in(rental_ids.iter().map(String::as_str)))
        .order_by("rental_id", Order::Asc)
        .order_by("event_id", Order::Asc);
    conn.fetch_all(&q).await
}
