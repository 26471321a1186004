//! Billing groups on the wire (SPEC §2.8; the official `billingGroup` shape).

use flexportal_app::billing_groups::GroupView;
use flexportal_app::{AppError, TenantContext};
use flexportal_store::page::Page;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Decimal, Instant, SortDirection};

/// `active` or `inactive`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BillingGroupStatus {
    /// Members' future charges are consolidated.
    Active,
    /// Members are billed individually; membership is kept.
    Inactive,
}

/// A billing group with its members and their totals.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroup {
    /// `bg_…`.
    #[schema(min_length = 1)]
    pub billing_group_id: String,
    /// Business unit.
    #[schema(min_length = 1)]
    pub tenant_id: String,
    /// The one customer whose subscriptions the group bundles.
    #[schema(min_length = 1)]
    pub customer_id: String,
    /// Name.
    #[schema(min_length = 1)]
    pub group_name: String,
    /// Members (ended members stay listed), by id.
    pub rental_ids: Vec<String>,
    /// Day of the month of the consolidated payment, 1–28.
    #[schema(minimum = 1, maximum = 28)]
    pub billing_day: i64,
    /// Σ `monthlyAmount` of the active members, major units.
    pub total_monthly_amount: Decimal,
    /// Number of active members.
    #[schema(minimum = 0)]
    pub active_rental_count: i64,
    /// The business unit's currency.
    #[schema(min_length = 3, max_length = 3)]
    pub currency: String,
    /// Status.
    pub status: BillingGroupStatus,
    /// Actor who created the group.
    #[schema(min_length = 1)]
    pub created_by: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// Creation instant.
    pub created_at: Instant,
    /// Last change.
    pub updated_at: Instant,
}

impl BillingGroup {
    /// Renders a group. Errors: 500 for an unknown stored status.
    pub fn new(ctx: &TenantContext, v: &GroupView) -> Result<Self, AppError> {
        let g = &v.group;
        let status = match g.status.as_str() {
            "active" => BillingGroupStatus::Active,
            "inactive" => BillingGroupStatus::Inactive,
            other => return Err(AppError::corrupt(format!("billing group status {other:?}"))),
        };
        Ok(BillingGroup {
            billing_group_id: g.billing_group_id.clone(),
            tenant_id: g.tenant_id.clone(),
            customer_id: g.customer_id.clone(),
            group_name: g.group_name.clone(),
            rental_ids: v.rental_ids.clone(),
            billing_day: g.billing_day,
            total_monthly_amount: Decimal::money(v.total_monthly_amount, ctx.exponent()),
            active_rental_count: v.active_rental_count,
            currency: g.currency.clone(),
            status,
            created_by: g.created_by.clone(),
            notes: g.notes.clone(),
            created_at: Instant(g.created_at),
            updated_at: Instant(g.updated_at),
        })
    }
}

/// createBillingGroup and updateBillingGroup: `{success, message, billingGroup}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupSaved {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The group as stored.
    pub billing_group: BillingGroup,
}

/// getBillingGroup: `{success, billingGroup}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupFound {
    /// Always `true`.
    pub success: bool,
    /// The group.
    pub billing_group: BillingGroup,
}

/// deleteBillingGroup: `{success, message}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupDeleted {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
}

/// listBillingGroups: `{success, billingGroups, count, limit, hasMore, nextCursor}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroupList {
    /// Always `true`.
    pub success: bool,
    /// The page's groups.
    pub billing_groups: Vec<BillingGroup>,
    /// Items on this page.
    pub count: usize,
    /// The page size asked for (default 50, at most 100; additive).
    pub limit: u64,
    /// Whether another page follows.
    pub has_more: bool,
    /// The cursor to pass as `startAfter` for the next page (a `billingGroupId`); `null` on the
    /// last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl BillingGroupList {
    /// The envelope of a page. Errors: as [`BillingGroup::new`].
    pub fn from_page(
        ctx: &TenantContext,
        page: &Page<GroupView>,
        limit: u64,
    ) -> Result<Self, AppError> {
        let billing_groups = page
            .items
            .iter()
            .map(|g| BillingGroup::new(ctx, g))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BillingGroupList {
            success: true,
            count: billing_groups.len(),
            billing_groups,
            limit,
            has_more: page.has_more,
            next_cursor: if page.has_more {
                page.items.last().map(|g| g.group.billing_group_id.clone())
            } else {
                None
            },
        })
    }
}

/// Sort fields of listBillingGroups.
#[derive(Debug, Clone, Copy, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum BillingGroupSortBy {
    /// Creation instant (default).
    CreatedAt,
    /// Name.
    GroupName,
}

/// Query parameters of listBillingGroups (SPEC §1.8, §1.9, §2.8). Empty values are absent.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct BillingGroupListQuery {
    /// Items per page (default 50; larger values are clamped to 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor: the `nextCursor` of the previous page (a billing group id).
    pub start_after: Option<String>,
    /// The group's customer.
    pub customer_id: Option<String>,
    /// Exact status.
    #[param(inline)]
    pub status: Option<BillingGroupStatus>,
    /// Sort field (default `createdAt`).
    #[param(inline)]
    pub sort_by: Option<BillingGroupSortBy>,
    /// Sort direction (default `desc`).
    #[param(inline)]
    pub sort_dir: Option<SortDirection>,
}

/// Body of createBillingGroup.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CreateBillingGroupBody {
    /// The customer whose subscriptions are grouped (must exist).
    #[schema(min_length = 1)]
    pub customer_id: String,
    /// Name (non-empty).
    #[schema(min_length = 1)]
    pub group_name: String,
    /// Day of the month, 1–28 (else `INVALID_BILLING_DAY`).
    #[schema(minimum = 1, maximum = 28)]
    pub billing_day: i64,
    /// Members: active subscriptions of the customer in no other group (duplicates removed).
    #[schema(min_items = 1)]
    pub rental_ids: Vec<String>,
    /// Free text.
    pub notes: Option<String>,
}

/// Body of updateBillingGroup: every field optional; `rentalIds` replaces the member list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct UpdateBillingGroupBody {
    /// Name.
    #[schema(min_length = 1)]
    pub group_name: Option<String>,
    /// Day of the month, 1–28; pending future consolidated payments move to it.
    #[schema(minimum = 1, maximum = 28)]
    pub billing_day: Option<i64>,
    /// The whole new member list.
    pub rental_ids: Option<Vec<String>>,
    /// Free text.
    pub notes: Option<String>,
    /// `inactive` dissolves future consolidated payments; `active` consolidates again.
    pub status: Option<BillingGroupStatus>,
}
