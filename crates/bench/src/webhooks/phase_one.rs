//! Phase 1 of the `webhooks` scenario: fulfilment without and with a webhook endpoint, in
//! `--rounds` rounds on fresh copies of one store. Rounds alternate which side runs first
//! (without, with; with, without; …), so that a drift of the machine over the run (background
//! write-out, another process) weighs on both sides alike; the figures are the medians of the
//! rounds, and every round is printed. With `--split`, each round also fulfils on a third copy
//! with the endpoint but the worker started only after the load (the cost of writing the events
//! apart from that of delivering them on the same cores meanwhile).

use super::*;

/// What one run with the endpoint measured.
struct WithRun {
    rate: f64,
    deliveries: i64,
    drain: Option<Duration>,
    throughput: Option<f64>,
    ok: bool,
}

/// Runs phase 1 on copies of `base` (destroyed at the end).
pub(super) fn run(
    args: &WebhooksArgs,
    rt: &Runtimes,
    dir: &TempDir,
    base: FreshStore,
    units: &Units,
) -> FulfilFigures {
    println!();
    println!(
        "-- phase 1: fulfilment without and with a webhook endpoint ({} rounds) --",
        args.rounds
    );
    let mut base = base;
    let mut ok = true;
    let (mut withouts, mut withs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut deferreds, mut deferred_ratios) = (Vec::new(), Vec::new());
    let mut last: Option<WithRun> = None;
    for round in 0..args.rounds.max(1) {
        let (b, plain) = rt
            .server
            .block_on(base.duplicate(dir.path(), &format!("plain{round}")));
        let (b, hooked) = rt
            .server
            .block_on(b.duplicate(dir.path(), &format!("hooked{round}")));
        let (b, deferred) = if args.split {
            let (b, d) = rt
                .server
                .block_on(b.duplicate(dir.path(), &format!("deferred{round}")));
            (b, Some(d))
        } else {
            (b, None)
        };
        base = b;
        println!("round {}:", round + 1);
        let (without, with, deferred) = if round % 2 == 0 {
            let without = without_side(args, rt, plain, units);
            let with = with_side(args, rt, hooked, units);
            let d = deferred.map(|d| deferred_side(args, rt, d, units));
            (without, with, d)
        } else {
            let d = deferred.map(|d| deferred_side(args, rt, d, units));
            let with = with_side(args, rt, hooked, units);
            (without_side(args, rt, plain, units), with, d)
        };
        ok &= without.1 && with.ok;
        if let Some((d, checked)) = deferred {
            ok &= checked;
            let r = ratio(d, without.0);
            println!(
                "  round {}: fulfilments/s with endpoint, worker started after the load / \
                 without: {d:.0} / {:.0} = {r:.2}",
                round + 1,
                without.0
            );
            deferreds.push(d);
            deferred_ratios.push(r);
        }
        let r = ratio(with.rate, without.0);
        println!(
            "  round {}: fulfilments/s with/without endpoint: {:.0} / {:.0} = {r:.2}",
            round + 1,
            with.rate,
            without.0
        );
        withouts.push(without.0);
        withs.push(with.rate);
        ratios.push(r);
        last = Some(with);
    }
    rt.server.block_on(base.destroy());
    let median = crate::stats::median;
    let (without, with, r) = (median(&withouts), median(&withs), median(&ratios));
    println!(
        "fulfilments/s with/without endpoint, median of {} rounds: {with:.0} / {without:.0}; \
         median ratio {r:.2} (rounds: {}) (target ≥ 0.8: {})",
        ratios.len(),
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        if r >= 0.8 { "met" } else { "NOT met" }
    );
    let deferred = (!deferreds.is_empty()).then(|| {
        let (d, r) = (median(&deferreds), median(&deferred_ratios));
        println!(
            "fulfilments/s with endpoint, worker started after the load, median: {d:.0}; median \
             ratio to without {r:.2} (rounds: {})",
            deferred_ratios
                .iter()
                .map(|r| format!("{r:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        (d, r)
    });
    let last = last.expect("at least one round");
    FulfilFigures {
        without,
        with,
        ratio: r,
        deliveries: last.deliveries,
        drain: last.drain,
        throughput: last.throughput,
        deferred,
        ok,
    }
}

/// Fulfils every unit on a store without an endpoint (the worker running, with nothing to
/// do). Returns the rate and whether every fulfilment succeeded.
fn without_side(
    args: &WebhooksArgs,
    rt: &Runtimes,
    mut plain: FreshStore,
    units: &Units,
) -> (f64, bool) {
    allow_loopback(&mut plain);
    let serving = Serving::start(&rt.server, &plain.app, true);
    let (w, _, _) = fulfil_load(rt, &serving, units, args.connections);
    serving.stop();
    print_load("  without endpoint", &w, args.connections);
    rt.server.block_on(plain.destroy());
    (rate(w.succeeded, w.summary.elapsed), w.summary.errors == 0)
}

/// Fulfils every unit on a store with one endpoint subscribed to every event and the worker
/// delivering meanwhile, then waits for the receiver to have every delivery and checks them.
fn with_side(args: &WebhooksArgs, rt: &Runtimes, mut hooked: FreshStore, units: &Units) -> WithRun {
    let timeout = Duration::from_secs(args.drain_timeout_seconds);
    allow_loopback(&mut hooked);
    let receiver = rt.receiver.block_on(Receiver::start());
    add_endpoint(&rt.server, &hooked.app, &units.tenant, &receiver.url);
    let serving = Serving::start(&rt.server, &hooked.app, true);
    let (w, started, ended) = fulfil_load(rt, &serving, units, args.connections);
    let at_end = receiver.distinct();
    print_load("  with endpoint   ", &w, args.connections);
    let with = rate(w.succeeded, w.summary.elapsed);
    let mut ok = w.summary.errors == 0;
    let tenant = units.tenant.ctx.tenant_id.clone();
    let deliveries = rt
        .server
        .block_on(count_rows(&hooked.app, "webhook_deliveries", &tenant, ""));
    let expected = w.succeeded as usize * EVENTS_PER_FULFILMENT;
    println!(
        "  deliveries created: {deliveries} ({EVENTS_PER_FULFILMENT} per fulfilment: \
         {expected} expected: {}); the receiver had {at_end} ({:.1} %) when the last \
         fulfilment was answered",
        if deliveries == expected as i64 {
            "ok"
        } else {
            "MISMATCH"
        },
        100.0 * at_end as f64 / (deliveries.max(1) as f64)
    );
    ok &= deliveries == expected as i64;
    let last = receiver.wait_for(deliveries as usize, timeout);
    let (drain, throughput) = match last {
        Some(last) => {
            let drain = last.saturating_duration_since(ended);
            let span = last.duration_since(started);
            let tp = rate(deliveries as u64, span);
            println!(
                "  drain: the receiver had all {deliveries} deliveries {:.2} s after the \
                 last fulfilment was answered",
                drain.as_secs_f64()
            );
            println!(
                "  delivery throughput: {deliveries} deliveries in {:.2} s from the first \
                 fulfilment sent to the last delivery received = {tp:.0} deliveries/s",
                span.as_secs_f64()
            );
            (Some(drain), Some(tp))
        }
        None => {
            println!(
                "  drain: NOT complete after {} s: {} of {deliveries} received",
                timeout.as_secs(),
                receiver.distinct()
            );
            (None, None)
        }
    };
    print_lags(
        "  lag (arrival − event timestamp) under full load",
        &receiver,
    );
    ok &= check_deliveries(&rt.server, &hooked.app, &tenant, &receiver);
    serving.stop();
    receiver.stop();
    rt.server.block_on(hooked.destroy());
    WithRun {
        rate: with,
        deliveries,
        drain,
        throughput,
        ok,
    }
}
