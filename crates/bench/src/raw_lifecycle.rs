//! The raw-driver baseline of the lifecycle actions: the row changes one action makes on one
//! subscription, committed one transaction per action with prepared statements of the raw driver,
//! with the concurrency of the load (PostgreSQL: one connection per worker; SQLite: its one
//! writer, as `raw_fulfil`).
//!
//! The rows are the use case's own: [`capture`] runs the action's `*_in` function
//! (`amendments::extend_in`, `replace_in`, `endings::buyout_in`, `early_return_in`, `cancel_in`)
//! in a transaction of the baseline store, reads what it changed (the subscription, its payments,
//! the customer's counters, the assets, the asset assignments, the history) and rolls back. The
//! baseline then writes exactly those changes, each statement writing only the columns that
//! changed: e.g. for a buyout the subscription update, the open charges cancelled in one `UPDATE`,
//! the customer counter increments, the asset update, the assignment close, the event insert and
//! the one-off payment insert.
//!
//! The read-only `calculate-buyout` is compared with the two reads it makes (the subscription by
//! key, the subscription's payments), `--connections` at a time.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use flexportal_app::{App, TenantContext, amendments, endings};
use flexportal_domain::assignment::Assignment;
use flexportal_store::assets::{self, AssetRecord};
use flexportal_store::customers::{self, CustomerRecord};
use flexportal_store::payments::{self, PaymentRecord};
use flexportal_store::subscription_events::{self, SubscriptionEvent};
use flexportal_store::subscriptions::{self, SubscriptionRecord};
use flexportal_store::{Conn, assignments};
use serde_json::Value;

use crate::raw_fulfil::{
    self, PAYMENT_COLUMNS, RawRun, SUBSCRIPTION_COLUMNS, Sql, payment_flags, payment_params,
};

mod sqlite;
pub use sqlite::{sqlite_reads, sqlite_writes};
mod pg;
pub use pg::{PgWork, postgres_run};

/// A lifecycle action of the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `POST /v1/subscriptions/{id}/extend` `{"extensionMonths": 6}`.
    Extend,
    /// `POST /v1/subscriptions/{id}/replace` with a new available asset of the same SKU.
    Replace,
    /// `POST /v1/subscriptions/{id}/buyout` `{}`.
    Buyout,
    /// `POST /v1/subscriptions/{id}/early-return` `{}`.
    EarlyReturn,
    /// `POST /v1/subscriptions/{id}/cancel` `{"reason": "other"}`.
    Cancel,
    /// `POST /v1/subscriptions/calculate-buyout` `{"rentalId": id}` (read-only).
    CalculateBuyout,
}

/// Every action, in the order the scenario runs them.
pub const ACTIONS: [Action; 6] = [
    Action::Extend,
    Action::Replace,
    Action::Buyout,
    Action::EarlyReturn,
    Action::Cancel,
    Action::CalculateBuyout,
];

impl Action {
    /// The path segment.
    pub fn name(self) -> &'static str {
        match self {
            Action::Extend => "extend",
            Action::Replace => "replace",
            Action::Buyout => "buyout",
            Action::EarlyReturn => "early-return",
            Action::Cancel => "cancel",
            Action::CalculateBuyout => "calculate-buyout",
        }
    }

    /// The request path for subscription `id`.
    pub fn path(self, id: &str) -> String {
        match self {
            Action::CalculateBuyout => "/v1/subscriptions/calculate-buyout".into(),
            a => format!("/v1/subscriptions/{id}/{}", a.name()),
        }
    }

    /// The request body for subscription `id` (`replacement`: the new asset of a replace).
    pub fn body(self, id: &str, replacement: Option<&str>) -> Value {
        match self {
            Action::Extend => serde_json::json!({"extensionMonths": 6}),
            Action::Replace => serde_json::json!({
                "newSerialNumber": replacement.expect("a replacement asset"),
                "replacementReason": "defective",
            }),
            Action::Buyout | Action::EarlyReturn => serde_json::json!({}),
            Action::Cancel => serde_json::json!({"reason": "other"}),
            Action::CalculateBuyout => serde_json::json!({"rentalId": id}),
        }
    }
}

/// The subscription columns an action changes.
#[derive(Debug, Clone, PartialEq)]
pub enum SubChange {
    /// Extension: length, end date, amount.
    Extend {
        /// Months.
        contract_length: i64,
        /// `YYYY-MM-DD`.
        end_date: String,
        /// Minor units.
        monthly_amount: i64,
    },
    /// Replacement: the current asset.
    Replace {
        /// The new asset.
        serial: String,
    },
    /// Buyout, early return, cancellation: the ending fields.
    Ending {
        /// New status.
        status: String,
        /// Effective date.
        ended_on: Option<String>,
        /// Months rented.
        months_rented: Option<i64>,
        /// Months saved.
        months_saved: Option<i64>,
    },
}

/// Everything one action changes, as the use case computed it.
#[derive(Debug, Clone)]
pub struct RawAction {
    /// The business unit.
    pub tenant_id: String,
    /// The subscription.
    pub rental_id: String,
    /// Its changed columns.
    pub sub: SubChange,
    /// `last_modified_date` and `updated_at` written.
    pub now: i64,
    /// Payments cancelled (open charges after the effective date).
    pub cancelled: Vec<String>,
    /// Their notes.
    pub cancel_notes: Option<String>,
    /// Payments inserted (extension months, one-off charges).
    pub inserted: Vec<PaymentRecord>,
    /// Customer and its counter increments (orders, devices, monthly revenue, collected,
    /// acquisition cost, tracked), when the customer changed.
    pub customer: Option<(String, [i64; 6])>,
    /// Assets after the action, those that changed.
    pub assets: Vec<AssetRecord>,
    /// Assignments closed: serial, first day no longer held.
    pub closed: Vec<(String, String)>,
    /// Assignments opened: serial, first day held.
    pub opened: Vec<(String, String)>,
    /// History events appended.
    pub events: Vec<SubscriptionEvent>,
    /// The subscription after the action (for the check after the baseline).
    pub after: SubscriptionRecord,
    /// Its payments after the action.
    pub after_payments: Vec<PaymentRecord>,
}

struct Snapshot {
    sub: SubscriptionRecord,
    payments: Vec<PaymentRecord>,
    customer: CustomerRecord,
    assets: Vec<AssetRecord>,
    assignments: Vec<Assignment>,
    events: Vec<SubscriptionEvent>,
}

async fn snapshot(c: &mut Conn, tenant: &str, id: &str, serials: &[String]) -> Snapshot {
    let sub = subscriptions::get(c, tenant, id)
        .await
        .expect("read subscription")
        .expect("subscription exists");
    let payments = payments::for_rental(c, tenant, id)
        .await
        .expect("read payments");
    let customer = customers::get(c, tenant, &sub.customer_id)
        .await
        .expect("read customer")
        .expect("customer exists");
    let mut list = Vec::new();
    for s in serials {
        list.push(
            assets::get(c, tenant, s)
                .await
                .expect("read asset")
                .expect("asset exists"),
        );
    }
    let assignments = assignments::for_rental(c, tenant, id)
        .await
        .expect("read assignments");
    let events = subscription_events::for_rental(c, tenant, id)
        .await
        .expect("read events");
    Snapshot {
        sub,
        payments,
        customer,
        assets: list,
        assignments,
        events,
    }
}

fn counters(c: &CustomerRecord) -> [i64; 6] {
    [
        c.total_orders,
        c.total_devices_rented,
        c.total_monthly_revenue,
        c.lifetime_collected,
        c.total_acquisition_cost,
        c.subscriptions_tracked,
    ]
}

/// Runs `action` on subscription `id` with `body` in a transaction of `app`'s store, reads what
/// it changed and rolls back. `replacement`: the new asset of a replace.
pub async fn capture(
    app: &App,
    ctx: &TenantContext,
    action: Action,
    id: &str,
    body: &Value,
    replacement: Option<&str>,
) -> RawAction {
    let tenant = ctx.tenant_id.as_str();
    let now = app.now();
    let mut tx = app.db.begin().await.expect("transaction");
    let current = subscriptions::get(&mut tx, tenant, id)
        .await
        .expect("read subscription")
        .expect("subscription exists");
    let mut serials = vec![current.asset_serial_number.clone()];
    serials.extend(replacement.map(str::to_string));
    let before = snapshot(&mut tx, tenant, id, &serials).await;
    let done = match action {
        Action::Extend => amendments::extend_in(&mut tx, ctx, id, body, now)
            .await
            .map(|_| ()),
        Action::Replace => amendments::replace_in(&mut tx, ctx, id, body, now)
            .await
            .map(|_| ()),
        Action::Buyout => endings::buyout_in(&mut tx, ctx, id, body, now)
            .await
            .map(|_| ()),
        Action::EarlyReturn => endings::early_return_in(&mut tx, ctx, id, body, now)
            .await
            .map(|_| ()),
        Action::Cancel => endings::cancel_in(&mut tx, ctx, id, body, now)
            .await
            .map(|_| ()),
        Action::CalculateBuyout => panic!("calculate-buyout changes nothing"),
    };
    done.unwrap_or_else(|e| panic!("{} {id}: {e:?}", action.name()));
    let after = snapshot(&mut tx, tenant, id, &serials).await;
    tx.rollback().await.expect("rollback");
    diff(action, &before, after, now)
}

fn diff(action: Action, b: &Snapshot, a: Snapshot, now: i64) -> RawAction {
    let s = &a.sub;
    let sub = match action {
        Action::Extend => SubChange::Extend {
            contract_length: s.contract_length,
            end_date: s.end_date.clone(),
            monthly_amount: s.monthly_amount,
        },
        Action::Replace => SubChange::Replace {
            serial: s.asset_serial_number.clone(),
        },
        _ => SubChange::Ending {
            status: s.status.clone(),
            ended_on: s.ended_on.clone(),
            months_rented: s.months_rented,
            months_saved: s.months_saved,
        },
    };
    let old: HashMap<&str, &PaymentRecord> = b
        .payments
        .iter()
        .map(|p| (p.payment_id.as_str(), p))
        .collect();
    let mut cancelled = Vec::new();
    let mut cancel_notes = None;
    let mut inserted = Vec::new();
    for p in &a.payments {
        match old.get(p.payment_id.as_str()) {
            None => inserted.push(p.clone()),
            Some(q) if *q == p => {}
            Some(q) if q.status != "cancelled" && p.status == "cancelled" => {
                cancelled.push(p.payment_id.clone());
                cancel_notes.clone_from(&p.notes);
            }
            Some(q) => panic!("an unexpected payment change: {q:?} → {p:?}"),
        }
    }
    let (cb, ca) = (counters(&b.customer), counters(&a.customer));
    let customer = (b.customer != a.customer).then(|| {
        let mut d = [0; 6];
        for i in 0..6 {
            d[i] = ca[i] - cb[i];
        }
        (a.customer.customer_id.clone(), d)
    });
    let assets = a
        .assets
        .iter()
        .zip(&b.assets)
        .filter(|(x, y)| x != y)
        .map(|(x, _)| x.clone())
        .collect();
    let key = |x: &Assignment| (x.serial_number.clone(), x.from.to_string());
    let mut closed = Vec::new();
    let mut opened = Vec::new();
    for x in &a.assignments {
        match b.assignments.iter().find(|y| key(y) == key(x)) {
            None => opened.push(key(x)),
            Some(y) if y.to.is_none() && x.to.is_some() => closed.push((
                x.serial_number.clone(),
                x.to.map(|d| d.to_string()).unwrap_or_default(),
            )),
            Some(_) => {}
        }
    }
    let events = a
        .events
        .iter()
        .filter(|e| !b.events.iter().any(|f| f.event_id == e.event_id))
        .cloned()
        .collect();
    RawAction {
        tenant_id: a.sub.tenant_id.clone(),
        rental_id: a.sub.rental_id.clone(),
        sub,
        now,
        cancelled,
        cancel_notes,
        inserted,
        customer,
        assets,
        closed,
        opened,
        events,
        after: a.sub,
        after_payments: a.payments,
    }
}

/// What the baseline stored for `x` equals what the use case would have (the subscription and
/// its payments).
pub async fn stored_equals(app: &App, x: &RawAction) -> bool {
    let mut c = app.db.read().await.expect("read connection");
    let sub = subscriptions::get(&mut c, &x.tenant_id, &x.rental_id)
        .await
        .expect("read subscription");
    let mut stored = payments::for_rental(&mut c, &x.tenant_id, &x.rental_id)
        .await
        .expect("read payments");
    let mut planned = x.after_payments.clone();
    stored.sort_by(|a, b| a.payment_id.cmp(&b.payment_id));
    planned.sort_by(|a, b| a.payment_id.cmp(&b.payment_id));
    sub.as_ref() == Some(&x.after) && stored == planned
}

/// The statements of the baseline; `numbered` renders PostgreSQL's `$n`, else SQLite's `?n`.
struct ActionSql {
    numbered: bool,
    extend: String,
    replace: String,
    ending: String,
    customer: String,
    asset: String,
    close: String,
    open: String,
    event: String,
    read_sub: String,
    read_payments: String,
}

impl ActionSql {
    fn new(numbered: bool) -> ActionSql {
        let p = |i: usize| {
            if numbered {
                format!("${i}")
            } else {
                format!("?{i}")
            }
        };
        let f = Sql::new(numbered);
        ActionSql {
            numbered,
            extend: format!(
                "UPDATE subscriptions SET contract_length = {}, end_date = {}, \
                 monthly_amount = {}, last_modified_date = {}, updated_at = {} \
                 WHERE tenant_id = {} AND rental_id = {}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(4),
                p(5),
                p(6)
            ),
            replace: format!(
                "UPDATE subscriptions SET asset_serial_number = {}, last_modified_date = {}, \
                 updated_at = {} WHERE tenant_id = {} AND rental_id = {}",
                p(1),
                p(2),
                p(2),
                p(3),
                p(4)
            ),
            ending: format!(
                "UPDATE subscriptions SET status = {}, ended_on = {}, months_rented = {}, \
                 months_saved = {}, last_modified_date = {}, updated_at = {} \
                 WHERE tenant_id = {} AND rental_id = {}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(5),
                p(6),
                p(7)
            ),
            customer: f.customer,
            asset: format!(
                "UPDATE assets SET status = {}, customer_id = {}, rental_id = {}, \
                 condition_note = {}, notes = {}, updated_at = {} \
                 WHERE tenant_id = {} AND serial_number = {}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(8)
            ),
            close: format!(
                "UPDATE asset_assignments SET assigned_to = {} WHERE tenant_id = {} \
                 AND rental_id = {} AND serial_number = {} AND assigned_to IS NULL",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            open: f.assignment,
            event: f.event,
            read_sub: format!(
                "SELECT {} FROM subscriptions WHERE tenant_id = {} AND rental_id = {}",
                SUBSCRIPTION_COLUMNS.join(", "),
                p(1),
                p(2)
            ),
            read_payments: format!(
                "SELECT {} FROM payments WHERE tenant_id = {} AND rental_id = {} \
                 ORDER BY billing_date, payment_id",
                PAYMENT_COLUMNS.join(", "),
                p(1),
                p(2)
            ),
        }
    }

    fn cancel(&self, n: usize) -> String {
        let p = |i: usize| {
            if self.numbered {
                format!("${i}")
            } else {
                format!("?{i}")
            }
        };
        format!(
            "UPDATE payments SET status = 'cancelled', notes = {}, updated_at = {} \
             WHERE tenant_id = {} AND payment_id IN ({}) AND status IN ('pending', 'failed')",
            p(1),
            p(2),
            p(3),
            raw_fulfil::placeholders(4, n, self.numbered)
        )
    }
}

/// The subscription columns `subscriptions::update` writes (all but the keys, the creation data
/// and `total_collected`), in table order.
const SUB_UPDATE_COLUMNS: [&str; 34] = [
    "order_item_index",
    "customer_id",
    "customer_email",
    "customer_name",
    "asset_serial_number",
    "sku",
    "variant_id",
    "product_id",
    "product_name",
    "product_image_url",
    "monthly_amount",
    "currency",
    "status",
    "billing_group_id",
    "original_contract_length",
    "contract_length",
    "start_date",
    "end_date",
    "anchor_date",
    "billing",
    "last_modified_date",
    "list_price",
    "list_price_source",
    "acquisition_cost",
    "acquisition_cost_source",
    "captured_at",
    "custom_fields",
    "notes",
    "upgrade_from_rental_id",
    "updated_at",
    "ended_on",
    "months_rented",
    "months_saved",
    "pending_upgrade_order_id",
];

/// SQLite `UPDATE`s of every column the store's `subscriptions::update` and `assets::update`
/// write, for the `--raw-full-rows` diagnostic.
fn full_row_sql() -> (String, String) {
    let set = SUB_UPDATE_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let n = SUB_UPDATE_COLUMNS.len();
    (
        format!(
            "UPDATE subscriptions SET {set} WHERE tenant_id = ?{} AND rental_id = ?{}",
            n + 1,
            n + 2
        ),
        "UPDATE assets SET status = ?1, location = ?2, condition_note = ?3, notes = ?4, \
         customer_id = ?5, rental_id = ?6, acquisition_cost = ?7, acquisition_cost_source = ?8, \
         acquisition_date = ?9, updated_at = ?10 WHERE tenant_id = ?11 AND serial_number = ?12"
            .to_string(),
    )
}
