//! Both engines' migrations produce the same tables, columns and indexes, and every tenant-owned
//! key and index leads with tenant_id.

use std::collections::BTreeMap;

use flexportal_store::{Db, FromRow, Row, StoreError};
use flexportal_testkit::{EngineKind, open_db};

struct Col(String, String);
impl FromRow for Col {
    fn from_row(r: &dyn Row) -> Result<Self, StoreError> {
        Ok(Col(r.text(0)?, r.text(1)?))
    }
}

type Schema = (BTreeMap<String, Vec<String>>, BTreeMap<String, Vec<String>>);

async fn describe(db: &Db) -> Schema {
    let mut c = db.read().await.unwrap();
    let (cols_sql, idx_sql) = match db.engine() {
        flexportal_store::Engine::Sqlite => (
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'refinery_%' ORDER BY m.name, p.cid",
            "SELECT il.name, ii.name FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii \
             WHERE m.type = 'table' AND m.name NOT LIKE 'refinery_%' AND il.origin = 'c' ORDER BY il.name, ii.seqno",
        ),
        flexportal_store::Engine::Postgres => (
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE 'refinery_%' ORDER BY table_name, ordinal_position",
            "SELECT i.relname::text, a.attname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord) ON true \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE n.nspname = 'public' AND NOT x.indisprimary AND t.relname NOT LIKE 'refinery_%' \
             AND i.relname NOT LIKE '%_key' ORDER BY i.relname, k.ord",
        ),
    };
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for Col(t, col) in fetch(&mut c, cols_sql).await {
        tables.entry(t).or_default().push(col);
    }
    let mut indexes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for Col(i, col) in fetch(&mut c, idx_sql).await {
        indexes.entry(i).or_default().push(col);
    }
    (tables, indexes)
}

async fn fetch(c: &mut flexportal_store::Conn, sql: &str) -> Vec<Col> {
    c.fetch_all_sql(sql).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_give_the_same_schema_on_both_engines() {
    let (sqlite, dir) = open_db(EngineKind::Sqlite).await.unwrap();
    let (s_tables, s_indexes) = describe(&sqlite).await;
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    // Platform tables: the business units themselves, the credentials epoch (one counter) and the
    // server's secrets (the key signing file URLs): no business data.
    for (name, cols) in &s_tables {
        if !["tenants", "auth_epoch", "server_secrets"].contains(&name.as_str()) {
            assert_eq!(cols[0], "tenant_id", "{name} does not lead with tenant_id");
        }
    }
    // The platform-wide lookup of a presented key by its hash.
    for (name, cols) in &s_indexes {
        if name != "api_keys_hash" {
            assert_eq!(
                cols[0], "tenant_id",
                "index {name} does not lead with tenant_id"
            );
        }
    }
    let Some((pg, _)) = open_db(EngineKind::Postgres).await else {
        return;
    };
    let (p_tables, p_indexes) = describe(&pg).await;
    assert_eq!(s_tables, p_tables);
    assert_eq!(s_indexes, p_indexes);
}

/// The text of each line of a query plan: the detail of SQLite's `EXPLAIN QUERY PLAN`, a line of
/// PostgreSQL's `EXPLAIN`.
struct PlanLine(String);
impl FromRow for PlanLine {
    fn from_row(r: &dyn Row) -> Result<Self, StoreError> {
        let detail = if r.column_name(3).is_some() { 3 } else { 0 };
        Ok(PlanLine(r.text(detail)?))
    }
}

/// The plan of `sql` (literal values), in a transaction of its own in which PostgreSQL avoids
/// whole-table scans and sorts where it can, so that on empty tables, where every plan costs
/// about the same, its plan still shows what the indexes offer.
async fn plan(db: &Db, sql: &str) -> String {
    let mut tx = db.begin().await.unwrap();
    let explain = match db.engine() {
        flexportal_store::Engine::Sqlite => "EXPLAIN QUERY PLAN",
        flexportal_store::Engine::Postgres => {
            tx.batch("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
                .await
                .unwrap();
            "EXPLAIN"
        }
    };
    let lines: Vec<PlanLine> = tx.fetch_all_sql(&format!("{explain} {sql}")).await.unwrap();
    tx.rollback().await.unwrap();
    lines
        .into_iter()
        .map(|l| l.0)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The reads of a rental's payments (the subscription views, lifecycle actions, daily jobs) come
/// out of `payments_rental_billing` in billing-date and id order, and the first page of
/// listPayments for a subscription outside billing groups out of `payments_rental_created`,
/// without sorting rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rentals_payments_are_read_in_order_from_their_index() {
    let page = "SELECT * FROM payments WHERE tenant_id = 'bu_1' AND rental_id = 'sub_1' \
                ORDER BY created_at DESC, payment_id DESC LIMIT 51";
    let one = "SELECT * FROM payments WHERE tenant_id = 'bu_1' AND rental_id = 'sub_1' \
               ORDER BY billing_date, payment_id";
    let after = "SELECT * FROM payments WHERE tenant_id = 'bu_1' AND rental_id = 'sub_1' \
                 AND billing_date > '2025-01-01' ORDER BY billing_date, payment_id";
    let many = "SELECT * FROM payments WHERE tenant_id = 'bu_1' \
                AND rental_id IN ('sub_1', 'sub_2', 'sub_3') \
                ORDER BY rental_id, billing_date, payment_id";
    for engine in [EngineKind::Sqlite, EngineKind::Postgres] {
        let Some((db, dir)) = open_db(engine).await else {
            continue;
        };
        let sorts = |p: &str| p.contains("TEMP B-TREE") || p.contains("Sort");
        for (sql, index) in [
            (one, "payments_rental_billing"),
            (after, "payments_rental_billing"),
            (page, "payments_rental_created"),
        ] {
            let p = plan(&db, sql).await;
            assert!(p.contains(index), "{engine:?}: {p}");
            assert!(!sorts(&p), "{engine:?} sorts: {p}");
        }
        // PostgreSQL before 17 does not take the order of an index scan for a list of values
        // on its second column; it sorts those few rows in memory.
        if engine == EngineKind::Sqlite {
            let p = plan(&db, many).await;
            assert!(!sorts(&p), "{engine:?} sorts: {p}");
        }
        if let Some(d) = dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
