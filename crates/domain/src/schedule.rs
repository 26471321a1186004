//! Contract dates and the payment schedule of a subscription (SPEC §2.6.3), remaining months and
//! values and the months counters (SPEC §2.6.4), billing periods, due dates, idempotency keys and
//! payment tax amounts (SPEC §2.7).
//!
//! Everything here is pure: dates are [`jiff::civil::Date`] calendar dates (SPEC §1.6), money is
//! `i64` minor units of the business unit's currency (SPEC §1.7), lengths are whole months and
//! terms are whole days. Month arithmetic always starts from the original anchor (never chained)
//! and clamps to the end of the target month ([`add_months`]).

use jiff::Span;
use jiff::civil::Date;

use crate::money::div_round_half_away;

/// The tenant's billing cycle setting (SPEC §2.1 "billing cycle", §2.6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillingCycle {
    /// `start_date` (default): charges on the start date's day of month, from the start date.
    StartDate,
    /// `fixed_day`: charges on this day of month, 1–28 (values outside are clamped to 1–28).
    FixedDay(i8),
    /// `every_30_days`: charges every 30 days from the start date.
    Every30Days,
}

/// The tenant's first-payment setting (SPEC §2.1 "first payment", §2.6.3). Only `fixed_day`
/// cycles with a start day different from the fixed day distinguish `FullMonth`, `ProRated` and
/// `FreeUntilCycle`; `CollectedExternally` applies to every cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FirstPayment {
    /// `full_month` (default): a full monthly charge on the start date.
    FullMonth,
    /// `pro_rated`: a pro-rated stub charge from the start date to the first cycle date.
    ProRated,
    /// `free_until_cycle`: nothing is charged before the first cycle date.
    FreeUntilCycle,
    /// `collected_externally`: the `full_month` charges, the first one created already paid.
    CollectedExternally,
}

/// The optional `billingStartOption` of createSubscription (SPEC §2.6.5), which overrides the
/// tenant's cycle and first-payment settings as laid out in the SPEC §2.6.3 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillingStartOption {
    /// `immediate`: same as cycle `start_date` (the tenant's `collected_externally` still marks
    /// the first charge paid).
    Immediate,
    /// `first_of_next_month`: anchor `T` = the 1st of the month after the start date (always),
    /// N charges from `T`, nothing charged before `T`.
    FirstOfNextMonth,
    /// `same_day_next_month`: billing in arrears, N charges one month after each service month.
    SameDayNextMonth,
}

/// What a schedule is generated from (SPEC §2.6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleInput {
    /// Start date `S` of the contract.
    pub start: Date,
    /// Contract length `N` in months (1–120; 0 or less gives no charges).
    pub months: i64,
    /// Monthly amount `A` in minor units (base amount, before tax).
    pub monthly_amount: i64,
    /// The tenant's billing cycle.
    pub cycle: BillingCycle,
    /// The tenant's first-payment setting.
    pub first_payment: FirstPayment,
    /// createSubscription's `billingStartOption`, overriding the tenant settings when present.
    pub option: Option<BillingStartOption>,
}

/// One generated schedule charge (SPEC §2.6.3); tax and totals come from [`crate::tax::apply_tax`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The billing date `B` (the payment's billing date; `billingPeriod` and `dueDate` derive
    /// from it).
    pub billing_date: Date,
    /// First day of the service period the charge pays for: the billing date, except in billing
    /// in arrears (`same_day_next_month`), where it is one month earlier. Remaining charges and
    /// month counters are decided by this date (SPEC §2.6.4).
    pub service_start: Date,
    /// Base amount in minor units (the monthly amount, or the pro-rated stub amount).
    pub base_amount: i64,
    /// A pro-rated stub: not a contract month (excluded from month counts and remaining values).
    pub stub: bool,
    /// Created already `paid` (`collected_externally`: provider `manual`, `manuallyMarked: true`,
    /// `paidAt` = start date); every other charge is created `pending`.
    pub paid_at_creation: bool,
}

/// A generated schedule: anchor, charges in billing-date order, and contract end date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The cycle anchor `T` (SPEC §2.6.3): extensions continue with `add_months(T, k)`.
    pub anchor: Date,
    /// The charges, billing dates strictly increasing.
    pub charges: Vec<Charge>,
    /// The contract's `endDate` (last day of service).
    pub end_date: Date,
}

fn shift(date: Date, span: Result<Span, jiff::Error>, forward: bool) -> Date {
    let extreme = if forward { Date::MAX } else { Date::MIN };
    span.and_then(|s| date.checked_add(s)).unwrap_or(extreme)
}

/// `addMonths(anchor, k)` (SPEC §1.6): moves the year/month by `k` months (may be negative) and
/// keeps the anchor's day of month, clamped to the last day of the target month. Always call it
/// with the original anchor (Jan 31 + 2 months = Mar 31). Saturates at jiff's date range.
pub fn add_months(anchor: Date, k: i64) -> Date {
    shift(anchor, Span::new().try_months(k), k >= 0)
}

/// `date` plus `days` calendar days (may be negative). Saturates at jiff's date range.
pub fn add_days(date: Date, days: i64) -> Date {
    shift(date, Span::new().try_days(days), days >= 0)
}

/// The first date strictly after `after` whose day of month is `day` (1–28, clamped to that
/// range): the `fixed_day` cycle anchor `T` (SPEC §2.6.3), also usable for billing-group days.
pub fn next_day_of_month(after: Date, day: i8) -> Date {
    let day = day.clamp(1, 28);
    if after.day() < day {
        Date::new(after.year(), after.month(), day).unwrap_or(after)
    } else {
        let next = add_months(after.first_of_month(), 1);
        Date::new(next.year(), next.month(), day).unwrap_or(next)
    }
}

/// The charges and end date of one mode, before the `collected_externally` flag.
enum Mode {
    /// N charges on `add_months(T, k)`, end `add_months(T, N) − 1 day`.
    Monthly { anchor: Date },
    /// Fixed day, full month: A on S, then N−1 charges from T; end `add_months(T, N−1) − 1 day`.
    FullMonthThenCycle { anchor: Date },
    /// Fixed day, pro-rated: stub on S, then N charges from T; end `add_months(T, N) − 1 day`.
    StubThenCycle { anchor: Date },
    /// Billing in arrears: charges on `add_months(S, k + 1)`; end `add_months(S, N) − 1 day`.
    Arrears,
    /// Charges on `S + 30·k days`; end `add_months(S, N) − 1 day`.
    Every30Days,
}

fn resolve(input: &ScheduleInput) -> (Mode, bool) {
    let s = input.start;
    let externally = input.first_payment == FirstPayment::CollectedExternally;
    let cycle = match input.option {
        Some(BillingStartOption::FirstOfNextMonth) => {
            let anchor = add_months(s.first_of_month(), 1);
            return (Mode::Monthly { anchor }, false);
        }
        Some(BillingStartOption::SameDayNextMonth) => return (Mode::Arrears, false),
        Some(BillingStartOption::Immediate) => BillingCycle::StartDate,
        None => input.cycle,
    };
    let mode = match cycle {
        BillingCycle::StartDate => Mode::Monthly { anchor: s },
        BillingCycle::Every30Days => Mode::Every30Days,
        BillingCycle::FixedDay(d) if s.day() == d.clamp(1, 28) => Mode::Monthly { anchor: s },
        BillingCycle::FixedDay(d) => {
            let anchor = next_day_of_month(s, d);
            match input.first_payment {
                FirstPayment::FullMonth | FirstPayment::CollectedExternally => {
                    Mode::FullMonthThenCycle { anchor }
                }
                FirstPayment::ProRated => Mode::StubThenCycle { anchor },
                FirstPayment::FreeUntilCycle => Mode::Monthly { anchor },
            }
        }
    };
    (mode, externally)
}

/// The pro-rated stub amount `round2(A × d ÷ m)` in minor units, half away from zero (SPEC
/// §2.6.3): `d` = days from `start` (inclusive) to `anchor` (exclusive), `m` = days in `start`'s
/// month. Example: 89.00, 2025-01-20 → 2025-02-01 → 12/31 → 34.45.
pub fn stub_amount(monthly_amount: i64, start: Date, anchor: Date) -> i64 {
    let days = stub_days(start, anchor);
    let month_days = i128::from(start.days_in_month());
    div_round_half_away(i128::from(monthly_amount) * i128::from(days), month_days) as i64
}

/// Days from `start` (inclusive) to `anchor` (exclusive); 0 when `anchor` is not after `start`.
fn stub_days(start: Date, anchor: Date) -> i64 {
    if anchor <= start {
        return 0;
    }
    start
        .until((jiff::Unit::Day, anchor))
        .map(|span| i64::from(span.get_days()))
        .unwrap_or(0)
}

fn charge(billing_date: Date, service_start: Date, base_amount: i64) -> Charge {
    Charge {
        billing_date,
        service_start,
        base_amount,
        stub: false,
        paid_at_creation: false,
    }
}

/// Generates the payment schedule and contract dates for every row of the SPEC §2.6.3 table:
///
/// - cycle `start_date` / option `immediate` / fixed day equal to the start day: N charges of A
///   on `add_months(S, k)`, end `add_months(S, N) − 1 day`;
/// - fixed day ≠ start day: `full_month` (A on S, then N−1 charges from T), `pro_rated` (stub on
///   S, then N charges from T), `free_until_cycle` (N charges from T);
/// - option `first_of_next_month`: T = the 1st of the next month, N charges from T;
/// - `collected_externally`: the `full_month` charges with the first one `paid_at_creation`;
/// - option `same_day_next_month` (arrears): charge k (1…N) billed on `add_months(S, k)` for the
///   service month starting `add_months(S, k − 1)`; end `add_months(S, N) − 1 day`;
/// - cycle `every_30_days`: N charges on `S + 30·k` days, end `add_months(S, N) − 1 day`.
///
/// Amounts are minor units; `months` ≤ 0 yields no charges.
pub fn generate(input: &ScheduleInput) -> Schedule {
    let s = input.start;
    let n = input.months.max(0);
    let a = input.monthly_amount;
    let (mode, externally) = resolve(input);
    let mut charges = Vec::with_capacity(n as usize + 1);
    let (anchor, end_date) = match mode {
        Mode::Monthly { anchor } => {
            for k in 0..n {
                let b = add_months(anchor, k);
                charges.push(charge(b, b, a));
            }
            (anchor, add_days(add_months(anchor, n), -1))
        }
        Mode::FullMonthThenCycle { anchor } => {
            if n >= 1 {
                charges.push(charge(s, s, a));
            }
            for k in 0..(n - 1).max(0) {
                let b = add_months(anchor, k);
                charges.push(charge(b, b, a));
            }
            (anchor, add_days(add_months(anchor, (n - 1).max(0)), -1))
        }
        Mode::StubThenCycle { anchor } => {
            if n >= 1 {
                charges.push(Charge {
                    stub: true,
                    ..charge(s, s, stub_amount(a, s, anchor))
                });
            }
            for k in 0..n {
                let b = add_months(anchor, k);
                charges.push(charge(b, b, a));
            }
            (anchor, add_days(add_months(anchor, n), -1))
        }
        Mode::Arrears => {
            for k in 0..n {
                charges.push(charge(add_months(s, k + 1), add_months(s, k), a));
            }
            (add_months(s, 1), add_days(add_months(s, n), -1))
        }
        Mode::Every30Days => {
            for k in 0..n {
                let b = add_days(s, 30 * k);
                charges.push(charge(b, b, a));
            }
            (s, add_days(add_months(s, n), -1))
        }
    };
    if externally && let Some(first) = charges.first_mut() {
        first.paid_at_creation = true;
    }
    Schedule {
        anchor,
        charges,
        end_date,
    }
}

/// An extension by `extra_months` months at `new_monthly_amount` minor units (SPEC §2.6.3
/// "Extension"): the charges appended after those of `input` (which must describe the contract
/// as it stands, with its current total length and the original settings), continuing the same
/// cycle, and the new `endDate` (the formula of the mode with the new total length). Already
/// generated charges are not returned and keep their amounts. `anchor` is unchanged.
pub fn extend(input: &ScheduleInput, extra_months: i64, new_monthly_amount: i64) -> Schedule {
    let current = generate(input);
    let longer = generate(&ScheduleInput {
        months: input.months.max(0) + extra_months.max(0),
        ..input.clone()
    });
    let charges = longer.charges[current.charges.len()..]
        .iter()
        .map(|c| Charge {
            base_amount: new_monthly_amount,
            paid_at_creation: false,
            ..c.clone()
        })
        .collect();
    Schedule {
        anchor: longer.anchor,
        charges,
        end_date: longer.end_date,
    }
}

/// The `billingPeriod` of a billing date: `YYYY-MM` (SPEC §2.7).
pub fn billing_period(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The `dueDate` of a charge billed on `billing`: `billing + terms_days` days (SPEC §2.6.3).
/// `terms_days` is 7/14/30 for `net_7`/`net_14`/`net_30` for business customers, 0 otherwise
/// (the caller decides). Example: 2025-02-01, Net 30 → 2025-03-03.
pub fn due_date(billing: Date, terms_days: i64) -> Date {
    add_days(billing, terms_days)
}

/// Payment-terms setting → days (SPEC §2.1 "payment terms", §2.6.3): `net_7` 7, `net_14` 14,
/// `net_30` 30, anything else (`immediate`) 0. Apply only to `business` customers.
pub fn terms_days(payment_terms: &str) -> i64 {
    match payment_terms {
        "net_7" => 7,
        "net_14" => 14,
        "net_30" => 30,
        _ => 0,
    }
}

/// The recommended idempotency keys of `charges` (SPEC §2.7), one per charge in the same order:
/// `<rentalId>:<YYYY-MM>`; `<rentalId>:<YYYY-MM-DD>` for every non-stub charge whose billing
/// month holds another non-stub charge of the slice (30-day cycle, fixed-day full-month start);
/// `<rentalId>:<YYYY-MM>:stub` for a pro-rated stub. Pass the whole schedule; keys are unique
/// when billing dates are strictly increasing, as [`generate`] produces them.
pub fn idempotency_keys(rental_id: &str, charges: &[Charge]) -> Vec<String> {
    let month = |d: Date| (d.year(), d.month());
    let mut per_month: std::collections::HashMap<(i16, i8), usize> =
        std::collections::HashMap::with_capacity(charges.len());
    for c in charges.iter().filter(|c| !c.stub) {
        *per_month.entry(month(c.billing_date)).or_default() += 1;
    }
    charges
        .iter()
        .map(|c| {
            let period = billing_period(c.billing_date);
            if c.stub {
                format!("{rental_id}:{period}:stub")
            } else if per_month.get(&month(c.billing_date)).copied().unwrap_or(0) > 1 {
                format!("{rental_id}:{}", c.billing_date)
            } else {
                format!("{rental_id}:{period}")
            }
        })
        .collect()
}

/// A schedule charge as seen by the remaining/months calculations (SPEC §2.6.4). A consolidated
/// line counts as its member charge (paid when its consolidated payment is paid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeState {
    /// First day of the service period (see [`Charge::service_start`]).
    pub service_start: Date,
    /// Base monthly amount in minor units (net, before tax).
    pub base_amount: i64,
    /// A pro-rated stub (never a contract month).
    pub stub: bool,
    /// Neither paid nor cancelled (`pending`, `processing` or `failed`).
    pub open: bool,
    /// Cancelled (a paid charge has `open` and `cancelled` both false).
    pub cancelled: bool,
}

impl ChargeState {
    fn remaining_at(&self, as_of: Date) -> bool {
        !self.stub && self.open && !self.cancelled && self.service_start > as_of
    }
}

/// `remainingMonths` = |R(X)| (SPEC §2.6.4): non-stub charges that are open (neither paid nor
/// cancelled) and whose service period starts strictly after `as_of`. A count of months.
pub fn remaining_months(charges: &[ChargeState], as_of: Date) -> i64 {
    charges.iter().filter(|c| c.remaining_at(as_of)).count() as i64
}

/// `remainingContractValue` (= `remainingPayments`) in minor units: Σ base amounts of R(X)
/// (SPEC §2.6.4).
pub fn remaining_value(charges: &[ChargeState], as_of: Date) -> i64 {
    charges
        .iter()
        .filter(|c| c.remaining_at(as_of))
        .map(|c| c.base_amount)
        .sum()
}

/// `actualMonthsRented` in months (SPEC §2.6.4): the number of non-stub schedule charges whose
/// service period starts on or before `as_of`, whatever their payment status (a month of service
/// given counts even if its payment was waived). For an ended subscription pass the effective
/// end date (the value is frozen there).
pub fn months_elapsed(charges: &[ChargeState], as_of: Date) -> i64 {
    charges
        .iter()
        .filter(|c| !c.stub && c.service_start <= as_of)
        .count() as i64
}

/// `monthsSaved` in months (SPEC §2.6.4): `max(0, contract_length − months_elapsed)` at an early
/// ending; the caller uses 0 for a completion.
pub fn months_saved(contract_length: i64, months_elapsed: i64) -> i64 {
    (contract_length - months_elapsed).max(0)
}

/// `nextBillingDate` (SPEC §2.6.1): the earliest billing date strictly after `today` among the
/// open charges (`(billing date, open)` pairs: open = neither paid nor cancelled). `None` when
/// there is none; the caller also omits it when the subscription is not `active`.
pub fn next_billing_date(charges: &[(Date, bool)], today: Date) -> Option<Date> {
    charges
        .iter()
        .filter(|(b, open)| *open && *b > today)
        .map(|(b, _)| *b)
        .min()
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
