//! Statements of fixed text for the hottest reads: a [`FixedQuery`] is rendered once per process
//! and engine instead of once per call, and its result's column names are read once, while
//! staying a [`Scoped`] statement built with `sea-query` like every other.
//!
//! The business unit stays bound: the query is built by a function of the tenant and `N` text
//! parameters, and the first rendering checks that the statement's parameters are exactly the
//! tenant, then those `N`, in that order. A call binds its tenant and parameters in the same
//! order, so it runs what the function would have built for them.

use std::sync::OnceLock;

use sea_query::{PostgresQueryBuilder, SelectStatement, SqliteQueryBuilder, Value};
use sea_query_postgres::PostgresBinder;
use sea_query_rusqlite::RusqliteBinder;

use crate::Result;
use crate::db::Conn;
use crate::row::FromRow;
use crate::scoped::Scoped;

/// A select statement of fixed text over a tenant and `N` text parameters (see the module).
pub struct FixedQuery<const N: usize> {
    build: fn(&str, [&str; N]) -> Scoped<SelectStatement>,
    text: OnceLock<Texts>,
    /// The SQLite statement's column names, read at its first run.
    names: OnceLock<Vec<String>>,
}

/// The rendered statement, for each engine.
struct Texts {
    sqlite: String,
    postgres: String,
}

/// The placeholder of parameter `i` (the tenant is `None`) while the text is rendered.
fn marker(i: Option<usize>) -> String {
    match i {
        None => "\u{1}tenant".to_string(),
        Some(i) => format!("\u{1}param{i}"),
    }
}

impl<const N: usize> FixedQuery<N> {
    /// The query `build` makes for a tenant and `N` parameters.
    pub const fn new(build: fn(&str, [&str; N]) -> Scoped<SelectStatement>) -> Self {
        FixedQuery {
            build,
            text: OnceLock::new(),
            names: OnceLock::new(),
        }
    }

    /// The rendered texts. Panics when the built statement's parameters are not the tenant and
    /// the `N` parameters in order: a query that cannot be fixed this way is a programming error
    /// that the first test running it shows.
    fn texts(&self) -> &Texts {
        self.text.get_or_init(|| {
            let params: [String; N] = std::array::from_fn(|i| marker(Some(i)));
            let stmt = (self.build)(&marker(None), std::array::from_fn(|i| params[i].as_str()));
            let expected: Vec<String> = std::iter::once(marker(None))
                .chain(params.iter().cloned())
                .collect();
            let (sqlite, values) = stmt.build_rusqlite(SqliteQueryBuilder);
            let (postgres, pg_values) = stmt.build_postgres(PostgresQueryBuilder);
            let sqlite_values: Vec<&Value> = values.0.iter().map(|v| &v.0).collect();
            let pg_values: Vec<&Value> = pg_values.0.iter().map(|v| &v.0).collect();
            let wanted: Vec<Option<&str>> = expected.iter().map(|s| Some(s.as_str())).collect();
            for found in [sqlite_values, pg_values] {
                let found: Vec<Option<&str>> = found
                    .into_iter()
                    .map(|v| match v {
                        Value::String(Some(s)) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(
                    found, wanted,
                    "a fixed query must take the tenant, then its parameters, in order: {sqlite}"
                );
            }
            Texts { sqlite, postgres }
        })
    }
}

impl Conn {
    /// Runs a fixed query for `tenant_id` and `params` and decodes every row.
    pub async fn fetch_fixed<T: FromRow, const N: usize>(
        &mut self,
        query: &'static FixedQuery<N>,
        tenant_id: &str,
        params: [&str; N],
    ) -> Result<Vec<T>> {
        let texts = query.texts();
        let values = std::iter::once(tenant_id).chain(params);
        let sqlite = self.with_sqlite(|conn| -> Result<Vec<T>> {
            let mut st = conn.prepare_cached(&texts.sqlite)?;
            let names = match query.names.get() {
                Some(n) => n,
                None => query
                    .names
                    .get_or_init(|| st.column_names().into_iter().map(String::from).collect()),
            };
            crate::db::sqlite_rows(&mut st, rusqlite::params_from_iter(values.clone()), names)
        });
        if let Some(result) = sqlite {
            return result;
        }
        let values: Vec<&str> = values.collect();
        let args: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        self.pg_rows(&texts.postgres, &args).await
    }

    /// Runs a fixed query and decodes its first row, if any.
    pub async fn fetch_fixed_optional<T: FromRow, const N: usize>(
        &mut self,
        query: &'static FixedQuery<N>,
        tenant_id: &str,
        params: [&str; N],
    ) -> Result<Option<T>> {
        Ok(self
            .fetch_fixed(query, tenant_id, params)
            .await?
            .into_iter()
            .next())
    }
}

#[cfg(test)]
mod tests {
    use super::FixedQuery;
    use crate::Scoped;
    use sea_query::{Expr, ExprTrait};

    #[test]
    fn the_text_binds_the_tenant_then_the_parameters() {
        static Q: FixedQuery<2> = FixedQuery::new(|t, [a, b]| {
            let mut q = Scoped::select("assets", t);
            q.column("serial_number")
                .and_where(Expr::col("sku").eq(a))
                .and_where(Expr::col("status").eq(b));
            q
        });
        let texts = Q.texts();
        assert!(
            texts.sqlite.contains("\"tenant_id\" = ?"),
            "{}",
            texts.sqlite
        );
        assert!(texts.postgres.contains("$3"), "{}", texts.postgres);
    }

    #[test]
    #[should_panic(expected = "must take the tenant, then its parameters")]
    fn a_query_that_drops_a_parameter_is_refused() {
        static Q: FixedQuery<1> = FixedQuery::new(|t, [_unused]| {
            let mut q = Scoped::select("assets", t);
            q.column("serial_number");
            q
        });
        Q.texts();
    }

    #[test]
    #[should_panic(expected = "must take the tenant, then its parameters")]
    fn a_query_that_swaps_its_parameters_is_refused() {
        static Q: FixedQuery<2> = FixedQuery::new(|t, [a, b]| {
            let mut q = Scoped::select("assets", t);
            q.column("serial_number")
                .and_where(Expr::col("sku").eq(b))
                .and_where(Expr::col("status").eq(a));
            q
        });
        Q.texts();
    }
}
