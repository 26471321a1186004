//! `flexportal`: the FlexPortal server and its admin commands.
//!
//! - `serve`: the HTTP API (applies migrations; on a first start with an empty store creates a
//!   business unit and prints its Tenant-ID and an API key once).
//! - `migrate`: applies migrations.
//! - `tenants create|list`, `keys create|list|revoke`: business units and API keys (SPEC §2.1).
//! - `import products|assets FILE`: bulk loads with row-level error reports.
//! - `export rentals`: the rentals CSV on standard output.
//! - `jobs run`: the daily jobs (contract end, late fees), also run by `serve` on a schedule.
//! - `webhooks add|list|remove|rotate-secret|deliveries|replay`: webhook endpoints and their
//!   delivery log (`serve` delivers).

mod commands;
mod export;
mod report_table;
mod templates;
mod webhooks;

/// mimalloc as the allocator: requests allocate and free many small strings from several threads,
/// which it serves from thread-local pages without glibc's arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Default store: an embedded SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/flexportal.db";

#[derive(Parser)]
#[command(
    name = "flexportal",
    version,
    about = "Self-hostable FlexPortal rental platform"
)]
struct Cli {
    /// `sqlite://PATH` (default `sqlite://data/flexportal.db`) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, env = "FLEXPORTAL_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API, and the daily jobs on a schedule.
    Serve {
        /// Listen address.
        #[arg(long, env = "FLEXPORTAL_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Seconds between runs of the daily jobs (contract end, late fees); 0 turns them off.
        #[arg(long, env = "FLEXPORTAL_JOBS_INTERVAL", default_value_t = 3600)]
        jobs_interval: u64,
    },
    /// Apply pending migrations.
    Migrate,
    /// Business units.
    Tenants {
        #[command(subcommand)]
        command: commands::TenantCommand,
    },
    /// API keys.
    Keys {
        #[command(subcommand)]
        command: commands::KeyCommand,
    },
    /// Load a living demo business into a business unit: a catalog, a few thousand assets, a
    /// few hundred customers and orders in every state, and a year of payment history.
    Demo {
        /// Business unit id (optional when the store has exactly one).
        #[arg(long)]
        tenant: Option<String>,
        /// Assets to register.
        #[arg(long, default_value_t = 3000)]
        assets: usize,
        /// Orders to place over the past year.
        #[arg(long, default_value_t = 400)]
        orders: usize,
        /// Distinct customers.
        #[arg(long, default_value_t = 300)]
        customers: usize,
    },
    /// The daily jobs: contract end (holdover, termination, renewals) and late fees.
    Jobs {
        #[command(subcommand)]
        command: commands::JobsCommand,
    },
    /// Reports (SPEC 2.13).
    Report {
        #[command(subcommand)]
        command: commands::ReportCommand,
    },
    /// Bulk imports from CSV.
    Import {
        #[command(subcommand)]
        command: commands::ImportCommand,
    },
    /// Exports to CSV on standard output (SPEC 2.10).
    Export {
        #[command(subcommand)]
        command: commands::ExportCommand,
    },
    /// Webhook endpoints, their delivery log and replays (SPEC 2.11).
    Webhooks {
        #[command(subcommand)]
        command: webhooks::WebhookCommand,
    },
}

fn main() -> std::process::ExitCode {
    flexportal_api::logging::init_logging();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(commands::run(cli.database_url, cli.command)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
