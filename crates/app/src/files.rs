//! Files (SPEC §2.9): metadata in the store, content in object storage behind the
//! [`object_store`] port (a local directory by default, `./data/files/`), and signed, expiring
//! URLs served by this server under `/files/{fileId}/content`.
//!
//! A URL carries the business unit (`t`), the action (`a`: `view`, `download` or `upload`), the
//! expiry (`e`, epoch milliseconds) and a signature (`s`): HMAC-SHA256 with the server secret over
//! the HTTP method, the path, the file id, the unit, the action and the expiry. A URL that is
//! expired, altered in any part, or used for another unit's file answers 403 and serves or writes
//! nothing. Uploads accept one `PUT` of at most [`FileStorage::max_upload_bytes`] bytes of the
//! declared content type, which must be one of [`UPLOAD_TYPES`].

use std::sync::Arc;

use flexportal_domain::ids::{new_id, random_token};
use flexportal_store::files::{self, FileFilter, FileRecord};
use hmac::{KeyInit, Mac};
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use crate::error::{AppError, AppResult};
use crate::input::body_object;
use crate::list::Query;
use crate::{App, TenantContext};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

mod content;
pub use content::{EMPTY_FILE_TTL_MS, remove_empty, upload};

/// Content types an upload may declare.
pub const UPLOAD_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "text/plain",
    "text/csv",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

/// Default upload limit: 25 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 25 * 1024 * 1024;

/// Where file content lives, and the key that signs file URLs.
#[derive(Clone)]
pub struct FileStorage {
    store: Arc<dyn ObjectStore>,
    /// Largest upload accepted, bytes.
    pub max_upload_bytes: u64,
    /// The URL-signing key: set by [`FileStorage::with_secret`], else read (or created) in the
    /// store on first use.
    secret: Arc<OnceCell<Vec<u8>>>,
    /// Turns of the uploads of this process on SQLite, by a hash of the file id: two uploads of
    /// one URL take turns (see [`upload`]).
    upload_turns: Arc<[tokio::sync::Mutex<()>; UPLOAD_TURNS]>,
}

/// Stripes of [`FileStorage::upload_turns`].
const UPLOAD_TURNS: usize = 64;

impl FileStorage {
    /// Content in memory (lost on exit): the default of [`App::new`] until a real storage is set.
    pub fn in_memory() -> Self {
        Self::over(Arc::new(object_store::memory::InMemory::new()))
    }

    /// Content under the local directory `dir` (created if missing). Errors: the directory cannot
    /// be created.
    pub fn local(dir: &std::path::Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(std::io::Error::other)?;
        Ok(Self::over(Arc::new(fs)))
    }

    /// Content where `url` says: a local directory (a path, or `file:///abs/path`), or an
    /// S3-compatible bucket `s3://bucket[/prefix]` configured by the standard `AWS_*` environment
    /// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for
    /// MinIO and others, `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint) and by `options`, which
    /// take precedence (`("aws_endpoint", "http://127.0.0.1:9000")`, the keys of
    /// [`object_store::aws::AmazonS3ConfigKey`]). Errors: an unknown scheme or option, a directory
    /// that cannot be created, an S3 configuration the builder refuses.
    pub fn from_url(url: &str, options: &[(&str, &str)]) -> std::io::Result<Self> {
        let bad = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad(format!("{url}: no bucket")));
            }
            let mut b =
                object_store::aws::AmazonS3Builder::from_env().with_url(format!("s3://{bucket}"));
            for (k, v) in options {
                let key: object_store::aws::AmazonS3ConfigKey =
                    k.parse().map_err(|e| bad(format!("{k}: {e}")))?;
                b = b.with_config(key, *v);
            }
            let s3 = b.build().map_err(|e| bad(format!("{url}: {e}")))?;
            let prefix = prefix.trim_matches('/');
            let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                Arc::new(s3)
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
            };
            return Ok(Self::over(store));
        }
        if let Some((scheme, _)) = url.split_once("://")
            && scheme != "file"
        {
            return Err(bad(format!(
                "{url}: use a directory, file:///path or s3://bucket"
            )));
        }
        Self::local(std::path::Path::new(
            url.strip_prefix("file://").unwrap_or(url),
        ))
    }

    /// Content in any object store.
    pub fn over(store: Arc<dyn ObjectStore>) -> Self {
        FileStorage {
            store,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            secret: Arc::new(OnceCell::new()),
            upload_turns: Arc::new(std::array::from_fn(|_| tokio::sync::Mutex::new(()))),
        }
    }

    /// Signs URLs with `secret` instead of the secret kept in the store (`FLEXPORTAL_FILES_SECRET`:
    /// an operator's own key, or one rotated by changing it, which ends every URL handed out).
    pub fn with_secret(mut self, secret: &str) -> Self {
        self.secret = Arc::new(OnceCell::new_with(Some(secret.as_bytes().to_vec())));
        self
    }

    /// The object store holding the content.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Sets the upload limit in bytes.
    pub fn with_max_upload_bytes(mut self, bytes: u64) -> Self {
        self.max_upload_bytes = bytes;
        self
    }
}

/// What a URL lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `GET`, content served inline.
    View,
    /// `GET`, content served as an attachment with the stored file name.
    Download,
    /// One `PUT` of the content.
    Upload,
}

impl Action {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Download => "download",
            Action::Upload => "upload",
        }
    }
    fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "view" => Action::View,
            "download" => Action::Download,
            "upload" => Action::Upload,
            _ => return None,
        })
    }
    fn method(self) -> &'static str {
        match self {
            Action::Upload => "PUT",
            _ => "GET",
        }
    }
}

async fn secret(app: &App) -> AppResult<&[u8]> {
    app.files
        .secret
        .get_or_try_init(|| async {
            let mut c = app.begin().await?;
            let s = files::server_secret(&mut c, "file_urls", &random_token(48), app.now()).await?;
            c.commit().await?;
            Ok::<_, AppError>(s.into_bytes())
        })
        .await
        .map(Vec::as_slice)
}

/// The content path of a file's URLs.
pub fn content_path(file_id: &str) -> String {
    format!("/files/{file_id}/content")
}

fn mac(key: &[u8], action: Action, file_id: &str, tenant: &str, expires: i64) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(
        format!(
            "{}\n{}\n{file_id}\n{tenant}\n{}\n{expires}",
            action.method(),
            content_path(file_id),
            action.as_str()
        )
        .as_bytes(),
    );
    m
}

/// A signed URL: the path and query to append to the server's base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedUrl {
    /// `/files/<fileId>/content?t=…&a=…&e=…&s=…`.
    pub path_and_query: String,
    /// Expiry, epoch milliseconds.
    pub expires_at: i64,
    /// The file.
    pub file: FileRecord,
}

/// A signed URL of `file` for `action`, valid `minutes` (1–1440): what getFileUrl answers and what
/// generateContract and the export hand out for their new files.
pub async fn signed_url(
    app: &App,
    file: FileRecord,
    action: Action,
    minutes: i64,
) -> AppResult<SignedUrl> {
    let key = secret(app).await?;
    let expires = app.now() + minutes * 60_000;
    let sig = hex::encode(
        mac(key, action, &file.file_id, &file.tenant_id, expires)
            .finalize()
            .into_bytes(),
    );
    Ok(SignedUrl {
        path_and_query: format!(
            "{}?t={}&a={}&e={expires}&s={sig}",
            content_path(&file.file_id),
            file.tenant_id,
            action.as_str()
        ),
        expires_at: expires,
        file,
    })
}

fn forbidden() -> AppError {
    AppError::new(403, "FORBIDDEN", "The URL is invalid or has expired")
}

/// Checks a signed URL's query for `file_id` and the request's method; returns the file and the
/// action. Errors: 403 `FORBIDDEN` for a missing, altered or expired signature, a method the
/// action does not allow, or a file the unit does not have.
pub async fn verify(
    app: &App,
    file_id: &str,
    method: &str,
    q: &Query,
) -> AppResult<(FileRecord, Action)> {
    let (Some(tenant), Some(action), Some(expires), Some(sig)) = (
        q.get("t"),
        q.get("a").and_then(|a| Action::parse(a)),
        q.get("e").and_then(|e| e.parse::<i64>().ok()),
        q.get("s").and_then(|s| hex::decode(s).ok()),
    ) else {
        return Err(forbidden());
    };
    let key = secret(app).await?;
    if mac(key, action, file_id, tenant, expires)
        .verify_slice(&sig)
        .is_err()
        || action.method() != method
        || app.now() > expires
    {
        return Err(forbidden());
    }
    let mut c = app.db.read().await?;
    let file = files::get(&mut c, tenant, file_id, false)
        .await?
        .ok_or_else(forbidden)?;
    Ok((file, action))
}

/// A file's content, chunk by chunk.
pub type ContentStream =
    futures_util::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>;

/// Bytes read from a local file per chunk.
const LOCAL_CHUNK: usize = 4 << 20;

/// A local file as a stream of chunks of up to [`LOCAL_CHUNK`] bytes, each read by one call on
/// the blocking pool.
fn local_chunks(file: std::fs::File) -> ContentStream {
    use std::io::Read;
    Box::pin(futures_util::stream::unfold(
        Some(file),
        |state| async move {
            let file = state?;
            let read = tokio::task::spawn_blocking(move || {
                let mut file = file;
                let mut buf = vec![0u8; LOCAL_CHUNK];
                let mut filled = 0;
                while filled < LOCAL_CHUNK {
                    match file.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                buf.truncate(filled);
                Ok((file, buf))
            })
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r);
            match read {
                Ok((_, buf)) if buf.is_empty() => None,
                Ok((file, buf)) => Some((Ok(bytes::Bytes::from(buf)), Some(file))),
                Err(e) => Some((
                    Err(object_store::Error::Generic {
                        store: "local",
                        source: Box::new(e),
                    }),
                    None,
                )),
            }
        },
    ))
}

/// The content of a file as a stream of chunks, and its size in bytes. Errors: 404 `NOT_FOUND` when the storage has no
/// content for it (an upload that never completed), 500 when the storage fails.
pub async fn read(app: &App, file: &FileRecord) -> AppResult<(ContentStream, u64)> {
    let path = ObjectPath::from(file.storage_path.as_str());
    match app.files.store.get(&path).await {
        Ok(r) => Ok((
            match r.payload {
                // A local file: read in large chunks (object_store's own stream reads 8 KiB at a
                // time, each on the blocking pool).
                object_store::GetResultPayload::File(file, _) => local_chunks(file),
                object_store::GetResultPayload::Stream(s) => s,
            },
            r.meta.size,
        )),
        Err(object_store::Error::NotFound { .. }) => Err(AppError::not_found("File content")),
        Err(e) => Err(storage_error(e)),
    }
}

/// A failure of the file storage: 500, logged with its cause at the edge.
pub fn storage_error(e: object_store::Error) -> AppError {
    AppError::Internal(format!("file storage: {e}"))
}

/// 413 `PAYLOAD_TOO_LARGE` naming the upload limit.
pub fn too_large(app: &App) -> AppError {
    AppError::new(
        413,
        "PAYLOAD_TOO_LARGE",
        format!(
            "Uploads are limited to {} bytes",
            app.files.max_upload_bytes
        ),
    )
}

/// The file `file_id` of the caller's unit. Errors: 404 `NOT_FOUND`.
pub async fn get(app: &App, ctx: &TenantContext, file_id: &str) -> AppResult<FileRecord> {
    let mut c = app.db.read().await?;
    files::get(&mut c, &ctx.tenant_id, file_id, false)
        .await?
        .ok_or_else(|| AppError::not_found("File"))
}

/// A page of listFiles: the files, and the limit and offset applied.
#[derive(Debug, Clone)]
pub struct FileList {
    /// Newest first.
    pub files: Vec<FileRecord>,
    /// Items per page, 1–100.
    pub limit: u64,
    /// Files skipped.
    pub offset: u64,
    /// The `orderId` filter, as given.
    pub order_id: Option<String>,
    /// The `type` filter, as given.
    pub file_type: Option<String>,
}

const FILE_TYPES: [&str; 4] = ["contract", "invoice", "document", "attachment"];

/// listFiles (SPEC §2.9): filters `orderId`, `type`, `customerId`; `limit` (default 50, 1–100) and
/// `offset` (default 0); newest first. Errors: 400 `VALIDATION_ERROR` for a bad `limit`, `offset`
/// or `type`.
pub async fn list(app: &App, ctx: &TenantContext, q: &Query) -> AppResult<FileList> {
    let number = |key: &str, default: u64, min: u64, max: u64| -> AppResult<u64> {
        match q.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    AppError::field(
                        key,
                        "invalid_number",
                        format!("Expected an integer {min}–{max}"),
                    )
                }),
        }
    };
    let limit = number("limit", 50, 1, 100)?;
    let offset = number("offset", 0, 0, 1_000_000)?;
    let file_type = crate::list::text_filter(q, "type");
    if let Some(t) = &file_type
        && !FILE_TYPES.contains(&t.as_str())
    {
        return Err(AppError::field(
            "type",
            "invalid_enum_value",
            format!("type must be one of: {}", FILE_TYPES.join(", ")),
        ));
    }
    let filter = FileFilter {
        order_id: crate::list::text_filter(q, "orderId"),
        file_type: file_type.clone(),
        customer_id: crate::list::text_filter(q, "customerId"),
    };
    let mut c = app.db.read().await?;
    let found = files::list(&mut c, &ctx.tenant_id, &filter, limit, offset).await?;
    Ok(FileList {
        files: found,
        limit,
        offset,
        order_id: filter.order_id,
        file_type,
    })
}

/// deleteFile (SPEC §2.9): removes the record; with `deleteFromStorage` (default `true`) first the
/// stored object. Errors: 404 `NOT_FOUND`; 400 `VALIDATION_ERROR` for a non-boolean flag; 500
/// `DELETE_FAILED` when the storage refuses, and the record is kept so the delete can be retried.
pub async fn delete(app: &App, ctx: &TenantContext, file_id: &str, body: &Value) -> AppResult<()> {
    let from_storage = match body {
        Value::Null => true,
        _ => match body_object(body)?.get("deleteFromStorage") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(AppError::field(
                    "deleteFromStorage",
                    "invalid_type",
                    "Expected a boolean",
                ));
            }
        },
    };
    let mut c = app.begin().await?;
    let file = files::get(&mut c, &ctx.tenant_id, file_id, true)
        .await?
        .ok_or_else(|| AppError::not_found("File"))?;
    if from_storage {
        match app
            .files
            .store
            .delete(&ObjectPath::from(file.storage_path.as_str()))
            .await
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => {
                tracing::error!(error = %e, file = file_id, "file storage refused a delete");
                return Err(AppError::new(
                    500,
                    "DELETE_FAILED",
                    "The stored file could not be removed; the record is kept, retry the delete",
                ));
            }
        }
    }
    files::delete(&mut c, &ctx.tenant_id, file_id).await?;
    c.commit().await?;
    Ok(())
}

/// A file name safe as the last segment of an object key: path separators and control characters
/// become `_`, at most 200 characters; empty becomes `file`.
pub fn safe_filename(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .take(200)
        .collect();
    match cleaned.trim_matches('.') {
        "" => "file".to_string(),
        _ => cleaned,
    }
}

/// What a new file record is made from.
pub struct NewFile<'a> {
    /// The linked order (and so its customer), if any.
    pub order: Option<&'a flexportal_store::orders::OrderRecord>,
    /// `contract`, `invoice`, `document` or `attachment`.
    pub file_type: &'a str,
    /// `generated` or `uploaded`.
    pub category: &'a str,
    /// The name to store (made safe by [`safe_filename`]).
    pub filename: &'a str,
    /// MIME type.
    pub content_type: &'a str,
    /// Free object (`customerId` links a customer when there is no order).
    pub metadata: Map<String, Value>,
    /// Bytes of content already known (a generated file); 0 for content to follow.
    pub file_size: i64,
    /// An id chosen beforehand (an automatic contract's, so that every attempt writes the same
    /// object); `None` for a new one.
    pub file_id: Option<&'a str>,
}

/// The object key of a file: `tenants/<tenantId>/files/<fileId>/<filename>` (SPEC §2.9,
/// Recommended), `filename` as [`safe_filename`] made it and then as [`key_segment`] makes it.
pub fn storage_path(tenant_id: &str, file_id: &str, filename: &str) -> String {
    format!(
        "tenants/{tenant_id}/files/{file_id}/{}",
        key_segment(filename)
    )
}

/// Longest last segment of an object key as the local store names its file, in bytes: a file
/// system names a file in at most 255, and the local store adds a suffix while it writes.
const KEY_SEGMENT_BYTES: usize = 200;

/// A file name as the last segment of an object key. The ASCII characters that object stores
/// percent-encode (`\`, `{`, `}`, `^`, `%`, `[`, `]`, `"`, `<`, `>`, `~`, `#`, `|`, `*`, `?`, the
/// backquote and control characters) become `_`. The local store also names its file with every
/// other character but letters, digits, `-`, `.` and `_` percent-encoded, three bytes for each
/// byte (an `é` takes six), so a name whose file name would pass [`KEY_SEGMENT_BYTES`] is cut
/// at a character boundary, keeping an extension of up to 16 bytes. The file's `filename` keeps
/// the name as sent.
pub fn key_segment(filename: &str) -> String {
    let key: String = filename
        .chars()
        .map(|c| match c {
            '\\' | '{' | '}' | '^' | '%' | '`' | '[' | ']' | '"' | '<' | '>' | '~' | '#' | '|'
            | '*' | '?' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let on_disk = |s: &str| -> usize {
        s.chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '.' | '_' => 1,
                c => 3 * c.len_utf8(),
            })
            .sum()
    };
    if on_disk(&key) <= KEY_SEGMENT_BYTES {
        return key;
    }
    let ext = key
        .rfind('.')
        .filter(|&i| i > 0 && on_disk(&key[i..]) <= 16)
        .map_or("", |i| &key[i..]);
    let mut budget = KEY_SEGMENT_BYTES - on_disk(ext);
    let mut out = String::with_capacity(KEY_SEGMENT_BYTES);
    for c in key[..key.len() - ext.len()].chars() {
        let cost = on_disk(c.encode_utf8(&mut [0; 4]));
        if cost > budget {
            break;
        }
        budget -= cost;
        out.push(c);
    }
    out.push_str(ext);
    out
}

/// Creates a file record for the caller's unit: the order links it (and its customer), the object
/// key is `tenants/<tenantId>/files/<fileId>/<filename>`.
pub async fn create_record(
    c: &mut flexportal_store::Conn,
    app: &App,
    ctx: &TenantContext,
    new: NewFile<'_>,
) -> AppResult<FileRecord> {
    let NewFile {
        order,
        file_type,
        category,
        filename,
        content_type,
        metadata,
        file_size,
        file_id,
    } = new;
    let now = app.now();
    let file_id = file_id.map_or_else(|| new_id("file", now), String::from);
    let filename = safe_filename(filename);
    let storage_path = storage_path(&ctx.tenant_id, &file_id, &filename);
    let customer_id = order.map(|o| o.customer_id.clone()).or_else(|| {
        metadata
            .get("customerId")
            .and_then(Value::as_str)
            .map(String::from)
    });
    let f = FileRecord {
        tenant_id: ctx.tenant_id.clone(),
        storage_path,
        file_id,
        order_id: order.map(|o| o.order_id.clone()).unwrap_or_default(),
        customer_id,
        file_type: file_type.to_string(),
        category: category.to_string(),
        original_filename: (category == "uploaded").then(|| filename.clone()),
        filename,
        content_type: content_type.to_string(),
        file_size,
        uploaded_by: ctx.actor.user_id.clone(),
        metadata: Value::Object(metadata).to_string(),
        created_at: now,
        updated_at: now,
    };
    files::insert(c, &f).await?;
    Ok(f)
}

/// getFileUrl (SPEC §2.9): `action` `view` (default), `download` or `upload`; `expiresInMinutes`
/// 1–1440 (default 60). View and download need `fileId` (404 `NOT_FOUND` when unknown). Upload
/// needs `fileName` and `contentType` (one of [`UPLOAD_TYPES`]), takes `orderId` (400
/// `ORDER_NOT_FOUND` when unknown) and `type` (default `document`), and creates the file record
/// (`uploaded`, size 0). Errors: 400 `VALIDATION_ERROR` naming each bad field.
pub async fn url(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<SignedUrl> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = crate::input::Fields::new(obj, "", &mut errors);
    let action = match f.raw("action") {
        None => Some(Action::View),
        Some(Value::String(s)) => Action::parse(s).or_else(|| {
            f.fail(
                "action",
                "invalid_enum_value",
                "action must be one of: view, download, upload",
            );
            None
        }),
        Some(_) => {
            f.fail("action", "invalid_type", "Expected a string");
            None
        }
    };
    let minutes = match f.raw("expiresInMinutes") {
        None => 60,
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .filter(|m| (1..=1440).contains(m))
        {
            Some(m) => m,
            None => {
                f.fail(
                    "expiresInMinutes",
                    "invalid_number",
                    "Expected an integer 1–1440",
                );
                60
            }
        },
    };
    let file_id = f.opt_text("fileId", 200);
    let (file_name, content_type, order_id, file_type) = if action == Some(Action::Upload) {
        let name = f.req_text("fileName", 255);
        let ct = f.req_text("contentType", 255);
        if let Some(t) = &ct
            && !UPLOAD_TYPES.contains(&t.as_str())
        {
            f.fail(
                "contentType",
                "invalid_enum_value",
                format!("contentType must be one of: {}", UPLOAD_TYPES.join(", ")),
            );
        }
        let ty = f
            .opt_enum("type", "contract, invoice, document, attachment", |s| {
                FILE_TYPES.contains(&s).then(|| s.to_string())
            })
            .unwrap_or_else(|| "document".to_string());
        (name, ct, f.opt_text("orderId", 200), ty)
    } else {
        if file_id.is_none() {
            f.fail("fileId", "required", "Required");
        }
        (None, None, None, String::new())
    };
    crate::input::check(errors)?;
    let action = action.unwrap_or(Action::View);
    if action != Action::Upload {
        let file = get(app, ctx, file_id.as_deref().unwrap_or_default()).await?;
        return signed_url(app, file, action, minutes).await;
    }
    let mut c = app.begin().await?;
    let order = match &order_id {
        None => None,
        Some(id) => Some(
            flexportal_store::orders::get(&mut c, &ctx.tenant_id, id, false)
                .await?
                .ok_or_else(|| AppError::bad_request("ORDER_NOT_FOUND", "Order not found"))?,
        ),
    };
    let file = create_record(
        &mut c,
        app,
        ctx,
        NewFile {
            order: order.as_ref(),
            file_type: &file_type,
            category: "uploaded",
            filename: file_name.as_deref().unwrap_or("file"),
            content_type: content_type
                .as_deref()
                .unwrap_or("application/octet-stream"),
            metadata: Map::new(),
            file_size: 0,
            file_id: None,
        },
    )
    .await?;
    c.commit().await?;
    signed_url(app, file, Action::Upload, minutes).await
}
