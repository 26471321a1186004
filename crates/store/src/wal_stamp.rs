//! The write stamp of a SQLite database in WAL mode: a fingerprint of the WAL-index header in
//! `<database>-shm`, which the connection that commits a write transaction rewrites before its
//! commit returns, whichever process it belongs to (file format: <https://www.sqlite.org/walformat.html>,
//! §2.1 "The WAL-Index Header"). Two equal stamps mean that no write transaction committed in
//! between, so a value read from the database after the first stamp was taken is still current
//! at the second — without a read transaction, which costs a lock round on the database and the
//! WAL index.
//!
//! The header is mapped read-only; SQLite keeps `-shm` (and never shrinks it) while a connection
//! of this process has the database open, and the pool holds its connections for its lifetime.

use std::path::Path;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

/// Bytes of the WAL-index header (the first of its two copies plus the checkpoint information).
const HEADER_BYTES: usize = 136;

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
    map: memmap2::Mmap,
}

impl WalIndex {
    /// Maps the header of `<database>-shm`. `None` when the file is missing or shorter than a
    /// header (not in WAL mode, or not yet initialised): callers then read what they need from
    /// the database.
    pub(crate) fn open(database: &Path) -> Option<WalIndex> {
        let mut name = database.as_os_str().to_owned();
        name.push("-shm");
        let file = std::fs::File::open(name).ok()?;
        if file.metadata().ok()?.len() < HEADER_BYTES as u64 {
            return None;
        }
        // SAFETY: a read-only shared mapping of the first HEADER_BYTES of a file at least that
        // long, which SQLite does not truncate while this process has the database open (see
        // the module documentation). Its bytes change under the mapping; they are only read
        // through atomic loads in `stamp`, never through references to plain integers.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .len(HEADER_BYTES)
                .map(&file)
                .ok()?
        };
        let index = WalIndex { map };
        index.stamp().map(|_| index)
    }

    /// The current stamp; `None` when the header is not initialised or of another format.
    pub(crate) fn stamp(&self) -> Option<WriteStamp> {
        let base = self.map.as_ptr();
        // SAFETY: the mapping is HEADER_BYTES long and page-aligned, so every 4-byte word below
        // offset 48 is in bounds and aligned for an AtomicU32 (and every byte for an AtomicU8).
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

    #[tokio::test]
    async fn the_stamp_moves_with_every_commit_of_any_connection_and_not_with_reads() {
        let dir = std::env::temp_dir().join(format!(
            "flexportal-stamp-{}-{}",
            std::process::id(),
            flexportal_domain::ids::random_token(8)
        ));
        let path = dir.join("stamp.db");
        let db = Db::connect(path.to_str().unwrap()).await.unwrap();
        db.migrate().await.unwrap();
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
}
