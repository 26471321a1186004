//! `flexportal export rentals`: the rentals CSV of SPEC §2.10 on standard output, with no row
//! cap, streamed page by page (memory does not grow with the unit), and a progress bar on
//! standard error.

use std::io::Write;

use flexportal_app::App;
use serde_json::{Value, json};

/// Options of `export rentals`: the filters and column groups of `POST /v1/exports/rentals`.
#[derive(clap::Args)]
pub struct RentalsArgs {
    /// Business unit id (optional when the store has exactly one).
    #[arg(long)]
    pub tenant: Option<String>,
    /// One of the six subscription statuses, or `ended` for any `ended_*`.
    #[arg(long)]
    pub status: Option<String>,
    /// Subscriptions starting on or after this date, YYYY-MM-DD.
    #[arg(long)]
    pub start_date_from: Option<String>,
    /// Subscriptions starting on or before this date, YYYY-MM-DD.
    #[arg(long)]
    pub start_date_to: Option<String>,
    /// Subscriptions ending on or after this date, YYYY-MM-DD.
    #[arg(long)]
    pub end_date_from: Option<String>,
    /// Subscriptions ending on or before this date, YYYY-MM-DD.
    #[arg(long)]
    pub end_date_to: Option<String>,
    /// Only this customer (repeat for several).
    #[arg(long = "customer")]
    pub customers: Vec<String>,
    /// Leave out column groups: customer-details, device-details, financial-details,
    /// custom-fields (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub without: Vec<String>,
}

impl RentalsArgs {
    /// The request body the same export would have over HTTP.
    fn body(&self) -> Result<Value, String> {
        let mut include = json!({});
        for group in &self.without {
            let key = match group.as_str() {
                "customer-details" => "customerDetails",
                "device-details" => "deviceDetails",
                "financial-details" => "financialDetails",
                "custom-fields" => "customFields",
                other => return Err(format!("--without {other:?}: unknown column group")),
            };
            include[key] = Value::Bool(false);
        }
        let mut body = json!({ "includeFields": include });
        for (key, v) in [
            ("status", &self.status),
            ("startDateFrom", &self.start_date_from),
            ("startDateTo", &self.start_date_to),
            ("endDateFrom", &self.end_date_from),
            ("endDateTo", &self.end_date_to),
        ] {
            if let Some(v) = v {
                body[key] = Value::from(v.clone());
            }
        }
        if !self.customers.is_empty() {
            body["customerIds"] = Value::from(self.customers.clone());
        }
        Ok(body)
    }
}

/// Writes the export to standard output; prints the row count and rate on standard error.
pub async fn rentals(app: &App, args: RentalsArgs) -> Result<(), Box<dyn std::error::Error>> {
    let body = args.body()?;
    let ctx = crate::commands::context(app, args.tenant).await?;
    let request = flexportal_app::exports::parse(&body).map_err(|e| e.into_wire().message)?;
    let mut export = flexportal_app::exports::prepare(app, &ctx, request, None)
        .await
        .map_err(|e| e.into_wire().message)?;
    let bar = indicatif::ProgressBar::new(export.total().max(0) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut written = 0i64;
    while let Some(chunk) = export
        .next_chunk()
        .await
        .map_err(|e| e.into_wire().message)?
    {
        out.write_all(&chunk)?;
        let rows = export.summary().rows;
        bar.inc((rows - written) as u64);
        written = rows;
    }
    out.flush()?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{written} rows in {secs:.1} s ({:.0} rows/s)",
        written as f64 / secs.max(1e-9)
    );
    Ok(())
}
