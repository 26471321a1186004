//! The PostgreSQL half of the raw jobs baseline: tokio-postgres, one connection, two
//! transactions.

use super::*;

/// Writes every change into the PostgreSQL database at `url` over one tokio-postgres connection
/// (its own single-threaded runtime on a thread of its own, statements prepared before the clock):
/// the contract-end changes in one `BEGIN … COMMIT`, the late fees in another. Returns the time
/// from the first `BEGIN` to the last `COMMIT`. Blocks.
pub fn postgres_run(url: &str, w: &RawJobs) -> Duration {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("raw PostgreSQL runtime")
                .block_on(postgres_async(url, w))
        })
        .join()
        .expect("raw PostgreSQL thread")
    })
}

async fn postgres_async(url: &str, w: &RawJobs) -> Duration {
    type P<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    let driver = tokio::spawn(conn);
    let sql = JobSql::new(true);
    let prep = |s: &str| {
        let (client, s) = (&client, s.to_string());
        async move { client.prepare(&s).await.expect("prepare") }
    };
    let st_payment = prep(&sql.payment).await;
    let st_end = prep(&sql.end_sub).await;
    let st_renew = prep(&sql.renew_sub).await;
    let st_customer = prep(&sql.customer).await;
    let st_asset = prep(&sql.asset_returned).await;
    let st_close = prep(&sql.close_assignment).await;
    let st_event = prep(&sql.event).await;
    let st_late = prep(&sql.late_fee).await;
    let mut st_cancel = HashMap::new();
    for item in &w.work {
        if let SubWork::Ending(e) = item
            && !e.cancel.is_empty()
            && !st_cancel.contains_key(&e.cancel.len())
        {
            st_cancel.insert(e.cancel.len(), prep(&sql.cancel(e.cancel.len())).await);
        }
    }
    let t = w.tenant_id.as_str();
    let now = w.now;
    let started = Instant::now();
    client.batch_execute("BEGIN").await.expect("BEGIN");
    for item in &w.work {
        let mut inserts: Vec<&PaymentRecord> = Vec::new();
        let mut events: Vec<&SubscriptionEvent> = Vec::new();
        match item {
            SubWork::Holdover(rows) => inserts.extend(rows),
            SubWork::Ending(e) => {
                if !e.cancel.is_empty() {
                    let mut params: Vec<P<'_>> = vec![&ENDED_NOTE, &now, &t];
                    params.extend(e.cancel.iter().map(|x| x as P<'_>));
                    client
                        .execute(&st_cancel[&e.cancel.len()], &params)
                        .await
                        .expect("cancel payments");
                }
                client
                    .execute(
                        &st_end,
                        &[&e.ended_on, &e.months_rented, &now, &t, &e.rental_id],
                    )
                    .await
                    .expect("UPDATE subscription");
                let zero = 0i64;
                let minus = -1i64;
                let revenue = -e.monthly_amount;
                client
                    .execute(
                        &st_customer,
                        &[
                            &zero,
                            &minus,
                            &revenue,
                            &zero,
                            &zero,
                            &zero,
                            &now,
                            &t,
                            &e.customer_id,
                        ],
                    )
                    .await
                    .expect("UPDATE customer");
                if let Some(serial) = &e.asset {
                    client
                        .execute(&st_asset, &[&now, &t, serial])
                        .await
                        .expect("UPDATE asset");
                }
                client
                    .execute(&st_close, &[&e.assigned_to, &t, &e.rental_id, &e.serial])
                    .await
                    .expect("close assignment");
                events.push(&e.event);
            }
            SubWork::Renewals(rs) => {
                for r in rs {
                    for p in &r.payments {
                        insert_pg(&client, &st_payment, p).await;
                    }
                    client
                        .execute(
                            &st_renew,
                            &[
                                &r.contract_length,
                                &r.end_date,
                                &r.monthly_amount,
                                &now,
                                &t,
                                &r.rental_id,
                            ],
                        )
                        .await
                        .expect("UPDATE subscription");
                    append_pg(&client, &st_event, &r.event).await;
                }
            }
        }
        for p in inserts {
            insert_pg(&client, &st_payment, p).await;
        }
        for e in events {
            append_pg(&client, &st_event, e).await;
        }
    }
    client.batch_execute("COMMIT").await.expect("COMMIT");
    client.batch_execute("BEGIN").await.expect("BEGIN");
    for (id, fee) in &w.late_fees {
        client
            .execute(&st_late, &[fee, &now, &t, id])
            .await
            .expect("late fee");
    }
    client.batch_execute("COMMIT").await.expect("COMMIT");
    let elapsed = started.elapsed();
    drop(client);
    let _ = driver.await;
    elapsed
}

async fn insert_pg(
    client: &tokio_postgres::Client,
    st: &tokio_postgres::Statement,
    p: &PaymentRecord,
) {
    type P<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
    let f = payment_flags(p);
    let k = p.kind.as_str();
    let params: [P<'_>; PAYMENT_COLUMN_COUNT] = payment_params!(p, f, &k, P<'_>);
    client.execute(st, &params).await.expect("INSERT payment");
}

async fn append_pg(
    client: &tokio_postgres::Client,
    st: &tokio_postgres::Statement,
    e: &SubscriptionEvent,
) {
    client
        .execute(
            st,
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
