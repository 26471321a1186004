//! Bulk registration of assets from CSV (the `flexportal import assets` command): the same rules
//! as createAsset for every row, rows written in batches, idempotent by serial number (a serial
//! that already exists is skipped, never changed).

use std::collections::HashMap;

use crate::AppError;
use flexportal_store::assets::{self, AssetRecord};
use flexportal_store::variants::{self, VariantWithProduct};
use serde_json::{Map, Value};

use crate::{App, AppResult, TenantContext};

/// Rows per transaction.
pub const CHUNK_ROWS: usize = 5_000;

/// Rows parsed between two yields to the async runtime.
const YIELD_ROWS: u64 = 256;
/// Rows per INSERT statement (19 columns each; below both engines' parameter limits).
const INSERT_ROWS: usize = 500;

/// One rejected row: 1-based data row (header not counted), its serial, code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based data row number.
    pub row: u64,
    /// The row's serial number, if it had one.
    pub serial_number: String,
    /// Error code (`VALIDATION_ERROR`, `VARIANT_NOT_FOUND`, `VARIANT_INACTIVE`, `INVALID_STATUS`).
    pub code: String,
    /// Human text.
    pub message: String,
}

/// Totals of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Data rows read.
    pub rows: u64,
    /// Assets created.
    pub created: u64,
    /// Rows whose serial number already existed (unchanged).
    pub skipped_existing: u64,
    /// Rows rejected.
    pub errors: Vec<RowError>,
}

/// Maps a header to the createAsset field it names (case, spaces and underscores ignored):
/// `serialNumber`, `sku`, `acquisitionCost`, `acquisitionDate`, `location`, `condition`, `notes`,
/// `status`.
fn field_of(header: &str) -> Option<&'static str> {
    let key: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    Some(match key.as_str() {
        "serialnumber" | "serial" => "serialNumber",
        "sku" | "variantsku" => "sku",
        "acquisitioncost" => "acquisitionCost",
        "acquisitiondate" => "acquisitionDate",
        "location" => "location",
        "condition" => "condition",
        "notes" => "notes",
        "status" => "status",
        _ => return None,
    })
}

/// Imports assets from CSV text read by `reader` into the business unit. `progress` is called
/// with the number of rows processed after each batch. Errors: 400 `VALIDATION_ERROR` when the
/// header lacks `serialNumber` or `sku` or the file is not CSV.
pub async fn import<R: std::io::Read>(
    app: &App,
    ctx: &TenantContext,
    reader: R,
    progress: &(dyn Fn(u64) + Sync),
) -> AppResult<ImportSummary> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| AppError::field("file", "invalid_string", format!("Unreadable CSV: {e}")))?
        .clone();
    let fields: Vec<Option<&'static str>> = headers.iter().map(field_of).collect();
    for required in ["serialNumber", "sku"] {
        if !fields.contains(&Some(required)) {
            return Err(AppError::field(
                required,
                "required",
                format!("The header needs a {required} column"),
            ));
        }
    }
    let mut summary = ImportSummary::default();
    let mut variant_cache: HashMap<String, Option<VariantWithProduct>> = HashMap::new();
    let mut batch: Vec<AssetRecord> = Vec::with_capacity(CHUNK_ROWS);
    let mut record = csv::StringRecord::new();
    let now = app.now();
    loop {
        let more = csv.read_record(&mut record).map_err(|e| {
            AppError::field("file", "invalid_string", format!("Unreadable CSV: {e}"))
        })?;
        if more {
            summary.rows += 1;
            let row = summary.rows;
            if row % YIELD_ROWS == 0 {
                // Parsing is CPU work on an async worker: let the requests it shares it with run.
                tokio::task::yield_now().await;
            }
            let mut obj = Map::new();
            for (i, value) in record.iter().enumerate() {
                let (Some(Some(field)), false) = (fields.get(i), value.trim().is_empty()) else {
                    continue;
                };
                let v = if *field == "acquisitionCost" {
                    value
                        .trim()
                        .parse::<serde_json::Number>()
                        .map(Value::Number)
                        .unwrap_or_else(|_| Value::String(value.into()))
                } else {
                    Value::String(value.to_string())
                };
                obj.insert(field.to_string(), v);
            }
            let serial = obj
                .get("serialNumber")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_string();
            match row_asset(app, ctx, &Value::Object(obj), &mut variant_cache, now).await {
                Ok(a) => batch.push(a),
                Err(AppError::Rejected(e)) => summary.errors.push(RowError {
                    row,
                    serial_number: serial,
                    code: e.code.to_string(),
                    message: e
                        .details
                        .first()
                        .map(|d| format!("{}: {}", d.path, d.message))
                        .unwrap_or(e.message),
                }),
                Err(e) => return Err(e),
            }
        }
        if batch.len() >= CHUNK_ROWS || (!more && !batch.is_empty()) {
            let created = write_batch(app, &batch).await?;
            summary.created += created;
            summary.skipped_existing += batch.len() as u64 - created;
            batch.clear();
            progress(summary.rows);
        }
        if !more {
            break;
        }
    }
    progress(summary.rows);
    if summary.created > 0 {
        // Fresh statistics, so list queries keep using their keyset indexes after a bulk load.
        app.db.analyze("assets").await?;
    }
    Ok(summary)
}

async fn row_asset(
    app: &App,
    ctx: &TenantContext,
    body: &Value,
    cache: &mut HashMap<String, Option<VariantWithProduct>>,
    now: i64,
) -> AppResult<AssetRecord> {
    let input = crate::assets::parse_new(body, ctx.exponent())?;
    if !cache.contains_key(&input.sku) {
        let mut c = app.db.read().await?;
        let v = variants::get_with_product(&mut c, &ctx.tenant_id, &input.sku).await?;
        cache.insert(input.sku.clone(), v);
    }
    let v = cache
        .get(&input.sku)
        .and_then(Option::as_ref)
        .ok_or_else(|| {
            AppError::bad_request(
                "VARIANT_NOT_FOUND",
                format!("No variant with SKU {}", input.sku),
            )
        })?;
    crate::assets::build(ctx, input, v, now)
}

async fn write_batch(app: &App, batch: &[AssetRecord]) -> AppResult<u64> {
    let mut tx = app.db.begin().await?;
    let mut created = 0;
    for chunk in batch.chunks(INSERT_ROWS) {
        created += assets::insert_many_skip_existing(&mut tx, chunk).await?;
    }
    tx.commit().await?;
    Ok(created)
}
