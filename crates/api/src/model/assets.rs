//! Assets on the wire (SPEC §2.3; the official `Asset` shape plus the additive `condition`,
//! `acquisitionCost`, `acquisitionDate`, `lifetimeCollected` and `costRecoveryPercent`).

use flexportal_app::{AppError, TenantContext};
use flexportal_domain::status::AssetStatus;
use flexportal_store::assets::AssetRecord;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::write::{Obj, WriteJson};
use super::{Decimal, Instant, SortDirection, list_envelope, stored_enum};

/// An asset: one physical unit identified by its serial number.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// The serial number (or IMEI), unique in the business unit.
    pub serial_number: String,
    /// Business unit.
    pub tenant_id: String,
    /// Product of the variant.
    pub product_id: String,
    /// First variant image, else first product image.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub product_image_url: Option<String>,
    /// Variant.
    pub variant_id: String,
    /// Variant SKU.
    pub sku: String,
    /// `"<product name> - <variant name>"`.
    pub product_name: String,
    /// Status (SPEC §2.3 transitions).
    pub status: AssetStatus,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location: Option<String>,
    /// Customer holding the asset (set by subscription operations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub customer_id: Option<String>,
    /// Subscription the asset is assigned to (set by subscription operations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rental_id: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// Condition (a code of the business unit's catalog, or free text).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub condition: Option<String>,
    /// Acquisition cost, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub acquisition_cost: Option<Decimal>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub acquisition_date: String,
    /// Net income attributed to the asset over every rental it served, major units (SPEC §2.13).
    pub lifetime_collected: Decimal,
    /// `lifetimeCollected ÷ acquisitionCost × 100`, 1 decimal; absent without a cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cost_recovery_percent: Option<Decimal>,
    /// Asset lifetime value: `lifetimeCollected − acquisitionCost`, major units (SPEC §2.13
    /// "Asset level"); absent without a cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub lifetime_value: Option<Decimal>,
    /// Creation instant.
    pub created_at: Instant,
    /// Last change.
    pub updated_at: Instant,
}

impl Asset {
    /// Renders a stored asset. Errors: 500 when its stored status is not one of the five.
    pub fn new(ctx: &TenantContext, a: AssetRecord) -> Result<Self, AppError> {
        let exp = ctx.exponent();
        Ok(Asset {
            status: stored_enum(&a.status, AssetStatus::parse)?,
            acquisition_cost: Decimal::money_opt(a.acquisition_cost, exp),
            lifetime_collected: Decimal::money(a.lifetime_collected, exp),
            cost_recovery_percent: a
                .acquisition_cost
                .and_then(|cost| Decimal::percent(a.lifetime_collected, cost, 1)),
            lifetime_value: a
                .acquisition_cost
                .and_then(|cost| a.lifetime_collected.checked_sub(cost))
                .map(|v| Decimal::money(v, exp)),
            created_at: Instant(a.created_at),
            updated_at: Instant(a.updated_at),
            serial_number: a.serial_number,
            tenant_id: a.tenant_id,
            product_id: a.product_id,
            product_image_url: a.product_image_url,
            variant_id: a.variant_id,
            sku: a.sku,
            product_name: a.product_name,
            location: a.location,
            customer_id: a.customer_id,
            rental_id: a.rental_id,
            notes: a.notes,
            condition: a.condition,
            acquisition_date: a.acquisition_date,
        })
    }
}

list_envelope!(
    /// listAssets.
    AssetList,
    "assets",
    Asset
);

impl WriteJson for Asset {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let mut o = Obj::new(out);
        o.str("serialNumber", &self.serial_number);
        o.str("tenantId", &self.tenant_id);
        o.str("productId", &self.product_id);
        o.opt_str("productImageUrl", self.product_image_url.as_deref());
        o.str("variantId", &self.variant_id);
        o.str("sku", &self.sku);
        o.str("productName", &self.product_name);
        o.str("status", self.status.as_str());
        o.opt_str("location", self.location.as_deref());
        o.opt_str("customerId", self.customer_id.as_deref());
        o.opt_str("rentalId", self.rental_id.as_deref());
        o.opt_str("notes", self.notes.as_deref());
        o.opt_str("condition", self.condition.as_deref());
        o.opt_decimal("acquisitionCost", self.acquisition_cost);
        o.str("acquisitionDate", &self.acquisition_date);
        o.decimal("lifetimeCollected", self.lifetime_collected);
        o.opt_decimal("costRecoveryPercent", self.cost_recovery_percent);
        o.opt_decimal("lifetimeValue", self.lifetime_value);
        o.instant("createdAt", self.created_at)?;
        o.instant("updatedAt", self.updated_at)?;
        o.end();
        Ok(())
    }

    fn size_hint(&self) -> usize {
        768
    }
}

impl WriteJson for AssetList {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let mut o = Obj::new(out);
        o.array("assets", &self.items)?;
        o.uint("count", self.count as u64);
        o.uint("limit", self.limit);
        o.bool("hasMore", self.has_more);
        o.nullable_str("nextCursor", self.next_cursor.as_deref());
        o.end();
        Ok(())
    }

    fn size_hint(&self) -> usize {
        256 + 640 * self.items.len()
    }
}

/// createAsset and updateAsset: `{success, message, asset}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetSaved {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The asset as stored.
    pub asset: Asset,
}

/// deleteAsset: `{success, message, serialNumber}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetDeleted {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The asset marked `unavailable`.
    pub serial_number: String,
}

/// The body of createAsset. Server-set fields of the official shape (`tenantId`, `productId`,
/// `variantId`, `productName`, `productImageUrl`, `customerId`, `rentalId`, `createdAt`,
/// `updatedAt`) are accepted and ignored (SPEC §1.3).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CreateAssetBody {
    /// Serial number or IMEI (an IMEI is checked for phones, SPEC §2.3); at most 200 characters.
    pub serial_number: String,
    /// SKU of an active variant of an active product.
    pub sku: String,
    /// `available` (default), `unavailable` or `returned`.
    pub status: Option<AssetStatus>,
    /// Free text.
    pub location: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// Condition code or text.
    pub condition: Option<String>,
    /// Major units; defaults to the variant's acquisition cost.
    pub acquisition_cost: Option<Decimal>,
    /// `YYYY-MM-DD` (a date-time's date part is used); defaults to today.
    #[schema(format = Date)]
    pub acquisition_date: Option<String>,
    /// Ignored (server-set).
    pub tenant_id: Option<String>,
    /// Ignored (from the variant).
    pub product_id: Option<String>,
    /// Ignored (from the variant).
    pub variant_id: Option<String>,
    /// Ignored (from the variant).
    pub product_name: Option<String>,
    /// Ignored (from the variant).
    pub product_image_url: Option<String>,
    /// Ignored (set by subscription operations).
    pub customer_id: Option<String>,
    /// Ignored (set by subscription operations).
    pub rental_id: Option<String>,
    /// Ignored (server-set).
    pub created_at: Option<String>,
    /// Ignored (server-set).
    pub updated_at: Option<String>,
}

/// The body of updateAsset: only the fields sent change; `null` clears an optional field.
/// Server-set fields of the official shape are accepted and ignored (SPEC §1.3).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct UpdateAssetBody {
    /// A manual target status (never `rented_out`; SPEC §2.3 transitions).
    pub status: Option<AssetStatus>,
    /// Free text.
    pub location: Option<String>,
    /// Free text.
    pub notes: Option<String>,
    /// Condition code or text; needed to make a returned asset available when the business unit
    /// requires inspection.
    pub condition: Option<String>,
    /// Major units.
    pub acquisition_cost: Option<Decimal>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub acquisition_date: Option<String>,
    /// Ignored (immutable).
    pub serial_number: Option<String>,
    /// Ignored (immutable).
    pub sku: Option<String>,
    /// Ignored (server-set).
    pub tenant_id: Option<String>,
    /// Ignored (from the variant).
    pub product_id: Option<String>,
    /// Ignored (from the variant).
    pub variant_id: Option<String>,
    /// Ignored (from the variant).
    pub product_name: Option<String>,
    /// Ignored (from the variant).
    pub product_image_url: Option<String>,
    /// Ignored (set by subscription operations).
    pub customer_id: Option<String>,
    /// Ignored (set by subscription operations).
    pub rental_id: Option<String>,
    /// Ignored (server-set).
    pub created_at: Option<String>,
    /// Ignored (server-set).
    pub updated_at: Option<String>,
}

/// Sort fields of listAssets.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum AssetSortBy {
    /// Creation instant (default).
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Serial number.
    SerialNumber,
    /// Status.
    Status,
    /// Variant SKU.
    Sku,
}

/// Query parameters of listAssets (SPEC §1.8, §1.9). Empty values are absent.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct AssetListQuery {
    /// Items per page (default 50; larger values are clamped to 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor: the `nextCursor` of the previous page (a serial number).
    pub start_after: Option<String>,
    /// Exact status.
    #[param(inline)]
    pub status: Option<AssetStatus>,
    /// Exact variant SKU.
    pub sku: Option<String>,
    /// Customer holding the asset.
    pub customer_id: Option<String>,
    /// Subscription the asset is assigned to.
    pub rental_id: Option<String>,
    /// Sort field (default `createdAt`).
    #[param(inline)]
    pub sort_by: Option<AssetSortBy>,
    /// Sort direction (default `desc`).
    #[param(inline)]
    pub sort_dir: Option<SortDirection>,
}

/// One step of an asset's history (additive `GET /v1/assets/{serialNumber}/history`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetHistoryEvent {
    /// `YYYY-MM-DD` it took effect.
    #[schema(format = Date)]
    pub date: String,
    /// When it was recorded.
    pub recorded_at: super::Instant,
    /// What happened.
    pub action: AssetHistoryAction,
    /// The rental concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rental_id: Option<String>,
    /// Who did it: `apikey:<keyId>` for API calls, `system` for the daily jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub actor: Option<String>,
    /// Why, when one was given; for a manual change, what changed in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reason: Option<String>,
    /// For `updated` and `deactivated`: each field that changed (`status`, `location`,
    /// `condition`, `notes`, `acquisitionCost`, `acquisitionDate`) with its `from` and `to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<Object>)]
    pub changes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What happened to an asset.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetHistoryAction {
    /// Added to the inventory.
    Registered,
    /// Given to a rental (fulfilment or replacement).
    Assigned,
    /// Taken back by a device replacement.
    Replaced,
    /// Sold to the customer by a buyout.
    Sold,
    /// Returned (early return, completion, contract end).
    Returned,
    /// Returned because the rental was upgraded.
    Upgraded,
    /// Its rental was cancelled; the device is still with the customer.
    RentalCancelled,
    /// Changed by an operator (updateAsset): status, location, condition, notes, cost or date.
    Updated,
    /// Taken out of service by an operator (deleteAsset).
    Deactivated,
}

/// `GET /v1/assets/{serialNumber}/history`: `{success, serialNumber, history}`, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetHistory {
    /// Always `true`.
    pub success: bool,
    /// The asset.
    pub serial_number: String,
    /// Its steps, oldest first.
    pub history: Vec<AssetHistoryEvent>,
}

impl AssetHistory {
    /// Renders an asset's history.
    pub fn new(serial: String, events: Vec<flexportal_app::asset_history::AssetEvent>) -> Self {
        AssetHistory {
            success: true,
            serial_number: serial,
            history: events
                .into_iter()
                .map(|e| AssetHistoryEvent {
                    date: e.date,
                    recorded_at: super::Instant(e.at),
                    action: match e.action {
                        "registered" => AssetHistoryAction::Registered,
                        "assigned" => AssetHistoryAction::Assigned,
                        "replaced" => AssetHistoryAction::Replaced,
                        "sold" => AssetHistoryAction::Sold,
                        "upgraded" => AssetHistoryAction::Upgraded,
                        "rental_cancelled" => AssetHistoryAction::RentalCancelled,
                        "updated" => AssetHistoryAction::Updated,
                        "deactivated" => AssetHistoryAction::Deactivated,
                        _ => AssetHistoryAction::Returned,
                    },
                    rental_id: e.rental_id,
                    actor: e.actor,
                    reason: e.reason,
                    changes: e.changes,
                })
                .collect(),
        }
    }
}
