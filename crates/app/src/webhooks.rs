//! Webhook endpoints of a business unit (SPEC §2.11): create, list, read, update, delete, rotate
//! the signing secret; the delivery log and replays; the signatures and the retry schedule that
//! [`crate::delivery`] uses.
//!
//! Targets: `https` URLs; `http` and addresses on loopback, private, link-local or otherwise
//! non-public networks only when the server allows private targets
//! (`FLEXPORTAL_WEBHOOK_ALLOW_PRIVATE=1`), checked here for literal addresses and `localhost`, and
//! again for every address a name resolves to when a delivery connects.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use flexportal_domain::ids::{self, prefix};
use flexportal_store::webhooks::{
    self, AttemptRecord, DeliveryFilter, DeliveryRecord, EndpointRecord,
};
use hmac::{KeyInit, Mac};
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::events::CATALOGUE;
use crate::input::{self, Fields, MAX_SHORT, Patch, body_object};
use crate::{App, TenantContext};

/// Longest accepted endpoint URL, in characters.
pub const MAX_URL: usize = 2_000;

/// Waits before the retries of a failed delivery (SPEC §2.11 Recommended: 1 min, 5 min, 30 min,
/// 2 h, 12 h, for 6 attempts in all), in milliseconds.
pub const RETRY_DELAYS_MS: [i64; 5] = [60_000, 300_000, 1_800_000, 7_200_000, 43_200_000];

/// After the six attempts of SPEC §2.11 a delivery is tried again every 12 hours until this long
/// after it was created (5 days, in milliseconds), so a receiver that is down for days still
/// gets every event when it comes back; then it is `failed` (and can be replayed).
pub const GIVE_UP_AFTER_MS: i64 = 5 * 24 * 3_600_000;

/// When the attempt after `attempts` failed ones is due, or `None` when the delivery is given
/// up. `created_at` and `now` are epoch milliseconds.
pub fn next_attempt(attempts: i64, created_at: i64, now: i64) -> Option<i64> {
    let delay = match usize::try_from(attempts - 1) {
        Ok(i) if i < RETRY_DELAYS_MS.len() => RETRY_DELAYS_MS[i],
        _ => RETRY_DELAYS_MS[RETRY_DELAYS_MS.len() - 1],
    };
    let at = now.saturating_add(delay);
    (attempts < 6 || at <= created_at.saturating_add(GIVE_UP_AFTER_MS)).then_some(at)
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `X-FlexPortal-Signature` (SPEC §2.11): `sha256=<hex HMAC-SHA256 of the raw body>`, keyed with
/// the endpoint secret as written (`whsec_…`, its UTF-8 bytes).
pub fn flexportal_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac(secret.as_bytes(), &[body])))
}

/// `webhook-signature` of the Standard Webhooks specification: `v1,<base64 HMAC-SHA256 of
/// "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the base64-decoded part of the secret
/// after `whsec_`.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = BASE64
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap_or_else(|_| secret.as_bytes().to_vec());
    let ts = timestamp.to_string();
    let mac = hmac(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!("v1,{}", BASE64.encode(mac))
}

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", BASE64.encode(bytes))
}

/// Whether `ip` is an address of the public internet (not loopback, private, link-local,
/// shared, unspecified, multicast, broadcast or documentation space; IPv4-mapped IPv6 addresses
/// as their IPv4 address).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Checks an endpoint URL: absolute `https` (or `http` with private targets allowed), a host,
/// no credentials; a literal address or `localhost` must be public unless private targets are
/// allowed. Returns the URL as parsed, or the failure's message.
pub fn check_url(text: &str, allow_private: bool) -> Result<String, String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("Not an absolute URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err("Webhook URLs must use https".into()),
        other => return Err(format!("Unsupported scheme {other:?}; use https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Credentials in the URL are not accepted".into());
    }
    let private = match url.host() {
        None => return Err("The URL has no host".into()),
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    };
    if private && !allow_private {
        return Err(
            "The URL points to a private or loopback address, which this server does not call"
                .into(),
        );
    }
    Ok(url.to_string())
}

fn event_list(f: &mut Fields<'_>, key: &str) -> Option<Vec<String>> {
    let raw = f.raw(key)?;
    let Some(items) = raw.as_array() else {
        f.fail(key, "invalid_type", "Expected an array of event types");
        return None;
    };
    let mut out = Vec::new();
    for v in items {
        match v.as_str() {
            Some(e) if CATALOGUE.contains(&e) => {
                if !out.iter().any(|o| o == e) {
                    out.push(e.to_string());
                }
            }
            Some("*") => return Some(Vec::new()),
            _ => {
                f.fail(
                    key,
                    "invalid_enum_value",
                    format!(
                        "Event types are {} (or \"*\" for all)",
                        CATALOGUE.join(", ")
                    ),
                );
                return None;
            }
        }
    }
    Some(out)
}

fn opt_bool(f: &mut Fields<'_>, key: &str) -> Option<bool> {
    match f.raw(key) {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            f.fail(key, "invalid_type", "Expected a boolean");
            None
        }
    }
}

fn url_field(app: &App, f: &mut Fields<'_>, required: bool) -> Option<String> {
    let text = if required {
        f.req_text("url", MAX_URL)?
    } else {
        match f.text_patch("url", MAX_URL, true) {
            Patch::Value(v) => v,
            _ => return None,
        }
    };
    match check_url(&text, app.webhook_options.allow_private) {
        Ok(u) => Some(u),
        Err(m) => {
            f.fail("url", "invalid_string", m);
            None
        }
    }
}

/// Creates an endpoint from `{url, events?, description?, enabled?}` (`events` omitted, `[]` or
/// `["*"]`: every event). Answers the endpoint with its new secret. Errors: 400
/// `VALIDATION_ERROR` (every failing field).
pub async fn create(app: &App, ctx: &TenantContext, body: &Value) -> AppResult<EndpointRecord> {
    let obj = body_object(body)?;
    let mut errors = Vec::new();
    let mut f = Fields::new(obj, "", &mut errors);
    let url = url_field(app, &mut f, true);
    let events = event_list(&mut f, "events").unwrap_or_default();
    let description = f.opt_text("description", MAX_SHORT);
    let enabled = opt_bool(&mut f, "enabled").unwrap_or(true);
    input::check(errors)?;
    let now = app.now();
    let e = EndpointRecord {
        tenant_id: ctx.tenant_id.clone(),
        endpoint_id: ids::new_id(prefix::WEBHOOK_ENDPOINT, now),
        url: url.unwrap_or_default(),
        description,
        event_types: serde_json::to_string(&events).map_err(crate::corrupt)?,
        secret: new_secret(),
        enabled,
        created_at: now,
        updated_at: now,
    };
    crate::transact!(app, |tx| async {
        webhooks::insert_endpoint(tx, &e).await?;
        AppResult::Ok(())
    })?;
    Ok(e)
}

/// Every endpoint of the business unit, oldest first.
pub async fn list(app: &App, ctx: &TenantContext) -> AppResult<Vec<EndpointRecord>> {
    let mut c = app.db.read().await?;
    Ok(webhooks::list_endpoints(&mut c, &ctx.tenant_id).await?)
}

fn not_found() -> AppError {
    AppError::not_found("Webhook endpoint")
}

/// One endpoint. Errors: 404 `NOT_FOUND`.
pub async fn get(app: &App, ctx: &TenantContext, id: &str) -> AppResult<EndpointRecord> {
    let mut c = app.db.read().await?;
    webhooks::get_endpoint(&mut c, &ctx.tenant_id, id, false)
        .await?
        .ok_or_else(not_found)
}

/// Changes any of `url`, `events`, `description` (`null` or `""` clears it), `enabled`.
/// Errors: 404 `NOT_FOUND`, 400 `VALIDATION_ERROR`.
pub async fn update(
    app: &App,
    ctx: &TenantContext,
    id: &str,
    body: &Value,
) -> AppResult<EndpointRecord> {
    crate::transact!(app, |tx| async {
        let mut e = webhooks::get_endpoint(tx, &ctx.tenant_id, id, true)
            .await?
            .ok_or_else(not_found)?;
        let obj = body_object(body)?;
        let mut errors = Vec::new();
        let mut f = Fields::new(obj, "", &mut errors);
        let url = url_field(app, &mut f, false);
        let events = event_list(&mut f, "events");
        let description = f.text_patch("description", MAX_SHORT, false);
        let enabled = opt_bool(&mut f, "enabled");
        input::check(errors)?;
        if let Some(u) = url {
            e.url = u;
        }
        if let Some(list) = events {
            e.event_types = serde_json::to_string(&list).map_err(crate::corrupt)?;
        }
        e.description = description.apply(e.description.take());
        if let Some(b) = enabled {
            e.enabled = b;
        }
        e.updated_at = app.now();
        webhooks::update_endpoint(tx, &e).await?;
        AppResult::Ok(e)
    })
}

/// Replaces the signing secret; answers the endpoint with the new one. Errors: 404 `NOT_FOUND`.
pub async fn rotate_secret(app: &App, ctx: &TenantContext, id: &str) -> AppResult<EndpointRecord> {
    crate::transact!(app, |tx| async {
        let mut e = webhooks::get_endpoint(tx, &ctx.tenant_id, id, true)
            .await?
            .ok_or_else(not_found)?;
        e.secret = new_secret();
        e.updated_at = app.now();
        webhooks::update_endpoint(tx, &e).await?;
        AppResult::Ok(e)
    })
}

/// Deletes an endpoint; deliveries still pending for it fail. Errors: 404 `NOT_FOUND`.
pub async fn delete(app: &App, ctx: &TenantContext, id: &str) -> AppResult<()> {
    crate::transact!(app, |tx| async {
        if webhooks::delete_endpoint(tx, &ctx.tenant_id, id, app.now()).await? {
            AppResult::Ok(())
        } else {
            Err(not_found())
        }
    })
}

/// A delivery with its attempts.
#[derive(Debug, Clone)]
pub struct DeliveryLog {
    /// The delivery.
    pub delivery: DeliveryRecord,
    /// Its attempts, in order.
    pub attempts: Vec<AttemptRecord>,
}

/// The deliveries of a business unit, newest first (at most `limit`, 1–1,000), each with its
/// attempts.
pub async fn deliveries(
    app: &App,
    ctx: &TenantContext,
    filter: &DeliveryFilter,
    limit: u64,
) -> AppResult<Vec<DeliveryLog>> {
    let mut c = app.db.read().await?;
    let list = webhooks::deliveries(&mut c, &ctx.tenant_id, filter, limit.clamp(1, 1_000)).await?;
    let ids: Vec<&str> = list.iter().map(|d| d.delivery_id.as_str()).collect();
    let mut attempts = webhooks::attempts_of(&mut c, &ctx.tenant_id, &ids).await?;
    Ok(list
        .into_iter()
        .map(|d| DeliveryLog {
            attempts: attempts.remove(&d.delivery_id).unwrap_or_default(),
            delivery: d,
        })
        .collect())
}

/// Sends a delivery again (same event, same delivery id), due at once, whatever its state.
/// Returns it as queued. Errors: 404 `NOT_FOUND`.
pub async fn replay(app: &App, delivery_id: &str) -> AppResult<DeliveryRecord> {
    crate::transact!(app, |tx| async {
        let d = webhooks::find_delivery(tx, delivery_id)
            .await?
            .ok_or_else(|| AppError::not_found("Webhook delivery"))?;
        webhooks::replay(tx, &d, app.now()).await?;
        let d = webhooks::find_delivery(tx, delivery_id)
            .await?
            .ok_or_else(|| AppError::not_found("Webhook delivery"))?;
        AppResult::Ok(d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_follows_the_spec_then_every_twelve_hours_for_five_days() {
        let t0 = 1_000_000;
        let waits: Vec<i64> = (1..=5)
            .map(|n| next_attempt(n, t0, t0).unwrap() - t0)
            .collect();
        assert_eq!(waits, RETRY_DELAYS_MS);
        assert_eq!(
            next_attempt(6, t0, t0 + 3_600_000),
            Some(t0 + 3_600_000 + 43_200_000)
        );
        assert_eq!(next_attempt(9, t0, t0 + GIVE_UP_AFTER_MS), None);
        assert!(next_attempt(9, t0, t0 + GIVE_UP_AFTER_MS - 43_200_000).is_some());
    }

    #[test]
    fn signatures_match_known_values() {
        // Standard Webhooks' published example.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let sig = standard_signature(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let body = b"{}";
        let expected = hex::encode(hmac(b"whsec_x", &[body]));
        assert_eq!(
            flexportal_signature("whsec_x", body),
            format!("sha256={expected}")
        );
    }

    #[test]
    fn private_targets_are_refused_unless_allowed() {
        for url in [
            "https://127.0.0.1/hook",
            "https://localhost:8080/",
            "https://10.1.2.3/",
            "https://192.168.0.10/",
            "https://172.20.0.1/",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        assert!(check_url("https://hooks.example.com/x", false).is_ok());
        assert!(check_url("http://hooks.example.com/x", false).is_err());
        assert!(check_url("ftp://hooks.example.com/x", true).is_err());
        assert!(check_url("https://user:pw@hooks.example.com/x", false).is_err());
        assert!(check_url("not a url", true).is_err());
    }
}
