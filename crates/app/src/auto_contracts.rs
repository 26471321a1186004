//! Automatic contract generation (SPEC §2.9 "Automatic generation", §2.6 "createSubscription"
//! side effects): with the unit's `features.contractGeneration` on, an order contract when a
//! subscription is created, an extension contract on extend, an upgrade contract on upgrade.
//!
//! The change that calls for a contract queues a job on its own transaction ([`enqueue`]), so a
//! contract is due exactly when the change committed and the request never waits for a PDF or
//! for object storage. A worker inside `serve` ([`spawn_worker`], or [`run_due`] directly) takes
//! due jobs under a lease, renders the PDF with the unit's template of the type (else the
//! built-in one), stores it and records the file `contract-<orderId>.pdf` (`type: contract`,
//! `category: generated`, `metadata.contractType`, `metadata.rentalId`) in the transaction that
//! marks the job done. A failed attempt is retried with a growing delay ([`retry_delay_ms`]);
//! after [`MAX_ATTEMPTS`] the job is `failed`, its last error kept, and `generateContract`
//! remains the way to make the contract.
//!
//! One contract per cause: one order contract per order however many subscriptions it creates,
//! one upgrade contract per upgrade order, one extension contract per extension.

use std::time::Duration;

use flexportal_domain::ids::new_id;
use flexportal_store::Conn;
use flexportal_store::contract_jobs::{self, ContractJobRecord};
use flexportal_store::orders;
use flexportal_store::tenants::{self, TenantRecord};
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::{App, TenantContext};

/// How long a worker holds a job it took, in milliseconds; a job whose worker died is taken again
/// after it.
pub const LEASE_MS: i64 = 5 * 60_000;

/// Attempts before a job is `failed`.
pub const MAX_ATTEMPTS: i64 = 8;

/// Jobs read per probe of the queue.
const BATCH: u64 = 16;

/// Business units served by one [`run_due`] of the whole store; the others wait for the next.
const UNITS_PER_RUN: u64 = 1000;

/// How often the worker of `serve` looks for due jobs.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Queues the contract of `contract_type` (`order`, `extension`, `upgrade`) for `order_id`, called
/// for by `rental_id`, on the transaction `tx`, when the unit has `features.contractGeneration`
/// on; `dedupe_key` names the cause (a second job for it is not queued). Returns whether a job
/// was queued.
pub async fn enqueue(
    tx: &mut Conn,
    ctx: &TenantContext,
    order_id: &str,
    rental_id: &str,
    contract_type: &str,
    dedupe_key: String,
    now: i64,
) -> AppResult<bool> {
    if !ctx.settings.features.contract_generation {
        return Ok(false);
    }
    let job = ContractJobRecord {
        tenant_id: ctx.tenant_id.clone(),
        job_id: new_id("cjob", now),
        dedupe_key,
        order_id: order_id.to_string(),
        rental_id: Some(rental_id.to_string()),
        contract_type: contract_type.to_string(),
        file_id: new_id("file", now),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: now,
        lease_until: 0,
        last_error: None,
        created_at: now,
        updated_at: now,
    };
    Ok(contract_jobs::enqueue(tx, &job).await?)
}

/// Delay before the next attempt after `attempts` failed ones, in milliseconds: 30 s, doubling,
/// at most an hour; `None` once [`MAX_ATTEMPTS`] are spent.
pub fn retry_delay_ms(attempts: i64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let doubling = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    Some((30_000i64 << doubling).min(3_600_000))
}

/// What one [`run_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContractRun {
    /// Contracts generated and recorded.
    pub generated: u64,
    /// Attempts that failed and will be retried.
    pub retried: u64,
    /// Jobs given up (attempts spent, or a cause that cannot succeed, such as a missing order).
    pub failed: u64,
}

/// Works every job due now, of one business unit or of all, until none is left to take. Jobs
/// that other workers hold are left to them; a unit whose jobs cannot be read does not hold up
/// the others (logged). Errors: 404 `NOT_FOUND` for an unknown unit; storage failures.
pub async fn run_due(app: &App, tenant_id: Option<&str>) -> AppResult<ContractRun> {
    let units = {
        let mut c = app.db.read().await?;
        match tenant_id {
            Some(id) => vec![
                tenants::get(&mut c, id)
                    .await?
                    .ok_or_else(|| AppError::not_found("Business unit"))?,
            ],
            // One probe of the pending jobs of the whole store, then only the units with work.
            None => {
                let mut units = Vec::new();
                for id in contract_jobs::due_units(&mut c, app.now(), UNITS_PER_RUN).await? {
                    units.extend(tenants::get(&mut c, &id).await?);
                }
                units
            }
        }
    };
    let mut run = ContractRun::default();
    for t in &units {
        if let Err(e) = run_unit(app, t, &mut run).await {
            tracing::error!(tenant = %t.tenant_id, error = ?e, "automatic contracts of a business unit not made");
        }
    }
    Ok(run)
}

/// [`run_due`] for one business unit, adding to `run`.
async fn run_unit(app: &App, unit: &TenantRecord, run: &mut ContractRun) -> AppResult<()> {
    let ctx = TenantContext {
        actor: crate::Actor {
            user_id: "system".into(),
            display_name: "Automatic contract generation".into(),
        },
        ..crate::jobs::job_context(unit)?
    };
    loop {
        let now = app.now();
        let due = {
            let mut c = app.db.read().await?;
            contract_jobs::due(&mut c, &ctx.tenant_id, now, BATCH).await?
        };
        let mut took = 0;
        for job in due {
            let claimed = {
                let mut tx = app.begin().await?;
                let claimed =
                    contract_jobs::claim(&mut tx, &job.tenant_id, &job.job_id, now, now + LEASE_MS)
                        .await?;
                tx.commit().await?;
                claimed
            };
            let Some(job) = claimed else { continue };
            took += 1;
            let Err(e) = attempt(app, &ctx, &job).await else {
                run.generated += 1;
                continue;
            };
            // A rule that refused (the order is gone) will refuse again.
            let next = match e.kind() {
                ErrorKind::Internal | ErrorKind::Retryable | ErrorKind::Conflict => {
                    retry_delay_ms(job.attempts).map(|d| app.now() + d)
                }
                _ => None,
            };
            tracing::warn!(
                tenant = %job.tenant_id, job = %job.job_id, order = %job.order_id,
                attempts = job.attempts, error = %e, retried = next.is_some(),
                "automatic contract not made"
            );
            let mut tx = app.begin().await?;
            if contract_jobs::retry(&mut tx, &job, &e.to_string(), next, app.now()).await? {
                if next.is_some() {
                    run.retried += 1;
                } else {
                    run.failed += 1;
                }
            }
            tx.commit().await?;
        }
        if took == 0 {
            return Ok(());
        }
    }
}

/// Renders, stores and records the contract of a job this worker holds.
async fn attempt(app: &App, ctx: &TenantContext, job: &ContractJobRecord) -> AppResult<()> {
    let mut c = app.db.read().await?;
    let order = orders::get(&mut c, &job.tenant_id, &job.order_id, false)
        .await?
        .ok_or_else(|| AppError::not_found("Order"))?;
    let pdf = crate::contracts::render(&mut c, app, ctx, &order, &job.contract_type, None).await?;
    drop(c);
    let mut metadata = Map::new();
    if let Some(r) = &job.rental_id {
        metadata.insert("rentalId".into(), Value::from(r.clone()));
    }
    crate::contracts::store(
        app,
        ctx,
        &order,
        &job.contract_type,
        metadata,
        Some(job),
        pdf,
    )
    .await
    .map(drop)
}

/// Spawns the worker of `serve`: [`run_due`] for every business unit every [`POLL_INTERVAL`].
pub fn spawn_worker(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_due(&app, None).await {
                Ok(r) if r != ContractRun::default() => {
                    tracing::info!(report = ?r, "automatic contracts")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = ?e, "automatic contracts: queue not read"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_then_stop() {
        let delays: Vec<Option<i64>> = (1..=MAX_ATTEMPTS).map(retry_delay_ms).collect();
        assert_eq!(delays[0], Some(30_000));
        assert_eq!(delays[1], Some(60_000));
        assert_eq!(delays[6], Some(1_920_000));
        assert_eq!(delays[7], None, "the last attempt is not retried");
        assert_eq!(retry_delay_ms(0), Some(30_000));
    }
}
