//! Pricing tiers of a variant (SPEC §2.2): one monthly price per contract length (1–120 months),
//! merged by contract length on update (sent lengths inserted or replaced, others kept).

use serde::{Deserialize, Serialize};

/// Shortest and longest contract length, in months.
pub const CONTRACT_LENGTH_RANGE: std::ops::RangeInclusive<i64> = 1..=120;

/// A discount on a tier: `percentage` (value in percent) or `fixed` (value in minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    /// `percentage` or `fixed`.
    pub kind: String,
    /// Percent as exact decimal text for `percentage`; minor units as text for `fixed`.
    pub value: String,
    /// Optional label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One pricing tier as stored (money in minor units of the business unit's currency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingTier {
    /// Contract length in months, 1–120.
    pub contract_length: i64,
    /// Monthly price in minor units, ≥ 0.
    pub monthly_price: i64,
    /// One-off setup fee in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_fee: Option<i64>,
    /// Optional discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Discount>,
    /// `manual` (default) or `suggested`.
    pub source: String,
    /// When a suggested price was calculated (client-supplied text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculated_at: Option<String>,
    /// The pricing preset a suggested price used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset_used: Option<String>,
}

/// Merges `incoming` tiers into `existing` by contract length: incoming lengths replace or add,
/// lengths not sent are kept. The result is sorted by contract length.
pub fn merge_tiers(existing: &[PricingTier], incoming: &[PricingTier]) -> Vec<PricingTier> {
    let mut out: Vec<PricingTier> = existing
        .iter()
        .filter(|t| {
            !incoming
                .iter()
                .any(|i| i.contract_length == t.contract_length)
        })
        .cloned()
        .collect();
    out.extend(incoming.iter().cloned());
    out.sort_by_key(|t| t.contract_length);
    out
}

/// The tier for a contract length, if the variant prices it.
pub fn tier_for(tiers: &[PricingTier], contract_length: i64) -> Option<&PricingTier> {
    tiers.iter().find(|t| t.contract_length == contract_length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(len: i64, price: i64) -> PricingTier {
        PricingTier {
            contract_length: len,
            monthly_price: price,
            setup_fee: None,
            discount: None,
            source: "manual".into(),
            calculated_at: None,
            preset_used: None,
        }
    }

    #[test]
    fn merge_replaces_sent_lengths_and_keeps_the_rest() {
        let existing = vec![
            tier(6, 19_900),
            tier(12, 15_900),
            tier(24, 12_900),
            tier(36, 10_900),
        ];
        let merged = merge_tiers(
            &existing,
            &[tier(24, 11_900), tier(12, 14_900), tier(48, 9_900)],
        );
        let pairs: Vec<_> = merged
            .iter()
            .map(|t| (t.contract_length, t.monthly_price))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (6, 19_900),
                (12, 14_900),
                (24, 11_900),
                (36, 10_900),
                (48, 9_900)
            ]
        );
        assert_eq!(tier_for(&merged, 36).map(|t| t.monthly_price), Some(10_900));
        assert!(tier_for(&merged, 18).is_none());
    }
}
