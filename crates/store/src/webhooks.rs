//! Webhooks (SPEC §2.11): the endpoints of a business unit, the outbox — one delivery per event
//! and subscribed endpoint, carrying the event's envelope — and the attempts of each delivery.
//!
//! Events are queued on the transaction's [`Conn`] ([`Conn::emit`]) and written by its commit
//! ([`fan_out`], [`write_deliveries`]), so an event exists exactly when the change that caused it committed. An event
//! that no enabled endpoint subscribes to is not kept.

use std::collections::HashMap;

use sea_query::{Expr, ExprTrait, Order, Query};

use flexportal_domain::ids::{new_id, new_ids, prefix};

use crate::{Conn, Result, Scoped};

const ENDPOINTS: &str = "webhook_endpoints";
const DELIVERIES: &str = "webhook_deliveries";
const ATTEMPTS: &str = "webhook_attempts";

/// Rows of one multi-row insert (SQLite binds at most 32,766 parameters per statement).
const INSERT_CHUNK: usize = 500;

/// An event queued on a transaction, written when it commits.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Business unit.
    pub tenant_id: String,
    /// Catalogue name (`order.created`, …).
    pub event_type: &'static str,
    /// The `data` object of the envelope, as JSON text.
    pub data: String,
    /// Epoch milliseconds of the change.
    pub created_at: i64,
}

crate::record! {
    /// A webhook endpoint as stored.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct EndpointRecord {
        /// Business unit.
        tenant_id: String,
        /// `ep_…`.
        endpoint_id: String,
        /// Where events are posted.
        url: String,
        /// Operator's label.
        description: Option<String>,
        /// JSON array of subscribed event types; `[]` = every event.
        event_types: String,
        /// Signing secret, `whsec_<base64>`.
        secret: String,
        /// Whether events are delivered to it.
        enabled: bool,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
}

impl EndpointRecord {
    /// Subscribed event types (empty = every event); an unreadable list subscribes to nothing.
    pub fn event_list(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }

    /// Whether the endpoint receives `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        subscribes(&self.event_list(), event_type)
    }
}

crate::record! {
    /// One event to one endpoint.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct DeliveryRecord {
        /// Business unit.
        tenant_id: String,
        /// `dlv_…`; the `X-FlexPortal-Delivery` and `webhook-id` of every attempt.
        delivery_id: String,
        /// The event.
        event_id: String,
        /// The endpoint.
        endpoint_id: String,
        /// Catalogue name of the event.
        event_type: String,
        /// The JSON envelope `{event, timestamp, tenantId, data}` posted, the same on every attempt.
        payload: String,
        /// `pending`, `delivered` or `failed`.
        status: String,
        /// Attempts made.
        attempts: i64,
        /// When the next attempt is due, epoch milliseconds.
        next_attempt_at: i64,
        /// Epoch milliseconds of the last attempt.
        last_attempt_at: Option<i64>,
        /// The receiver's status code at the last attempt.
        last_status_code: Option<i64>,
        /// Why the last attempt failed.
        last_error: Option<String>,
        /// Epoch milliseconds of the successful attempt.
        delivered_at: Option<i64>,
        /// Epoch milliseconds.
        created_at: i64,
    }
}

crate::record! {
    /// One attempt of a delivery.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct AttemptRecord {
        /// Business unit.
        tenant_id: String,
        /// The delivery.
        delivery_id: String,
        /// 1, 2, … in order.
        attempt: i64,
        /// Epoch milliseconds.
        attempted_at: i64,
        /// The receiver's status; `None` when no response came.
        status_code: Option<i64>,
        /// Milliseconds until the response (or the failure).
        latency_ms: i64,
        /// The failure: connection error, timeout, or the status.
        error: Option<String>,
    }
}

/// Whether a list of subscribed event types (empty: all) includes `event_type`.
fn subscribes(events: &[String], event_type: &str) -> bool {
    events.is_empty() || events.iter().any(|e| e == event_type)
}

/// The envelope of SPEC §2.11 around an event's data (`data` is JSON text, inserted as is).
fn envelope(e: &OutboxEvent) -> String {
    let ts = flexportal_domain::time::format_timestamp(e.created_at);
    format!(
        "{{\"event\":{},\"timestamp\":\"{ts}\",\"tenantId\":{},\"data\":{}}}",
        serde_json::Value::from(e.event_type),
        serde_json::Value::from(e.tenant_id.as_str()),
        e.data
    )
}

/// The deliveries of a transaction's queued events: one `pending` delivery, due at once, per
/// event and enabled endpoint of its business unit that subscribes to it, grouped by business
/// unit. Reads each unit's endpoints once.
pub(crate) async fn fan_out(
    conn: &mut Conn,
    events: Vec<OutboxEvent>,
) -> Result<Vec<DeliveryRecord>> {
    // Each enabled endpoint of a business unit with its subscribed types (empty: all).
    let mut by_tenant: HashMap<String, Vec<(EndpointRecord, Vec<String>)>> = HashMap::new();
    let mut delivery_rows = Vec::new();
    let ids = new_ids(
        prefix::WEBHOOK_EVENT,
        events.first().map_or(0, |e| e.created_at),
        events.len(),
    );
    for (e, event_id) in events.into_iter().zip(ids) {
        if !by_tenant.contains_key(&e.tenant_id) {
            let list = enabled_endpoints(conn, &e.tenant_id).await?;
            let list = list
                .into_iter()
                .map(|ep| {
                    let events = ep.event_list();
                    (ep, events)
                })
                .collect();
            by_tenant.insert(e.tenant_id.clone(), list);
        }
        let subscribers: Vec<&EndpointRecord> = by_tenant[&e.tenant_id]
            .iter()
            .filter(|(_, events)| subscribes(events, e.event_type))
            .map(|(ep, _)| ep)
            .collect();
        if subscribers.is_empty() {
            continue;
        }
        let payload = envelope(&e);
        for ep in subscribers {
            delivery_rows.push(DeliveryRecord {
                tenant_id: e.tenant_id.clone(),
                delivery_id: new_id(prefix::WEBHOOK_DELIVERY, e.created_at),
                event_id: event_id.clone(),
                endpoint_id: ep.endpoint_id.clone(),
                event_type: e.event_type.to_string(),
                payload: payload.clone(),
                status: "pending".into(),
                attempts: 0,
                next_attempt_at: e.created_at,
                created_at: e.created_at,
                ..Default::default()
            });
        }
    }
    delivery_rows.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
    Ok(delivery_rows)
}

/// Writes new deliveries (from [`fan_out`]). On PostgreSQL inside a transaction: one insert of
/// arrays per business unit (fixed text, one plan whatever the count), sent with the `COMMIT`
/// in one round trip ([`Conn::pg_execute_and_commit`]); returns `true`, the transaction being
/// committed. Otherwise one multi-row insert per 500 rows of a unit; returns `false`.
pub(crate) async fn write_deliveries(conn: &mut Conn, rows: &[DeliveryRecord]) -> Result<bool> {
    const INSERT_PG: &str = "INSERT INTO webhook_deliveries (tenant_id, delivery_id, event_id, \
        endpoint_id, event_type, payload, status, attempts, next_attempt_at, created_at) \
        SELECT $1, d, e, p, t, b, 'pending', 0, c, c FROM \
        unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) \
        AS u(d, e, p, t, b, c)";
    if conn.engine() == crate::Engine::Postgres {
        // The arrays are built only where they are sent.
        type Columns<'a> = (
            &'a str,
            Vec<&'a str>,
            Vec<&'a str>,
            Vec<&'a str>,
            Vec<&'a str>,
            Vec<&'a str>,
            Vec<i64>,
        );
        let units: Vec<Columns<'_>> = rows
            .chunk_by(|a, b| a.tenant_id == b.tenant_id)
            .map(|unit| {
                let mut c: Columns<'_> = Default::default();
                c.0 = unit[0].tenant_id.as_str();
                for r in unit {
                    c.1.push(&r.delivery_id);
                    c.2.push(&r.event_id);
                    c.3.push(&r.endpoint_id);
                    c.4.push(&r.event_type);
                    c.5.push(&r.payload);
                    c.6.push(r.created_at);
                }
                c
            })
            .collect();
        let params: Vec<Vec<&(dyn tokio_postgres::types::ToSql + Sync)>> = units
            .iter()
            .map(|c| -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
                vec![&c.0, &c.1, &c.2, &c.3, &c.4, &c.5, &c.6]
            })
            .collect();
        if let Some(done) = conn.pg_execute_and_commit(INSERT_PG, &params).await {
            return done.map(|()| true);
        }
    }
    for chunk in rows.chunk_by(|a, b| a.tenant_id == b.tenant_id) {
        for part in chunk.chunks(INSERT_CHUNK) {
            let cols = DeliveryRecord::COLUMNS;
            let mut q = Scoped::insert(DELIVERIES, &part[0].tenant_id, cols[1..].iter().copied());
            for r in part {
                q.row(r.values().into_iter().skip(1));
            }
            conn.execute(&q).await?;
        }
    }
    Ok(false)
}

/// Inserts an endpoint.
pub async fn insert_endpoint(conn: &mut Conn, e: &EndpointRecord) -> Result<()> {
    let cols = EndpointRecord::COLUMNS;
    let mut q = Scoped::insert(ENDPOINTS, &e.tenant_id, cols[1..].iter().copied());
    q.row(e.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// One endpoint; with `lock`, locked until the transaction ends.
pub async fn get_endpoint(
    conn: &mut Conn,
    tenant_id: &str,
    endpoint_id: &str,
    lock: bool,
) -> Result<Option<EndpointRecord>> {
    let mut q = Scoped::select(ENDPOINTS, tenant_id);
    q.columns(EndpointRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("endpoint_id").eq(endpoint_id));
    if lock {
        q.lock_exclusive();
    }
    conn.fetch_optional(&q).await
}

/// Every endpoint of a business unit, oldest first.
pub async fn list_endpoints(conn: &mut Conn, tenant_id: &str) -> Result<Vec<EndpointRecord>> {
    let mut q = Scoped::select(ENDPOINTS, tenant_id);
    q.columns(EndpointRecord::COLUMNS.iter().copied())
        .order_by("created_at", Order::Asc)
        .order_by("endpoint_id", Order::Asc);
    conn.fetch_all(&q).await
}

/// The enabled endpoints of a business unit.
pub async fn enabled_endpoints(conn: &mut Conn, tenant_id: &str) -> Result<Vec<EndpointRecord>> {
    let mut q = Scoped::select(ENDPOINTS, tenant_id);
    q.columns(EndpointRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("enabled").eq(1i64));
    conn.fetch_all(&q).await
}

/// Writes every field of an endpoint but its id and creation time.
pub async fn update_endpoint(conn: &mut Conn, e: &EndpointRecord) -> Result<bool> {
    let mut q = Scoped::update(ENDPOINTS, &e.tenant_id);
    q.values([
        ("url", e.url.clone().into()),
        ("description", e.description.clone().into()),
        ("event_types", e.event_types.clone().into()),
        ("secret", e.secret.clone().into()),
        ("enabled", i64::from(e.enabled).into()),
        ("updated_at", e.updated_at.into()),
    ])
    .and_where(Expr::col("endpoint_id").eq(e.endpoint_id.as_str()));
    Ok(conn.execute(&q).await? == 1)
}

/// Deletes an endpoint; its pending deliveries fail with "endpoint removed". Returns whether it
/// existed.
pub async fn delete_endpoint(
    conn: &mut Conn,
    tenant_id: &str,
    endpoint_id: &str,
    now: i64,
) -> Result<bool> {
    let mut q = Scoped::delete(ENDPOINTS, tenant_id);
    q.and_where(Expr::col("endpoint_id").eq(endpoint_id));
    let found = conn.execute(&q).await? == 1;
    let mut u = Scoped::update(DELIVERIES, tenant_id);
    u.values([
        ("status", "failed".into()),
        ("last_error", "endpoint removed".into()),
        ("next_attempt_at", now.into()),
    ])
    .and_where(Expr::col("endpoint_id").eq(endpoint_id))
    .and_where(Expr::cust("status = 'pending'"));
    conn.execute(&u).await?;
    Ok(found)
}

/// Business units and enabled endpoints with a delivery due at `now` and a free lane, up to
/// `limit` pairs: of one business unit, or of all (the delivery worker serves the whole store).
/// One probe of each endpoint's queue (`webhook_deliveries_pending`), whatever the backlog.
pub async fn due_endpoints(
    conn: &mut Conn,
    tenant_id: Option<&str>,
    now: i64,
    limit: u64,
) -> Result<Vec<(String, String)>> {
    use sea_query::Alias;
    let (d, e) = (Alias::new("d"), Alias::new("e"));
    let col = |t: &Alias, c: &str| Expr::col((t.clone(), Alias::new(c)));
    let probe = Query::select()
        .expr(Expr::cust("1"))
        .from_as(DELIVERIES, d.clone())
        .and_where(col(&d, "tenant_id").equals((e.clone(), Alias::new("tenant_id"))))
        .and_where(col(&d, "endpoint_id").equals((e.clone(), Alias::new("endpoint_id"))))
        .and_where(Expr::cust("d.status = 'pending'"))
        .and_where(col(&d, "next_attempt_at").lte(now))
        .to_owned();
    let mut q = Scoped::platform(
        Query::select()
            .column((e.clone(), Alias::new("tenant_id")))
            .column((e.clone(), Alias::new("endpoint_id")))
            .from_as(ENDPOINTS, e.clone())
            .and_where(col(&e, "enabled").eq(1i64))
            .and_where(col(&e, "lane_until").lte(now))
            .and_where(Expr::exists(probe))
            .limit(limit)
            .to_owned(),
    );
    if let Some(t) = tenant_id {
        q.and_where(col(&e, "tenant_id").eq(t));
    }
    conn.fetch_all(&q).await
}

/// Takes the lane of an enabled endpoint for `owner` until `until` (epoch ms), or renews it: it
/// is free when its last lease ended by `now` or `owner` holds it. Of several workers on one
/// store one serves an endpoint at a time. Returns the endpoint when taken; `None` when another
/// worker holds it, or it is disabled or removed.
pub async fn take_lane(
    conn: &mut Conn,
    tenant_id: &str,
    endpoint_id: &str,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<Option<EndpointRecord>> {
    let mut q = Scoped::update(ENDPOINTS, tenant_id);
    q.values([("lane_owner", owner.into()), ("lane_until", until.into())])
        .and_where(Expr::col("endpoint_id").eq(endpoint_id))
        .and_where(Expr::col("enabled").eq(1i64))
        .and_where(
            Expr::col("lane_until")
                .lte(now)
                .or(Expr::col("lane_owner").eq(owner)),
        )
        .returning(Query::returning().columns(EndpointRecord::COLUMNS.iter().copied()));
    conn.fetch_optional(&q).await
}

/// Lets an endpoint's lane go, if `owner` holds it (another worker may take it at once).
pub async fn release_lane(
    conn: &mut Conn,
    tenant_id: &str,
    endpoint_id: &str,
    owner: &str,
) -> Result<()> {
    let mut q = Scoped::update(ENDPOINTS, tenant_id);
    q.values([
        ("lane_owner", Option::<String>::None.into()),
        ("lane_until", 0i64.into()),
    ])
    .and_where(Expr::col("endpoint_id").eq(endpoint_id))
    .and_where(Expr::col("lane_owner").eq(owner));
    conn.execute(&q).await.map(|_| ())
}

/// Up to `limit` deliveries of one endpoint due at `now`, oldest due first
/// (`webhook_deliveries_pending`), for the worker that holds the endpoint's lane.
pub async fn due_deliveries(
    conn: &mut Conn,
    tenant_id: &str,
    endpoint_id: &str,
    now: i64,
    limit: u64,
) -> Result<Vec<DeliveryRecord>> {
    let mut q = Scoped::select(DELIVERIES, tenant_id);
    q.columns(DeliveryRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("endpoint_id").eq(endpoint_id))
        .and_where(Expr::cust("status = 'pending'"))
        .and_where(Expr::col("next_attempt_at").lte(now))
        .order_by("next_attempt_at", Order::Asc)
        .limit(limit);
    conn.fetch_all(&q).await
}

/// Records a batch of attempts of one business unit (`rows`: each delivery as the caller updated
/// it, with its attempt): every attempt row in one statement, the deliveries that succeeded with
/// one statement per endpoint and status code, the others one by one and only while they are
/// still `pending`. On PostgreSQL the
/// statements take arrays (fixed text, one plan whatever the batch).
pub async fn record_attempts(
    conn: &mut Conn,
    tenant_id: &str,
    rows: &[(DeliveryRecord, AttemptRecord)],
    delivered_at: i64,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    insert_attempts(conn, tenant_id, rows).await?;
    let mut delivered: HashMap<(&str, i64, i64), Vec<&str>> = HashMap::new();
    for (d, _) in rows {
        if d.status == "delivered" && d.delivered_at == Some(delivered_at) {
            delivered
                .entry((
                    d.endpoint_id.as_str(),
                    d.last_status_code.unwrap_or(200),
                    d.last_attempt_at.unwrap_or(0),
                ))
                .or_default()
                .push(d.delivery_id.as_str());
        } else {
            let mut u = Scoped::update(DELIVERIES, &d.tenant_id);
            u.values([
                ("status", d.status.clone().into()),
                ("attempts", d.attempts.into()),
                ("next_attempt_at", d.next_attempt_at.into()),
                ("last_attempt_at", d.last_attempt_at.into()),
                ("last_status_code", d.last_status_code.into()),
                ("last_error", d.last_error.clone().into()),
                ("delivered_at", d.delivered_at.into()),
            ])
            .and_where(Expr::col("endpoint_id").eq(d.endpoint_id.as_str()))
            .and_where(Expr::col("delivery_id").eq(d.delivery_id.as_str()))
            // Only while still pending: a delivery that failed meanwhile (its endpoint deleted
            // while the attempt was in flight) stays failed instead of pending for an endpoint
            // that no longer exists.
            .and_where(Expr::cust("status = 'pending'"));
            conn.execute(&u).await?;
        }
    }
    const DELIVERED_PG: &str = "UPDATE webhook_deliveries SET status = 'delivered', \
        attempts = attempts + 1, last_attempt_at = $3, last_status_code = $4, last_error = NULL, \
        delivered_at = $5 WHERE tenant_id = $1 AND endpoint_id = $2 \
        AND delivery_id = ANY($6::text[])";
    for ((endpoint_id, code, attempted_at), ids) in delivered {
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
            &tenant_id,
            &endpoint_id,
            &attempted_at,
            &code,
            &delivered_at,
            &ids,
        ];
        if let Some(done) = conn.pg_execute(DELIVERED_PG, &params).await {
            done?;
            continue;
        }
        for part in ids.chunks(INSERT_CHUNK) {
            let mut u = Scoped::update(DELIVERIES, tenant_id);
            u.values([
                ("status", "delivered".into()),
                ("attempts", Expr::col("attempts").add(1i64)),
                ("last_attempt_at", attempted_at.into()),
                ("last_status_code", code.into()),
                ("last_error", Option::<String>::None.into()),
                ("delivered_at", delivered_at.into()),
            ])
            .and_where(Expr::col("endpoint_id").eq(endpoint_id))
            .and_where(Expr::col("delivery_id").is_in(part.iter().copied()));
            conn.execute(&u).await?;
        }
    }
    Ok(())
}

/// Inserts the attempt rows of a batch: on PostgreSQL one statement of arrays, on SQLite one
/// multi-row insert per 500.
async fn insert_attempts(
    conn: &mut Conn,
    tenant_id: &str,
    rows: &[(DeliveryRecord, AttemptRecord)],
) -> Result<()> {
    const INSERT_PG: &str = "INSERT INTO webhook_attempts (tenant_id, delivery_id, attempt, \
        attempted_at, status_code, latency_ms, error) SELECT $1, d, n, t, c, l, e FROM \
        unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[]) \
        AS u(d, n, t, c, l, e)";
    if conn.engine() == crate::Engine::Postgres {
        // The arrays are built only where they are sent.
        let ids: Vec<&str> = rows.iter().map(|(_, a)| a.delivery_id.as_str()).collect();
        let numbers: Vec<i64> = rows.iter().map(|(_, a)| a.attempt).collect();
        let times: Vec<i64> = rows.iter().map(|(_, a)| a.attempted_at).collect();
        let codes: Vec<Option<i64>> = rows.iter().map(|(_, a)| a.status_code).collect();
        let latencies: Vec<i64> = rows.iter().map(|(_, a)| a.latency_ms).collect();
        let errors: Vec<Option<&str>> = rows.iter().map(|(_, a)| a.error.as_deref()).collect();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
            &tenant_id, &ids, &numbers, &times, &codes, &latencies, &errors,
        ];
        if let Some(done) = conn.pg_execute(INSERT_PG, &params).await {
            return done.map(|_| ());
        }
    }
    for part in rows.chunks(INSERT_CHUNK) {
        let cols = AttemptRecord::COLUMNS;
        let mut q = Scoped::insert(ATTEMPTS, tenant_id, cols[1..].iter().copied());
        for (_, a) in part {
            q.row(a.values().into_iter().skip(1));
        }
        conn.execute(&q).await?;
    }
    Ok(())
}

/// Makes every pending delivery of an endpoint that waits for a later retry due at `now` (the
/// endpoint answered again, so its backlog need not wait out the backoff). Returns how many.
pub async fn bring_forward(
    conn: &mut Conn,
    tenant_id: &str,
    endpoint_id: &str,
    now: i64,
) -> Result<u64> {
    let mut u = Scoped::update(DELIVERIES, tenant_id);
    u.values([("next_attempt_at", now.into())])
        .and_where(Expr::col("endpoint_id").eq(endpoint_id))
        .and_where(Expr::cust("status = 'pending'"))
        .and_where(Expr::col("next_attempt_at").gt(now));
    conn.execute(&u).await
}

/// Filters of a delivery log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// One endpoint.
    pub endpoint_id: Option<String>,
    /// One status.
    pub status: Option<String>,
    /// One event.
    pub event_id: Option<String>,
}

/// Deliveries of a business unit, newest first (by creation time, then id), up to `limit`: of
/// one endpoint (a range of the key read backwards), or of each of the unit's endpoints merged.
pub async fn deliveries(
    conn: &mut Conn,
    tenant_id: &str,
    f: &DeliveryFilter,
    limit: u64,
) -> Result<Vec<DeliveryRecord>> {
    let endpoints = match &f.endpoint_id {
        Some(e) => vec![e.clone()],
        None => list_endpoints(conn, tenant_id)
            .await?
            .into_iter()
            .map(|e| e.endpoint_id)
            .collect(),
    };
    let mut out = Vec::new();
    for endpoint_id in endpoints {
        let mut q = Scoped::select(DELIVERIES, tenant_id);
        q.columns(DeliveryRecord::COLUMNS.iter().copied())
            .and_where(Expr::col("endpoint_id").eq(endpoint_id));
        if let Some(s) = &f.status {
            q.and_where(Expr::col("status").eq(s.as_str()));
        }
        if let Some(e) = &f.event_id {
            q.and_where(Expr::col("event_id").eq(e.as_str()));
        }
        // Delivery ids begin with their creation time (fixed-width base 36): id order is
        // creation order.
        q.order_by("delivery_id", Order::Desc).limit(limit);
        out.extend(conn.fetch_all::<DeliveryRecord, _>(&q).await?);
    }
    out.sort_by(|a, b| b.delivery_id.cmp(&a.delivery_id));
    out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(out)
}

/// A delivery by id, whatever its business unit (delivery ids are unique in the store): one
/// probe of the key per endpoint in the store. Deliveries of removed endpoints are not found.
pub async fn find_delivery(conn: &mut Conn, delivery_id: &str) -> Result<Option<DeliveryRecord>> {
    let q = Scoped::platform(
        Query::select()
            .columns(["tenant_id", "endpoint_id"])
            .from(ENDPOINTS)
            .to_owned(),
    );
    let endpoints: Vec<(String, String)> = conn.fetch_all(&q).await?;
    for (tenant_id, endpoint_id) in endpoints {
        let mut q = Scoped::select(DELIVERIES, &tenant_id);
        q.columns(DeliveryRecord::COLUMNS.iter().copied())
            .and_where(Expr::col("endpoint_id").eq(endpoint_id))
            .and_where(Expr::col("delivery_id").eq(delivery_id));
        if let Some(d) = conn.fetch_optional(&q).await? {
            return Ok(Some(d));
        }
    }
    Ok(None)
}

/// The attempts of several deliveries of one business unit (at most 1,000 ids), each delivery's
/// in order: one query.
pub async fn attempts_of(
    conn: &mut Conn,
    tenant_id: &str,
    delivery_ids: &[&str],
) -> Result<HashMap<String, Vec<AttemptRecord>>> {
    let mut out: HashMap<String, Vec<AttemptRecord>> = HashMap::new();
    for part in delivery_ids.chunks(INSERT_CHUNK) {
        let mut q = Scoped::select(ATTEMPTS, tenant_id);
        q.columns(AttemptRecord::COLUMNS.iter().copied())
            .and_where(Expr::col("delivery_id").is_in(part.iter().copied()))
            .order_by("delivery_id", Order::Asc)
            .order_by("attempt", Order::Asc);
        for a in conn.fetch_all::<AttemptRecord, _>(&q).await? {
            out.entry(a.delivery_id.clone()).or_default().push(a);
        }
    }
    Ok(out)
}

/// Queues a delivery again, due at `now`, whatever its state (a replay sends the same event with
/// the same delivery id). Returns whether it exists.
pub async fn replay(conn: &mut Conn, d: &DeliveryRecord, now: i64) -> Result<bool> {
    let mut u = Scoped::update(DELIVERIES, &d.tenant_id);
    u.values([
        ("status", "pending".into()),
        ("next_attempt_at", now.into()),
        ("delivered_at", Option::<i64>::None.into()),
    ])
    .and_where(Expr::col("endpoint_id").eq(d.endpoint_id.as_str()))
    .and_where(Expr::col("delivery_id").eq(d.delivery_id.as_str()));
    Ok(conn.execute(&u).await? == 1)
}
