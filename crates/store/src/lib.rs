//! FlexPortal storage: one [`Db`] over SQLite (embedded default) and PostgreSQL.
//!
//! Every statement is written once with `sea-query` and rendered for the active engine
//! ([`Conn::fetch_all`], [`Conn::execute`]); every row type is decoded once through [`Row`].
//! Every tenant-owned table is keyed by `tenant_id` first, and a connection runs only [`Scoped`]
//! statements, which carry their business unit, so a query that forgets the tenant does not
//! compile.

pub mod api_keys;
pub mod asset_changes;
pub mod assets;
pub mod assignments;
pub mod billing_groups;
pub mod coalesce;
pub mod contract_jobs;
pub mod contract_templates;
pub mod customers;
mod db;
mod error;
pub mod exports;
pub mod files;
mod fixed;
pub mod idempotency;
mod migrate;
mod notify;
pub mod orders;
pub mod page;
pub mod payment_lines;
pub mod payments;
mod pg_shared;
pub mod products;
pub mod record;
pub mod reports;
mod row;
mod scoped;
mod sqlite_pool;
pub mod subscription_events;
pub mod subscriptions;
pub mod tenants;
pub mod variants;
mod wal_stamp;
pub mod webhooks;

pub use db::{Conn, Db, Engine, ListenEvent, Statement};
pub use error::StoreError;
pub use fixed::FixedQuery;
pub use row::{FromRow, Row};
pub use scoped::Scoped;
pub use sea_query;
pub use wal_stamp::WriteStamp;

/// Result of every storage call.
pub type Result<T> = std::result::Result<T, StoreError>;

/// A SQLite store at a new file in a directory of its own under the system's temporary
/// directory: (directory, database file, store). For the crate's unit tests.
#[cfg(test)]
pub(crate) async fn temp_sqlite(name: &str) -> (std::path::PathBuf, std::path::PathBuf, Db) {
    let dir = std::env::temp_dir().join(format!(
        "flexportal-{name}-{}-{}",
        std::process::id(),
        flexportal_domain::ids::random_token(8)
    ));
    let path = dir.join(format!("{name}.db"));
    let db = Db::connect(path.to_str().unwrap()).await.unwrap();
    (dir, path, db)
}
