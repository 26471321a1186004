//! Files on the wire (SPEC §2.9: listFiles, getFile, deleteFile, getFileUrl).

use flexportal_store::files::FileRecord;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::Instant;

/// `generated` (made by the system) or `uploaded` (by a client).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileCategory {
    /// Made by the system (contracts, exports).
    Generated,
    /// Uploaded through a signed URL.
    Uploaded,
}

/// A file's metadata (never its content).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct File {
    /// `file_…`.
    pub file_id: String,
    /// Business unit.
    pub tenant_id: String,
    /// The linked order, `""` when none.
    pub order_id: String,
    /// `contract`, `invoice`, `document` or `attachment`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub file_type: String,
    /// Who made the file.
    pub category: FileCategory,
    /// Stored file name.
    pub filename: String,
    /// The name an upload was declared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub original_filename: Option<String>,
    /// MIME type.
    pub content_type: String,
    /// Bytes; 0 until an upload completes.
    pub file_size: i64,
    /// Object key.
    pub storage_path: String,
    /// Actor.
    pub uploaded_by: String,
    /// When the record was made.
    pub created_at: Instant,
    /// When it last changed.
    pub updated_at: Instant,
    /// Free object (`customerId`, `rentalId`, `contractType`, `templateId`).
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
}

impl File {
    /// The wire form of a stored file.
    pub fn new(f: &FileRecord) -> Self {
        File {
            file_id: f.file_id.clone(),
            tenant_id: f.tenant_id.clone(),
            order_id: f.order_id.clone(),
            file_type: f.file_type.clone(),
            category: if f.category == "generated" {
                FileCategory::Generated
            } else {
                FileCategory::Uploaded
            },
            filename: f.filename.clone(),
            original_filename: f.original_filename.clone(),
            content_type: f.content_type.clone(),
            file_size: f.file_size,
            storage_path: f.storage_path.clone(),
            uploaded_by: f.uploaded_by.clone(),
            created_at: Instant(f.created_at),
            updated_at: Instant(f.updated_at),
            metadata: serde_json::from_str(&f.metadata).unwrap_or_default(),
        }
    }
}

/// The filters a listFiles page applied.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileFilters {
    /// `orderId`, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub order_id: Option<String>,
    /// `type`, as given.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schema(rename = "type", nullable = false)]
    pub file_type: Option<String>,
}

/// listFiles: `{files, count, limit, offset, filters}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileList {
    /// Newest first.
    pub files: Vec<File>,
    /// Files on this page.
    pub count: usize,
    /// Items per page.
    pub limit: u64,
    /// Files skipped.
    pub offset: u64,
    /// Filters applied.
    pub filters: FileFilters,
}

/// Query of listFiles.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct FileListQuery {
    /// Filter by order ID.
    pub order_id: Option<String>,
    /// Filter by file type (`contract`, `invoice`, `document`, `attachment`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub file_type: Option<String>,
    /// Files of this customer (the linked order's, or `metadata.customerId`).
    pub customer_id: Option<String>,
    /// Items per page (default: 50, at most 100).
    pub limit: Option<String>,
    /// Files to skip (default 0).
    pub offset: Option<String>,
}

/// Body of deleteFile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct DeleteFileBody {
    /// Also delete from storage (default: true).
    pub delete_from_storage: Option<bool>,
}

/// deleteFile: `{success, message, fileId}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileDeleted {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The file deleted.
    pub file_id: String,
}

/// Body of getFileUrl.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct FileUrlBody {
    /// The file (required for `view` and `download`).
    #[schema(min_length = 1)]
    pub file_id: Option<String>,
    /// `view` (default), `download` or `upload`.
    pub action: Option<String>,
    /// Whole minutes, 1–1440, default 60.
    #[schema(value_type = Option<f64>, minimum = 1, maximum = 1440)]
    pub expires_in_minutes: Option<serde_json::Number>,
    /// Upload: the file name.
    pub file_name: Option<String>,
    /// Upload: the content type the `PUT` will send.
    pub content_type: Option<String>,
    /// Upload: the order to link.
    pub order_id: Option<String>,
    /// Upload: `contract`, `invoice`, `document` (default) or `attachment`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub file_type: Option<String>,
}

/// getFileUrl: the signed URL and what it serves.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileUrl {
    /// Always `true`.
    pub success: bool,
    /// The signed URL (`GET` for view and download, one `PUT` for upload).
    #[schema(format = "uri")]
    pub url: String,
    /// Stored file name.
    #[schema(min_length = 1)]
    pub filename: String,
    /// MIME type.
    #[schema(min_length = 1)]
    pub content_type: String,
    /// Bytes (0 for an upload to come).
    pub file_size: i64,
    /// Expiry, Unix epoch milliseconds.
    pub expires_at: i64,
    /// Upload: the new file's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub file_id: Option<String>,
}

/// Body of generateContract.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct GenerateContractBody {
    /// The order (must exist, else `ORDER_NOT_FOUND`).
    #[schema(min_length = 1)]
    pub order_id: String,
    /// `order`, `extension` or `upgrade` (default from the order's type).
    pub contract_type: Option<String>,
    /// A template of the business unit (else `TEMPLATE_NOT_FOUND`); default: the unit's template
    /// named after the contract type, or the built-in one.
    pub template_id: Option<String>,
}

/// generateContract: 201 with the new file and a 60-minute download URL.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContractGenerated {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The new file.
    pub file_id: String,
    /// The order.
    pub order_id: String,
    /// Business unit.
    pub tenant_id: String,
    /// `contract-<orderId>.pdf`.
    pub file_name: String,
    /// Signed download URL, valid 60 minutes.
    #[schema(format = "uri")]
    pub download_url: String,
    /// When the URL expires.
    pub expires_at: Instant,
}
