//! Business units (tenants) and their settings (SPEC §2.1).

use sea_query::{Iden, Order, Query};

use crate::row::{FromRow, Row};
use crate::{Conn, Result, Scoped};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Tenants {
    Table,
    TenantId,
    Name,
    Currency,
    TimeZone,
    Status,
    IdPrefix,
    Settings,
    CreatedAt,
    UpdatedAt,
}

const COLUMNS: [Tenants; 9] = [
    Tenants::TenantId,
    Tenants::Name,
    Tenants::Currency,
    Tenants::TimeZone,
    Tenants::Status,
    Tenants::IdPrefix,
    Tenants::Settings,
    Tenants::CreatedAt,
    Tenants::UpdatedAt,
];

/// A business unit as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantRecord {
    /// `bu_…` id, sent by clients as the `Tenant-ID` header.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// ISO 4217 code, immutable.
    pub currency: String,
    /// IANA time zone used for "today".
    pub time_zone: String,
    /// `active` or `inactive`.
    pub status: String,
    /// Optional 1–5 character prefix for order, subscription and customer ids.
    pub id_prefix: Option<String>,
    /// Settings document (JSON text, SPEC §2.1 settings table); `{}` means every default.
    pub settings: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds.
    pub updated_at: i64,
}

impl FromRow for TenantRecord {
    fn from_row(r: &dyn Row) -> Result<Self> {
        Ok(TenantRecord {
            tenant_id: r.text(0)?,
            name: r.text(1)?,
            currency: r.text(2)?,
            time_zone: r.text(3)?,
            status: r.text(4)?,
            id_prefix: r.opt_text(5)?,
            settings: r.text(6)?,
            created_at: r.int(7)?,
            updated_at: r.int(8)?,
        })
    }
}

/// Inserts a business unit.
pub async fn insert(conn: &mut Conn, t: &TenantRecord) -> Result<()> {
    let mut q = Scoped::insert(Tenants::Table, &t.tenant_id, COLUMNS[1..].iter().copied());
    q.row([
        t.name.clone().into(),
        t.currency.clone().into(),
        t.time_zone.clone().into(),
        t.status.clone().into(),
        t.id_prefix.clone().into(),
        t.settings.clone().into(),
        t.created_at.into(),
        t.updated_at.into(),
    ]);
    conn.execute(&q).await.map(|_| ())
}

/// One business unit by id.
pub async fn get(conn: &mut Conn, tenant_id: &str) -> Result<Option<TenantRecord>> {
    let mut q = Scoped::select(Tenants::Table, tenant_id);
    q.columns(COLUMNS);
    conn.fetch_optional(&q).await
}

/// Every business unit, oldest first.
pub async fn list(conn: &mut Conn) -> Result<Vec<TenantRecord>> {
    // Platform-wide: the list of business units is not owned by one of them.
    let q = Scoped::platform(
        Query::select()
            .columns(COLUMNS)
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
