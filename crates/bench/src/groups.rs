//! Scenario `groups`: creating a billing group of `--members` rentals of one customer (each a
//! 36-month subscription started today, so 35 future charges each are consolidated: 17,500 lines
//! for 500 members) and deleting it again (every line leaves and comes back as an individual
//! payment), through the use cases `flexportal_app::billing_groups::{create, delete}`, timed.
//! Then the same again with the group deactivated and reactivated (PATCH `status`).

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use crate::Engine;
use crate::fulfil::{self, key_context};
use crate::store::{FreshStore, TempDir, count_rows};

/// Options of the `groups` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct GroupsArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Member rentals of the group.
    #[arg(long, default_value_t = 500)]
    pub members: usize,
    /// Seed of the dataset generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Runs the scenario and prints its figures.
pub fn run(args: GroupsArgs) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let n = args.members;
        println!(
            "== groups: engine {}, one customer with {n} 36-month rentals (load average {}) ==",
            args.engine.name(),
            crate::load_average()
        );
        let dir = TempDir::new();
        let store = FreshStore::create(args.engine, dir.path(), "groups").await;
        let app = store.app.clone();
        // One customer cannot order a SKU twice in a row (duplicate-order window), so twenty place
        // the orders and the rentals are then given to the first by SQL.
        let units = fulfil::prepare_units_months(&app, dir.path(), n, 20, args.seed, 8, |_| 36).await;
        let ctx = key_context(&units.tenant);
        let pairs = units.order_serial_pairs();
        fulfil::fulfil_direct(&app, &ctx, Arc::new(pairs), 8).await;
        for table in ["subscriptions", "payments", "customers"] {
            app.db.analyze(table).await.expect("ANALYZE");
        }
        let tenant = ctx.tenant_id.clone();
        let (rentals, customer): (Vec<String>, String) = {
            let mut c = app.db.read().await.expect("read");
            let rows = c
                .fetch_all_sql::<(String, String)>(&format!(
                    "SELECT rental_id, customer_id FROM subscriptions WHERE tenant_id = '{tenant}' \
                     ORDER BY rental_id"
                ))
                .await
                .expect("rentals");
            let customer = rows[0].1.clone();
            (rows.into_iter().map(|r| r.0).collect(), customer)
        };
        {
            let mut c = app.db.begin().await.expect("write");
            for table in ["subscriptions", "payments"] {
                c.batch(&format!(
                    "UPDATE {table} SET customer_id = '{customer}' WHERE tenant_id = '{tenant}'"
                ))
                .await
                .expect("one customer");
            }
            c.commit().await.expect("commit");
        }
        assert_eq!(rentals.len(), n);
        let lines = |app: flexportal_app::App, t: String| async move {
            count_rows(&app, "payment_lines", &t, "AND removed_at IS NULL").await
        };
        for round in 1..=2 {
            let body = json!({"customerId": customer, "groupName": "Bench", "billingDay": 15,
                "rentalIds": rentals});
            let t = Instant::now();
            let g = flexportal_app::billing_groups::create(&app, &ctx, &body)
                .await
                .expect("create group");
            let created = t.elapsed();
            let consolidated = lines(app.clone(), tenant.clone()).await;
            let id = g.group.billing_group_id.clone();
            println!(
                "round {round}: create with {n} members: {:.2} s, {consolidated} lines on {} consolidated payments",
                created.as_secs_f64(),
                count_rows(&app, "payments", &tenant, &format!("AND billing_group_id = '{id}' AND status = 'pending'")).await
            );
            if round == 2 {
                for status in ["inactive", "active"] {
                    let t = Instant::now();
                    flexportal_app::billing_groups::update(&app, &ctx, &id, &json!({"status": status}))
                        .await
                        .expect("update group");
                    println!(
                        "round {round}: PATCH status {status}: {:.2} s, {} lines counting",
                        t.elapsed().as_secs_f64(),
                        lines(app.clone(), tenant.clone()).await
                    );
                }
            }
            let t = Instant::now();
            flexportal_app::billing_groups::delete(&app, &ctx, &id)
                .await
                .expect("delete group");
            println!(
                "round {round}: delete: {:.2} s, {} lines left counting, {} individual pending payments",
                t.elapsed().as_secs_f64(),
                lines(app.clone(), tenant.clone()).await,
                count_rows(&app, "payments", &tenant, "AND payment_type = 'individual' AND status = 'pending'").await
            );
        }
        store.destroy().await;
    });
}
