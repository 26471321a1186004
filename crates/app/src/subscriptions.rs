//! Subscriptions (rentals, SPEC §2.6): fulfilment of one order unit with its whole payment
//! schedule in one transaction; reads with the computed fields; notes.

use crate::AppError;
use flexportal_domain::money::checked_sum;
use flexportal_domain::pricing::{tier_for, unit_price};
use flexportal_domain::recovery::{RecoveryInput, recovery};
use flexportal_domain::schedule::{self, BillingStartOption};
use flexportal_domain::status::OrderStatus;
use flexportal_domain::time::today_in;
use flexportal_store::assets;
use flexportal_store::customers;
use flexportal_store::orders;
use flexportal_store::page::Page;
use flexportal_store::payments::{self, ChargeRow};
use flexportal_store::subscription_events::{self, SubscriptionEvent};
use flexportal_store::subscriptions::{
    self, SubscriptionFilter, SubscriptionRecord, SubscriptionSort,
};
use flexportal_store::variants;
use flexportal_store::{Conn, StoreError};
use jiff::civil::Date;
use serde_json::Value;

use crate::input::{self, Fields, MAX_LONG, MAX_SHORT, body_object};
use crate::list::{self, Query};
use crate::orders::items_of;
use crate::{App, AppResult, TenantContext};

/// A subscription with its schedule charges (for the computed fields).
#[derive(Debug, Clone)]
pub struct SubscriptionView {
    /// The subscription.
    pub sub: SubscriptionRecord,
    /// Its charges (its payments, and the lines of consolidated payments in place of the payments
    /// they absorbed), by billing date: what the computed fields read of them.
    pub charges: Vec<ChargeRow>,
    /// "Today" in the business unit.
    pub today: Date,
    /// Its history, oldest first.
    pub events: Vec<SubscriptionEvent>,
}

/// The computed fields of a subscription as of `today` (SPEC §2.6.1, §2.6.4, §2.13).
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    /// `nextBillingDate` (absent when not active or none left).
    pub next_billing_date: Option<Date>,
    /// `actualMonthsRented`.
    pub months_elapsed: i64,
    /// Remaining months.
    pub months_remaining: i64,
    /// Σ net amounts of open charges, minor units.
    pub open_value: i64,
    /// Cost recovery.
    pub recovery: flexportal_domain::recovery::Recovery,
    /// `monthsSaved` (0 until an early ending sets it).
    pub months_saved: i64,
}

/// A stored `YYYY-MM-DD` date. Errors: 500 when it is not one.
fn date(s: &str) -> AppResult<Date> {
    s.parse()
        .map_err(|_| AppError::corrupt(format!("stored date {s:?}")))
}

impl SubscriptionView {
    /// The computed fields as of today. Errors: 500 when a stored date cannot be read; 400
    /// `VALIDATION_ERROR` when the open value does not fit (it cannot for amounts within
    /// [`flexportal_domain::money::MAX_AMOUNT`]).
    pub fn computed(&self) -> AppResult<Computed> {
        // Counts only: the base amounts do not matter here.
        let states = crate::lifecycle::charge_states(&self.charges, false)?;
        let active = self.sub.status == "active";
        let as_of = self.today;
        let open: Vec<(Date, bool)> = self
            .charges
            .iter()
            .map(|p| {
                Ok((
                    date(&p.billing_date)?,
                    !matches!(p.status.as_str(), "paid" | "cancelled"),
                ))
            })
            .collect::<AppResult<_>>()?;
        // An ending freezes the months rented at its effective date (SPEC §2.6.2).
        let months_elapsed = match self.sub.months_rented {
            Some(frozen) => frozen,
            None => schedule::months_elapsed(&states, as_of).min(self.sub.contract_length),
        };
        Ok(Computed {
            next_billing_date: if active {
                schedule::next_billing_date(&open, as_of)
            } else {
                None
            },
            months_elapsed,
            months_remaining: if active {
                schedule::remaining_months(&states, as_of)
            } else {
                0
            },
            months_saved: self.sub.months_saved.unwrap_or(0),
            open_value: checked_sum(
                self.charges
                    .iter()
                    .filter(|p| !matches!(p.status.as_str(), "paid" | "cancelled"))
                    .map(|p| p.subtotal),
            )
            .map_err(|_| crate::overflow("payments"))?,
            recovery: recovery(&RecoveryInput {
                total_collected: self.sub.total_collected,
                acquisition_cost: self.sub.acquisition_cost,
                monthly_amount: self.sub.monthly_amount,
                contract_length: self.sub.contract_length,
                months_elapsed,
            }),
        })
    }
}

/// A validated createSubscription body (SPEC §2.6.5).
pub struct CreateInput {
    order_id: String,
    serial: String,
    customer_id: Option<String>,
    billing_group_id: Option<String>,
    start_date: Option<String>,
    contract_length: Option<i64>,
    notes: Option<String>,
    item_index: Option<i64>,
    option: Option<BillingStartOption>,
}

/// Validates a createSubscription body. Errors: 400 `VALIDATION_ERROR`.
pub fn parse(body: &Value) -> AppResult<CreateInput> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let order_id = f.req_text("orderId", MAX_SHORT);
    let serial_key = if f.has("assetSerialNumber") {
        "assetSerialNumber"
    } else if f.has("serialNumber") {
        "serialNumber"
    } else {
        "assetSerialNumber"
    };
    let serial = f.req_text(serial_key, MAX_SHORT);
    let customer_id = f.opt_text("customerId", MAX_SHORT);
    let billing_group_id = f.opt_text("billingGroupId", MAX_SHORT);
    let start_date = f.date_patch("startDate").value();
    let notes = f.opt_text("notes", MAX_LONG);
    let int = |f: &mut Fields<'_>, key: &str| -> Option<i64> {
        match f.raw(key) {
            None => None,
            Some(v) => match v.as_i64() {
                Some(n) => Some(n),
                None => {
                    f.fail(key, "invalid_type", "Expected an integer");
                    None
                }
            },
        }
    };
    let contract_length = int(&mut f, "contractLength");
    let item_index = int(&mut f, "orderItemIndex");
    let option = f.opt_enum(
        "billingStartOption",
        "immediate, first_of_next_month, same_day_next_month",
        |s| match s {
            "immediate" => Some(BillingStartOption::Immediate),
            "first_of_next_month" => Some(BillingStartOption::FirstOfNextMonth),
            "same_day_next_month" => Some(BillingStartOption::SameDayNextMonth),
            _ => None,
        },
    );
    input::check(errors)?;
    Ok(CreateInput {
        order_id: order_id.unwrap_or_default(),
        serial: serial.unwrap_or_default(),
        customer_id,
        billing_group_id,
        start_date,
        contract_length,
        notes,
        item_index,
        option,
    })
}

/// createSubscription (SPEC §2.6.5): checks in the documented order, then, atomically: the
/// subscription, the asset `rented_out`, the whole schedule, the order progress and the customer
/// counters. Errors: 400 `VALIDATION_ERROR`, `ORDER_NOT_FOUND`, `ORDER_NOT_CONFIRMED`,
/// `ITEM_FULLY_FULFILLED`, `CUSTOMER_MISMATCH`, `ASSET_NOT_FOUND`, `ASSET_NOT_AVAILABLE`,
/// `SKU_MISMATCH`, `INVALID_CONTRACT_LENGTH`.
pub async fn create(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<SubscriptionView> {
    let input = parse(body)?;
    crate::transact!(app, |tx| create_in(tx, ctx, &input, app.now()))
}

/// createSubscription in an open transaction: the order and the asset are locked before they are
/// checked. Errors: as [`create`].
pub async fn create_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    input: &CreateInput,
    now: i64,
) -> AppResult<SubscriptionView> {
    let today = today_in(&ctx.time_zone, now);
    let start = match &input.start_date {
        Some(d) => date(d)?,
        None => today,
    };
    // A contract lasts at most ten years; a start further back, or more than a year ahead, is
    // a typo, and would make the daily jobs catch up on decades of months.
    let earliest = schedule::add_months(today, -120);
    let latest = schedule::add_months(today, 12);
    if start < earliest || start > latest {
        return Err(AppError::field(
            "startDate",
            "custom",
            format!("startDate must be between {earliest} and {latest}"),
        ));
    }

    let order = orders::get(tx, &ctx.tenant_id, &input.order_id, true)
        .await?
        .ok_or_else(|| {
            AppError::bad_request("ORDER_NOT_FOUND", format!("No order {}", input.order_id))
        })?;
    let status = OrderStatus::parse(&order.status)
        .ok_or_else(|| AppError::corrupt(format!("order status {:?}", order.status)))?;
    status.check_fulfilment().map_err(|code| {
        let message = match code {
            "ORDER_NOT_CONFIRMED" => "The order is cancelled",
            _ => "Every unit of the order is fulfilled",
        };
        AppError::bad_request(code, message)
    })?;
    if let Some(c) = &input.customer_id
        && *c != order.customer_id
    {
        return Err(AppError::bad_request(
            "CUSTOMER_MISMATCH",
            "customerId is not the order's customer",
        ));
    }
    let asset = assets::get_for_update(tx, &ctx.tenant_id, &input.serial)
        .await?
        .ok_or_else(|| {
            AppError::bad_request("ASSET_NOT_FOUND", format!("No asset {}", input.serial))
        })?;
    if asset.status != "available" {
        return Err(AppError::bad_request(
            "ASSET_NOT_AVAILABLE",
            format!("Asset {} is {}", asset.serial_number, asset.status),
        ));
    }
    let items = items_of(&order)?;
    let rentals = subscriptions::for_order(tx, &ctx.tenant_id, &order.order_id).await?;
    let done = |idx: usize| rentals.iter().filter(|(_, i)| *i == idx as i64).count() as i64;
    let index = match input.item_index {
        Some(i) => {
            let item = usize::try_from(i)
                .ok()
                .and_then(|i| items.get(i))
                .ok_or_else(|| {
                    AppError::field(
                        "orderItemIndex",
                        "too_big",
                        format!("The order has {} items", items.len()),
                    )
                })?;
            if item.sku != asset.sku {
                return Err(AppError::bad_request(
                    "SKU_MISMATCH",
                    "The asset's SKU is not the item's",
                ));
            }
            if done(i as usize) >= item.quantity {
                return Err(AppError::bad_request(
                    "ITEM_FULLY_FULFILLED",
                    "Every unit of this item is fulfilled",
                ));
            }
            i as usize
        }
        None => {
            let same_sku: Vec<usize> = (0..items.len())
                .filter(|i| items[*i].sku == asset.sku)
                .collect();
            if same_sku.is_empty() {
                return Err(AppError::bad_request(
                    "SKU_MISMATCH",
                    format!("No item of the order has SKU {}", asset.sku),
                ));
            }
            *same_sku
                .iter()
                .find(|i| done(**i) < items[**i].quantity)
                .ok_or_else(|| {
                    AppError::bad_request(
                        "ITEM_FULLY_FULFILLED",
                        "Every unit with this SKU is fulfilled",
                    )
                })?
        }
    };
    let item = &items[index];
    let variant = variants::get_with_product(tx, &ctx.tenant_id, &item.sku).await?;
    let (contract_length, monthly_amount) = match input.contract_length {
        Some(len) if len != item.contract_length => {
            let tier = variant
                .as_ref()
                .filter(|_| (1..=120).contains(&len))
                .map(|v| v.variant.tiers())
                .transpose()?
                .and_then(|tiers| tier_for(&tiers, len).cloned())
                .ok_or_else(|| {
                    AppError::bad_request(
                        "INVALID_CONTRACT_LENGTH",
                        format!("Variant {} has no {len}-month tier", item.sku),
                    )
                })?;
            (len, unit_price(&tier).map_err(crate::corrupt)?)
        }
        _ => (item.contract_length, item.unit_price),
    };
    // SPEC §2.6.1 step 7: an active group of the order's customer.
    let group = match &input.billing_group_id {
        Some(id) => Some(
            crate::billing_groups::for_new_subscription(tx, ctx, id, &order.customer_id).await?,
        ),
        None => None,
    };
    let mut plan = crate::fulfilment::plan(
        ctx,
        &crate::fulfilment::FulfilmentInput {
            order: &order,
            item,
            item_index: index,
            asset: &asset,
            variant: variant.as_ref(),
            contract_length,
            monthly_amount,
            start,
            option: input.option,
            notes: input.notes.as_deref(),
            now,
        },
    )?;
    if !assets::assign(
        tx,
        &ctx.tenant_id,
        &asset.serial_number,
        &order.customer_id,
        &plan.sub.rental_id,
        now,
    )
    .await?
    {
        return Err(AppError::bad_request(
            "ASSET_NOT_AVAILABLE",
            format!("Asset {} is no longer available", asset.serial_number),
        ));
    }
    if let Some(g) = &group {
        plan.sub.billing_group_id = Some(g.billing_group_id.clone());
    }
    subscriptions::insert(tx, &plan.sub).await?;
    flexportal_store::assignments::open(
        tx,
        &ctx.tenant_id,
        &plan.sub.rental_id,
        &asset.serial_number,
        &plan.assigned_from,
        now,
    )
    .await?;
    subscription_events::append(tx, &plan.event).await?;
    // A member's future months go onto the group's consolidated payments (SPEC §2.8 step 2).
    let individual = match &group {
        Some(g) => {
            crate::consolidation::place(tx, ctx, g, plan.payments.clone(), today, now).await?
        }
        None => std::mem::take(&mut plan.payments),
    };
    crate::events::insert_payments(tx, ctx, &individual, now)
        .await
        .map_err(|e| match e {
            StoreError::Unique(_) => {
                AppError::conflict("CONFLICT", "A payment with this idempotency key exists")
            }
            other => crate::internal(other),
        })?;
    if plan.collected > 0 {
        assets::add_collected(
            tx,
            &ctx.tenant_id,
            &asset.serial_number,
            plan.collected,
            now,
        )
        .await?;
    }
    orders::update(tx, &plan.order).await?;
    customers::add_counters(tx, &ctx.tenant_id, &order.customer_id, plan.delta, now).await?;
    crate::events::asset_assigned(
        tx,
        ctx,
        &asset.serial_number,
        &asset.sku,
        &plan.sub.rental_id,
        &order.customer_id,
        now,
    );
    if plan.order.status == "fulfilled" {
        let mut rental_ids: Vec<String> = rentals.iter().map(|(id, _)| id.clone()).collect();
        rental_ids.push(plan.sub.rental_id.clone());
        crate::events::order_fulfilled(
            tx,
            ctx,
            &order.order_id,
            &order.customer_id,
            &rental_ids,
            now,
        );
    }
    // Fulfilling the order of a deferred or immediate upgrade ends the subscription it replaces.
    if order.order_type == "upgrade" {
        crate::upgrades::finish(tx, ctx, &order, &mut plan.sub, now).await?;
    }
    crate::events::subscription_created(tx, ctx, &plan.sub, now);
    // The unit's automatic contract (SPEC §2.9): one per order, of the order's type.
    let contract_type = crate::contracts::default_type(&order);
    crate::auto_contracts::enqueue(
        tx,
        ctx,
        &order.order_id,
        &plan.sub.rental_id,
        contract_type,
        format!("{contract_type}:{}", order.order_id),
        now,
    )
    .await?;
    let charges = if group.is_some() {
        payments::charges_of_rental(tx, &ctx.tenant_id, &plan.sub.rental_id).await?
    } else {
        individual.iter().map(ChargeRow::from).collect()
    };
    Ok(SubscriptionView {
        sub: plan.sub,
        charges,
        today,
        events: vec![plan.event],
    })
}

async fn load(
    c: &mut Conn,
    ctx: &TenantContext,
    sub: SubscriptionRecord,
    today: Date,
) -> AppResult<SubscriptionView> {
    let charges = payments::charges_of_rental(c, &ctx.tenant_id, &sub.rental_id).await?;
    let events = subscription_events::for_rental(c, &ctx.tenant_id, &sub.rental_id).await?;
    Ok(SubscriptionView {
        sub,
        charges,
        today,
        events,
    })
}

/// getSubscription. Errors: 404 `NOT_FOUND`.
pub async fn get(app: &App, ctx: &TenantContext, id: &str) -> AppResult<SubscriptionView> {
    let mut c = app.db.read().await?;
    let sub = subscriptions::get(&mut c, &ctx.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Subscription"))?;
    load(&mut c, ctx, sub, today_in(&ctx.time_zone, app.now())).await
}

/// updateSubscriptionNotes: `{notes}` required, ≤ 5 000 characters, replaces; any status.
/// Errors: 404 `NOT_FOUND`, 400 `VALIDATION_ERROR`.
pub async fn update_notes(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<SubscriptionRecord> {
    crate::transact!(app, |tx| update_notes_in(tx, ctx, id, body, app.now()))
}

/// updateSubscriptionNotes in an open transaction, the subscription locked. Errors: as
/// [`update_notes`].
pub async fn update_notes_in(
    tx: &mut Conn,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
    now: i64,
) -> AppResult<SubscriptionRecord> {
    let mut s = subscriptions::get_for_update(tx, &ctx.tenant_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Subscription"))?;
    let before = s.clone();
    s.notes = crate::orders::required_notes(body)?;
    s.updated_at = now;
    subscriptions::update_changed(tx, &before, &s).await?;
    Ok(s)
}

const STATUSES: &str =
    "active, cancelled, ended, ended_completed, ended_buyout, ended_upgrade, ended_early_return";

/// listSubscriptions (SPEC §2.6.5): filters `status` (also `ended`), `customerId`, `orderId`,
/// `serialNumber`, `sku`, `billingGroupId`, `startDateFrom`/`To`, `endDateFrom`/`To`; sorts
/// `createdAt`, `updatedAt`, `startDate`, `endDate`, `monthlyAmount`.
pub async fn list(
    app: &App,
    ctx: &TenantContext,
    q: &Query,
) -> AppResult<(Page<SubscriptionView>, u64)> {
    let params = list::parse(
        q,
        50,
        100,
        SubscriptionSort::parse,
        "createdAt, updatedAt, startDate, endDate, monthlyAmount",
    )?;
    let statuses = match q.get("status").map(String::as_str) {
        None => Vec::new(),
        Some("ended") => [
            "ended_completed",
            "ended_buyout",
            "ended_upgrade",
            "ended_early_return",
        ]
        .map(String::from)
        .to_vec(),
        Some(s) if STATUSES.split(", ").any(|x| x == s) => vec![s.to_string()],
        Some(_) => {
            return Err(AppError::field(
                "status",
                "invalid_enum_value",
                format!("status must be one of: {STATUSES}"),
            ));
        }
    };
    let filter = SubscriptionFilter {
        statuses,
        customer_id: list::text_filter(q, "customerId"),
        customer_ids: Vec::new(),
        order_id: list::text_filter(q, "orderId"),
        serial_number: list::text_filter(q, "serialNumber"),
        sku: list::text_filter(q, "sku"),
        billing_group_id: list::text_filter(q, "billingGroupId"),
        start_date_from: list::date_filter(q, "startDateFrom")?,
        start_date_to: list::date_filter(q, "startDateTo")?,
        end_date_from: list::date_filter(q, "endDateFrom")?,
        end_date_to: list::date_filter(q, "endDateTo")?,
    };
    let mut c = app.db.read().await?;
    let conn = &mut c;
    let after = list::resolve_cursor(&params.start_after, |id| async move {
        subscriptions::cursor(conn, &ctx.tenant_id, &id, params.sort).await
    })
    .await?;
    let page = subscriptions::list(
        &mut c,
        &ctx.tenant_id,
        &filter,
        params.sort,
        params.dir,
        after,
        params.limit,
    )
    .await?;
    let today = today_in(&ctx.time_zone, app.now());
    // One query for the charges of the whole page, not one per subscription.
    let ids: Vec<String> = page.items.iter().map(|s| s.rental_id.clone()).collect();
    let mut by_rental: std::collections::HashMap<String, Vec<ChargeRow>> =
        std::collections::HashMap::with_capacity(ids.len());
    for (rental, p) in payments::charges_of_rentals(&mut c, &ctx.tenant_id, &ids).await? {
        by_rental.entry(rental).or_default().push(p);
    }
    let mut events_by_rental: std::collections::HashMap<String, Vec<SubscriptionEvent>> =
        std::collections::HashMap::with_capacity(ids.len());
    for e in subscription_events::for_rentals(&mut c, &ctx.tenant_id, &ids).await? {
        events_by_rental
            .entry(e.rental_id.clone())
            .or_default()
            .push(e);
    }
    let items = page
        .items
        .into_iter()
        .map(|sub| SubscriptionView {
            charges: by_rental.remove(&sub.rental_id).unwrap_or_default(),
            events: events_by_rental.remove(&sub.rental_id).unwrap_or_default(),
            sub,
            today,
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
