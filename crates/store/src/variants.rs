//! Variants (SPEC §2.2), keyed by (tenant_id, variant_id), unique by (tenant_id, variant_sku).

use sea_query::{Expr, ExprTrait, Iden, Order, SimpleExpr};

use crate::page::{self, After, Page, SortDir};
use crate::products::Products;
use crate::row::{FromRow, Row};
use crate::{Conn, Result, Scoped};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Variants {
    Table,
    TenantId,
    VariantId,
    ProductId,
    VariantSku,
    Grade,
    Status,
    CreatedAt,
    UpdatedAt,
}

/// The variants columns in table order (the columns of [`VariantRecord`]).
const COLUMNS: &[&str] = VariantRecord::COLUMNS;

crate::record! {
    /// A variant as stored (money in minor units).
    #[derive(Debug, Clone, PartialEq)]
    pub struct VariantRecord {
        /// Business unit.
        tenant_id: String,
        /// `var_…`.
        variant_id: String,
        /// Owning product.
        product_id: String,
        /// The variant SKU, unique in the business unit; orders and assets refer to it.
        variant_sku: String,
        /// Variant name (configuration description).
        variant_name: String,
        /// Grade `A`–`E`.
        grade: String,
        /// Optional catalogue condition code.
        condition: Option<String> = "condition_code",
        /// Optional colour.
        color_name: Option<String>,
        /// Image URLs, JSON array text.
        images: String,
        /// List price (RRP) in minor units.
        list_price: Option<i64>,
        /// Default acquisition cost in minor units.
        acquisition_cost: Option<i64>,
        /// Pricing tiers, JSON text of `Vec<flexportal_domain::pricing::PricingTier>`.
        pricing: String,
        /// `active` or `inactive`.
        status: String,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
}

impl VariantRecord {
    /// The variant's pricing tiers (SPEC §2.2), decoded from the stored document.
    /// Errors: [`crate::StoreError::Decode`] when the stored pricing is not a tier list.
    pub fn tiers(&self) -> Result<Vec<flexportal_domain::pricing::PricingTier>> {
        flexportal_domain::pricing::tiers_from_json(&self.pricing)
            .map_err(|e| crate::StoreError::Decode(format!("variant {}: {e}", self.variant_id)))
    }
}

/// A variant with its product's SKU, name, status, category and first image, as listed and as
/// needed to register assets.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantWithProduct {
    /// The variant.
    pub variant: VariantRecord,
    /// Product SKU.
    pub product_sku: String,
    /// Product name.
    pub product_name: String,
    /// Product status.
    pub product_status: String,
    /// Product category.
    pub product_category: String,
    /// Product images, JSON array text.
    pub product_images: String,
}

impl FromRow for VariantWithProduct {
    fn from_row(r: &dyn Row) -> Result<Self> {
        Ok(VariantWithProduct {
            variant: VariantRecord::from_row(r)?,
            product_sku: r.text(15)?,
            product_name: r.text(16)?,
            product_status: r.text(17)?,
            product_category: r.text(18)?,
            product_images: r.text(19)?,
        })
    }
}

/// Inserts a variant.
pub async fn insert(conn: &mut Conn, v: &VariantRecord) -> Result<()> {
    let mut q = Scoped::insert(Variants::Table, &v.tenant_id, COLUMNS[1..].iter().copied());
    q.row(v.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// Writes every mutable field of a stored variant (matched by tenant and id).
pub async fn update(conn: &mut Conn, v: &VariantRecord) -> Result<()> {
    let pairs: Vec<(&str, SimpleExpr)> = COLUMNS
        .iter()
        .copied()
        .zip(v.values())
        .filter(|(c, _)| {
            !matches!(
                *c,
                "tenant_id" | "variant_id" | "product_id" | "variant_sku" | "created_at"
            )
        })
        .collect();
    let mut q = Scoped::update(Variants::Table, v.tenant_id.as_str());
    q.values(pairs)
        .and_where(Expr::col(Variants::VariantId).eq(v.variant_id.as_str()));
    conn.execute(&q).await.map(|_| ())
}

/// Every variant of a product (any status), oldest first.
pub async fn for_product(
    conn: &mut Conn,
    tenant_id: &str,
    product_id: &str,
) -> Result<Vec<VariantRecord>> {
    let mut q = Scoped::select(Variants::Table, tenant_id);
    q.columns(COLUMNS.iter().copied())
        .and_where(Expr::col(Variants::ProductId).eq(product_id))
        .order_by(Variants::CreatedAt, Order::Asc)
        .order_by(Variants::VariantId, Order::Asc);
    conn.fetch_all(&q).await
}

/// Variants with these SKUs (any product of the business unit).
pub async fn by_skus(
    conn: &mut Conn,
    tenant_id: &str,
    skus: &[String],
) -> Result<Vec<VariantRecord>> {
    by_skus_locked(conn, tenant_id, skus, false).await
}

/// [`by_skus`], the rows locked until the transaction ends (PostgreSQL `FOR UPDATE`, in SKU
/// order so that concurrent writers never deadlock; a SQLite write transaction already holds the
/// write lock). A variant is locked before its status changes, so a concurrent order that
/// prices it (see [`get_with_product_for_share`]) either sees the new status or is seen by the
/// open-order check.
pub async fn by_skus_for_update(
    conn: &mut Conn,
    tenant_id: &str,
    skus: &[String],
) -> Result<Vec<VariantRecord>> {
    by_skus_locked(conn, tenant_id, skus, true).await
}

async fn by_skus_locked(
    conn: &mut Conn,
    tenant_id: &str,
    skus: &[String],
    lock: bool,
) -> Result<Vec<VariantRecord>> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Scoped::select(Variants::Table, tenant_id);
    q.columns(COLUMNS.iter().copied())
        .and_where(Expr::col(Variants::VariantSku).is_in(skus.iter().map(String::as_str)))
        .order_by(Variants::VariantSku, Order::Asc);
    if lock {
        q.lock_exclusive();
    }
    conn.fetch_all(&q).await
}

/// Every variant of a product, locked until the transaction ends (see [`by_skus_for_update`]).
pub async fn for_product_for_update(
    conn: &mut Conn,
    tenant_id: &str,
    product_id: &str,
) -> Result<Vec<VariantRecord>> {
    let mut q = Scoped::select(Variants::Table, tenant_id);
    q.columns(COLUMNS.iter().copied())
        .and_where(Expr::col(Variants::ProductId).eq(product_id))
        .order_by(Variants::VariantSku, Order::Asc)
        .lock_exclusive();
    conn.fetch_all(&q).await
}

fn with_product_select(tenant_id: &str) -> Scoped<sea_query::SelectStatement> {
    let mut q = Scoped::select(Variants::Table, tenant_id);
    q.columns(COLUMNS.iter().map(|c| (Variants::Table, *c)))
        .column((Products::Table, Products::ProductSku))
        .column((Products::Table, Products::Name))
        .column((Products::Table, Products::Status))
        .column((Products::Table, Products::Category))
        .column((Products::Table, Products::Images))
        .inner_join(
            Products::Table,
            Expr::col((Products::Table, Products::TenantId))
                .equals((Variants::Table, Variants::TenantId))
                .and(
                    Expr::col((Products::Table, Products::ProductId))
                        .equals((Variants::Table, Variants::ProductId)),
                ),
        );
    q
}

/// One variant by SKU with its product.
pub async fn get_with_product(
    conn: &mut Conn,
    tenant_id: &str,
    sku: &str,
) -> Result<Option<VariantWithProduct>> {
    let mut q = with_product_select(tenant_id);
    q.and_where(Expr::col((Variants::Table, Variants::VariantSku)).eq(sku));
    conn.fetch_optional(&q).await
}

/// [`get_with_product`] with the variant row share-locked until the transaction ends
/// (PostgreSQL `FOR SHARE OF variants`): a concurrent deactivation waits for this transaction,
/// and this one waits for a deactivation already under way and then sees its status.
pub async fn get_with_product_for_share(
    conn: &mut Conn,
    tenant_id: &str,
    sku: &str,
) -> Result<Option<VariantWithProduct>> {
    let mut q = with_product_select(tenant_id);
    q.and_where(Expr::col((Variants::Table, Variants::VariantSku)).eq(sku))
        .lock_with_tables(sea_query::LockType::Share, [Variants::Table]);
    conn.fetch_optional(&q).await
}

/// Sets the status of every variant of a product.
pub async fn set_status_for_product(
    conn: &mut Conn,
    tenant_id: &str,
    product_id: &str,
    status: &str,
    now: i64,
) -> Result<u64> {
    let mut q = Scoped::update(Variants::Table, tenant_id);
    q.values([
        (Variants::Status, status.into()),
        (Variants::UpdatedAt, now.into()),
    ])
    .and_where(Expr::col(Variants::ProductId).eq(product_id))
    .and_where(Expr::col(Variants::Status).ne(status));
    conn.execute(&q).await
}

/// Sort fields of listVariants (SPEC §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantSort {
    /// `createdAt` (default).
    CreatedAt,
    /// `variantSku`.
    VariantSku,
}

impl VariantSort {
    /// Parses a `sortBy` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "createdAt" => Some(Self::CreatedAt),
            "variantSku" => Some(Self::VariantSku),
            _ => None,
        }
    }
    fn column(self) -> (Variants, bool) {
        match self {
            Self::CreatedAt => (Variants::CreatedAt, true),
            Self::VariantSku => (Variants::VariantSku, false),
        }
    }
}

/// Filters of listVariants: exact status, product SKU and grade; `sku` is a prefix of the variant
/// SKU; category and brand of the parent product compare case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct VariantFilter {
    /// `active` / `inactive`.
    pub status: Option<String>,
    /// Exact product SKU.
    pub product_sku: Option<String>,
    /// Grade `A`–`E`.
    pub grade: Option<String>,
    /// Prefix of the variant SKU.
    pub sku_prefix: Option<String>,
    /// Product category, any case.
    pub category: Option<String>,
    /// Product brand, any case.
    pub brand: Option<String>,
}

/// Resolves a variant cursor; `None` for an unknown variant id.
pub async fn cursor(
    conn: &mut Conn,
    tenant_id: &str,
    variant_id: &str,
    sort: VariantSort,
) -> Result<Option<After>> {
    let (col, is_int) = sort.column();
    page::resolve_cursor(
        conn,
        page::Keyed {
            table: Variants::Table,
            id: Variants::VariantId,
        },
        tenant_id,
        variant_id,
        col,
        is_int,
    )
    .await
}

/// A page of variants with their products.
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    filter: &VariantFilter,
    sort: VariantSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Result<Page<VariantWithProduct>> {
    let mut q = with_product_select(tenant_id);
    if let Some(s) = &filter.status {
        q.and_where(Expr::col((Variants::Table, Variants::Status)).eq(s.as_str()));
    }
    if let Some(s) = &filter.product_sku {
        q.and_where(Expr::col((Products::Table, Products::ProductSku)).eq(s.as_str()));
    }
    if let Some(g) = &filter.grade {
        q.and_where(Expr::col((Variants::Table, Variants::Grade)).eq(g.as_str()));
    }
    if let Some(prefix) = &filter.sku_prefix {
        // Range on the SKU instead of LIKE: exact, case-sensitive, index-friendly on both engines.
        q.and_where(Expr::col((Variants::Table, Variants::VariantSku)).gte(prefix.as_str()));
        q.and_where(
            Expr::col((Variants::Table, Variants::VariantSku)).lt(format!("{prefix}\u{10FFFF}")),
        );
    }
    if let Some(c) = &filter.category {
        q.and_where(Expr::col((Products::Table, Products::CategoryKey)).eq(c.to_lowercase()));
    }
    if let Some(b) = &filter.brand {
        q.and_where(Expr::col((Products::Table, Products::BrandKey)).eq(b.to_lowercase()));
    }
    let (col, _) = sort.column();
    page::keyset(
        &mut q,
        (Variants::Table, col),
        (Variants::Table, Variants::VariantId),
        false,
        dir,
        after,
        limit,
    );
    let rows = conn.fetch_all(&q).await?;
    Ok(page::into_page(rows, limit))
}
