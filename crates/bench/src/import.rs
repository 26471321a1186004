//! Scenario `import`: the bulk asset import (`flexportal import assets`) against the raw driver.
//!
//! 1. A fresh store gets the catalog and an assets CSV; `flexportal_app::assets_import::import` is
//!    timed on it (rows/s), the asset count is checked, and a second import of the same file must
//!    create nothing.
//! 2. Baseline: a second fresh store with the same catalog gets the same rows (the records the
//!    import builds) through the raw driver, one transaction, one prepared single-row INSERT per
//!    row.
//! 3. The ratio import/raw of the two rates.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use flexportal_app::assets_import::ImportSummary;
use flexportal_app::{App, TenantContext};

use crate::dataset::{self, AssetsCsv};
use crate::stats::{rate, ratio};
use crate::store::{FreshStore, TempDir, count_assets};
use crate::{Engine, raw};

/// Options of the `import` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Asset rows to generate and import.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Seed of the dataset generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Times one import of `csv` into the business unit of `ctx`, printing progress to stderr.
pub async fn timed_import(
    app: &App,
    ctx: &TenantContext,
    csv: &AssetsCsv,
) -> (ImportSummary, Duration) {
    let file = std::fs::File::open(&csv.path).expect("open the CSV");
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let step = (csv.rows / 10).max(1);
    let next = AtomicU64::new(step);
    let progress = |rows: u64| {
        if rows >= next.load(Ordering::Relaxed) {
            next.store(rows + step, Ordering::Relaxed);
            eprintln!("  … {rows} rows");
        }
    };
    let started = Instant::now();
    let summary = flexportal_app::assets_import::import(app, ctx, reader, &progress)
        .await
        .unwrap_or_else(|e| panic!("import failed: {e:?}"));
    (summary, started.elapsed())
}

/// Runs the scenario and prints its figures.
pub async fn run(args: ImportArgs) {
    let engine_name = args.engine.name();
    println!(
        "== import: engine {engine_name}, {} rows (load average {}) ==",
        args.rows,
        crate::load_average()
    );
    let dir = TempDir::new();

    // Store under test: catalog, CSV, timed import.
    let store = FreshStore::create(args.engine, dir.path(), "import").await;
    let started = Instant::now();
    let data = dataset::generate(&store.app, dir.path(), args.rows, args.seed, 80).await;
    let size = std::fs::metadata(&data.csv.path).map_or(0, |m| m.len());
    println!(
        "dataset: {} products, {} variants (Laptops, Smartphones, E-Bikes, Office Furniture); \
         CSV {} rows ({:.1} % available), {:.1} MB, generated in {:.1} s",
        data.products,
        data.variants.len(),
        data.csv.rows,
        100.0 * data.csv.available as f64 / data.csv.rows.max(1) as f64,
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let ctx = &data.tenant.ctx;
    let (s, import_time) = timed_import(&store.app, ctx, &data.csv).await;
    let import_rate = rate(s.created, import_time);
    println!(
        "import   (flexportal_app::assets_import::import): {} rows in {:.2} s = {:.0} rows/s \
         (created {}, already existed {}, rejected {})",
        s.rows,
        import_time.as_secs_f64(),
        import_rate,
        s.created,
        s.skipped_existing,
        s.errors.len()
    );
    if let Some(e) = s.errors.first() {
        println!("  first rejected row: {e:?}");
    }
    let count = count_assets(&store.app, &ctx.tenant_id).await;
    println!(
        "verify: asset count {count} {} rows {}",
        if count == args.rows as i64 {
            "="
        } else {
            "≠"
        },
        args.rows
    );
    let (again, again_time) = timed_import(&store.app, ctx, &data.csv).await;
    println!(
        "re-import of the same file: created {}, already existed {}, rejected {} in {:.2} s \
         ({:.0} rows/s)",
        again.created,
        again.skipped_existing,
        again.errors.len(),
        again_time.as_secs_f64(),
        rate(again.rows, again_time)
    );
    store.destroy().await;

    // Baseline store: same catalog, same rows through the raw driver.
    let base = FreshStore::create(args.engine, dir.path(), "raw").await;
    let tenant = dataset::create_tenant(&base.app).await;
    dataset::create_catalog(&base.app, &tenant.ctx).await;
    let records =
        raw::records_from_csv(&base.app, &tenant.ctx, &data.csv.path, base.app.now()).await;
    let raw_rows = records.len() as u64;
    let (driver, raw_time) = match args.engine {
        Engine::Sqlite => {
            let path = base
                .sqlite_path()
                .expect("SQLite store has a file")
                .to_path_buf();
            let t = tokio::task::spawn_blocking(move || raw::sqlite_insert(&path, &records))
                .await
                .expect("raw SQLite insert");
            ("rusqlite prepare_cached + execute", t)
        }
        Engine::Postgres => {
            let url = base.url.clone();
            let t = tokio::task::spawn_blocking(move || raw::postgres_insert(&url, &records))
                .await
                .expect("raw PostgreSQL insert");
            ("tokio-postgres prepare + execute", t)
        }
    };
    let raw_rate = rate(raw_rows, raw_time);
    println!(
        "raw      ({driver}, one transaction, one row per INSERT): {raw_rows} rows in {:.2} s \
         = {raw_rate:.0} rows/s",
        raw_time.as_secs_f64()
    );
    let raw_count = count_assets(&base.app, &tenant.ctx.tenant_id).await;
    println!("verify: raw asset count {raw_count}");
    base.destroy().await;

    println!();
    println!("engine    rows       import rows/s  raw rows/s  import/raw");
    println!(
        "{engine_name:<9} {:<10} {import_rate:>13.0}  {raw_rate:>10.0}  {:>10.2}",
        args.rows,
        ratio(import_rate, raw_rate)
    );
}
