//! Idempotency keys (the `Idempotency-Key` header): the first response to a key in a business
//! unit, written in the transaction of the request's effect.

use sea_query::{Expr, ExprTrait, OnConflict};

use crate::{Conn, Result, Scoped};

const TABLE: &str = "idempotency_keys";

/// How long a key's response is replayed, in milliseconds (24 hours); older keys are purged by
/// the daily jobs and may be used again.
pub const TTL_MS: i64 = 24 * 3_600_000;

crate::record! {
    /// A key and the response stored for it.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct IdempotencyRecord {
        /// Business unit.
        tenant_id: String,
        /// The client's key.
        idempotency_key: String,
        /// SHA-256 (hex) of method, path, query and body.
        request_hash: String,
        /// HTTP status of the stored response; 0 while the request that holds the key runs.
        status_code: i64,
        /// `Content-Type` of the stored response.
        content_type: Option<String>,
        /// The stored response body.
        response_body: String,
        /// Epoch milliseconds.
        created_at: i64,
    }
}

/// Takes a key for a running request: inserts `r` unless the key exists, or replaces a record
/// created before `expired_before`. Returns `true` when the caller holds the key (until its
/// transaction ends: a concurrent claim of the same key waits for it on PostgreSQL, and on SQLite
/// cannot start before it, there being one writer).
pub async fn claim(conn: &mut Conn, r: &IdempotencyRecord, expired_before: i64) -> Result<bool> {
    let cols = IdempotencyRecord::COLUMNS;
    let mut q = Scoped::insert(TABLE, &r.tenant_id, cols[1..].iter().copied());
    q.row(r.values().into_iter().skip(1)).on_conflict(
        OnConflict::columns(["tenant_id", "idempotency_key"])
            .do_nothing()
            .to_owned(),
    );
    if conn.execute(&q).await? == 1 {
        return Ok(true);
    }
    let mut u = Scoped::update(TABLE, &r.tenant_id);
    u.values([
        ("request_hash", r.request_hash.clone().into()),
        ("status_code", r.status_code.into()),
        ("content_type", r.content_type.clone().into()),
        ("response_body", r.response_body.clone().into()),
        ("created_at", r.created_at.into()),
    ])
    .and_where(Expr::col("idempotency_key").eq(r.idempotency_key.as_str()))
    .and_where(Expr::col("created_at").lt(expired_before));
    Ok(conn.execute(&u).await? == 1)
}

/// The record of a key.
pub async fn get(conn: &mut Conn, tenant_id: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(IdempotencyRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("idempotency_key").eq(key));
    conn.fetch_optional(&q).await
}

/// Stores the response of the request that holds a key.
pub async fn complete(
    conn: &mut Conn,
    tenant_id: &str,
    key: &str,
    status_code: i64,
    content_type: Option<String>,
    body: String,
) -> Result<()> {
    let mut u = Scoped::update(TABLE, tenant_id);
    u.values([
        ("status_code", status_code.into()),
        ("content_type", content_type.into()),
        ("response_body", body.into()),
    ])
    .and_where(Expr::col("idempotency_key").eq(key));
    conn.execute(&u).await.map(|_| ())
}

/// Deletes the keys of a business unit created before `before`. Returns how many.
pub async fn purge(conn: &mut Conn, tenant_id: &str, before: i64) -> Result<u64> {
    let mut q = Scoped::delete(TABLE, tenant_id);
    q.and_where(Expr::col("created_at").lt(before));
    conn.execute(&q).await
}
