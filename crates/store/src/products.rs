//! Products (SPEC §2.2), keyed by (tenant_id, product_id), unique by (tenant_id, product_sku).

use sea_query::{Expr, ExprTrait, Iden, SimpleExpr};

use crate::page::{self, After, Page, SortDir};
use crate::row::{FromRow, Row};
use crate::{Conn, Result, Scoped};

#[derive(Iden, Clone, Copy)]
pub(crate) enum Products {
    Table,
    TenantId,
    ProductId,
    ProductSku,
    Name,
    Category,
    CategoryKey,
    BrandKey,
    Images,
    Status,
    CreatedAt,
    UpdatedAt,
}

/// The products columns (the columns of [`ProductRecord`]).
const COLUMNS: &[&str] = ProductRecord::COLUMNS;

crate::record! {
    /// A product as stored.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ProductRecord {
        /// Business unit.
        tenant_id: String,
        /// `prod_…`.
        product_id: String,
        /// The product's natural key, unique in the business unit.
        product_sku: String,
        /// Name.
        name: String,
        /// Specification text (an object sent by a client is stored as its JSON text).
        specification: String,
        /// Category as written.
        category: String,
        /// Brand as written.
        brand: String,
        /// Optional description.
        description: Option<String>,
        /// Image URLs, JSON array text.
        images: String,
        /// `active` or `discontinued`.
        status: String,
        /// E-commerce sync metadata, JSON text (absent for API-created products).
        sync: Option<String>,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
    derived {
        category_key: |r| r.category.to_lowercase(),
        brand_key: |r| r.brand.to_lowercase(),
    }
}

/// A product with its number of variants (any status), as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductListRow {
    /// The product.
    pub product: ProductRecord,
    /// Number of variants.
    pub variant_count: i64,
}

impl FromRow for ProductListRow {
    fn from_row(r: &dyn Row) -> Result<Self> {
        Ok(ProductListRow {
            product: ProductRecord::from_row(r)?,
            variant_count: r.int(15)?,
        })
    }
}

/// Inserts a product.
pub async fn insert(conn: &mut Conn, p: &ProductRecord) -> Result<()> {
    let mut q = Scoped::insert(Products::Table, &p.tenant_id, COLUMNS[1..].iter().copied());
    q.row(p.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// Writes every mutable field of a stored product (matched by tenant and id).
pub async fn update(conn: &mut Conn, p: &ProductRecord) -> Result<()> {
    let vals = p.values();
    let pairs: Vec<(&str, SimpleExpr)> = COLUMNS
        .iter()
        .copied()
        .zip(vals)
        .filter(|(c, _)| {
            !matches!(
                *c,
                "tenant_id" | "product_id" | "product_sku" | "created_at"
            )
        })
        .collect();
    let mut q = Scoped::update(Products::Table, p.tenant_id.as_str());
    q.values(pairs)
        .and_where(Expr::col(Products::ProductId).eq(p.product_id.as_str()));
    conn.execute(&q).await.map(|_| ())
}

async fn get_where(
    conn: &mut Conn,
    tenant_id: &str,
    col: Products,
    v: &str,
    lock: bool,
) -> Result<Option<ProductRecord>> {
    let mut q = Scoped::select(Products::Table, tenant_id);
    q.columns(COLUMNS.iter().copied())
        .and_where(Expr::col(col).eq(v));
    if lock {
        q.lock_exclusive();
    }
    conn.fetch_optional(&q).await
}

/// One product by id.
pub async fn get(
    conn: &mut Conn,
    tenant_id: &str,
    product_id: &str,
) -> Result<Option<ProductRecord>> {
    get_where(conn, tenant_id, Products::ProductId, product_id, false).await
}

/// One product by id, locked until the transaction ends (PostgreSQL `FOR UPDATE`; a SQLite
/// write transaction already holds the write lock). The product row also guards its variants:
/// every variant write locks its product first.
pub async fn get_for_update(
    conn: &mut Conn,
    tenant_id: &str,
    product_id: &str,
) -> Result<Option<ProductRecord>> {
    get_where(conn, tenant_id, Products::ProductId, product_id, true).await
}

/// One product by product SKU.
pub async fn get_by_sku(
    conn: &mut Conn,
    tenant_id: &str,
    product_sku: &str,
) -> Result<Option<ProductRecord>> {
    get_where(conn, tenant_id, Products::ProductSku, product_sku, false).await
}

/// One product by product SKU, locked until the transaction ends (see [`get_for_update`]).
pub async fn get_by_sku_for_update(
    conn: &mut Conn,
    tenant_id: &str,
    product_sku: &str,
) -> Result<Option<ProductRecord>> {
    get_where(conn, tenant_id, Products::ProductSku, product_sku, true).await
}

/// Sort fields of listProducts (SPEC §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSort {
    /// `createdAt` (default).
    CreatedAt,
    /// `updatedAt`.
    UpdatedAt,
    /// `name`.
    Name,
    /// `productSku`.
    ProductSku,
}

impl ProductSort {
    /// Parses a `sortBy` value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "createdAt" => Self::CreatedAt,
            "updatedAt" => Self::UpdatedAt,
            "name" => Self::Name,
            "productSku" => Self::ProductSku,
            _ => return None,
        })
    }
    fn column(self) -> (Products, bool) {
        match self {
            Self::CreatedAt => (Products::CreatedAt, true),
            Self::UpdatedAt => (Products::UpdatedAt, true),
            Self::Name => (Products::Name, false),
            Self::ProductSku => (Products::ProductSku, false),
        }
    }
}

/// Filters of listProducts; category and brand compare case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// `active` / `discontinued`.
    pub status: Option<String>,
    /// Category, any case.
    pub category: Option<String>,
    /// Brand, any case.
    pub brand: Option<String>,
}

/// Resolves a product cursor for a sort; `None` for an unknown product id.
pub async fn cursor(
    conn: &mut Conn,
    tenant_id: &str,
    product_id: &str,
    sort: ProductSort,
) -> Result<Option<After>> {
    let (col, is_int) = sort.column();
    page::resolve_cursor(
        conn,
        page::Keyed {
            table: Products::Table,
            id: Products::ProductId,
        },
        tenant_id,
        product_id,
        col,
        is_int,
    )
    .await
}

/// A page of products with their variant counts.
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    filter: &ProductFilter,
    sort: ProductSort,
    dir: SortDir,
    after: Option<After>,
    limit: u64,
) -> Result<Page<ProductListRow>> {
    let mut q = Scoped::select(Products::Table, tenant_id);
    q.columns(COLUMNS.iter().map(|c| (Products::Table, *c)))
        .expr(Expr::cust(
            "(SELECT COUNT(*) FROM variants v WHERE v.tenant_id = products.tenant_id \
             AND v.product_id = products.product_id)",
        ));
    if let Some(s) = &filter.status {
        q.and_where(Expr::col((Products::Table, Products::Status)).eq(s.as_str()));
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
        (Products::Table, col),
        (Products::Table, Products::ProductId),
        false,
        dir,
        after,
        limit,
    );
    let rows = conn.fetch_all(&q).await?;
    Ok(page::into_page(rows, limit))
}
