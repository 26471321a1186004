//! `flexportal-bench`: the FlexPortal benchmark harness. Each scenario builds its own dataset in
//! fresh stores, measures, prints its figures with a baseline measured in the same run, and
//! removes what it created. See `crates/bench/README.md`.
//!
//! - `import`: `flexportal_app::assets_import::import` against the raw driver inserting the same
//!   rows (one transaction, one prepared single-row INSERT per row).
//! - `assets-http`: the real server under keep-alive load: asset list and get against
//!   `GET /healthz`, and the deep-page check of the keyset pagination.
//! - `fulfil-http`: order fulfilment (`POST /v1/subscriptions`, a subscription with its 36-payment
//!   schedule per request) over keep-alive connections against raw single-transaction commits of
//!   the same rows with the same concurrency.
//! - `rentals-http`: payment and subscription lists of one rental / one customer in a unit with
//!   about a million payments, against `GET /healthz`, with the query plans.
//! - `import-under-load`: `GET /v1/assets/{serialNumber}` latency while a bulk asset import runs on
//!   the server's own runtime, against the same load on the idle server.
//! - `jobs`: the daily jobs (contract end, late fees) over a unit with 100,000 subscriptions and
//!   3.6 million payments: rows changed per second and memory, against the raw driver writing
//!   the same row changes.
//! - `lifecycle-http`: extend, replace, buyout, early return, cancel and calculate-buyout over
//!   HTTP, each against raw single-transaction commits of the same rows (the reads, for the
//!   quote) with the same concurrency.
//! - `webhooks`: fulfilment over HTTP with and without a webhook endpoint (the delivery worker in
//!   the server's process), the worker's throughput on a queue, the commit-to-delivery lag under
//!   paced load, and `POST /v1/orders` with and without an `Idempotency-Key`.

/// mimalloc as the allocator: requests allocate and free many small strings from several threads,
/// which it serves from thread-local pages without glibc's arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod catalog;
mod dataset;
mod export;
mod files;
mod fulfil;
mod groups;
mod http;
mod import;
mod import_load;
mod jobs;
mod lifecycle;
mod loadgen;
mod plan;
mod portfolio;
mod raw;
mod raw_fulfil;
mod raw_jobs;
mod raw_lifecycle;
mod rentals;
mod rss;
mod stats;
mod store;
mod webhooks;

use clap::{Parser, Subcommand, ValueEnum};

/// Storage engine of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// A new SQLite file under a temporary directory.
    Sqlite,
    /// A new database on the server of `FLEXPORTAL_BENCH_DATABASE_URL`.
    Postgres,
}

impl Engine {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Parser)]
#[command(
    name = "flexportal-bench",
    about = "FlexPortal benchmarks: bulk import, HTTP load and fulfilment"
)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Bulk asset import (the `flexportal import assets` path) against raw driver inserts.
    Import(import::ImportArgs),
    /// Asset list and get over HTTP against /healthz, and the deep-page check.
    AssetsHttp(http::HttpArgs),
    /// Order fulfilment (POST /v1/subscriptions) over HTTP against raw driver transactions.
    FulfilHttp(fulfil::FulfilArgs),
    /// Payment and subscription lists over HTTP against /healthz, with their query plans.
    RentalsHttp(rentals::RentalsArgs),
    /// Asset get over HTTP while a bulk asset import runs in the server's process, against idle.
    ImportUnderLoad(import_load::ImportLoadArgs),
    /// The daily jobs (contract end, late fees) against raw driver writes of the same rows.
    Jobs(jobs::JobsArgs),
    /// Subscription lifecycle actions over HTTP against raw driver transactions of the same rows.
    LifecycleHttp(lifecycle::LifecycleArgs),
    /// Creating and deleting a billing group of 500 member rentals (17,500 charges consolidated).
    Groups(groups::GroupsArgs),
    /// The portfolio report over a unit of many subscriptions and assets.
    Portfolio(portfolio::PortfolioArgs),
    /// The rentals export of an existing store's unit (optionally grown by copies) to a file.
    Export(export::ExportArgs),
    /// Signed download of a large file against a disk read; contract PDFs per second.
    Files(files::FilesArgs),
    /// Webhook delivery: fulfilment with and without an endpoint, delivery throughput and lag;
    /// POST /v1/orders with and without an Idempotency-Key.
    Webhooks(webhooks::WebhooksArgs),
}

/// The machine's load average (`/proc/loadavg`), printed with each scenario: other processes
/// running during a benchmark skew its figures.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    // As `flexportal serve`: request spans exist; nothing per request is logged at `info`.
    flexportal_api::logging::init_logging();
    match Cli::parse().scenario {
        Scenario::Import(args) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(import::run(args));
        }
        Scenario::AssetsHttp(args) => http::run(args),
        Scenario::FulfilHttp(args) => fulfil::run(args),
        Scenario::RentalsHttp(args) => rentals::run(args),
        Scenario::ImportUnderLoad(args) => import_load::run(args),
        Scenario::Jobs(args) => jobs::run(args),
        Scenario::LifecycleHttp(args) => lifecycle::run(args),
        Scenario::Groups(args) => groups::run(args),
        Scenario::Portfolio(args) => portfolio::run(args),
        Scenario::Export(args) => export::run(args),
        Scenario::Files(args) => files::run(args),
        Scenario::Webhooks(args) => webhooks::run(args),
    }
}
