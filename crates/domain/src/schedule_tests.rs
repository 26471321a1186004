//! Tests of `schedule`.

use super::*;
use jiff::civil::date;
use proptest::prelude::*;

fn d(text: &str) -> Date {
    text.parse().unwrap()
}

fn input(start: &str, cycle: BillingCycle, first: FirstPayment) -> ScheduleInput {
    ScheduleInput {
        start: d(start),
        months: 12,
        monthly_amount: 8_900,
        cycle,
        first_payment: first,
        option: None,
    }
}

fn dates(s: &Schedule) -> Vec<String> {
    s.charges
        .iter()
        .map(|c| c.billing_date.to_string())
        .collect()
}

fn states(s: &Schedule) -> Vec<ChargeState> {
    s.charges
        .iter()
        .map(|c| ChargeState {
            service_start: c.service_start,
            base_amount: c.base_amount,
            stub: c.stub,
            open: !c.paid_at_creation,
            cancelled: false,
        })
        .collect()
}

#[test]
fn add_months_clamps_from_the_anchor() {
    assert_eq!(add_months(d("2025-01-31"), 1), d("2025-02-28"));
    assert_eq!(add_months(d("2025-01-31"), 2), d("2025-03-31"));
    assert_eq!(add_months(d("2024-01-31"), 1), d("2024-02-29"));
    assert_eq!(add_months(d("2024-02-29"), 12), d("2025-02-28"));
    assert_eq!(add_months(d("2025-03-31"), -1), d("2025-02-28"));
    assert_eq!(add_months(d("2025-01-15"), 0), d("2025-01-15"));
    assert_eq!(add_months(d("9999-12-01"), 1), Date::MAX);
}

#[test]
fn standard_twelve_months_from_2025_01_01() {
    // SPEC §4.2.
    let s = generate(&input(
        "2025-01-01",
        BillingCycle::StartDate,
        FirstPayment::FullMonth,
    ));
    assert_eq!(s.anchor, d("2025-01-01"));
    assert_eq!(s.end_date, d("2025-12-31"));
    assert_eq!(s.charges.len(), 12);
    let net30 = [
        "2025-01-31",
        "2025-03-03",
        "2025-03-31",
        "2025-05-01",
        "2025-05-31",
        "2025-07-01",
        "2025-07-31",
        "2025-08-31",
        "2025-10-01",
        "2025-10-31",
        "2025-12-01",
        "2025-12-31",
    ];
    for (k, c) in s.charges.iter().enumerate() {
        let expected = date(2025, k as i8 + 1, 1);
        assert_eq!(c.billing_date, expected);
        assert_eq!(c.service_start, expected);
        assert_eq!(c.base_amount, 8_900);
        assert!(!c.stub && !c.paid_at_creation);
        assert_eq!(billing_period(c.billing_date), format!("2025-{:02}", k + 1));
        assert_eq!(due_date(c.billing_date, 0), expected);
        assert_eq!(due_date(c.billing_date, 30).to_string(), net30[k]);
    }
    assert_eq!(due_date(d("2025-01-01"), 7), d("2025-01-08"));
    assert_eq!(due_date(d("2025-01-01"), 14), d("2025-01-15"));
    assert_eq!(terms_days("net_30"), 30);
    assert_eq!(terms_days("immediate"), 0);
    assert_eq!(
        s.charges.iter().map(|c| c.base_amount).sum::<i64>(),
        106_800
    );
    let keys = idempotency_keys("sub_1", &s.charges);
    assert_eq!(keys[0], "sub_1:2025-01");
    assert_eq!(keys[11], "sub_1:2025-12");
    // nextBillingDate.
    let open: Vec<(Date, bool)> = s.charges.iter().map(|c| (c.billing_date, true)).collect();
    assert_eq!(
        next_billing_date(&open, d("2025-01-01")),
        Some(d("2025-02-01"))
    );
    assert_eq!(
        next_billing_date(&open, d("2025-03-15")),
        Some(d("2025-04-01"))
    );
    assert_eq!(next_billing_date(&open, d("2025-12-01")), None);
    // A month paid in advance is skipped.
    let mut paid = open.clone();
    paid[3].1 = false;
    assert_eq!(
        next_billing_date(&paid, d("2025-03-15")),
        Some(d("2025-05-01"))
    );
}

#[test]
fn month_end_and_leap_year_anchors() {
    // SPEC §4.3.
    let cases: [(&str, i64, &[&str], &str); 4] = [
        (
            "2025-01-31",
            12,
            &[
                "2025-01-31",
                "2025-02-28",
                "2025-03-31",
                "2025-04-30",
                "2025-05-31",
                "2025-06-30",
                "2025-07-31",
                "2025-08-31",
                "2025-09-30",
                "2025-10-31",
                "2025-11-30",
                "2025-12-31",
            ],
            "2026-01-30",
        ),
        (
            "2024-01-31",
            6,
            &[
                "2024-01-31",
                "2024-02-29",
                "2024-03-31",
                "2024-04-30",
                "2024-05-31",
                "2024-06-30",
            ],
            "2024-07-30",
        ),
        (
            "2024-02-29",
            12,
            &[
                "2024-02-29",
                "2024-03-29",
                "2024-04-29",
                "2024-05-29",
                "2024-06-29",
                "2024-07-29",
                "2024-08-29",
                "2024-09-29",
                "2024-10-29",
                "2024-11-29",
                "2024-12-29",
                "2025-01-29",
            ],
            "2025-02-27",
        ),
        (
            "2025-08-31",
            6,
            &[
                "2025-08-31",
                "2025-09-30",
                "2025-10-31",
                "2025-11-30",
                "2025-12-31",
                "2026-01-31",
            ],
            "2026-02-27",
        ),
    ];
    for (start, months, expected, end) in cases {
        let s = generate(&ScheduleInput {
            months,
            ..input(start, BillingCycle::StartDate, FirstPayment::FullMonth)
        });
        assert_eq!(dates(&s), expected, "start {start}");
        assert_eq!(s.end_date.to_string(), end, "start {start}");
    }
}

fn monthly(from: &str, count: i64) -> Vec<String> {
    (0..count)
        .map(|k| add_months(d(from), k).to_string())
        .collect()
}

#[test]
fn other_billing_starts_from_2025_01_20() {
    // SPEC §4.4, every row.
    let start = "2025-01-20";
    // immediate (default), as tenant setting and as option.
    let tenant = generate(&input(
        start,
        BillingCycle::StartDate,
        FirstPayment::FullMonth,
    ));
    let option = generate(&ScheduleInput {
        option: Some(BillingStartOption::Immediate),
        ..input(start, BillingCycle::Every30Days, FirstPayment::ProRated)
    });
    for s in [&tenant, &option] {
        assert_eq!(dates(s), monthly("2025-01-20", 12));
        assert_eq!(s.end_date, d("2026-01-19"));
        assert!(s.charges.iter().all(|c| c.base_amount == 8_900));
    }
    // A fixed day equal to the start day behaves like start_date.
    let same_day = generate(&input(
        start,
        BillingCycle::FixedDay(20),
        FirstPayment::ProRated,
    ));
    assert_eq!(same_day, tenant);

    // fixed day 1 + pro_rated.
    let s = generate(&input(
        start,
        BillingCycle::FixedDay(1),
        FirstPayment::ProRated,
    ));
    assert_eq!(s.anchor, d("2025-02-01"));
    assert_eq!(s.charges.len(), 13);
    let stub = &s.charges[0];
    assert_eq!(
        (stub.billing_date, stub.base_amount, stub.stub),
        (d("2025-01-20"), 3_445, true)
    );
    assert_eq!(dates(&s)[1..], monthly("2025-02-01", 12)[..]);
    assert!(
        s.charges[1..]
            .iter()
            .all(|c| c.base_amount == 8_900 && !c.stub)
    );
    assert_eq!(s.end_date, d("2026-01-31"));
    let keys = idempotency_keys("sub_1", &s.charges);
    assert_eq!(keys[0], "sub_1:2025-01:stub");
    assert_eq!(keys[1], "sub_1:2025-02");

    // fixed day 1 + free_until_cycle, and option first_of_next_month.
    let free = generate(&input(
        start,
        BillingCycle::FixedDay(1),
        FirstPayment::FreeUntilCycle,
    ));
    let first_of_next = generate(&ScheduleInput {
        option: Some(BillingStartOption::FirstOfNextMonth),
        ..input(start, BillingCycle::StartDate, FirstPayment::FullMonth)
    });
    for s in [&free, &first_of_next] {
        assert_eq!(s.anchor, d("2025-02-01"));
        assert_eq!(dates(s), monthly("2025-02-01", 12));
        assert_eq!(s.end_date, d("2026-01-31"));
    }
    // first_of_next_month moves a start on the 1st to the next month too.
    let on_first = generate(&ScheduleInput {
        option: Some(BillingStartOption::FirstOfNextMonth),
        ..input(
            "2025-01-01",
            BillingCycle::StartDate,
            FirstPayment::FullMonth,
        )
    });
    assert_eq!(on_first.charges[0].billing_date, d("2025-02-01"));
    assert_eq!(on_first.end_date, d("2026-01-31"));

    // fixed day 1 + full_month.
    let s = generate(&input(
        start,
        BillingCycle::FixedDay(1),
        FirstPayment::FullMonth,
    ));
    let mut expected = vec!["2025-01-20".to_string()];
    expected.extend(monthly("2025-02-01", 11));
    assert_eq!(dates(&s), expected);
    assert!(s.charges.iter().all(|c| c.base_amount == 8_900));
    assert_eq!(s.end_date, d("2025-12-31"));

    // collected_externally (cycle start date).
    let s = generate(&input(
        start,
        BillingCycle::StartDate,
        FirstPayment::CollectedExternally,
    ));
    assert_eq!(dates(&s), monthly("2025-01-20", 12));
    assert_eq!(s.end_date, d("2026-01-19"));
    assert!(s.charges[0].paid_at_creation);
    assert!(s.charges[1..].iter().all(|c| !c.paid_at_creation));
    // collected_externally with a fixed day: the full_month charges, first one paid.
    let s = generate(&input(
        start,
        BillingCycle::FixedDay(1),
        FirstPayment::CollectedExternally,
    ));
    assert_eq!(dates(&s), expected);
    assert!(s.charges[0].paid_at_creation);
    assert_eq!(s.end_date, d("2025-12-31"));

    // same_day_next_month (arrears).
    let s = generate(&ScheduleInput {
        option: Some(BillingStartOption::SameDayNextMonth),
        ..input(start, BillingCycle::StartDate, FirstPayment::FullMonth)
    });
    assert_eq!(s.anchor, d("2025-02-20"));
    assert_eq!(dates(&s), monthly("2025-02-20", 12));
    assert_eq!(s.end_date, d("2026-01-19"));
    let last = s.charges.last().unwrap();
    assert_eq!(last.billing_date, d("2026-01-20"));
    assert_eq!(last.service_start, d("2025-12-20"));
    assert_eq!(s.charges[0].service_start, d("2025-01-20"));

    // every_30_days.
    let s = generate(&input(
        start,
        BillingCycle::Every30Days,
        FirstPayment::FullMonth,
    ));
    assert_eq!(
        dates(&s),
        [
            "2025-01-20",
            "2025-02-19",
            "2025-03-21",
            "2025-04-20",
            "2025-05-20",
            "2025-06-19",
            "2025-07-19",
            "2025-08-18",
            "2025-09-17",
            "2025-10-17",
            "2025-11-16",
            "2025-12-16"
        ]
    );
    assert_eq!(s.end_date, d("2026-01-19"));
}

#[test]
fn arrears_from_a_month_end_stays_on_the_anchor_day() {
    let s = generate(&ScheduleInput {
        months: 3,
        option: Some(BillingStartOption::SameDayNextMonth),
        ..input(
            "2025-01-31",
            BillingCycle::StartDate,
            FirstPayment::FullMonth,
        )
    });
    assert_eq!(dates(&s), ["2025-02-28", "2025-03-31", "2025-04-30"]);
    assert_eq!(s.end_date, d("2025-04-29"));
    // The last charge falls one day after the end date.
    assert_eq!(add_days(s.end_date, 1), s.charges[2].billing_date);
}

#[test]
fn two_charges_in_one_month_use_day_keys() {
    // every_30_days: Jan 1 and Jan 31.
    let s = generate(&ScheduleInput {
        months: 3,
        ..input(
            "2025-01-01",
            BillingCycle::Every30Days,
            FirstPayment::FullMonth,
        )
    });
    assert_eq!(dates(&s), ["2025-01-01", "2025-01-31", "2025-03-02"]);
    assert_eq!(
        idempotency_keys("sub_1", &s.charges),
        ["sub_1:2025-01-01", "sub_1:2025-01-31", "sub_1:2025-03"]
    );
    // fixed-day full-month start in the same month as the anchor.
    let s = generate(&ScheduleInput {
        months: 2,
        ..input(
            "2025-01-05",
            BillingCycle::FixedDay(20),
            FirstPayment::FullMonth,
        )
    });
    assert_eq!(dates(&s), ["2025-01-05", "2025-01-20"]);
    assert_eq!(s.end_date, d("2025-02-19"));
    assert_eq!(
        idempotency_keys("sub_1", &s.charges),
        ["sub_1:2025-01-05", "sub_1:2025-01-20"]
    );
    // A stub sharing the anchor's month keeps the month keys.
    let s = generate(&ScheduleInput {
        months: 1,
        ..input(
            "2025-01-05",
            BillingCycle::FixedDay(20),
            FirstPayment::ProRated,
        )
    });
    assert_eq!(s.charges[0].base_amount, 4_306); // 89 × 15 / 31 = 43.064…
    assert_eq!(
        idempotency_keys("sub_1", &s.charges),
        ["sub_1:2025-01:stub", "sub_1:2025-01"]
    );
}

#[test]
fn stub_amounts_round_half_away_from_zero() {
    assert_eq!(stub_amount(8_900, d("2025-01-20"), d("2025-02-01")), 3_445);
    // 0.01 × 15 / 30 = 0.005 → 0.01 (half away from zero).
    assert_eq!(stub_amount(1, d("2025-04-16"), d("2025-05-01")), 1);
    assert_eq!(stub_amount(8_900, d("2025-01-20"), d("2025-01-20")), 0);
}

#[test]
fn extension_continues_the_cycle() {
    // SPEC §4.7: 12 × 89.00 from 2025-01-01 extended by 6 at 75.00.
    let base = input(
        "2025-01-01",
        BillingCycle::StartDate,
        FirstPayment::FullMonth,
    );
    let ext = extend(&base, 6, 7_500);
    assert_eq!(dates(&ext), monthly("2026-01-01", 6));
    assert!(ext.charges.iter().all(|c| c.base_amount == 7_500));
    assert_eq!(ext.end_date, d("2026-06-30"));
    // Documented end dates: 2024-02-01 + 12 + 6 and 2024-07-01 + 12 + 6.
    for (start, end) in [("2024-02-01", "2025-07-31"), ("2024-07-01", "2025-12-31")] {
        let base = input(start, BillingCycle::StartDate, FirstPayment::FullMonth);
        assert_eq!(extend(&base, 6, 8_900).end_date.to_string(), end);
    }
    // Fixed-day full month: the next charges continue add_months(T, k).
    let base = input(
        "2025-01-20",
        BillingCycle::FixedDay(1),
        FirstPayment::FullMonth,
    );
    let ext = extend(&base, 2, 8_900);
    assert_eq!(dates(&ext), ["2026-01-01", "2026-02-01"]);
    assert_eq!(ext.end_date, d("2026-02-28"));
}

#[test]
fn remaining_and_elapsed_as_of_mid_june() {
    // SPEC §2.6.4 / §4.5: 12 × 89.00 from 2025-01-01, 6 paid, as of 2025-06-15.
    let s = generate(&input(
        "2025-01-01",
        BillingCycle::StartDate,
        FirstPayment::FullMonth,
    ));
    let mut st = states(&s);
    for c in st.iter_mut().take(6) {
        c.open = false;
    }
    let x = d("2025-06-15");
    assert_eq!(months_elapsed(&st, x), 6);
    assert_eq!(remaining_months(&st, x), 6);
    assert_eq!(remaining_value(&st, x), 53_400);
    assert_eq!(months_saved(12, 6), 6);
    assert_eq!(months_saved(12, 13), 0);
    // Unpaid past months are not remaining; a month paid in advance is not remaining either.
    let mut st2 = states(&s);
    st2[8].open = false;
    assert_eq!(remaining_months(&st2, x), 5);
    assert_eq!(remaining_value(&st2, x), 44_500);
    // Cancelled charges are not remaining.
    st2[9].open = false;
    st2[9].cancelled = true;
    assert_eq!(remaining_months(&st2, x), 4);
    // As of the start date: 1 elapsed; at 2025-12-15 all 12 and nothing remains.
    assert_eq!(months_elapsed(&st, d("2025-01-01")), 1);
    assert_eq!(months_elapsed(&st, d("2024-12-31")), 0);
    assert_eq!(months_elapsed(&st, d("2025-12-15")), 12);
    assert_eq!(remaining_months(&st, d("2025-12-15")), 0);
}

#[test]
fn stubs_and_arrears_follow_service_periods() {
    let s = generate(&input(
        "2025-01-20",
        BillingCycle::FixedDay(1),
        FirstPayment::ProRated,
    ));
    let st = states(&s);
    assert_eq!(months_elapsed(&st, d("2025-01-25")), 0);
    assert_eq!(remaining_months(&st, d("2025-01-25")), 12);
    assert_eq!(remaining_value(&st, d("2025-01-19")), 106_800);
    // Arrears: the 2026-01-20 charge pays for Dec 20 … Jan 19, so at the end date it has
    // started and is not remaining.
    let s = generate(&ScheduleInput {
        option: Some(BillingStartOption::SameDayNextMonth),
        ..input(
            "2025-01-20",
            BillingCycle::StartDate,
            FirstPayment::FullMonth,
        )
    });
    let st = states(&s);
    assert_eq!(months_elapsed(&st, s.end_date), 12);
    assert_eq!(remaining_months(&st, s.end_date), 0);
    assert_eq!(months_elapsed(&st, d("2025-01-20")), 1);
    assert_eq!(remaining_months(&st, d("2025-01-20")), 11);
}

fn cycles() -> impl Strategy<Value = BillingCycle> {
    prop_oneof![
        Just(BillingCycle::StartDate),
        Just(BillingCycle::Every30Days),
        (1i8..=28).prop_map(BillingCycle::FixedDay),
    ]
}

fn firsts() -> impl Strategy<Value = FirstPayment> {
    prop_oneof![
        Just(FirstPayment::FullMonth),
        Just(FirstPayment::ProRated),
        Just(FirstPayment::FreeUntilCycle),
        Just(FirstPayment::CollectedExternally),
    ]
}

fn options() -> impl Strategy<Value = Option<BillingStartOption>> {
    prop_oneof![
        Just(None),
        Just(Some(BillingStartOption::Immediate)),
        Just(Some(BillingStartOption::FirstOfNextMonth)),
        Just(Some(BillingStartOption::SameDayNextMonth)),
    ]
}

fn dates_2000_2100() -> impl Strategy<Value = Date> {
    (0i64..36_890).prop_map(|n| add_days(d("2000-01-01"), n))
}

proptest! {
    #[test]
    fn immediate_schedules_are_regular(
        start in dates_2000_2100(),
        months in 1i64..=120,
        amount in 0i64..100_000_000,
        via_option in any::<bool>(),
    ) {
        let s = generate(&ScheduleInput {
            start,
            months,
            monthly_amount: amount,
            cycle: BillingCycle::StartDate,
            first_payment: FirstPayment::FullMonth,
            option: via_option.then_some(BillingStartOption::Immediate),
        });
        prop_assert_eq!(s.charges.len() as i64, months);
        prop_assert_eq!(s.charges[0].billing_date, start);
        for w in s.charges.windows(2) {
            prop_assert!(w[0].billing_date < w[1].billing_date);
        }
        prop_assert_eq!(s.charges.iter().map(|c| c.base_amount).sum::<i64>(), amount * months);
        prop_assert_eq!(s.end_date, add_days(add_months(start, months), -1));
        let st = states(&s);
        prop_assert_eq!(remaining_value(&st, add_days(start, -1)), amount * months);
        prop_assert_eq!(months_elapsed(&st, s.end_date), months);
        let keys = idempotency_keys("sub_x", &s.charges);
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        prop_assert_eq!(unique.len(), keys.len());
        prop_assert!(keys.iter().all(|k| k.len() == "sub_x:YYYY-MM".len()));
    }

    #[test]
    fn fixed_day_pro_rated_has_n_contract_months(
        start in dates_2000_2100(),
        months in 1i64..=120,
        amount in 0i64..100_000_000,
        day in 1i8..=28,
    ) {
        let s = generate(&ScheduleInput {
            start,
            months,
            monthly_amount: amount,
            cycle: BillingCycle::FixedDay(day),
            first_payment: FirstPayment::ProRated,
            option: None,
        });
        let full = s.charges.iter().filter(|c| !c.stub).count() as i64;
        prop_assert_eq!(full, months);
        let stubs: Vec<_> = s.charges.iter().filter(|c| c.stub).collect();
        prop_assert_eq!(stubs.len(), usize::from(start.day() != day));
        for c in stubs {
            prop_assert!(c.base_amount <= amount && c.base_amount >= 0);
            prop_assert_eq!(c.billing_date, start);
        }
        prop_assert!(s.charges.iter().filter(|c| !c.stub).all(|c| c.billing_date.day() == day));
        prop_assert_eq!(s.end_date, add_days(add_months(s.anchor, months), -1));
    }

    #[test]
    fn every_mode_is_increasing_with_unique_keys(
        start in dates_2000_2100(),
        months in 1i64..=120,
        amount in 0i64..100_000_000,
        cycle in cycles(),
        first in firsts(),
        option in options(),
    ) {
        let input = ScheduleInput { start, months, monthly_amount: amount, cycle, first_payment: first, option };
        let s = generate(&input);
        for w in s.charges.windows(2) {
            prop_assert!(w[0].billing_date < w[1].billing_date);
            prop_assert!(w[0].service_start < w[1].service_start);
        }
        prop_assert!(s.charges.iter().filter(|c| !c.stub).count() as i64 >= months - 1);
        prop_assert!(s.charges.iter().all(|c| c.service_start >= start));
        prop_assert!(s.charges.iter().all(|c| c.service_start <= s.end_date));
        prop_assert!(s.charges.iter().filter(|c| c.paid_at_creation).count() <= 1);
        let keys = idempotency_keys("sub_x", &s.charges);
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        prop_assert_eq!(unique.len(), keys.len());
        // Extending keeps the cycle: the combined schedule is the longer schedule.
        let ext = extend(&input, 3, amount);
        let longer = generate(&ScheduleInput { months: months + 3, ..input.clone() });
        prop_assert_eq!(ext.end_date, longer.end_date);
        prop_assert_eq!(&longer.charges[longer.charges.len() - 3..], &ext.charges[..]);
    }
}
