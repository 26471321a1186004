//! A small SQLite pool: one writer connection behind an async mutex (one writer at a time, so
//! writers queue without spinning on SQLite's lock) and a fixed set of reader connections (WAL lets
//! them read while the writer writes). Reader statements run inline on the calling task: an
//! embedded SQLite read on an indexed path takes microseconds, less than a hop to a blocking
//! thread. Writer statements, which a bulk import or a billing run makes long, run under
//! `block_in_place` (see `Conn`), so they never stall the other tasks of the worker thread.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::wal_stamp::WalIndex;
use crate::{Result, StoreError};

/// Readers kept open.
const READERS: usize = 8;

pub(crate) struct SqlitePool {
    pub(crate) path: PathBuf,
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
    /// The WAL-index header, for [`SqlitePool::write_stamp`]; `None` when it could not be mapped.
    wal_index: Option<WalIndex>,
}

/// A reader connection borrowed from the pool; returned on drop.
pub(crate) struct ReadGuard {
    conn: Option<Connection>,
    home: Arc<Mutex<Vec<Connection>>>,
    _permit: OwnedSemaphorePermit,
}

impl ReadGuard {
    pub(crate) fn conn(&self) -> &Connection {
        // Present from checkout until drop.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("reader taken"))
    }
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut home)) = (self.conn.take(), self.home.lock()) {
            home.push(conn);
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
            .map(|_| open(path, READER_CACHE_KIB))
            .collect::<Result<Vec<_>>>()?;
        // A first read transaction creates and initialises the WAL index if no connection has yet.
        writer.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
        // The writer lives as long as the pool, so the region it maps does too.
        let wal_index = WalIndex::of(&writer);
        Ok(SqlitePool {
            path: path.to_path_buf(),
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            readers: Arc::new(Mutex::new(readers)),
            permits: Arc::new(Semaphore::new(READERS)),
            wal_index,
        })
    }

    /// The database's current write stamp (see [`crate::WriteStamp`]); `None` when the WAL
    /// index is not mapped.
    pub(crate) fn write_stamp(&self) -> Option<crate::WriteStamp> {
        self.wal_index.as_ref().and_then(WalIndex::stamp)
    }

    pub(crate) async fn read(&self) -> Result<ReadGuard> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let conn = self
            .readers
            .lock()
            .map_err(|_| StoreError::Pool("reader pool poisoned".into()))?
            .pop();
        match conn {
            Some(conn) => Ok(ReadGuard {
                conn: Some(conn),
                home: self.readers.clone(),
                _permit: permit,
            }),
            None => Err(StoreError::Pool("no reader connection".into())),
        }
    }

    pub(crate) async fn write(&self) -> WriteGuard {
        self.writer.clone().lock_owned().await
    }
}
