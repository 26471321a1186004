//! Files (SPEC §2.9): metadata of documents kept in object storage, keyed by (tenant_id, file_id),
//! and the server secret that signs their URLs.

use sea_query::{Expr, ExprTrait, Order};

use crate::{Conn, Result, Scoped};

const TABLE: &str = "files";

crate::record! {
    /// A file as stored.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct FileRecord {
        /// Business unit.
        tenant_id: String,
        /// `file_…`.
        file_id: String,
        /// The linked order, `""` when none (SPEC §2.9, Recommended).
        order_id: String,
        /// The linked order's customer or `metadata.customerId`, for the `customerId` filter.
        customer_id: Option<String>,
        /// `contract`, `invoice`, `document` or `attachment` (the API's `type`).
        file_type: String,
        /// `generated` or `uploaded`.
        category: String,
        /// Stored file name.
        filename: String,
        /// The name the client gave an upload.
        original_filename: Option<String>,
        /// MIME type.
        content_type: String,
        /// Bytes; 0 until an upload completes.
        file_size: i64,
        /// Object key, `tenants/<tenantId>/files/<fileId>/<filename>`.
        storage_path: String,
        /// Actor.
        uploaded_by: String,
        /// JSON object text.
        metadata: String,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
}

/// Inserts a file record.
pub async fn insert(conn: &mut Conn, f: &FileRecord) -> Result<()> {
    let cols = FileRecord::COLUMNS;
    let mut q = Scoped::insert(TABLE, &f.tenant_id, cols[1..].iter().copied());
    q.row(f.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// One file by id; with `lock`, locked until the transaction ends (PostgreSQL `FOR UPDATE`).
pub async fn get(
    conn: &mut Conn,
    tenant_id: &str,
    file_id: &str,
    lock: bool,
) -> Result<Option<FileRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(FileRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("file_id").eq(file_id));
    if lock {
        q.lock_exclusive();
    }
    conn.fetch_optional(&q).await
}

/// Filters of listFiles.
#[derive(Debug, Clone, Default)]
pub struct FileFilter {
    /// Linked order.
    pub order_id: Option<String>,
    /// `file_type`.
    pub file_type: Option<String>,
    /// Customer.
    pub customer_id: Option<String>,
}

/// `limit` files from `offset`, newest first (SPEC §2.9: offset paging, `createdAt` descending).
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    f: &FileFilter,
    limit: u64,
    offset: u64,
) -> Result<Vec<FileRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(FileRecord::COLUMNS.iter().copied());
    for (col, v) in [
        ("order_id", &f.order_id),
        ("file_type", &f.file_type),
        ("customer_id", &f.customer_id),
    ] {
        if let Some(v) = v {
            q.and_where(Expr::col(col).eq(v.as_str()));
        }
    }
    q.order_by("created_at", Order::Desc)
        .order_by("file_id", Order::Desc)
        .limit(limit)
        .offset(offset);
    conn.fetch_all(&q).await
}

/// Records the size of a completed upload; only a file still at size 0 changes (one upload per
/// URL). Returns whether it changed.
pub async fn complete_upload(
    conn: &mut Conn,
    tenant_id: &str,
    file_id: &str,
    size: i64,
    now: i64,
) -> Result<bool> {
    let mut q = Scoped::update(TABLE, tenant_id);
    q.values([("file_size", size.into()), ("updated_at", now.into())])
        .and_where(Expr::col("file_id").eq(file_id))
        .and_where(Expr::col("file_size").eq(0i64));
    Ok(conn.execute(&q).await? == 1)
}

/// Up to `limit` files of a business unit still without content (size 0) created before `before`
/// (epoch ms), oldest first (`files_empty`).
pub async fn empty_before(
    conn: &mut Conn,
    tenant_id: &str,
    before: i64,
    limit: u64,
) -> Result<Vec<FileRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(FileRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("file_size").eq(0i64))
        .and_where(Expr::col("created_at").lt(before))
        .order_by("created_at", Order::Asc)
        .order_by("file_id", Order::Asc)
        .limit(limit);
    conn.fetch_all(&q).await
}

/// Deletes a file record if it is still without content; returns whether it did.
pub async fn delete_empty(conn: &mut Conn, tenant_id: &str, file_id: &str) -> Result<bool> {
    let mut q = Scoped::delete(TABLE, tenant_id);
    q.and_where(Expr::col("file_id").eq(file_id))
        .and_where(Expr::col("file_size").eq(0i64));
    Ok(conn.execute(&q).await? > 0)
}

/// Deletes a file record.
pub async fn delete(conn: &mut Conn, tenant_id: &str, file_id: &str) -> Result<u64> {
    let mut q = Scoped::delete(TABLE, tenant_id);
    q.and_where(Expr::col("file_id").eq(file_id));
    conn.execute(&q).await
}

/// The server secret `name` (hex), created with `candidate` (hex digits only) by the first
/// process that asks; every process on the store then reads the same one.
pub async fn server_secret(
    conn: &mut Conn,
    name: &str,
    candidate: &str,
    now: i64,
) -> Result<String> {
    let safe = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !safe(name) || !safe(candidate) {
        return Err(crate::StoreError::Decode(
            "secret names and values are [A-Za-z0-9_]".into(),
        ));
    }
    conn.batch(&format!(
        "INSERT INTO server_secrets (name, secret, created_at) VALUES ('{name}', '{candidate}', {now}) \
         ON CONFLICT (name) DO NOTHING"
    ))
    .await?;
    let rows: Vec<String> = conn
        .fetch_all_sql(&format!(
            "SELECT secret FROM server_secrets WHERE name = '{name}'"
        ))
        .await?;
    rows.into_iter()
        .next()
        .ok_or_else(|| crate::StoreError::Decode("server secret missing".into()))
}
