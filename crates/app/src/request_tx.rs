//! The request transaction: a write transaction that a caller (the API's `Idempotency-Key`
//! handling) opens around a whole use case, so that the use case's effects and what the caller
//! writes after it (the stored response) commit together or not at all.
//!
//! Inside [`RequestTx::scope`], [`crate::App::begin`] lends the request's connection instead of
//! opening a transaction, and [`Tx::commit`] gives it back instead of committing; the caller
//! commits or rolls back at the end. With [`RequestTx::scope_deferred`] the request's transaction
//! is opened at the first `begin`, so that what the request does before it writes (reading and
//! validating its body) does not hold a transaction: on SQLite, the one writer. A use case that
//! fails drops its [`Tx`], which marks the request transaction failed (its partial writes are
//! rolled back with it), and a retryable failure is not retried inside ([`crate::transact!`]
//! cannot run the use case again on a transaction it did not open) but reported, for the caller
//! to run the whole request again.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use flexportal_store::{Conn, Db, StoreError};

tokio::task_local! {
    static REQUEST_TX: RequestTx;
}

/// The state of a request transaction.
#[derive(Default)]
pub struct RequestTx {
    conn: Mutex<Option<Conn>>,
    /// Deferred: the store the request's transaction is opened on at the first `begin`.
    deferred: Mutex<Option<Db>>,
    failed: Mutex<Option<Failure>>,
}

/// The request's transaction at the end of [`RequestTx::scope_deferred`].
pub enum Opened {
    /// The transaction a use case opened, with what it wrote.
    Conn(Box<Conn>),
    /// No use case began a transaction.
    Never,
    /// A use case kept the connection (only a bug does).
    Lost,
}

/// How a use case in a request transaction failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// It lost to a concurrent transaction: running the whole request again may succeed.
    Retryable,
    /// Any other failure (the request's answer says which).
    Other,
}

impl RequestTx {
    /// Runs `f` with `conn` (a connection in a write transaction) as the request transaction.
    /// Returns `f`'s output, the connection (`None` when a use case lost it, which only a bug
    /// does) and how a use case failed, if one did.
    pub async fn scope<F: Future>(conn: Conn, f: F) -> (F::Output, Option<Conn>, Option<Failure>) {
        let (out, conn, _, failed) = Self::run(Some(conn), None, f).await;
        (out, conn, failed)
    }

    /// Runs `f` with a request transaction that the first use case to begin a transaction opens
    /// on `db` (and the following ones continue). Returns `f`'s output, the transaction if one
    /// was opened, and how a use case failed, if one did.
    pub async fn scope_deferred<F: Future>(db: Db, f: F) -> (F::Output, Opened, Option<Failure>) {
        let (out, conn, deferred, failed) = Self::run(None, Some(db), f).await;
        let opened = match (conn, deferred) {
            (Some(c), _) => Opened::Conn(Box::new(c)),
            (None, Some(_)) => Opened::Never,
            (None, None) => Opened::Lost,
        };
        (out, opened, failed)
    }

    async fn run<F: Future>(
        conn: Option<Conn>,
        deferred: Option<Db>,
        f: F,
    ) -> (F::Output, Option<Conn>, Option<Db>, Option<Failure>) {
        let state = RequestTx {
            conn: Mutex::new(conn),
            deferred: Mutex::new(deferred),
            failed: Mutex::new(None),
        };
        REQUEST_TX
            .scope(state, async move {
                let out = f.await;
                REQUEST_TX.with(|r| {
                    (
                        out,
                        r.conn.lock().unwrap_or_else(|p| p.into_inner()).take(),
                        r.deferred.lock().unwrap_or_else(|p| p.into_inner()).take(),
                        *r.failed.lock().unwrap_or_else(|p| p.into_inner()),
                    )
                })
            })
            .await
    }

    /// Takes the request's connection when running inside a request transaction that still has
    /// it.
    fn lend() -> Option<Conn> {
        REQUEST_TX
            .try_with(|r| r.conn.lock().unwrap_or_else(|p| p.into_inner()).take())
            .ok()
            .flatten()
    }

    /// Takes the store of a deferred request transaction not opened yet, for the first use case
    /// that begins a transaction to open it on.
    fn take_deferred() -> Option<Db> {
        REQUEST_TX
            .try_with(|r| r.deferred.lock().unwrap_or_else(|p| p.into_inner()).take())
            .ok()
            .flatten()
    }

    /// Puts back the store of a deferred request transaction that could not be opened.
    fn defer_again(db: Db) {
        let _ = REQUEST_TX.try_with(|r| {
            *r.deferred.lock().unwrap_or_else(|p| p.into_inner()) = Some(db);
        });
    }

    /// Whether the current task runs inside a request transaction.
    pub fn active() -> bool {
        REQUEST_TX.try_with(|_| ()).is_ok()
    }

    fn give_back(conn: Conn, failure: Option<Failure>) {
        let _ = REQUEST_TX.try_with(|r| {
            *r.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn);
            if let Some(f) = failure {
                let mut slot = r.failed.lock().unwrap_or_else(|p| p.into_inner());
                if *slot != Some(Failure::Retryable) {
                    *slot = Some(f);
                }
            }
        });
    }

    /// Records that a use case failed retryably (for [`crate::transact!`]).
    pub fn note_retryable() {
        let _ = REQUEST_TX.try_with(|r| {
            *r.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(Failure::Retryable);
        });
    }
}

/// A write transaction of a use case: its own, or the request's (lent, given back at
/// [`Tx::commit`] or drop). Derefs to the connection.
pub struct Tx {
    conn: Option<Conn>,
    lent: bool,
}

impl Tx {
    /// Whether this is the request's transaction (not committed here).
    pub fn is_lent(&self) -> bool {
        self.lent
    }

    /// Commits the transaction, or, when lent, gives it back to the request.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let conn = self.conn.take().expect("a transaction is committed once");
        if self.lent {
            RequestTx::give_back(conn, None);
            Ok(())
        } else {
            conn.commit().await
        }
    }
}

impl Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("transaction in use")
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("transaction in use")
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        // Not committed: a failed use case. Its own transaction rolls back as its connection
        // drops; the request's is given back marked failed, for the caller to roll back.
        if let Some(conn) = self.conn.take()
            && self.lent
        {
            RequestTx::give_back(conn, Some(Failure::Other));
        }
    }
}

/// Opens a write transaction on `db`, or lends the request transaction when there is one
/// (opening it first when it is deferred).
pub(crate) async fn begin(db: &flexportal_store::Db) -> Result<Tx, StoreError> {
    if let Some(conn) = RequestTx::lend() {
        return Ok(Tx {
            conn: Some(conn),
            lent: true,
        });
    }
    if let Some(request_db) = RequestTx::take_deferred() {
        return match request_db.begin().await {
            Ok(conn) => Ok(Tx {
                conn: Some(conn),
                lent: true,
            }),
            Err(e) => {
                RequestTx::defer_again(request_db);
                Err(e)
            }
        };
    }
    Ok(Tx {
        conn: Some(db.begin().await?),
        lent: false,
    })
}
