//! The portfolio report of a business unit (SPEC §2.13 "Portfolio / reports"): the recovery
//! status of every active subscription, the health score, unrecovered cost and profit, the
//! assets' lifetime recovery, the payment report and the customers' collection status.
//!
//! One pass: the active subscriptions are read in keyset pages of [`PAGE`] rows and folded into
//! the totals as they come (memory does not grow with the unit); the other figures are one
//! aggregate statement each. Money is in minor units of the unit's currency.

use flexportal_domain::recovery::{RecoveryInput, RecoveryStatus, recovery};
use flexportal_domain::schedule::{self, ScheduleInput};
use flexportal_domain::time::today_in;
use flexportal_store::reports::{self, AssetTotals, PaymentTotals};
use jiff::civil::Date;
use std::collections::HashMap;

use crate::error::{AppError, AppResult};
use crate::{App, TenantContext, lifecycle};

/// Active subscriptions read per statement.
pub const PAGE: u64 = 5_000;

/// Days past due after which a customer's collection status is `defaulted` (SPEC §2.13,
/// Recommended).
pub const DEFAULT_AFTER_DAYS: i64 = 60;

/// Counts of active subscriptions per recovery status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Recovery above 100 %.
    pub profitable: i64,
    /// Above 50 % up to 100 %, or ≤ 50 % in the first half of the contract.
    pub recovering: i64,
    /// ≤ 50 % past the first half of the contract.
    pub at_risk: i64,
    /// Cost unknown or 0.
    pub no_data: i64,
}

/// Customers by collection status (SPEC §2.13, Recommended).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CollectionCounts {
    /// No unpaid payment past its due date.
    pub current: i64,
    /// At least one, none more than [`DEFAULT_AFTER_DAYS`] days past due.
    pub late: i64,
    /// A payment more than [`DEFAULT_AFTER_DAYS`] days past due.
    pub defaulted: i64,
}

/// One product's performance (SPEC §2.13 "Product performance").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductPerformance {
    /// The product.
    pub product_id: String,
    /// Its name.
    pub name: String,
    /// Its active subscriptions by recovery status.
    pub status: StatusCounts,
    /// Its active subscriptions.
    pub active_subscriptions: i64,
    /// Mean `breakevenMonths` (cost ÷ monthly amount) of its active subscriptions with a known
    /// cost, in tenths of a month; `None` without any.
    pub average_breakeven_tenths: Option<i64>,
    /// Its assets' counts.
    pub assets: AssetTotals,
    /// Mean lifetime recovery of its assets with a cost, in hundredths of a percent; `None`
    /// without any, or when their recoveries could not be summed exactly (absurd amounts).
    pub average_lifetime_recovery_e2: Option<i64>,
    /// (Σ list price − Σ cost) ÷ Σ list price × 100 over its variants with both, in tenths of a
    /// percent, rounded half away from zero; `None` without such variants.
    pub margin_tenths: Option<i64>,
}

/// The portfolio report as of a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Portfolio {
    /// The date the recovery statuses and collection status are computed for.
    pub as_of: Date,
    /// Active subscriptions.
    pub active_subscriptions: i64,
    /// Their recovery statuses.
    pub status: StatusCounts,
    /// Mean cost recovery of the active subscriptions with a known cost, in units of 10⁻⁴ %
    /// (unrounded mean of exact per-subscription percentages); `None` without any.
    pub average_recovery_e4: Option<i64>,
    /// Σ max(0, cost − collected) over the active subscriptions, minor units.
    pub unrecovered_cost: i64,
    /// Σ max(0, collected − cost) over the active subscriptions, minor units.
    pub profit: i64,
    /// Lifetime recovery of the assets.
    pub assets: AssetTotals,
    /// Payment aggregates.
    pub payments: PaymentTotals,
    /// Customers by collection status.
    pub collection: CollectionCounts,
    /// Per product, by product id.
    pub products: Vec<ProductPerformance>,
}

impl Portfolio {
    /// The health score (SPEC §2.13, Recommended): (profitable + recovering) ÷ active × 100,
    /// rounded half up to an integer; `None` without active subscriptions. 275 + 180 of 500 → 91.
    pub fn health_score(&self) -> Option<i64> {
        let n = self.active_subscriptions;
        (n > 0).then(|| {
            let good = self.status.profitable + self.status.recovering;
            (2 * good * 100 + n) / (2 * n)
        })
    }
}

/// Folds one active subscription into the totals. Errors: 500 for unreadable stored dates.
/// Running per-product sums of the active subscriptions.
#[derive(Debug, Default)]
struct ProductAcc {
    status: StatusCounts,
    active: i64,
    breakeven_tenths_sum: i128,
    breakeven_known: i64,
}

fn add(
    p: &mut Portfolio,
    r: &reports::RecoveryRow,
    recovery_sum: &mut i128,
    known: &mut i64,
    by_product: &mut HashMap<String, ProductAcc>,
) -> AppResult<()> {
    let input = ScheduleInput {
        start: lifecycle::stored_date(&r.start_date)?,
        months: r.contract_length,
        monthly_amount: r.monthly_amount,
        cycle: r.billing.cycle,
        first_payment: r.billing.first_payment,
        option: r.billing.option,
    };
    // Contract months started by the date (SPEC §2.6.4), from the schedule itself.
    let elapsed = schedule::generate(&input)
        .charges
        .iter()
        .filter(|c| !c.stub && c.service_start <= p.as_of)
        .count() as i64;
    let rec = recovery(&RecoveryInput {
        total_collected: r.total_collected,
        acquisition_cost: r.acquisition_cost,
        monthly_amount: r.monthly_amount,
        contract_length: r.contract_length,
        months_elapsed: elapsed,
    });
    p.active_subscriptions += 1;
    let acc = match by_product.get_mut(&r.product_id) {
        Some(a) => a,
        None => by_product.entry(r.product_id.clone()).or_default(),
    };
    acc.active += 1;
    if let Some(b) = rec
        .breakeven_months_tenths
        .filter(|_| rec.status != RecoveryStatus::NoData)
    {
        acc.breakeven_tenths_sum += i128::from(b);
        acc.breakeven_known += 1;
    }
    for counts in [&mut p.status, &mut acc.status] {
        match rec.status {
            RecoveryStatus::Profitable => counts.profitable += 1,
            RecoveryStatus::Recovering => counts.recovering += 1,
            RecoveryStatus::AtRisk => counts.at_risk += 1,
            RecoveryStatus::NoData => counts.no_data += 1,
        }
    }
    if let Some(cost) = r.acquisition_cost.filter(|c| *c > 0) {
        let collected = r.total_collected;
        *recovery_sum += i128::from(collected) * 1_000_000 / i128::from(cost);
        *known += 1;
        let overflow = || AppError::corrupt("portfolio totals overflow");
        if cost > collected {
            p.unrecovered_cost = p
                .unrecovered_cost
                .checked_add(cost - collected)
                .ok_or_else(overflow)?;
        } else {
            p.profit = p
                .profit
                .checked_add(collected - cost)
                .ok_or_else(overflow)?;
        }
    }
    Ok(())
}

/// The portfolio report of the caller's business unit as of `as_of` (default: today in the
/// unit's time zone). Errors: 500 for unreadable stored data.
pub async fn portfolio(
    app: &App,
    ctx: &TenantContext,
    as_of: Option<Date>,
) -> AppResult<Portfolio> {
    let as_of = as_of.unwrap_or_else(|| today_in(&ctx.time_zone, app.now()));
    let mut c = app.db.read().await?;
    let mut p = Portfolio {
        as_of,
        active_subscriptions: 0,
        status: StatusCounts::default(),
        average_recovery_e4: None,
        unrecovered_cost: 0,
        profit: 0,
        assets: AssetTotals::default(),
        payments: PaymentTotals::default(),
        collection: CollectionCounts::default(),
        products: Vec::new(),
    };
    let (mut sum, mut known) = (0i128, 0i64);
    let mut by_product: HashMap<String, ProductAcc> = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let rows = reports::active_page(&mut c, &ctx.tenant_id, after.as_deref(), PAGE).await?;
        for r in &rows {
            add(&mut p, r, &mut sum, &mut known, &mut by_product)?;
        }
        match rows.last() {
            Some(last) if rows.len() as u64 == PAGE => after = Some(last.rental_id.clone()),
            _ => break,
        }
    }
    p.average_recovery_e4 = (known > 0)
        .then(|| i64::try_from(sum / i128::from(known)).ok())
        .flatten();
    let assets = reports::asset_totals_by_product(&mut c, &ctx.tenant_id).await?;
    for a in &assets {
        p.assets.assets += a.totals.assets;
        p.assets.with_cost += a.totals.with_cost;
        p.assets.above_full += a.totals.above_full;
        p.assets.at_or_below_half += a.totals.at_or_below_half;
    }
    let mut assets: HashMap<String, reports::ProductAssets> = assets
        .into_iter()
        .map(|a| (a.product_id.clone(), a))
        .collect();
    for product in reports::product_catalog(&mut c, &ctx.tenant_id).await? {
        let acc = by_product.remove(&product.product_id).unwrap_or_default();
        let a = assets.remove(&product.product_id);
        let (totals, e2_sum) = a.map(|a| (a.totals, a.recovery_e2_sum)).unwrap_or_default();
        p.products.push(ProductPerformance {
            average_breakeven_tenths: (acc.breakeven_known > 0).then(|| {
                flexportal_domain::money::div_round_half_away(
                    acc.breakeven_tenths_sum,
                    i128::from(acc.breakeven_known),
                ) as i64
            }),
            // Absent when the store could not sum the recoveries exactly (absurd amounts).
            average_lifetime_recovery_e2: e2_sum.filter(|_| totals.with_cost > 0).map(|sum| {
                flexportal_domain::money::div_round_half_away(
                    i128::from(sum),
                    i128::from(totals.with_cost),
                ) as i64
            }),
            margin_tenths: (product.list_sum > 0).then(|| {
                flexportal_domain::money::div_round_half_away(
                    (i128::from(product.list_sum) - i128::from(product.cost_sum)) * 1000,
                    i128::from(product.list_sum),
                ) as i64
            }),
            product_id: product.product_id,
            name: product.name,
            status: acc.status,
            active_subscriptions: acc.active,
            assets: totals,
        });
    }
    p.payments = reports::payment_totals(&mut c, &ctx.tenant_id).await?;
    let overdue = reports::overdue_customers(&mut c, &ctx.tenant_id, &as_of.to_string()).await?;
    let default_before = schedule::add_days(as_of, -DEFAULT_AFTER_DAYS).to_string();
    let defaulted = overdue
        .iter()
        .filter(|o| o.oldest_due < default_before)
        .count() as i64;
    let late = overdue.len() as i64 - defaulted;
    let customers = reports::active_customers(&mut c, &ctx.tenant_id).await?;
    p.collection = CollectionCounts {
        current: (customers - late - defaulted).max(0),
        late,
        defaulted,
    };
    Ok(p)
}

/// getPortfolioReport (additive): the report as of the query's `asOf` (`YYYY-MM-DD`, default
/// today). Errors: 400 `VALIDATION_ERROR` at `asOf` for anything but a calendar date.
pub async fn portfolio_query(
    app: &App,
    ctx: &TenantContext,
    q: &crate::list::Query,
) -> AppResult<Portfolio> {
    let as_of = match crate::list::text_filter(q, "asOf") {
        None => None,
        Some(s) => Some(s.parse::<Date>().map_err(|_| {
            AppError::field("asOf", "invalid_string", "Expected a date YYYY-MM-DD")
        })?),
    };
    portfolio(app, ctx, as_of).await
}

/// The portfolio report of the business unit `tenant_id` (the command line's
/// `flexportal report portfolio`), acting as `system`. Errors: 404 `NOT_FOUND` for an unknown
/// unit; as [`portfolio`].
pub async fn portfolio_of_unit(
    app: &App,
    tenant_id: &str,
    as_of: Option<Date>,
) -> AppResult<(TenantContext, Portfolio)> {
    let t = {
        let mut c = app.db.read().await?;
        flexportal_store::tenants::get(&mut c, tenant_id)
            .await?
            .ok_or_else(|| AppError::not_found("Business unit"))?
    };
    let ctx = crate::jobs::job_context(&t)?;
    let p = portfolio(app, &ctx, as_of).await?;
    Ok((ctx, p))
}
