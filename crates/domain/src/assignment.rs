//! Which asset a rental held on a date (SPEC §2.7 effects of a payment becoming paid: income is
//! attributed to the asset assigned to the subscription on the charge's billing date). A rental
//! holds one asset at a time; a device replacement closes one assignment and opens the next.

use jiff::civil::Date;

/// One asset held by a rental over `[from, to)`; `to` is `None` while it still holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The asset's serial number.
    pub serial_number: String,
    /// First day held.
    pub from: Date,
    /// First day no longer held, if it ended.
    pub to: Option<Date>,
}

/// The serial number of the asset the rental held on `date`: the assignment whose `[from, to)`
/// contains it; before the first assignment, the first asset; after the last ended, the last
/// asset. `None` only when there is no assignment.
pub fn asset_on(assignments: &[Assignment], date: Date) -> Option<&str> {
    let mut sorted: Vec<&Assignment> = assignments.iter().collect();
    sorted.sort_by_key(|a| a.from);
    sorted
        .iter()
        .find(|a| a.from <= date && a.to.is_none_or(|to| date < to))
        .or_else(|| sorted.iter().rev().find(|a| a.from <= date))
        .or_else(|| sorted.first())
        .map(|a| a.serial_number.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn income_goes_to_the_asset_held_on_the_billing_date() {
        let held = vec![
            Assignment {
                serial_number: "NEW".into(),
                from: d("2025-03-10"),
                to: None,
            },
            Assignment {
                serial_number: "OLD".into(),
                from: d("2025-01-01"),
                to: Some(d("2025-03-10")),
            },
        ];
        assert_eq!(asset_on(&held, d("2025-01-01")), Some("OLD"));
        assert_eq!(asset_on(&held, d("2025-03-09")), Some("OLD"));
        assert_eq!(asset_on(&held, d("2025-03-10")), Some("NEW"));
        assert_eq!(asset_on(&held, d("2026-01-01")), Some("NEW"));
        // Before the contract began (a charge billed in advance): the first asset.
        assert_eq!(asset_on(&held, d("2024-12-31")), Some("OLD"));
        assert_eq!(asset_on(&[], d("2025-01-01")), None);
        // After the last assignment ended: the last asset held.
        let ended = vec![Assignment {
            serial_number: "ONLY".into(),
            from: d("2025-01-01"),
            to: Some(d("2025-06-01")),
        }];
        assert_eq!(asset_on(&ended, d("2025-07-01")), Some("ONLY"));
    }
}
