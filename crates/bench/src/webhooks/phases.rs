//! The phases of the `webhooks` scenario (see the parent module's documentation): fulfilment
//! with and without an endpoint and the queue's delivery (1, 2), the lag under paced load (3),
//! and the cost of idempotency keys (4).

use super::*;

/// Phases 1 and 2 (see the module documentation).
pub(super) fn fulfil_phases(
    args: &WebhooksArgs,
    rt: &Runtimes,
    dir: &TempDir,
) -> (Option<FulfilFigures>, Option<QueueFigures>) {
    let n = args.fulfilments;
    let timeout = Duration::from_secs(args.drain_timeout_seconds);
    let (one, two) = (args.phases.contains(&1), args.phases.contains(&2));
    eprintln!("setup (fulfilment stores):");
    let base = rt
        .server
        .block_on(FreshStore::create(args.engine, dir.path(), "plain"));
    let units = rt.server.block_on(fulfil::prepare_units(
        &base.app,
        dir.path(),
        n,
        args.customers,
        args.seed,
        8,
    ));
    println!(
        "dataset: {n} available assets, {n} pending one-unit orders ({CONTRACT_MONTHS} months) of \
         {} customers, copied into each store",
        units.customers
    );
    let (base, queued) = if two {
        let (b, q) = rt.server.block_on(base.duplicate(dir.path(), "queued"));
        (b, Some(q))
    } else {
        (base, None)
    };
    let first = if one {
        Some(phase_one::run(args, rt, dir, base, &units))
    } else {
        rt.server.block_on(base.destroy());
        None
    };

    let mut second = None;
    if let Some(mut queued) = queued {
        println!();
        println!("-- phase 2: delivering a queue (worker started after the fulfilments) --");
        allow_loopback(&mut queued);
        let receiver = rt.receiver.block_on(Receiver::start());
        add_endpoint(&rt.server, &queued.app, &units.tenant, &receiver.url);
        let ctx = key_context(&units.tenant);
        let pairs = units.order_serial_pairs();
        eprintln!("setup (queue): {n} fulfilments through the use case, no worker running");
        let took = rt.server.block_on(fulfil::fulfil_direct(
            &queued.app,
            &ctx,
            Arc::new(pairs),
            args.connections,
        ));
        let tenant = ctx.tenant_id.clone();
        let q = rt
            .server
            .block_on(count_rows(&queued.app, "webhook_deliveries", &tenant, ""));
        println!(
            "queued: {q} deliveries of {n} fulfilments (made in {:.2} s, {:.0}/s, with no \
             worker); receiver got {} before the worker started",
            took.as_secs_f64(),
            rate(n as u64, took),
            receiver.distinct()
        );
        let started = Instant::now();
        let worker = {
            let _guard = rt.server.enter();
            delivery::spawn_worker(queued.app.clone())
        };
        let last = receiver.wait_for(q as usize, timeout);
        let took = last.map(|l| l.duration_since(started));
        match took {
            Some(t) => println!(
                "delivery alone: {q} deliveries in {:.2} s from the worker's start to the last \
                 received = {:.0} deliveries/s",
                t.as_secs_f64(),
                rate(q as u64, t)
            ),
            None => println!(
                "delivery alone: NOT complete after {} s: {} of {q} received",
                timeout.as_secs(),
                receiver.distinct()
            ),
        }
        let mut ok = q == (n * EVENTS_PER_FULFILMENT) as i64;
        ok &= check_deliveries(&rt.server, &queued.app, &tenant, &receiver);
        worker.abort();
        receiver.stop();
        rt.server.block_on(queued.destroy());
        second = Some(QueueFigures {
            queued: q,
            took,
            ok,
        });
    }
    (first, second)
}

// ---------------------------------------------------------------------------------------------
// Phase 3: lag under paced load.

/// What a paced (open-loop) run measured.
struct Paced {
    /// Response times from each request's scheduled instant to the end of its answer.
    summary: Summary,
    succeeded: u64,
    first_error: Option<String>,
    /// Connections opened beyond the initial pool (all were busy at a scheduled instant).
    extra_connections: usize,
    /// The latest a request started after its scheduled instant.
    max_behind: Duration,
}

/// Sends `posts[i]` at `start + i / rate`, each on a free connection of the pool (a new one
/// when all are busy), without waiting for answers; an answer other than 201 is an error.
async fn paced(target: Arc<Target>, posts: Arc<Vec<Post>>, per_second: f64, pool: usize) -> Paced {
    let mut opened = Vec::with_capacity(pool);
    for _ in 0..pool {
        opened.push(Connection::open(target.clone()).await.expect("connect"));
    }
    let pool = Arc::new(Mutex::new(opened));
    let extra = Arc::new(AtomicUsize::new(0));
    let interval = Duration::from_secs_f64(1.0 / per_second);
    let start = Instant::now() + Duration::from_millis(10);
    let mut tasks = tokio::task::JoinSet::new();
    let mut max_behind = Duration::ZERO;
    for i in 0..posts.len() {
        let at = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(at.into()).await;
        max_behind = max_behind.max(Instant::now().saturating_duration_since(at));
        let (target, posts, pool, extra) =
            (target.clone(), posts.clone(), pool.clone(), extra.clone());
        tasks.spawn(async move {
            let free = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut conn = match free {
                Some(c) => c,
                None => {
                    extra.fetch_add(1, Ordering::Relaxed);
                    match Connection::open(target).await {
                        Ok(c) => c,
                        Err(e) => return (at.elapsed(), Err(format!("connect: {e}"))),
                    }
                }
            };
            let p = &posts[i];
            match conn.post_json(&p.path, p.body.clone()).await {
                Ok(a) => {
                    let took = at.elapsed();
                    pool.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
                    if a.status == StatusCode::CREATED {
                        (took, Ok(()))
                    } else {
                        let body = String::from_utf8_lossy(&a.body).into_owned();
                        (took, Err(format!("{} {body}", a.status)))
                    }
                }
                Err(e) => (at.elapsed(), Err(format!("transport: {e}"))),
            }
        });
    }
    let mut latencies = Vec::with_capacity(posts.len());
    let (mut errors, mut succeeded, mut first_error) = (0, 0, None);
    while let Some(r) = tasks.join_next().await {
        let (took, outcome) = r.expect("paced request task");
        latencies.push(took);
        match outcome {
            Ok(()) => succeeded += 1,
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    Paced {
        summary: Summary::from_latencies(latencies, errors, start.elapsed()),
        succeeded,
        first_error,
        extra_connections: extra.load(Ordering::Relaxed),
        max_behind,
    }
}

/// Phase 3 (see the module documentation).
pub(super) fn lag_phase(args: &WebhooksArgs, rt: &Runtimes, dir: &TempDir) -> LagFigures {
    let n = ((args.rate * args.paced_seconds as f64).round() as usize).max(1);
    println!();
    println!(
        "-- phase 3: commit-to-delivery lag, {n} fulfilments paced at {} /s for {} s --",
        args.rate, args.paced_seconds
    );
    eprintln!("setup (paced store):");
    let mut store = rt
        .server
        .block_on(FreshStore::create(args.engine, dir.path(), "paced"));
    allow_loopback(&mut store);
    let units = rt.server.block_on(fulfil::prepare_units(
        &store.app,
        dir.path(),
        n,
        args.customers,
        args.seed,
        8,
    ));
    let receiver = rt.receiver.block_on(Receiver::start());
    add_endpoint(&rt.server, &store.app, &units.tenant, &receiver.url);
    let serving = Serving::start(&rt.server, &store.app, true);
    let target = Arc::new(Target::new(
        serving.server.addr,
        auth_headers(&units.tenant),
    ));
    let posts = Arc::new(fulfil_posts(&units));
    let p = rt
        .client
        .block_on(paced(target, posts, args.rate, args.connections));
    let ended = Instant::now();
    let s = &p.summary;
    let sent_rate = rate(n as u64, s.elapsed);
    println!(
        "paced POST /v1/subscriptions: {} created (201), {} errors in {:.2} s ({sent_rate:.1}/s \
         sent); response time from the scheduled instant p50 {} ms, p99 {} ms, max {} ms; \
         {} connections opened beyond the pool of {}; sends at most {} ms behind schedule",
        p.succeeded,
        s.errors,
        s.elapsed.as_secs_f64(),
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        p.extra_connections,
        args.connections,
        ms(p.max_behind)
    );
    if let Some(e) = &p.first_error {
        println!("  first error: {e}");
    }
    let tenant = units.tenant.ctx.tenant_id.clone();
    let deliveries = rt
        .server
        .block_on(count_rows(&store.app, "webhook_deliveries", &tenant, ""));
    let at_end = receiver.distinct();
    let last = receiver.wait_for(
        deliveries as usize,
        Duration::from_secs(args.drain_timeout_seconds),
    );
    let mut ok = p.summary.errors == 0
        && deliveries == (p.succeeded as usize * EVENTS_PER_FULFILMENT) as i64
        && last.is_some();
    println!(
        "  deliveries: {deliveries} created; {at_end} received when the last fulfilment was \
         answered; {}",
        match last {
            Some(l) => format!(
                "all received {:.2} s after it",
                l.saturating_duration_since(ended).as_secs_f64()
            ),
            None => format!("NOT all received: {} of {deliveries}", receiver.distinct()),
        }
    );
    let (sorted, unreadable) = print_lags(
        "lag under paced load (arrival wall time − envelope timestamp)",
        &receiver,
    );
    ok &= unreadable == 0;
    ok &= check_deliveries(&rt.server, &store.app, &tenant, &receiver);
    serving.stop();
    receiver.stop();
    rt.server.block_on(store.destroy());
    LagFigures {
        fulfilments: p.succeeded,
        sent_rate,
        p50: percentile(&sorted, 50.0),
        p99: percentile(&sorted, 99.0),
        max: sorted.last().copied().unwrap_or(Duration::ZERO),
        ok,
    }
}

// ---------------------------------------------------------------------------------------------
// Phase 4: Idempotency-Key on POST /v1/orders.

/// A keep-alive HTTP/1.1 connection sending `POST`s with an optional `Idempotency-Key` (the
/// load generator's connections carry the same headers on every request).
struct KeyedConnection {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

/// One answer of a [`KeyedConnection`].
struct KeyedAnswer {
    status: StatusCode,
    body: Bytes,
    latency: Duration,
    replayed: bool,
}

impl KeyedConnection {
    /// Opens a connection to `addr` (loopback only; TCP_NODELAY, HTTP/1.1 handshake).
    async fn open(addr: SocketAddr) -> Result<KeyedConnection, AnyError> {
        assert!(addr.ip().is_loopback(), "load is only sent to loopback");
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(KeyedConnection {
            sender,
            host: HeaderValue::from_str(&addr.to_string())?,
        })
    }

    /// Sends `POST path` with a JSON body, `headers` and `key`, and reads the whole answer.
    async fn post(
        &mut self,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        key: Option<&HeaderValue>,
        body: Bytes,
    ) -> Result<KeyedAnswer, AnyError> {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let req = req.body(Full::new(body))?;
        self.sender.ready().await?;
        let started = Instant::now();
        let resp = self.sender.send_request(req).await?;
        let status = resp.status();
        let replayed = resp.headers().contains_key("idempotent-replayed");
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(KeyedAnswer {
            status,
            body,
            latency: started.elapsed(),
            replayed,
        })
    }
}

/// One createOrder request: its body and, for the keyed side, its key.
struct OrderPost {
    body: Bytes,
    key: Option<HeaderValue>,
}

/// Sends every order once over `connections` connections, each taking the next from a shared
/// counter (as [`loadgen::work_queue`]); an answer other than 201 is an error.
async fn order_queue(
    addr: SocketAddr,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
    posts: Arc<Vec<OrderPost>>,
    connections: usize,
) -> WorkSummary {
    let mut opened = Vec::with_capacity(connections);
    for _ in 0..connections {
        opened.push(KeyedConnection::open(addr).await.expect("connect"));
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut conn in opened {
        let (headers, posts, next) = (headers.clone(), posts.clone(), next.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let (mut errors, mut succeeded, mut first_error) = (0u64, 0u64, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = posts.get(i) else { break };
                match conn
                    .post("/v1/orders", &headers, p.key.as_ref(), p.body.clone())
                    .await
                {
                    Ok(a) => {
                        latencies.push(a.latency);
                        if a.status == StatusCode::CREATED {
                            succeeded += 1;
                        } else {
                            errors += 1;
                            first_error.get_or_insert_with(|| {
                                format!("{} {}", a.status, String::from_utf8_lossy(&a.body))
                            });
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("transport: {e}"));
                        match KeyedConnection::open(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            (latencies, errors, succeeded, first_error)
        });
    }
    let (mut latencies, mut errors, mut succeeded, mut first_error) = (Vec::new(), 0, 0, None);
    while let Some(r) = tasks.join_next().await {
        let (l, e, s, f) = r.expect("order task");
        latencies.extend(l);
        errors += e;
        succeeded += s;
        if first_error.is_none() {
            first_error = f;
        }
    }
    WorkSummary {
        summary: Summary::from_latencies(latencies, errors, started.elapsed()),
        succeeded,
        first_error,
    }
}

/// What every side of phase 4 shares.
struct KeyLoad {
    bodies: Vec<Bytes>,
    run_id: String,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
    tenant_id: String,
}

/// One side of phase 4 on `store` (destroyed at the end): the orders without or with keys (keys
/// unique to the side), the rows checked, and with keys the first request replayed. Returns the
/// rate and whether the checks passed.
fn key_side(
    args: &WebhooksArgs,
    rt: &Runtimes,
    load: &KeyLoad,
    store: FreshStore,
    keyed: bool,
    round: usize,
) -> (f64, bool) {
    let m = args.orders;
    let label = if keyed { "with key   " } else { "without key" };
    let posts: Vec<OrderPost> = load
        .bodies
        .iter()
        .enumerate()
        .map(|(i, b)| OrderPost {
            body: b.clone(),
            key: keyed.then(|| {
                HeaderValue::from_str(&format!("bench-{}-{round}-order-{i:07}", load.run_id))
                    .expect("key is a header value")
            }),
        })
        .collect();
    let posts = Arc::new(posts);
    let serving = Serving::start(&rt.server, &store.app, true);
    let addr = serving.server.addr;
    let headers = &load.headers;
    let w = rt.client.block_on(order_queue(
        addr,
        headers.clone(),
        posts.clone(),
        args.connections,
    ));
    let s = &w.summary;
    let r = rate(w.succeeded, s.elapsed);
    println!(
        "  {label} (POST /v1/orders, {} connections): {} created (201), {} errors in {:.2} s \
         = {r:.0} orders/s; p50 {} ms, p99 {} ms",
        args.connections,
        w.succeeded,
        s.errors,
        s.elapsed.as_secs_f64(),
        ms(s.p50),
        ms(s.p99)
    );
    if let Some(e) = &w.first_error {
        println!("    first error: {e}");
    }
    let tenant_id = &load.tenant_id;
    let orders = rt
        .server
        .block_on(count_rows(&store.app, "orders", tenant_id, ""));
    let keys = rt.server.block_on(count_rows(
        &store.app,
        "idempotency_keys",
        tenant_id,
        "AND status_code = 201",
    ));
    let want_keys = if keyed { m as i64 } else { 0 };
    let mut side_ok = w.summary.errors == 0 && orders == m as i64 && keys == want_keys;
    let replay = if keyed {
        // The first order's request again, with its key: answered from the stored response.
        let p = &posts[0];
        let a = rt.client.block_on(async {
            let mut c = KeyedConnection::open(addr).await.expect("connect");
            c.post("/v1/orders", headers, p.key.as_ref(), p.body.clone())
                .await
                .expect("replayed request")
        });
        let after = rt
            .server
            .block_on(count_rows(&store.app, "orders", tenant_id, ""));
        let replayed = a.status == StatusCode::CREATED && a.replayed && after == orders;
        side_ok &= replayed;
        format!(
            "; the first key sent again: {} with Idempotent-Replayed {}, {} orders after it \
             ({})",
            a.status.as_u16(),
            a.replayed,
            after,
            if replayed { "ok" } else { "MISMATCH" }
        )
    } else {
        String::new()
    };
    println!(
        "    check: {orders} orders, {keys} keys stored with their 201 response{replay}: {}",
        if side_ok { "ok" } else { "MISMATCH" }
    );
    serving.stop();
    rt.server.block_on(store.destroy());
    (r, side_ok)
}

/// Phase 4 (see the module documentation): `--rounds` rounds on fresh copies of one store,
/// alternating which side goes first; the figures are the medians.
pub(super) fn key_phase(args: &WebhooksArgs, rt: &Runtimes, dir: &TempDir) -> KeyFigures {
    let m = args.orders;
    println!();
    println!(
        "-- phase 4: POST /v1/orders without and with an Idempotency-Key, {m} orders each ({} \
         rounds) --",
        args.rounds.max(1)
    );
    eprintln!("setup (order stores):");
    let store = rt
        .server
        .block_on(FreshStore::create(args.engine, dir.path(), "orders"));
    let tenant = rt.server.block_on(dataset::create_tenant(&store.app));
    let (products, variants) = rt
        .server
        .block_on(dataset::create_catalog(&store.app, &tenant.ctx));
    let skus: Vec<String> = (0..m)
        .map(|i| variants[i % variants.len()].sku.clone())
        .collect();
    let customers = args.customers.clamp(1, m.max(1));
    let owner = fulfil::assign_customers(&skus, customers);
    println!(
        "dataset: {products} products, {} variants (no assets); {m} one-unit {CONTRACT_MONTHS}-month \
         orders of {customers} customers, no (customer, SKU) twice",
        variants.len()
    );
    let load = KeyLoad {
        bodies: (0..m)
            .map(|i| Bytes::from(fulfil::order_body(owner[i], &skus[i]).to_string()))
            .collect(),
        run_id: flexportal_domain::ids::random_token(8),
        headers: Arc::new(auth_headers(&tenant)),
        tenant_id: tenant.ctx.tenant_id.clone(),
    };
    let mut base = store;
    let (mut withouts, mut withs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut ok = true;
    for round in 0..args.rounds.max(1) {
        let (b, plain) = rt
            .server
            .block_on(base.duplicate(dir.path(), &format!("plain-orders{round}")));
        let (b, keyed) = rt
            .server
            .block_on(b.duplicate(dir.path(), &format!("keyed-orders{round}")));
        base = b;
        println!("round {}:", round + 1);
        let ((without, a), (with, b)) = if round % 2 == 0 {
            let without = key_side(args, rt, &load, plain, false, round);
            (without, key_side(args, rt, &load, keyed, true, round))
        } else {
            let with = key_side(args, rt, &load, keyed, true, round);
            (key_side(args, rt, &load, plain, false, round), with)
        };
        ok &= a && b;
        let r = ratio(with, without);
        println!(
            "  round {}: orders/s with/without Idempotency-Key: {with:.0} / {without:.0} = {r:.2}",
            round + 1
        );
        withouts.push(without);
        withs.push(with);
        ratios.push(r);
    }
    rt.server.block_on(base.destroy());
    let median = crate::stats::median;
    let (without, with, r) = (median(&withouts), median(&withs), median(&ratios));
    let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "orders/s with/without Idempotency-Key, median of {} rounds: {with:.0} / {without:.0}; \
         median ratio {r:.2} (rounds: {}) (target ≥ 0.8: {})",
        ratios.len(),
        listed.join(", "),
        if r >= 0.8 { "met" } else { "NOT met" }
    );
    KeyFigures {
        without,
        with,
        ratio: r,
        ok,
    }
}
