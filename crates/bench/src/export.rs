//! Scenario `export`: the rentals export (`flexportal_app::exports`, what
//! `flexportal export rentals` runs, without the API's 50,000-row cap) of every subscription of an
//! existing store's first business unit (for example the `portfolio` dataset kept with
//! `FLEXPORTAL_BENCH_KEEP=1`), written to a file. `--copies K` first adds K copies of each of the
//! unit's subscriptions (new rental ids, same everything else) with one `INSERT … SELECT` each, to
//! reach a million rows without building a million rentals through the use cases. Measured: rows
//! per second, bytes written, and the resident set while the export runs (anonymous memory, the
//! process's own; file-backed, the store's mapped pages), sampled every 20 ms, and the peak.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::rss;
use crate::store::FreshStore;

/// Options of the `export` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The store (`sqlite://…` or `postgres://…`); its first business unit is exported.
    #[arg(long)]
    pub store: String,
    /// Copies of each subscription to add before the export (0: none).
    #[arg(long, default_value_t = 0)]
    pub copies: usize,
}

/// Runs the scenario and prints its figures.
pub fn run(args: ExportArgs) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "== export: store {} (load average {}) ==",
        args.store,
        crate::load_average()
    );
    rt.block_on(async move {
        let store = FreshStore::open(args.store.clone(), None).await;
        let app = store.app.clone();
        let ctx = store.first_unit().await;
        for k in 0..args.copies {
            let t0 = Instant::now();
            let cols = flexportal_store::subscriptions::COLUMNS.join(", ");
            let select: Vec<String> = flexportal_store::subscriptions::COLUMNS
                .iter()
                .map(|c| match *c {
                    "rental_id" => format!("rental_id || '~c{k}'"),
                    other => other.to_string(),
                })
                .collect();
            let sql = format!(
                "INSERT INTO subscriptions ({cols}) SELECT {} FROM subscriptions \
                 WHERE tenant_id = '{}' AND rental_id NOT LIKE '%~c%'",
                select.join(", "),
                ctx.tenant_id
            );
            let mut tx = app.db.begin().await.expect("begin");
            tx.batch(&sql).await.expect("copy subscriptions");
            tx.commit().await.expect("commit");
            eprintln!("  copy {k} added in {:.1} s", t0.elapsed().as_secs_f64());
        }
        if args.copies > 0 {
            app.db.analyze("subscriptions").await.expect("ANALYZE");
        }
        let path = std::env::temp_dir().join(format!(
            "flexportal-bench-export-{}.csv",
            flexportal_domain::ids::random_token(8)
        ));
        let file = std::fs::File::create(&path).expect("create the CSV file");
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
        rss::reset_peak();
        let before = rss::read();
        let sampler = rss::Sampler::start(Duration::from_millis(20));
        let t0 = Instant::now();
        let request = flexportal_app::exports::parse(&serde_json::json!({})).expect("request");
        let mut export = flexportal_app::exports::prepare(&app, &ctx, request, None)
            .await
            .expect("prepare");
        let prepared = t0.elapsed().as_secs_f64();
        let mut bytes = 0usize;
        while let Some(chunk) = export.next_chunk().await.expect("chunk") {
            bytes += chunk.len();
            out.write_all(&chunk).expect("write");
        }
        out.flush().expect("flush");
        let secs = t0.elapsed().as_secs_f64();
        let peaks = sampler.stop();
        let after = rss::read();
        let rows = export.summary().rows;
        println!(
            "exported {rows} rows ({:.1} MiB of CSV) in {secs:.2} s (count and custom-field keys \
             {prepared:.2} s): {:.0} rows/s",
            bytes as f64 / (1024.0 * 1024.0),
            rows as f64 / secs
        );
        println!(
            "resident set: anonymous {} → peak {} MiB, file-backed peak {} MiB, VmHWM {} → {} MiB",
            rss::mib(before.anon_kib),
            rss::mib(peaks.anon_kib),
            rss::mib(peaks.file_kib),
            rss::mib(before.hwm_kib),
            rss::mib(after.hwm_kib)
        );
        let _ = std::fs::remove_file(&path);
    });
}
