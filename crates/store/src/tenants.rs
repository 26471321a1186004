//! Business units (tenants) and their settings (SPEC §2.1).

use sea_query::{Iden, Order, Query};

use crate::{Conn, Result, Scoped};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Tenants {
    Table,
    TenantId,
    Currency,
    TimeZone,
    Status,
    Settings,
    CreatedAt,
    UpdatedAt,
}

/// The business unit columns in table order (the columns of [`TenantRecord`]).
const COLUMNS: &[&str] = TenantRecord::COLUMNS;

crate::record! {
    /// A business unit as stored.
    #[derive(Debug, Clone, PartialEq)]
    pub struct TenantRecord {
        /// `bu_…` id, sent by clients as the `Tenant-ID` header.
        tenant_id: String,
        /// Display name.
        name: String,
        /// ISO 4217 code, immutable.
        currency: String,
        /// IANA time zone used for "today".
        time_zone: String,
        /// `active` or `inactive`.
        status: String,
        /// Optional 1–5 character prefix for order, subscription and customer ids.
        id_prefix: Option<String>,
        /// Settings document (JSON text, SPEC §2.1 settings table); `{}` means every default.
        settings: String,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
}

/// Inserts a business unit.
pub async fn insert(conn: &mut Conn, t: &TenantRecord) -> Result<()> {
    let mut q = Scoped::insert(Tenants::Table, &t.tenant_id, COLUMNS[1..].iter().copied());
    q.row(t.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// One business unit by id.
pub async fn get(conn: &mut Conn, tenant_id: &str) -> Result<Option<TenantRecord>> {
    let mut q = Scoped::select(Tenants::Table, tenant_id);
    q.columns(COLUMNS.iter().copied());
    conn.fetch_optional(&q).await
}

/// One business unit by id, locked until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite
/// write transactions hold the database).
pub async fn get_for_update(conn: &mut Conn, tenant_id: &str) -> Result<Option<TenantRecord>> {
    let mut q = Scoped::select(Tenants::Table, tenant_id);
    q.columns(COLUMNS.iter().copied());
    q.lock_exclusive();
    conn.fetch_optional(&q).await
}

/// Every business unit, oldest first.
pub async fn list(conn: &mut Conn) -> Result<Vec<TenantRecord>> {
    // Platform-wide: the list of business units is not owned by one of them.
    let q = Scoped::platform(
        Query::select()
            .columns(COLUMNS.iter().copied())
            .from(Tenants::Table)
            .order_by(Tenants::CreatedAt, Order::Asc)
            .order_by(Tenants::TenantId, Order::Asc)
            .to_owned(),
    );
    conn.fetch_all(&q).await
}

/// Sets a business unit's status (`active` / `inactive`).
pub async fn set_status(conn: &mut Conn, tenant_id: &str, status: &str, now: i64) -> Result<bool> {
    let mut q = Scoped::update(Tenants::Table, tenant_id);
    q.values([
        (Tenants::Status, status.into()),
        (Tenants::UpdatedAt, now.into()),
    ]);
    Ok(conn.execute(&q).await? > 0)
}

/// Replaces a business unit's settings document (JSON text, SPEC §2.1).
pub async fn set_settings(
    conn: &mut Conn,
    tenant_id: &str,
    settings: &str,
    now: i64,
) -> Result<bool> {
    let mut q = Scoped::update(Tenants::Table, tenant_id);
    q.values([
        (Tenants::Settings, settings.into()),
        (Tenants::UpdatedAt, now.into()),
    ]);
    Ok(conn.execute(&q).await? > 0)
}
