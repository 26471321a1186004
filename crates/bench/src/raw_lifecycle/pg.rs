//! The PostgreSQL half of the raw lifecycle baseline: one tokio-postgres connection per
//! worker thread.

use super::*;

/// What a PostgreSQL worker runs.
#[derive(Clone)]
pub enum PgWork {
    /// Commit each action in its own transaction.
    Writes(Arc<Vec<RawAction>>),
    /// The two reads of calculate-buyout for each subscription id.
    Reads(String, Arc<Vec<String>>),
}

impl PgWork {
    fn len(&self) -> usize {
        match self {
            PgWork::Writes(a) => a.len(),
            PgWork::Reads(_, ids) => ids.len(),
        }
    }
}

/// Runs `work` from `workers` threads, each with its own tokio-postgres connection to `url` (and a
/// single-threaded runtime) and its statements prepared before the clock, each taking the next
/// item from a shared counter. Blocks.
pub fn postgres_run(url: &str, work: PgWork, workers: usize) -> RawRun {
    let next = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(Barrier::new(workers + 1));
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (url, work, next, ready) =
                (url.to_string(), work.clone(), next.clone(), ready.clone());
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("raw PostgreSQL runtime")
                    .block_on(postgres_worker(&url, &work, &next, &ready))
            })
        })
        .collect();
    ready.wait();
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(work.len());
    for h in handles {
        latencies.extend(h.join().expect("raw PostgreSQL worker"));
    }
    RawRun {
        elapsed: started.elapsed(),
        latencies,
    }
}

async fn postgres_worker(
    url: &str,
    work: &PgWork,
    next: &AtomicUsize,
    ready: &Barrier,
) -> Vec<Duration> {
    type P<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    let driver = tokio::spawn(conn);
    let sql = ActionSql::new(true);
    let prep = |s: String| {
        let client = &client;
        async move { client.prepare(&s).await.expect("prepare") }
    };
    let mut st = HashMap::new();
    for (k, s) in [
        ("extend", &sql.extend),
        ("replace", &sql.replace),
        ("ending", &sql.ending),
        ("customer", &sql.customer),
        ("asset", &sql.asset),
        ("close", &sql.close),
        ("open", &sql.open),
        ("event", &sql.event),
        ("read_sub", &sql.read_sub),
        ("read_payments", &sql.read_payments),
    ] {
        st.insert(k.to_string(), prep(s.clone()).await);
    }
    if let PgWork::Writes(actions) = work {
        for x in actions.iter() {
            let c = format!("cancel{}", x.cancelled.len());
            if !x.cancelled.is_empty() && !st.contains_key(&c) {
                st.insert(c, prep(sql.cancel(x.cancelled.len())).await);
            }
            let i = format!("insert{}", x.inserted.len());
            if !x.inserted.is_empty() && !st.contains_key(&i) {
                st.insert(i, prep(Sql::payments(x.inserted.len(), true)).await);
            }
        }
    }
    // Blocks this thread until every worker is ready: nothing else runs on its runtime yet.
    ready.wait();
    let mut latencies = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let t = Instant::now();
        match work {
            PgWork::Reads(tenant, ids) => {
                let Some(id) = ids.get(i) else { break };
                let s = client
                    .query(&st["read_sub"], &[tenant, id])
                    .await
                    .expect("read subscription");
                let p = client
                    .query(&st["read_payments"], &[tenant, id])
                    .await
                    .expect("read payments");
                assert!(!s.is_empty() && !p.is_empty(), "subscription {id} read");
            }
            PgWork::Writes(actions) => {
                let Some(x) = actions.get(i) else { break };
                let tenant = x.tenant_id.as_str();
                client.batch_execute("BEGIN").await.expect("BEGIN");
                if !x.cancelled.is_empty() {
                    let mut params: Vec<P<'_>> = vec![&x.cancel_notes, &x.now, &tenant];
                    params.extend(x.cancelled.iter().map(|s| s as P<'_>));
                    client
                        .execute(&st[&format!("cancel{}", x.cancelled.len())], &params)
                        .await
                        .expect("cancel payments");
                }
                match &x.sub {
                    SubChange::Extend {
                        contract_length,
                        end_date,
                        monthly_amount,
                    } => {
                        client
                            .execute(
                                &st["extend"],
                                &[
                                    contract_length,
                                    end_date,
                                    monthly_amount,
                                    &x.now,
                                    &tenant,
                                    &x.rental_id,
                                ],
                            )
                            .await
                    }
                    SubChange::Replace { serial } => {
                        client
                            .execute(&st["replace"], &[serial, &x.now, &tenant, &x.rental_id])
                            .await
                    }
                    SubChange::Ending {
                        status,
                        ended_on,
                        months_rented,
                        months_saved,
                    } => {
                        client
                            .execute(
                                &st["ending"],
                                &[
                                    status,
                                    ended_on,
                                    months_rented,
                                    months_saved,
                                    &x.now,
                                    &tenant,
                                    &x.rental_id,
                                ],
                            )
                            .await
                    }
                }
                .expect("UPDATE subscription");
                if let Some((customer, d)) = &x.customer {
                    client
                        .execute(
                            &st["customer"],
                            &[
                                &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &x.now, &tenant, customer,
                            ],
                        )
                        .await
                        .expect("UPDATE customer");
                }
                for a in &x.assets {
                    client
                        .execute(
                            &st["asset"],
                            &[
                                &a.status,
                                &a.customer_id,
                                &a.rental_id,
                                &a.condition,
                                &a.notes,
                                &a.updated_at,
                                &tenant,
                                &a.serial_number,
                            ],
                        )
                        .await
                        .expect("UPDATE asset");
                }
                for (serial, to) in &x.closed {
                    client
                        .execute(&st["close"], &[to, &tenant, &x.rental_id, serial])
                        .await
                        .expect("close assignment");
                }
                for (serial, from) in &x.opened {
                    client
                        .execute(&st["open"], &[&tenant, &x.rental_id, serial, from, &x.now])
                        .await
                        .expect("open assignment");
                }
                for e in &x.events {
                    client
                        .execute(
                            &st["event"],
                            &[
                                &e.tenant_id,
                                &e.rental_id,
                                &e.event_id,
                                &e.kind.as_str(),
                                &e.actor,
                                &e.details,
                                &e.created_at,
                            ],
                        )
                        .await
                        .expect("INSERT event");
                }
                if !x.inserted.is_empty() {
                    let enc: Vec<([i64; 3], &str)> = x
                        .inserted
                        .iter()
                        .map(|p| (payment_flags(p), p.kind.as_str()))
                        .collect();
                    let mut params: Vec<P<'_>> = Vec::new();
                    for (p, (f, k)) in x.inserted.iter().zip(&enc) {
                        params.extend(payment_params!(p, f, k, P<'_>));
                    }
                    client
                        .execute(&st[&format!("insert{}", x.inserted.len())], &params)
                        .await
                        .expect("INSERT payments");
                }
                client.batch_execute("COMMIT").await.expect("COMMIT");
            }
        }
        latencies.push(t.elapsed());
    }
    drop(client);
    let _ = driver.await;
    latencies
}
