//! The readable rendering of `flexportal report portfolio` (the same figures as `--json`).

use std::fmt::Write;

use flexportal_api::model::reports::{PortfolioReport, StatusShare};

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "-".into())
}

/// The report as aligned text tables.
pub fn portfolio(r: &PortfolioReport) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    let s = &r.subscriptions;
    let c = &r.currency;
    writeln!(out, "Portfolio of {} as of {} ({c})", r.tenant_id, r.as_of)?;
    writeln!(out)?;
    writeln!(
        out,
        "Health score            {}",
        opt(r.health_score.map(|h| format!("{h}/100")))
    )?;
    writeln!(out, "Active subscriptions    {}", s.active)?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<16} {:>10} {:>8}",
        "Recovery status", "count", "share"
    )?;
    let row = |out: &mut String, name: &str, x: &StatusShare| {
        writeln!(out, "{name:<16} {:>10} {:>7}%", x.count, x.share.text())
    };
    row(&mut out, "profitable", &s.recovery_status.profitable)?;
    row(&mut out, "recovering", &s.recovery_status.recovering)?;
    row(&mut out, "at risk", &s.recovery_status.at_risk)?;
    row(&mut out, "no data", &s.recovery_status.no_data)?;
    writeln!(out)?;
    writeln!(
        out,
        "Average cost recovery   {}",
        opt(s
            .average_cost_recovery_percent
            .map(|d| format!("{}%", d.text())))
    )?;
    writeln!(
        out,
        "Unrecovered cost        {} {c}",
        s.total_unrecovered_cost.text()
    )?;
    writeln!(out, "Profit                  {} {c}", s.total_profit.text())?;
    writeln!(out)?;
    let a = &r.assets;
    writeln!(
        out,
        "Assets                  {} ({} with a cost: {} above 100%, {} at or below 50%)",
        a.total, a.with_cost, a.above_full_recovery, a.at_or_below_half_recovery
    )?;
    writeln!(out)?;
    let p = &r.payments;
    writeln!(out, "Total income            {} {c}", p.total_income.text())?;
    writeln!(
        out,
        "Outstanding balance     {} {c}",
        p.outstanding_balance.text()
    )?;
    writeln!(
        out,
        "Payments                {} paid, {} pending, {} failed",
        p.paid, p.pending, p.failed
    )?;
    writeln!(
        out,
        "Success / failed rate   {} / {}",
        opt(p.success_rate.map(|d| format!("{}%", d.text()))),
        opt(p.failed_rate.map(|d| format!("{}%", d.text())))
    )?;
    writeln!(
        out,
        "Average payment         {}",
        opt(p.average_payment_value.map(|d| format!("{} {c}", d.text())))
    )?;
    writeln!(out)?;
    let k = &r.collection_status;
    writeln!(
        out,
        "Customers               {} current, {} late, {} defaulted",
        k.current, k.late, k.defaulted
    )?;
    if !r.products.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{:<28} {:>6} {:>24} {:>10} {:>7} {:>10} {:>7}",
            "Product",
            "active",
            "profit/recov/risk/none",
            "breakeven",
            "assets",
            "lifetime",
            "margin"
        )?;
        for x in &r.products {
            let s = &x.recovery_status;
            let name: String = x.product_name.chars().take(28).collect();
            writeln!(
                out,
                "{name:<28} {:>6} {:>24} {:>10} {:>7} {:>10} {:>7}",
                x.active_subscriptions,
                format!(
                    "{}/{}/{}/{}",
                    s.profitable, s.recovering, s.at_risk, s.no_data
                ),
                opt(x
                    .average_breakeven_months
                    .map(|d| format!("{} mo", d.text()))),
                x.assets,
                opt(x
                    .average_lifetime_recovery_percent
                    .map(|d| format!("{}%", d.text()))),
                opt(x.margin_percent.map(|d| format!("{}%", d.text()))),
            )?;
        }
    }
    Ok(out)
}
