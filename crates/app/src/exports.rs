//! The rentals export (SPEC §2.10, `POST /v1/exports/rentals` and `flexportal export rentals`):
//! a CSV of the subscriptions matching a filter, written page by page so that memory does not
//! grow with the number of rows.
//!
//! [`prepare`] validates, opens one read snapshot, counts the rows (and refuses more than the
//! caller's cap) and, when custom fields are wanted, finds their keys for the header; then
//! [`Export::next_chunk`] yields the CSV in chunks of [`PAGE`] rows (the header with the first),
//! and [`Export::summary`] the totals of the rows written. Money is written in major units with
//! the currency's decimals, percentages with one decimal, dates `YYYY-MM-DD`; quoting is RFC 4180
//! (fields with a comma, quote or line break are quoted, inner quotes doubled); lines end in LF.

use std::collections::{BTreeSet, HashMap};

use flexportal_domain::money::format_amount;
use flexportal_domain::recovery::{RecoveryInput, recovery};
use flexportal_domain::time::parse_date_input;
use flexportal_store::exports::{self, Position};
use flexportal_store::subscriptions::{SubscriptionFilter, SubscriptionRecord};
use flexportal_store::{Conn, page::Page};
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};
use crate::input::{Fields, body_object, check};
use crate::{App, TenantContext};

/// Rows read and written per chunk.
pub const PAGE: u64 = 1_000;

/// The most rows `POST /v1/exports/rentals` returns inline (SPEC §2.10, Recommended); more
/// answer 400 `VALIDATION_ERROR` asking to narrow the filters. The command line has no cap.
pub const MAX_API_ROWS: i64 = 50_000;

/// Most `customerIds` one request may name.
pub const MAX_CUSTOMER_IDS: usize = 1_000;

const STATUSES: [&str; 6] = [
    "active",
    "cancelled",
    "ended_completed",
    "ended_buyout",
    "ended_upgrade",
    "ended_early_return",
];

/// The column groups of SPEC §2.10 (`includeFields`), each on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncludeFields {
    /// `customerId`, `customerEmail`, `customerName`, `company`.
    pub customer_details: bool,
    /// `sku`, `productName`, `serialNumber`.
    pub device_details: bool,
    /// `monthlyAmount`, `currency`, `totalCollected`, `acquisitionCost`, `costRecoveryPercent`.
    pub financial_details: bool,
    /// One `customField_<id>` column per key present in any exported row, keys sorted.
    pub custom_fields: bool,
}

impl Default for IncludeFields {
    fn default() -> Self {
        IncludeFields {
            customer_details: true,
            device_details: true,
            financial_details: true,
            custom_fields: true,
        }
    }
}

/// A validated export request.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// The rows' filter (statuses, date ranges as inclusive `YYYY-MM-DD`, customers).
    pub filter: SubscriptionFilter,
    /// The `status` asked for as written (`ended` stands for the four `ended_*`).
    pub status: Option<String>,
    /// Column groups.
    pub include: IncludeFields,
}

impl ExportRequest {
    /// The normalised filters applied (the response's `filters`): `status`, `startDateFrom`,
    /// `startDateTo`, `endDateFrom`, `endDateTo`, `customerIds` where set, `format` and
    /// `includeFields` always.
    pub fn filters_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(s) = &self.status {
            m.insert("status".into(), Value::from(s.clone()));
        }
        let f = &self.filter;
        for (key, v) in [
            ("startDateFrom", &f.start_date_from),
            ("startDateTo", &f.start_date_to),
            ("endDateFrom", &f.end_date_from),
            ("endDateTo", &f.end_date_to),
        ] {
            if let Some(v) = v {
                m.insert(key.into(), Value::from(v.clone()));
            }
        }
        if !f.customer_ids.is_empty() {
            m.insert("customerIds".into(), Value::from(f.customer_ids.clone()));
        }
        m.insert("format".into(), Value::from("csv"));
        let i = self.include;
        m.insert(
            "includeFields".into(),
            serde_json::json!({
                "customerDetails": i.customer_details,
                "deviceDetails": i.device_details,
                "financialDetails": i.financial_details,
                "customFields": i.custom_fields,
            }),
        );
        Value::Object(m)
    }
}

/// A date field (`YYYY-MM-DD` or an ISO 8601 date-time, whose calendar date is taken).
fn date(f: &mut Fields, key: &str) -> Option<String> {
    match f.raw(key) {
        None => None,
        Some(Value::String(s)) => match parse_date_input(s) {
            Some(d) => Some(d.to_string()),
            None => {
                f.fail(
                    key,
                    "invalid_string",
                    "Expected a date YYYY-MM-DD or a date-time",
                );
                None
            }
        },
        Some(_) => {
            f.fail(key, "invalid_type", "Expected a string");
            None
        }
    }
}

/// One date of a range given under two names (`startDate` and its alias `startDateFrom`); both
/// given and different is a failure.
fn aliased_date(f: &mut Fields, key: &str, alias: &str) -> Option<String> {
    let a = date(f, key);
    let b = date(f, alias);
    match (a, b) {
        (Some(a), Some(b)) if a != b => {
            f.fail(alias, "invalid_string", format!("Differs from {key}"));
            None
        }
        (a, b) => a.or(b),
    }
}

fn range_order(f: &mut Fields, from: &Option<String>, to: &Option<String>, key: &str) {
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        f.fail(
            key,
            "invalid_date_range",
            format!("{key} is before the start of the range"),
        );
    }
}

/// Parses the body of exportRentals (SPEC §2.10): every field optional; `status` one of the six
/// statuses or `ended`; `startDate`/`startDateFrom`, `endDate`/`startDateTo` (range on the
/// subscription's start date), `endDateFrom`/`endDateTo` (range on its end date), all inclusive;
/// `customerIds` (array, at most [`MAX_CUSTOMER_IDS`]) and `customerId`; `format` only `csv`;
/// `includeFields` booleans. Errors: 400 `VALIDATION_ERROR` naming each bad field (wrong type,
/// unknown status or format, unreadable date, a range that ends before it starts).
pub fn parse(body: &Value) -> AppResult<ExportRequest> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let status = match f.raw("status") {
        None => None,
        Some(Value::String(s)) if s == "ended" || STATUSES.contains(&s.as_str()) => Some(s.clone()),
        Some(_) => {
            f.fail(
                "status",
                "invalid_enum_value",
                format!("status must be one of: {}, ended", STATUSES.join(", ")),
            );
            None
        }
    };
    match f.raw("format") {
        None => {}
        Some(Value::String(s)) if s == "csv" => {}
        Some(_) => f.fail("format", "invalid_enum_value", "format must be csv"),
    }
    let start_from = aliased_date(&mut f, "startDate", "startDateFrom");
    let start_to = aliased_date(&mut f, "endDate", "startDateTo");
    let end_from = date(&mut f, "endDateFrom");
    let end_to = date(&mut f, "endDateTo");
    range_order(&mut f, &start_from, &start_to, "endDate");
    range_order(&mut f, &end_from, &end_to, "endDateTo");
    let mut customer_ids: Vec<String> = Vec::new();
    match f.raw("customerIds") {
        None => {}
        Some(Value::Array(items)) => {
            if items.len() > MAX_CUSTOMER_IDS {
                f.fail(
                    "customerIds",
                    "too_big",
                    format!("At most {MAX_CUSTOMER_IDS} customer ids"),
                );
            }
            for (i, v) in items.iter().enumerate() {
                match v.as_str() {
                    Some(s) if !s.trim().is_empty() => customer_ids.push(s.trim().to_string()),
                    _ => f.fail(
                        &format!("customerIds.{i}"),
                        "invalid_type",
                        "Expected a customer id",
                    ),
                }
            }
        }
        Some(_) => f.fail(
            "customerIds",
            "invalid_type",
            "Expected an array of customer ids",
        ),
    }
    if let Some(id) = f.opt_text("customerId", 200) {
        customer_ids.push(id);
    }
    customer_ids.sort();
    customer_ids.dedup();
    let mut include = IncludeFields::default();
    match f.raw("includeFields") {
        None => {}
        Some(Value::Object(groups)) => {
            for (key, slot) in [
                ("customerDetails", &mut include.customer_details),
                ("deviceDetails", &mut include.device_details),
                ("financialDetails", &mut include.financial_details),
                ("customFields", &mut include.custom_fields),
            ] {
                match groups.get(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::Bool(b)) => *slot = *b,
                    Some(_) => f.fail(
                        &format!("includeFields.{key}"),
                        "invalid_type",
                        "Expected a boolean",
                    ),
                }
            }
        }
        Some(_) => f.fail("includeFields", "invalid_type", "Expected an object"),
    }
    check(errors)?;
    let statuses = match status.as_deref() {
        None => Vec::new(),
        Some("ended") => STATUSES[2..].iter().map(|s| s.to_string()).collect(),
        Some(s) => vec![s.to_string()],
    };
    Ok(ExportRequest {
        filter: SubscriptionFilter {
            statuses,
            customer_ids,
            start_date_from: start_from,
            start_date_to: start_to,
            end_date_from: end_from,
            end_date_to: end_to,
            ..SubscriptionFilter::default()
        },
        status,
        include,
    })
}

/// The totals of the rows written (SPEC §2.10 response), money in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Rows written.
    pub rows: i64,
    /// Rows with status `active`.
    pub active: i64,
    /// Σ `totalCollected` of the rows.
    pub total_revenue: i128,
    /// Σ `monthlyAmount` of the active rows.
    pub active_monthly: i128,
}

impl Summary {
    /// Mean `monthlyAmount` of the active rows, minor units rounded half away from zero; 0 without
    /// active rows.
    pub fn average_monthly_revenue(&self) -> i128 {
        if self.active == 0 {
            0
        } else {
            flexportal_domain::money::div_round_half_away(
                self.active_monthly,
                i128::from(self.active),
            )
        }
    }
}

/// The copy of an export being written to file storage as it is streamed.
struct StoredCopy {
    app: App,
    file: flexportal_store::files::FileRecord,
    writer: object_store::WriteMultipart,
    bytes: i64,
}

/// An export in progress: one read snapshot, the header, and where the next chunk starts.
pub struct Export {
    copy: Option<StoredCopy>,
    conn: Option<Conn>,
    tenant_id: String,
    currency: String,
    exponent: u32,
    request: ExportRequest,
    custom_keys: Vec<String>,
    total: i64,
    after: Option<Position>,
    done: bool,
    summary: Summary,
}

/// Validates and opens an export of the caller's business unit: counts the matching rows and
/// finds the custom-field keys in the same snapshot the rows will be read from. Errors: 400
/// `VALIDATION_ERROR` when more than `max_rows` rows match (narrow the filters).
pub async fn prepare(
    app: &App,
    ctx: &TenantContext,
    request: ExportRequest,
    max_rows: Option<i64>,
) -> AppResult<Export> {
    let mut conn = app.db.read_snapshot().await?;
    let total = exports::count(&mut conn, &ctx.tenant_id, &request.filter).await?;
    if let Some(max) = max_rows
        && total > max
    {
        return Err(AppError::field(
            "",
            "too_big",
            format!(
                "{total} subscriptions match; an export holds at most {max}: narrow the filters \
                 (status, date ranges, customerIds)"
            ),
        ));
    }
    let mut keys = BTreeSet::new();
    if request.include.custom_fields {
        let mut after: Option<Position> = None;
        loop {
            let page = exports::custom_fields_page(
                &mut conn,
                &ctx.tenant_id,
                &request.filter,
                after.as_ref(),
                PAGE * 10,
            )
            .await?;
            for row in &page.items {
                if let Some(Value::Object(m)) = row
                    .custom_fields
                    .as_deref()
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                {
                    keys.extend(m.keys().cloned());
                }
            }
            match (page.has_more, page.items.last()) {
                (true, Some(last)) => after = Some(last.position.clone()),
                _ => break,
            }
        }
    }
    Ok(Export {
        copy: None,
        conn: Some(conn),
        tenant_id: ctx.tenant_id.clone(),
        currency: ctx.currency.code().to_string(),
        exponent: ctx.exponent(),
        request,
        custom_keys: keys.into_iter().collect(),
        total,
        after: None,
        done: false,
        summary: Summary::default(),
    })
}

impl Export {
    /// Rows the export holds (counted in its snapshot).
    pub fn total(&self) -> i64 {
        self.total
    }

    /// Also writes the CSV, as it is produced, to a new file of the unit (`document`,
    /// `generated`, `filename`, `text/csv`; its size is recorded when the last chunk is written)
    /// and returns a 60-minute signed download URL of it (SPEC §2.10 `downloadUrl`). Errors: 500
    /// when the storage or the store fails.
    pub async fn store_copy(
        &mut self,
        app: &App,
        ctx: &TenantContext,
        filename: &str,
    ) -> AppResult<crate::files::SignedUrl> {
        let mut metadata = Map::new();
        metadata.insert("export".into(), Value::from("rentals"));
        metadata.insert("filters".into(), self.filters_json());
        let mut tx = app.db.begin().await?;
        let file = crate::files::create_record(
            &mut tx,
            app,
            ctx,
            crate::files::NewFile {
                order: None,
                file_type: "document",
                category: "generated",
                filename,
                content_type: "text/csv",
                metadata,
                // Recorded when the last chunk is written.
                file_size: 0,
                file_id: None,
            },
        )
        .await?;
        tx.commit().await?;
        let path = object_store::path::Path::from(file.storage_path.as_str());
        let upload = app
            .files
            .store()
            .put_multipart(&path)
            .await
            .map_err(crate::files::storage_error)?;
        self.copy = Some(StoredCopy {
            app: app.clone(),
            file: file.clone(),
            writer: object_store::WriteMultipart::new(upload),
            bytes: 0,
        });
        crate::files::signed_url(app, file, crate::files::Action::Download, 60).await
    }

    /// The normalised filters applied (see [`ExportRequest::filters_json`]).
    pub fn filters_json(&self) -> Value {
        self.request.filters_json()
    }

    /// The totals of the rows written so far (all of them once [`Export::next_chunk`] returned
    /// `None`).
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// The header row's column names, in order (SPEC §2.10).
    pub fn header(&self) -> Vec<String> {
        let i = self.request.include;
        let mut h = vec!["subscriptionId".to_string()];
        if i.customer_details {
            h.extend(["customerId", "customerEmail", "customerName", "company"].map(String::from));
        }
        if i.device_details {
            h.extend(["sku", "productName", "serialNumber"].map(String::from));
        }
        h.extend(["status", "startDate", "endDate", "contractLength"].map(String::from));
        if i.financial_details {
            h.extend(
                [
                    "monthlyAmount",
                    "currency",
                    "totalCollected",
                    "acquisitionCost",
                    "costRecoveryPercent",
                ]
                .map(String::from),
            );
        }
        if i.custom_fields {
            h.extend(self.custom_keys.iter().map(|k| format!("customField_{k}")));
        }
        h
    }

    /// The next chunk of CSV text (the header comes with the first; an export without rows is the
    /// header alone), or `None` once every row was written. Errors: 500 when the store fails.
    pub async fn next_chunk(&mut self) -> AppResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(256 * PAGE as usize));
        // The first chunk (no position yet) starts with the header.
        if self.after.is_none() {
            w.write_record(self.header()).map_err(csv_error)?;
        }
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| crate::corrupt("export closed"))?;
        let page: Page<SubscriptionRecord> = exports::rows_page(
            conn,
            &self.tenant_id,
            &self.request.filter,
            self.after.as_ref(),
            PAGE,
        )
        .await?;
        let companies: HashMap<String, String> = if self.request.include.customer_details {
            let mut ids: Vec<String> = page.items.iter().map(|s| s.customer_id.clone()).collect();
            ids.sort();
            ids.dedup();
            exports::companies(conn, &self.tenant_id, &ids)
                .await?
                .into_iter()
                .collect()
        } else {
            HashMap::new()
        };
        for s in &page.items {
            let record = self.row(s, companies.get(&s.customer_id).map(String::as_str));
            w.write_record(&record).map_err(csv_error)?;
            self.summary.rows += 1;
            self.summary.total_revenue += i128::from(s.total_collected);
            if s.status == "active" {
                self.summary.active += 1;
                self.summary.active_monthly += i128::from(s.monthly_amount);
            }
        }
        match (page.has_more, page.items.last()) {
            (true, Some(last)) => self.after = Some(exports::position(last)),
            _ => {
                self.done = true;
                if let Some(c) = self.conn.take() {
                    c.commit().await?;
                }
            }
        }
        let bytes = w.into_inner().map_err(|e| csv_error(e.into_error()))?;
        if let Some(copy) = self.copy.as_mut() {
            copy.writer.write(&bytes);
            copy.bytes += bytes.len() as i64;
            copy.writer
                .wait_for_capacity(4)
                .await
                .map_err(crate::files::storage_error)?;
        }
        if self.done
            && let Some(copy) = self.copy.take()
        {
            copy.writer
                .finish()
                .await
                .map_err(crate::files::storage_error)?;
            let mut tx = copy.app.db.begin().await?;
            flexportal_store::files::complete_upload(
                &mut tx,
                &copy.file.tenant_id,
                &copy.file.file_id,
                copy.bytes,
                copy.app.now(),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(Some(bytes))
    }

    /// One row's cells, in the header's order.
    fn row(&self, s: &SubscriptionRecord, company: Option<&str>) -> Vec<String> {
        let i = self.request.include;
        let money = |m: i64| format_amount(m, self.exponent);
        let mut r = vec![s.rental_id.clone()];
        if i.customer_details {
            r.extend([
                s.customer_id.clone(),
                s.customer_email.clone(),
                s.customer_name.clone(),
                company.unwrap_or_default().to_string(),
            ]);
        }
        if i.device_details {
            r.extend([
                s.sku.clone(),
                s.product_name.clone(),
                s.asset_serial_number.clone(),
            ]);
        }
        r.extend([
            s.status.clone(),
            s.start_date.clone(),
            s.end_date.clone(),
            s.contract_length.to_string(),
        ]);
        if i.financial_details {
            let percent = recovery(&RecoveryInput {
                total_collected: s.total_collected,
                acquisition_cost: s.acquisition_cost,
                monthly_amount: s.monthly_amount,
                contract_length: s.contract_length,
                months_elapsed: 0,
            })
            .cost_recovery_percent_tenths;
            r.extend([
                money(s.monthly_amount),
                self.currency.clone(),
                money(s.total_collected),
                s.acquisition_cost.map(money).unwrap_or_default(),
                percent.map(|t| format_amount(t, 1)).unwrap_or_default(),
            ]);
        }
        if i.custom_fields && !self.custom_keys.is_empty() {
            let fields: Map<String, Value> = s
                .custom_fields
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default();
            for key in &self.custom_keys {
                r.push(match fields.get(key) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(v)) => v.clone(),
                    Some(other) => other.to_string(),
                });
            }
        }
        r
    }
}

fn csv_error(e: impl std::fmt::Display) -> AppError {
    crate::corrupt(format!("CSV writer: {e}"))
}

/// The `filename` of an export made on `today` (`rentals-<YYYY-MM-DD>.csv`).
pub fn filename(today: jiff::civil::Date) -> String {
    format!("rentals-{today}.csv")
}

/// exportRentals' first step: parses the body and opens the export of the caller's unit with the
/// API's cap of [`MAX_API_ROWS`]. Errors: as [`parse`] and [`prepare`].
pub async fn rentals(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<Export> {
    let request = parse(body)?;
    prepare(app, ctx, request, Some(MAX_API_ROWS)).await
}
