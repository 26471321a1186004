//! API keys (SPEC §1.2, §2.1): only the SHA-256 hash of the secret is stored.

use sea_query::{Expr, ExprTrait, Iden, Query};

use crate::row::{FromRow, Row};
use crate::tenants::Tenants;
use crate::{Conn, Result, Scoped};

#[derive(Iden, Clone, Copy)]
enum ApiKeys {
    Table,
    TenantId,
    KeyId,
    Name,
    KeyHash,
    Scope,
    Status,
    UsageCount,
    LastUsedAt,
    CreatedAt,
    RevokedAt,
}

crate::record! {
    /// An API key as stored (without its secret).
    #[derive(Debug, Clone, PartialEq)]
    pub struct ApiKeyRecord {
        /// The business unit the key may access.
        tenant_id: String,
        /// `key_…` id, shown in listings and used to revoke.
        key_id: String,
        /// Display name.
        name: String,
        /// Hex SHA-256 of the secret.
        key_hash: String,
        /// `read`, `write` or `all`.
        scope: String,
        /// `active` or `revoked`.
        status: String,
        /// Requests made with the key (flushed periodically).
        usage_count: i64,
        /// Epoch milliseconds of the last use.
        last_used_at: Option<i64>,
        /// Epoch milliseconds.
        created_at: i64,
    }
}

/// What authentication needs about a presented key and its business unit, read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyAuth {
    /// Key id.
    pub key_id: String,
    /// Key name (the actor's display name).
    pub name: String,
    /// `read`, `write` or `all`.
    pub scope: String,
    /// `active` or `revoked`.
    pub status: String,
    /// The business unit the key is bound to.
    pub tenant_id: String,
    /// That unit's status.
    pub tenant_status: String,
    /// That unit's currency.
    pub currency: String,
    /// That unit's time zone.
    pub time_zone: String,
    /// That unit's settings document.
    pub settings: String,
}

impl FromRow for KeyAuth {
    fn from_row(r: &dyn Row) -> Result<Self> {
        Ok(KeyAuth {
            key_id: r.text(0)?,
            name: r.text(1)?,
            scope: r.text(2)?,
            status: r.text(3)?,
            tenant_id: r.text(4)?,
            tenant_status: r.text(5)?,
            currency: r.text(6)?,
            time_zone: r.text(7)?,
            settings: r.text(8)?,
        })
    }
}

/// Inserts a key.
pub async fn insert(conn: &mut Conn, k: &ApiKeyRecord) -> Result<()> {
    let mut q = Scoped::insert(
        ApiKeys::Table,
        &k.tenant_id,
        ApiKeyRecord::COLUMNS[1..].iter().copied(),
    );
    q.row(k.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// Looks a presented key up by the hash of its secret, with its business unit.
pub async fn find_for_auth(conn: &mut Conn, key_hash: &str) -> Result<Option<KeyAuth>> {
    // Platform-wide: the business unit is what this lookup finds out.
    let q = Scoped::platform(
        Query::select()
            .columns([
                (ApiKeys::Table, ApiKeys::KeyId),
                (ApiKeys::Table, ApiKeys::Name),
                (ApiKeys::Table, ApiKeys::Scope),
                (ApiKeys::Table, ApiKeys::Status),
            ])
            .column((Tenants::Table, Tenants::TenantId))
            .column((Tenants::Table, Tenants::Status))
            .column((Tenants::Table, Tenants::Currency))
            .column((Tenants::Table, Tenants::TimeZone))
            .column((Tenants::Table, Tenants::Settings))
            .from(ApiKeys::Table)
            .inner_join(
                Tenants::Table,
                Expr::col((Tenants::Table, Tenants::TenantId))
                    .equals((ApiKeys::Table, ApiKeys::TenantId)),
            )
            .and_where(Expr::col((ApiKeys::Table, ApiKeys::KeyHash)).eq(key_hash))
            .to_owned(),
    );
    conn.fetch_optional(&q).await
}

/// Keys of a business unit.
pub async fn list(conn: &mut Conn, tenant_id: &str) -> Result<Vec<ApiKeyRecord>> {
    let mut q = Scoped::select(ApiKeys::Table, tenant_id);
    q.columns(ApiKeyRecord::COLUMNS.iter().copied())
        .order_by(ApiKeys::CreatedAt, sea_query::Order::Asc);
    conn.fetch_all(&q).await
}

/// Revokes a key of a business unit by id. Returns whether an active key was revoked.
pub async fn revoke(conn: &mut Conn, tenant_id: &str, key_id: &str, now: i64) -> Result<bool> {
    let mut q = Scoped::update(ApiKeys::Table, tenant_id);
    q.values([
        (ApiKeys::Status, "revoked".into()),
        (ApiKeys::RevokedAt, now.into()),
    ])
    .and_where(Expr::col(ApiKeys::KeyId).eq(key_id))
    .and_where(Expr::col(ApiKeys::Status).eq("active"));
    Ok(conn.execute(&q).await? > 0)
}

/// Adds `uses` requests to a key's counter and moves its last-used time (epoch milliseconds)
/// forward to `last_used_at`, never back: processes that share the store flush their counts
/// in any order.
pub async fn record_usage(
    conn: &mut Conn,
    tenant_id: &str,
    key_id: &str,
    uses: i64,
    last_used_at: i64,
) -> Result<()> {
    let stored = || Expr::col(ApiKeys::LastUsedAt);
    let later = stored().is_null().or(stored().lt(last_used_at));
    let mut q = Scoped::update(ApiKeys::Table, tenant_id);
    q.value(
        ApiKeys::UsageCount,
        Expr::col(ApiKeys::UsageCount).add(uses),
    )
    .value(
        ApiKeys::LastUsedAt,
        Expr::case(later, last_used_at).finally(stored()),
    )
    .and_where(Expr::col(ApiKeys::KeyId).eq(key_id));
    conn.execute(&q).await.map(|_| ())
}

#[derive(Iden, Clone, Copy)]
enum AuthEpoch {
    Table,
    Id,
    N,
}

/// The credentials epoch: a counter that grows with every change to a key's status, scope, hash
/// or business unit and every change to a business unit, whichever process makes it (database
/// triggers, migration V4). Credentials read at one epoch stay valid while it does not move.
pub async fn auth_epoch(conn: &mut Conn) -> Result<i64> {
    let q = Scoped::platform(
        Query::select()
            .column(AuthEpoch::N)
            .from(AuthEpoch::Table)
            .and_where(Expr::col(AuthEpoch::Id).eq(1))
            .to_owned(),
    );
    Ok(conn.fetch_optional::<i64, _>(&q).await?.unwrap_or(0))
}
