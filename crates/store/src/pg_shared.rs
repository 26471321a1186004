//! PostgreSQL reads outside a transaction share a few connections instead of taking one each.
//!
//! A read outside a transaction is one self-contained statement, so any number of them can be in
//! flight on one connection: `tokio-postgres` pipelines the statements of concurrent callers on
//! its socket, and the server answers them in order. Concurrent point reads (an asset by serial
//! number, a page of a list) then share the round trips, socket writes and wake-ups that an
//! exclusive connection spends on each of them alone. Transactions, snapshots and anything that
//! sets session state keep taking exclusive connections from the pool ([`crate::Db::begin`],
//! [`crate::Db::read_snapshot`]).
//!
//! Each read goes to the slot with the fewest statements in flight, so one long read (a report)
//! holds up only what is queued behind it on its own connection. A slot whose connection closed
//! (server restart, network) takes a fresh one from the pool on its next read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::Result;

/// The shared connections of one database.
pub(crate) struct SharedReaders {
    slots: Vec<Slot>,
}

struct Slot {
    client: Mutex<Option<Arc<deadpool_postgres::Object>>>,
    in_flight: Arc<AtomicUsize>,
}

/// A shared connection lent to one read; counted in its slot until dropped.
pub(crate) struct SharedRead {
    client: Arc<deadpool_postgres::Object>,
    in_flight: Arc<AtomicUsize>,
}

impl SharedRead {
    pub(crate) fn client(&self) -> &deadpool_postgres::Object {
        &self.client
    }
}

impl Drop for SharedRead {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl SharedReaders {
    /// `count` slots, connected on first use.
    pub(crate) fn new(count: usize) -> SharedReaders {
        SharedReaders {
            slots: (0..count)
                .map(|_| Slot {
                    client: Mutex::new(None),
                    in_flight: Arc::default(),
                })
                .collect(),
        }
    }

    /// How many slots, for sizing the pool they take their connections from.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// A connection for one read: the least busy slot's, connected (or reconnected) from `pool`
    /// when it has none or its connection closed.
    pub(crate) async fn take(&self, pool: &deadpool_postgres::Pool) -> Result<SharedRead> {
        let slot = self
            .slots
            .iter()
            .min_by_key(|s| s.in_flight.load(Ordering::Relaxed))
            .unwrap_or_else(|| unreachable!("at least one slot"));
        let current = slot
            .client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let client = match current {
            Some(c) if !c.is_closed() => c,
            _ => {
                let fresh = Arc::new(pool.get().await?);
                *slot.client.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
                fresh
            }
        };
        slot.in_flight.fetch_add(1, Ordering::Relaxed);
        Ok(SharedRead {
            client,
            in_flight: slot.in_flight.clone(),
        })
    }
}
