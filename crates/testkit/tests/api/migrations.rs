//! Migrations move existing data: a database written by the schema of version 2 (payment kinds
//! guessed from idempotency keys, billing settings as debug text, no assignments, history as a
//! blob) is migrated forward and read through the store on both engines.

use flexportal_domain::billing::BillingSettings;
use flexportal_domain::schedule::{BillingCycle, BillingStartOption, FirstPayment};
use flexportal_domain::status::{PaymentKind, SubscriptionEventKind};
use flexportal_store::{assignments, payments, subscription_events, subscriptions};
use flexportal_testkit::{EngineKind, open_unmigrated_db};

/// Rows exactly as version 2 of the schema stored them.
const V2_ROWS: &str = "
INSERT INTO tenants VALUES ('bu_old', 'Old unit', 'EUR', 'UTC', 'active', NULL, '{}', 1, 1);
INSERT INTO customers (tenant_id, customer_id, email, email_key, first_name, last_name,
    customer_type, status, created_by, created_at, updated_at)
VALUES ('bu_old', 'cust_1', 'a@example.com', 'a@example.com', 'Ada', 'Old', 'individual',
    'active', 'system', 1, 1);
INSERT INTO orders (tenant_id, order_id, status, order_type, customer_id, customer_snapshot,
    billing_address, shipping_address, items, subtotal, tax_amount, total, currency,
    total_devices, rented_devices, dedupe_key, created_by, created_at, updated_at)
VALUES ('bu_old', 'ord_1', 'fulfilled', 'standard', 'cust_1', '{}', '{}', '{}', '[]', 8900, 0,
    8900, 'EUR', 2, 2, 'k', 'system', 1, 1);
INSERT INTO subscriptions (tenant_id, rental_id, order_id, order_item_index, customer_id,
    customer_email, customer_name, asset_serial_number, sku, variant_id, product_id,
    product_name, monthly_amount, currency, status, original_contract_length, contract_length,
    start_date, end_date, anchor_date, billing, last_modified_date, list_price_source,
    acquisition_cost_source, captured_at, history, created_by, created_at, updated_at)
VALUES
('bu_old', 'sub_1', 'ord_1', 0, 'cust_1', 'a@example.com', 'Ada Old', 'SER-1', 'P-1', 'var_1',
    'prod_1', 'Laptop', 8900, 'EUR', 'active', 12, 12, '2025-01-20', '2026-01-19', '2025-02-05',
    '{\"cycle\":\"FixedDay(5)\",\"firstPayment\":\"ProRated\",\"billingStartOption\":null}',
    1, 'unknown', 'unknown', 1, '{}', 'system', 1, 1),
('bu_old', 'sub_2', 'ord_1', 0, 'cust_1', 'a@example.com', 'Ada Old', 'SER-2', 'P-1', 'var_1',
    'prod_1', 'Laptop', 8900, 'EUR', 'active', 12, 12, '2025-01-01', '2025-12-31', '2025-01-01',
    '{\"cycle\":\"StartDate\",\"firstPayment\":\"FullMonth\",\"billingStartOption\":\"same_day_next_month\"}',
    1, 'unknown', 'unknown', 1, '{}', 'system', 2, 2);
INSERT INTO payments (tenant_id, payment_id, customer_id, rental_id, payment_type, billing_date,
    service_start, stub, billing_period, due_date, subtotal, tax_amount, tax_rate_bp, total,
    currency, status, provider, idempotency_key, description, created_at, updated_at)
VALUES
('bu_old', 'pay_1', 'cust_1', 'sub_2', 'individual', '2025-01-01', '2025-01-01', 0, '2025-01',
    '2025-01-01', 8900, 0, 0, 8900, 'EUR', 'pending', 'manual', 'sub_2:2025-01', 'Laptop 2025-01', 1, 1),
('bu_old', 'pay_2', 'cust_1', 'sub_2', 'individual', '2025-01-01', '2025-01-01', 0, '2025-01',
    '2025-01-01', 4900, 0, 0, 4900, 'EUR', 'pending', 'manual', 'sub_2:setup', 'Setup fee', 1, 1);
";

async fn migrates_version_2_data(engine: EngineKind) {
    let Some((db, dir)) = open_unmigrated_db(engine).await else {
        return;
    };
    db.migrate_to(Some(2)).await.expect("migrate to version 2");
    let mut tx = db.begin().await.unwrap();
    tx.batch(V2_ROWS).await.expect("version 2 rows");
    tx.commit().await.unwrap();

    db.migrate().await.expect("migrate to the latest version");
    let mut c = db.read().await.unwrap();
    let s1 = subscriptions::get(&mut c, "bu_old", "sub_1")
        .await
        .expect("sub_1 decodes")
        .unwrap();
    assert_eq!(
        s1.billing,
        BillingSettings {
            cycle: BillingCycle::FixedDay(5),
            first_payment: FirstPayment::ProRated,
            option: None,
        }
    );
    let s2 = subscriptions::get(&mut c, "bu_old", "sub_2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s2.billing,
        BillingSettings {
            cycle: BillingCycle::StartDate,
            first_payment: FirstPayment::FullMonth,
            option: Some(BillingStartOption::SameDayNextMonth),
        }
    );
    let mut kinds: Vec<(String, PaymentKind)> = payments::for_rental(&mut c, "bu_old", "sub_2")
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.payment_id, p.kind))
        .collect();
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        kinds,
        vec![
            ("pay_1".to_string(), PaymentKind::Installment),
            ("pay_2".to_string(), PaymentKind::Setup)
        ]
    );
    let held = assignments::for_rental(&mut c, "bu_old", "sub_1")
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].serial_number, "SER-1");
    assert_eq!(held[0].from.to_string(), "2025-01-20");
    assert_eq!(held[0].to, None);
    let events = subscription_events::for_rental(&mut c, "bu_old", "sub_2")
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, SubscriptionEventKind::Created);
    assert_eq!(events[0].created_at, 2);
    drop(c);
    drop(db);
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_2_data_migrates_on_sqlite() {
    migrates_version_2_data(EngineKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_2_data_migrates_on_postgres() {
    migrates_version_2_data(EngineKind::Postgres).await;
}
