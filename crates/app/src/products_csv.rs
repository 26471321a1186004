//! Bulk product import from CSV (SPEC §2.2, `POST /v1/products/csv`, importProductsCSV).
//!
//! Two steps: [`parse`] is pure (bytes → per-product groups of valid rows plus row errors) and
//! [`import`] upserts each group through the same rules as createProduct, all in one transaction.
//! File-level failures (empty, not UTF-8, missing required column, more than [`MAX_CSV_ROWS`]
//! data rows) are 400 `VALIDATION_ERROR` and import nothing; row failures are collected and the
//! import continues.

use std::collections::{HashMap, HashSet};

use crate::AppError;
use flexportal_domain::DomainError;
use flexportal_domain::money::{AmountError, parse_amount};
use flexportal_domain::pricing::PricingTier;
use flexportal_domain::status::Grade;
use flexportal_store::{products, variants};

use crate::input::{MAX_SHORT, Patch};
use crate::products::{ProductInput, VariantInput};
use crate::{App, AppResult, TenantContext};
use flexportal_store::Conn;

/// Most data rows (header not counted) accepted in one import (SPEC §2.2); more is 400
/// `VALIDATION_ERROR` and nothing is imported.
pub const MAX_CSV_ROWS: usize = 10_000;

/// Summary of a CSV import (SPEC §2.2, the page's `summary` object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvImportOutcome {
    /// Data rows in the file (header and all-blank rows not counted).
    pub total_rows: u64,
    /// Products inserted (upsert operation `created`).
    pub products_created: u64,
    /// Existing products updated (upsert operation `updated`).
    pub products_updated: u64,
    /// Variants inserted.
    pub variants_created: u64,
    /// Existing variants updated.
    pub variants_updated: u64,
    /// One entry per failed row, ordered by row number.
    pub errors: Vec<CsvRowError>,
}

/// A row that was not imported, and why (SPEC §2.2 `summary.errors[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRowError {
    /// 1-based data row number (the header row is not counted).
    pub row: u64,
    /// The row's `Variant SKU`, when it has one (its first [`MAX_SHORT`] characters and `…` when
    /// longer).
    pub sku: Option<String>,
    /// Human text; several problems of one row are joined with `"; "`.
    pub error: String,
}

/// Product-level fields of one row (`Product Name`, `Category`, `Brand`, `Specification`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvProductFields {
    /// `Product Name`.
    pub name: String,
    /// `Category`.
    pub category: String,
    /// `Brand`.
    pub brand: String,
    /// `Specification` (also the variant name).
    pub specification: String,
}

/// One valid data row: its product fields and the variant it describes (money in minor units).
#[derive(Debug, Clone)]
pub struct CsvVariantRow {
    /// 1-based data row number.
    pub row: u64,
    /// Product-level fields as written on this row.
    pub product: CsvProductFields,
    /// The variant: SKU, name (= `Specification`), grade, colour, list price, acquisition cost
    /// and the filled price columns as tiers.
    pub variant: VariantInput,
}

/// The valid rows sharing one `Product SKU`, in file order.
#[derive(Debug, Clone)]
pub struct CsvProductGroup {
    /// `Product SKU`.
    pub product_sku: String,
    /// Its rows (at least one).
    pub rows: Vec<CsvVariantRow>,
}

/// Result of [`parse`]: groups in order of first appearance, and the row errors found without
/// the database.
#[derive(Debug, Clone)]
pub struct ParsedCsv {
    /// Data rows (header and all-blank rows not counted).
    pub total_rows: u64,
    /// Products to upsert.
    pub products: Vec<CsvProductGroup>,
    /// Rows rejected while parsing, ordered by row number.
    pub errors: Vec<CsvRowError>,
}

/// Canonical column names; the first [`REQUIRED`] are required.
const COLUMNS: [&str; 14] = [
    "Product Name",
    "Product SKU",
    "Category",
    "Brand",
    "Specification",
    "Variant SKU",
    "List Price",
    "Acquisition Cost",
    "Grade",
    "Color",
    "6mo_Price",
    "12mo_Price",
    "24mo_Price",
    "36mo_Price",
];
const REQUIRED: usize = 8;
const PRODUCT_NAME: usize = 0;
const PRODUCT_SKU: usize = 1;
const CATEGORY: usize = 2;
const BRAND: usize = 3;
const SPECIFICATION: usize = 4;
const VARIANT_SKU: usize = 5;
const LIST_PRICE: usize = 6;
const ACQUISITION_COST: usize = 7;
const GRADE: usize = 8;
const COLOR: usize = 9;
/// Price columns and their contract length in months.
const PRICE_COLUMNS: [(usize, i64); 4] = [(10, 6), (11, 12), (12, 24), (13, 36)];

/// The multipart field of the file, used as the error path of file-level failures.
const FILE_FIELD: &str = "csvFile";

fn file_error(code: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::field(FILE_FIELD, code, message)
}

/// Positions of the known columns in the header (first occurrence wins).
fn match_header(header: &csv::StringRecord) -> Result<[Option<usize>; 14], DomainError> {
    let mut pos = [None; 14];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_lowercase();
        if let Some(c) = COLUMNS.iter().position(|col| col.to_lowercase() == name)
            && pos[c].is_none()
        {
            pos[c] = Some(i);
        }
    }
    let missing: Vec<&str> = (0..REQUIRED)
        .filter(|&c| pos[c].is_none())
        .map(|c| COLUMNS[c])
        .collect();
    if missing.is_empty() {
        Ok(pos)
    } else {
        Err(file_error(
            "required",
            format!("Missing required column(s): {}", missing.join(", ")),
        ))
    }
}

/// One data record read through the header positions.
struct Row<'a> {
    record: &'a csv::StringRecord,
    pos: &'a [Option<usize>; 14],
}

impl Row<'_> {
    /// The trimmed value of column `c`; blank, short rows and absent columns read as `None`.
    fn get(&self, c: usize) -> Option<&str> {
        self.pos[c]
            .and_then(|p| self.record.get(p))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn is_blank(&self) -> bool {
        self.record.iter().all(|f| f.trim().is_empty())
    }
}

/// A required text column: missing or too long values add a problem.
fn required_text(row: &Row<'_>, c: usize, problems: &mut Vec<String>) -> Option<String> {
    match row.get(c) {
        None => {
            problems.push(format!("Missing required value: {}", COLUMNS[c]));
            None
        }
        Some(v) => text_of(v, c, problems),
    }
}

/// A cell as a row error echoes it: at most [`MAX_SHORT`] characters, a longer one cut and ended
/// with `…`, so that a report's size is bounded by its rows and not by a cell's size.
fn echoed(v: &str) -> String {
    match v.char_indices().nth(MAX_SHORT) {
        Some((cut, _)) => format!("{}…", &v[..cut]),
        None => v.to_string(),
    }
}

fn text_of(v: &str, c: usize, problems: &mut Vec<String>) -> Option<String> {
    if v.chars().count() > MAX_SHORT {
        problems.push(format!(
            "Invalid {}: must be at most {MAX_SHORT} characters",
            COLUMNS[c]
        ));
        None
    } else {
        Some(v.to_string())
    }
}

/// `List Price` / `Acquisition Cost`: required, exact decimal, > 0, in minor units.
fn positive_amount(
    row: &Row<'_>,
    c: usize,
    exponent: u32,
    problems: &mut Vec<String>,
) -> Option<i64> {
    let Some(text) = row.get(c) else {
        problems.push(format!("Missing required value: {}", COLUMNS[c]));
        return None;
    };
    match parse_amount(text, exponent) {
        Ok(v) if v > 0 => Some(v),
        Err(AmountError::TooLarge) => {
            problems.push(format!("Invalid {}: amount is too large", COLUMNS[c]));
            None
        }
        _ => {
            problems.push(format!("Invalid {}: must be a positive number", COLUMNS[c]));
            None
        }
    }
}

/// The filled price columns as manual tiers (monthly price ≥ 0, as in createProduct).
fn tiers(row: &Row<'_>, exponent: u32, problems: &mut Vec<String>) -> Vec<PricingTier> {
    let mut out = Vec::new();
    let mut filled = false;
    for (c, months) in PRICE_COLUMNS {
        let Some(text) = row.get(c) else { continue };
        filled = true;
        match parse_amount(text, exponent) {
            Ok(v) if v >= 0 => out.push(PricingTier {
                contract_length: months,
                monthly_price: v,
                setup_fee: None,
                discount: None,
                source: "manual".into(),
                calculated_at: None,
                preset_used: None,
            }),
            Err(AmountError::TooLarge) => {
                problems.push(format!("Invalid {}: amount is too large", COLUMNS[c]));
            }
            _ => problems.push(format!(
                "Invalid {}: must be a number, zero or more",
                COLUMNS[c]
            )),
        }
    }
    if !filled {
        problems.push("At least one price column is required".to_string());
    }
    out
}

/// Reads one data row; `Err` holds its problems (at least one).
fn parse_row(row: &Row<'_>, number: u64, exponent: u32) -> Result<CsvVariantRow, Vec<String>> {
    let mut problems = Vec::new();
    let name = required_text(row, PRODUCT_NAME, &mut problems);
    let _product_sku = required_text(row, PRODUCT_SKU, &mut problems);
    let category = required_text(row, CATEGORY, &mut problems);
    let brand = required_text(row, BRAND, &mut problems);
    let specification = required_text(row, SPECIFICATION, &mut problems);
    let sku = required_text(row, VARIANT_SKU, &mut problems);
    let list_price = positive_amount(row, LIST_PRICE, exponent, &mut problems);
    let acquisition_cost = positive_amount(row, ACQUISITION_COST, exponent, &mut problems);
    let grade = match row.get(GRADE) {
        None => Some(Grade::A),
        Some(g) => {
            let parsed = Grade::parse_lenient(g);
            if parsed.is_none() {
                problems.push("Invalid Grade: must be one of A, B, C, D, E".to_string());
            }
            parsed
        }
    };
    let color = row
        .get(COLOR)
        .and_then(|v| text_of(v, COLOR, &mut problems));
    let pricing = tiers(row, exponent, &mut problems);
    match (
        name,
        category,
        brand,
        specification,
        sku,
        list_price,
        acquisition_cost,
        grade,
    ) {
        (Some(name), Some(category), Some(brand), Some(spec), Some(sku), Some(lp), Some(ac), g)
            if problems.is_empty() =>
        {
            Ok(CsvVariantRow {
                row: number,
                product: CsvProductFields {
                    name,
                    category,
                    brand,
                    specification: spec.clone(),
                },
                variant: VariantInput {
                    index: 0,
                    sku,
                    name: Some(spec),
                    grade: g,
                    condition: Patch::Absent,
                    color: color.map_or(Patch::Absent, Patch::Value),
                    images: None,
                    list_price: Patch::Value(lp),
                    acquisition_cost: Patch::Value(ac),
                    pricing: Some(pricing),
                    status: None,
                },
            })
        }
        _ => Err(problems),
    }
}

/// Parses a CSV file (SPEC §2.2): UTF-8 with an optional BOM, a header row matched
/// case-insensitively after trimming (any order, unknown columns ignored), RFC 4180 quoting,
/// short rows read as blank values. Money is parsed exactly into minor units with `exponent`
/// decimals.
///
/// Rows are numbered from 1 after the header; all-blank rows keep their number but are neither
/// counted nor reported. Valid rows are grouped by `Product SKU` in order of first appearance; a
/// `Variant SKU` already used by an earlier valid row is a row error.
///
/// Errors (400 `VALIDATION_ERROR`, path `csvFile`): empty file, invalid UTF-8 or CSV, missing
/// required column, no data rows, more than [`MAX_CSV_ROWS`] data rows.
pub fn parse(bytes: &[u8], exponent: u32) -> Result<ParsedCsv, DomainError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| file_error("invalid_string", "CSV file is not valid UTF-8"))?;
    if text.trim().is_empty() {
        return Err(file_error("required", "CSV file is empty"));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let unparsable = |e: csv::Error| file_error("invalid_string", format!("Invalid CSV file: {e}"));
    let mut records = reader.records();
    let mut pos = None;
    for record in records.by_ref() {
        let record = record.map_err(unparsable)?;
        if !record.iter().all(|f| f.trim().is_empty()) {
            pos = Some(match_header(&record)?);
            break;
        }
    }
    let Some(pos) = pos else {
        return Err(file_error("required", "CSV file is empty"));
    };

    let mut total_rows: u64 = 0;
    let mut number: u64 = 0;
    let mut errors = Vec::new();
    let mut products: Vec<CsvProductGroup> = Vec::new();
    let mut by_product: HashMap<String, usize> = HashMap::new();
    let mut variant_skus: HashSet<String> = HashSet::new();
    for record in records {
        let record = record.map_err(unparsable)?;
        number += 1;
        let row = Row {
            record: &record,
            pos: &pos,
        };
        if row.is_blank() {
            continue;
        }
        total_rows += 1;
        if total_rows > MAX_CSV_ROWS as u64 {
            return Err(file_error(
                "too_big",
                format!("CSV file has more than {MAX_CSV_ROWS} data rows"),
            ));
        }
        let sku = row.get(VARIANT_SKU).map(echoed);
        let parsed = match parse_row(&row, number, exponent) {
            Ok(p) => p,
            Err(problems) => {
                errors.push(CsvRowError {
                    row: number,
                    sku,
                    error: problems.join("; "),
                });
                continue;
            }
        };
        if !variant_skus.insert(parsed.variant.sku.clone()) {
            errors.push(CsvRowError {
                row: number,
                sku,
                error: "Duplicate Variant SKU in file".to_string(),
            });
            continue;
        }
        let product_sku = row.get(PRODUCT_SKU).unwrap_or_default().to_string();
        match by_product.get(&product_sku) {
            Some(&i) => products[i].rows.push(parsed),
            None => {
                by_product.insert(product_sku.clone(), products.len());
                products.push(CsvProductGroup {
                    product_sku,
                    rows: vec![parsed],
                });
            }
        }
    }
    if total_rows == 0 {
        return Err(file_error("too_small", "CSV file has no data rows"));
    }
    Ok(ParsedCsv {
        total_rows,
        products,
        errors,
    })
}

/// importProductsCSV (SPEC §2.2): parses the file, then upserts each product (by `Product SKU`)
/// and its variants (by `Variant SKU`, pricing merged by contract length) in one transaction.
///
/// Product-level fields come from the first imported row of each product; `Specification` is the
/// variant name and, for a new product, the product specification. A variant SKU owned by another
/// product is a row error ("Variant SKU already exists on different product"); a product whose
/// upsert is refused with a 4xx error turns into row errors for its rows.
///
/// Errors: 400 `VALIDATION_ERROR` for file-level failures (see [`parse`]), 500 on storage
/// failure (nothing imported in both cases).
pub async fn import(app: &App, ctx: &TenantContext, bytes: &[u8]) -> AppResult<CsvImportOutcome> {
    let parsed = parse(bytes, ctx.exponent())?;
    crate::transact!(app, |tx| import_in(tx, ctx, &parsed, app.now()))
}

/// importProductsCSV in an open transaction, for a parsed file. Each product is written under a
/// savepoint, so a product refused half-way leaves nothing behind.
pub async fn import_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    parsed: &ParsedCsv,
    now: i64,
) -> AppResult<CsvImportOutcome> {
    let tenant = ctx.tenant_id.as_str();
    let mut out = CsvImportOutcome {
        total_rows: parsed.total_rows,
        ..CsvImportOutcome::default()
    };
    let mut errors = parsed.errors.clone();
    let row_error = |r: &CsvVariantRow, error: String| CsvRowError {
        row: r.row,
        sku: Some(r.variant.sku.clone()),
        error,
    };
    for group in &parsed.products {
        // The lock of `products::create_in`, taken before the product and its variants are read.
        tx.lock_key(tenant, &format!("product:{}", group.product_sku))
            .await?;
        let existing = products::get_by_sku(tx, tenant, &group.product_sku).await?;
        let skus: Vec<String> = group.rows.iter().map(|r| r.variant.sku.clone()).collect();
        let stored = variants::by_skus(tx, tenant, &skus).await?;
        let owner = existing.as_ref().map(|p| p.product_id.as_str());
        let foreign: HashSet<&str> = stored
            .iter()
            .filter(|v| Some(v.product_id.as_str()) != owner)
            .map(|v| v.variant_sku.as_str())
            .collect();
        let (rows, refused): (Vec<&CsvVariantRow>, Vec<&CsvVariantRow>) = group
            .rows
            .iter()
            .partition(|r| !foreign.contains(r.variant.sku.as_str()));
        for r in &refused {
            errors.push(row_error(
                r,
                "Variant SKU already exists on different product".to_string(),
            ));
        }
        let Some(first) = rows.first() else { continue };
        let fields = &first.product;
        let input = ProductInput {
            product_sku: Some(group.product_sku.clone()),
            name: Some(fields.name.clone()),
            specification: existing.is_none().then(|| fields.specification.clone()),
            category: Some(fields.category.clone()),
            brand: Some(fields.brand.clone()),
            description: Patch::Absent,
            images: None,
            status: None,
            variants: rows
                .iter()
                .enumerate()
                .map(|(index, r)| VariantInput {
                    index,
                    ..r.variant.clone()
                })
                .collect(),
        };
        tx.batch("SAVEPOINT csv_product").await?;
        match crate::products::create_in(tx, ctx, &input, now).await {
            Ok(outcome) => {
                tx.batch("RELEASE SAVEPOINT csv_product").await?;
                match outcome.operation {
                    "created" => out.products_created += 1,
                    _ => out.products_updated += 1,
                }
                for (_, op) in &outcome.variant_results {
                    match *op {
                        "create" => out.variants_created += 1,
                        _ => out.variants_updated += 1,
                    }
                }
            }
            Err(AppError::Rejected(e)) => {
                tx.batch("ROLLBACK TO SAVEPOINT csv_product").await?;
                for r in &rows {
                    errors.push(row_error(r, e.message.clone()));
                }
            }
            Err(e) => return Err(e),
        }
    }
    errors.sort_by_key(|e| e.row);
    out.errors = errors;
    Ok(out)
}

#[cfg(test)]
#[path = "products_csv_tests.rs"]
mod tests;
