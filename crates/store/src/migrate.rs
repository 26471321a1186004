//! Migrations: one set per engine with the same names, forward only (refinery).

use crate::{Result, StoreError};

mod sqlite_set {
    refinery::embed_migrations!("migrations/sqlite");
}
mod postgres_set {
    refinery::embed_migrations!("migrations/postgres");
}

/// Key of the PostgreSQL advisory lock held while migrating, so nodes starting together migrate
/// once.
const MIGRATION_LOCK: i64 = 0x666c_6578_706f;

fn target(version: Option<i32>) -> refinery::Target {
    version.map_or(refinery::Target::Latest, refinery::Target::Version)
}

pub(crate) fn sqlite(conn: &mut rusqlite::Connection, version: Option<i32>) -> Result<()> {
    sqlite_set::migrations::runner()
        .set_target(target(version))
        .run(conn)
        .map(|_| ())
        .map_err(|e| StoreError::Migration(e.to_string()))
}

pub(crate) async fn postgres(
    obj: &mut deadpool_postgres::Object,
    version: Option<i32>,
) -> Result<()> {
    obj.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .await?;
    let client: &mut tokio_postgres::Client = obj;
    let res = postgres_set::migrations::runner()
        .set_target(target(version))
        .run_async(client)
        .await
        .map(|_| ())
        .map_err(|e| StoreError::Migration(e.to_string()));
    obj.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .await?;
    res
}
