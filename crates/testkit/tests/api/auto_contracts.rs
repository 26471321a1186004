//! Automatic contract generation (SPEC §2.9): with `features.contractGeneration` on, an order
//! contract when a subscription is created (one per order), an extension contract on extend, an
//! upgrade contract on upgrade; made by the worker after the change commits, retried when file
//! storage fails, given up after the last attempt, one file per contract with concurrent workers.
//! Every run here is of the test's own business unit: tests share the PostgreSQL database.

use std::sync::atomic::Ordering;

use flexportal_app::auto_contracts::{ContractRun, MAX_ATTEMPTS, run_due};
use flexportal_store::contract_jobs;
use flexportal_testkit::storage::TestStore;
use flexportal_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

use super::contracts::{download, lopdf_text};
use super::subscriptions::{rental, setup};

/// The contract files of an order, newest first.
async fn contracts_of(app: &TestApp, order_id: &str) -> Vec<Value> {
    let (s, b) = app
        .get(&format!("/v1/files?orderId={order_id}&type=contract"))
        .await;
    assert_eq!(s, 200, "{b}");
    b["files"].as_array().unwrap().clone()
}

/// The text of a stored file's PDF.
async fn pdf_text(app: &TestApp, file_id: &str) -> String {
    let (s, b) = app
        .post(
            "/v1/files/url",
            json!({"fileId": file_id, "action": "download"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let pdf = download(app, b["url"].as_str().unwrap()).await;
    assert!(pdf.starts_with(b"%PDF-"));
    lopdf_text(&pdf)
}

/// The contract jobs of an order, oldest first.
async fn jobs(app: &TestApp, order: &str) -> Vec<contract_jobs::ContractJobRecord> {
    let mut c = app.app().db.read().await.unwrap();
    contract_jobs::of_order(&mut c, &app.tenant.tenant_id, order)
        .await
        .unwrap()
}

async fn order_of(app: &TestApp, rental_id: &str) -> String {
    let (_, sub) = app.get(&format!("/v1/subscriptions/{rental_id}")).await;
    sub["orderId"].as_str().unwrap().to_string()
}

both_engines!(
    contracts_for_new_extended_and_upgraded_subscriptions,
    |app: TestApp| async move {
        let a = app.app();
        // Off by default: a subscription makes no contract.
        let off = rental(&app, "OFF-1", "2025-01-01").await;
        assert_eq!(
            run_due(a, Some(&app.tenant.tenant_id)).await.unwrap(),
            ContractRun::default()
        );
        assert!(
            contracts_of(&app, &order_of(&app, &off).await)
                .await
                .is_empty()
        );

        app.set_settings(
            &app.tenant,
            json!({"features": {"contractGeneration": true}}),
        )
        .await;
        // Two subscriptions of one order: one order contract.
        let order = setup(&app, 2, 2, "two@example.com").await;
        let mut rentals = Vec::new();
        for serial in ["S-1", "S-2"] {
            let (s, b) = app
                .post(
                    "/v1/subscriptions",
                    json!({"orderId": order, "assetSerialNumber": serial}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
            rentals.push(b["rentalId"].as_str().unwrap().to_string());
        }
        // A refused creation queues nothing.
        let (s, _) = app
            .post(
                "/v1/subscriptions",
                json!({"orderId": order, "assetSerialNumber": "S-1"}),
            )
            .await;
        assert_eq!(s, 400);
        assert!(
            contracts_of(&app, &order).await.is_empty(),
            "made by the worker"
        );
        // Another business unit's run does not take this unit's jobs.
        let other = app.new_tenant("EUR").await;
        assert_eq!(
            run_due(a, Some(&other.tenant_id)).await.unwrap(),
            ContractRun::default()
        );
        let run = run_due(a, Some(&app.tenant.tenant_id)).await.unwrap();
        assert_eq!((run.generated, run.retried, run.failed), (1, 0, 0));
        let files = contracts_of(&app, &order).await;
        assert_eq!(files.len(), 1, "{files:?}");
        let f = &files[0];
        assert_eq!(
            (
                f["category"].as_str(),
                f["filename"].as_str(),
                f["metadata"]["contractType"].as_str(),
                f["metadata"]["rentalId"].as_str(),
            ),
            (
                Some("generated"),
                Some(format!("contract-{order}.pdf").as_str()),
                Some("order"),
                Some(rentals[0].as_str())
            )
        );
        let text = pdf_text(&app, f["fileId"].as_str().unwrap()).await;
        assert!(text.contains("Rental contract"), "{text}");
        assert!(text.contains(&order), "{text}");
        assert!(text.contains("Emma Larsson"), "{text}");
        assert_eq!(
            run_due(a, Some(&app.tenant.tenant_id)).await.unwrap(),
            ContractRun::default()
        );

        // An extension: an extension contract of the subscription's order; a second extension
        // another one.
        for months in [6, 3] {
            let (s, b) = app
                .post(
                    &format!("/v1/subscriptions/{}/extend", rentals[0]),
                    json!({"extensionMonths": months}),
                )
                .await;
            assert_eq!(s, 200, "{b}");
        }
        assert_eq!(
            run_due(a, Some(&app.tenant.tenant_id))
                .await
                .unwrap()
                .generated,
            2
        );
        let files = contracts_of(&app, &order).await;
        let types: Vec<&str> = files
            .iter()
            .map(|f| f["metadata"]["contractType"].as_str().unwrap())
            .collect();
        assert_eq!(types.iter().filter(|t| **t == "extension").count(), 2);
        let ext = files
            .iter()
            .find(|f| f["metadata"]["contractType"] == "extension")
            .unwrap();
        assert_eq!(ext["metadata"]["rentalId"], rentals[0].as_str());
        let text = pdf_text(&app, ext["fileId"].as_str().unwrap()).await;
        assert!(text.contains("Contract extension"), "{text}");

        // An immediate upgrade: an upgrade contract of the upgrade order.
        app.post(
            "/v1/products",
            json!({"productSku": "U", "name": "Laptop Pro", "specification": "s",
                "category": "Laptops", "brand": "B",
                "variants": [{"variantSku": "U-1", "variantName": "M4", "grade": "A",
                    "pricing": [{"contractLength": 24, "monthlyPrice": 79.0}]}]}),
        )
        .await;
        app.post("/v1/assets", json!({"serialNumber": "NEW-1", "sku": "U-1"}))
            .await;
        let (s, b) = app
            .post(
                &format!("/v1/subscriptions/{}/upgrade", rentals[1]),
                json!({"newSku": "U-1", "contractLength": 24, "newSerialNumber": "NEW-1"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let upgrade_order = b["upgradeOrderId"].as_str().unwrap().to_string();
        assert_eq!(
            run_due(a, Some(&app.tenant.tenant_id))
                .await
                .unwrap()
                .generated,
            1
        );
        let files = contracts_of(&app, &upgrade_order).await;
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0]["metadata"]["contractType"], "upgrade");
        assert_eq!(files[0]["metadata"]["rentalId"], b["newRentalId"]);
        assert_eq!(
            contracts_of(&app, &order).await.len(),
            3,
            "no more for the first order"
        );
    }
);

mod storage_failures {
    use super::*;

    async fn run(engine: flexportal_testkit::EngineKind) {
        let (storage, knobs) = TestStore::storage();
        knobs.refuse_puts.store(true, Ordering::SeqCst);
        let Some(app) = TestApp::with_storage(engine, Some(storage)).await else {
            return;
        };
        let a = app.app();
        let tenant = app.tenant.tenant_id.clone();
        app.set_settings(
            &app.tenant,
            json!({"features": {"contractGeneration": true}}),
        )
        .await;
        let first = rental(&app, "F-1", "2025-01-01").await;
        let order = order_of(&app, &first).await;

        // The storage fails: no file, the job waits 30 s for its next attempt.
        let run = run_due(a, Some(&app.tenant.tenant_id)).await.unwrap();
        assert_eq!((run.generated, run.retried, run.failed), (0, 1, 0));
        assert!(contracts_of(&app, &order).await.is_empty());
        let job = jobs(&app, &order).await.remove(0);
        assert_eq!((job.status.as_str(), job.attempts), ("pending", 1));
        assert!(job.last_error.unwrap().contains("storage unavailable"));
        assert_eq!(
            run_due(a, Some(&app.tenant.tenant_id)).await.unwrap(),
            ContractRun::default()
        );
        app.clock.advance(29_000);
        assert_eq!(
            run_due(a, Some(&app.tenant.tenant_id)).await.unwrap(),
            ContractRun::default()
        );
        app.clock.advance(1_000);
        assert_eq!(
            run_due(a, Some(&app.tenant.tenant_id))
                .await
                .unwrap()
                .retried,
            1
        );

        // It recovers: the contract is made under the file id chosen when it was queued.
        knobs.refuse_puts.store(false, Ordering::SeqCst);
        app.clock.advance(60_000);
        assert_eq!(run_due(a, Some(&tenant)).await.unwrap().generated, 1);
        let files = contracts_of(&app, &order).await;
        assert_eq!(files.len(), 1);
        let job = jobs(&app, &order).await.remove(0);
        assert_eq!((job.status.as_str(), job.attempts), ("done", 3));
        assert_eq!(files[0]["fileId"], job.file_id.as_str());
        assert!(pdf_text(&app, &job.file_id).await.contains(&order));

        // A job that never succeeds is given up after the last attempt.
        knobs.refuse_puts.store(true, Ordering::SeqCst);
        let second = rental(&app, "F-2", "2025-01-01").await;
        let order2 = order_of(&app, &second).await;
        let mut runs = ContractRun::default();
        for _ in 0..MAX_ATTEMPTS {
            let r = run_due(a, Some(&app.tenant.tenant_id)).await.unwrap();
            runs.retried += r.retried;
            runs.failed += r.failed;
            app.clock.advance(3_600_000);
        }
        assert_eq!((runs.retried, runs.failed), (MAX_ATTEMPTS as u64 - 1, 1));
        let job = jobs(&app, &order2).await.remove(0);
        assert_eq!(
            (job.status.as_str(), job.attempts),
            ("failed", MAX_ATTEMPTS)
        );
        knobs.refuse_puts.store(false, Ordering::SeqCst);
        app.clock.advance(3_600_000);
        assert_eq!(
            run_due(a, Some(&app.tenant.tenant_id)).await.unwrap(),
            ContractRun::default()
        );
        assert!(contracts_of(&app, &order2).await.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(flexportal_testkit::EngineKind::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(flexportal_testkit::EngineKind::Postgres).await;
    }
}

both_engines!(
    concurrent_workers_make_each_contract_once,
    |app: TestApp| async move {
        app.set_settings(
            &app.tenant,
            json!({"features": {"contractGeneration": true}}),
        )
        .await;
        let mut orders = Vec::new();
        for i in 0..6 {
            let r = rental(&app, &format!("C-{i}"), "2025-01-01").await;
            orders.push(order_of(&app, &r).await);
        }
        // Four workers, as four processes on one store would run.
        let a = app.app();
        let runs =
            futures_util::future::join_all((0..4).map(|_| run_due(a, Some(&app.tenant.tenant_id))))
                .await;
        let runs: Vec<ContractRun> = runs.into_iter().map(Result::unwrap).collect();
        let generated: u64 = runs.iter().map(|r| r.generated).sum();
        let retried: u64 = runs.iter().map(|r| r.retried).sum();
        assert_eq!((generated, retried), (6, 0), "{runs:?}");
        for order in &orders {
            assert_eq!(contracts_of(&app, order).await.len(), 1, "{order}");
            // Each job was taken once: no worker began an attempt another one held.
            let job = jobs(&app, order).await.remove(0);
            assert_eq!((job.status.as_str(), job.attempts), ("done", 1), "{order}");
        }
    }
);

both_engines!(
    the_workers_probe_finds_units_with_due_jobs,
    |app: TestApp| async move {
        app.set_settings(
            &app.tenant,
            json!({"features": {"contractGeneration": true}}),
        )
        .await;
        let tenant = app.tenant.tenant_id.clone();
        let probe = |app: &TestApp| {
            let a = app.app().clone();
            async move {
                let mut c = a.db.read().await.unwrap();
                // Other tests' units may be pending too: a limit above them all.
                contract_jobs::due_units(&mut c, a.now(), 100_000)
                    .await
                    .unwrap()
            }
        };
        assert!(!probe(&app).await.contains(&tenant), "nothing queued yet");
        rental(&app, "P-1", "2025-01-01").await;
        assert!(probe(&app).await.contains(&tenant));
        // Taken and done: gone from the probe. The worker of `serve` runs for the whole store;
        // tests share the PostgreSQL database, so only SQLite's own file lets a test run it so.
        let r = rental(&app, "P-2", "2025-01-01").await;
        let run = if app.engine == flexportal_testkit::EngineKind::Sqlite {
            run_due(app.app(), None).await.unwrap()
        } else {
            run_due(app.app(), Some(&tenant)).await.unwrap()
        };
        assert_eq!(run.generated, 2);
        assert!(!probe(&app).await.contains(&tenant));
        assert_eq!(contracts_of(&app, &order_of(&app, &r).await).await.len(), 1);
    }
);
