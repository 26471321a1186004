//! The SQLite half of the raw lifecycle baseline: rusqlite connections with the store's pragmas.

use super::*;

/// Commits every action in its own `BEGIN IMMEDIATE … COMMIT` on one connection to the SQLite
/// file at `path` (opened with the pragmas of the store's writer). With `full_rows` (a
/// diagnostic), the subscription and asset updates write every column the store's
/// `subscriptions::update` / `assets::update` write instead of only those that change. Blocks.
pub fn sqlite_writes(path: &Path, actions: &[RawAction], full_rows: bool) -> RawRun {
    type P<'a> = &'a dyn rusqlite::ToSql;
    let conn = crate::raw_jobs::sqlite_writer(path);
    let sql = ActionSql::new(false);
    let (sub_full, asset_full) = full_row_sql();
    let mut latencies = Vec::with_capacity(actions.len());
    let started = Instant::now();
    for x in actions {
        let t = Instant::now();
        let tenant = x.tenant_id.as_str();
        conn.execute_batch("BEGIN IMMEDIATE").expect("BEGIN");
        if !x.cancelled.is_empty() {
            let mut params: Vec<P<'_>> = vec![&x.cancel_notes, &x.now, &tenant];
            params.extend(x.cancelled.iter().map(|s| s as P<'_>));
            conn.prepare_cached(&sql.cancel(x.cancelled.len()))
                .expect("prepare cancel")
                .execute(&params[..])
                .expect("cancel payments");
        }
        if full_rows {
            let s = &x.after;
            let billing = s.billing.to_json();
            let params: [P<'_>; 36] = [
                &s.order_item_index,
                &s.customer_id,
                &s.customer_email,
                &s.customer_name,
                &s.asset_serial_number,
                &s.sku,
                &s.variant_id,
                &s.product_id,
                &s.product_name,
                &s.product_image_url,
                &s.monthly_amount,
                &s.currency,
                &s.status,
                &s.billing_group_id,
                &s.original_contract_length,
                &s.contract_length,
                &s.start_date,
                &s.end_date,
                &s.anchor_date,
                &billing,
                &s.last_modified_date,
                &s.list_price,
                &s.list_price_source,
                &s.acquisition_cost,
                &s.acquisition_cost_source,
                &s.captured_at,
                &s.custom_fields,
                &s.notes,
                &s.upgrade_from_rental_id,
                &s.updated_at,
                &s.ended_on,
                &s.months_rented,
                &s.months_saved,
                &s.pending_upgrade_order_id,
                &tenant,
                &s.rental_id,
            ];
            conn.prepare_cached(&sub_full)
                .expect("prepare full subscription update")
                .execute(&params[..])
                .expect("UPDATE subscription");
        } else {
            sqlite_sub_update(&conn, &sql, x);
        }
        if let Some((customer, d)) = &x.customer {
            conn.prepare_cached(&sql.customer)
                .expect("prepare customer")
                .execute(rusqlite::params![
                    d[0], d[1], d[2], d[3], d[4], d[5], x.now, tenant, customer
                ])
                .expect("UPDATE customer");
        }
        for a in &x.assets {
            if full_rows {
                conn.prepare_cached(&asset_full)
                    .expect("prepare full asset update")
                    .execute(rusqlite::params![
                        a.status,
                        a.location,
                        a.condition,
                        a.notes,
                        a.customer_id,
                        a.rental_id,
                        a.acquisition_cost,
                        a.acquisition_cost_source,
                        a.acquisition_date,
                        a.updated_at,
                        tenant,
                        a.serial_number
                    ])
                    .expect("UPDATE asset");
                continue;
            }
            conn.prepare_cached(&sql.asset)
                .expect("prepare asset")
                .execute(rusqlite::params![
                    a.status,
                    a.customer_id,
                    a.rental_id,
                    a.condition,
                    a.notes,
                    a.updated_at,
                    tenant,
                    a.serial_number
                ])
                .expect("UPDATE asset");
        }
        sqlite_rest(&conn, &sql, x);
        conn.execute_batch("COMMIT").expect("COMMIT");
        latencies.push(t.elapsed());
    }
    RawRun {
        elapsed: started.elapsed(),
        latencies,
    }
}

/// The subscription update of `x` with only the columns that change.
fn sqlite_sub_update(conn: &rusqlite::Connection, sql: &ActionSql, x: &RawAction) {
    let tenant = x.tenant_id.as_str();
    match &x.sub {
        SubChange::Extend {
            contract_length,
            end_date,
            monthly_amount,
        } => conn
            .prepare_cached(&sql.extend)
            .expect("prepare")
            .execute(rusqlite::params![
                contract_length,
                end_date,
                monthly_amount,
                x.now,
                tenant,
                x.rental_id
            ]),
        SubChange::Replace { serial } => conn
            .prepare_cached(&sql.replace)
            .expect("prepare")
            .execute(rusqlite::params![serial, x.now, tenant, x.rental_id]),
        SubChange::Ending {
            status,
            ended_on,
            months_rented,
            months_saved,
        } => conn
            .prepare_cached(&sql.ending)
            .expect("prepare")
            .execute(rusqlite::params![
                status,
                ended_on,
                months_rented,
                months_saved,
                x.now,
                tenant,
                x.rental_id
            ]),
    }
    .expect("UPDATE subscription");
}

/// The assignments, events and payment inserts of `x`.
fn sqlite_rest(conn: &rusqlite::Connection, sql: &ActionSql, x: &RawAction) {
    type P<'a> = &'a dyn rusqlite::ToSql;
    let tenant = x.tenant_id.as_str();
    for (serial, to) in &x.closed {
        conn.prepare_cached(&sql.close)
            .expect("prepare close")
            .execute(rusqlite::params![to, tenant, x.rental_id, serial])
            .expect("close assignment");
    }
    for (serial, from) in &x.opened {
        conn.prepare_cached(&sql.open)
            .expect("prepare open")
            .execute(rusqlite::params![tenant, x.rental_id, serial, from, x.now])
            .expect("open assignment");
    }
    for e in &x.events {
        conn.prepare_cached(&sql.event)
            .expect("prepare event")
            .execute(rusqlite::params![
                e.tenant_id,
                e.rental_id,
                e.event_id,
                e.kind.as_str(),
                e.actor,
                e.details,
                e.created_at
            ])
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
        conn.prepare_cached(&Sql::payments(x.inserted.len(), false))
            .expect("prepare INSERT payments")
            .execute(&params[..])
            .expect("INSERT payments");
    }
}

/// Runs the two reads of calculate-buyout for every subscription of `ids` from `threads` threads,
/// each with its own connection to the SQLite file at `path` (the pragmas of the store's readers),
/// each taking the next id from a shared counter; every column of every row is read. Blocks.
pub fn sqlite_reads(path: &Path, tenant: &str, ids: &[String], threads: usize) -> RawRun {
    let next = AtomicUsize::new(0);
    let ready = Barrier::new(threads + 1);
    let sql = ActionSql::new(false);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (next, ready, sql) = (&next, &ready, &sql);
                s.spawn(move || {
                    let conn = rusqlite::Connection::open(path).expect("open");
                    conn.execute_batch(
                        "PRAGMA busy_timeout=5000; PRAGMA cache_size=-16384; \
                         PRAGMA mmap_size=4294967296;",
                    )
                    .expect("pragmas");
                    let mut lat = Vec::new();
                    ready.wait();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(id) = ids.get(i) else { break };
                        let t = Instant::now();
                        let mut cells = 0usize;
                        for q in [&sql.read_sub, &sql.read_payments] {
                            let mut st = conn.prepare_cached(q).expect("prepare read");
                            let n = st.column_count();
                            let mut rows = st.query(rusqlite::params![tenant, id]).expect("read");
                            while let Some(r) = rows.next().expect("row") {
                                for c in 0..n {
                                    if r.get_ref(c).is_ok() {
                                        cells += 1;
                                    }
                                }
                            }
                        }
                        assert!(cells > 0, "subscription {id} read");
                        lat.push(t.elapsed());
                    }
                    lat
                })
            })
            .collect();
        ready.wait();
        let started = Instant::now();
        let mut latencies = Vec::new();
        for h in handles {
            latencies.extend(h.join().expect("reader thread"));
        }
        RawRun {
            elapsed: started.elapsed(),
            latencies,
        }
    })
}
