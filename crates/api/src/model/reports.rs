//! The portfolio report on the wire (SPEC §2.13 "Portfolio / reports"; additive operation
//! `GET /v1/reports/portfolio`, the same JSON as `flexportal report portfolio --json`).

use flexportal_app::TenantContext;
use flexportal_app::reports::Portfolio;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::Decimal;

/// A count and its share of the active subscriptions (percent, 1 decimal).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusShare {
    /// Active subscriptions with the status.
    pub count: i64,
    /// `count ÷ active × 100`, 1 decimal; 0 without active subscriptions.
    pub share: Decimal,
}

/// Active subscriptions per recovery status (SPEC §2.13 "Recovery status").
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryStatusCounts {
    /// Recovery above 100 %.
    pub profitable: StatusShare,
    /// Above 50 % up to 100 %, or at most 50 % in the first half of the contract.
    pub recovering: StatusShare,
    /// At most 50 % past the first half of the contract.
    pub at_risk: StatusShare,
    /// Acquisition cost unknown or 0.
    pub no_data: StatusShare,
}

/// The active subscriptions' cost recovery.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionRecovery {
    /// Active subscriptions.
    pub active: i64,
    /// Their recovery statuses.
    pub recovery_status: RecoveryStatusCounts,
    /// Mean `costRecoveryPercent` of those with a known cost, 1 decimal; `null` without any.
    #[schema(required = true)]
    pub average_cost_recovery_percent: Option<Decimal>,
    /// Σ max(0, cost − collected), major units.
    pub total_unrecovered_cost: Decimal,
    /// Σ max(0, collected − cost), major units.
    pub total_profit: Decimal,
}

/// The assets' lifetime recovery (SPEC §2.13 "Asset level").
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetRecovery {
    /// Every asset of the unit.
    pub total: i64,
    /// Assets with a known acquisition cost above 0.
    pub with_cost: i64,
    /// Lifetime recovery above 100 %.
    pub above_full_recovery: i64,
    /// Lifetime recovery at or below 50 %.
    pub at_or_below_half_recovery: i64,
}

/// The payment report (SPEC §2.13 "Payment reports").
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentReport {
    /// Σ net amount of paid payments, major units.
    pub total_income: Decimal,
    /// Σ `total` of pending payments, major units.
    pub outstanding_balance: Decimal,
    /// Paid ÷ payments not cancelled × 100, 1 decimal; `null` without any.
    #[schema(required = true)]
    pub success_rate: Option<Decimal>,
    /// Failed ÷ payments not cancelled × 100, 1 decimal; `null` without any.
    #[schema(required = true)]
    pub failed_rate: Option<Decimal>,
    /// Total income ÷ paid payments, major units; `null` without paid payments.
    #[schema(required = true)]
    pub average_payment_value: Option<Decimal>,
    /// Paid payments.
    pub paid: i64,
    /// Pending payments.
    pub pending: i64,
    /// Failed payments.
    pub failed: i64,
}

/// Active customers by collection status (SPEC §2.13, Recommended).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectionStatus {
    /// No unpaid payment past its due date.
    pub current: i64,
    /// An unpaid payment past due, none more than 60 days.
    pub late: i64,
    /// An unpaid payment more than 60 days past due.
    pub defaulted: i64,
}

/// Active subscriptions of a product per recovery status (counts).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductStatusCounts {
    /// Recovery above 100 %.
    pub profitable: i64,
    /// Above 50 % up to 100 %, or at most 50 % in the first half of the contract.
    pub recovering: i64,
    /// At most 50 % past the first half of the contract.
    pub at_risk: i64,
    /// Acquisition cost unknown or 0.
    pub no_data: i64,
}

/// One product's performance (SPEC §2.13 "Product performance").
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPerformanceView {
    /// The product.
    pub product_id: String,
    /// Its name.
    pub product_name: String,
    /// Its active subscriptions.
    pub active_subscriptions: i64,
    /// Their recovery statuses.
    pub recovery_status: ProductStatusCounts,
    /// Mean breakeven time (acquisition cost ÷ monthly amount) of those with a known cost,
    /// months, 1 decimal; `null` without any.
    #[schema(required = true)]
    pub average_breakeven_months: Option<Decimal>,
    /// Its assets.
    pub assets: i64,
    /// Mean lifetime recovery of its assets with a cost, percent, 1 decimal; `null` without any,
    /// or when amounts beyond any real fleet keep it from being exact.
    #[schema(required = true)]
    pub average_lifetime_recovery_percent: Option<Decimal>,
    /// (Σ list price − Σ acquisition cost) ÷ Σ list price × 100 over its variants with both,
    /// 1 decimal; `null` without such variants.
    #[schema(required = true)]
    pub margin_percent: Option<Decimal>,
}

/// getPortfolioReport: `{success, tenantId, currency, asOf, healthScore, subscriptions, assets,
/// payments, collectionStatus, products}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortfolioReport {
    /// Always `true`.
    pub success: bool,
    /// Business unit.
    pub tenant_id: String,
    /// The unit's currency (every amount is in it).
    pub currency: String,
    /// `YYYY-MM-DD` the statuses are computed for.
    #[schema(format = Date)]
    pub as_of: String,
    /// (profitable + recovering) ÷ active subscriptions × 100, an integer 0–100; `null` without
    /// active subscriptions.
    #[schema(required = true)]
    pub health_score: Option<i64>,
    /// The active subscriptions' cost recovery.
    pub subscriptions: SubscriptionRecovery,
    /// The assets' lifetime recovery.
    pub assets: AssetRecovery,
    /// The payment report.
    pub payments: PaymentReport,
    /// Active customers by collection status.
    pub collection_status: CollectionStatus,
    /// Per product, by product id.
    pub products: Vec<ProductPerformanceView>,
}

impl PortfolioReport {
    /// Renders a report.
    pub fn new(ctx: &TenantContext, p: &Portfolio) -> Self {
        let exp = ctx.exponent();
        let n = p.active_subscriptions;
        let share = |count: i64| StatusShare {
            count,
            share: Decimal::percent(count, n, 1).unwrap_or(Decimal::tenths(0)),
        };
        let pay = &p.payments;
        PortfolioReport {
            success: true,
            tenant_id: ctx.tenant_id.clone(),
            currency: ctx.currency.code().to_string(),
            as_of: p.as_of.to_string(),
            health_score: p.health_score(),
            subscriptions: SubscriptionRecovery {
                active: n,
                recovery_status: RecoveryStatusCounts {
                    profitable: share(p.status.profitable),
                    recovering: share(p.status.recovering),
                    at_risk: share(p.status.at_risk),
                    no_data: share(p.status.no_data),
                },
                average_cost_recovery_percent: p
                    .average_recovery_e4
                    .map(|e4| Decimal::tenths(e4_to_tenths(e4))),
                total_unrecovered_cost: Decimal::money(p.unrecovered_cost, exp),
                total_profit: Decimal::money(p.profit, exp),
            },
            assets: AssetRecovery {
                total: p.assets.assets,
                with_cost: p.assets.with_cost,
                above_full_recovery: p.assets.above_full,
                at_or_below_half_recovery: p.assets.at_or_below_half,
            },
            payments: PaymentReport {
                total_income: Decimal::money(pay.income, exp),
                outstanding_balance: Decimal::money(pay.outstanding, exp),
                success_rate: Decimal::percent(pay.paid, pay.not_cancelled, 1),
                failed_rate: Decimal::percent(pay.failed, pay.not_cancelled, 1),
                average_payment_value: (pay.paid > 0).then(|| {
                    Decimal::money(
                        flexportal_domain::money::div_round_half_away(
                            i128::from(pay.income),
                            i128::from(pay.paid),
                        ) as i64,
                        exp,
                    )
                }),
                paid: pay.paid,
                pending: pay.pending,
                failed: pay.failed,
            },
            collection_status: CollectionStatus {
                current: p.collection.current,
                late: p.collection.late,
                defaulted: p.collection.defaulted,
            },
            products: p
                .products
                .iter()
                .map(|x| ProductPerformanceView {
                    product_id: x.product_id.clone(),
                    product_name: x.name.clone(),
                    active_subscriptions: x.active_subscriptions,
                    recovery_status: ProductStatusCounts {
                        profitable: x.status.profitable,
                        recovering: x.status.recovering,
                        at_risk: x.status.at_risk,
                        no_data: x.status.no_data,
                    },
                    average_breakeven_months: x.average_breakeven_tenths.map(Decimal::tenths),
                    assets: x.assets.assets,
                    // Hundredths of a percent → tenths, half away from zero.
                    average_lifetime_recovery_percent: x.average_lifetime_recovery_e2.map(|e2| {
                        Decimal::tenths(flexportal_domain::money::div_round_half_away(
                            i128::from(e2),
                            10,
                        ) as i64)
                    }),
                    margin_percent: x.margin_tenths.map(Decimal::tenths),
                })
                .collect(),
        }
    }
}

/// Query parameters of getPortfolioReport.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct PortfolioQuery {
    /// `YYYY-MM-DD` to compute the statuses for (default: today in the unit's time zone).
    #[param(format = Date)]
    pub as_of: Option<String>,
}

/// A percentage in units of 10⁻⁴ % rounded half up to tenths of a percent (SPEC §1.7), in
/// `i128` so that no `i64` overflows; the result is at most one more than e4 ÷ 1000 and fits.
fn e4_to_tenths(e4: i64) -> i64 {
    flexportal_domain::money::div_round_half_up(i128::from(e4), 1_000) as i64
}

#[cfg(test)]
mod tests {
    use super::e4_to_tenths;

    #[test]
    fn e4_rounds_half_up_to_tenths_over_the_whole_range() {
        assert_eq!(e4_to_tenths(555_555), 556);
        assert_eq!(e4_to_tenths(555_499), 555);
        assert_eq!(e4_to_tenths(555_500), 556);
        assert_eq!(e4_to_tenths(-1_500), -1);
        assert_eq!(e4_to_tenths(-1_501), -2);
        assert_eq!(e4_to_tenths(i64::MAX), i64::MAX / 1_000 + 1);
        assert_eq!(e4_to_tenths(i64::MIN), i64::MIN / 1_000 - 1);
        for e4 in -5_000..5_000 {
            assert_eq!(e4_to_tenths(e4), (2 * e4 + 1_000).div_euclid(2_000), "{e4}");
        }
    }
}
