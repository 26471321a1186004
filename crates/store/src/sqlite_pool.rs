//! A small SQLite pool: one writer connection behind an async mutex (one writer at a time, so
//! writers queue without spinning on SQLite's lock) and a fixed set of reader connections (WAL lets
//! them read while the writer writes). Reader statements run inline on the calling task: an
//! embedded SQLite read on an indexed path takes microseconds, less than a hop to a blocking
//! thread. Writer statements, which a bulk import or a billing run makes long, run under
//! `block_in_place` (see `Conn`), so they never stall the other tasks of the worker thread.
//!
//! **Kept read transactions.** Beginning and ending a WAL read transaction (the database file's
//! shared lock, a read mark in the WAL index, the library's mutexes) costs about as much as an
//! indexed read itself. A reader therefore keeps its read transaction open between checkouts
//! while the database's write stamp ([`crate::WriteStamp`]) has not moved: nothing committed
//! since, so its snapshot is still the latest state and a read in it sees what a new
//! transaction would. A checkout that finds the stamp moved, or the snapshot older than
//! [`SNAPSHOT_AGE`], ends it and begins a new one. An open read transaction keeps a checkpoint
//! from restarting the WAL, so idle readers do not keep theirs: a sweeper thread ends every
//! idle snapshot that is stale or older than [`SNAPSHOT_AGE`], every [`SNAPSHOT_AGE`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::WriteStamp;
use crate::wal_stamp::WalIndex;
use crate::{Result, StoreError};

/// Readers kept open.
const READERS: usize = 8;

/// Longest a reader keeps one read transaction, and how often idle readers are swept. Bounds
/// how long a kept snapshot can hold back the restart of the WAL after a checkpoint.
pub(crate) const SNAPSHOT_AGE: Duration = Duration::from_millis(25);

pub(crate) struct SqlitePool {
    pub(crate) path: PathBuf,
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
}

/// What the pool, its borrowed readers and the sweeper share.
struct Shared {
    /// The writer; it also keeps the WAL index of `wal_index` mapped.
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Mutex<Vec<Reader>>,
    /// The WAL-index header, for [`SqlitePool::write_stamp`]; `None` when it could not be mapped
    /// (readers then never keep a read transaction).
    wal_index: Option<WalIndex>,
}

impl Shared {
    fn stamp(&self) -> Option<WriteStamp> {
        self.wal_index.as_ref().and_then(WalIndex::stamp)
    }

    /// Ends the read transactions of idle readers that are stale or too old.
    fn sweep(&self) {
        let stamp = self.stamp();
        let now = Instant::now();
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        for r in readers.iter_mut() {
            if r.snapshot.is_some() && !r.current(stamp, now) {
                r.end();
            }
        }
    }
}

/// A reader connection and the read transaction it keeps open, if any.
struct Reader {
    conn: Connection,
    snapshot: Option<Snapshot>,
}

/// A kept read transaction: begun after `stamp` was read, at `since`.
struct Snapshot {
    stamp: WriteStamp,
    since: Instant,
}

impl Reader {
    /// Whether the kept read transaction still shows the latest committed state: the stamp has
    /// not moved since it began, and it is younger than [`SNAPSHOT_AGE`].
    fn current(&self, stamp: Option<WriteStamp>, now: Instant) -> bool {
        match (&self.snapshot, stamp) {
            (Some(s), Some(at)) => {
                s.stamp == at
                    && now.duration_since(s.since) < SNAPSHOT_AGE
                    && !self.conn.is_autocommit()
            }
            _ => false,
        }
    }

    /// Ends the open transaction, if any (a read transaction: nothing to write).
    fn end(&mut self) {
        self.snapshot = None;
        if !self.conn.is_autocommit() && run(&self.conn, "COMMIT").is_err() {
            let _ = run(&self.conn, "ROLLBACK");
        }
    }

    /// Makes the reader ready for a read of the latest committed state: its kept transaction
    /// when still current, else a new one (deferred: the first statement takes the snapshot,
    /// after `stamp` was read, so the snapshot is at least that recent). Without a stamp the
    /// reader runs its statements outside a transaction.
    fn refresh(&mut self, stamp: Option<WriteStamp>) {
        let now = Instant::now();
        if self.current(stamp, now) {
            return;
        }
        self.end();
        if let Some(at) = stamp
            && run(&self.conn, "BEGIN").is_ok()
        {
            self.snapshot = Some(Snapshot {
                stamp: at,
                since: now,
            });
        }
    }
}

/// Runs a fixed transaction-control statement through the statement cache.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// A reader connection borrowed from the pool; returned on drop.
pub(crate) struct ReadGuard {
    reader: Option<Reader>,
    home: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
}

impl ReadGuard {
    pub(crate) fn conn(&self) -> &Connection {
        // Present from checkout until drop.
        &self
            .reader
            .as_ref()
            .unwrap_or_else(|| unreachable!("reader taken"))
            .conn
    }
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        if let (Some(reader), Ok(mut home)) = (self.reader.take(), self.home.readers.lock()) {
            home.push(reader);
        }
    }
}

/// The writer connection, held for the duration of one write transaction.
pub(crate) type WriteGuard = OwnedMutexGuard<Connection>;

/// Page cache of the writer, in KiB. Small on purpose: every commit asks the page cache to drop
/// the pages past the end of the database (`pager_end_transaction`), which walks its whole hash
/// table (`pcache1TruncateUnsafe`), sized by the pages cached; with 128 MiB that walk was 14–30 % of
/// the CPU of the lifecycle actions. Reads come through the memory map ([`MMAP_BYTES`]) anyway.
const WRITER_CACHE_KIB: i64 = 16_384;
/// Page cache of each reader, in KiB.
const READER_CACHE_KIB: i64 = 16_384;

/// Bytes of the database file each connection reads through a memory map instead of `pread`
/// into its page cache (address space only; the operating system's page cache backs it).
pub(crate) const MMAP_BYTES: i64 = 1 << 32;

/// Process-wide SQLite settings, applied once before the first connection: no memory-usage
/// statistics, whose upkeep takes a global mutex on every allocation that the reader threads
/// would otherwise contend for.
fn configure_library() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` with SQLITE_CONFIG_MEMSTATUS takes one int. It is only valid
        // before the library initialises; called later it returns SQLITE_MISUSE and changes
        // nothing, which is harmless, so the result is ignored.
        let _ = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
    });
}

fn open(path: &Path, cache_kib: i64) -> Result<Connection> {
    configure_library();
    let conn = Connection::open(path)?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; \
         PRAGMA synchronous=NORMAL; PRAGMA cache_size=-{cache_kib}; \
         PRAGMA mmap_size={MMAP_BYTES};"
    ))?;
    // Plans do not depend on bound values (QPSG): a cached statement is never recompiled because
    // a parameter such as LIMIT changed, so the prepared-statement cache keeps its worth.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

impl SqlitePool {
    pub(crate) fn open(path: &Path) -> Result<SqlitePool> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        let writer = open(path, WRITER_CACHE_KIB)?;
        let readers = (0..READERS)
            .map(|_| {
                open(path, READER_CACHE_KIB).map(|conn| Reader {
                    conn,
                    snapshot: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // A first read transaction creates and initialises the WAL index if no connection has yet.
        writer.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        // The writer lives as long as the pool, so the region it maps does too.
        let mut wal_index = WalIndex::of(&writer);
        let shared = Arc::new_cyclic(|weak: &Weak<Shared>| {
            // Without the sweeper, idle snapshots would never end: keep none.
            if spawn_sweeper(weak.clone()).is_err() {
                wal_index = None;
            }
            Shared {
                writer: Arc::new(tokio::sync::Mutex::new(writer)),
                readers: Mutex::new(readers),
                wal_index,
            }
        });
        Ok(SqlitePool {
            path: path.to_path_buf(),
            shared,
            permits: Arc::new(Semaphore::new(READERS)),
        })
    }

    /// The database's current write stamp (see [`crate::WriteStamp`]); `None` when the WAL
    /// index is not mapped.
    pub(crate) fn write_stamp(&self) -> Option<WriteStamp> {
        self.shared.stamp()
    }

    /// A reader for statements outside an explicit transaction: they read the latest committed
    /// state, in the reader's kept read transaction when it is still current.
    pub(crate) async fn read(&self) -> Result<ReadGuard> {
        let mut guard = self.checkout().await?;
        let stamp = self.shared.stamp();
        if let Some(r) = guard.reader.as_mut() {
            r.refresh(stamp);
        }
        Ok(guard)
    }

    /// A reader outside any transaction, for a caller that begins its own (a snapshot).
    pub(crate) async fn read_exclusive(&self) -> Result<ReadGuard> {
        let mut guard = self.checkout().await?;
        if let Some(r) = guard.reader.as_mut() {
            r.end();
        }
        Ok(guard)
    }

    async fn checkout(&self) -> Result<ReadGuard> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let reader = self
            .shared
            .readers
            .lock()
            .map_err(|_| StoreError::Pool("reader pool poisoned".into()))?
            .pop();
        match reader {
            Some(reader) => Ok(ReadGuard {
                reader: Some(reader),
                home: self.shared.clone(),
                _permit: permit,
            }),
            None => Err(StoreError::Pool("no reader connection".into())),
        }
    }

    pub(crate) async fn write(&self) -> WriteGuard {
        self.shared.writer.clone().lock_owned().await
    }
}

/// Starts the thread that sweeps the idle readers of `shared` every [`SNAPSHOT_AGE`] until the
/// pool is gone.
fn spawn_sweeper(shared: Weak<Shared>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("sqlite-snapshots".into())
        .spawn(move || {
            loop {
                std::thread::sleep(SNAPSHOT_AGE);
                match shared.upgrade() {
                    Some(s) => s.sweep(),
                    None => return,
                }
            }
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::SNAPSHOT_AGE;
    use crate::Db;

    /// A SQLite store in a directory of its own, with one table of one row: (directory, file, store).
    async fn store() -> (std::path::PathBuf, std::path::PathBuf, Db) {
        let (dir, path, db) = crate::temp_sqlite("readers").await;
        let mut w = db.begin().await.unwrap();
        w.batch("CREATE TABLE probe (x INTEGER); INSERT INTO probe VALUES (1)")
            .await
            .unwrap();
        w.commit().await.unwrap();
        (dir, path, db)
    }

    async fn count(db: &Db) -> i64 {
        let mut c = db.read().await.unwrap();
        let rows: Vec<i64> = c.fetch_all_sql("SELECT count(*) FROM probe").await.unwrap();
        rows[0]
    }

    #[tokio::test]
    async fn a_kept_read_transaction_never_hides_a_commit() {
        let (dir, path, db) = store().await;
        assert_eq!(count(&db).await, 1);
        let crate::db::Inner::Sqlite(pool) = &*db.inner else {
            unreachable!()
        };
        let kept = |pool: &super::SqlitePool| {
            let readers = pool.shared.readers.lock().unwrap();
            readers
                .iter()
                .filter_map(|r| r.snapshot.as_ref().map(|s| s.since))
                .collect::<Vec<_>>()
        };
        let before = kept(pool);
        assert_eq!(before.len(), 1, "the reader did not keep its transaction");
        assert_eq!(count(&db).await, 1);
        assert_eq!(
            kept(pool),
            before,
            "an unchanged database began a new transaction"
        );

        // Another connection, as another process would have, commits: the next read sees it.
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("INSERT INTO probe VALUES (2)").unwrap();
        assert_eq!(count(&db).await, 2);
        // And so do this pool's own commits.
        let mut w = db.begin().await.unwrap();
        w.batch("INSERT INTO probe VALUES (3)").await.unwrap();
        w.commit().await.unwrap();
        assert_eq!(count(&db).await, 3);
        drop(db);
        drop(other);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn idle_readers_let_a_checkpoint_empty_the_wal() {
        let (dir, path, db) = store().await;
        // Several readers read at once, so several keep a transaction.
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut c = db.read().await.unwrap();
            let _: Vec<i64> = c.fetch_all_sql("SELECT count(*) FROM probe").await.unwrap();
            held.push(c);
        }
        drop(held);
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("INSERT INTO probe VALUES (2)").unwrap();
        tokio::time::sleep(SNAPSHOT_AGE * 4).await;
        other
            .busy_timeout(std::time::Duration::from_millis(500))
            .unwrap();
        let (busy, frames): (i64, i64) = other
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((busy, frames), (0, 0), "an idle reader held the WAL back");
        assert_eq!(count(&db).await, 2);
        drop(db);
        drop(other);
        let _ = std::fs::remove_dir_all(dir);
    }
}
