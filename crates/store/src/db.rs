//! The database handle and its connections.

use std::sync::Arc;

use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_postgres::PostgresBinder;
use sea_query_rusqlite::RusqliteBinder;

pub use crate::notify::ListenEvent;
use crate::pg_shared::{SharedRead, SharedReaders};
use crate::row::FromRow;
use crate::scoped::Scoped;
use crate::sqlite_pool::{ReadGuard, SqlitePool, WriteGuard};
use crate::{Result, StoreError};

/// The storage engine behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A statement that renders for both engines.
pub trait Statement: RusqliteBinder + PostgresBinder {}
impl<T: RusqliteBinder + PostgresBinder> Statement for T {}

/// The database: SQLite (`sqlite://path`, `sqlite:path`, or a plain file path) or PostgreSQL
/// (`postgres://…`). Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<Inner>,
    /// Notified after a commit wrote webhook deliveries (the delivery worker waits on it).
    outbox_signal: Arc<tokio::sync::Notify>,
}

pub(crate) enum Inner {
    Sqlite(SqlitePool),
    Postgres(
        deadpool_postgres::Pool,
        Box<tokio_postgres::Config>,
        SharedReaders,
    ),
}

/// One connection: a SQLite reader, the SQLite writer in a transaction, or a pooled PostgreSQL
/// client (in a transaction when it came from [`Db::begin`]). Dropping a connection that is still
/// in a transaction rolls it back.
pub struct Conn {
    kind: Option<Kind>,
    in_tx: bool,
    /// A SQLite reader whose memory map was turned off for a snapshot, to restore at its end.
    unmapped: bool,
    /// Webhook events queued by the transaction, written by its commit.
    outbox: Vec<crate::webhooks::OutboxEvent>,
    /// The database's outbox signal, notified after a commit that wrote deliveries.
    outbox_signal: Option<Arc<tokio::sync::Notify>>,
}

enum Kind {
    SqliteRead(ReadGuard),
    SqliteWrite(WriteGuard),
    /// A PostgreSQL connection shared by reads outside a transaction (see [`crate::pg_shared`]).
    PostgresShared(SharedRead),
    Postgres(deadpool_postgres::Object),
}

impl Db {
    /// Opens the database named by `url`. PostgreSQL pools hold up to `max(4, 4 × cores)`
    /// connections for transactions, plus one per core (2 to 8) shared by reads outside a
    /// transaction ([`crate::pg_shared`]).
    pub async fn connect(url: &str) -> Result<Db> {
        let inner = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let cfg: tokio_postgres::Config = url
                .parse()
                .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
            let mgr = deadpool_postgres::Manager::from_config(
                cfg.clone(),
                tokio_postgres::NoTls,
                deadpool_postgres::ManagerConfig {
                    recycling_method: deadpool_postgres::RecyclingMethod::Fast,
                },
            );
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let readers = SharedReaders::new(cores.clamp(2, 8));
            let size = (cores * 4).max(4) + readers.len();
            let pool = deadpool_postgres::Pool::builder(mgr)
                .max_size(size)
                .build()
                .map_err(|e| StoreError::Config(e.to_string()))?;
            // Fail now, not on the first request, when the server is unreachable.
            drop(pool.get().await?);
            Inner::Postgres(pool, Box::new(cfg), readers)
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            if path.is_empty() || path.contains("://") {
                return Err(StoreError::Config(format!(
                    "unsupported database URL: {url}"
                )));
            }
            Inner::Sqlite(SqlitePool::open(std::path::Path::new(path))?)
        };
        Ok(Db {
            inner: Arc::new(inner),
            outbox_signal: Arc::default(),
        })
    }

    /// On PostgreSQL, spawns a task that holds a connection of its own listening on `channel`
    /// and reports to `on_event`: [`ListenEvent::Listening`] once `LISTEN` is in place,
    /// [`ListenEvent::Notified`] for each notification, [`ListenEvent::Lost`] when the connection
    /// ends (then it reconnects every second). `None` on SQLite, which has no notifications.
    pub fn spawn_listener(
        &self,
        channel: &'static str,
        on_event: impl Fn(ListenEvent) + Send + Sync + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let Inner::Postgres(_, cfg, _) = &*self.inner else {
            return None;
        };
        let cfg = (**cfg).clone();
        Some(tokio::spawn(async move {
            loop {
                if let Err(e) = crate::notify::listen(&cfg, channel, &on_event).await {
                    tracing::warn!(channel, error = %e, "notification listener lost");
                }
                on_event(ListenEvent::Lost);
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }))
    }

    /// SQLite: a stamp of the committed state of the database, taken without a transaction; two
    /// equal stamps mean that no write transaction (of any connection, in any process)
    /// committed in between. `None` on PostgreSQL, or when SQLite's WAL index cannot be read.
    pub fn write_stamp(&self) -> Option<crate::WriteStamp> {
        match &*self.inner {
            Inner::Sqlite(pool) => pool.write_stamp(),
            Inner::Postgres(..) => None,
        }
    }

    /// The engine in use.
    pub fn engine(&self) -> Engine {
        match &*self.inner {
            Inner::Sqlite(_) => Engine::Sqlite,
            Inner::Postgres(..) => Engine::Postgres,
        }
    }

    /// Applies pending migrations (`migrations/sqlite` or `migrations/postgres`, same names).
    pub async fn migrate(&self) -> Result<()> {
        self.migrate_to(None).await
    }

    /// Applies pending migrations up to `version` (`V<version>__…`), or all of them with `None`:
    /// for tests that build a database of an earlier schema and migrate it forward.
    pub async fn migrate_to(&self, version: Option<i32>) -> Result<()> {
        match &*self.inner {
            Inner::Sqlite(pool) => {
                let mut w = pool.write().await;
                crate::migrate::sqlite(&mut w, version)
            }
            Inner::Postgres(pool, ..) => {
                let mut obj = pool.get().await?;
                crate::migrate::postgres(&mut obj, version).await
            }
        }
    }

    /// A connection for reads outside a transaction. On PostgreSQL it is shared with other
    /// concurrent reads (their statements are pipelined, see [`crate::pg_shared`]): run only
    /// self-contained statements on it, never transaction control or session settings (take
    /// [`Db::exclusive`] for those). On SQLite the connection reads in a read transaction that
    /// the reader keeps across checkouts while nothing commits (see [`crate::sqlite_pool`]): its
    /// first statement sees the latest committed state, and its later statements see the same
    /// state, so a use case that must see its own later commit takes a new connection after it
    /// (as every use case does: reads end before writes begin).
    pub async fn read(&self) -> Result<Conn> {
        let kind = match &*self.inner {
            Inner::Sqlite(pool) => Kind::SqliteRead(pool.read().await?),
            Inner::Postgres(pool, _, shared) => Kind::PostgresShared(shared.take(pool).await?),
        };
        Ok(Conn::idle(kind))
    }

    /// A connection of its own (on PostgreSQL not shared with other reads; on SQLite a reader
    /// with no transaction open), for statements that change its session (a snapshot's
    /// `BEGIN`, `SET`, `PREPARE`).
    pub async fn exclusive(&self) -> Result<Conn> {
        let kind = match &*self.inner {
            Inner::Sqlite(pool) => Kind::SqliteRead(pool.read_exclusive().await?),
            Inner::Postgres(pool, ..) => Kind::Postgres(pool.get().await?),
        };
        Ok(Conn::idle(kind))
    }

    /// A connection in a read-only transaction: every statement sees the same snapshot of the
    /// store (SQLite: a deferred transaction on a reader; PostgreSQL: `REPEATABLE READ READ
    /// ONLY`), for reads made of several statements that must agree (an export's count and its
    /// rows). On SQLite the snapshot reads through the connection's bounded page cache instead of
    /// the memory map, so a scan of millions of rows does not map the table into the process
    /// (the map is restored when the snapshot ends). End it with [`Conn::commit`]; dropped, it
    /// rolls back.
    pub async fn read_snapshot(&self) -> Result<Conn> {
        let mut c = self.exclusive().await?;
        match c.engine() {
            Engine::Sqlite => {
                c.batch("PRAGMA mmap_size=0; BEGIN").await?;
                c.unmapped = true;
            }
            Engine::Postgres => {
                c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        }
        c.in_tx = true;
        Ok(c)
    }

    /// A connection in a write transaction (`BEGIN IMMEDIATE` on SQLite, so the transaction holds
    /// the write lock from its first statement). Commit with [`Conn::commit`].
    pub async fn begin(&self) -> Result<Conn> {
        let kind = match &*self.inner {
            Inner::Sqlite(pool) => {
                let w = pool.write().await;
                w.execute_batch("BEGIN IMMEDIATE")?;
                Kind::SqliteWrite(w)
            }
            Inner::Postgres(pool, ..) => {
                let obj = pool.get().await?;
                obj.batch_execute("BEGIN").await?;
                Kind::Postgres(obj)
            }
        };
        Ok(Conn {
            kind: Some(kind),
            in_tx: true,
            unmapped: false,
            outbox: Vec::new(),
            outbox_signal: Some(self.outbox_signal.clone()),
        })
    }

    /// Notified after each commit that wrote webhook deliveries in this process (a permit is kept
    /// when nobody waits, so a waiter cannot miss one).
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }

    /// Refreshes the planner statistics of `table` after a bulk load: PostgreSQL `ANALYZE`
    /// (autovacuum may be off or late), SQLite `ANALYZE` on a sample of rows.
    pub async fn analyze(&self, table: &'static str) -> Result<()> {
        let mut tx = self.begin().await?;
        match self.engine() {
            Engine::Sqlite => {
                tx.batch(&format!("PRAGMA analysis_limit=2000; ANALYZE {table}"))
                    .await?
            }
            Engine::Postgres => tx.batch(&format!("ANALYZE {table}")).await?,
        }
        tx.commit().await
    }

    /// Checks that the store answers (`SELECT 1`).
    pub async fn ping(&self) -> Result<()> {
        let mut c = self.read().await?;
        c.batch("SELECT 1").await
    }

    /// The SQLite file path, if this is SQLite.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match &*self.inner {
            Inner::Sqlite(p) => Some(&p.path),
            Inner::Postgres(..) => None,
        }
    }
}

impl Conn {
    /// A connection outside a transaction.
    fn idle(kind: Kind) -> Conn {
        Conn {
            kind: Some(kind),
            in_tx: false,
            unmapped: false,
            outbox: Vec::new(),
            outbox_signal: None,
        }
    }

    /// The engine of this connection.
    pub fn engine(&self) -> Engine {
        match self.kind {
            Some(Kind::Postgres(_) | Kind::PostgresShared(_)) => Engine::Postgres,
            _ => Engine::Sqlite,
        }
    }

    fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self.kind.as_ref()? {
            Kind::SqliteRead(r) => Some(r.conn()),
            Kind::SqliteWrite(w) => Some(w),
            Kind::Postgres(_) | Kind::PostgresShared(_) => None,
        }
    }

    /// Runs `f` on the SQLite connection, if this is SQLite. Statements of the writer (bulk
    /// imports, billing runs: writes that may take long) run under
    /// [`tokio::task::block_in_place`] on a multi-threaded runtime, so the worker thread hands its
    /// other tasks to another thread instead of stalling them; readers (indexed reads of
    /// microseconds) run inline, where a thread hand-off would cost more than the read.
    pub(crate) fn with_sqlite<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> T) -> Option<T> {
        match self.kind.as_ref()? {
            Kind::SqliteRead(r) => Some(f(r.conn())),
            Kind::SqliteWrite(w) => Some(off_the_workers(|| f(w))),
            Kind::Postgres(_) | Kind::PostgresShared(_) => None,
        }
    }

    pub(crate) fn pg(&self) -> Option<&deadpool_postgres::Object> {
        match self.kind.as_ref()? {
            Kind::Postgres(o) => Some(o),
            Kind::PostgresShared(s) => Some(s.client()),
            _ => None,
        }
    }

    /// Runs a query and decodes every row.
    pub async fn fetch_all<T: FromRow, S: Statement>(
        &mut self,
        stmt: &Scoped<S>,
    ) -> Result<Vec<T>> {
        let sqlite = self.with_sqlite(|conn| -> Result<Vec<T>> {
            let (sql, values) = stmt.build_rusqlite(SqliteQueryBuilder);
            let mut st = conn.prepare_cached(&sql)?;
            // Column names read once per statement, not once per column of every row.
            let names: Vec<String> = st.column_names().into_iter().map(String::from).collect();
            sqlite_rows(&mut st, &*values.as_params(), &names)
        });
        if let Some(result) = sqlite {
            return result;
        }
        let (sql, values) = stmt.build_postgres(PostgresQueryBuilder);
        self.pg_rows(&sql, &values.as_params()).await
    }

    /// PostgreSQL: runs `sql` (prepared once per connection) with `params` and decodes every
    /// row. Errors: [`StoreError::Pool`] on a released or SQLite connection.
    pub(crate) async fn pg_rows<T: FromRow>(
        &mut self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<T>> {
        let obj = self.pg().ok_or_else(closed)?;
        let st = obj.prepare_cached(sql).await?;
        let rows = obj.query(&st, params).await?;
        let in_order = crate::row::in_order::<T>(st.columns().iter().map(|c| c.name()));
        rows.iter()
            .map(|r| crate::row::decode(r, in_order))
            .collect()
    }

    /// Runs a query and decodes the first row, if any.
    pub async fn fetch_optional<T: FromRow, S: Statement>(
        &mut self,
        stmt: &Scoped<S>,
    ) -> Result<Option<T>> {
        Ok(self.fetch_all(stmt).await?.into_iter().next())
    }

    /// Runs literal SQL without parameters and decodes every row: for engine-specific
    /// introspection (schema checks, query plans), never for tenant data.
    pub async fn fetch_all_sql<T: FromRow>(&mut self, sql: &str) -> Result<Vec<T>> {
        if let Some(conn) = self.sqlite() {
            let mut st = conn.prepare(sql)?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(T::from_row(row)?);
            }
            return Ok(out);
        }
        let obj = self.pg().ok_or_else(closed)?;
        let rows = obj.query(sql, &[]).await?;
        rows.iter().map(|r| T::from_row(r)).collect()
    }

    /// Runs a statement and returns the number of rows it changed.
    pub async fn execute<S: Statement>(&mut self, stmt: &Scoped<S>) -> Result<u64> {
        let sqlite = self.with_sqlite(|conn| -> Result<u64> {
            let (sql, values) = stmt.build_rusqlite(SqliteQueryBuilder);
            let mut st = conn.prepare_cached(&sql)?;
            Ok(st.execute(&*values.as_params())? as u64)
        });
        if let Some(result) = sqlite {
            return result;
        }
        let obj = self.pg().ok_or_else(closed)?;
        let (sql, values) = stmt.build_postgres(PostgresQueryBuilder);
        let st = obj.prepare_cached(&sql).await?;
        Ok(obj.execute(&st, &values.as_params()).await?)
    }

    /// PostgreSQL only: runs a statement of fixed text (prepared once per connection) with
    /// `params`, for engine-specific statements (array parameters); `None` on SQLite.
    pub(crate) async fn pg_execute(
        &mut self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Option<Result<u64>> {
        let obj = self.pg()?;
        let run = async {
            let st = obj.prepare_cached(sql).await?;
            Ok(obj.execute(&st, params).await?)
        };
        Some(run.await)
    }

    /// PostgreSQL inside a transaction: runs `sql` (fixed text) once per parameter list, then
    /// commits, everything sent in one round trip (the statements are queued on the connection
    /// before the `COMMIT`). When a statement fails, PostgreSQL rolls the transaction back at that
    /// `COMMIT` and the statement's error is returned. `None`, with nothing done, on SQLite or
    /// outside a transaction.
    pub(crate) async fn pg_execute_and_commit(
        &mut self,
        sql: &str,
        params: &[Vec<&(dyn tokio_postgres::types::ToSql + Sync)>],
    ) -> Option<Result<()>> {
        if !self.in_tx {
            return None;
        }
        let obj = self.pg()?;
        let run = async {
            let st = obj.prepare_cached(sql).await?;
            let statements =
                futures_util::future::try_join_all(params.iter().map(|p| obj.execute(&st, p)));
            // Polled in order: the statements are queued before the COMMIT.
            let (done, committed) =
                futures_util::future::join(statements, obj.batch_execute("COMMIT")).await;
            done?;
            committed?;
            Ok(())
        };
        let result = run.await;
        self.in_tx = false;
        Some(result)
    }

    /// Runs literal SQL without parameters (engine-specific statements, pings).
    pub async fn batch(&mut self, sql: &str) -> Result<()> {
        if let Some(result) = self.with_sqlite(|conn| conn.execute_batch(sql)) {
            return Ok(result?);
        }
        let obj = self.pg().ok_or_else(closed)?;
        Ok(obj.batch_execute(sql).await?)
    }

    /// Serialises the transactions that take the same `key` in one business unit until they
    /// end: PostgreSQL `pg_advisory_xact_lock` on a hash of the tenant and key; nothing on
    /// SQLite, whose write transaction already excludes every other writer. For rows that do not
    /// exist yet (a product SKU about to be created), which `FOR UPDATE` cannot lock.
    pub async fn lock_key(&mut self, tenant_id: &str, key: &str) -> Result<()> {
        let Some(obj) = self.pg() else {
            return Ok(());
        };
        let key = format!("{tenant_id}/{key}");
        let st = obj
            .prepare_cached("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .await?;
        obj.query(&st, &[&key]).await?;
        Ok(())
    }

    /// Renders a statement for this connection's engine (for `EXPLAIN` and diagnostics).
    pub fn render<S: Statement>(&self, stmt: &S) -> String {
        match self.engine() {
            Engine::Sqlite => stmt.build_rusqlite(SqliteQueryBuilder).0,
            Engine::Postgres => stmt.build_postgres(PostgresQueryBuilder).0,
        }
    }

    /// The raw SQLite connection, for engine-specific paths (bulk loads); `None` on PostgreSQL.
    pub fn raw_sqlite(&self) -> Option<&rusqlite::Connection> {
        self.sqlite()
    }

    /// The raw PostgreSQL client, for engine-specific paths (bulk loads); `None` on SQLite.
    pub fn raw_postgres(&self) -> Option<&tokio_postgres::Client> {
        self.pg().map(|o| &***o)
    }

    /// Queues a webhook event (SPEC §2.11) on the transaction: written by [`Conn::commit`] in the
    /// same transaction, dropped with it on rollback.
    pub fn emit(&mut self, event: crate::webhooks::OutboxEvent) {
        self.outbox.push(event);
    }

    /// Commits the transaction, with the webhook events queued on it (on PostgreSQL their insert
    /// and the `COMMIT` go in one round trip: [`crate::webhooks::write_deliveries`]).
    pub async fn commit(mut self) -> Result<()> {
        let mut wrote = 0;
        let mut committed = false;
        if !self.outbox.is_empty() {
            let events = std::mem::take(&mut self.outbox);
            let deliveries = crate::webhooks::fan_out(&mut self, events).await?;
            wrote = deliveries.len();
            if wrote > 0 {
                committed = crate::webhooks::write_deliveries(&mut self, &deliveries).await?;
            }
        }
        if self.in_tx && !committed {
            self.batch("COMMIT").await?;
            self.in_tx = false;
        }
        self.restore_map();
        if wrote > 0
            && let Some(signal) = &self.outbox_signal
        {
            signal.notify_one();
        }
        Ok(())
    }

    /// Gives a SQLite reader its memory map back after a snapshot.
    fn restore_map(&mut self) {
        if std::mem::take(&mut self.unmapped)
            && let Some(Kind::SqliteRead(r)) = self.kind.as_ref()
        {
            let _ = r.conn().execute_batch(&format!(
                "PRAGMA mmap_size={}",
                crate::sqlite_pool::MMAP_BYTES
            ));
        }
    }

    /// Rolls the transaction back.
    pub async fn rollback(mut self) -> Result<()> {
        if self.in_tx {
            self.in_tx = false;
            self.batch("ROLLBACK").await?;
        }
        Ok(())
    }
}

/// Runs blocking work without stalling the async runtime: under `block_in_place` on a
/// multi-threaded runtime, inline elsewhere (current-thread runtimes, plain threads).
fn off_the_workers<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Decodes every row of a SQLite statement run with `params`, reading columns by the
/// statement's `names` (read once per statement, not once per column of every row).
pub(crate) fn sqlite_rows<T: FromRow>(
    st: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    names: &[String],
) -> Result<Vec<T>> {
    let in_order = crate::row::in_order::<T>(names.iter().map(String::as_str));
    let mut rows = st.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(crate::row::decode(
            &crate::row::Named { row, names },
            in_order,
        )?);
    }
    Ok(out)
}

fn closed() -> StoreError {
    StoreError::Pool("connection already released".into())
}

impl Drop for Conn {
    fn drop(&mut self) {
        // A reader's snapshot ends here: roll it back, then give the reader its map back.
        if self.in_tx
            && let Some(Kind::SqliteRead(r)) = self.kind.as_ref()
        {
            let _ = r.conn().execute_batch("ROLLBACK");
        }
        self.restore_map();
        if !self.in_tx {
            return;
        }
        match self.kind.take() {
            Some(Kind::SqliteWrite(w)) => {
                let _ = w.execute_batch("ROLLBACK");
            }
            Some(Kind::Postgres(obj)) => {
                // Roll back before the connection goes back to the pool; without a runtime the
                // connection is discarded instead.
                match tokio::runtime::Handle::try_current() {
                    Ok(h) => {
                        h.spawn(async move {
                            if obj.batch_execute("ROLLBACK").await.is_err() {
                                drop(deadpool_postgres::Object::take(obj));
                            }
                        });
                    }
                    Err(_) => drop(deadpool_postgres::Object::take(obj)),
                }
            }
            _ => {}
        }
    }
}
