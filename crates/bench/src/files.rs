//! Scenario `files`: a signed download of a `--size-mib` file over HTTP (a real server on
//! 127.0.0.1, `GET /files/{fileId}/content?…` read to the end on a keep-alive connection)
//! against reading the same stored file from disk in the same run; and contract generation for
//! an order of `--items` items (`flexportal_app::contracts::generate`: template, PDF, storage,
//! file record), PDFs per second and the size of one, with the PDF writing alone beside it.

use std::sync::Arc;
use std::time::Instant;

use flexportal_app::files::{self, Action, FileStorage};
use serde_json::json;

use crate::Engine;
use crate::loadgen::{Connection, Target};
use crate::store::{FreshStore, TempDir};
use crate::{catalog, dataset, http};

/// Options of the `files` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct FilesArgs {
    /// Storage engine of the metadata.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Size of the downloaded file, MiB.
    #[arg(long, default_value_t = 10)]
    pub size_mib: usize,
    /// Downloads (and disk reads) measured.
    #[arg(long, default_value_t = 40)]
    pub downloads: usize,
    /// Items of the order whose contract is generated.
    #[arg(long, default_value_t = 10)]
    pub items: usize,
    /// Contracts generated.
    #[arg(long, default_value_t = 200)]
    pub contracts: usize,
}

fn rate(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / secs
}

/// Runs the scenario and prints its figures.
pub fn run(args: FilesArgs) {
    let (rt, _) = http::server_runtime(None);
    println!(
        "== files: engine {}, {} MiB download × {}, contract of {} items × {} (load average {}) ==",
        args.engine.name(),
        args.size_mib,
        args.downloads,
        args.items,
        args.contracts,
        crate::load_average()
    );
    rt.block_on(async move {
        let dir = TempDir::new();
        let store = FreshStore::create(args.engine, dir.path(), "files").await;
        let files_dir = dir.path().join("files");
        let storage = FileStorage::local(&files_dir)
            .expect("files directory")
            .with_max_upload_bytes((args.size_mib as u64 + 1) << 20);
        let app = store.app.clone().with_files(storage);
        let tenant = dataset::create_tenant(&app).await;
        let ctx = tenant.ctx.clone();

        // The file: uploaded once through the use case the signed PUT runs.
        let content: Vec<u8> = (0..args.size_mib << 20).map(|i| (i * 31 % 251) as u8).collect();
        let up = files::url(
            &app,
            &ctx,
            &json!({"action": "upload", "fileName": "big.pdf", "contentType": "application/pdf"}),
        )
        .await
        .expect("upload URL");
        let file = files::upload(&app, &up.file, Some("application/pdf"), content.clone().into())
            .await
            .expect("upload");
        let signed = files::signed_url(&app, file.clone(), Action::Download, 60)
            .await
            .expect("download URL");
        let folder = files_dir.join(format!("tenants/{}/files/{}", ctx.tenant_id, file.file_id));
        let on_disk = std::fs::read_dir(&folder)
            .expect("the file's folder")
            .next()
            .expect("the stored file")
            .expect("entry")
            .path();

        let server = http::start(app.clone()).await;
        let target = Arc::new(Target::new(server.addr, Vec::new()));
        let mut conn = Connection::open(target).await.expect("connect");
        // One warm-up of each, so both read from the page cache.
        let a = conn.get(&signed.path_and_query).await.expect("download");
        assert_eq!(a.status, 200);
        assert_eq!(a.body.len(), content.len());
        assert_eq!(std::fs::read(&on_disk).expect("read").len(), content.len());
        let t = Instant::now();
        let mut bytes = 0;
        for _ in 0..args.downloads {
            let a = conn.get(&signed.path_and_query).await.expect("download");
            assert_eq!(a.status, 200);
            bytes += a.body.len();
        }
        let http_secs = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut disk = 0;
        for _ in 0..args.downloads {
            disk += std::fs::read(&on_disk).expect("read").len();
        }
        let disk_secs = t.elapsed().as_secs_f64();
        // The transport's ceiling: a bare axum handler answering the same bytes from memory.
        let bare_body = axum::body::Bytes::from(content.clone());
        let bare = axum::Router::new().route(
            "/bare",
            axum::routing::get(move || {
                let b = bare_body.clone();
                async move { b }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let bare_addr = listener.local_addr().expect("address");
        let bare_task = tokio::spawn(async move {
            let _ = axum::serve(listener, bare).await;
        });
        let mut bare_conn = Connection::open(Arc::new(Target::new(bare_addr, Vec::new())))
            .await
            .expect("connect");
        bare_conn.get("/bare").await.expect("bare");
        let t = Instant::now();
        let mut bare_bytes = 0;
        for _ in 0..args.downloads {
            bare_bytes += bare_conn.get("/bare").await.expect("bare").body.len();
        }
        let bare_secs = t.elapsed().as_secs_f64();
        bare_task.abort();
        let (h, d, b) = (
            rate(bytes, http_secs),
            rate(disk, disk_secs),
            rate(bare_bytes, bare_secs),
        );
        println!(
            "signed download: {h:.0} MiB/s ({:.1} ms per file); disk read (page cache): {d:.0} MiB/s \
             ({:.1} ms per file), ratio {:.3}; bare handler with the bytes in memory: {b:.0} MiB/s, \
             ratio {:.2}",
            http_secs * 1000.0 / args.downloads as f64,
            disk_secs * 1000.0 / args.downloads as f64,
            h / d,
            h / b
        );
        server.stop();

        // Contracts: an order of `items` different variants.
        let (bodies, specs) = catalog::catalog();
        for b in &bodies {
            flexportal_app::products::create(&app, &ctx, b)
                .await
                .expect("product");
        }
        let items: Vec<_> = specs
            .iter()
            .take(args.items)
            .map(|s| json!({"sku": s.sku, "quantity": 1, "contractLength": 12}))
            .collect();
        let order = flexportal_app::orders::create(
            &app,
            &ctx,
            &json!({"customer": {"email": "bench@example.com", "firstName": "Bench",
                    "lastName": "Customer", "company": "Bench B.V."},
                "billingAddress": {"streetAddress": "Main 1", "city": "Utrecht", "country": "NL"},
                "items": items}),
        )
        .await
        .expect("order");
        let body = json!({"orderId": order.order.order_id});
        let first = flexportal_app::contracts::generate(&app, &ctx, &body)
            .await
            .expect("contract");
        let t = Instant::now();
        for _ in 0..args.contracts {
            flexportal_app::contracts::generate(&app, &ctx, &body)
                .await
                .expect("contract");
        }
        let secs = t.elapsed().as_secs_f64();
        let text = "# Rental contract\n".to_string() + &"- 1 x Laptop (SKU): 59.90 EUR per month each, 12 months\n".repeat(args.items + 30);
        let t = Instant::now();
        for _ in 0..args.contracts {
            flexportal_app::contract_pdf::render("Contract", &text).expect("render");
        }
        let render_secs = t.elapsed().as_secs_f64();
        println!(
            "contracts: {:.0} PDFs/s generated and stored ({:.2} ms each); PDF writing alone {:.0}/s; one PDF {} bytes",
            args.contracts as f64 / secs,
            secs * 1000.0 / args.contracts as f64,
            args.contracts as f64 / render_secs,
            first.file.file_size
        );
        store.destroy().await;
    });
}
