//! Jobs of automatic contract generation (SPEC §2.9 "Automatic generation"), keyed by
//! (tenant_id, job_id), one per contract (`dedupe_key`).
//!
//! A job is queued on the transaction of the change that calls for the contract ([`enqueue`]),
//! taken by a worker under a lease ([`claim`]: of several processes on one store one works a
//! job at a time; a process that dies leaves it to be taken again when the lease ends), and
//! ended by [`finish`] in the transaction that records its file, or put back for a later
//! attempt by [`retry`].

use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use crate::{Conn, Result, Scoped};

const TABLE: &str = "contract_jobs";

crate::record! {
    /// A contract job as stored.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ContractJobRecord {
        /// Business unit.
        tenant_id: String,
        /// Job id (`cjob_…`).
        job_id: String,
        /// One job per contract: `order:<orderId>`, `upgrade:<orderId>`,
        /// `extension:<rentalId>:<contract length after the extension>`.
        dedupe_key: String,
        /// The order whose contract is made (its customer, items and prices fill the template).
        order_id: String,
        /// The subscription that called for it (`metadata.rentalId` of the file).
        rental_id: Option<String>,
        /// `order`, `extension` or `upgrade`.
        contract_type: String,
        /// The id the contract's file gets, chosen when the job is queued, so that every attempt
        /// writes the same object.
        file_id: String,
        /// `pending`, `done` or `failed` (attempts exhausted).
        status: String,
        /// Attempts begun.
        attempts: i64,
        /// Epoch milliseconds from which the job may be taken.
        next_attempt_at: i64,
        /// Epoch milliseconds until which the worker that took it holds it (0: nobody).
        lease_until: i64,
        /// Why the last attempt failed.
        last_error: Option<String>,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
}

/// Queues a job unless one with its `dedupe_key` exists in the unit; returns whether it was
/// queued.
pub async fn enqueue(conn: &mut Conn, job: &ContractJobRecord) -> Result<bool> {
    let cols = ContractJobRecord::COLUMNS;
    let mut q = Scoped::insert(TABLE, &job.tenant_id, cols[1..].iter().copied());
    q.row(job.values().into_iter().skip(1));
    q.on_conflict(
        OnConflict::columns(["tenant_id", "dedupe_key"])
            .do_nothing()
            .to_owned(),
    );
    Ok(conn.execute(&q).await? > 0)
}

/// Up to `limit` pending jobs of a business unit that may be taken at `now` (due, lease ended),
/// oldest due first (`contract_jobs_due`).
pub async fn due(
    conn: &mut Conn,
    tenant_id: &str,
    now: i64,
    limit: u64,
) -> Result<Vec<ContractJobRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(ContractJobRecord::COLUMNS.iter().copied())
        .and_where(Expr::cust("status = 'pending'"))
        .and_where(Expr::col("next_attempt_at").lte(now))
        .and_where(Expr::col("lease_until").lte(now))
        .order_by("next_attempt_at", Order::Asc)
        .limit(limit);
    conn.fetch_all(&q).await
}

/// Business units with a pending job that may be taken at `now`, up to `limit`: the worker's
/// probe of the whole store, on `contract_jobs_due` (which holds pending jobs only).
pub async fn due_units(conn: &mut Conn, now: i64, limit: u64) -> Result<Vec<String>> {
    let q = Scoped::platform(
        Query::select()
            .distinct()
            .column("tenant_id")
            .from(TABLE)
            .and_where(Expr::cust("status = 'pending'"))
            .and_where(Expr::col("next_attempt_at").lte(now))
            .and_where(Expr::col("lease_until").lte(now))
            .limit(limit)
            .to_owned(),
    );
    conn.fetch_all(&q).await
}

/// Takes a pending job until `until` (epoch ms) and counts the attempt, when its lease ended by
/// `now` (one atomic statement: of two workers one gets it). Returns the job as taken; `None`
/// when another worker holds it or it is no longer pending.
pub async fn claim(
    conn: &mut Conn,
    tenant_id: &str,
    job_id: &str,
    now: i64,
    until: i64,
) -> Result<Option<ContractJobRecord>> {
    let mut q = Scoped::update(TABLE, tenant_id);
    q.value("lease_until", until)
        .value("attempts", Expr::col("attempts").add(1i64))
        .value("updated_at", now)
        .and_where(Expr::col("job_id").eq(job_id))
        .and_where(Expr::cust("status = 'pending'"))
        .and_where(Expr::col("lease_until").lte(now))
        .returning(Query::returning().columns(ContractJobRecord::COLUMNS.iter().copied()));
    conn.fetch_optional(&q).await
}

/// Marks a job taken until `lease_until` done (in the transaction that records its file).
/// Returns `false` when the lease was lost (another worker took the job after it ran out).
pub async fn finish(conn: &mut Conn, job: &ContractJobRecord, now: i64) -> Result<bool> {
    let mut q = release(job, now);
    q.value("status", "done")
        .value("last_error", Option::<String>::None);
    Ok(conn.execute(&q).await? > 0)
}

/// Records a failed attempt of a job taken until `lease_until`: pending again from `next`
/// (epoch ms), or `failed` when `next` is `None`. Returns `false` when the lease was lost.
pub async fn retry(
    conn: &mut Conn,
    job: &ContractJobRecord,
    error: &str,
    next: Option<i64>,
    now: i64,
) -> Result<bool> {
    let mut q = release(job, now);
    q.value("status", if next.is_some() { "pending" } else { "failed" })
        .value("next_attempt_at", next.unwrap_or(job.next_attempt_at))
        .value("last_error", error);
    Ok(conn.execute(&q).await? > 0)
}

/// The update that ends the lease of a pending job still held as `job` was taken.
fn release(job: &ContractJobRecord, now: i64) -> Scoped<sea_query::UpdateStatement> {
    let mut q = Scoped::update(TABLE, &job.tenant_id);
    q.value("lease_until", 0i64)
        .value("updated_at", now)
        .and_where(Expr::col("job_id").eq(job.job_id.as_str()))
        .and_where(Expr::cust("status = 'pending'"))
        .and_where(Expr::col("lease_until").eq(job.lease_until));
    q
}

/// The jobs of an order, oldest first.
pub async fn of_order(
    conn: &mut Conn,
    tenant_id: &str,
    order_id: &str,
) -> Result<Vec<ContractJobRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(ContractJobRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("order_id").eq(order_id))
        .order_by("created_at", Order::Asc)
        .order_by("job_id", Order::Asc);
    conn.fetch_all(&q).await
}
