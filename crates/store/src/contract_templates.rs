//! Contract templates of a business unit (SPEC §2.9), keyed by (tenant_id, template_id).

use sea_query::{Expr, ExprTrait, OnConflict, Order};

use crate::{Conn, Result, Scoped};

const TABLE: &str = "contract_templates";

crate::record! {
    /// A contract template as stored.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct TemplateRecord {
        /// Business unit.
        tenant_id: String,
        /// The name `templateId` refers to.
        template_id: String,
        /// `order`, `extension` or `upgrade`.
        contract_type: String,
        /// Text with `{{placeholders}}`.
        body: String,
        /// Epoch milliseconds.
        created_at: i64,
        /// Epoch milliseconds.
        updated_at: i64,
    }
}

/// Inserts a template, or replaces the body and type of the one with its id.
pub async fn upsert(conn: &mut Conn, t: &TemplateRecord) -> Result<()> {
    let cols = TemplateRecord::COLUMNS;
    let mut q = Scoped::insert(TABLE, &t.tenant_id, cols[1..].iter().copied());
    q.row(t.values().into_iter().skip(1));
    q.on_conflict(
        OnConflict::columns(["tenant_id", "template_id"])
            .update_columns(["contract_type", "body", "updated_at"])
            .to_owned(),
    );
    conn.execute(&q).await.map(|_| ())
}

/// One template by id.
pub async fn get(
    conn: &mut Conn,
    tenant_id: &str,
    template_id: &str,
) -> Result<Option<TemplateRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(TemplateRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("template_id").eq(template_id));
    conn.fetch_optional(&q).await
}

/// Every template of the unit, by id.
pub async fn list(conn: &mut Conn, tenant_id: &str) -> Result<Vec<TemplateRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(TemplateRecord::COLUMNS.iter().copied())
        .order_by("template_id", Order::Asc);
    conn.fetch_all(&q).await
}

/// Deletes a template; returns whether it existed.
pub async fn delete(conn: &mut Conn, tenant_id: &str, template_id: &str) -> Result<bool> {
    let mut q = Scoped::delete(TABLE, tenant_id);
    q.and_where(Expr::col("template_id").eq(template_id));
    Ok(conn.execute(&q).await? > 0)
}
