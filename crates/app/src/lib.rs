//! FlexPortal use cases. Each public use case opens at most one transaction, loads through the
//! tenant-scoped store (every store call takes the tenant id), applies the domain rules and commits.
//!
//! Ports: [`Clock`] for "now" (tests and billing runs set it).

pub mod admin;
pub mod amendments;
pub mod asset_history;
pub mod assets;
pub mod assets_import;
pub mod auto_contracts;
pub mod billing_groups;
pub mod consolidation;
pub mod contract_pdf;
pub mod contracts;
pub mod customers;
pub mod delivery;
pub mod demo;
pub mod endings;
pub mod error;
pub mod events;
pub mod exports;
pub mod files;
pub mod fulfilment;
pub mod input;
pub mod jobs;
pub mod keycache;
pub mod lifecycle;
pub mod list;
pub mod orders;
pub mod orders_input;
pub mod payments;
pub mod products;
pub mod products_csv;
pub mod products_input;
pub mod reports;
pub mod request_tx;
pub mod settings;
pub mod subscriptions;
pub mod upgrades;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use flexportal_domain::Currency;
use flexportal_store::{Db, StoreError};

pub use error::{AppError, AppResult, ErrorKind};
#[doc(hidden)]
pub use flexportal_store::Conn;

/// The source of "now", in epoch milliseconds (UTC).
pub trait Clock: Send + Sync {
    /// Current time in epoch milliseconds.
    fn now_millis(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// A clock that tests set and advance by hand.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock at `millis`.
    pub fn new(millis: i64) -> Self {
        ManualClock(AtomicI64::new(millis))
    }
    /// Sets the time.
    pub fn set(&self, millis: i64) {
        self.0.store(millis, Ordering::SeqCst);
    }
    /// Moves the time forward.
    pub fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The application: the database, the clock and what every use case shares. Cheap to clone:
/// one reference count, since every request clones it several times (router, middleware,
/// extractors). Its parts are read through `Deref` (`app.db`, `app.clock`).
#[derive(Clone)]
pub struct App(Arc<AppParts>);

impl std::ops::Deref for App {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// What an [`App`] holds.
#[derive(Clone)]
pub struct AppParts {
    /// The store.
    pub db: Db,
    /// "Now".
    pub clock: Arc<dyn Clock>,
    /// Resolved API keys of this process.
    pub keys: Arc<keycache::KeyCache>,
    /// File content storage and the URL-signing key (SPEC §2.9).
    pub files: files::FileStorage,
    /// How webhooks are delivered (SPEC §2.11).
    pub webhook_options: delivery::WebhookOptions,
    /// The HTTP client of webhook attempts, built on first use.
    webhook_client: Arc<std::sync::OnceLock<reqwest::Client>>,
    /// API requests in flight, which the delivery worker yields to.
    pub foreground: Arc<delivery::Foreground>,
    /// Concurrent single-asset reads, coalesced into one statement on PostgreSQL.
    pub asset_reads:
        Arc<flexportal_store::coalesce::Coalescer<flexportal_store::assets::AssetRecord>>,
}

impl App {
    /// Builds the application over a migrated database. On SQLite the key cache works at once
    /// (epoch mode); on PostgreSQL it waits for [`App::watch_credentials`].
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        let mode = match db.engine() {
            flexportal_store::Engine::Sqlite => keycache::Mode::Epoch,
            flexportal_store::Engine::Postgres => keycache::Mode::Off,
        };
        App(Arc::new(AppParts {
            db,
            clock,
            keys: Arc::new(keycache::KeyCache::new(mode)),
            files: files::FileStorage::in_memory(),
            webhook_options: delivery::WebhookOptions::default(),
            webhook_client: Arc::default(),
            foreground: Arc::default(),
            asset_reads: flexportal_store::coalesce::Coalescer::new(
                std::thread::available_parallelism().map_or(4, |n| (2 * n.get()).clamp(4, 16)),
            ),
        }))
    }

    /// The same application delivering webhooks with `options`.
    pub fn with_webhook_options(mut self, options: delivery::WebhookOptions) -> Self {
        let parts = Arc::make_mut(&mut self.0);
        parts.webhook_options = options;
        parts.webhook_client = Arc::default();
        self
    }

    /// The HTTP client of webhook attempts (built once per application, from its options).
    pub fn webhook_client(&self) -> reqwest::Client {
        self.webhook_client
            .get_or_init(|| delivery::client(&self.webhook_options))
            .clone()
    }

    /// The same application with its file content in `files`.
    pub fn with_files(mut self, files: files::FileStorage) -> Self {
        Arc::make_mut(&mut self.0).files = files;
        self
    }

    /// On PostgreSQL, starts listening for credential changes made by any process, which enables
    /// the key cache while the listener is connected. `None` on SQLite.
    pub fn watch_credentials(&self) -> Option<tokio::task::JoinHandle<()>> {
        let keys = self.keys.clone();
        self.db
            .spawn_listener(keycache::CHANNEL, move |e| keys.on_listen_event(e))
    }
    /// A write transaction: a new one, or the request transaction when the caller opened one
    /// ([`request_tx`]). Commit it with [`request_tx::Tx::commit`].
    pub async fn begin(&self) -> Result<request_tx::Tx, StoreError> {
        request_tx::begin(&self.db).await
    }

    /// Current time in epoch milliseconds.
    pub fn now(&self) -> i64 {
        self.clock.now_millis()
    }
}

/// Who is calling (SPEC §1.15): for API keys `userId = "apikey:<keyId>"`, display name = key name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `apikey:<keyId>` or `system`.
    pub user_id: String,
    /// Key name or `System`.
    pub display_name: String,
}

/// The business unit a request works in, resolved by authentication.
#[derive(Debug, Clone)]
pub struct TenantContext {
    /// The `Tenant-ID`.
    pub tenant_id: String,
    /// The unit's currency (money exponent).
    pub currency: Currency,
    /// The unit's IANA time zone.
    pub time_zone: String,
    /// The unit's settings document (SPEC §2.1); `{}` means defaults.
    pub settings: Arc<flexportal_domain::settings::UnitSettings>,
    /// The caller.
    pub actor: Actor,
}

impl TenantContext {
    /// Decimal digits of the unit's currency.
    pub fn exponent(&self) -> u32 {
        self.currency.exponent()
    }
}

/// A storage failure as a use-case error: retryable when a concurrent transaction won, otherwise
/// internal (500 at the edge, logged there).
pub fn internal(e: StoreError) -> AppError {
    AppError::from(e)
}

/// Stored data that cannot be decoded: 500 `INTERNAL_ERROR`, never read as a default.
pub fn corrupt(e: impl std::fmt::Display) -> AppError {
    AppError::corrupt(e)
}

/// 400 `VALIDATION_ERROR` for an amount or quantity computation that does not fit
/// ([`flexportal_domain::money::Overflow`]), naming the field `path` that made it overflow.
pub fn overflow(path: impl Into<String>) -> AppError {
    AppError::field(
        path,
        "too_big",
        "The resulting amount is too large (the limit is 10^15 minor units)",
    )
}
