//! The subcommands.

use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use flexportal_api::{AppState, UsageBuffer};
use flexportal_app::{Actor, App, SystemClock, TenantContext, admin};
use flexportal_domain::Currency;
use flexportal_domain::status::KeyScope;
use flexportal_store::Db;
use serde_json::json;

use crate::Command;

/// `flexportal tenants …`
#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a business unit.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// ISO 4217 currency, immutable (e.g. EUR).
        #[arg(long)]
        currency: String,
        /// IANA time zone for "today" (default UTC).
        #[arg(long)]
        time_zone: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List business units.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A business unit's settings (SPEC §2.1): buyout and early-return methods, extension rules,
    /// contract-end behaviour, late fees, billing cycle, VAT, inspection, ...
    Settings {
        #[command(subcommand)]
        command: SettingsCommand,
    },
    /// A business unit's contract templates (SPEC §2.9): the text of generated contract PDFs.
    Templates {
        #[command(subcommand)]
        command: crate::templates::TemplateCommand,
    },
}

/// `flexportal tenants settings …`
#[derive(Subcommand)]
pub enum SettingsCommand {
    /// Print the effective settings document (JSON, every default filled in).
    Get {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
    },
    /// Validate and write settings; prints the effective document.
    Set {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// The JSON document, `@FILE` to read it from a file, or `-` for standard input.
        document: String,
        /// Apply the document as a JSON merge patch on the current settings (`null` sets a
        /// field that takes null, such as `api.abuseCeilingPerMinute`, and resets any other to
        /// its default) instead of replacing them.
        #[arg(long)]
        merge: bool,
    },
}

/// `flexportal keys …`
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Issue an API key (printed once; only its hash is stored).
    Create {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Key name.
        #[arg(long, default_value = "API key")]
        name: String,
        /// `read` (GET only), `write` (everything else) or `all`.
        #[arg(long, default_value = "all")]
        scope: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List a business unit's keys (without secrets).
    List {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id; it answers 401 INVALID_TOKEN from then on.
    Revoke {
        /// Key id (`key_…`).
        key_id: String,
        /// The business unit the key belongs to.
        #[arg(long)]
        tenant: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `flexportal import …`
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Products and variants from the CSV format of `POST /v1/products/csv`.
    Products {
        /// CSV file.
        file: std::path::PathBuf,
        /// Business unit id (optional when the store has exactly one).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Assets from CSV with columns serialNumber, sku and optionally acquisitionCost,
    /// acquisitionDate, location, condition, notes, status.
    Assets {
        /// CSV file.
        file: std::path::PathBuf,
        /// Business unit id (optional when the store has exactly one).
        #[arg(long)]
        tenant: Option<String>,
        /// Where rejected rows are written (CSV: row, serialNumber, code, message).
        #[arg(long, default_value = "import-errors.csv")]
        report: std::path::PathBuf,
    },
}

/// `flexportal jobs …`
#[derive(Subcommand)]
pub enum JobsCommand {
    /// Run the daily jobs once (SPEC 2.6.6 contract end, 2.7 late fees). Running them twice
    /// for the same date changes nothing the second time.
    Run {
        /// Business unit id (default: every active unit).
        #[arg(long)]
        tenant: Option<String>,
        /// The date to run as, YYYY-MM-DD (default: each unit's today).
        #[arg(long)]
        as_of: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `flexportal report …`.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The portfolio report of a business unit (SPEC 2.13): recovery status of the active
    /// subscriptions and the health score, unrecovered cost and profit, the assets' lifetime
    /// recovery, the payment report and the customers' collection status. `--json` prints what
    /// `GET /v1/reports/portfolio` answers.
    Portfolio {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// The date to compute the statuses for, YYYY-MM-DD (default: the unit's today).
        #[arg(long)]
        as_of: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `export …`.
#[derive(Subcommand)]
pub enum ExportCommand {
    /// The rentals CSV of `POST /v1/exports/rentals` (SPEC 2.10) on standard output, without a
    /// row cap: `flexportal export rentals --tenant ID [filters] > rentals.csv`.
    Rentals(crate::export::RentalsArgs),
}

type AnyResult = Result<(), Box<dyn std::error::Error>>;

async fn open(url: &str) -> Result<App, Box<dyn std::error::Error>> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    Ok(App::new(db, Arc::new(SystemClock))
        .with_webhook_options(flexportal_app::delivery::WebhookOptions::from_env()))
}

/// Runs one command.
pub async fn run(url: String, cmd: Command) -> AnyResult {
    match cmd {
        Command::Serve {
            addr,
            jobs_interval,
        } => serve(&url, &addr, jobs_interval).await,
        Command::Report {
            command:
                ReportCommand::Portfolio {
                    tenant,
                    as_of,
                    json,
                },
        } => {
            // The files' storage of `serve`: the job removes the content of abandoned files.
            let app = open(&url).await?.with_files(file_storage()?);
            let as_of = match as_of {
                Some(d) => Some(
                    d.parse::<jiff::civil::Date>()
                        .map_err(|_| format!("--as-of {d:?} is not a date YYYY-MM-DD"))?,
                ),
                None => None,
            };
            let (ctx, p) = flexportal_app::reports::portfolio_of_unit(&app, &tenant, as_of)
                .await
                .map_err(|e| e.into_wire().message)?;
            let report = flexportal_api::model::reports::PortfolioReport::new(&ctx, &p);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", crate::report_table::portfolio(&report)?);
            }
            Ok(())
        }
        Command::Jobs {
            command:
                JobsCommand::Run {
                    tenant,
                    as_of,
                    json,
                },
        } => {
            // The files' storage of `serve`: the job removes the content of abandoned files.
            let app = open(&url).await?.with_files(file_storage()?);
            let as_of = match as_of {
                Some(d) => Some(
                    d.parse::<jiff::civil::Date>()
                        .map_err(|_| format!("--as-of {d:?} is not a date YYYY-MM-DD"))?,
                ),
                None => None,
            };
            let started = std::time::Instant::now();
            let r = flexportal_app::jobs::run(&app, tenant.as_deref(), as_of)
                .await
                .map_err(|e| e.into_wire().message)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!(
                    "Daily jobs done in {:.1}s for {} business units: {} contracts past their end, {} holdover charges, {} completed, {} renewals, {} late fees, {} empty files removed, {} failures (see the log)",
                    started.elapsed().as_secs_f64(),
                    r.business_units,
                    r.contracts_ended,
                    r.holdover_charges,
                    r.completed,
                    r.renewals,
                    r.late_fees,
                    r.empty_files_removed,
                    r.failures
                );
            }
            Ok(())
        }
        Command::Migrate => {
            open(&url).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Tenants { command } => tenants(&open(&url).await?, command).await,
        Command::Keys { command } => keys(&open(&url).await?, command).await,
        Command::Webhooks { command } => crate::webhooks::run(&open(&url).await?, command).await,
        Command::Import { command } => import(&open(&url).await?, command).await,
        Command::Export {
            command: ExportCommand::Rentals(args),
        } => crate::export::rentals(&open(&url).await?, args).await,
        Command::Demo {
            tenant,
            assets,
            orders,
            customers,
        } => {
            let app = open(&url).await?;
            let ctx = context(&app, tenant).await?;
            let size = flexportal_app::demo::DemoSize {
                assets,
                orders,
                customers,
            };
            let started = std::time::Instant::now();
            let s = flexportal_app::demo::load(&app, &ctx, size).await?;
            println!(
                "Demo loaded into {} in {:.1}s: {} products ({} variants), {} assets, {} orders, {} subscriptions, {} payments paid, {} cancelled",
                ctx.tenant_id,
                started.elapsed().as_secs_f64(),
                s.products,
                s.variants,
                s.assets,
                s.orders,
                s.subscriptions,
                s.payments_paid,
                s.payments_cancelled
            );
            Ok(())
        }
    }
}

async fn serve(url: &str, addr: &str, jobs_interval: u64) -> AnyResult {
    let app = open(url).await?.with_files(file_storage()?);
    if admin::list_tenants(&app).await?.is_empty() {
        let t = admin::create_tenant(&app, "Default", "EUR", None).await?;
        let k = admin::create_key(&app, &t.tenant_id, "Default key", KeyScope::All).await?;
        println!("Created business unit \"{}\" ({}).", t.name, t.currency);
        println!("  Tenant-ID: {}", t.tenant_id);
        println!("  API key:   {}   (shown once; store it now)", k.secret);
        println!("Try it:");
        println!(
            "  curl -H 'Authorization: Bearer {}' -H 'Tenant-ID: {}' http://{addr}/v1/assets",
            k.secret, t.tenant_id
        );
    }
    let state = AppState {
        app: app.clone(),
        usage: Arc::new(UsageBuffer::default()),
    };
    let flusher = flexportal_api::spawn_usage_flusher(state.clone(), Duration::from_secs(5));
    // PostgreSQL: key revocations by any process reach this one's key cache.
    let _credentials = app.watch_credentials();
    let deliveries = flexportal_app::delivery::spawn_worker(app.clone());
    let contracts = flexportal_app::auto_contracts::spawn_worker(app.clone());
    let jobs = (jobs_interval > 0).then(|| {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(jobs_interval));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match flexportal_app::jobs::run(&app, None, None).await {
                    Ok(r) => tracing::info!(report = ?r, "daily jobs done"),
                    Err(e) => tracing::error!(error = ?e, "daily jobs failed; retried next run"),
                }
            }
        })
    });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, engine = ?app.db.engine(), "listening");
    axum::serve(
        flexportal_api::listener(listener),
        flexportal_api::router(state.clone()),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down; finishing in-flight requests");
    })
    .await?;
    flusher.abort();
    deliveries.abort();
    contracts.abort();
    if let Some(j) = jobs {
        j.abort();
    }
    state.usage.flush(&app).await;
    Ok(())
}

async fn tenants(app: &App, cmd: TenantCommand) -> AnyResult {
    match cmd {
        TenantCommand::Create {
            name,
            currency,
            time_zone,
            json,
        } => {
            let t = admin::create_tenant(app, &name, &currency, time_zone.as_deref()).await?;
            if json {
                println!(
                    "{}",
                    json!({"tenantId": t.tenant_id, "name": t.name, "currency": t.currency, "timeZone": t.time_zone})
                );
            } else {
                println!(
                    "Created business unit {} ({}, {}): Tenant-ID {}",
                    t.name, t.currency, t.time_zone, t.tenant_id
                );
            }
        }
        TenantCommand::Templates { command } => crate::templates::run(app, command).await?,
        TenantCommand::Settings { command } => match command {
            SettingsCommand::Get { tenant } => {
                let s = admin::settings(app, &tenant).await?;
                println!("{}", serde_json::to_string_pretty(&s)?);
            }
            SettingsCommand::Set {
                tenant,
                document,
                merge,
            } => {
                let text = match document.as_str() {
                    "-" => std::io::read_to_string(std::io::stdin())?,
                    d => match d.strip_prefix('@') {
                        Some(path) => std::fs::read_to_string(path)?,
                        None => d.to_string(),
                    },
                };
                let doc: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| format!("the settings document is not JSON: {e}"))?;
                match admin::set_settings(app, &tenant, &doc, merge).await {
                    Ok(s) => println!("{}", serde_json::to_string_pretty(&s)?),
                    Err(e) => {
                        let wire = e.into_wire();
                        let mut text = wire.message.clone();
                        for d in &wire.details {
                            text.push_str(&format!("\n  {}: {} ({})", d.path, d.message, d.code));
                        }
                        return Err(text.into());
                    }
                }
            }
        },
        TenantCommand::List { json } => {
            let ts = admin::list_tenants(app).await?;
            if json {
                let v: Vec<_> = ts.iter().map(|t| json!({"tenantId": t.tenant_id, "name": t.name, "currency": t.currency, "timeZone": t.time_zone, "status": t.status})).collect();
                println!("{}", serde_json::Value::Array(v));
            } else {
                for t in ts {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        t.tenant_id, t.name, t.currency, t.time_zone, t.status
                    );
                }
            }
        }
    }
    Ok(())
}

async fn keys(app: &App, cmd: KeyCommand) -> AnyResult {
    match cmd {
        KeyCommand::Create {
            tenant,
            name,
            scope,
            json,
        } => {
            let scope = KeyScope::parse(&scope).ok_or("scope must be read, write or all")?;
            let k = admin::create_key(app, &tenant, &name, scope).await?;
            if json {
                println!(
                    "{}",
                    json!({"keyId": k.record.key_id, "tenantId": k.record.tenant_id, "name": k.record.name, "scope": k.record.scope, "apiKey": k.secret})
                );
            } else {
                println!(
                    "Key {} for {} (scope {}):\n{}\nShown once; only its hash is stored.",
                    k.record.key_id, tenant, k.record.scope, k.secret
                );
            }
        }
        KeyCommand::List { tenant, json } => {
            let mut c = app.db.read().await?;
            let ks = flexportal_store::api_keys::list(&mut c, &tenant).await?;
            if json {
                let v: Vec<_> = ks.iter().map(|k| json!({"keyId": k.key_id, "name": k.name, "scope": k.scope, "status": k.status, "usageCount": k.usage_count, "lastUsedAt": k.last_used_at.map(flexportal_domain::time::format_timestamp), "createdAt": flexportal_domain::time::format_timestamp(k.created_at)})).collect();
                println!("{}", serde_json::Value::Array(v));
            } else {
                for k in ks {
                    println!(
                        "{}\t{}\t{}\t{}\tused {} times",
                        k.key_id, k.name, k.scope, k.status, k.usage_count
                    );
                }
            }
        }
        KeyCommand::Revoke {
            key_id,
            tenant,
            json,
        } => {
            admin::revoke_key(app, &tenant, &key_id).await?;
            if json {
                println!("{}", json!({"keyId": key_id, "status": "revoked"}));
            } else {
                println!("Revoked {key_id}");
            }
        }
    }
    Ok(())
}

/// The file storage of `serve` (SPEC §2.9): `FLEXPORTAL_FILES_URL` (a local directory, default
/// `data/files`, or `s3://bucket[/prefix]` with the `AWS_*` variables), URLs signed with `FLEXPORTAL_FILES_SECRET` when set (else a secret kept in the
/// store, shared by every server on it), uploads limited to `FLEXPORTAL_FILES_MAX_BYTES` (default
/// 25 MiB).
fn file_storage() -> Result<flexportal_app::files::FileStorage, Box<dyn std::error::Error>> {
    let url = std::env::var("FLEXPORTAL_FILES_URL").unwrap_or_else(|_| "data/files".into());
    let mut fs = flexportal_app::files::FileStorage::from_url(&url, &[])
        .map_err(|e| format!("file storage FLEXPORTAL_FILES_URL={url}: {e}"))?;
    if let Ok(secret) = std::env::var("FLEXPORTAL_FILES_SECRET")
        && !secret.is_empty()
    {
        fs = fs.with_secret(&secret);
    }
    if let Ok(max) = std::env::var("FLEXPORTAL_FILES_MAX_BYTES") {
        fs =
            fs.with_max_upload_bytes(max.parse().map_err(|_| {
                format!("FLEXPORTAL_FILES_MAX_BYTES={max} is not a number of bytes")
            })?);
    }
    Ok(fs)
}

pub(crate) async fn context(
    app: &App,
    tenant: Option<String>,
) -> Result<TenantContext, Box<dyn std::error::Error>> {
    let all = admin::list_tenants(app).await?;
    let t = match tenant {
        Some(id) => all
            .into_iter()
            .find(|t| t.tenant_id == id)
            .ok_or("unknown business unit")?,
        None if all.len() == 1 => all.into_iter().next().ok_or("no business unit")?,
        None => {
            return Err("--tenant is required when the store has several business units".into());
        }
    };
    Ok(TenantContext {
        currency: Currency::parse(&t.currency).ok_or("invalid stored currency")?,
        time_zone: t.time_zone,
        settings: std::sync::Arc::new(flexportal_domain::settings::UnitSettings::from_stored(
            &t.settings,
        )?),
        tenant_id: t.tenant_id,
        actor: Actor {
            user_id: "system".into(),
            display_name: "Command line".into(),
        },
    })
}

async fn import(app: &App, cmd: ImportCommand) -> AnyResult {
    match cmd {
        ImportCommand::Products { file, tenant } => {
            let ctx = context(app, tenant).await?;
            let bytes = std::fs::read(&file)?;
            let o = flexportal_app::products_csv::import(app, &ctx, &bytes).await?;
            println!(
                "{} rows: {} products created, {} updated; {} variants created, {} updated; {} errors",
                o.total_rows,
                o.products_created,
                o.products_updated,
                o.variants_created,
                o.variants_updated,
                o.errors.len()
            );
            for e in &o.errors {
                println!(
                    "  row {}: {} ({})",
                    e.row,
                    e.error,
                    e.sku.as_deref().unwrap_or("-")
                );
            }
        }
        ImportCommand::Assets {
            file,
            tenant,
            report,
        } => {
            let ctx = context(app, tenant).await?;
            let size = std::fs::metadata(&file)?.len();
            let bar = indicatif::ProgressBar::new(size);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {per_sec} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let reader = bar.wrap_read(std::io::BufReader::with_capacity(
                1 << 20,
                std::fs::File::open(&file)?,
            ));
            let started = std::time::Instant::now();
            let progress = |rows: u64| bar.set_message(format!("{rows} rows"));
            let s = flexportal_app::assets_import::import(app, &ctx, reader, &progress).await?;
            bar.finish();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{} rows in {:.1}s: {} assets created, {} already existed, {} rejected",
                s.rows,
                secs,
                s.created,
                s.skipped_existing,
                s.errors.len()
            );
            if !s.errors.is_empty() {
                let mut w = csv::Writer::from_path(&report)?;
                w.write_record(["row", "serialNumber", "code", "message"])?;
                for e in &s.errors {
                    w.write_record([
                        e.row.to_string(),
                        e.serial_number.clone(),
                        e.code.clone(),
                        e.message.clone(),
                    ])?;
                }
                w.flush()?;
                println!("Rejected rows written to {}", report.display());
            }
        }
    }
    Ok(())
}
