//! Rate limits per API key (SPEC §1.14): the business unit's limit in requests per rolling
//! minute (`api.rateLimitPerMinute`, under `api.abuseCeilingPerMinute`, default 6,000), enforced
//! with `governor`'s GCRA (a key may use its whole minute at once, then one request per
//! 60/limit seconds comes back). Over the limit: 429 `RATE_LIMITED` with `Retry-After` (whole
//! seconds until a request is accepted, at least 1); every limited answer carries
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds when the
//! key's full allowance is back). Limits are kept per process.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use governor::clock::Clock as _;
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::error::ApiError;

/// The application's clock as the limiter's (so the clock port moves rate limits too), made
/// monotonic: it follows the application's clock forward and stands still while that clock is
/// behind a time it already gave (a clock set back must not lock a key out until it catches up).
#[derive(Clone)]
struct AppClock {
    clock: Arc<dyn flexportal_app::Clock>,
    /// (last reading of the application's clock, the time this clock gave), milliseconds.
    ratchet: Arc<Mutex<(i64, u64)>>,
}

impl AppClock {
    fn new(clock: Arc<dyn flexportal_app::Clock>) -> Self {
        let now = clock.now_millis();
        AppClock {
            ratchet: Arc::new(Mutex::new((now, u64::try_from(now).unwrap_or(0)))),
            clock,
        }
    }

    fn millis(&self) -> u64 {
        let now = self.clock.now_millis();
        let mut r = self.ratchet.lock().unwrap_or_else(|p| p.into_inner());
        if now > r.0 {
            r.1 = r.1.saturating_add(u64::try_from(now - r.0).unwrap_or(0));
        }
        r.0 = now;
        r.1
    }
}

impl governor::clock::Clock for AppClock {
    type Instant = Duration;
    fn now(&self) -> Duration {
        Duration::from_millis(self.millis())
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, AppClock, StateInformationMiddleware>;

/// Keys limited at most; a full table is emptied (it only forgets recent use).
const CAPACITY: usize = 100_000;

/// Limiters by key id, with the limit each was built for.
/// Each key's limiter with its clock, by key id, with the limit it was built for.
type Limiters = HashMap<String, (u32, Arc<(Limiter, AppClock)>)>;

static LIMITERS: LazyLock<Mutex<Limiters>> = LazyLock::new(Default::default);

fn limiter(
    key_id: &str,
    per_minute: u32,
    clock: &Arc<dyn flexportal_app::Clock>,
) -> Arc<(Limiter, AppClock)> {
    let mut map = LIMITERS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((n, l)) = map.get(key_id)
        && *n == per_minute
    {
        return l.clone();
    }
    if map.len() >= CAPACITY {
        map.clear();
    }
    let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    let c = AppClock::new(clock.clone());
    let l = Arc::new((
        RateLimiter::direct_with_clock(Quota::per_minute(n), c.clone())
            .with_middleware::<StateInformationMiddleware>(),
        c,
    ));
    map.insert(key_id.to_string(), (per_minute, l.clone()));
    l
}

fn put(headers: &mut HeaderMap, name: &'static str, value: u64) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        headers.insert(name, v);
    }
}

/// The headers of a limited request: `(limit, remaining, reset epoch seconds)`.
pub(crate) struct Allowance(u32, u32, u64);

impl Allowance {
    /// Adds the `X-RateLimit-*` headers.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        put(headers, "x-ratelimit-limit", u64::from(self.0));
        put(headers, "x-ratelimit-remaining", u64::from(self.1));
        put(headers, "x-ratelimit-reset", self.2);
    }
}

/// Counts a request of `key_id` against `per_minute`. `Ok` with the allowance left, or the 429
/// answer.
pub(crate) fn check(
    key_id: &str,
    per_minute: u32,
    clock: &Arc<dyn flexportal_app::Clock>,
) -> Result<Allowance, Box<Response>> {
    let l = limiter(key_id, per_minute, clock);
    let (limiter, own_clock) = &*l;
    let now_ms = u64::try_from(clock.now_millis()).unwrap_or(0);
    let per_request_ms = 60_000 / u64::from(per_minute.max(1));
    match limiter.check() {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let refill_ms = u64::from(per_minute.saturating_sub(remaining)) * per_request_ms;
            Ok(Allowance(
                per_minute,
                remaining,
                (now_ms + refill_ms).div_ceil(1000),
            ))
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(own_clock.now());
            let secs = wait.as_millis().div_ceil(1000).max(1) as u64;
            let mut resp = ApiError::new(
                429,
                "RATE_LIMITED",
                format!(
                    "Rate limit of {per_minute} requests per minute reached; retry in {secs} s"
                ),
            )
            .into_response();
            let h = resp.headers_mut();
            put(h, "retry-after", secs);
            Allowance(
                per_minute,
                0,
                (now_ms + u64::from(per_minute) * per_request_ms).div_ceil(1000),
            )
            .apply(h);
            Err(Box::new(resp))
        }
    }
}
