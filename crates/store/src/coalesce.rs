//! Coalesced point reads: concurrent reads of single rows by key, in one business unit, are
//! answered by one statement for all the keys waiting (`WHERE key IN (…)`), the way a database
//! groups commits. Nothing waits for a timer: a read starts its statement at once while fewer
//! than `max_in_flight` statements run; the reads that arrive meanwhile queue, and when a
//! statement ends, the first queued read takes every queued key into the next one. Under light
//! load every read runs alone, as without coalescing; under heavy load the database runs one
//! statement for many reads, and each read still sees a state committed no earlier than its own
//! start (its statement starts after it was queued).
//!
//! Cancellation: leadership is a token handed from read to read; a read dropped while it leads
//! hands it on, and the reads of a statement dropped halfway read again on their own.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::{Result, StoreError};

/// Reads answered by one statement at most (its own and those it takes from the queue); the
/// rest wait for the next statement.
pub const MAX_KEYS: usize = 1024;

/// Coalesces point reads of values `V` by `(business unit, key)`.
pub struct Coalescer<V> {
    state: Mutex<State<V>>,
    max_in_flight: usize,
    statements: AtomicU64,
    reads: AtomicU64,
}

struct State<V> {
    queue: VecDeque<Waiter<V>>,
    in_flight: usize,
}

struct Waiter<V> {
    tenant_id: String,
    key: String,
    tx: oneshot::Sender<Msg<V>>,
}

enum Msg<V> {
    /// The read's answer (errors as text: one failed statement answers many reads).
    Done(std::result::Result<Option<V>, String>),
    /// The read leads the next statement.
    Lead(Leadership<V>),
}

/// The right to run a statement; dropped, it passes to the first queued read.
struct Leadership<V> {
    of: Arc<Coalescer<V>>,
    armed: bool,
}

impl<V> Drop for Leadership<V> {
    fn drop(&mut self) {
        if self.armed {
            self.of.hand_off();
        }
    }
}

impl<V> Coalescer<V> {
    /// A coalescer that runs at most `max_in_flight` statements at once (at least 1).
    pub fn new(max_in_flight: usize) -> Arc<Self> {
        Arc::new(Coalescer {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                in_flight: 0,
            }),
            max_in_flight: max_in_flight.max(1),
            statements: AtomicU64::new(0),
            reads: AtomicU64::new(0),
        })
    }

    /// Statements run so far (one per business unit of each group of reads).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Reads answered so far by those statements.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A statement ended: its leadership goes to the first queued read still waiting, or the
    /// count of running statements drops.
    fn hand_off(self: &Arc<Self>) {
        let mut state = self.lock();
        while let Some(next) = state.queue.pop_front() {
            let token = Leadership {
                of: self.clone(),
                armed: true,
            };
            match next.tx.send(Msg::Lead(token)) {
                Ok(()) => return,
                // That read is gone; the token comes back and must not hand off again.
                Err(Msg::Lead(mut token)) => token.armed = false,
                Err(Msg::Done(_)) => {}
            }
        }
        state.in_flight -= 1;
    }
}

impl<V: Clone> Coalescer<V> {
    /// The value of `key` in `tenant_id`, read by `run(tenant_id, keys)` together with the other
    /// keys waiting. `run` returns the values found by key (a key it does not return has no
    /// value); every caller of one coalescer must pass the same reading. Errors: the statement's
    /// error (as [`StoreError::Pool`] text for the reads that only waited for it).
    pub async fn get<F, Fut>(
        self: &Arc<Self>,
        tenant_id: &str,
        key: &str,
        run: F,
    ) -> Result<Option<V>>
    where
        F: Fn(String, Vec<String>) -> Fut,
        Fut: Future<Output = Result<HashMap<String, V>>>,
    {
        let queued = {
            let mut state = self.lock();
            if state.in_flight < self.max_in_flight {
                state.in_flight += 1;
                None
            } else {
                let (tx, rx) = oneshot::channel();
                state.queue.push_back(Waiter {
                    tenant_id: tenant_id.to_string(),
                    key: key.to_string(),
                    tx,
                });
                Some(rx)
            }
        };
        let token = match queued {
            None => Leadership {
                of: self.clone(),
                armed: true,
            },
            Some(rx) => match rx.await {
                Ok(Msg::Done(r)) => return r.map_err(StoreError::Pool),
                Ok(Msg::Lead(token)) => token,
                // The statement that was to answer was dropped halfway: read alone.
                Err(_) => {
                    let mut found = run(tenant_id.to_string(), vec![key.to_string()]).await?;
                    return Ok(found.remove(key));
                }
            },
        };
        let waiting: VecDeque<Waiter<V>> = {
            let mut state = self.lock();
            let n = state.queue.len().min(MAX_KEYS - 1);
            state.queue.drain(..n).collect()
        };
        let mine = self.lead(tenant_id, key, waiting, &run).await;
        drop(token);
        mine
    }

    /// Runs the statements for this read and the `waiting` ones (one per business unit), answers
    /// the waiting reads and returns this one's answer.
    async fn lead<F, Fut>(
        &self,
        tenant_id: &str,
        key: &str,
        waiting: VecDeque<Waiter<V>>,
        run: &F,
    ) -> Result<Option<V>>
    where
        F: Fn(String, Vec<String>) -> Fut,
        Fut: Future<Output = Result<HashMap<String, V>>>,
    {
        let mut units: HashMap<String, Vec<String>> = HashMap::new();
        units
            .entry(tenant_id.to_string())
            .or_default()
            .push(key.to_string());
        for w in &waiting {
            units
                .entry(w.tenant_id.clone())
                .or_default()
                .push(w.key.clone());
        }
        for keys in units.values_mut() {
            keys.sort_unstable();
            keys.dedup();
        }
        let mut mine = Ok(None);
        let mut found: HashMap<String, std::result::Result<HashMap<String, V>, String>> =
            HashMap::new();
        self.reads
            .fetch_add(waiting.len() as u64 + 1, Ordering::Relaxed);
        for (unit, keys) in units {
            self.statements.fetch_add(1, Ordering::Relaxed);
            match run(unit.clone(), keys).await {
                Ok(values) => {
                    if unit == tenant_id {
                        mine = Ok(values.get(key).cloned());
                    }
                    found.insert(unit, Ok(values));
                }
                Err(e) => {
                    let text = e.to_string();
                    if unit == tenant_id {
                        mine = Err(e);
                    }
                    found.insert(unit, Err(text));
                }
            }
        }
        for w in waiting {
            let answer = match found.get(w.tenant_id.as_str()) {
                Some(Ok(values)) => Ok(values.get(&w.key).cloned()),
                Some(Err(e)) => Err(e.clone()),
                None => Ok(None),
            };
            let _ = w.tx.send(Msg::Done(answer));
        }
        mine
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::Coalescer;
    use crate::{Result, StoreError};

    /// The business unit and keys of one statement.
    type Statement = (String, Vec<String>);

    /// A reading that answers `<tenant>/<key>` for every key but `missing`, after `gate` opens,
    /// and records the keys of each statement.
    #[derive(Clone)]
    struct Reading {
        gate: Arc<tokio::sync::Semaphore>,
        calls: Arc<std::sync::Mutex<Vec<Statement>>>,
        fail: Arc<AtomicUsize>,
    }

    impl Reading {
        /// A reading whose gate is closed until the test adds permits.
        fn new() -> Self {
            Reading {
                gate: Arc::new(tokio::sync::Semaphore::new(0)),
                calls: Arc::default(),
                fail: Arc::default(),
            }
        }

        async fn run(&self, tenant: String, keys: Vec<String>) -> Result<HashMap<String, String>> {
            self.calls
                .lock()
                .unwrap()
                .push((tenant.clone(), keys.clone()));
            self.gate.acquire().await.unwrap().forget();
            if self.fail.load(Ordering::SeqCst) > 0 {
                return Err(StoreError::Pool("the database is gone".into()));
            }
            Ok(keys
                .into_iter()
                .filter(|k| k != "missing")
                .map(|k| (k.clone(), format!("{tenant}/{k}")))
                .collect())
        }
    }

    async fn read(
        c: &Arc<Coalescer<String>>,
        r: &Reading,
        tenant: &str,
        key: &str,
    ) -> Result<Option<String>> {
        let r = r.clone();
        c.get(tenant, key, move |t, k| {
            let r = r.clone();
            async move { r.run(t, k).await }
        })
        .await
    }

    /// Spawns reads and waits until `total` reads lead a statement or queue.
    async fn spawn_reads(
        c: &Arc<Coalescer<String>>,
        r: &Reading,
        keys: &[(&str, &str)],
        total: usize,
    ) -> Vec<tokio::task::JoinHandle<Result<Option<String>>>> {
        let handles = keys
            .iter()
            .map(|(t, k)| {
                let (c, r, t, k) = (c.clone(), r.clone(), t.to_string(), k.to_string());
                tokio::spawn(async move { read(&c, &r, &t, &k).await })
            })
            .collect();
        for _ in 0..5_000 {
            let counted = {
                let state = c.lock();
                state.in_flight + state.queue.len()
            };
            if counted >= total {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        handles
    }

    #[tokio::test]
    async fn reads_that_arrive_during_a_statement_share_the_next_one() {
        let c = Coalescer::new(1);
        let r = Reading::new();
        let keys: Vec<(&str, &str)> = vec![
            ("bu_a", "k0"),
            ("bu_a", "k1"),
            ("bu_a", "k2"),
            ("bu_b", "k1"),
            ("bu_a", "k1"),
            ("bu_a", "missing"),
        ];
        let mut handles = spawn_reads(&c, &r, &keys[..1], 1).await;
        handles.extend(spawn_reads(&c, &r, &keys[1..], 6).await);
        r.gate.add_permits(1_000);
        let mut answers = Vec::new();
        for h in handles {
            answers.push(h.await.unwrap().unwrap());
        }
        let expected: Vec<Option<String>> = keys
            .iter()
            .map(|(t, k)| (*k != "missing").then(|| format!("{t}/{k}")))
            .collect();
        assert_eq!(answers, expected);
        // The first read ran alone; the five queued behind it took one statement per unit.
        let calls = r.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert_eq!(c.statements(), 3);
        assert_eq!(c.reads(), 6);
        let b: Vec<_> = calls.iter().filter(|(t, _)| t == "bu_b").collect();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].1, vec!["k1".to_string()]);
    }

    #[tokio::test]
    async fn a_failed_statement_fails_the_reads_it_answers_and_no_others() {
        let c = Coalescer::new(1);
        let r = Reading::new();
        r.fail.store(1, Ordering::SeqCst);
        let mut handles = spawn_reads(&c, &r, &[("bu_a", "k0")], 1).await;
        handles.extend(spawn_reads(&c, &r, &[("bu_a", "k1"), ("bu_a", "k2")], 3).await);
        r.gate.add_permits(1_000);
        for h in handles {
            let e = h.await.unwrap().unwrap_err();
            assert!(e.to_string().contains("the database is gone"), "{e}");
        }
        r.fail.store(0, Ordering::SeqCst);
        assert_eq!(
            read(&c, &r, "bu_a", "k3").await.unwrap().as_deref(),
            Some("bu_a/k3")
        );
    }

    #[tokio::test]
    async fn reads_go_on_when_the_read_leading_them_is_dropped() {
        let c = Coalescer::new(1);
        let r = Reading::new();
        let leader = spawn_reads(&c, &r, &[("bu_a", "k0")], 1).await;
        let queued = spawn_reads(&c, &r, &[("bu_a", "k1"), ("bu_a", "k2")], 3).await;
        // The leader's client goes away while its statement waits.
        leader.into_iter().for_each(|h| h.abort());
        r.gate.add_permits(1_000);
        for (h, k) in queued.into_iter().zip(["k1", "k2"]) {
            let got = tokio::time::timeout(std::time::Duration::from_secs(5), h)
                .await
                .expect("a queued read waited forever")
                .unwrap()
                .unwrap();
            assert_eq!(got, Some(format!("bu_a/{k}")));
        }
        assert_eq!(c.lock().in_flight, 0);
    }

    #[tokio::test]
    async fn reads_of_a_statement_dropped_halfway_read_alone() {
        let c = Coalescer::new(1);
        let r = Reading::new();
        let first = spawn_reads(&c, &r, &[("bu_a", "k0")], 1).await;
        let second = spawn_reads(&c, &r, &[("bu_a", "k1")], 2).await;
        let third = spawn_reads(&c, &r, &[("bu_a", "k2")], 3).await;
        // The first statement ends; the next read leads a statement for itself and the third.
        r.gate.add_permits(1);
        assert_eq!(
            first
                .into_iter()
                .next()
                .unwrap()
                .await
                .unwrap()
                .unwrap()
                .as_deref(),
            Some("bu_a/k0")
        );
        for _ in 0..5_000 {
            if r.calls.lock().unwrap().len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert_eq!(
            r.calls.lock().unwrap()[1].1,
            vec!["k1".to_string(), "k2".to_string()]
        );
        // Its client goes away halfway: the third read is not left waiting.
        second.into_iter().for_each(|h| h.abort());
        r.gate.add_permits(1_000);
        let got = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            third.into_iter().next().unwrap(),
        )
        .await
        .expect("the third read waited forever")
        .unwrap()
        .unwrap();
        assert_eq!(got.as_deref(), Some("bu_a/k2"));
        assert_eq!(c.lock().in_flight, 0);
    }

    #[tokio::test]
    async fn a_statement_takes_at_most_max_keys_reads() {
        let c = Coalescer::new(1);
        let r = Reading::new();
        let keys: Vec<String> = (0..1_500).map(|i| format!("k{i}")).collect();
        let pairs: Vec<(&str, &str)> = keys.iter().map(|k| ("bu_a", k.as_str())).collect();
        let mut handles = spawn_reads(&c, &r, &pairs[..1], 1).await;
        handles.extend(spawn_reads(&c, &r, &pairs[1..], pairs.len()).await);
        r.gate.add_permits(10_000);
        for (h, k) in handles.into_iter().zip(&keys) {
            assert_eq!(h.await.unwrap().unwrap(), Some(format!("bu_a/{k}")));
        }
        let sizes: Vec<usize> = r
            .calls
            .lock()
            .unwrap()
            .iter()
            .map(|(_, k)| k.len())
            .collect();
        assert_eq!(sizes, vec![1, super::MAX_KEYS, 1_500 - 1 - super::MAX_KEYS]);
    }
}
