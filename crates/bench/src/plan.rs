//! Query plans of the asset list statement, as the engine would run it: the statement of
//! `flexportal_store::assets::list_query` rendered by `Conn::render`, its parameters substituted
//! with literals, under `EXPLAIN QUERY PLAN` (SQLite) or `EXPLAIN` (PostgreSQL; also the generic
//! plan a prepared statement may switch to).

use flexportal_app::App;
use flexportal_store::sea_query::{
    PostgresQueryBuilder, QueryBuilder, SelectStatement, SqliteQueryBuilder, Value,
};
use flexportal_store::{Conn, Engine, FromRow, Row};

/// One line of SQLite's `EXPLAIN QUERY PLAN`.
struct SqlitePlanLine {
    id: i64,
    parent: i64,
    detail: String,
}

impl FromRow for SqlitePlanLine {
    fn from_row(r: &dyn Row) -> flexportal_store::Result<Self> {
        Ok(SqlitePlanLine {
            id: r.int(0)?,
            parent: r.int(1)?,
            detail: r.text(3)?,
        })
    }
}

/// Replaces SQLite's `?` placeholders, in order, with `values`.
fn substitute_unnumbered(sql: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut it = values.iter();
    for ch in sql.chars() {
        if ch == '?' {
            out.push_str(it.next().map_or("?", String::as_str));
        } else {
            out.push(ch);
        }
    }
    out
}

/// Replaces PostgreSQL's `$n` placeholders with `values[n - 1]` (highest first, so `$1` never
/// matches the start of `$10`).
fn substitute_numbered(sql: &str, values: &[String]) -> String {
    let mut out = sql.to_string();
    for (i, v) in values.iter().enumerate().rev() {
        out = out.replace(&format!("${}", i + 1), v);
    }
    out
}

/// The statement as `Conn::render` renders it, with literal values for its parameters.
fn literal_sql(conn: &Conn, q: &SelectStatement) -> String {
    let rendered = conn.render(q);
    match conn.engine() {
        Engine::Sqlite => {
            let (sql, values) = q.build(SqliteQueryBuilder);
            debug_assert_eq!(sql, rendered);
            substitute_unnumbered(&rendered, &literals(SqliteQueryBuilder, &values.0))
        }
        Engine::Postgres => {
            let (sql, values) = q.build(PostgresQueryBuilder);
            debug_assert_eq!(sql, rendered);
            substitute_numbered(&rendered, &literals(PostgresQueryBuilder, &values.0))
        }
    }
}

fn literals(b: impl QueryBuilder, values: &[Value]) -> Vec<String> {
    values.iter().map(|v| b.value_to_string(v)).collect()
}

/// Prints the plan of `q` under `label` and whether it scans the whole table.
pub async fn print(app: &App, label: &str, q: &SelectStatement) {
    // Its own connection: the generic plan sets and resets a session setting.
    let mut c = app.db.exclusive().await.expect("read connection");
    let sql = literal_sql(&c, q);
    println!("-- plan: {label}");
    println!("   {sql}");
    let lines: Vec<String> = match c.engine() {
        Engine::Sqlite => {
            let rows: Vec<SqlitePlanLine> = c
                .fetch_all_sql(&format!("EXPLAIN QUERY PLAN {sql}"))
                .await
                .expect("EXPLAIN QUERY PLAN");
            let mut depth = std::collections::HashMap::new();
            rows.iter()
                .map(|r| {
                    let d = depth.get(&r.parent).map_or(0, |d| d + 1);
                    depth.insert(r.id, d);
                    format!("{}{}", "  ".repeat(d), r.detail)
                })
                .collect()
        }
        Engine::Postgres => c
            .fetch_all_sql::<String>(&format!("EXPLAIN {sql}"))
            .await
            .expect("EXPLAIN"),
    };
    for l in &lines {
        println!("   | {l}");
    }
    verdict(&lines);
    if c.engine() == Engine::Postgres {
        let generic = generic_plan(&mut c, q).await;
        println!("   generic plan (prepared statement, plan_cache_mode=force_generic_plan):");
        for l in &generic {
            println!("   | {l}");
        }
        verdict(&generic);
    }
}

/// PostgreSQL's generic plan of the statement with its parameters, which a prepared statement
/// (as the server runs it) may switch to after five executions.
async fn generic_plan(c: &mut Conn, q: &SelectStatement) -> Vec<String> {
    let (sql, values) = q.build(PostgresQueryBuilder);
    let args = literals(PostgresQueryBuilder, &values.0).join(", ");
    c.batch(&format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE bench_plan AS {sql}"
    ))
    .await
    .expect("PREPARE");
    let lines = c
        .fetch_all_sql::<String>(&format!("EXPLAIN EXECUTE bench_plan({args})"))
        .await
        .expect("EXPLAIN EXECUTE");
    c.batch("DEALLOCATE bench_plan; RESET plan_cache_mode")
        .await
        .expect("DEALLOCATE");
    lines
}

/// A sea-query value as rusqlite binds it (the types the store's statements use).
fn sqlite_value(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Value::Bool(Some(b)) => V::Integer(i64::from(*b)),
        Value::Int(Some(i)) => V::Integer(i64::from(*i)),
        Value::BigInt(Some(i)) => V::Integer(*i),
        Value::BigUnsigned(Some(i)) => V::Integer(i64::try_from(*i).unwrap_or(i64::MAX)),
        Value::String(Some(s)) => V::Text(s.clone()),
        _ => V::Null,
    }
}

/// SQLite: prints the plan of `sql` (rendered with `?` placeholders) prepared and then given
/// `values`, as the store runs its statements, on a connection to the file at `path` with the
/// query planner stability guarantee (QPSG) on, as every connection of the store's pool has it,
/// and again with it off. A partial index whose condition the statement states only through
/// parameters (`status IN (?, ?)`) cannot be proven to apply when the statement is planned, so it
/// is not used either way.
pub fn print_sqlite_bound(path: &std::path::Path, label: &str, sql: &str, values: &[Value]) {
    let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
    let bound: Vec<rusqlite::types::Value> = values.iter().map(sqlite_value).collect();
    println!("-- plan: {label}");
    println!("   {sql}");
    for qpsg in [true, false] {
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            qpsg,
        )
        .expect("QPSG");
        let mut st = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("EXPLAIN QUERY PLAN");
        let lines: Vec<String> = st
            .query_map(rusqlite::params_from_iter(bound.iter()), |r| {
                r.get::<_, String>(3)
            })
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        println!(
            "   with bound parameters, QPSG {}:",
            if qpsg {
                "on (as the store's connections)"
            } else {
                "off"
            }
        );
        for l in &lines {
            println!("   | {l}");
        }
        verdict(&lines);
    }
}

fn verdict(lines: &[String]) {
    let text = lines.join("\n");
    let full_scan = lines.iter().any(|l| {
        let l = l.trim_start();
        l.contains("Seq Scan") || (l.starts_with("SCAN ") && !l.contains(" USING "))
    });
    let sorts = text.contains("USE TEMP B-TREE") || text.contains("Sort  (");
    println!(
        "   => full table scan: {}; separate sort step: {}",
        if full_scan { "YES" } else { "no" },
        if sorts { "YES" } else { "no" }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_substituted() {
        let v = vec!["'a'".to_string(), "2".to_string()];
        assert_eq!(
            substitute_unnumbered("x = ? AND y < ?", &v),
            "x = 'a' AND y < 2"
        );
        let many: Vec<String> = (1..=10).map(|i| i.to_string()).collect();
        assert_eq!(substitute_numbered("$1, $10", &many), "1, 10");
    }
}
