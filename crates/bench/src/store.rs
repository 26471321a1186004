//! Fresh, throw-away stores: a new SQLite file under the run's temporary directory, or a new
//! PostgreSQL database `flexportal_bench_<random>` on the server named by
//! `FLEXPORTAL_BENCH_DATABASE_URL`, dropped at the end.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use flexportal_app::{App, SystemClock};
use flexportal_store::Db;

use crate::Engine;

/// Server used for PostgreSQL runs unless `FLEXPORTAL_BENCH_DATABASE_URL` says otherwise.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The PostgreSQL server URL of this run (its database is only used to create and drop others).
pub fn pg_base_url() -> String {
    std::env::var("FLEXPORTAL_BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<system temp>/flexportal-bench-<random>`.
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "flexportal-bench-{}",
            flexportal_domain::ids::random_token(10)
        ));
        std::fs::create_dir_all(&dir).expect("create the temporary directory");
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    /// Removes the directory, unless `FLEXPORTAL_BENCH_KEEP` is set (to read a dataset again
    /// after the run; the path is printed on stderr).
    fn drop(&mut self) {
        if std::env::var_os("FLEXPORTAL_BENCH_KEEP").is_some() {
            eprintln!("kept {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new, migrated store and the application over it (system clock).
pub struct FreshStore {
    /// The URL the store was opened with.
    pub url: String,
    /// The application (use cases over the store).
    pub app: App,
    /// Database to drop at the end (PostgreSQL only).
    pg_database: Option<String>,
}

impl FreshStore {
    /// Creates and migrates a new store of `engine`; `name` distinguishes several stores of one
    /// run (`import`, `raw`, …). SQLite files go under `dir`.
    pub async fn create(engine: Engine, dir: &Path, name: &str) -> FreshStore {
        let (url, pg_database) = match engine {
            Engine::Sqlite => {
                let path = dir.join(format!("{name}.db"));
                (format!("sqlite://{}", path.display()), None)
            }
            Engine::Postgres => {
                let base = pg_base_url();
                let db_name = format!(
                    "flexportal_bench_{}_{name}",
                    flexportal_domain::ids::random_token(8)
                );
                let admin = admin_client(&base).await;
                admin
                    .batch_execute(&format!("CREATE DATABASE \"{db_name}\""))
                    .await
                    .unwrap_or_else(|e| panic!("cannot create database {db_name}: {e}"));
                (with_db_name(&base, &db_name), Some(db_name))
            }
        };
        FreshStore::open(url, pg_database).await
    }

    /// The SQLite file of this store, if SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.app.db.sqlite_path()
    }

    /// Copies this store into a new one named `name` with exactly the same rows (ids included),
    /// for a baseline that must start from the data the measured run started from. SQLite: the
    /// WAL is checkpointed (`TRUNCATE`) and the file copied under `dir`. PostgreSQL:
    /// `CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY`, which needs the source to have no
    /// session, so this store's pool is closed (and any lingering backend of it terminated). On
    /// both engines this store is then opened again, so both start with new connections.
    /// Returns this store (reopened) and the copy.
    pub async fn duplicate(self, dir: &Path, name: &str) -> (FreshStore, FreshStore) {
        let FreshStore {
            url,
            app,
            pg_database,
        } = self;
        match pg_database {
            None => {
                let source = app
                    .db
                    .sqlite_path()
                    .expect("a SQLite store has a file")
                    .to_path_buf();
                {
                    let mut c = app.db.read().await.expect("read connection");
                    c.fetch_all_sql::<i64>("PRAGMA wal_checkpoint(TRUNCATE)")
                        .await
                        .expect("checkpoint before the copy");
                }
                let target = dir.join(format!("{name}.db"));
                std::fs::copy(&source, &target).unwrap_or_else(|e| {
                    panic!("copy {} to {}: {e}", source.display(), target.display())
                });
                // Both stores start with new connections (no pages mapped or cached in this
                // process yet), so neither is measured warmer than the other.
                drop(app);
                let reopened = FreshStore::open(url, None).await;
                let copy = FreshStore::open(format!("sqlite://{}", target.display()), None).await;
                (reopened, copy)
            }
            Some(source) => {
                drop(app);
                let base = pg_base_url();
                let target = format!(
                    "flexportal_bench_{}_{name}",
                    flexportal_domain::ids::random_token(8)
                );
                let admin = admin_client(&base).await;
                let mut attempt = 0;
                loop {
                    // Connections of the closed pool end asynchronously; end any still there.
                    let _ = admin
                        .batch_execute(&format!(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                             WHERE datname = '{source}' AND pid <> pg_backend_pid()"
                        ))
                        .await;
                    match admin
                        .batch_execute(&format!(
                            "CREATE DATABASE \"{target}\" TEMPLATE \"{source}\" \
                             STRATEGY FILE_COPY"
                        ))
                        .await
                    {
                        Ok(()) => break,
                        Err(e) if attempt < 50 => {
                            attempt += 1;
                            if attempt == 1 {
                                eprintln!("  (waiting for the source database to be idle: {e})");
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                        Err(e) => panic!("cannot copy database {source} to {target}: {e}"),
                    }
                }
                let copy_url = with_db_name(&base, &target);
                let reopened = FreshStore::open(url, Some(source)).await;
                let copy = FreshStore::open(copy_url, Some(target)).await;
                (reopened, copy)
            }
        }
    }

    /// The context of the store's first business unit, as `flexportal jobs run` builds it (for
    /// scenarios that work on an existing store).
    pub(crate) async fn first_unit(&self) -> flexportal_app::TenantContext {
        let t = flexportal_app::admin::list_tenants(&self.app)
            .await
            .expect("list business units")
            .into_iter()
            .next()
            .expect("a business unit");
        flexportal_app::jobs::job_context(&t).expect("the unit's context")
    }

    /// Opens (and migrates, a no-op for a copy) the store at `url`.
    pub(crate) async fn open(url: String, pg_database: Option<String>) -> FreshStore {
        let db = Db::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        db.migrate()
            .await
            .unwrap_or_else(|e| panic!("cannot migrate {url}: {e}"));
        FreshStore {
            url,
            app: App::new(db, Arc::new(SystemClock)),
            pg_database,
        }
    }

    /// Closes the store and drops its PostgreSQL database (the SQLite file goes with the run's
    /// temporary directory).
    pub async fn destroy(self) {
        let FreshStore {
            app, pg_database, ..
        } = self;
        drop(app);
        if let Some(name) = pg_database {
            let admin = admin_client(&pg_base_url()).await;
            if let Err(e) = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
            {
                eprintln!("warning: could not drop database {name}: {e}");
            }
        }
    }
}

/// The number of assets of a business unit (literal SQL; the tenant id is generated here).
pub async fn count_assets(app: &App, tenant_id: &str) -> i64 {
    let mut c = app.db.read().await.expect("read connection");
    let sql = format!("SELECT COUNT(*) FROM assets WHERE tenant_id = '{tenant_id}'");
    c.fetch_all_sql::<i64>(&sql)
        .await
        .expect("count assets")
        .first()
        .copied()
        .unwrap_or(0)
}

/// The number of rows of `table` in a business unit, with an optional extra condition
/// (`AND …`; literal SQL, every value generated here).
pub async fn count_rows(app: &App, table: &str, tenant_id: &str, and: &str) -> i64 {
    let mut c = app.db.read().await.expect("read connection");
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = '{tenant_id}' {and}");
    c.fetch_all_sql::<i64>(&sql)
        .await
        .unwrap_or_else(|e| panic!("count {table}: {e}"))
        .first()
        .copied()
        .unwrap_or(0)
}

/// A plain connection to the server's maintenance database (CREATE / DROP DATABASE).
async fn admin_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL unreachable at {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// `url` with its database name replaced by `name`.
fn with_db_name(url: &str, name: &str) -> String {
    let (head, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    match head.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{name}{query}", &head[..i]),
        _ => format!("{head}/{name}{query}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_db_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_db_name("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_db_name("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
