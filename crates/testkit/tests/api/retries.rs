//! Transactions that lose to a concurrent one are run again, a bounded number of times, and what
//! a failed attempt wrote is rolled back.

use std::sync::atomic::{AtomicU32, Ordering};

use flexportal_app::error::MAX_ATTEMPTS;
use flexportal_app::{AppError, AppResult, ErrorKind};
use flexportal_store::{Conn, Engine, StoreError};
use flexportal_testkit::{EngineKind, TestApp, both_engines, open_db};

/// One attempt: writes a tenant's settings, then fails retryably until `succeed_at`.
async fn attempt(
    tx: &mut Conn,
    tenant_id: &str,
    attempts: &AtomicU32,
    succeed_at: u32,
) -> AppResult<u32> {
    let n = attempts.fetch_add(1, Ordering::SeqCst) + 1;
    flexportal_store::tenants::set_settings(
        tx,
        tenant_id,
        &format!("{{\"pricing\":{{\"defaultContractLength\":{n}}}}}"),
        0,
    )
    .await?;
    if n < succeed_at {
        return Err(AppError::Retryable(StoreError::Pool(format!(
            "attempt {n} lost"
        ))));
    }
    Ok(n)
}

both_engines!(
    retryable_failures_run_the_use_case_again,
    |app: TestApp| async move {
        let tenant = app.tenant.tenant_id.clone();
        let attempts = AtomicU32::new(0);
        let n =
            flexportal_app::transact!(app.app(), |tx| attempt(tx, &tenant, &attempts, 3)).unwrap();
        assert_eq!(n, 3);
        let ctx = app.context(&app.tenant).await;
        assert_eq!(ctx.settings.pricing.default_contract_length, 3);

        // Past the bound the failure is answered, and nothing of any attempt is kept.
        app.set_settings(
            &app.tenant,
            serde_json::json!({"pricing": {"defaultContractLength": 24}}),
        )
        .await;
        let attempts = AtomicU32::new(0);
        let e = flexportal_app::transact!(app.app(), |tx| attempt(tx, &tenant, &attempts, 99))
            .unwrap_err();
        assert_eq!(attempts.load(Ordering::SeqCst), MAX_ATTEMPTS);
        assert_eq!(e.kind(), ErrorKind::Retryable);
        let wire = e.into_wire();
        assert_eq!((wire.status, wire.code), (409, "CONFLICT"));
        let ctx = app.context(&app.tenant).await;
        assert_eq!(ctx.settings.pricing.default_contract_length, 24);

        // Other failures are not retried.
        let attempts = AtomicU32::new(0);
        let e = flexportal_app::transact!(app.app(), |tx| async {
            attempts.fetch_add(1, Ordering::SeqCst);
            let _ = &tx;
            Err::<(), _>(AppError::not_found("Thing"))
        })
        .unwrap_err();
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
);

/// A real deadlock on PostgreSQL is classified as retryable (SQLite has one writer and cannot
/// deadlock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_deadlock_is_retryable() {
    let Some((db, _)) = open_db(EngineKind::Postgres).await else {
        return;
    };
    assert_eq!(db.engine(), Engine::Postgres);
    let a = flexportal_domain::ids::random_token(8);
    let b = flexportal_domain::ids::random_token(8);
    let mut t1 = db.begin().await.unwrap();
    let mut t2 = db.begin().await.unwrap();
    t1.lock_key(&a, "x").await.unwrap();
    t2.lock_key(&b, "x").await.unwrap();
    // Each now waits for the other's lock: PostgreSQL breaks the cycle by failing one.
    let (r1, r2) = tokio::join!(t1.lock_key(&b, "x"), t2.lock_key(&a, "x"));
    let failed: Vec<StoreError> = [r1, r2].into_iter().filter_map(Result::err).collect();
    assert_eq!(failed.len(), 1, "exactly one side is chosen as the victim");
    assert!(failed[0].is_retryable(), "{}", failed[0]);
    assert!(AppError::from(failed.into_iter().next().unwrap()).is_retryable());
}
