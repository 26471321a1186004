//! Subscription-level cost recovery (SPEC §2.13 "Subscription level" and "Recovery status"),
//! with the rounding rules of SPEC §1.7: percentages and `breakevenMonths` are computed from the
//! unrounded inputs with exact integer arithmetic and rounded half up to 1 decimal (returned as
//! tenths), threshold comparisons use the unrounded values.
//!
//! All money is `i64` minor units of net amounts (SPEC §2.7: tax is never income). A tenths value
//! becomes its JSON number with `crate::money::amount_json(tenths, 1)` (`534` → `53.4`).
use crate::money::div_round_half_up;

/// What the recovery of one subscription is computed from (SPEC §2.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryInput {
    /// `totalCollected`: Σ net amounts of the subscription's paid payments, in minor units.
    pub total_collected: i64,
    /// `acquisitionCost` snapshot in minor units; `None` when unknown (0 is treated as unknown).
    pub acquisition_cost: Option<i64>,
    /// `monthlyAmount` in minor units.
    pub monthly_amount: i64,
    /// `contractLength` in months (current total, extensions included).
    pub contract_length: i64,
    /// `actualMonthsRented` in months (SPEC §2.6.4), for the contract progress.
    pub months_elapsed: i64,
}

/// `recoveryStatus` (SPEC §2.13 "Recovery status").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecoveryStatus {
    /// Recovery above 100 %.
    Profitable,
    /// Recovery above 50 % up to 100 % inclusive, or at most 50 % with contract progress ≤ 50 %.
    Recovering,
    /// Recovery at most 50 % with contract progress above 50 %.
    AtRisk,
    /// Acquisition cost unknown or 0.
    NoData,
}

impl RecoveryStatus {
    /// The wire value: `profitable`, `recovering`, `at_risk` or `no_data`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryStatus::Profitable => "profitable",
            RecoveryStatus::Recovering => "recovering",
            RecoveryStatus::AtRisk => "at_risk",
            RecoveryStatus::NoData => "no_data",
        }
    }
}

/// The cost-recovery fields of a subscription (SPEC §2.13); cost-based members are `None` when
/// the acquisition cost is unknown or 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// `costRecoveryPercent` in tenths of a percent (534 = 53.4 %): collected ÷ cost × 100,
    /// rounded half up to 1 decimal; also `None` when it exceeds `i64` tenths.
    pub cost_recovery_percent_tenths: Option<i64>,
    /// `currentProfit` in minor units: collected − cost (negative while recovering); also `None`
    /// when it exceeds `i64`.
    pub current_profit: Option<i64>,
    /// `breakevenMonths` in tenths of a month (11.2 → 112): cost ÷ monthly, rounded half up to
    /// 1 decimal; `None` when the monthly amount is ≤ 0, the cost unknown, or the tenths exceed
    /// `i64`.
    pub breakeven_months_tenths: Option<i64>,
    /// `costRecovery.breakevenMonth` in months: ⌈cost ÷ monthly⌉ (the month during which
    /// breakeven happens; "Profit: month n+1+"); `None` when the monthly amount is ≤ 0 or the cost
    /// unknown.
    pub breakeven_month: Option<i64>,
    /// Breakeven warning ("Asset won't break even within contract"): unrounded
    /// cost ÷ monthly > contract length; false when not computable.
    pub breakeven_warning: bool,
    /// `hasReachedBreakeven`: collected ≥ cost (false when the cost is unknown or 0).
    pub has_reached_breakeven: bool,
    /// `recoveryStatus`.
    pub status: RecoveryStatus,
}

/// Computes the subscription-level cost-recovery fields (SPEC §2.13, rounding per §1.7):
///
/// - `r` = collected ÷ cost × 100 (unrounded), `p` = months elapsed ÷ contract length × 100
///   (contract progress, SPEC §2.6.4; 0 when the length is ≤ 0);
/// - status: `no_data` if cost unknown or ≤ 0; `profitable` if r > 100; `recovering` if
///   50 < r ≤ 100; `at_risk` if r ≤ 50 and p > 50; otherwise `recovering`.
///
/// Example (SPEC §4.10): cost 1800.00, 129.00 × 24, 1548.00 collected → 86.0 %, breakeven month
/// 14, breakeven months 14.0.
pub fn recovery(input: &RecoveryInput) -> Recovery {
    let cost = match input.acquisition_cost {
        Some(c) if c > 0 => i128::from(c),
        _ => {
            return Recovery {
                cost_recovery_percent_tenths: None,
                current_profit: None,
                breakeven_months_tenths: None,
                breakeven_month: None,
                breakeven_warning: false,
                has_reached_breakeven: false,
                status: RecoveryStatus::NoData,
            };
        }
    };
    let collected = i128::from(input.total_collected);
    let monthly = i128::from(input.monthly_amount);
    // `None` where the percentage does not fit (a cost of a few minor units against a very
    // large amount collected): never a wrapped number.
    let percent_tenths = i64::try_from(div_round_half_up(collected * 1000, cost)).ok();
    let (breakeven_months_tenths, breakeven_month, breakeven_warning) = if monthly > 0 {
        (
            i64::try_from(div_round_half_up(cost * 10, monthly)).ok(),
            Some(((cost + monthly - 1) / monthly) as i64),
            cost > monthly * i128::from(input.contract_length),
        )
    } else {
        (None, None, false)
    };
    // Unrounded comparisons: r > 100 ⇔ collected > cost; r > 50 ⇔ 2·collected > cost;
    // p > 50 ⇔ 2·elapsed > length.
    let progress_over_half =
        input.contract_length > 0 && 2 * input.months_elapsed > input.contract_length;
    let status = if collected > cost {
        RecoveryStatus::Profitable
    } else if 2 * collected > cost || !progress_over_half {
        RecoveryStatus::Recovering
    } else {
        RecoveryStatus::AtRisk
    };
    Recovery {
        cost_recovery_percent_tenths: percent_tenths,
        current_profit: i64::try_from(collected - cost).ok(),
        breakeven_months_tenths,
        breakeven_month,
        breakeven_warning,
        has_reached_breakeven: collected >= cost,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(collected: i64, cost: Option<i64>, monthly: i64, length: i64, elapsed: i64) -> Recovery {
        recovery(&RecoveryInput {
            total_collected: collected,
            acquisition_cost: cost,
            monthly_amount: monthly,
            contract_length: length,
            months_elapsed: elapsed,
        })
    }

    #[test]
    fn the_1000_asset_at_89_a_month() {
        // SPEC §4.1: (collected, length, elapsed) → (percent tenths, profit, status, breakeven).
        use RecoveryStatus::*;
        let rows = [
            (0, 12, 1, 0, -100_000, Recovering, false),
            (8_900, 12, 1, 89, -91_100, Recovering, false),
            (26_700, 12, 3, 267, -73_300, Recovering, false),
            (53_400, 12, 6, 534, -46_600, Recovering, false),
            (26_700, 12, 8, 267, -73_300, AtRisk, false),
            (80_100, 12, 9, 801, -19_900, Recovering, false),
            (97_900, 12, 11, 979, -2_100, Recovering, false),
            (106_800, 12, 12, 1068, 6_800, Profitable, true),
            (160_200, 18, 18, 1602, 60_200, Profitable, true),
        ];
        for (collected, length, elapsed, pct, profit, status, reached) in rows {
            let r = run(collected, Some(100_000), 8_900, length, elapsed);
            assert_eq!(r.cost_recovery_percent_tenths, Some(pct), "{collected}");
            assert_eq!(r.current_profit, Some(profit), "{collected}");
            assert_eq!(r.status, status, "{collected}");
            assert_eq!(r.has_reached_breakeven, reached, "{collected}");
            assert_eq!(r.breakeven_months_tenths, Some(112));
            assert_eq!(r.breakeven_month, Some(12));
            assert!(!r.breakeven_warning);
        }
        assert_eq!(RecoveryStatus::AtRisk.as_str(), "at_risk");
    }

    #[test]
    fn other_documented_points() {
        // SPEC §4.1: the 1200.00 cost variants.
        let r = run(53_400, Some(120_000), 8_900, 12, 6);
        assert_eq!(r.cost_recovery_percent_tenths, Some(445));
        assert_eq!(r.status, RecoveryStatus::Recovering);
        let r = run(124_600, Some(120_000), 8_900, 18, 14);
        assert_eq!(r.cost_recovery_percent_tenths, Some(1038));
        assert_eq!(r.status, RecoveryStatus::Profitable);
        // 400 / 29 × 14 → 101.5; 800 / 59 × 18 → 132.8 (132.75 rounds half up);
        // 400 / 29 × 12 + 150 buyout → 498.00 → 124.5.
        assert_eq!(
            run(40_600, Some(40_000), 2_900, 14, 14).cost_recovery_percent_tenths,
            Some(1015)
        );
        assert_eq!(
            run(106_200, Some(80_000), 5_900, 18, 18).cost_recovery_percent_tenths,
            Some(1328)
        );
        assert_eq!(
            run(49_800, Some(40_000), 2_900, 12, 12).cost_recovery_percent_tenths,
            Some(1245)
        );
        // No acquisition cost: no_data, cost-based members absent; cost 0 alike.
        for cost in [None, Some(0)] {
            let r = run(53_400, cost, 8_900, 12, 6);
            assert_eq!(r.status, RecoveryStatus::NoData);
            assert_eq!(r.status.as_str(), "no_data");
            assert_eq!(r.cost_recovery_percent_tenths, None);
            assert_eq!(r.current_profit, None);
            assert_eq!(r.breakeven_months_tenths, None);
            assert_eq!(r.breakeven_month, None);
            assert!(!r.has_reached_breakeven);
        }
    }

    #[test]
    fn thresholds_use_unrounded_values() {
        // Exactly 100 % is recovering (breakeven reached, not profit).
        let r = run(100_000, Some(100_000), 8_900, 12, 12);
        assert_eq!(r.status, RecoveryStatus::Recovering);
        assert!(r.has_reached_breakeven);
        assert_eq!(r.status.as_str(), "recovering");
        // 100.04 % rounds to 100.0 but is profitable.
        let r = run(100_040, Some(100_000), 8_900, 12, 12);
        assert_eq!(r.cost_recovery_percent_tenths, Some(1000));
        assert_eq!(r.status, RecoveryStatus::Profitable);
        assert_eq!(r.status.as_str(), "profitable");
        // Exactly 50 % with progress above 50 % is at risk; 50.01 % is recovering.
        assert_eq!(
            run(50_000, Some(100_000), 8_900, 12, 7).status,
            RecoveryStatus::AtRisk
        );
        assert_eq!(
            run(50_010, Some(100_000), 8_900, 12, 7).status,
            RecoveryStatus::Recovering
        );
        // 49.97 % rounds to 50.0 but stays at most 50 %.
        let r = run(49_970, Some(100_000), 8_900, 12, 7);
        assert_eq!(r.cost_recovery_percent_tenths, Some(500));
        assert_eq!(r.status, RecoveryStatus::AtRisk);
        // Progress exactly 50 % is not above 50 %.
        assert_eq!(
            run(0, Some(100_000), 8_900, 12, 6).status,
            RecoveryStatus::Recovering
        );
        // Zero contract length: progress 0.
        assert_eq!(
            run(0, Some(100_000), 8_900, 0, 6).status,
            RecoveryStatus::Recovering
        );
    }

    #[test]
    fn breakeven_figures() {
        // SPEC §4.10: cost 1800.00, 129.00 × 24, 12 paid.
        let r = run(154_800, Some(180_000), 12_900, 24, 12);
        assert_eq!(r.cost_recovery_percent_tenths, Some(860));
        assert_eq!(r.current_profit, Some(-25_200));
        assert_eq!(r.breakeven_month, Some(14));
        assert_eq!(r.breakeven_months_tenths, Some(140));
        assert_eq!(r.status, RecoveryStatus::Recovering);
        assert!(!r.breakeven_warning);
        // Breakeven months and end-of-contract recovery for a 1000.00 cost on 12 months.
        for (monthly, tenths, end_pct, warning) in [
            (7_500, 133, 900, true),
            (8_900, 112, 1068, false),
            (9_500, 105, 1140, false),
        ] {
            let r = run(monthly * 12, Some(100_000), monthly, 12, 12);
            assert_eq!(r.breakeven_months_tenths, Some(tenths));
            assert_eq!(r.cost_recovery_percent_tenths, Some(end_pct));
            assert_eq!(r.breakeven_warning, warning);
        }
        // Other categories: 600/45 → 13.3, 800/59 → 13.6, 400/29 → 13.8, 500/39 → 12.8.
        for (cost, monthly, tenths, month) in [
            (60_000, 4_500, 133, 14),
            (80_000, 5_900, 136, 14),
            (40_000, 2_900, 138, 14),
            (50_000, 3_900, 128, 13),
        ] {
            let r = run(0, Some(cost), monthly, 24, 0);
            assert_eq!(r.breakeven_months_tenths, Some(tenths));
            assert_eq!(r.breakeven_month, Some(month));
        }
        // Exact division: 1200 / 100 → 12.0, month 12.
        assert_eq!(
            run(0, Some(120_000), 10_000, 12, 0).breakeven_month,
            Some(12)
        );
        // Same asset by contract length (SPEC §4.10).
        for (collected, pct, profit) in [
            (72_000, 720, -28_000),
            (106_800, 1068, 6_800),
            (126_000, 1260, 26_000),
            (132_000, 1320, 32_000),
        ] {
            let r = run(collected, Some(100_000), 1, 1, 1);
            assert_eq!(r.cost_recovery_percent_tenths, Some(pct));
            assert_eq!(r.current_profit, Some(profit));
        }
        // Monthly amount 0: breakeven figures absent, the rest computed.
        let r = run(10_000, Some(100_000), 0, 12, 1);
        assert_eq!(r.breakeven_months_tenths, None);
        assert_eq!(r.breakeven_month, None);
        assert_eq!(r.cost_recovery_percent_tenths, Some(100));
    }

    #[test]
    fn figures_that_do_not_fit_are_absent_not_wrapped() {
        // 1 minor unit of cost against the largest amount collected: the percentage in tenths
        // (about 9.2e21) does not fit; before, it wrapped to a negative number.
        let r = run(i64::MAX, Some(1), 1, 12, 12);
        assert_eq!(r.cost_recovery_percent_tenths, None);
        assert_eq!(r.current_profit, Some(i64::MAX - 1));
        assert_eq!(r.status, RecoveryStatus::Profitable);
        assert!(r.has_reached_breakeven);
        // A profit below i64::MIN and breakeven tenths above i64::MAX.
        let r = run(i64::MIN, Some(i64::MAX), 1, 12, 12);
        assert_eq!(r.current_profit, None);
        assert_eq!(r.breakeven_months_tenths, None);
        assert_eq!(r.breakeven_month, Some(i64::MAX));
        assert_eq!(r.status, RecoveryStatus::AtRisk);
    }

    proptest! {
        #[test]
        fn status_matches_the_thresholds(
            collected in 0i64..10_000_000_000,
            cost in 1i64..10_000_000_000,
            monthly in 1i64..100_000_000,
            length in 1i64..=120,
            elapsed in 0i64..=120,
        ) {
            let r = run(collected, Some(cost), monthly, length, elapsed);
            let pct = r.cost_recovery_percent_tenths.unwrap();
            // Rounded value within half a tenth of the exact one.
            let exact_times_20 = i128::from(collected) * 20_000;
            prop_assert!((i128::from(pct) * 20 * i128::from(cost) - exact_times_20).abs() <= 10 * i128::from(cost));
            prop_assert_eq!(r.has_reached_breakeven, collected >= cost);
            prop_assert_eq!(r.current_profit, Some(collected - cost));
            let month = r.breakeven_month.unwrap();
            prop_assert!(month * monthly >= cost && (month - 1) * monthly < cost);
            match r.status {
                RecoveryStatus::Profitable => prop_assert!(collected > cost),
                RecoveryStatus::AtRisk => prop_assert!(2 * collected <= cost && 2 * elapsed > length),
                RecoveryStatus::Recovering => prop_assert!(collected <= cost && (2 * collected > cost || 2 * elapsed <= length)),
                RecoveryStatus::NoData => prop_assert!(false),
            }
        }
    }
}
