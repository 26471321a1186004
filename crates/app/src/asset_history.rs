//! The history of one asset across every rental it served (SPEC §2.3, §2.6.5): registered,
//! assigned to a rental (at fulfilment or as a replacement), taken back by a replacement, and
//! how each rental that held it ended (sold by a buyout, returned, upgraded, cancelled), with
//! the actor, the date and the reason of each step. Derived from the asset assignments and the
//! subscriptions' histories; nothing is stored twice.

use flexportal_domain::status::SubscriptionEventKind;
use flexportal_domain::time::format_timestamp;
use flexportal_store::assets::AssetRecord;
use flexportal_store::{assets, assignments, subscription_events, subscriptions};
use serde_json::Value;

use crate::lifecycle::HistoryEntry;
use crate::{App, AppError, AppResult, TenantContext};

/// One step of an asset's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetEvent {
    /// The calendar date it took effect, `YYYY-MM-DD`.
    pub date: String,
    /// Epoch milliseconds it was recorded.
    pub at: i64,
    /// `registered`, `assigned`, `replaced`, `sold`, `returned`, `upgraded` or
    /// `rental_cancelled`.
    pub action: &'static str,
    /// The rental concerned.
    pub rental_id: Option<String>,
    /// Who did it (`apikey:<keyId>`, `system`); absent for the registration.
    pub actor: Option<String>,
    /// Why, when one was given.
    pub reason: Option<String>,
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
    // Steps recorded in the same millisecond (one transaction) keep their logical order.
    let rank = |a: &str| match a {
        "registered" => 0,
        "assigned" => 1,
        _ => 2,
    };
    out.sort_by_key(|e| (e.at, rank(e.action)));
    Ok((asset, out))
}

/// The UTC calendar date of an instant, `YYYY-MM-DD`.
fn day_of(millis: i64) -> String {
    format_timestamp(millis)
        .get(..10)
        .unwrap_or_default()
        .to_string()
}
