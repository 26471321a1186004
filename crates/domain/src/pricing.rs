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

/// A stored pricing document that cannot be read: the variant's tiers or a discount value are not
/// what this code writes. Use cases answer it with 500 `INTERNAL_ERROR` and log it; it is never
/// read as "no tiers" or "no discount".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored pricing is unreadable: {0}")]
pub struct PricingDecodeError(pub String);

/// Decodes a variant's stored tiers (the JSON array written by the catalog use cases).
pub fn tiers_from_json(text: &str) -> Result<Vec<PricingTier>, PricingDecodeError> {
    serde_json::from_str(text).map_err(|e| PricingDecodeError(e.to_string()))
}

/// Encodes tiers for storage (the inverse of [`tiers_from_json`]).
pub fn tiers_to_json(tiers: &[PricingTier]) -> String {
    // A Vec of plain structs with string keys always serialises.
    serde_json::to_string(tiers).unwrap_or_else(|_| "[]".into())
}

/// The monthly unit price of a tier after its discount, in minor units (SPEC §2.5): percentage
/// `price × (1 − v/100)` (the stored value is percent × 10 000, 4 decimals), fixed `price − v`
/// (the stored value in minor units), floored at 0, rounded half away from zero.
///
/// Example: 159.00 with a 10 % discount (stored `"100000"`) → 143.10.
/// Errors: [`PricingDecodeError`] when the stored discount value is not an integer.
pub fn unit_price(tier: &PricingTier) -> Result<i64, PricingDecodeError> {
    let base = tier.monthly_price;
    let value = |d: &Discount| {
        d.value
            .parse::<i64>()
            .map_err(|_| PricingDecodeError(format!("discount value {:?}", d.value)))
    };
    Ok(match &tier.discount {
        Some(d) if d.kind == "percentage" => {
            let kept = (1_000_000 - i128::from(value(d)?)).clamp(0, 1_000_000);
            // 0 ≤ kept ≤ 10^6, so the result lies between 0 and `base`.
            crate::money::div_round_half_away(i128::from(base) * kept, 1_000_000) as i64
        }
        Some(d) if d.kind == "fixed" => base.saturating_sub(value(d)?).max(0),
        Some(d) => {
            return Err(PricingDecodeError(format!("discount kind {:?}", d.kind)));
        }
        None => base,
    })
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
    fn unit_prices_apply_the_discount_and_never_go_below_zero() {
        let with = |kind: &str, value: &str| PricingTier {
            discount: Some(Discount {
                kind: kind.into(),
                value: value.into(),
                description: None,
            }),
            ..tier(12, 15_900)
        };
        assert_eq!(unit_price(&tier(12, 15_900)), Ok(15_900));
        // SPEC §4.8: 10 % off 159.00 → 143.10.
        assert_eq!(unit_price(&with("percentage", "100000")), Ok(14_310));
        assert_eq!(unit_price(&with("percentage", "2000000")), Ok(0));
        assert_eq!(unit_price(&with("fixed", "900")), Ok(15_000));
        assert_eq!(unit_price(&with("fixed", "99999")), Ok(0));
        assert_eq!(
            unit_price(&with("fixed", "-9223372036854775808")),
            Ok(i64::MAX)
        );
        assert!(unit_price(&with("fixed", "ten")).is_err());
        assert!(unit_price(&with("bogus", "1")).is_err());
        assert!(tiers_from_json("{not json").is_err());
        let tiers = vec![tier(12, 15_900), tier(24, 12_900)];
        assert_eq!(tiers_from_json(&tiers_to_json(&tiers)), Ok(tiers));
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
