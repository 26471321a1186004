//! The rentals export on the wire (SPEC §2.10, exportRentals).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Decimal, Instant};

/// The column groups of the export, each default `true`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct IncludeFieldsBody {
    /// `customerId`, `customerEmail`, `customerName`, `company`.
    pub customer_details: Option<bool>,
    /// `sku`, `productName`, `serialNumber`.
    pub device_details: Option<bool>,
    /// `monthlyAmount`, `currency`, `totalCollected`, `acquisitionCost`, `costRecoveryPercent`.
    pub financial_details: Option<bool>,
    /// One `customField_<id>` column per custom-field key of the exported rows, sorted.
    pub custom_fields: Option<bool>,
}

/// Body of exportRentals: every field optional. Date ranges are inclusive; a date-time counts by
/// its calendar date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ExportRentalsBody {
    /// Subscriptions starting on or after this date (alias `startDateFrom`).
    #[schema(format = DateTime)]
    pub start_date: Option<String>,
    /// Subscriptions starting on or before this date (alias `startDateTo`).
    #[schema(format = DateTime)]
    pub end_date: Option<String>,
    /// Alias of `startDate`.
    pub start_date_from: Option<String>,
    /// Alias of `endDate`.
    pub start_date_to: Option<String>,
    /// Subscriptions ending on or after this date.
    pub end_date_from: Option<String>,
    /// Subscriptions ending on or before this date.
    pub end_date_to: Option<String>,
    /// Only `csv`.
    #[schema(default = "csv", pattern = "^csv$")]
    pub format: Option<String>,
    /// Column groups.
    pub include_fields: Option<IncludeFieldsBody>,
    /// One of the six subscription statuses, or `ended` for any `ended_*`.
    pub status: Option<String>,
    /// Only these customers (at most 1,000).
    pub customer_ids: Option<Vec<String>>,
    /// Only this customer (added to `customerIds`).
    pub customer_id: Option<String>,
}

/// Response of exportRentals. `csvData` is the whole CSV (header line, then one line per
/// subscription sorted by `startDate`, then `rentalId`); the body is streamed as it is written.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RentalsExport {
    /// Always `true`.
    pub success: bool,
    /// `rentals-<YYYY-MM-DD>.csv` (today in the unit's time zone).
    pub filename: String,
    /// When the export was made.
    pub generated_at: Instant,
    /// The normalised filters applied.
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    /// Signed URL of the same CSV, stored as a file of the unit; valid 60 minutes.
    #[schema(format = "uri")]
    pub download_url: String,
    /// When `downloadUrl` expires.
    pub expires_at: Instant,
    /// The CSV text.
    pub csv_data: String,
    /// Rows.
    pub total_records: i64,
    /// Rows (as `totalRecords`).
    pub total_rentals: i64,
    /// Rows (as `totalRecords`).
    pub record_count: i64,
    /// Rows with status `active`.
    pub active_rentals: i64,
    /// Σ `totalCollected` of the rows, major units.
    pub total_revenue: Decimal,
    /// Mean `monthlyAmount` of the active rows, major units; 0 without any.
    pub average_monthly_revenue: Decimal,
}
