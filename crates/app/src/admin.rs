//! Business units and API keys (SPEC §2.1): created from the command line, never through `/v1`.

use crate::AppError;
use flexportal_domain::Currency;
use flexportal_domain::ids::{self, prefix};
use flexportal_domain::settings::UnitSettings;
use flexportal_domain::status::KeyScope;
use flexportal_store::api_keys::{self, ApiKeyRecord};
use flexportal_store::tenants::{self, TenantRecord};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::keycache::{Credentials, Mode};
use crate::{App, AppResult};
use std::sync::Arc;

/// A new API key: its stored record and the secret, shown once.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    /// The stored key (hash only).
    pub record: ApiKeyRecord,
    /// The secret `pk_live_<region>_<random>`; never stored.
    pub secret: String,
}

/// The hex SHA-256 of a key secret, as stored and looked up.
pub fn hash_key(secret: &str) -> String {
    hex::encode(key_digest(secret))
}

/// The SHA-256 of a key secret, which keys the process's key cache.
pub fn key_digest(secret: &str) -> crate::keycache::KeyDigest {
    Sha256::digest(secret.as_bytes()).into()
}

/// Creates an `active` business unit with a currency (ISO 4217) and an IANA time zone
/// (default `UTC`). Errors: 400 `VALIDATION_ERROR` for an empty name, an unknown currency code or
/// time zone.
pub async fn create_tenant(
    app: &App,
    name: &str,
    currency: &str,
    time_zone: Option<&str>,
) -> AppResult<TenantRecord> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::field(
            "name",
            "too_small",
            "Name must be 1–200 characters",
        ));
    }
    let currency = Currency::parse(currency).ok_or_else(|| {
        AppError::field(
            "currency",
            "invalid_string",
            "Currency must be an ISO 4217 code",
        )
    })?;
    let tz = time_zone.unwrap_or("UTC");
    if !flexportal_domain::time::is_known_time_zone(tz) {
        return Err(AppError::field(
            "timeZone",
            "invalid_string",
            format!("Unknown time zone {tz}"),
        ));
    }
    let now = app.now();
    let t = TenantRecord {
        tenant_id: ids::new_id(prefix::TENANT, now),
        name: name.to_string(),
        currency: currency.code().to_string(),
        time_zone: tz.to_string(),
        status: "active".into(),
        id_prefix: None,
        settings: "{}".into(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    tenants::insert(&mut tx, &t).await?;
    tx.commit().await?;
    Ok(t)
}

/// The effective settings of a business unit (SPEC §2.1): the stored document with every default
/// filled in. Errors: 404 `NOT_FOUND` for an unknown unit; 500 when the stored document cannot be
/// read.
pub async fn settings(app: &App, tenant_id: &str) -> AppResult<UnitSettings> {
    let mut c = app.db.read().await?;
    let t = tenants::get(&mut c, tenant_id)
        .await?
        .ok_or_else(|| AppError::not_found("Business unit"))?;
    UnitSettings::from_stored(&t.settings).map_err(AppError::corrupt)
}

/// Writes a business unit's settings (SPEC §2.1) and returns the effective document. With
/// `merge`, `doc` is a JSON merge patch (RFC 7396) on the current effective settings, where
/// `null` sets a field that takes `null` to `null` (`api.abuseCeilingPerMinute: null` lifts the
/// ceiling) and returns any other field to its default; without it, `doc` replaces the whole
/// document. The result is validated before anything is written, with the unit's currency for
/// flat fees. Running requests see the change at once (the key cache is cleared; other
/// processes through the credentials epoch or notification). Errors: 404 `NOT_FOUND` for an
/// unknown unit; 400 `VALIDATION_ERROR` with one detail per failing setting.
pub async fn set_settings(
    app: &App,
    tenant_id: &str,
    doc: &Value,
    merge: bool,
) -> AppResult<UnitSettings> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let t = tenants::get_for_update(&mut tx, tenant_id)
        .await?
        .ok_or_else(|| AppError::not_found("Business unit"))?;
    let currency = Currency::parse(&t.currency)
        .ok_or_else(|| AppError::corrupt(format!("currency {:?}", t.currency)))?;
    let next = if merge {
        let current = UnitSettings::from_stored(&t.settings).map_err(AppError::corrupt)?;
        let mut base = serde_json::to_value(&current).map_err(AppError::corrupt)?;
        let defaults = serde_json::to_value(UnitSettings::default()).map_err(AppError::corrupt)?;
        // Whether the field at `path` takes null: the defaults with null there still parse.
        let nullable = |path: &[String]| {
            let mut probe = defaults.clone();
            let mut at = &mut probe;
            for (i, k) in path.iter().enumerate() {
                let Some(obj) = at.as_object_mut() else {
                    return false;
                };
                if i + 1 == path.len() {
                    obj.insert(k.clone(), Value::Null);
                    break;
                }
                at = obj
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Default::default()));
            }
            UnitSettings::parse_for_write(&probe, currency.exponent()).is_ok()
        };
        merge_patch(&mut base, doc, &nullable, &mut Vec::new());
        base
    } else {
        doc.clone()
    };
    if !next.is_object() {
        return Err(AppError::field(
            "",
            "invalid_type",
            "The settings document must be a JSON object",
        ));
    }
    let settings =
        UnitSettings::parse_for_write(&next, currency.exponent()).map_err(|details| {
            AppError::Rejected(flexportal_domain::DomainError::validation(details))
        })?;
    let text = serde_json::to_string(&settings).map_err(AppError::corrupt)?;
    tenants::set_settings(&mut tx, tenant_id, &text, now).await?;
    tx.commit().await?;
    app.keys.clear();
    Ok(settings)
}

/// RFC 7396 JSON merge patch: objects merge key by key, anything else replaces; `null` sets a
/// field that takes it (`nullable(path)`) to `null` and removes any other, which then takes its
/// default.
fn merge_patch(
    target: &mut Value,
    patch: &Value,
    nullable: &dyn Fn(&[String]) -> bool,
    path: &mut Vec<String>,
) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                path.push(k.clone());
                if !v.is_null() {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v, nullable, path);
                } else if nullable(path) {
                    t.insert(k.clone(), Value::Null);
                } else {
                    t.remove(k);
                }
                path.pop();
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Issues a key for a business unit. Errors: 404 `NOT_FOUND` for an unknown unit.
pub async fn create_key(
    app: &App,
    tenant_id: &str,
    name: &str,
    scope: KeyScope,
) -> AppResult<IssuedKey> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if tenants::get(&mut tx, tenant_id).await?.is_none() {
        return Err(AppError::not_found("Business unit"));
    }
    let secret = format!("pk_live_local_{}", ids::random_token(32));
    let record = ApiKeyRecord {
        tenant_id: tenant_id.to_string(),
        key_id: ids::new_id(prefix::API_KEY, now),
        name: name.to_string(),
        key_hash: hash_key(&secret),
        scope: scope.as_str().to_string(),
        status: "active".into(),
        usage_count: 0,
        last_used_at: None,
        created_at: now,
    };
    api_keys::insert(&mut tx, &record).await?;
    tx.commit().await?;
    Ok(IssuedKey { record, secret })
}

/// Revokes a key of a business unit by id; later calls with it get 401 `INVALID_TOKEN`, in this
/// process at once and in others through the credentials epoch or notification.
/// Errors: 404 when the unit has no active key with this id.
pub async fn revoke_key(app: &App, tenant_id: &str, key_id: &str) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    if !api_keys::revoke(&mut tx, tenant_id, key_id, app.now()).await? {
        return Err(AppError::not_found("Active API key"));
    }
    tx.commit().await?;
    app.keys.clear();
    Ok(())
}

/// Looks up a presented secret (SPEC §1.2), from the process's key cache when it holds it (see
/// [`crate::keycache`]). `None` when no key has this secret. Errors: 500 when the key's business
/// unit has a stored currency or settings document that cannot be decoded.
pub async fn find_key(app: &App, secret: &str) -> AppResult<Option<Arc<Credentials>>> {
    let digest = key_digest(secret);
    let cache = &app.keys;
    let mode = cache.mode();
    if mode == Mode::Notified
        && let (Some(hit), _) = cache.get(&digest, None)
    {
        return Ok(Some(hit));
    }
    // Taken before the epoch is read: equal later, nothing has committed since that read.
    let stamp = app.db.write_stamp();
    if mode == Mode::Epoch
        && let Some(at) = stamp
        && let Some(hit) = cache.get_unchanged(&digest, at)
    {
        return Ok(Some(hit));
    }
    // Boxed: the store is the rare path, and its state inline would enlarge the future of every
    // request that authenticates.
    Box::pin(find_stored_key(app, digest, mode, stamp)).await
}

/// [`find_key`] past the cache's fast paths: the key read from the store (and the credentials
/// epoch, in [`Mode::Epoch`]), then cached.
async fn find_stored_key(
    app: &App,
    digest: crate::keycache::KeyDigest,
    mode: Mode,
    stamp: Option<flexportal_store::WriteStamp>,
) -> AppResult<Option<Arc<Credentials>>> {
    let cache = &app.keys;
    let mut c = app.db.read().await?;
    let epoch = match mode {
        Mode::Epoch => {
            let epoch = api_keys::auth_epoch(&mut c).await?;
            cache.confirm(stamp, epoch);
            Some(epoch)
        }
        _ => None,
    };
    let (hit, generation) = cache.get(&digest, epoch);
    if mode == Mode::Epoch
        && let Some(hit) = hit
    {
        return Ok(Some(hit));
    }
    let Some(key) = api_keys::find_for_auth(&mut c, &hex::encode(digest)).await? else {
        return Ok(None);
    };
    let creds = Arc::new(Credentials::resolve(key)?);
    if mode != Mode::Off {
        cache.insert(generation, epoch, digest, creds.clone());
    }
    Ok(Some(creds))
}

/// Every business unit.
pub async fn list_tenants(app: &App) -> AppResult<Vec<TenantRecord>> {
    let mut c = app.db.read().await?;
    tenants::list(&mut c).await.map_err(AppError::from)
}

/// Adds buffered key usage (request counts and last-use times) to the stored counters.
pub async fn flush_key_usage(app: &App, usage: &[(String, String, i64, i64)]) -> AppResult<()> {
    if usage.is_empty() {
        return Ok(());
    }
    let mut tx = app.db.begin().await?;
    for (tenant_id, key_id, uses, last) in usage {
        api_keys::record_usage(&mut tx, tenant_id, key_id, *uses, *last).await?;
    }
    tx.commit().await.map_err(AppError::from)
}
