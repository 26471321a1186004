//! API-key usage (SPEC §1.2: `lastUsedAt` and a usage counter per key) counted in memory and
//! written in batches, so reads do not each cost a write.

use std::collections::HashMap;
use std::sync::Mutex;

use flexportal_app::App;

/// Request counts per (tenant id, key id) since the last flush, with the last use time.
#[derive(Default)]
pub struct UsageBuffer {
    counts: Mutex<HashMap<(String, String), (i64, i64)>>,
}

impl UsageBuffer {
    /// Counts one request of a key at `now` (epoch milliseconds).
    pub fn record(&self, tenant_id: &str, key_id: &str, now: i64) {
        if let Ok(mut m) = self.counts.lock() {
            let e = m
                .entry((tenant_id.to_string(), key_id.to_string()))
                .or_insert((0, now));
            e.0 += 1;
            e.1 = e.1.max(now);
        }
    }

    /// Writes the buffered counts; on failure they are kept for the next flush.
    pub async fn flush(&self, app: &App) {
        let batch: Vec<(String, String, i64, i64)> = match self.counts.lock() {
            Ok(mut m) => m
                .drain()
                .map(|((t, k), (n, last))| (t, k, n, last))
                .collect(),
            Err(_) => return,
        };
        if let Err(e) = flexportal_app::admin::flush_key_usage(app, &batch).await {
            tracing::warn!(error = %e, "key usage not flushed; retrying later");
            for (t, k, n, last) in batch {
                if let Ok(mut m) = self.counts.lock() {
                    let e = m.entry((t, k)).or_insert((0, last));
                    e.0 += n;
                }
            }
        }
    }
}
