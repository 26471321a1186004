//! The raw-driver baseline of the import: the same asset rows as the import produces, inserted in
//! one transaction with one prepared single-row `INSERT` executed per row (rusqlite
//! `prepare_cached` + `execute`; tokio-postgres `prepare` + `execute` between `BEGIN` and
//! `COMMIT`).

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use flexportal_app::{App, TenantContext};
use flexportal_store::assets::{AssetRecord, COLUMNS};
use flexportal_store::variants::{self, VariantWithProduct};
use serde_json::{Map, Value};

/// Reads the assets CSV and builds the records the import would store for it in the business
/// unit of `ctx` (the rules of createAsset: `parse_new` then `build`, with created/updated at
/// `now`). Rows the import would reject are left out.
pub async fn records_from_csv(
    app: &App,
    ctx: &TenantContext,
    path: &Path,
    now: i64,
) -> Vec<AssetRecord> {
    let mut reader = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let headers = reader.headers().expect("CSV header").clone();
    let mut cache: HashMap<String, Option<VariantWithProduct>> = HashMap::new();
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).expect("CSV row") {
        let mut obj = Map::new();
        for (name, value) in headers.iter().zip(record.iter()) {
            if value.trim().is_empty() {
                continue;
            }
            let v = if name == "acquisitionCost" {
                value
                    .trim()
                    .parse::<serde_json::Number>()
                    .map(Value::Number)
                    .unwrap_or_else(|_| Value::String(value.into()))
            } else {
                Value::String(value.to_string())
            };
            obj.insert(name.to_string(), v);
        }
        let Ok(input) = flexportal_app::assets::parse_new(&Value::Object(obj), ctx.exponent())
        else {
            continue;
        };
        if !cache.contains_key(&input.sku) {
            let mut c = app.db.read().await.expect("read connection");
            let v = variants::get_with_product(&mut c, &ctx.tenant_id, &input.sku)
                .await
                .expect("load variant");
            cache.insert(input.sku.clone(), v);
        }
        let Some(v) = cache.get(&input.sku).and_then(Option::as_ref) else {
            continue;
        };
        if let Ok(a) = flexportal_app::assets::build(ctx, input, v, now) {
            out.push(a);
        }
    }
    out
}

fn insert_sql(placeholder: impl Fn(usize) -> String) -> String {
    let params: Vec<String> = (1..=COLUMNS.len()).map(placeholder).collect();
    format!(
        "INSERT INTO assets ({}) VALUES ({})",
        COLUMNS.join(", "),
        params.join(", ")
    )
}

/// Inserts `rows` into the SQLite file at `path` over a connection opened here with the pragmas
/// of the store's pool; returns the time from `BEGIN` to after `COMMIT`.
pub fn sqlite_insert(path: &Path, rows: &[AssetRecord]) -> Duration {
    let conn = rusqlite::Connection::open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; \
         PRAGMA synchronous=NORMAL;",
    )
    .expect("set pragmas");
    let sql = insert_sql(|i| format!("?{i}"));
    let started = Instant::now();
    conn.execute_batch("BEGIN IMMEDIATE").expect("BEGIN");
    {
        let mut st = conn.prepare_cached(&sql).expect("prepare INSERT");
        for a in rows {
            st.execute(rusqlite::params![
                a.tenant_id,
                a.serial_number,
                a.product_id,
                a.variant_id,
                a.sku,
                a.product_name,
                a.product_image_url,
                a.status,
                a.location,
                a.condition,
                a.notes,
                a.customer_id,
                a.rental_id,
                a.acquisition_cost,
                a.acquisition_cost_source,
                a.acquisition_date,
                a.lifetime_collected,
                a.created_at,
                a.updated_at,
            ])
            .expect("INSERT asset");
        }
    }
    conn.execute_batch("COMMIT").expect("COMMIT");
    started.elapsed()
}

/// Inserts `rows` into the PostgreSQL database at `url` over a connection opened here, driven by
/// a single-threaded runtime of its own on the calling thread (no hops between worker threads);
/// returns the time from `BEGIN` to after `COMMIT`. Blocks: call it from a blocking thread.
pub fn postgres_insert(url: &str, rows: &[AssetRecord]) -> Duration {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("raw PostgreSQL runtime")
        .block_on(postgres_insert_async(url, rows))
}

async fn postgres_insert_async(url: &str, rows: &[AssetRecord]) -> Duration {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    let driver = tokio::spawn(conn);
    let sql = insert_sql(|i| format!("${i}"));
    let started = Instant::now();
    client.batch_execute("BEGIN").await.expect("BEGIN");
    let st = client.prepare(&sql).await.expect("prepare INSERT");
    for a in rows {
        client
            .execute(
                &st,
                &[
                    &a.tenant_id,
                    &a.serial_number,
                    &a.product_id,
                    &a.variant_id,
                    &a.sku,
                    &a.product_name,
                    &a.product_image_url,
                    &a.status,
                    &a.location,
                    &a.condition,
                    &a.notes,
                    &a.customer_id,
                    &a.rental_id,
                    &a.acquisition_cost,
                    &a.acquisition_cost_source,
                    &a.acquisition_date,
                    &a.lifetime_collected,
                    &a.created_at,
                    &a.updated_at,
                ],
            )
            .await
            .expect("INSERT asset");
    }
    client.batch_execute("COMMIT").await.expect("COMMIT");
    let elapsed = started.elapsed();
    drop(client);
    let _ = driver.await;
    elapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_names_every_column_once() {
        let sql = insert_sql(|i| format!("${i}"));
        assert!(sql.starts_with("INSERT INTO assets (tenant_id, serial_number,"));
        assert!(sql.ends_with("$18, $19)"));
    }
}
