//! Manual changes of assets (SPEC §2.3 updateAsset, deleteAsset) for their history, keyed by
//! (tenant_id, change_id).

use sea_query::{Expr, ExprTrait, Order};

use crate::{Conn, Result, Scoped};

const TABLE: &str = "asset_changes";

crate::record! {
    /// A manual change of an asset as stored.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct AssetChangeRecord {
        /// Business unit.
        tenant_id: String,
        /// Change id (`achg_…`).
        change_id: String,
        /// The asset.
        serial_number: String,
        /// `updated` (updateAsset) or `deactivated` (deleteAsset).
        action: String,
        /// JSON object `{field: {from, to}}` of the fields that changed (API names).
        changes: String,
        /// Who made it (`apikey:<keyId>`, `system`).
        actor: String,
        /// Epoch milliseconds.
        created_at: i64,
    }
}

/// Records a change.
pub async fn insert(conn: &mut Conn, c: &AssetChangeRecord) -> Result<()> {
    let cols = AssetChangeRecord::COLUMNS;
    let mut q = Scoped::insert(TABLE, &c.tenant_id, cols[1..].iter().copied());
    q.row(c.values().into_iter().skip(1));
    conn.execute(&q).await.map(|_| ())
}

/// The changes of one asset, oldest first.
pub async fn for_asset(
    conn: &mut Conn,
    tenant_id: &str,
    serial_number: &str,
) -> Result<Vec<AssetChangeRecord>> {
    let mut q = Scoped::select(TABLE, tenant_id);
    q.columns(AssetChangeRecord::COLUMNS.iter().copied())
        .and_where(Expr::col("serial_number").eq(serial_number))
        .order_by("created_at", Order::Asc)
        .order_by("change_id", Order::Asc);
    conn.fetch_all(&q).await
}
