//! API-key usage (SPEC §1.2: `lastUsedAt` and a usage counter per key) counted in memory and
//! written in batches, so reads do not each cost a write.

use std::collections::HashMap;
use std::sync::Mutex;

use flexportal_app::App;

/// Request counts per key since the last flush: key id → (tenant id, requests, last use).
#[derive(Default)]
pub struct UsageBuffer {
    counts: Mutex<HashMap<String, (String, i64, i64)>>,
}

impl UsageBuffer {
    /// Counts one request of a key at `now` (epoch milliseconds). A key already counted since
    /// the last flush costs no allocation.
    pub fn record(&self, tenant_id: &str, key_id: &str, now: i64) {
        let Ok(mut m) = self.counts.lock() else {
            return;
        };
        match m.get_mut(key_id) {
            Some(e) => {
                e.1 += 1;
                e.2 = e.2.max(now);
            }
            None => {
                m.insert(key_id.to_string(), (tenant_id.to_string(), 1, now));
            }
        }
    }

    /// Writes the buffered counts; on failure they are kept for the next flush.
    pub async fn flush(&self, app: &App) {
        let batch: Vec<(String, String, i64, i64)> = match self.counts.lock() {
            Ok(mut m) => m.drain().map(|(k, (t, n, last))| (t, k, n, last)).collect(),
            Err(_) => return,
        };
        if let Err(e) = flexportal_app::admin::flush_key_usage(app, &batch).await {
            tracing::warn!(error = %e, "key usage not flushed; retrying later");
            for (t, k, n, last) in batch {
                if let Ok(mut m) = self.counts.lock() {
                    let e = m.entry(k).or_insert((t, 0, last));
                    e.1 += n;
                    e.2 = e.2.max(last);
                }
            }
        }
    }
}
