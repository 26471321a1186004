//! The history of one asset across every rental it served (SPEC §2.3, §2.6.5): registered,
//! assigned to a rental (at fulfilment or as a replacement), taken back by a replacement, and
//! how each rental that held it ended (sold by a buyout, returned, upgraded, cancelled), with
//! the actor, the date and the reason of each step. Derived from the asset assignments and the
//! subscriptions' histories; nothing is stored twice. What operators change by hand (status,
//! location, condition, notes, acquisition cost and date; SPEC §2.3 updateAsset, deleteAsset)
//! is recorded as it happens ([`record_change`]) and shown as `updated` / `deactivated` steps.

use flexportal_domain::ids::new_id;
use flexportal_domain::status::SubscriptionEventKind;
use flexportal_domain::time::format_timestamp;
use flexportal_store::Conn;
use flexportal_store::asset_changes::{self, AssetChangeRecord};
use flexportal_store::assets::AssetRecord;
use flexportal_store::{assets, assignments, subscription_events, subscriptions};
use serde_json::{Map, Value, json};

use crate::lifecycle::HistoryEntry;
use crate::{App, AppError, AppResult, TenantContext};

/// One step of an asset's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetEvent {
    /// The calendar date it took effect, `YYYY-MM-DD`.
    pub date: String,
    /// Epoch milliseconds it was recorded.
    pub at: i64,
    /// `registered`, `assigned`, `replaced`, `sold`, `returned`, `upgraded`,
    /// `rental_cancelled`, or a manual `updated` / `deactivated`.
    pub action: &'static str,
    /// The rental concerned.
    pub rental_id: Option<String>,
    /// Who did it (`apikey:<keyId>`, `system`); absent for the registration.
    pub actor: Option<String>,
    /// Why, when one was given; for a manual change, what changed (`status available →
    /// unavailable; location Berlin → Hamburg`).
    pub reason: Option<String>,
    /// For a manual change: `{field: {from, to}}` of the fields that changed (API names).
    pub changes: Option<Map<String, Value>>,
}

/// The asset and its history, oldest first. Errors: 404 `NOT_FOUND`; 500 for unreadable stored
/// records.
pub async fn history(
    app: &App,
    ctx: &TenantContext,
    serial: &str,
) -> AppResult<(AssetRecord, Vec<AssetEvent>)> {
    let mut c = app.db.read().await?;
    let asset = assets::get(&mut c, &ctx.tenant_id, serial)
        .await?
        .ok_or_else(|| AppError::not_found("Asset"))?;
    let mut out = vec![AssetEvent {
        date: day_of(asset.created_at),
        at: asset.created_at,
        action: "registered",
        rental_id: None,
        actor: None,
        reason: None,
        changes: None,
    }];
    let held = assignments::for_asset(&mut c, &ctx.tenant_id, serial).await?;
    let mut rentals: Vec<String> = held.iter().map(|(r, _)| r.clone()).collect();
    rentals.dedup();
    let events = subscription_events::for_rentals(&mut c, &ctx.tenant_id, &rentals).await?;
    for rental in &rentals {
        let sub = subscriptions::get(&mut c, &ctx.tenant_id, rental).await?;
        let current = sub.as_ref().map(|s| s.asset_serial_number.as_str());
        for e in events.iter().filter(|e| &e.rental_id == rental) {
            let raw: Value = serde_json::from_str(&e.details).map_err(crate::corrupt)?;
            let text = |k: &str| raw[k].as_str().map(str::to_string);
            let day = day_of(e.created_at);
            let step = |action, date: Option<String>, reason: Option<String>| AssetEvent {
                date: date.unwrap_or_else(|| day.clone()),
                at: e.created_at,
                action,
                rental_id: Some(rental.clone()),
                actor: Some(e.actor.clone()),
                reason,
                changes: None,
            };
            let entry = match (e.kind, HistoryEntry::decode(e)?) {
                (SubscriptionEventKind::Created, _) => (text("assetSerialNumber").as_deref()
                    == Some(serial))
                .then(|| step("assigned", text("startDate"), None)),
                (_, HistoryEntry::Replaced(r)) if r.new_serial_number == serial => Some(step(
                    "assigned",
                    None,
                    Some(format!(
                        "Replacement for {}: {}",
                        r.old_serial_number, r.reason
                    )),
                )),
                (_, HistoryEntry::Replaced(r)) if r.old_serial_number == serial => {
                    Some(step("replaced", None, Some(r.reason)))
                }
                _ if current != Some(serial) => None,
                (_, HistoryEntry::BoughtOut(b)) => {
                    Some(step("sold", Some(b.buyout_date), Some(b.reason)))
                }
                (_, HistoryEntry::Returned(r)) => {
                    Some(step("returned", Some(r.returned_on), Some(r.reason)))
                }
                (_, HistoryEntry::Cancelled(r)) => Some(step(
                    "rental_cancelled",
                    Some(r.cancelled_on),
                    Some(r.reason),
                )),
                (SubscriptionEventKind::Completed, _) => Some(step(
                    "returned",
                    sub.as_ref().and_then(|s| s.ended_on.clone()),
                    text("reason"),
                )),
                (SubscriptionEventKind::Upgraded, _) => Some(step(
                    "upgraded",
                    sub.as_ref().and_then(|s| s.ended_on.clone()),
                    text("newRentalId").map(|n| format!("Upgraded to {n}")),
                )),
                _ => None,
            };
            out.extend(entry);
        }
    }
    for change in asset_changes::for_asset(&mut c, &ctx.tenant_id, serial).await? {
        let changes: Map<String, Value> =
            serde_json::from_str(&change.changes).map_err(crate::corrupt)?;
        out.push(AssetEvent {
            date: day_of(change.created_at),
            at: change.created_at,
            action: if change.action == "deactivated" {
                "deactivated"
            } else {
                "updated"
            },
            rental_id: None,
            actor: Some(change.actor),
            reason: Some(summary(&changes)),
            changes: Some(changes),
        });
    }
    // Steps recorded in the same millisecond (one transaction) keep their logical order.
    let rank = |a: &str| match a {
        "registered" => 0,
        "assigned" => 1,
        _ => 2,
    };
    out.sort_by_key(|e| (e.at, rank(e.action)));
    Ok((asset, out))
}

/// Records what an operator changed on an asset (`before` → `after`) as one step of its
/// history: `updated` (updateAsset) or `deactivated` (deleteAsset). Nothing is recorded when no
/// field of the history changed: status, location, condition, notes, acquisition cost (in major
/// units of the unit's currency) and acquisition date.
pub async fn record_change(
    tx: &mut Conn,
    ctx: &TenantContext,
    before: &AssetRecord,
    after: &AssetRecord,
    action: &'static str,
    now: i64,
) -> AppResult<()> {
    let text = |v: &Option<String>| v.as_ref().map_or(Value::Null, |t| Value::from(t.clone()));
    let money = |v: Option<i64>| v.map_or(Value::Null, |m| ctx.currency.money(m).to_json());
    // In the order of CHANGED_FIELDS.
    let values = [
        (
            Value::from(before.status.clone()),
            Value::from(after.status.clone()),
        ),
        (text(&before.location), text(&after.location)),
        (text(&before.condition), text(&after.condition)),
        (text(&before.notes), text(&after.notes)),
        (
            money(before.acquisition_cost),
            money(after.acquisition_cost),
        ),
        (
            Value::from(before.acquisition_date.clone()),
            Value::from(after.acquisition_date.clone()),
        ),
    ];
    let mut changes = Map::new();
    for (name, (from, to)) in CHANGED_FIELDS.iter().zip(values) {
        if from != to {
            changes.insert((*name).into(), json!({"from": from, "to": to}));
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    asset_changes::insert(
        tx,
        &AssetChangeRecord {
            tenant_id: ctx.tenant_id.clone(),
            change_id: new_id("achg", now),
            serial_number: after.serial_number.clone(),
            action: action.into(),
            changes: Value::Object(changes).to_string(),
            actor: ctx.actor.user_id.clone(),
            created_at: now,
        },
    )
    .await?;
    Ok(())
}

/// The fields of an asset a manual change is recorded for (API names), in the order
/// [`record_change`] reads them and its summary names them.
const CHANGED_FIELDS: [&str; 6] = [
    "status",
    "location",
    "condition",
    "notes",
    "acquisitionCost",
    "acquisitionDate",
];

/// The text of a recorded change: `field from → to` for each field, `; `-separated.
fn summary(changes: &Map<String, Value>) -> String {
    let show = |v: &Value| match v {
        Value::Null => "(none)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    CHANGED_FIELDS
        .iter()
        .filter_map(|k| changes.get(*k).map(|c| (k, c)))
        .map(|(k, c)| format!("{k} {} → {}", show(&c["from"]), show(&c["to"])))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The UTC calendar date of an instant, `YYYY-MM-DD`.
fn day_of(millis: i64) -> String {
    format_timestamp(millis)
        .get(..10)
        .unwrap_or_default()
        .to_string()
}
