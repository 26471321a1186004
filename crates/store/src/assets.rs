//! Assets (SPEC §2.3), keyed by (tenant_id, serial_number).

use sea_query::{Expr, ExprTrait, Iden, OnConflict};

use crate::page::{self, After, Page, SortDir};
use crate::{Conn, FixedQuery, Result, Scoped};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Assets {
    Table,
    TenantId,
    SerialNumber,
    Sku,
    Status,
    Location,
    ConditionNote,
    Notes,
    CustomerId,
    RentalId,
    AcquisitionCost,
    AcquisitionCostSource,
    AcquisitionDate,
    LifetimeCollected,
    CreatedAt,
    UpdatedAt,
}

crate::record! {
    /// An asset as stored (money in minor units).
#[derive(Debug, Clone, PartialEq)]
    pub struct AssetRecord {
        /// Business unit.
        tenant_id: String,
        /// The asset's identifier, unique in the business unit (case-sensitive).
        serial_number: String,
        /// Product of the variant.
        product_id: String,
        /// Variant.
        variant_id: String,
        /// Variant SKU.
        sku: String,
        /// `"<product name> - <variant name>"`.
        product_name: String,
        /// First variant image, else first product image.
        product_image_url: Option<String>,
        /// One of the five asset statuses.
        status: String,
        /// Free text.
        location: Option<String>,
        /// Free text condition (e.g. "New in box").
        condition: Option<String> = "condition_note",
        /// Free text.
        notes: Option<String>,
        /// Set only by subscription operations.
        customer_id: Option<String>,
        /// Set only by subscription operations.
        rental_id: Option<String>,
        /// Acquisition cost in minor units.
        acquisition_cost: Option<i64>,
        /// `manual` (sent) or `variant` (copied from the variant).
        acquisition_cost_source: Option<String>,
        /// `YYYY-MM-DD`.
        acquisition_date: String,
        /// Σ net paid amounts attributed to the asset, minor units.
        lifetime_collected: i64,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
}

/// The asset columns in table order (the columns of [`AssetRecord`]).
pub const COLUMNS: &[&str] = AssetRecord::COLUMNS;

/// Inserts one asset; a taken serial number is [`crate::StoreError::Unique`].
pub async fn insert(conn: &mut Conn, a: &AssetRecord) -> Result<()> {
    let mut q = Scoped::insert(Assets::Table, &a.tenant_id, COLUMNS[1..].iter().copied());
    q.row(a.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// Inserts many assets in one statement, skipping serial numbers that already exist (bulk import
/// is idempotent by serial number). Returns how many rows were inserted.
pub async fn insert_many_skip_existing(conn: &mut Conn, rows: &[AssetRecord]) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut q = Scoped::insert(
        Assets::Table,
        &rows[0].tenant_id,
        COLUMNS[1..].iter().copied(),
    );
    for a in rows {
        if a.tenant_id != rows[0].tenant_id {
            return Err(crate::StoreError::Config(
                "one bulk insert writes one business unit".into(),
            ));
        }
        q.row(a.values().into_iter().skip(1));
    }
    q.on_conflict(
        OnConflict::columns([Assets::TenantId, Assets::SerialNumber])
            .do_nothing()
            .to_owned(),
    );
    conn.execute(&q).await
}

/// Writes the mutable fields of a stored asset (not `lifetime_collected`, which changes only
/// through [`add_collected`]).
pub async fn update(conn: &mut Conn, a: &AssetRecord) -> Result<()> {
    let mut q = Scoped::update(Assets::Table, &a.tenant_id);
    q.values([
        (Assets::Status, a.status.clone().into()),
        (Assets::Location, a.location.clone().into()),
        (Assets::ConditionNote, a.condition.clone().into()),
        (Assets::Notes, a.notes.clone().into()),
        (Assets::CustomerId, a.customer_id.clone().into()),
        (Assets::RentalId, a.rental_id.clone().into()),
        (Assets::AcquisitionCost, a.acquisition_cost.into()),
        (
            Assets::AcquisitionCostSource,
            a.acquisition_cost_source.clone().into(),
        ),
        (Assets::AcquisitionDate, a.acquisition_date.clone().into()),
        (Assets::UpdatedAt, a.updated_at.into()),
    ])
    .and_where(Expr::col(Assets::SerialNumber).eq(a.serial_number.as_str()));
    conn.execute(&q).await.map(|_| ())
}

/// Writes the fields [`update`] writes that differ between `before`, the asset as read, and
/// `after` (nothing when none differs).
pub async fn update_changed(
    conn: &mut Conn,
    before: &AssetRecord,
    after: &AssetRecord,
) -> Result<()> {
    debug_assert_eq!(before.serial_number, after.serial_number);
    let writable = |c: &str| {
        matches!(
            c,
            "status"
                | "location"
                | "condition_note"
                | "notes"
                | "customer_id"
                | "rental_id"
                | "acquisition_cost"
                | "acquisition_cost_source"
                | "acquisition_date"
                | "updated_at"
        )
    };
    let pairs = crate::record::changed_columns(COLUMNS, before.values(), after.values(), writable);
    if pairs.is_empty() {
        return Ok(());
    }
    let mut q = Scoped::update(Assets::Table, &after.tenant_id);
    q.values(pairs)
        .and_where(Expr::col(Assets::SerialNumber).eq(after.serial_number.as_str()));
    conn.execute(&q).await.map(|_| ())
}

/// One asset by serial number (exact match).
pub async fn get(
    conn: &mut Conn,
    tenant_id: &str,
    serial_number: &str,
) -> Result<Option<AssetRecord>> {
    static GET: FixedQuery<1> = FixedQuery::new(|t, [serial]| get_query(t, serial));
    conn.fetch_fixed_optional(&GET, tenant_id, [serial_number])
        .await
}

/// One asset by serial number (exact match), outside a transaction. On PostgreSQL it is read
/// together with the other serials of the business unit that concurrent callers of `reads` ask
/// for (see [`crate::coalesce`]): one statement for many reads under load, a read of its own
/// otherwise. On SQLite it is read directly: an embedded read costs less than gathering reads.
pub async fn get_coalesced(
    db: &crate::Db,
    reads: &std::sync::Arc<crate::coalesce::Coalescer<AssetRecord>>,
    tenant_id: &str,
    serial_number: &str,
) -> Result<Option<AssetRecord>> {
    if db.engine() == crate::Engine::Sqlite {
        let mut c = db.read().await?;
        return get(&mut c, tenant_id, serial_number).await;
    }
    // Boxed: the coalescer's state would otherwise sit, unused, in the future of every SQLite
    // read, which each request allocates and moves.
    Box::pin(
        reads.get(tenant_id, serial_number, |tenant, serials| async move {
            let mut c = db.read().await?;
            let found: Vec<AssetRecord> = match serials.as_slice() {
                [one] => get(&mut c, &tenant, one).await?.into_iter().collect(),
                _ => {
                    // Padded to a power of two with the last serial again (harmless in `IN`), so
                    // the statement has one of a few texts and stays prepared.
                    let mut serials = serials;
                    let last = serials[serials.len() - 1].clone();
                    serials.resize(serials.len().next_power_of_two(), last);
                    let mut q = Scoped::select(Assets::Table, &tenant);
                    q.columns(COLUMNS.iter().copied())
                        .and_where(Expr::col(Assets::SerialNumber).is_in(serials));
                    c.fetch_all(&q).await?
                }
            };
            Ok(found
                .into_iter()
                .map(|a| (a.serial_number.clone(), a))
                .collect())
        }),
    )
    .await
}

/// One asset by serial number, locked until the transaction ends (PostgreSQL `FOR UPDATE`; a
/// SQLite write transaction already excludes other writers).
pub async fn get_for_update(
    conn: &mut Conn,
    tenant_id: &str,
    serial_number: &str,
) -> Result<Option<AssetRecord>> {
    let mut q = get_query(tenant_id, serial_number);
    q.lock_exclusive();
    conn.fetch_optional(&q).await
}

fn get_query(tenant_id: &str, serial_number: &str) -> Scoped<sea_query::SelectStatement> {
    let mut q = Scoped::select(Assets::Table, tenant_id);
    q.columns(COLUMNS.iter().copied())
        .and_where(Expr::col(Assets::SerialNumber).eq(serial_number));
    q
}

/// Sort fields of listAssets (SPEC §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetSort {
    /// `createdAt` (default).
    CreatedAt,
    /// `updatedAt`.
    UpdatedAt,
    /// `serialNumber`.
    SerialNumber,
    /// `status`.
    Status,
    /// `sku`.
    Sku,
}

impl AssetSort {
    /// Parses a `sortBy` value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            "serialNumber" => Self::SerialNumber,
            "status" => Self::Status,
            "sku" => Self::Sku,
            _ => return None,
        })
    }
    fn column(self) -> (Assets, bool) {
        match self {
            Self::CreatedAt => (Assets::CreatedAt, true),
            Self::UpdatedAt => (Assets::UpdatedAt, true),
            Self::SerialNumber => (Assets::SerialNumber, false),
            Self::Status => (Assets::Status, false),
            Self::Sku => (Assets::Sku, false),
        }
    }
}

/// Filters of listAssets, all exact.
#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    /// One of the five statuses.
    pub status: Option<String>,
    /// Variant SKU.
    pub sku: Option<String>,
    /// Customer holding the asset.
    pub customer_id: Option<String>,
    /// Subscription the asset is assigned to.
    pub rental_id: Option<String>,
}

/// Resolves an asset cursor (a serial number); `None` for an unknown serial.
pub async fn cursor(
    conn: &mut Conn,
    tenant_id: &str,
    serial_number: &str,
    sort: AssetSort,
) -> Result<Option<After>> {
    let (col, is_int) = sort.column();
    page::resolve_cursor(
        conn,
        page::Keyed {
            table: Assets::Table,
            id: Assets::SerialNumber,
        },
        tenant_id,
        serial_number,
        col,
        is_int,
    )
    .await
}

/// A page of assets.
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    filter: &AssetFilter,
    sort: AssetSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Result<Page<AssetRecord>> {
    let q = list_query(tenant_id, filter, sort, dir, after, limit);
    let rows = conn.fetch_all(&q).await?;
    Ok(page::into_page(rows, limit))
}

/// The statement of [`list`] (exposed for query-plan checks).
pub fn list_query(
    tenant_id: &str,
    filter: &AssetFilter,
    sort: AssetSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Scoped<sea_query::SelectStatement> {
    let mut q = Scoped::select(Assets::Table, tenant_id);
    q.columns(COLUMNS.iter().copied());
    if let Some(s) = &filter.status {
        q.and_where(Expr::col(Assets::Status).eq(s.as_str()));
    }
    if let Some(s) = &filter.sku {
        q.and_where(Expr::col(Assets::Sku).eq(s.as_str()));
    }
    if let Some(s) = &filter.customer_id {
        q.and_where(Expr::col(Assets::CustomerId).eq(s.as_str()));
    }
    if let Some(s) = &filter.rental_id {
        q.and_where(Expr::col(Assets::RentalId).eq(s.as_str()));
    }
    let (col, _) = sort.column();
    page::keyset(
        &mut q,
        col,
        Assets::SerialNumber,
        sort == AssetSort::SerialNumber,
        dir,
        after,
        limit,
    );
    q
}

/// Assigns an `available` asset to a subscription: status `rented_out` with customer and rental.
/// Returns `false` when the asset is not `available` (any more), so of two concurrent
/// assignments exactly one succeeds.
pub async fn assign(
    conn: &mut Conn,
    tenant_id: &str,
    serial_number: &str,
    customer_id: &str,
    rental_id: &str,
    now: i64,
) -> Result<bool> {
    let mut q = Scoped::update(Assets::Table, tenant_id);
    q.values([
        (Assets::Status, "rented_out".into()),
        (Assets::CustomerId, customer_id.into()),
        (Assets::RentalId, rental_id.into()),
        (Assets::UpdatedAt, now.into()),
    ])
    .and_where(Expr::col(Assets::SerialNumber).eq(serial_number))
    .and_where(Expr::col(Assets::Status).eq("available"));
    Ok(conn.execute(&q).await? == 1)
}

/// Adds collected net income (minor units) to an asset's lifetime total.
pub async fn add_collected(
    conn: &mut Conn,
    tenant_id: &str,
    serial_number: &str,
    amount: i64,
    now: i64,
) -> Result<()> {
    let mut q = Scoped::update(Assets::Table, tenant_id);
    q.value(
        Assets::LifetimeCollected,
        Expr::col(Assets::LifetimeCollected).add(amount),
    )
    .value(Assets::UpdatedAt, now)
    .and_where(Expr::col(Assets::SerialNumber).eq(serial_number));
    conn.execute(&q).await.map(|_| ())
}
