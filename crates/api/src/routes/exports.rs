//! `/v1/exports` (SPEC §2.10).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use flexportal_app::exports::{self as uc, Export, Summary};
use flexportal_domain::time::today_in;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::exports::{ExportRentalsBody, RentalsExport};
use crate::model::{Decimal, ErrorEnvelope, Instant, TenantHeader};
use crate::routes::CommonErrors;

/// The export operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rentals))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "rentals export");
    ApiError::new(500, "INTERNAL_ERROR", "Internal error")
}

/// Stands for `csvData` in the serialized envelope; the CSV is streamed in its place.
const MARKER: &str = "\u{1}csvData\u{1}";

/// exportRentals: 200 `{success, filename, generatedAt, filters, csvData, totalRecords,
/// totalRentals, recordCount, activeRentals, totalRevenue, averageMonthlyRevenue}`, streamed:
/// the CSV is written into `csvData` page by page as it is read, and the totals follow it.
#[utoipa::path(
    post, path = "/v1/exports/rentals", operation_id = "exportRentals", tag = "Exports",
    summary = "Export rentals to CSV",
    description = "Exports rental/subscription data to CSV format with optional date range and \
        field filtering. At most 50,000 rows; more answer 400 asking to narrow the filters \
        (`flexportal export rentals` has no cap).",
    params(TenantHeader),
    request_body = ExportRentalsBody,
    responses(
        (status = 200, description = "Export generated", body = RentalsExport),
        (status = 400, description = "Invalid filter, or more rows than an export holds \
            (`VALIDATION_ERROR`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn rentals(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut export = uc::rentals(&s.app, &ctx, &body).await?;
    let now = s.app.now();
    let exponent = ctx.exponent();
    let filters = export.filters_json();
    let filename = uc::filename(today_in(&ctx.time_zone, now));
    let copy = export.store_copy(&s.app, &ctx, &filename).await?;
    let download_url = crate::routes::files::file_url(&headers, copy, false);
    let envelope = move |summary: Summary| -> Result<String, String> {
        let money = |v: i128| {
            i64::try_from(v)
                .map(|m| Decimal::money(m, exponent))
                .map_err(|_| "export totals overflow".to_string())
        };
        let e = RentalsExport {
            success: true,
            filename: filename.clone(),
            generated_at: Instant(now),
            filters: filters.clone(),
            download_url: download_url.url.clone(),
            expires_at: Instant(download_url.expires_at),
            csv_data: MARKER.to_string(),
            total_records: summary.rows,
            total_rentals: summary.rows,
            record_count: summary.rows,
            active_rentals: summary.active,
            total_revenue: money(summary.total_revenue)?,
            average_monthly_revenue: money(summary.average_monthly_revenue())?,
        };
        serde_json::to_string(&e).map_err(|e| e.to_string())
    };
    let marker = serde_json::to_string(MARKER).map_err(internal)?;
    let head = envelope(Summary::default()).map_err(internal)?;
    let at = head
        .find(&marker)
        .ok_or_else(|| internal("csvData marker"))?;
    // `…"csvData":"` then the escaped CSV, then `","totalRecords":…}`.
    let prefix = format!("{}\"", &head[..at]);
    let tail = move |summary: Summary| -> Result<String, String> {
        let full = envelope(summary)?;
        let at = full.find(&marker).ok_or("csvData marker")?;
        Ok(format!("\"{}", &full[at + marker.len()..]))
    };
    enum State<T> {
        Head(Export, T),
        Rows(Export, T),
        Done,
    }
    // The body streams after the request's span has closed; a failure is logged in it still.
    let span = tracing::Span::current();
    let stream = futures_util::stream::unfold(State::Head(export, tail), move |state| {
        let prefix = prefix.clone();
        let span = span.clone();
        async move {
            match state {
                State::Head(export, tail) => {
                    Some((Ok(Bytes::from(prefix)), State::Rows(export, tail)))
                }
                State::Rows(mut export, tail) => match export.next_chunk().await {
                    Ok(Some(chunk)) => {
                        let text = String::from_utf8_lossy(&chunk);
                        let quoted = serde_json::to_string(&text).unwrap_or_default();
                        let inner = quoted[1..quoted.len().saturating_sub(1)].to_string();
                        Some((Ok(Bytes::from(inner)), State::Rows(export, tail)))
                    }
                    Ok(None) => {
                        let end = tail(export.summary()).map_err(std::io::Error::other);
                        Some((end.map(Bytes::from), State::Done))
                    }
                    Err(e) => {
                        tracing::error!(parent: &span, error = %e, "rentals export failed while streaming");
                        Some((Err(std::io::Error::other(e.to_string())), State::Done))
                    }
                },
                State::Done => None,
            }
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}
