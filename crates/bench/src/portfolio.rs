//! Scenario `portfolio`: the portfolio report (`flexportal_app::reports::portfolio`, what
//! `GET /v1/reports/portfolio` and `flexportal report portfolio` run) over a business unit with
//! `--subscriptions` active 36-month subscriptions (the `jobs` dataset: 36 payments each, 30 %
//! past their end, half as many overdue payments as subscriptions) and `--assets` assets in all
//! (the rest imported as `available`). Measured: the time of `--calls` calls, and the peak
//! resident set while they run. Run it at two sizes to see how the time grows.

use std::time::Instant;

use crate::Engine;
use crate::jobs::{self, Behaviour, JobsArgs};
use crate::store::{FreshStore, TempDir};
use crate::{catalog, dataset, import, rss};

/// Options of the `portfolio` scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct PortfolioArgs {
    /// Storage engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    /// Active subscriptions (36 payments each).
    #[arg(long, default_value_t = 30_000)]
    pub subscriptions: usize,
    /// Assets in all (at least one per subscription).
    #[arg(long, default_value_t = 100_000)]
    pub assets: usize,
    /// Calls of the report.
    #[arg(long, default_value_t = 5)]
    pub calls: usize,
    /// Seed of the dataset generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Report on an existing store (`sqlite://…` or `postgres://…`, for example a dataset kept
    /// with `FLEXPORTAL_BENCH_KEEP=1`) instead of building one: its first business unit. Pending
    /// migrations are applied first, and one unmeasured call precedes the measured ones.
    #[arg(long)]
    pub store: Option<String>,
}

/// Runs the scenario and prints its figures.
pub fn run(args: PortfolioArgs) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let today = flexportal_domain::time::today_in(
        "Europe/Amsterdam",
        flexportal_app::Clock::now_millis(&flexportal_app::SystemClock),
    );
    if let Some(url) = &args.store {
        println!(
            "== portfolio: existing store {url} (load average {}) ==",
            crate::load_average()
        );
    } else {
        println!(
            "== portfolio: engine {}, {} subscriptions × 36 payments, {} assets (load average {}) ==",
            args.engine.name(),
            args.subscriptions,
            args.assets.max(args.subscriptions),
            crate::load_average()
        );
    }
    rt.block_on(async move {
        if let Some(url) = &args.store {
            let store = FreshStore::open(url.clone(), None).await;
            let ctx = store.first_unit().await;
            // One unmeasured call, so the measured ones start from pages the first one read.
            flexportal_app::reports::portfolio(&store.app, &ctx, Some(today))
                .await
                .expect("portfolio");
            measure(&store.app, &ctx, today, args.calls).await;
            return;
        }
        let dir = TempDir::new();
        let store = FreshStore::create(args.engine, dir.path(), "portfolio").await;
        let app = store.app.clone();
        let jargs = JobsArgs {
            engine: args.engine,
            subscriptions: args.subscriptions,
            per_customer: 10,
            overdue: None,
            runs: 1,
            behaviour: Behaviour::RequireAction,
            as_of: None,
            setup_tasks: None,
            seed: args.seed,
        };
        let t = Instant::now();
        let data = jobs::build(&app, dir.path(), &jargs, &today.to_string()).await;
        let ctx = data.tenant.ctx.clone();
        let extra = args.assets.saturating_sub(args.subscriptions) as u64;
        if extra > 0 {
            let (_, specs) = catalog::catalog();
            let csv = dataset::write_assets_csv(
                &dir.path().join("extra.csv"),
                extra,
                &specs,
                args.seed + 1,
                100,
            );
            let (s, took) = import::timed_import(&app, &ctx, &csv).await;
            eprintln!(
                "  {} more assets imported in {:.1} s",
                s.created,
                took.as_secs_f64()
            );
        }
        for table in ["subscriptions", "payments", "assets", "customers"] {
            app.db.analyze(table).await.expect("ANALYZE");
        }
        println!("setup {:.0} s", t.elapsed().as_secs_f64());
        measure(&app, &ctx, today, args.calls).await;
        store.destroy().await;
    });
}

/// Times `calls` calls of the report and prints the figures.
async fn measure(
    app: &flexportal_app::App,
    ctx: &flexportal_app::TenantContext,
    today: jiff::civil::Date,
    calls: usize,
) {
    {
        let mut times = Vec::new();
        let mut last = None;
        rss::reset_peak();
        let before = rss::read();
        for _ in 0..calls {
            let t = Instant::now();
            let p = flexportal_app::reports::portfolio(app, ctx, Some(today))
                .await
                .expect("portfolio");
            times.push(t.elapsed().as_secs_f64());
            last = Some(p);
        }
        let after = rss::read();
        let p = last.expect("one call");
        times.sort_by(f64::total_cmp);
        println!(
            "portfolio: {} active subscriptions ({} profitable, {} recovering, {} at risk, {} no data), \
             {} assets, {} paid / {} pending payments",
            p.active_subscriptions,
            p.status.profitable,
            p.status.recovering,
            p.status.at_risk,
            p.status.no_data,
            p.assets.assets,
            p.payments.paid,
            p.payments.pending
        );
        println!(
            "per call: min {:.3} s, median {:.3} s, max {:.3} s over {} calls; peak RSS {} → {} MiB \
             (anonymous {} → {} MiB)",
            times[0],
            times[times.len() / 2],
            times[times.len() - 1],
            times.len(),
            rss::mib(before.hwm_kib),
            rss::mib(after.hwm_kib),
            rss::mib(before.anon_kib),
            rss::mib(after.anon_kib)
        );
    }
}
