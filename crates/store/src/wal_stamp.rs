//! The write stamp of a SQLite database in WAL mode: a fingerprint of the WAL-index header in
//! `<database>-shm`, which the connection that commits a write transaction rewrites before its
//! commit returns, whichever process it belongs to (file format: <https://www.sqlite.org/walformat.html>,
//! §2.1 "The WAL-Index Header"). Two equal stamps mean that no write transaction committed in
//! between, so a value read from the database after the first stamp was taken is still current
//! at the second — without a read transaction, which costs a lock round on the database and the
//! WAL index.
//!
//! The header is read where SQLite itself maps it: the first region of the shared memory of one
//! of the pool's connections, obtained through the VFS (`SQLITE_FCNTL_FILE_POINTER`, then
//! `xShmMap`). No file descriptor of its own is opened: closing one would drop every POSIX lock
//! the process holds on the file, SQLite's included, and let another process reset the file
//! under the mapping. The region stays mapped while a connection of the process has the
//! database open; the pool keeps that connection for its lifetime.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use rusqlite::ffi;

/// `iVersion` of the WAL-index header format this reads.
const WAL_INDEX_VERSION: u32 = 3_007_000;

/// A fingerprint of the committed state of a SQLite database: the WAL-index header's change
/// counter (`iChange`, moved by every committed write transaction), the last valid frame
/// (`mxFrame`) and the salts (changed when the WAL restarts after a checkpoint). Only equality
/// means anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStamp([u32; 4]);

impl WriteStamp {
    /// A stamp of the given header words (`iChange`, `mxFrame`, the two salts), as
    /// [`crate::Db::write_stamp`] reads them.
    pub fn from_words(words: [u32; 4]) -> Self {
        WriteStamp(words)
    }
}

/// The mapped header of one database's WAL index.
pub(crate) struct WalIndex {
    /// The first byte of the shared-memory region SQLite maps for `conn`'s database.
    header: *const u8,
}

// SAFETY: `header` points into a shared mapping that lives as long as the pool that owns both
// the `WalIndex` and the connection it came from; it is only read, through atomic loads.
unsafe impl Send for WalIndex {}
// SAFETY: as above.
unsafe impl Sync for WalIndex {}

/// Bytes of a WAL-index region (`WALINDEX_PGSZ`), as SQLite maps them.
const REGION_BYTES: i32 = 32 * 1024;

impl WalIndex {
    /// The header of `conn`'s database, as `conn` maps it. `None` when the database is not in
    /// WAL mode or the VFS has no shared memory: callers then read what they need from the
    /// database. `conn` must stay open, and unused by other threads during this call, for as
    /// long as the result is used.
    pub(crate) fn of(conn: &rusqlite::Connection) -> Option<WalIndex> {
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        // SAFETY: `conn.handle()` is a valid open connection; SQLITE_FCNTL_FILE_POINTER writes
        // the main database's `sqlite3_file*` into `file`.
        let rc = unsafe {
            ffi::sqlite3_file_control(
                conn.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_FILE_POINTER,
                (&raw mut file).cast::<c_void>(),
            )
        };
        if rc != ffi::SQLITE_OK || file.is_null() {
            return None;
        }
        // SAFETY: `file` is the connection's open database file; its methods table is SQLite's
        // and outlives it. `xShmMap` with `bExtend` 0 returns the existing first region (or
        // null), which is what SQLite maps for its own reads of the header.
        let region = unsafe {
            let methods = (*file).pMethods;
            if methods.is_null() || (*methods).iVersion < 2 {
                return None;
            }
            let shm_map = (*methods).xShmMap?;
            let mut region: *mut c_void = std::ptr::null_mut();
            if shm_map(file, 0, REGION_BYTES, 0, &raw mut region) != ffi::SQLITE_OK {
                return None;
            }
            region
        };
        if region.is_null() {
            return None;
        }
        let index = WalIndex {
            header: region.cast::<u8>().cast_const(),
        };
        index.stamp().map(|_| index)
    }

    /// The current stamp; `None` when the header is not initialised or of another format.
    pub(crate) fn stamp(&self) -> Option<WriteStamp> {
        let base = self.header;
        // SAFETY: the region is REGION_BYTES long and page-aligned, so every 4-byte word of the
        // header is in bounds and aligned for an AtomicU32 (and every byte for an AtomicU8).
        // Atomic loads are the sound way to read memory another process writes.
        let word =
            |i: usize| unsafe { (*base.add(4 * i).cast::<AtomicU32>()).load(Ordering::Acquire) };
        // SAFETY: as above; `isInit` is the byte at offset 12.
        let is_init = unsafe { (*base.add(12).cast::<AtomicU8>()).load(Ordering::Acquire) };
        if word(0) != WAL_INDEX_VERSION || is_init == 0 {
            return None;
        }
        // Words: 2 iChange, 4 mxFrame, 8 and 9 aSalt.
        Some(WriteStamp([word(2), word(4), word(8), word(9)]))
    }
}

#[cfg(test)]
mod tests {
    use crate::Db;

    /// A migrated SQLite store in a directory of its own: (directory, database file, store).
    async fn migrated_store() -> (std::path::PathBuf, std::path::PathBuf, Db) {
        let (dir, path, db) = crate::temp_sqlite("stamp").await;
        db.migrate().await.unwrap();
        (dir, path, db)
    }

    #[tokio::test]
    async fn the_stamp_moves_with_every_commit_of_any_connection_and_not_with_reads() {
        let (dir, path, db) = migrated_store().await;
        let first = db.write_stamp().expect("the WAL index is mapped");

        let mut c = db.read().await.unwrap();
        c.batch("SELECT count(*) FROM tenants").await.unwrap();
        drop(c);
        assert_eq!(db.write_stamp(), Some(first), "a read moved the stamp");

        // A connection of its own, as another process would have.
        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .execute_batch("CREATE TABLE stamp_probe (x INTEGER)")
            .unwrap();
        let second = db.write_stamp().unwrap();
        assert_ne!(
            second, first,
            "a commit of another connection left the stamp"
        );
        other
            .execute_batch("INSERT INTO stamp_probe VALUES (1)")
            .unwrap();
        let third = db.write_stamp().unwrap();
        assert_ne!(third, second);

        // After a checkpoint that empties the WAL, the next commit still moves it.
        other
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        let checkpointed = db.write_stamp().unwrap();
        other
            .execute_batch("INSERT INTO stamp_probe VALUES (2)")
            .unwrap();
        assert_ne!(db.write_stamp().unwrap(), checkpointed);
        assert_ne!(db.write_stamp().unwrap(), third);

        // This pool's own writer too.
        let before = db.write_stamp().unwrap();
        let mut w = db.begin().await.unwrap();
        w.batch("INSERT INTO stamp_probe VALUES (3)").await.unwrap();
        w.commit().await.unwrap();
        assert_ne!(db.write_stamp().unwrap(), before);
        drop(db);
        drop(other);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn commits_of_other_processes_move_the_stamp() {
        let (dir, path, db) = migrated_store().await;
        // Other processes, one after the other, each the only other user of the database while
        // it runs: their commits move this process's stamp, and this process reads what they
        // wrote.
        for table in ["first_process", "second_process"] {
            let before = db.write_stamp().expect("the WAL index is mapped");
            let script = format!(
                "import sqlite3, sys\n\
                 c = sqlite3.connect(sys.argv[1])\n\
                 c.execute('CREATE TABLE {table} (x INTEGER)')\n\
                 c.commit()\n\
                 c.close()\n"
            );
            let ran = std::process::Command::new("python3")
                .args(["-c", &script, path.to_str().unwrap()])
                .status();
            let Ok(status) = ran else {
                eprintln!(
                    "SKIPPED: python3 is not available to open the database from another process"
                );
                return;
            };
            assert!(status.success(), "python3 could not write the database");
            let after = db.write_stamp().expect("the header is still mapped");
            assert_ne!(
                after, before,
                "the commit of another process left the stamp"
            );
            let mut c = db.read().await.unwrap();
            c.batch(&format!("SELECT count(*) FROM {table}"))
                .await
                .unwrap_or_else(|e| panic!("{table} is not seen here: {e}"));
        }
        drop(db);
        let _ = std::fs::remove_dir_all(dir);
    }
}
