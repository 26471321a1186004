//! FlexPortal domain: the rules of the rental business, free of I/O and async.
//!
//! - [`ids`]: prefixed, time-ordered identifiers (SPEC §1.5).
//! - [`money`]: exact money in integer minor units of the business unit's currency (SPEC §1.7).
//! - [`time`]: UTC timestamps with millisecond precision and calendar dates (SPEC §1.6).
//! - [`status`]: the enums of products, variants, assets and customers and their transition rules.
//! - [`serial`]: serial-number and IMEI rules for assets (SPEC §2.3).
//! - [`pricing`]: variant pricing tiers per contract length (SPEC §2.2).
//! - [`tax`]: VAT on charges and orders, checked (SPEC §2.7 Amounts).
//! - [`billing`]: the versioned billing settings document of a subscription (SPEC §2.6.3).
//! - [`quote`]: buyout prices and early-return fees (SPEC §2.13 quote metrics).
//! - [`settings`]: the typed settings document of a business unit (SPEC §2.1).
//! - [`assignment`]: which asset a rental held on a date (income attribution, SPEC §2.7).
//! - [`error`]: the typed error every use case returns, with its wire code (SPEC §1.4).

pub mod assignment;
pub mod billing;
pub mod error;
pub mod ids;
pub mod money;
pub mod pricing;
pub mod quote;
pub mod recovery;
pub mod schedule;
pub mod serial;
pub mod settings;
pub mod status;
pub mod tax;
pub mod time;

pub use error::{Detail, DomainError};
pub use money::{Currency, Money};
