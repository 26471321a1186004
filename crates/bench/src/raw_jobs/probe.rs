//! Query-plan probes of the late-fee statement on both engines (`--plans`).

use super::*;

/// SQLite: times the late-fee job's statement (as `payments::apply_late_fees` renders it, flat
/// fee [`crate::jobs::LATE_FEE_MINOR`]) on its own in transactions that are rolled back, on a
/// connection to `path` with the store's pragmas and QPSG: once with its values bound as the store
/// binds them (the partial index `payments_overdue` cannot be proven to apply), once with the
/// status and flag written inline (it can). Prints rows, time and plan of each.
pub fn late_fee_probe(path: &Path, tenant: &str, cutoff: &str) {
    let conn = sqlite_writer(path);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .expect("QPSG");
    let fee = crate::jobs::LATE_FEE_MINOR;
    let bound = "UPDATE \"payments\" SET \"original_amount\" = \"total\", \"late_fee_amount\" = ?1, \
                 \"total\" = \"total\" + ?1, \"late_fee_applied\" = ?2, \"updated_at\" = ?3 \
                 WHERE \"tenant_id\" = ?4 AND \"status\" IN (?5, ?6) AND \"late_fee_applied\" = ?7 \
                 AND \"due_date\" < ?8";
    let inline = format!(
        "UPDATE \"payments\" SET \"original_amount\" = \"total\", \"late_fee_amount\" = {fee}, \
         \"total\" = \"total\" + {fee}, \"late_fee_applied\" = 1, \"updated_at\" = 0 \
         WHERE \"tenant_id\" = ?1 AND \"status\" IN ('pending', 'failed') \
         AND \"late_fee_applied\" = 0 AND \"due_date\" < ?2"
    );
    for (label, sql) in [
        ("values bound (as the store runs it)", bound.to_string()),
        ("status and flag inline", inline),
    ] {
        use rusqlite::types::Value as V;
        let values: Vec<V> = if sql.contains("?8") {
            vec![
                V::Integer(fee),
                V::Integer(1),
                V::Integer(0),
                V::Text(tenant.into()),
                V::Text("pending".into()),
                V::Text("failed".into()),
                V::Integer(0),
                V::Text(cutoff.into()),
            ]
        } else {
            vec![V::Text(tenant.into()), V::Text(cutoff.into())]
        };
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("EXPLAIN")
            .query_map(rusqlite::params_from_iter(values.iter()), |r| {
                r.get::<_, String>(3)
            })
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("plan");
        conn.execute_batch("BEGIN IMMEDIATE").expect("BEGIN");
        let t = Instant::now();
        let changed = conn
            .execute(&sql, rusqlite::params_from_iter(values.iter()))
            .expect("late-fee statement");
        let took = t.elapsed();
        conn.execute_batch("ROLLBACK").expect("ROLLBACK");
        println!(
            "  {label}: {changed} rows in {:.3} s ({})",
            took.as_secs_f64(),
            plan.join("; ")
        );
    }
}

/// PostgreSQL: runs the late-fee job's statement (as `payments::apply_late_fees` renders it, flat
/// fee [`crate::jobs::LATE_FEE_MINOR`]) under `EXPLAIN ANALYZE` in transactions that are rolled
/// back, as a prepared statement with its values as parameters (the first execution, a custom
/// plan, as the job's), then the same with sequential scans disabled (the partial index
/// `payments_overdue`). Prints the plan's top node, rows and execution time of each. Blocks.
pub fn late_fee_probe_pg(url: &str, tenant: &str, cutoff: &str) {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("probe runtime")
                .block_on(async {
                    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                        .await
                        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
                    let driver = tokio::spawn(conn);
                    let fee = crate::jobs::LATE_FEE_MINOR;
                    for (label, setting) in [
                        ("prepared, values bound (as the job runs it)", ""),
                        (
                            "the same with enable_seqscan off",
                            "SET LOCAL enable_seqscan = off;",
                        ),
                    ] {
                        client
                            .batch_execute(&format!(
                                "BEGIN; {setting} PREPARE late_fee_probe AS UPDATE \"payments\" \
                                 SET \"original_amount\" = \"total\", \"late_fee_amount\" = $1, \
                                 \"total\" = \"total\" + $2, \"late_fee_applied\" = $3, \
                                 \"updated_at\" = $4 WHERE \"tenant_id\" = $5 \
                                 AND \"status\" IN ($6, $7) AND \"late_fee_applied\" = $8 \
                                 AND \"due_date\" < $9"
                            ))
                            .await
                            .expect("PREPARE");
                        let lines: Vec<String> = client
                            .query(
                                &format!(
                                    "EXPLAIN (ANALYZE, COSTS OFF) EXECUTE late_fee_probe({fee}, \
                                     {fee}, 1, 0, '{tenant}', 'pending', 'failed', 0, '{cutoff}')"
                                ),
                                &[],
                            )
                            .await
                            .expect("EXPLAIN ANALYZE")
                            .iter()
                            .map(|r| r.get::<_, String>(0))
                            .collect();
                        client
                            .batch_execute("ROLLBACK; DEALLOCATE late_fee_probe")
                            .await
                            .expect("ROLLBACK");
                        let keep: Vec<&str> = lines
                            .iter()
                            .map(|l| l.trim())
                            .filter(|l| {
                                l.starts_with("Update")
                                    || l.starts_with("->")
                                    || l.starts_with("Execution Time")
                                    || l.starts_with("Rows Removed")
                            })
                            .collect();
                        println!("  {label}: {}", keep.join("; "));
                    }
                    drop(client);
                    let _ = driver.await;
                })
        })
        .join()
        .expect("probe thread")
    });
}
