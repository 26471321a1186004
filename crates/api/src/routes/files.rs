//! `/v1/files` (SPEC §2.9) and the signed content URLs `/files/{fileId}/content`.

use crate::json::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use flexportal_app::files::{self as uc, Action, SignedUrl};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params, read_limited};
use crate::model::files::{
    ContractGenerated, DeleteFileBody, File, FileDeleted, FileFilters, FileList, FileListQuery,
    FileUrl, FileUrlBody, GenerateContractBody,
};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The file operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(url))
        .routes(routes!(generate_contract))
        .routes(routes!(get, delete))
}

/// listFiles: newest first, offset pages.
#[utoipa::path(
    get, path = "/v1/files", operation_id = "listFiles", tag = "Files",
    summary = "List files",
    description = "Returns a list of files with optional filtering by order or type.",
    params(FileListQuery, TenantHeader),
    responses(
        (status = 200, description = "List of files", body = FileList),
        (status = 400, description = "Invalid `limit`, `offset` or `type`", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<FileList>, ApiError> {
    let page = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(FileList {
        count: page.files.len(),
        files: page.files.iter().map(File::new).collect(),
        limit: page.limit,
        offset: page.offset,
        filters: FileFilters {
            order_id: page.order_id,
            file_type: page.file_type,
        },
    }))
}

/// getFile: metadata only.
#[utoipa::path(
    get, path = "/v1/files/{fileId}", operation_id = "getFile", tag = "Files",
    summary = "Get file metadata",
    description = "Retrieves metadata for a specific file. Does not return the file content.",
    params(("fileId" = String, Path, description = "The file ID"), TenantHeader),
    responses(
        (status = 200, description = "File metadata", body = File),
        (status = 404, description = "File not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<File>, ApiError> {
    Ok(Json(File::new(&uc::get(&s.app, &ctx, &id).await?)))
}

/// deleteFile: the record always, the stored object unless `deleteFromStorage` is `false`.
#[utoipa::path(
    delete, path = "/v1/files/{fileId}", operation_id = "deleteFile", tag = "Files",
    summary = "Delete a file",
    description = "Deletes a file record and optionally removes from storage.",
    params(("fileId" = String, Path, description = "The file ID"), TenantHeader),
    request_body = DeleteFileBody,
    responses(
        (status = 200, description = "File deleted", body = FileDeleted),
        (status = 404, description = "File not found", body = ErrorEnvelope),
        (status = 500, description = "The storage refused (`DELETE_FAILED`); the record is kept",
            body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<FileDeleted>, ApiError> {
    uc::delete(&s.app, &ctx, &id, &body).await?;
    Ok(Json(FileDeleted {
        success: true,
        message: "File deleted",
        file_id: id,
    }))
}

/// The server's base URL for signed links: `FLEXPORTAL_PUBLIC_URL`, else `http://<Host>`.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    if let Ok(u) = std::env::var("FLEXPORTAL_PUBLIC_URL")
        && !u.trim().is_empty()
    {
        return u.trim().trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

/// The wire form of a signed URL.
pub(crate) fn file_url(headers: &HeaderMap, signed: SignedUrl, upload: bool) -> FileUrl {
    FileUrl {
        success: true,
        url: format!("{}{}", base_url(headers), signed.path_and_query),
        filename: signed.file.filename.clone(),
        content_type: signed.file.content_type.clone(),
        file_size: signed.file.file_size,
        expires_at: signed.expires_at,
        file_id: upload.then(|| signed.file.file_id.clone()),
    }
}

/// getFileUrl: a signed, expiring URL to view, download or upload a file.
#[utoipa::path(
    post, path = "/v1/files/url", operation_id = "getFileUrl", tag = "Files",
    summary = "Get secure file URL",
    description = "Generates a signed URL for viewing or downloading a file, or for uploading a \
        new one (`action: upload` with `fileName` and `contentType`). URLs expire after the \
        specified time.",
    params(TenantHeader),
    request_body = FileUrlBody,
    responses(
        (status = 200, description = "Signed URL generated", body = FileUrl),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`) or unknown order \
            (`ORDER_NOT_FOUND`)", body = ErrorEnvelope),
        (status = 404, description = "File not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn url(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Json<FileUrl>, ApiError> {
    let upload = body.get("action").and_then(|a| a.as_str()) == Some("upload");
    let signed = uc::url(&s.app, &ctx, &body).await?;
    Ok(Json(file_url(&headers, signed, upload)))
}

/// generateContract: a PDF contract for an order from the unit's template, stored as a new file.
#[utoipa::path(
    post, path = "/v1/files/contracts/generate", operation_id = "generateContract", tag = "Files",
    summary = "Generate a contract",
    description = "Generates a PDF contract for an order using tenant-configured templates.",
    params(TenantHeader),
    request_body = GenerateContractBody,
    responses(
        (status = 201, description = "Contract generated", body = ContractGenerated),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`), unknown order \
            (`ORDER_NOT_FOUND`) or template (`TEMPLATE_NOT_FOUND`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn generate_contract(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<(axum::http::StatusCode, Json<ContractGenerated>), ApiError> {
    let signed = flexportal_app::contracts::generate(&s.app, &ctx, &body).await?;
    let url = file_url(&headers, signed.clone(), false);
    Ok((
        axum::http::StatusCode::CREATED,
        Json(ContractGenerated {
            success: true,
            message: "Contract generated",
            file_id: signed.file.file_id.clone(),
            order_id: signed.file.order_id.clone(),
            tenant_id: signed.file.tenant_id.clone(),
            file_name: signed.file.filename.clone(),
            download_url: url.url,
            expires_at: crate::model::Instant(signed.expires_at),
        }),
    ))
}

/// `Content-Disposition` with the file name (RFC 6266: an ASCII fallback and the UTF-8 name).
fn disposition(kind: &str, filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// `GET` (view, download) and `PUT` (upload) of a file's content through a signed URL; no API key.
pub(crate) async fn content(
    State(s): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let q: flexportal_app::list::Query =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    let method = req.method().clone();
    let (file, action) = uc::verify(&s.app, &id, method.as_str(), &q).await?;
    if method == Method::PUT {
        let limit = usize::try_from(s.app.files.max_upload_bytes).unwrap_or(usize::MAX);
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let bytes = read_limited(req, limit)
            .await
            .map_err(|_| ApiError::from(uc::too_large(&s.app)))?;
        let stored = uc::upload(&s.app, &file, content_type.as_deref(), bytes).await?;
        return Ok(Json(serde_json::json!({
            "success": true,
            "fileId": stored.file_id,
            "fileSize": stored.file_size,
        }))
        .into_response());
    }
    let (stream, size) = uc::read(&s.app, &file).await?;
    let kind = if action == Action::Download {
        "attachment"
    } else {
        "inline"
    };
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    if let Ok(ct) = HeaderValue::from_str(&file.content_type) {
        h.insert(header::CONTENT_TYPE, ct);
    }
    h.insert(
        header::CONTENT_DISPOSITION,
        disposition(kind, &file.filename),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}
