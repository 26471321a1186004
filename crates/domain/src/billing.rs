//! The billing settings a subscription was created with (SPEC §2.6.3), stored with the
//! subscription as a versioned JSON document, so a later billing run or extension generates
//! charges by the same rules even after the business unit changes its settings.
//!
//! Version 1: `{"version":1,"cycle":"start_date"|"fixed_day"|"every_30_days","fixedDay":n?,
//! "firstPayment":"full_month"|"pro_rated"|"free_until_cycle"|"collected_externally",
//! "billingStartOption":"immediate"|"first_of_next_month"|"same_day_next_month"|null}`.

use serde::{Deserialize, Serialize};

use crate::schedule::{BillingCycle, BillingStartOption, FirstPayment};

/// The current version of the stored document.
pub const BILLING_SETTINGS_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Cycle {
    #[serde(rename = "start_date")]
    StartDate,
    #[serde(rename = "fixed_day")]
    FixedDay,
    #[serde(rename = "every_30_days")]
    Every30Days,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum First {
    FullMonth,
    ProRated,
    FreeUntilCycle,
    CollectedExternally,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StartOption {
    Immediate,
    FirstOfNextMonth,
    SameDayNextMonth,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Document {
    version: u32,
    cycle: Cycle,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fixed_day: Option<i8>,
    first_payment: First,
    billing_start_option: Option<StartOption>,
}

/// A stored billing document that cannot be read (unknown version, unknown value, a fixed day
/// outside 1–28 or missing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("billing settings are unreadable: {0}")]
pub struct BillingDecodeError(pub String);

/// The billing settings of one subscription: its cycle, first-payment rule and the
/// `billingStartOption` it was created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingSettings {
    /// The billing cycle.
    pub cycle: BillingCycle,
    /// The first-payment rule.
    pub first_payment: FirstPayment,
    /// The request's billing start option, if any.
    pub option: Option<BillingStartOption>,
}

impl Default for BillingSettings {
    /// The defaults of a business unit without billing settings: cycle `start_date`, first
    /// payment `full_month`, no start option.
    fn default() -> Self {
        BillingSettings {
            cycle: BillingCycle::StartDate,
            first_payment: FirstPayment::FullMonth,
            option: None,
        }
    }
}

impl BillingSettings {
    /// The stored document (version [`BILLING_SETTINGS_VERSION`]).
    pub fn to_json(&self) -> String {
        let (cycle, fixed_day) = match self.cycle {
            BillingCycle::StartDate => (Cycle::StartDate, None),
            BillingCycle::FixedDay(d) => (Cycle::FixedDay, Some(d.clamp(1, 28))),
            BillingCycle::Every30Days => (Cycle::Every30Days, None),
        };
        let doc = Document {
            version: BILLING_SETTINGS_VERSION,
            cycle,
            fixed_day,
            first_payment: match self.first_payment {
                FirstPayment::FullMonth => First::FullMonth,
                FirstPayment::ProRated => First::ProRated,
                FirstPayment::FreeUntilCycle => First::FreeUntilCycle,
                FirstPayment::CollectedExternally => First::CollectedExternally,
            },
            billing_start_option: self.option.map(|o| match o {
                BillingStartOption::Immediate => StartOption::Immediate,
                BillingStartOption::FirstOfNextMonth => StartOption::FirstOfNextMonth,
                BillingStartOption::SameDayNextMonth => StartOption::SameDayNextMonth,
            }),
        };
        // A struct of enums and integers always serialises.
        serde_json::to_string(&doc).unwrap_or_default()
    }

    /// Reads a stored document. Errors: [`BillingDecodeError`] for anything that is not a
    /// version-1 document with known values.
    pub fn from_json(text: &str) -> Result<Self, BillingDecodeError> {
        let doc: Document =
            serde_json::from_str(text).map_err(|e| BillingDecodeError(e.to_string()))?;
        if doc.version != BILLING_SETTINGS_VERSION {
            return Err(BillingDecodeError(format!("version {}", doc.version)));
        }
        let cycle = match (doc.cycle, doc.fixed_day) {
            (Cycle::StartDate, None) => BillingCycle::StartDate,
            (Cycle::Every30Days, None) => BillingCycle::Every30Days,
            (Cycle::FixedDay, Some(d)) if (1..=28).contains(&d) => BillingCycle::FixedDay(d),
            (c, d) => return Err(BillingDecodeError(format!("cycle {c:?} with day {d:?}"))),
        };
        Ok(BillingSettings {
            cycle,
            first_payment: match doc.first_payment {
                First::FullMonth => FirstPayment::FullMonth,
                First::ProRated => FirstPayment::ProRated,
                First::FreeUntilCycle => FirstPayment::FreeUntilCycle,
                First::CollectedExternally => FirstPayment::CollectedExternally,
            },
            option: doc.billing_start_option.map(|o| match o {
                StartOption::Immediate => BillingStartOption::Immediate,
                StartOption::FirstOfNextMonth => BillingStartOption::FirstOfNextMonth,
                StartOption::SameDayNextMonth => BillingStartOption::SameDayNextMonth,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_round_trips() {
        let cycles = [
            BillingCycle::StartDate,
            BillingCycle::FixedDay(1),
            BillingCycle::FixedDay(28),
            BillingCycle::Every30Days,
        ];
        let firsts = [
            FirstPayment::FullMonth,
            FirstPayment::ProRated,
            FirstPayment::FreeUntilCycle,
            FirstPayment::CollectedExternally,
        ];
        let options = [
            None,
            Some(BillingStartOption::Immediate),
            Some(BillingStartOption::FirstOfNextMonth),
            Some(BillingStartOption::SameDayNextMonth),
        ];
        for cycle in cycles {
            for first_payment in firsts {
                for option in options {
                    let s = BillingSettings {
                        cycle,
                        first_payment,
                        option,
                    };
                    assert_eq!(BillingSettings::from_json(&s.to_json()), Ok(s));
                }
            }
        }
    }

    #[test]
    fn the_document_is_versioned_and_strict() {
        let s = BillingSettings {
            cycle: BillingCycle::FixedDay(5),
            first_payment: FirstPayment::ProRated,
            option: None,
        };
        assert_eq!(
            s.to_json(),
            r#"{"version":1,"cycle":"fixed_day","fixedDay":5,"firstPayment":"pro_rated","billingStartOption":null}"#
        );
        for bad in [
            r#"{"cycle":"StartDate","firstPayment":"FullMonth","billingStartOption":null}"#,
            r#"{"version":2,"cycle":"start_date","firstPayment":"full_month","billingStartOption":null}"#,
            r#"{"version":1,"cycle":"fixed_day","firstPayment":"full_month","billingStartOption":null}"#,
            r#"{"version":1,"cycle":"fixed_day","fixedDay":31,"firstPayment":"full_month","billingStartOption":null}"#,
            r#"{"version":1,"cycle":"start_date","firstPayment":"monthly","billingStartOption":null}"#,
            "{}",
        ] {
            assert!(BillingSettings::from_json(bad).is_err(), "{bad}");
        }
    }
}
