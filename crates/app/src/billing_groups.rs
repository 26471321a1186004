//! Billing groups (SPEC §2.8): create, read, list, update and delete, with the membership rules
//! and the consolidation of [`crate::consolidation`].
//!
//! Locking order, shared with the lifecycle actions: the group, then its member subscriptions by
//! rental id, then payments. A subscription joins a group only while locked, so of two groups
//! claiming one subscription at once one wins and the other answers 409
//! `SUBSCRIPTION_ALREADY_GROUPED`.

use flexportal_domain::ids::{self, prefix};
use flexportal_domain::time::today_in;
use flexportal_store::Conn;
use flexportal_store::billing_groups::{
    self, BillingGroupFilter, BillingGroupRecord, BillingGroupSort, MemberRow,
};
use flexportal_store::customers;
use flexportal_store::page::Page;
use flexportal_store::subscriptions::{self, SubscriptionRecord};
use serde_json::Value;

use crate::consolidation::{self, Leave};
use crate::error::{AppError, AppResult};
use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, Patch, body_object};
use crate::list::{self, Query};
use crate::{App, TenantContext};

/// A group with its members as rendered: every member id (ended ones too), and the sum and count
/// of the `active` ones (SPEC §2.8 `totalMonthlyAmount`, `activeRentalCount`).
#[derive(Debug, Clone)]
pub struct GroupView {
    /// The group.
    pub group: BillingGroupRecord,
    /// Member rental ids, by id.
    pub rental_ids: Vec<String>,
    /// Σ `monthlyAmount` of the active members, minor units.
    pub total_monthly_amount: i64,
    /// Number of active members.
    pub active_rental_count: i64,
}

impl GroupView {
    fn new(group: BillingGroupRecord, members: &[MemberRow]) -> GroupView {
        let active = members.iter().filter(|m| m.status == "active");
        GroupView {
            rental_ids: members.iter().map(|m| m.rental_id.clone()).collect(),
            total_monthly_amount: active
                .clone()
                .fold(0i64, |a, m| a.saturating_add(m.monthly_amount)),
            active_rental_count: active.count() as i64,
            group,
        }
    }
}

async fn view(
    c: &mut Conn,
    ctx: &TenantContext,
    group: BillingGroupRecord,
) -> AppResult<GroupView> {
    let members = billing_groups::member_ids(
        c,
        &ctx.tenant_id,
        std::slice::from_ref(&group.billing_group_id),
    )
    .await?;
    Ok(GroupView::new(group, &members))
}

/// `billingDay`: an integer 1–28, else 400 `INVALID_BILLING_DAY` (SPEC §2.8).
fn billing_day(v: &Value) -> AppResult<i64> {
    v.as_i64().filter(|d| (1..=28).contains(d)).ok_or_else(|| {
        AppError::bad_request(
            "INVALID_BILLING_DAY",
            "billingDay must be an integer from 1 to 28",
        )
    })
}

/// `rentalIds`: an array of non-empty strings, duplicates removed in order. Errors: 400
/// `VALIDATION_ERROR` at `rentalIds`.
fn rental_ids(f: &mut Fields, required: bool) -> Option<Vec<String>> {
    match f.raw("rentalIds") {
        None => {
            if required {
                f.fail("rentalIds", "required", "Required");
            }
            None
        }
        Some(Value::Array(items)) => {
            let mut out: Vec<String> = Vec::new();
            // Seen ids by hash: a body of a hundred thousand ids stays linear.
            let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
            for (i, v) in items.iter().enumerate() {
                match v.as_str().map(str::trim) {
                    Some(s) if !s.is_empty() && s.len() <= MAX_SHORT => {
                        if seen.insert(s) {
                            out.push(s.to_string());
                        }
                    }
                    _ => f.fail(
                        &format!("rentalIds.{i}"),
                        "invalid_type",
                        "Expected a subscription id",
                    ),
                }
            }
            if out.is_empty() && required && f.errors.is_empty() {
                f.fail(
                    "rentalIds",
                    "too_small",
                    "At least one subscription is required",
                );
            }
            Some(out)
        }
        Some(_) => {
            f.fail(
                "rentalIds",
                "invalid_type",
                "Expected an array of subscription ids",
            );
            None
        }
    }
}

/// Locks a subscription that is to join `group` and checks the membership rules (SPEC §2.8):
/// exists (400 `SUBSCRIPTION_NOT_FOUND`), the group's customer (400
/// `SUBSCRIPTION_DIFFERENT_CUSTOMER`), `active` (400 `SUBSCRIPTION_NOT_ACTIVE`), in no other
/// group (409 `SUBSCRIPTION_ALREADY_GROUPED`).
async fn lock_joiner(
    tx: &mut Conn,
    ctx: &TenantContext,
    group: &BillingGroupRecord,
    rental_id: &str,
) -> AppResult<SubscriptionRecord> {
    let sub = subscriptions::get_for_update(tx, &ctx.tenant_id, rental_id)
        .await?
        .ok_or_else(|| {
            AppError::bad_request(
                "SUBSCRIPTION_NOT_FOUND",
                format!("Subscription {rental_id} not found"),
            )
        })?;
    check_joiner(group, &sub)?;
    Ok(sub)
}

/// The membership rules for a subscription joining `group` (see [`lock_joiner`]).
pub fn check_joiner(group: &BillingGroupRecord, sub: &SubscriptionRecord) -> AppResult<()> {
    if sub.customer_id != group.customer_id {
        return Err(AppError::bad_request(
            "SUBSCRIPTION_DIFFERENT_CUSTOMER",
            format!("Subscription {} belongs to another customer", sub.rental_id),
        ));
    }
    if sub.status != "active" {
        return Err(AppError::bad_request(
            "SUBSCRIPTION_NOT_ACTIVE",
            format!("Subscription {} is {}", sub.rental_id, sub.status),
        ));
    }
    if let Some(other) = &sub.billing_group_id
        && other != &group.billing_group_id
    {
        return Err(AppError::conflict(
            "SUBSCRIPTION_ALREADY_GROUPED",
            format!(
                "Subscription {} is a member of billing group {other}",
                sub.rental_id
            ),
        ));
    }
    Ok(())
}

/// createBillingGroup (SPEC §2.8): body `customerId`, `groupName`, `billingDay`, `rentalIds`,
/// optional `notes`. Effects: the group `active`, each member's `billingGroupId` set, the
/// members' future charges consolidated. Errors: 400 `VALIDATION_ERROR`, 400
/// `INVALID_BILLING_DAY`, 400 `CUSTOMER_NOT_FOUND`, 400 `SUBSCRIPTION_NOT_FOUND`,
/// `SUBSCRIPTION_DIFFERENT_CUSTOMER`, `SUBSCRIPTION_NOT_ACTIVE`, 409
/// `SUBSCRIPTION_ALREADY_GROUPED`.
pub async fn create(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<GroupView> {
    crate::transact!(app, |tx| create_in(tx, ctx, body, app.now()))
}

/// createBillingGroup in an open transaction. Errors: as [`create`].
pub async fn create_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    body: &Value,
    now: i64,
) -> AppResult<GroupView> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let customer_id = f.req_text("customerId", MAX_SHORT);
    let group_name = f.req_text("groupName", MAX_SHORT);
    let notes = f.opt_text("notes", MAX_LONG);
    let members = rental_ids(&mut f, true);
    let day = obj.get("billingDay").filter(|v| !v.is_null());
    if day.is_none() {
        f.fail("billingDay", "required", "Required");
    }
    input::check(errors)?;
    let day = billing_day(day.unwrap_or(&Value::Null))?;
    let (Some(customer_id), Some(group_name), Some(members)) = (customer_id, group_name, members)
    else {
        return Err(AppError::field("", "invalid_type", "Invalid body"));
    };
    if customers::get(tx, &ctx.tenant_id, &customer_id)
        .await?
        .is_none()
    {
        return Err(AppError::bad_request(
            "CUSTOMER_NOT_FOUND",
            format!("Customer {customer_id} not found"),
        ));
    }
    let group = BillingGroupRecord {
        tenant_id: ctx.tenant_id.clone(),
        billing_group_id: ids::new_id(prefix::BILLING_GROUP, now),
        customer_id,
        group_name,
        billing_day: day,
        status: "active".into(),
        notes,
        currency: ctx.currency.code().to_string(),
        created_by: ctx.actor.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    billing_groups::insert(tx, &group).await?;
    let today = today_in(&ctx.time_zone, now);
    let mut sorted = members;
    sorted.sort();
    for id in &sorted {
        let sub = lock_joiner(tx, ctx, &group, id).await?;
        billing_groups::set_member(
            tx,
            &ctx.tenant_id,
            &sub.rental_id,
            Some(&group.billing_group_id),
            now,
        )
        .await?;
    }
    consolidation::join(tx, ctx, &group, &sorted, today, now).await?;
    view(tx, ctx, group).await
}

/// getBillingGroup. Errors: 404 `NOT_FOUND`.
pub async fn get(app: &App, ctx: &TenantContext, id: &str) -> AppResult<GroupView> {
    let mut c = app.db.read().await?;
    let group = billing_groups::get(&mut c, &ctx.tenant_id, id, false)
        .await?
        .ok_or_else(|| AppError::not_found("Billing group"))?;
    view(&mut c, ctx, group).await
}

/// listBillingGroups (SPEC §2.8): filters `customerId`, `status`; sorts `createdAt` (default),
/// `groupName`; keyset pages (SPEC §1.8). Errors: 400 `VALIDATION_ERROR` for a bad parameter or
/// an unknown cursor.
pub async fn list(app: &App, ctx: &TenantContext, q: &Query) -> AppResult<(Page<GroupView>, u64)> {
    let params = list::parse(q, 50, 100, BillingGroupSort::parse, "createdAt, groupName")?;
    let filter = BillingGroupFilter {
        customer_id: list::text_filter(q, "customerId"),
        status: list::enum_filter(
            q,
            "status",
            |s| matches!(s, "active" | "inactive").then(|| s.to_string()),
            "active, inactive",
        )?,
    };
    let mut c = app.db.read().await?;
    let conn = &mut c;
    let after = list::resolve_cursor(&params.start_after, |id| async move {
        billing_groups::cursor(conn, &ctx.tenant_id, &id, params.sort).await
    })
    .await?;
    let page = billing_groups::list(
        &mut c,
        &ctx.tenant_id,
        &filter,
        params.sort,
        params.dir,
        after,
        params.limit,
    )
    .await?;
    let ids: Vec<String> = page
        .items
        .iter()
        .map(|g| g.billing_group_id.clone())
        .collect();
    let members = billing_groups::member_ids(&mut c, &ctx.tenant_id, &ids).await?;
    let items = page
        .items
        .into_iter()
        .map(|g| {
            let mine: Vec<MemberRow> = members
                .iter()
                .filter(|m| m.billing_group_id == g.billing_group_id)
                .cloned()
                .collect();
            GroupView::new(g, &mine)
        })
        .collect();
    Ok((
        Page {
            items,
            has_more: page.has_more,
        },
        params.limit,
    ))
}

/// updateBillingGroup (SPEC §2.8): partial `groupName`, `billingDay`, `notes`, `status`,
/// `rentalIds` (replaces the member list: added ones are validated and join, removed ones
/// leave). Deactivating dissolves the future consolidated payments, activating consolidates
/// again, a new billing day moves the pending ones. Errors: 404 `NOT_FOUND`, and those of
/// [`create`].
pub async fn update(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<GroupView> {
    crate::transact!(app, |tx| update_in(tx, ctx, id, body, app.now()))
}

/// updateBillingGroup in an open transaction. Errors: as [`update`].
pub async fn update_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<GroupView> {
    let mut group = billing_groups::get(tx, &ctx.tenant_id, id, true)
        .await?
        .ok_or_else(|| AppError::not_found("Billing group"))?;
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let name = f.text_patch("groupName", MAX_SHORT, true);
    let notes = f.text_patch("notes", MAX_LONG, false);
    let members = rental_ids(&mut f, false);
    let status = match f.raw("status") {
        None => None,
        Some(Value::String(s)) if matches!(s.as_str(), "active" | "inactive") => Some(s.clone()),
        Some(_) => {
            f.fail(
                "status",
                "invalid_enum_value",
                "Expected active or inactive",
            );
            None
        }
    };
    let day = obj.get("billingDay").filter(|v| !v.is_null());
    input::check(errors)?;
    let day = day.map(billing_day).transpose()?;
    let today = today_in(&ctx.time_zone, now);

    // Membership first (validated before anything changes), then status, then the day.
    let current =
        billing_groups::members(tx, &ctx.tenant_id, &group.billing_group_id, true).await?;
    let was_active = group.status == "active";
    let mut joiners = Vec::new();
    let mut leavers = Vec::new();
    if let Some(wanted) = &members {
        let mut added: Vec<&String> = wanted
            .iter()
            .filter(|w| !current.iter().any(|m| &m.rental_id == *w))
            .collect();
        added.sort();
        for w in added {
            joiners.push(lock_joiner(tx, ctx, &group, w).await?);
        }
        leavers = current
            .iter()
            .filter(|m| !wanted.contains(&m.rental_id))
            .cloned()
            .collect();
    }
    if let Patch::Value(n) = name {
        group.group_name = n;
    }
    if notes.is_sent() {
        group.notes = notes.value();
    }
    let day_changed = day.is_some_and(|d| d != group.billing_day);
    if let Some(d) = day {
        group.billing_day = d;
    }
    if let Some(s) = status {
        group.status = s;
    }
    let is_active = group.status == "active";
    group.updated_at = now;
    billing_groups::update(tx, &group).await?;

    if was_active {
        let refs: Vec<&SubscriptionRecord> = leavers.iter().collect();
        consolidation::leave(tx, ctx, &refs, Leave::Member, today, now).await?;
    }
    for m in &leavers {
        billing_groups::set_member(tx, &ctx.tenant_id, &m.rental_id, None, now).await?;
    }
    for s in &joiners {
        billing_groups::set_member(
            tx,
            &ctx.tenant_id,
            &s.rental_id,
            Some(&group.billing_group_id),
            now,
        )
        .await?;
    }
    let stayers: Vec<&SubscriptionRecord> = current
        .iter()
        .filter(|m| !leavers.iter().any(|l| l.rental_id == m.rental_id))
        .collect();
    match (was_active, is_active) {
        (true, false) => {
            consolidation::leave(tx, ctx, &stayers, Leave::Member, today, now).await?;
        }
        (false, true) => {
            if day_changed {
                consolidation::move_day(tx, ctx, &group, today, now).await?;
            }
            let active: Vec<String> = stayers
                .iter()
                .filter(|m| m.status == "active")
                .map(|m| m.rental_id.clone())
                .collect();
            consolidation::join(tx, ctx, &group, &active, today, now).await?;
        }
        (true, true) if day_changed => {
            consolidation::move_day(tx, ctx, &group, today, now).await?;
        }
        _ => {}
    }
    if is_active {
        let ids: Vec<String> = joiners.iter().map(|s| s.rental_id.clone()).collect();
        consolidation::join(tx, ctx, &group, &ids, today, now).await?;
    }
    view(tx, ctx, group).await
}

/// deleteBillingGroup (SPEC §2.8): dissolves the pending future consolidated payments (the
/// members' charges come back as individual payments), clears every member's `billingGroupId`
/// (subscriptions keep running) and deletes the group; past consolidated payments keep its id.
/// Errors: 404 `NOT_FOUND`.
pub async fn delete(app: &App, ctx: &TenantContext, id: &str) -> AppResult<()> {
    crate::transact!(app, |tx| delete_in(tx, ctx, id, app.now()))
}

/// deleteBillingGroup in an open transaction. Errors: as [`delete`].
pub async fn delete_in(tx: &mut Conn, ctx: &TenantContext, id: &str, now: i64) -> AppResult<()> {
    let group = billing_groups::get(tx, &ctx.tenant_id, id, true)
        .await?
        .ok_or_else(|| AppError::not_found("Billing group"))?;
    let today = today_in(&ctx.time_zone, now);
    let members =
        billing_groups::members(tx, &ctx.tenant_id, &group.billing_group_id, true).await?;
    if group.status == "active" {
        let refs: Vec<&SubscriptionRecord> = members.iter().collect();
        consolidation::leave(tx, ctx, &refs, Leave::Member, today, now).await?;
    }
    for m in &members {
        billing_groups::set_member(tx, &ctx.tenant_id, &m.rental_id, None, now).await?;
    }
    billing_groups::delete(tx, &ctx.tenant_id, &group.billing_group_id).await?;
    Ok(())
}

/// The active group a new subscription joins (createSubscription `billingGroupId`, SPEC §2.6.1
/// step 7), locked: it exists and is `active` (else 400 `VALIDATION_ERROR` at `billingGroupId`)
/// and belongs to `customer_id` (else 400 `SUBSCRIPTION_DIFFERENT_CUSTOMER`).
pub async fn for_new_subscription(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    customer_id: &str,
) -> AppResult<BillingGroupRecord> {
    let group = billing_groups::get(tx, &ctx.tenant_id, id, true)
        .await?
        .filter(|g| g.status == "active")
        .ok_or_else(|| {
            AppError::field(
                "billingGroupId",
                "custom",
                "No active billing group with this id",
            )
        })?;
    if group.customer_id != customer_id {
        return Err(AppError::bad_request(
            "SUBSCRIPTION_DIFFERENT_CUSTOMER",
            "The billing group belongs to another customer",
        ));
    }
    Ok(group)
}
