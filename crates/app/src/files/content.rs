//! Writing a file's content (SPEC §2.9): the one upload of an upload URL, and the daily removal of
//! files that never got content.

use flexportal_store::files::{self, FileRecord};
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

use super::{UPLOAD_TURNS, storage_error, too_large};
use crate::error::{AppError, AppResult};
use crate::{App, TenantContext};

/// Stores the one upload of `file`: `content_type` must be the declared one and the content not
/// empty (else 400 `VALIDATION_ERROR`), at most the upload limit (else 413 `PAYLOAD_TOO_LARGE`); a
/// file that already has content answers 409 `UPLOAD_COMPLETE`, also to the loser of two
/// concurrent uploads. Records the size.
///
/// On PostgreSQL the file's row stays locked (`FOR UPDATE`) while the content is written: a
/// second upload of the URL, from any process, waits and then finds the size. SQLite has one
/// writer for the whole store, which a slow storage (a remote bucket) must not hold: there the
/// content is written first and recorded by a short transaction, and the uploads of one URL in
/// this process take turns.
pub async fn upload(
    app: &App,
    file: &FileRecord,
    content_type: Option<&str>,
    body: bytes::Bytes,
) -> AppResult<FileRecord> {
    if content_type.map(|c| c.split(';').next().unwrap_or("").trim()) != Some(&file.content_type) {
        return Err(AppError::field(
            "Content-Type",
            "invalid_enum_value",
            format!("The upload was declared as {}", file.content_type),
        ));
    }
    if body.len() as u64 > app.files.max_upload_bytes {
        return Err(too_large(app));
    }
    if body.is_empty() {
        return Err(AppError::field("", "too_small", "The upload is empty"));
    }
    let size = body.len() as i64;
    let complete = || AppError::conflict("UPLOAD_COMPLETE", "The file was already uploaded");
    let missing = || AppError::not_found("File");
    let (tenant, id) = (file.tenant_id.as_str(), file.file_id.as_str());
    // PostgreSQL: the row locked in the transaction that records the size. SQLite: this
    // process's turn for the file, and a plain read.
    let (mut locked, _turn) = if app.db.engine() == flexportal_store::Engine::Postgres {
        (Some(app.db.begin().await?), None)
    } else {
        let stripe = {
            use std::hash::{BuildHasher, BuildHasherDefault};
            let hash = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .hash_one(id);
            (hash % UPLOAD_TURNS as u64) as usize
        };
        (None, Some(app.files.upload_turns[stripe].lock().await))
    };
    let current = match &mut locked {
        Some(c) => files::get(c, tenant, id, true).await?,
        None => files::get(&mut app.db.read().await?, tenant, id, false).await?,
    };
    if current.ok_or_else(missing)?.file_size > 0 {
        return Err(complete());
    }
    app.files
        .store
        .put(&ObjectPath::from(file.storage_path.as_str()), body.into())
        .await
        .map_err(storage_error)?;
    let mut c = match locked {
        Some(c) => c,
        None => app.db.begin().await?,
    };
    if !files::complete_upload(&mut c, tenant, id, size, app.now()).await? {
        // SQLite: removed meanwhile (deleteFile), or completed by another process.
        return Err(match files::get(&mut c, tenant, id, false).await? {
            Some(_) => complete(),
            None => missing(),
        });
    }
    let stored = files::get(&mut c, tenant, id, false)
        .await?
        .ok_or_else(missing)?;
    c.commit().await?;
    Ok(stored)
}

/// How long a file may stay without content before the daily job removes it, in milliseconds:
/// the longest-lived upload URL (1,440 minutes) and an hour more. An export's copy is written
/// within its request, so one still empty by then was never finished either.
pub const EMPTY_FILE_TTL_MS: i64 = 25 * 3_600_000;

/// Files removed per transaction by [`remove_empty`].
const EMPTY_BATCH: u64 = 100;

/// Removes the files of a business unit that are still empty [`EMPTY_FILE_TTL_MS`] after they
/// were created (an upload URL never used, an export that never finished), with whatever part of
/// their content reached the storage; returns how many. A record whose stored object cannot be
/// removed is kept for the next run (logged), as deleteFile keeps it (SPEC §2.9).
pub async fn remove_empty(app: &App, ctx: &TenantContext) -> AppResult<u64> {
    let before = app.now() - EMPTY_FILE_TTL_MS;
    let mut removed = 0;
    let mut kept = std::collections::HashSet::new();
    loop {
        let batch = {
            let mut c = app.db.read().await?;
            files::empty_before(
                &mut c,
                &ctx.tenant_id,
                before,
                EMPTY_BATCH + kept.len() as u64,
            )
            .await?
        };
        let batch: Vec<FileRecord> = batch
            .into_iter()
            .filter(|f| !kept.contains(&f.file_id))
            .collect();
        if batch.is_empty() {
            return Ok(removed);
        }
        for f in batch {
            let path = ObjectPath::from(f.storage_path.as_str());
            match app.files.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    tracing::warn!(tenant = %f.tenant_id, file = %f.file_id, error = %e, "an empty file's content not removed; kept for the next run");
                    kept.insert(f.file_id);
                    continue;
                }
            }
            let mut tx = app.db.begin().await?;
            if files::delete_empty(&mut tx, &f.tenant_id, &f.file_id).await? {
                removed += 1;
            }
            tx.commit().await?;
        }
    }
}
