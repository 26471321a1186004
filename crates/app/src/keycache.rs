//! The process's cache of resolved API keys (SPEC §1.2): a request whose key is cached skips the
//! store lookup and the parsing of its business unit's settings, and a revocation still applies to
//! the very next request.
//!
//! How a cached key learns that it changed depends on the engine:
//! - PostgreSQL: a listener on the `flexportal_auth` channel (notified by triggers on `api_keys`
//!   and `tenants` when a change commits, from any process) drops the whole cache. Until the
//!   listener is in place, and whenever its connection is lost, nothing is cached.
//! - SQLite: a cache filled at another credentials epoch (a one-row counter the same triggers
//!   move) is dropped, so a revocation by the CLI in another process is seen at once. The epoch
//!   is read again only when the database's write stamp ([`flexportal_store::WriteStamp`]) moved
//!   since it was last read: while nothing commits, a request reads nothing to authenticate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use flexportal_domain::Currency;
use flexportal_store::api_keys::KeyAuth;
use flexportal_store::{ListenEvent, WriteStamp};

use crate::AppError;

/// Keys cached at most; a full cache is emptied (keys are few; this bounds memory).
const CAPACITY: usize = 10_000;

/// The channel the credential triggers notify (migration V4).
pub const CHANNEL: &str = "flexportal_auth";

/// A presented key resolved with its business unit, the unit's currency and settings parsed.
#[derive(Debug)]
pub struct Credentials {
    /// The key and its business unit as stored.
    pub key: KeyAuth,
    /// The context of the requests this key authenticates, built once: the unit's currency and
    /// parsed settings document (SPEC §2.1), its time zone, and the key as the actor.
    pub context: Arc<crate::TenantContext>,
}

impl Credentials {
    /// Parses the stored currency and settings and builds the key's request context. Errors:
    /// 500 when the currency or the settings cannot be decoded.
    pub fn resolve(key: KeyAuth) -> Result<Self, AppError> {
        let currency = Currency::parse(&key.currency)
            .ok_or_else(|| AppError::corrupt(format!("currency {:?}", key.currency)))?;
        let settings = flexportal_domain::settings::UnitSettings::from_stored(&key.settings)
            .map_err(AppError::corrupt)?;
        let context = Arc::new(crate::TenantContext {
            tenant_id: key.tenant_id.clone(),
            currency,
            time_zone: key.time_zone.clone(),
            settings: Arc::new(settings),
            actor: crate::Actor {
                user_id: format!("apikey:{}", key.key_id),
                display_name: key.name.clone(),
            },
        });
        Ok(Credentials { key, context })
    }
}

/// How the cache is kept right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing is cached (PostgreSQL before its listener is in place or after it was lost).
    Off = 0,
    /// Entries are valid while the credentials epoch does not move (SQLite).
    Epoch = 1,
    /// Entries are valid until a notification (PostgreSQL with its listener).
    Notified = 2,
}

#[derive(Default)]
struct Entries {
    /// Bumped by every invalidation; a lookup that started before one does not fill the cache.
    generation: u64,
    /// The epoch the entries were read at (epoch mode).
    epoch: i64,
    /// A write stamp taken before `epoch` was read (epoch mode): while the database's stamp
    /// still equals it, nothing committed since, so the epoch has not moved.
    stamp: Option<WriteStamp>,
    keys: HashMap<KeyDigest, Arc<Credentials>>,
}

impl Entries {
    /// Epoch mode: brings the entries to `epoch`, which only moves forward. A later epoch drops
    /// the entries (and the stamp) of the earlier one; `false` for an earlier epoch, whose reads
    /// are stale.
    fn advance(&mut self, epoch: i64) -> bool {
        if epoch < self.epoch {
            return false;
        }
        if epoch > self.epoch {
            self.keys.clear();
            self.epoch = epoch;
            self.stamp = None;
        }
        true
    }
}

/// The SHA-256 of a key secret (its hex form is what the store keeps).
pub type KeyDigest = [u8; 32];

/// The cache, keyed by the SHA-256 of the secret.
#[derive(Default)]
pub struct KeyCache {
    mode: AtomicU8,
    entries: RwLock<Entries>,
    hits: AtomicU64,
    invalidations: AtomicU64,
}

impl KeyCache {
    /// A cache in `mode`.
    pub fn new(mode: Mode) -> Self {
        let c = KeyCache::default();
        c.mode.store(mode as u8, Ordering::SeqCst);
        c
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        match self.mode.load(Ordering::SeqCst) {
            1 => Mode::Epoch,
            2 => Mode::Notified,
            _ => Mode::Off,
        }
    }

    /// Lookups answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Invalidations so far (notifications, listener losses).
    pub fn invalidations(&self) -> u64 {
        self.invalidations.load(Ordering::SeqCst)
    }

    /// Drops every entry.
    pub fn clear(&self) {
        let mut e = self.entries.write().unwrap_or_else(|p| p.into_inner());
        e.generation += 1;
        e.keys.clear();
        self.invalidations.fetch_add(1, Ordering::SeqCst);
    }

    /// Applies what the PostgreSQL listener reports: caching starts once it listens, every
    /// notification empties the cache, a lost connection empties it and stops caching.
    pub fn on_listen_event(&self, event: ListenEvent) {
        match event {
            ListenEvent::Listening => {
                self.clear();
                self.mode.store(Mode::Notified as u8, Ordering::SeqCst);
            }
            ListenEvent::Notified => self.clear(),
            ListenEvent::Lost => {
                self.mode.store(Mode::Off as u8, Ordering::SeqCst);
                self.clear();
            }
        }
    }

    /// A cached key, if it is valid at `epoch` (epoch mode) or at all (notified mode), with the
    /// generation to pass to [`KeyCache::insert`] on a miss.
    pub fn get(&self, hash: &KeyDigest, epoch: Option<i64>) -> (Option<Arc<Credentials>>, u64) {
        let e = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let valid = epoch.is_none_or(|at| at == e.epoch);
        (self.lookup(&e, hash, valid), e.generation)
    }

    /// The entry of `hash` when the entries are `valid`, counted as a hit when there is one.
    fn lookup(&self, e: &Entries, hash: &KeyDigest, valid: bool) -> Option<Arc<Credentials>> {
        let hit = valid.then(|| e.keys.get(hash).cloned()).flatten();
        if hit.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// Epoch mode: a cached key, if the database's write stamp is still `stamp`, the one taken
    /// before the entries' epoch was last read (nothing committed since, so the epoch has not
    /// moved).
    pub fn get_unchanged(&self, hash: &KeyDigest, stamp: WriteStamp) -> Option<Arc<Credentials>> {
        let e = self.entries.read().unwrap_or_else(|p| p.into_inner());
        self.lookup(&e, hash, e.stamp == Some(stamp))
    }

    /// Epoch mode: records that the epoch read after the write stamp `stamp` was taken is
    /// `epoch`. A later epoch drops the entries of the earlier one; an earlier epoch (a lookup
    /// that lost a race with a newer one) changes nothing.
    pub fn confirm(&self, stamp: Option<WriteStamp>, epoch: i64) {
        let mut e = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if e.advance(epoch) {
            e.stamp = stamp;
        }
    }

    /// Caches a key read from the store at `generation` (and `epoch` in epoch mode), unless an
    /// invalidation happened since: a key read before a revocation is never cached after it.
    /// The epoch only moves forward: a key read at an earlier epoch than the entries' is not
    /// cached.
    pub fn insert(
        &self,
        generation: u64,
        epoch: Option<i64>,
        hash: KeyDigest,
        c: Arc<Credentials>,
    ) {
        let mut e = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if e.generation != generation || self.mode() == Mode::Off {
            return;
        }
        if let Some(at) = epoch
            && !e.advance(at)
        {
            return;
        }
        if e.keys.len() >= CAPACITY {
            e.keys.clear();
        }
        e.keys.insert(hash, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: KeyDigest = [7; 32];

    fn creds() -> Arc<Credentials> {
        Arc::new(
            Credentials::resolve(KeyAuth {
                key_id: "k".into(),
                name: "n".into(),
                scope: "all".into(),
                status: "active".into(),
                tenant_id: "t".into(),
                tenant_status: "active".into(),
                currency: "EUR".into(),
                time_zone: "UTC".into(),
                settings: "{}".into(),
            })
            .unwrap(),
        )
    }

    #[test]
    fn a_lookup_that_started_before_an_invalidation_does_not_fill_the_cache() {
        let c = KeyCache::new(Mode::Notified);
        let (_, generation) = c.get(&H, None);
        c.on_listen_event(ListenEvent::Notified);
        c.insert(generation, None, H, creds());
        assert!(c.get(&H, None).0.is_none());
        let (_, generation) = c.get(&H, None);
        c.insert(generation, None, H, creds());
        assert!(c.get(&H, None).0.is_some());
    }

    #[test]
    fn epoch_entries_are_valid_only_at_their_epoch() {
        let c = KeyCache::new(Mode::Epoch);
        let (_, generation) = c.get(&H, Some(3));
        c.insert(generation, Some(3), H, creds());
        assert!(c.get(&H, Some(3)).0.is_some());
        assert!(c.get(&H, Some(4)).0.is_none());
    }

    #[test]
    fn an_unchanged_write_stamp_answers_without_the_epoch_and_a_moved_one_does_not() {
        let c = KeyCache::new(Mode::Epoch);
        let s1 = WriteStamp::from_words([1, 10, 7, 8]);
        let s2 = WriteStamp::from_words([2, 11, 7, 8]);
        c.confirm(Some(s1), 3);
        let (_, generation) = c.get(&H, Some(3));
        c.insert(generation, Some(3), H, creds());
        assert!(c.get_unchanged(&H, s1).is_some());
        assert!(c.get_unchanged(&H, s2).is_none(), "a commit happened since");
        // The epoch read after s2 moved: the entries of epoch 3 are gone.
        c.confirm(Some(s2), 4);
        assert!(c.get_unchanged(&H, s2).is_none());
        assert!(c.get(&H, Some(4)).0.is_none());
    }

    #[test]
    fn a_lookup_that_read_an_older_epoch_neither_fills_nor_rewinds_the_cache() {
        let c = KeyCache::new(Mode::Epoch);
        let s1 = WriteStamp::from_words([1, 10, 7, 8]);
        let s2 = WriteStamp::from_words([2, 11, 7, 8]);
        // A lookup reads epoch 3, then a revocation moves it to 4 and another lookup sees that.
        let (_, generation) = c.get(&H, Some(3));
        c.confirm(Some(s2), 4);
        // The first lookup finishes late with what it read at epoch 3.
        c.confirm(Some(s1), 3);
        c.insert(generation, Some(3), H, creds());
        assert!(c.get(&H, Some(4)).0.is_none());
        assert!(c.get_unchanged(&H, s2).is_none());
        assert!(c.get_unchanged(&H, s1).is_none());
    }

    #[test]
    fn a_lost_listener_stops_caching() {
        let c = KeyCache::new(Mode::Off);
        c.on_listen_event(ListenEvent::Listening);
        let (_, generation) = c.get(&H, None);
        c.insert(generation, None, H, creds());
        assert!(c.get(&H, None).0.is_some());
        c.on_listen_event(ListenEvent::Lost);
        assert_eq!(c.mode(), Mode::Off);
        assert!(c.get(&H, None).0.is_none());
        let (_, generation) = c.get(&H, None);
        c.insert(generation, None, H, creds());
        assert!(c.get(&H, None).0.is_none());
    }
}
