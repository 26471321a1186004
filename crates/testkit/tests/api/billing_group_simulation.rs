//! A year of one business customer's billing group, simulated day by day (SPEC §2.6.5, §2.6.6,
//! §2.7, §2.8, §2.13): twelve 12-month rentals started January–March 2025 are grouped in April,
//! one is returned early in May, one gets a new device in June, the billing day moves in July,
//! the group is deactivated in August and reactivated in September; every payment is paid on its
//! due date, the daily jobs run at each month end, and on 2026-01-05 the first contract has been
//! completed by the job. Every amount is checked, in cents, against figures computed here from
//! that schedule alone.

use flexportal_testkit::{TestApp, both_engines};
use jiff::civil::{Date, date};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

use super::billing_groups::billed_months;

/// Monthly prices (cents, VAT exclusive) and start dates of members 0…11; the half cents of
/// 21 % on the x.50 prices test round-half-up per charge.
const PRICES: [i64; 12] = [
    2900, 3450, 4450, 5250, 5900, 6450, 7450, 8900, 9900, 12900, 14900, 15900,
];
const STARTS: [&str; 12] = [
    "2025-01-02",
    "2025-01-09",
    "2025-01-15",
    "2025-01-20",
    "2025-01-31", // month-end anchor: Feb 28, Mar 31, Apr 30, …
    "2025-02-03",
    "2025-02-10",
    "2025-02-14",
    "2025-02-25",
    "2025-03-01",
    "2025-03-06",
    "2025-03-18",
];
/// Billed on the 3rd and returned on [`RETURN_DAY`]: its May charge (service from May 3) stays on
/// the unpaid May invoice, June–January leave it and make the fee.
const RETURNED: usize = 5;
/// Billed on the 1st; its device is replaced on [`REPLACE_DAY`]. Its own billing dates and those
/// of its invoices fall on the same side of the replacement, and every charge is paid on or after
/// its billing date, so the device each charge belongs to is unambiguous.
const REPLACED: usize = 9;
/// Group created with billing day 15: April charges billed up to this day stay individual.
const GROUPED: &str = "2025-04-10";
const RETURN_DAY: &str = "2025-05-12";
const REPLACE_DAY: &str = "2025-06-20";
/// Billing day 15 → 5: July's invoice would move to 07-05, already past, so it stays on the 15th.
const DAY_MOVED: &str = "2025-07-10";
/// Before August's invoice of the 5th: every invoice from August on goes back to the members,
/// the charges of the 1st and 2nd re-created for today.
const DEACTIVATED: &str = "2025-08-03";
/// The day before September's invoice: charges billed after today join the group again.
const REACTIVATED: &str = "2025-09-04";
/// Last simulated day (September's and later invoices are due on the 5th).
const END: &str = "2026-01-05";

fn d(s: &str) -> Date {
    s.parse().expect("date")
}

fn month(b: Date) -> String {
    b.strftime("%Y-%m").to_string()
}

fn sku(i: usize) -> String {
    format!("SIM-{i:02}")
}

fn serial(i: usize) -> String {
    format!("SN-{i:02}")
}

const NEW_SERIAL: &str = "SN-09-B";

/// Cents as the API writes money (two decimals).
fn money(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// 21 % of a base amount, rounded half up to the cent.
fn vat(c: i64) -> i64 {
    (c * 21 + 50) / 100
}

/// A JSON money value in cents (exactly two decimals, never through f64).
fn cents(v: &Value) -> i64 {
    let s = v.to_string();
    let (whole, frac) = s.split_once('.').unwrap_or_else(|| panic!("money {s}"));
    assert_eq!(frac.len(), 2, "money {s}");
    whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()
}

/// Where a member's charge billed on its own date ends up.
#[derive(Clone, Copy, Debug)]
enum Placed {
    /// An individual payment billed on that date; `true` when it was re-created after leaving
    /// the group (key suffix `:r1`).
    Own(Date, bool),
    /// A line of the group's invoice due on that date.
    Invoice(Date),
}

/// SPEC §2.8 steps 1–4 applied to the schedule of this test.
fn placed(b: Date) -> Placed {
    let on = |day| date(b.year(), b.month(), day);
    if b <= d(GROUPED) {
        Placed::Own(b, false)
    } else if b < d("2025-08-01") {
        Placed::Invoice(on(15))
    } else if b < d("2025-09-01") {
        Placed::Own(b.max(d(DEACTIVATED)), true)
    } else if b <= d(REACTIVATED) {
        Placed::Own(b, true)
    } else {
        Placed::Invoice(on(5))
    }
}

/// Every charge billed: (member, own billing date, placement). The returned member's charges
/// whose service starts after the return day are gone.
fn charges() -> Vec<(usize, Date, Placed)> {
    let mut out = Vec::new();
    for (i, start) in STARTS.iter().enumerate() {
        for k in 0..12 {
            let b = d(start)
                .checked_add(jiff::Span::new().months(k))
                .expect("date");
            if i == RETURNED && b > d(RETURN_DAY) {
                continue;
            }
            out.push((i, b, placed(b)));
        }
    }
    out
}

/// Early-return fee (SPEC §2.13 `remaining_months` at 100 %): the open charges after the return.
fn fee() -> i64 {
    let s = d(STARTS[RETURNED]);
    let remaining = (0..12)
        .map(|k| s.checked_add(jiff::Span::new().months(k)).unwrap())
        .filter(|b| *b > d(RETURN_DAY))
        .count() as i64;
    remaining * PRICES[RETURNED]
}

/// Every payment is paid on its due date up to [`END`].
fn status(due: Date) -> &'static str {
    if due <= d(END) { "paid" } else { "pending" }
}

fn one_off(
    what: &str,
    key: &str,
    billed: &str,
    due: &str,
    net: i64,
    tax: i64,
    status: &str,
) -> String {
    format!(
        "{what} key {key} billed {billed} due {due} net {} tax {} total {} {status}",
        money(net),
        money(tax),
        money(net + tax)
    )
}

fn invoice(
    period: &str,
    key: &str,
    due: &str,
    net: i64,
    tax: i64,
    status: &str,
    lines: &mut [String],
) -> String {
    lines.sort();
    format!(
        "invoice {period} key {key} due {due} net {} tax {} total {} {status} [{}]",
        money(net),
        money(tax),
        money(net + tax),
        lines.join(", ")
    )
}

fn line(member: usize, month: &str, net: i64, tax: i64) -> String {
    format!("m{member} {month} {} {}", money(net), money(tax))
}

/// The payments (not cancelled) this schedule must leave, described as [`describe`] does.
fn expected(ids: &[String], gid: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut invoices: BTreeMap<Date, Vec<(usize, Date)>> = BTreeMap::new();
    for (i, b, place) in charges() {
        let p = PRICES[i];
        match place {
            Placed::Own(on, again) => {
                let m = month(b);
                let key = if again {
                    format!("{}:{m}:r1", ids[i])
                } else {
                    format!("{}:{m}", ids[i])
                };
                let what = format!("m{i} {m}");
                let on = on.to_string();
                out.push(one_off(&what, &key, &on, &on, p, vat(p), status(d(&on))));
            }
            Placed::Invoice(due) => invoices.entry(due).or_default().push((i, b)),
        }
    }
    for (due, members) in invoices {
        let period = month(due);
        let net = members.iter().map(|(i, _)| PRICES[*i]).sum();
        let tax = members.iter().map(|(i, _)| vat(PRICES[*i])).sum();
        let mut lines: Vec<String> = members
            .iter()
            .map(|(i, b)| line(*i, &month(*b), PRICES[*i], vat(PRICES[*i])))
            .collect();
        let key = format!("{gid}:{period}");
        let due_s = due.to_string();
        out.push(invoice(
            &period,
            &key,
            &due_s,
            net,
            tax,
            status(due),
            &mut lines,
        ));
    }
    let key = format!("{}:early-return", ids[RETURNED]);
    let what = format!("m{RETURNED} fee");
    out.push(one_off(
        &what,
        &key,
        RETURN_DAY,
        RETURN_DAY,
        fee(),
        vat(fee()),
        "paid",
    ));
    out
}

/// The service month a monthly line is for (`<productName> <YYYY-MM>`), checking the product
/// name; `None` for one-off lines.
fn line_month(l: &Value, names: &[String], index: &HashMap<String, usize>) -> Option<String> {
    let desc = l["description"].as_str().expect("description");
    let i = index[l["rentalId"].as_str().expect("rentalId")];
    let m = desc.rsplit(' ').next().unwrap_or("");
    if m.len() != 7 || m.as_bytes()[4] != b'-' {
        return None;
    }
    assert_eq!(desc, format!("{} {m}", names[i]), "line of member {i}");
    Some(m.to_string())
}

/// One payment as [`expected`] writes it, checking its own arithmetic on the way.
fn describe(p: &Value, names: &[String], index: &HashMap<String, usize>) -> String {
    let (net, tax, total) = (
        cents(&p["subtotal"]),
        cents(&p["taxAmount"]),
        cents(&p["total"]),
    );
    assert_eq!(net + tax, total, "{p}");
    assert_eq!(p["amount"], p["total"], "{p}");
    let lines = p["lineItems"].as_array().cloned().unwrap_or_default();
    let key = p["idempotencyKey"].as_str().unwrap_or("?");
    let due = p["dueDate"].as_str().unwrap();
    let st = p["status"].as_str().unwrap();
    if p["paymentType"] == "consolidated" {
        assert!(p.get("rentalId").is_none_or(Value::is_null), "{p}");
        let mut described = Vec::new();
        let (mut sum_net, mut sum_tax) = (0, 0);
        for l in &lines {
            let (n, t) = (cents(&l["amount"]), cents(&l["taxAmount"]));
            sum_net += n;
            sum_tax += t;
            let i = index[l["rentalId"].as_str().unwrap()];
            let m = line_month(l, names, index).unwrap_or_else(|| "not-monthly".into());
            described.push(line(i, &m, n, t));
        }
        assert_eq!((sum_net, sum_tax), (net, tax), "invoice = Σ lines: {p}");
        let period = p["billingPeriod"].as_str().unwrap();
        return invoice(period, key, due, net, tax, st, &mut described);
    }
    let i = index[p["rentalId"].as_str().expect("rentalId")];
    assert_eq!(lines.len(), 1, "{p}");
    let what = match line_month(&lines[0], names, index) {
        Some(m) => format!("m{i} {m}"),
        None if lines[0]["description"] == "Early return fee" => format!("m{i} fee"),
        None => format!("m{i} {}", lines[0]["description"]),
    };
    assert_eq!(
        (cents(&lines[0]["amount"]), cents(&lines[0]["taxAmount"])),
        (net, tax),
        "{p}"
    );
    let billed = p["billingDate"].as_str().unwrap();
    one_off(&what, key, billed, due, net, tax, st)
}

/// Two products (Laptop: members 0–4, Tablet: 5–11), one variant per member, 12-month tiers.
async fn catalog(app: &TestApp) {
    for (name, members) in [("Laptop", 0..5), ("Tablet", 5..12)] {
        let variants: Vec<Value> = members
            .map(|i| {
                let price: Value = money(PRICES[i]).parse().unwrap();
                json!({"variantSku": sku(i), "variantName": sku(i), "grade": "A",
                    "listPrice": 1999.0, "acquisitionCost": 1000.0,
                    "pricing": [{"contractLength": 12, "monthlyPrice": price}]})
            })
            .collect();
        let (s, b) = app
            .post(
                "/v1/products",
                json!({"productSku": name.to_uppercase(), "name": name, "specification": "s",
                    "category": format!("{name}s"), "brand": "B", "variants": variants}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
}

/// Every payment matching `query`, following `nextCursor`.
async fn list_all(app: &TestApp, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor
            .map(|c| format!("&startAfter={c}"))
            .unwrap_or_default();
        let (s, b) = app
            .get(&format!("/v1/payments?{query}&limit=100{after}"))
            .await;
        assert_eq!(s, 200, "{b}");
        out.extend(b["payments"].as_array().unwrap().iter().cloned());
        cursor = b["nextCursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            return out;
        }
    }
}

/// Marks paid every pending payment due on or before `day`.
async fn pay_due(app: &TestApp, day: &str) {
    for p in list_all(app, &format!("dueDateTo={day}&status=pending")).await {
        assert!(p["dueDate"].as_str().unwrap() <= day, "{p}");
        let id = p["paymentId"].as_str().unwrap();
        let (s, b) = app
            .post(&format!("/v1/payments/{id}/mark-paid"), json!({}))
            .await;
        assert_eq!(s, 200, "{b}");
    }
}

async fn get(app: &TestApp, path: &str) -> Value {
    let (s, b) = app.get(path).await;
    assert_eq!(s, 200, "{path}: {b}");
    b
}

async fn patch_group(app: &TestApp, gid: &str, body: Value) -> Value {
    let (s, b) = app.patch(&format!("/v1/billing-groups/{gid}"), body).await;
    assert_eq!(s, 200, "{b}");
    b["billingGroup"].clone()
}

both_engines!(a_year_of_a_billing_group, |app: TestApp| async move {
    app.set_settings(
        &app.tenant,
        json!({"taxes": {"vatEnabled": true, "defaultRate": 21, "calculation": "exclusive"},
            "subscriptions": {"contractEnd": {"behaviour": "auto_terminate"}}}),
    )
    .await;
    let ctx = app.context(&app.tenant).await;
    app.set_date(STARTS[0], 8);
    catalog(&app).await;
    let (mut order, mut customer, mut gid) = (String::new(), String::new(), String::new());
    let mut ids: Vec<String> = Vec::new();
    let all_members: i64 = PRICES.iter().sum();

    let mut day = d(STARTS[0]);
    while day <= d(END) {
        let today = day.to_string();
        app.set_date(&today, 9);
        if let Some(i) = STARTS.iter().position(|s| *s == today) {
            if i == 0 {
                let items: Vec<Value> = (0..12)
                    .map(|i| json!({"sku": sku(i), "quantity": 1, "contractLength": 12}))
                    .collect();
                let (s, b) = app
                    .post(
                        "/v1/orders",
                        json!({"customer": {"email": "finance@acme.test", "firstName": "Ada",
                                "lastName": "Acme", "company": "Acme Corp",
                                "customerType": "business"},
                            "billingAddress": {"streetAddress": "Main 1", "city": "Amsterdam",
                                "country": "NL"},
                            "items": items}),
                    )
                    .await;
                assert_eq!(s, 201, "{b}");
                order = b["orderId"].as_str().unwrap().to_string();
                customer = b["order"]["customer"]["customerId"]
                    .as_str()
                    .unwrap()
                    .to_string();
            }
            let (s, b) = app
                .post(
                    "/v1/assets",
                    json!({"serialNumber": serial(i), "sku": sku(i)}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
            let (s, b) = app
                .post(
                    "/v1/subscriptions",
                    json!({"orderId": order, "assetSerialNumber": serial(i), "orderItemIndex": i}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
            assert_eq!(cents(&b["rental"]["monthlyAmount"]), PRICES[i]);
            ids.push(b["rentalId"].as_str().unwrap().to_string());
        }
        match today.as_str() {
            GROUPED => {
                let (s, b) = app
                    .post(
                        "/v1/billing-groups",
                        json!({"customerId": customer, "groupName": "Acme fleet",
                            "billingDay": 15, "rentalIds": ids}),
                    )
                    .await;
                assert_eq!(s, 201, "{b}");
                let g = &b["billingGroup"];
                gid = g["billingGroupId"].as_str().unwrap().to_string();
                assert_eq!(cents(&g["totalMonthlyAmount"]), all_members);
                assert_eq!(g["activeRentalCount"], 12);
            }
            RETURN_DAY => {
                let (s, b) = app
                    .post(
                        &format!("/v1/subscriptions/{}/early-return", ids[RETURNED]),
                        json!({}),
                    )
                    .await;
                assert_eq!(s, 200, "{b}");
                assert_eq!(money(cents(&b["earlyReturnFee"])), money(fee()), "{b}");
                assert_eq!(b["actualMonthsRented"], 4, "{b}");
                let g = get(&app, &format!("/v1/billing-groups/{gid}")).await;
                let g = &g["billingGroup"];
                assert_eq!(g["activeRentalCount"], 11);
                assert_eq!(
                    cents(&g["totalMonthlyAmount"]),
                    all_members - PRICES[RETURNED]
                );
            }
            REPLACE_DAY => {
                let (s, b) = app
                    .post(
                        "/v1/assets",
                        json!({"serialNumber": NEW_SERIAL, "sku": sku(REPLACED)}),
                    )
                    .await;
                assert_eq!(s, 201, "{b}");
                let (s, b) = app
                    .post(
                        &format!("/v1/subscriptions/{}/replace", ids[REPLACED]),
                        json!({"newSerialNumber": NEW_SERIAL, "replacementReason": "defective"}),
                    )
                    .await;
                assert_eq!(s, 200, "{b}");
                assert_eq!(b["oldSerialNumber"], serial(REPLACED));
            }
            DAY_MOVED => {
                let g = patch_group(&app, &gid, json!({"billingDay": 5})).await;
                assert_eq!(g["billingDay"], 5);
            }
            DEACTIVATED => {
                let g = patch_group(&app, &gid, json!({"status": "inactive"})).await;
                assert_eq!(g["status"], "inactive");
            }
            REACTIVATED => {
                let g = patch_group(&app, &gid, json!({"status": "active"})).await;
                assert_eq!(g["status"], "active");
                assert_eq!(g["activeRentalCount"], 11);
            }
            _ => {}
        }
        pay_due(&app, &today).await;
        let next = day.tomorrow().unwrap();
        if next.day() == 1 || today == END {
            app.set_date(&today, 23);
            let r = flexportal_app::jobs::run_unit(app.app(), &ctx, day)
                .await
                .expect("jobs");
            // Only the first contract (ending 2026-01-01) is over by the last day.
            let done = u64::from(today == END);
            assert_eq!(
                (r.completed, r.holdover_charges, r.renewals, r.failures),
                (done, 0, 0, 0),
                "jobs of {today}"
            );
        }
        day = next;
    }

    // The rentals, their product names and what each must have collected.
    let index: HashMap<String, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, r)| (r.clone(), i))
        .collect();
    let mut names = Vec::new();
    let mut subs = Vec::new();
    for r in &ids {
        let s = get(&app, &format!("/v1/subscriptions/{r}")).await;
        names.push(s["productName"].as_str().unwrap().to_string());
        subs.push(s);
    }
    let mut collected = [0i64; 12];
    let mut by_asset: BTreeMap<String, i64> = BTreeMap::new();
    for (i, b, place) in charges() {
        let due = match place {
            Placed::Own(on, _) | Placed::Invoice(on) => on,
        };
        if status(due) == "paid" {
            collected[i] += PRICES[i];
            let asset = if i == REPLACED && b >= d(REPLACE_DAY) {
                NEW_SERIAL.to_string()
            } else {
                serial(i)
            };
            *by_asset.entry(asset).or_default() += PRICES[i];
        }
    }
    collected[RETURNED] += fee();
    *by_asset.entry(serial(RETURNED)).or_default() += fee();

    // Every payment of the customer, one by one.
    let all = list_all(&app, &format!("customerId={customer}")).await;
    let live: Vec<&Value> = all.iter().filter(|p| p["status"] != "cancelled").collect();
    let mut actual: Vec<String> = live.iter().map(|p| describe(p, &names, &index)).collect();
    let mut want = expected(&ids, &gid);
    actual.sort();
    want.sort();
    let missing: Vec<&String> = want.iter().filter(|w| !actual.contains(w)).collect();
    let extra: Vec<&String> = actual.iter().filter(|a| !want.contains(a)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "expected but absent:\n{}\nfound but not expected:\n{}",
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        extra
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(actual, want);
    // The deactivation dissolved the invoices of August on: cancelled, their key reused later.
    let mut dissolved: Vec<&str> = all
        .iter()
        .filter(|p| p["status"] == "cancelled" && p["paymentType"] == "consolidated")
        .map(|p| p["billingPeriod"].as_str().unwrap())
        .collect();
    dissolved.sort();
    assert_eq!(
        dissolved,
        [
            "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"
        ]
    );

    // Each member's service months, billed exactly once (individually or on an invoice).
    for (i, r) in ids.iter().enumerate() {
        let mut want: Vec<String> = charges()
            .iter()
            .filter(|c| c.0 == i)
            .map(|c| month(c.1))
            .collect();
        want.sort();
        let mut seen: Vec<String> = live
            .iter()
            .flat_map(|p| p["lineItems"].as_array().cloned().unwrap_or_default())
            .filter(|l| l["rentalId"] == r.as_str())
            .filter_map(|l| line_month(&l, &names, &index))
            .collect();
        seen.sort();
        assert_eq!(seen, want, "member {i}");
        assert_eq!(billed_months(&app, r).await, want, "member {i} by rentalId");
    }

    // Collected income: per subscription, per asset, for the customer.
    for (i, s) in subs.iter().enumerate() {
        assert_eq!(
            money(cents(&s["totalCollected"])),
            money(collected[i]),
            "member {i}"
        );
        let want = match i {
            0 => "ended_completed",
            RETURNED => "ended_early_return",
            _ => "active",
        };
        assert_eq!(s["status"], want, "member {i}");
    }
    assert_eq!(subs[REPLACED]["assetSerialNumber"], NEW_SERIAL);
    for (serial_number, want) in &by_asset {
        let a = get(&app, &format!("/v1/assets/{serial_number}")).await;
        assert_eq!(
            money(cents(&a["lifetimeCollected"])),
            money(*want),
            "asset {serial_number}"
        );
    }
    for (sn, status) in [
        (serial(0), "returned"),
        (serial(RETURNED), "returned"),
        (serial(REPLACED), "unavailable"),
        (NEW_SERIAL.to_string(), "rented_out"),
    ] {
        assert_eq!(
            get(&app, &format!("/v1/assets/{sn}")).await["status"],
            status
        );
    }
    let total: i64 = collected.iter().sum();
    let c = get(&app, &format!("/v1/customers/{customer}")).await;
    assert_eq!(money(cents(&c["lifetimeCollected"])), money(total));
    // The members' totals are exactly the net of the paid invoices, monthly payments and fee.
    let paid_net = |kind: &str| -> i64 {
        live.iter()
            .filter(|p| p["status"] == "paid")
            .filter(|p| match kind {
                "consolidated" => p["paymentType"] == "consolidated",
                "fee" => p["lineItems"][0]["description"] == "Early return fee",
                _ => {
                    p["paymentType"] == "individual"
                        && p["lineItems"][0]["description"] != "Early return fee"
                }
            })
            .map(|p| cents(&p["subtotal"]))
            .sum()
    };
    let members: i64 = subs.iter().map(|s| cents(&s["totalCollected"])).sum();
    let parts = (
        paid_net("consolidated"),
        paid_net("monthly"),
        paid_net("fee"),
    );
    assert_eq!(members, parts.0 + parts.1 + parts.2, "{parts:?}");
    assert_eq!(parts.2, fee());

    // The group at the end: the completed and returned members are listed but not counted.
    let g = get(&app, &format!("/v1/billing-groups/{gid}")).await;
    let g = &g["billingGroup"];
    assert_eq!(
        (g["status"].as_str(), g["billingDay"].as_i64()),
        (Some("active"), Some(5))
    );
    assert_eq!(g["activeRentalCount"], 10);
    assert_eq!(
        cents(&g["totalMonthlyAmount"]),
        all_members - PRICES[0] - PRICES[RETURNED]
    );
    assert_eq!(g["rentalIds"].as_array().unwrap().len(), 12);
});
