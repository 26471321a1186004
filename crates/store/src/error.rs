//! Storage errors. Unique-key violations are told apart so that use cases can answer 409.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key (primary key or unique index) already holds this value.
    #[error("unique constraint violated: {0}")]
    Unique(String),
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(rusqlite::Error),
    /// PostgreSQL failed (the server's message is part of the text, for the logs).
    #[error("postgres: {}", pg_detail(.0))]
    Postgres(tokio_postgres::Error),
    /// No pooled connection could be had.
    #[error("pool: {0}")]
    Pool(String),
    /// A stored value could not be decoded.
    #[error("decode: {0}")]
    Decode(String),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migration(String),
    /// The database URL is not understood.
    #[error("config: {0}")]
    Config(String),
}

/// The server's message, code and detail of a PostgreSQL error, else its own text.
fn pg_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{} ({}){}",
            db.message(),
            db.code().code(),
            db.detail().map(|d| format!(": {d}")).unwrap_or_default()
        ),
        None => e.to_string(),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, msg) = &e {
            // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
            if f.extended_code == 2067 || f.extended_code == 1555 {
                return StoreError::Unique(msg.clone().unwrap_or_default());
            }
        }
        StoreError::Sqlite(e)
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error()
            && *db.code() == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
        {
            return StoreError::Unique(db.constraint().unwrap_or_default().to_string());
        }
        StoreError::Postgres(e)
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => StoreError::Pool(other.to_string()),
        }
    }
}

impl StoreError {
    /// Whether this is a unique-key violation.
    pub fn is_unique(&self) -> bool {
        matches!(self, StoreError::Unique(_))
    }

    /// Whether the store refused a text for a character it cannot hold: PostgreSQL's
    /// "character not in repertoire" (22021, the NUL character in a text) or "untranslatable
    /// character" (22P05). The API refuses such text before it reaches the store; this names
    /// what would still get through, so that it is answered as bad input and not as a failure.
    pub fn is_invalid_text(&self) -> bool {
        use tokio_postgres::error::SqlState;
        match self {
            StoreError::Postgres(e) => e.code().is_some_and(|c| {
                *c == SqlState::CHARACTER_NOT_IN_REPERTOIRE
                    || *c == SqlState::UNTRANSLATABLE_CHARACTER
            }),
            _ => false,
        }
    }

    /// Whether the transaction lost to a concurrent one and running it again may succeed:
    /// PostgreSQL serialization failure (40001), deadlock (40P01) or lock not available (55P03);
    /// SQLite busy or locked (another process holds the write lock past `busy_timeout`).
    pub fn is_retryable(&self) -> bool {
        use tokio_postgres::error::SqlState;
        match self {
            StoreError::Postgres(e) => e.code().is_some_and(|c| {
                *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED
                    || *c == SqlState::LOCK_NOT_AVAILABLE
            }),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}
