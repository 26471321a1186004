//! The only statements a [`crate::Conn`] runs: every statement on tenant data is built by
//! [`Scoped::select`], [`Scoped::update`] or [`Scoped::insert`], which put
//! the business unit into it (the `tenant_id = ?` condition, or the `tenant_id` column of every
//! inserted row). A statement built with `Query::…` alone does not type-check as an argument of
//! `Conn::fetch_all` or `Conn::execute`, so a query that forgets its tenant does not compile.
//! The platform tables that are not keyed by a tenant (business units themselves, and API keys
//! looked up by the hash of a presented secret before the tenant is known) go through the
//! explicit [`Scoped::platform`].

use std::ops::{Deref, DerefMut};

use sea_query::{
    DeleteStatement, Expr, ExprTrait, InsertStatement, IntoIden, Query, SelectStatement,
    SimpleExpr, UpdateStatement,
};

/// The column every tenant-owned table is keyed by first.
const TENANT_COLUMN: &str = "tenant_id";

/// A statement bound to one business unit (or, explicitly, to the platform). Derefs to the
/// sea-query statement for the rest of its building.
///
/// A bare sea-query statement is not accepted by a connection:
///
/// ```compile_fail
/// # async fn forgets_the_tenant(conn: &mut flexportal_store::Conn) {
/// use flexportal_store::sea_query::Query;
/// let q = Query::select().column("serial_number").from("assets").to_owned();
/// let rows: Vec<String> = conn.fetch_all(&q).await.unwrap();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Scoped<S> {
    stmt: S,
    tenant_id: Option<String>,
}

impl<S> Deref for Scoped<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.stmt
    }
}

impl<S> DerefMut for Scoped<S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.stmt
    }
}

impl<S> Scoped<S> {
    /// A statement on a platform table that no business unit owns (`tenants`, the API-key hash
    /// lookup). Every use is a deliberate exception to tenant scoping.
    pub(crate) fn platform(stmt: S) -> Self {
        Scoped {
            stmt,
            tenant_id: None,
        }
    }

    /// The business unit the statement is bound to (`None` for platform statements).
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }
}

impl Scoped<SelectStatement> {
    /// `SELECT … FROM table WHERE table.tenant_id = tenant_id`.
    pub(crate) fn select(table: impl IntoIden, tenant_id: &str) -> Self {
        let table = table.into_iden();
        let mut q = Query::select();
        q.from(table.clone())
            .and_where(Expr::col((table, TENANT_COLUMN)).eq(tenant_id));
        Scoped {
            stmt: q,
            tenant_id: Some(tenant_id.to_string()),
        }
    }
}

impl Scoped<UpdateStatement> {
    /// `UPDATE table SET … WHERE tenant_id = tenant_id`.
    pub(crate) fn update(table: impl IntoIden, tenant_id: &str) -> Self {
        let mut q = Query::update();
        q.table(table)
            .and_where(Expr::col(TENANT_COLUMN).eq(tenant_id));
        Scoped {
            stmt: q,
            tenant_id: Some(tenant_id.to_string()),
        }
    }
}

impl Scoped<DeleteStatement> {
    /// `DELETE FROM table WHERE tenant_id = tenant_id`.
    pub(crate) fn delete(table: impl IntoIden, tenant_id: &str) -> Self {
        let mut q = Query::delete();
        q.from_table(table)
            .and_where(Expr::col(TENANT_COLUMN).eq(tenant_id));
        Scoped {
            stmt: q,
            tenant_id: Some(tenant_id.to_string()),
        }
    }
}

impl Scoped<InsertStatement> {
    /// `INSERT INTO table (tenant_id, columns…)`: `columns` lists the others, and every row added
    /// with [`Scoped::row`] gets `tenant_id` as its first value.
    pub(crate) fn insert<C: IntoIden>(
        table: impl IntoIden,
        tenant_id: &str,
        columns: impl IntoIterator<Item = C>,
    ) -> Self {
        let mut q = Query::insert();
        q.into_table(table).columns(
            std::iter::once(TENANT_COLUMN.into_iden())
                .chain(columns.into_iter().map(IntoIden::into_iden)),
        );
        Scoped {
            stmt: q,
            tenant_id: Some(tenant_id.to_string()),
        }
    }

    /// Adds a row: the business unit, then `values` in the order of the insert's columns.
    pub(crate) fn row(&mut self, values: impl IntoIterator<Item = SimpleExpr>) -> &mut Self {
        let tenant: SimpleExpr = self.tenant_id.clone().unwrap_or_default().into();
        self.stmt
            .values_panic(std::iter::once(tenant).chain(values));
        self
    }
}
