//! Billing groups over seeded random sequences of creations, member-list replacements,
//! billing-day moves, deactivations and deletions (SPEC §2.8): every service month of every
//! subscription stays billed exactly once (individually or as one consolidated line), each
//! consolidated payment's totals are the sums of its lines, and a refused update changes nothing.
//! Also two groups racing for one subscription: one wins, the other answers 409.

use std::collections::BTreeMap;

use flexportal_testkit::{TestApp, both_engines};
use jiff::ToSpan;
use jiff::civil::Date;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::billing_groups::{business, catalog, vat_21_exclusive};

/// The payments matching a query, by due date (at most 100).
async fn payments(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, b) = app
        .get(&format!(
            "/v1/payments?{query}&sortBy=dueDate&sortDir=asc&limit=100"
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["hasMore"], false, "more than 100 payments for {query}");
    b["payments"].as_array().unwrap().clone()
}

async fn get_ok(app: &TestApp, path: &str) -> Value {
    let (s, b) = app.get(path).await;
    assert_eq!(s, 200, "GET {path}: {b}");
    b
}

/// Exact minor units (cents) of a JSON money value, from its number text: no float arithmetic.
fn cents(v: &Value) -> i64 {
    assert!(v.is_number(), "not a money value: {v}");
    let t = v.to_string();
    let (neg, t) = t
        .strip_prefix('-')
        .map_or((false, t.as_str()), |r| (true, r));
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    assert!(
        frac.len() <= 2 && int.bytes().all(|b| b.is_ascii_digit()),
        "money with more than two decimals: {v}"
    );
    let c = int.parse::<i64>().unwrap() * 100 + format!("{frac:0<2}").parse::<i64>().unwrap();
    if neg { -c } else { c }
}

/// The service month (`YYYY-MM`) of a monthly charge line: its description is
/// "<productName> <YYYY-MM>".
fn service_month(line: &Value) -> String {
    let d = line["description"].as_str().unwrap_or("");
    let m = d.rsplit(' ').next().unwrap_or("");
    assert!(
        m.len() == 7 && m.as_bytes()[4] == b'-',
        "not a monthly charge description: {line}"
    );
    m.to_string()
}

/// One line of a payment for failure reports.
fn summary(p: &Value) -> String {
    let lines: Vec<String> = p["lineItems"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| {
                    format!(
                        "{}:{}",
                        l["rentalId"].as_str().unwrap_or("-"),
                        l["description"].as_str().unwrap_or("-")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{} {} {} billed {} due {} period {} key {} subtotal {} tax {} lines [{}] notes {}",
        p["paymentId"].as_str().unwrap_or("?"),
        p["paymentType"].as_str().unwrap_or("?"),
        p["status"].as_str().unwrap_or("?"),
        p["billingDate"].as_str().unwrap_or("?"),
        p["dueDate"].as_str().unwrap_or("?"),
        p["billingPeriod"].as_str().unwrap_or("?"),
        p["idempotencyKey"].as_str().unwrap_or("?"),
        p["subtotal"],
        p["taxAmount"],
        lines.join(", "),
        p["notes"].as_str().unwrap_or("")
    )
}

/// The service months billed for `rental` by not-cancelled charges among `pays` (its payments
/// query): individual payments by their line's description, consolidated ones by their lines for
/// it. Errors describe a malformed charge.
fn billed_months(rental: &str, pays: &[Value]) -> Result<Vec<String>, String> {
    let mut months = Vec::new();
    for p in pays.iter().filter(|p| p["status"] != "cancelled") {
        match p["paymentType"].as_str() {
            Some("individual") => {
                if p["rentalId"] != rental {
                    return Err(format!("foreign individual payment: {}", summary(p)));
                }
                let lines = p["lineItems"].as_array().cloned().unwrap_or_default();
                let [line] = lines.as_slice() else {
                    return Err(format!(
                        "individual payment without one line: {}",
                        summary(p)
                    ));
                };
                months.push(service_month(line));
            }
            Some("consolidated") => {
                let lines = p["lineItems"].as_array().cloned().unwrap_or_default();
                let mine: Vec<&Value> = lines.iter().filter(|l| l["rentalId"] == rental).collect();
                if mine.is_empty() {
                    return Err(format!(
                        "listed without a line for {rental}: {}",
                        summary(p)
                    ));
                }
                months.extend(mine.into_iter().map(service_month));
            }
            _ => return Err(format!("unknown payment type: {}", summary(p))),
        }
    }
    months.sort();
    Ok(months)
}

/// The months of a 12-month contract started in January 2025.
fn contract_months() -> Vec<String> {
    (1..=12).map(|m| format!("2025-{m:02}")).collect()
}

/// A consolidated payment's `subtotal` and `taxAmount` are the sums of its lines' `amount` and
/// `taxAmount`; a pending one has lines.
fn check_consolidated(p: &Value) -> Result<(), String> {
    let lines = p["lineItems"].as_array().cloned().unwrap_or_default();
    let amount: i64 = lines.iter().map(|l| cents(&l["amount"])).sum();
    let tax: i64 = lines.iter().map(|l| cents(&l["taxAmount"])).sum();
    if cents(&p["subtotal"]) != amount {
        return Err(format!(
            "subtotal {} ≠ Σ line amounts {amount} cents: {}",
            p["subtotal"],
            summary(p)
        ));
    }
    if cents(&p["taxAmount"]) != tax {
        return Err(format!(
            "taxAmount {} ≠ Σ line taxAmounts {tax} cents: {}",
            p["taxAmount"],
            summary(p)
        ));
    }
    if p["status"] == "pending" && lines.is_empty() {
        return Err(format!(
            "pending consolidated payment without lines: {}",
            summary(p)
        ));
    }
    Ok(())
}

/// The model of one group.
#[derive(Debug, Clone)]
struct Group {
    id: String,
    /// Indexes into the rentals.
    members: Vec<usize>,
    active: bool,
    day: i64,
}

/// One seeded run: a customer with four subscriptions, the model of its groups, and the log of
/// the steps taken.
struct Run<'a> {
    app: &'a TestApp,
    seed: u64,
    customer: String,
    rentals: Vec<String>,
    groups: Vec<Group>,
    /// Every group id ever created (deleted ones keep their historical payments).
    all_groups: Vec<String>,
    today: Date,
    log: Vec<String>,
}

impl Run<'_> {
    fn fail(&self, what: &str) -> ! {
        panic!(
            "seed {}: {what}\nsteps:\n  {}\nrentals: {:?}",
            self.seed,
            self.log.join("\n  "),
            self.rentals
        );
    }

    fn names(&self, members: &[usize]) -> Vec<String> {
        members.iter().map(|&i| self.rentals[i].clone()).collect()
    }

    fn grouped(&self, i: usize) -> Option<usize> {
        self.groups.iter().position(|g| g.members.contains(&i))
    }

    /// Everything a refused call must leave untouched: every payment listed for the rentals and
    /// the groups, each subscription and each group.
    async fn snapshot(&self) -> Value {
        let mut out = Vec::new();
        for r in &self.rentals {
            out.push(json!(payments(self.app, &format!("rentalId={r}")).await));
            out.push(get_ok(self.app, &format!("/v1/subscriptions/{r}")).await);
        }
        for g in &self.all_groups {
            out.push(json!(
                payments(self.app, &format!("billingGroupId={g}")).await
            ));
        }
        for g in &self.groups {
            out.push(get_ok(self.app, &format!("/v1/billing-groups/{}", g.id)).await);
        }
        json!(out)
    }

    /// The invariants after every step.
    async fn check(&self) {
        let mut consolidated: BTreeMap<String, Value> = BTreeMap::new();
        for (i, r) in self.rentals.iter().enumerate() {
            let pays = payments(self.app, &format!("rentalId={r}")).await;
            let months = billed_months(r, &pays).unwrap_or_else(|e| self.fail(&e));
            if months != contract_months() {
                let all: Vec<String> = pays.iter().map(summary).collect();
                self.fail(&format!(
                    "rental #{i} {r}: billed months {months:?}, want each of 2025-01..2025-12 \
                     once\npayments:\n    {}",
                    all.join("\n    ")
                ));
            }
            for p in pays.iter().filter(|p| p["paymentType"] == "consolidated") {
                consolidated.insert(p["paymentId"].as_str().unwrap().into(), p.clone());
            }
            let sub = get_ok(self.app, &format!("/v1/subscriptions/{r}")).await;
            let want = self.grouped(i).map(|g| self.groups[g].id.clone());
            let got = sub["billingGroupId"].as_str().map(str::to_string);
            if got != want {
                self.fail(&format!(
                    "rental #{i} {r}: billingGroupId {got:?}, want {want:?}"
                ));
            }
        }
        for g in &self.all_groups {
            for p in payments(self.app, &format!("billingGroupId={g}")).await {
                if p["paymentType"] != "consolidated" {
                    self.fail(&format!("group payment not consolidated: {}", summary(&p)));
                }
                consolidated.insert(p["paymentId"].as_str().unwrap().into(), p);
            }
        }
        for p in consolidated.values() {
            if let Err(e) = check_consolidated(p) {
                self.fail(&e);
            }
        }
        for g in &self.groups {
            let b = get_ok(self.app, &format!("/v1/billing-groups/{}", g.id)).await;
            let b = &b["billingGroup"];
            let mut got: Vec<String> = b["rentalIds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            got.sort();
            let mut want = self.names(&g.members);
            want.sort();
            let status = if g.active { "active" } else { "inactive" };
            if got != want || b["status"] != status || b["billingDay"] != g.day {
                self.fail(&format!("group {} is {b}, model {g:?}", g.id));
            }
        }
    }

    /// A random non-empty subset of `from`, in index order.
    fn subset(rng: &mut StdRng, from: &[usize]) -> Vec<usize> {
        loop {
            let s: Vec<usize> = from
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.5))
                .collect();
            if !s.is_empty() {
                return s;
            }
        }
    }

    /// Expects `(status, body)` to be `want`, else fails with the step log.
    fn expect(&self, got: &(axum::http::StatusCode, Value), want: u16) {
        if got.0.as_u16() != want {
            self.fail(&format!("answered {} (want {want}): {}", got.0, got.1));
        }
    }

    /// One random step: advance the clock, then one action on the groups.
    async fn step(&mut self, rng: &mut StdRng, n: usize) {
        let last: Date = "2025-12-20".parse().unwrap();
        let days: i64 = rng.random_range(0..20);
        self.today = self.today.checked_add(days.days()).unwrap().min(last);
        self.app.set_date(&self.today.to_string(), 9);
        let free: Vec<usize> = (0..self.rentals.len())
            .filter(|&i| self.grouped(i).is_none())
            .collect();
        let can_create = self.groups.len() < 2 && !free.is_empty();
        // Weights: create 3 (while possible), members 4, billing day 2, status 2, delete 1.
        let choice = if self.groups.is_empty() {
            0
        } else {
            rng.random_range(if can_create { 0 } else { 3 }..12)
        };
        let at = format!("#{n} {}", self.today);
        match choice {
            0..=2 => {
                let members = Self::subset(rng, &free);
                let day = rng.random_range(1..=28);
                let body = json!({"customerId": self.customer, "groupName": format!("G{n}"),
                    "billingDay": day, "rentalIds": self.names(&members)});
                self.log.push(format!(
                    "{at} POST /v1/billing-groups {members:?} day {day}"
                ));
                let r = self.app.post("/v1/billing-groups", body).await;
                self.expect(&r, 201);
                let id = r.1["billingGroup"]["billingGroupId"]
                    .as_str()
                    .unwrap()
                    .to_string();
                self.log.push(format!("    -> 201 {id}"));
                self.all_groups.push(id.clone());
                self.groups.push(Group {
                    id,
                    members,
                    active: true,
                    day,
                });
            }
            3..=6 => {
                let g = rng.random_range(0..self.groups.len());
                let all: Vec<usize> = (0..self.rentals.len()).collect();
                let members = Self::subset(rng, &all);
                let taken = members
                    .iter()
                    .any(|&i| self.grouped(i).is_some_and(|o| o != g));
                let id = self.groups[g].id.clone();
                self.log.push(format!(
                    "{at} PATCH group {g} ({id}) rentalIds {members:?} (was {:?})",
                    self.groups[g].members
                ));
                let before = if taken {
                    Some(self.snapshot().await)
                } else {
                    None
                };
                let body = json!({"rentalIds": self.names(&members)});
                let r = self
                    .app
                    .patch(&format!("/v1/billing-groups/{id}"), body)
                    .await;
                if taken {
                    self.expect(&r, 409);
                    if r.1["error"]["code"] != "SUBSCRIPTION_ALREADY_GROUPED" {
                        self.fail(&format!("refused with {}", r.1));
                    }
                    self.log
                        .push("    -> 409 SUBSCRIPTION_ALREADY_GROUPED".into());
                    if Some(self.snapshot().await) != before {
                        self.fail("a refused PATCH changed payments, subscriptions or groups");
                    }
                } else {
                    self.expect(&r, 200);
                    self.log.push("    -> 200".into());
                    self.groups[g].members = members;
                }
            }
            7 | 8 => {
                let g = rng.random_range(0..self.groups.len());
                let day = rng.random_range(1..=28);
                let id = self.groups[g].id.clone();
                self.log
                    .push(format!("{at} PATCH group {g} ({id}) billingDay {day}"));
                let r = self
                    .app
                    .patch(
                        &format!("/v1/billing-groups/{id}"),
                        json!({"billingDay": day}),
                    )
                    .await;
                self.expect(&r, 200);
                self.groups[g].day = day;
            }
            9 | 10 => {
                let g = rng.random_range(0..self.groups.len());
                // Mostly a change, sometimes the same status again.
                let active = self.groups[g].active != rng.random_bool(0.8);
                let status = if active { "active" } else { "inactive" };
                let id = self.groups[g].id.clone();
                self.log.push(format!(
                    "{at} PATCH group {g} ({id}) status {status} (was {})",
                    if self.groups[g].active {
                        "active"
                    } else {
                        "inactive"
                    }
                ));
                let r = self
                    .app
                    .patch(
                        &format!("/v1/billing-groups/{id}"),
                        json!({"status": status}),
                    )
                    .await;
                self.expect(&r, 200);
                self.groups[g].active = active;
            }
            _ => {
                let g = rng.random_range(0..self.groups.len());
                let id = self.groups[g].id.clone();
                self.log.push(format!("{at} DELETE group {g} ({id})"));
                let r = self.app.delete(&format!("/v1/billing-groups/{id}")).await;
                self.expect(&r, 200);
                self.groups.remove(g);
            }
        }
    }
}

/// Seeds run by default; `BILLING_GROUP_PROPS_SEEDS` (comma-separated) replaces them.
fn seeds() -> Vec<u64> {
    match std::env::var("BILLING_GROUP_PROPS_SEEDS") {
        Ok(s) => s.split(',').map(|x| x.trim().parse().unwrap()).collect(),
        Err(_) => vec![1, 2, 3],
    }
}

both_engines!(
    random_group_changes_bill_every_month_once,
    |app: TestApp| async move {
        vat_21_exclusive(&app).await;
        catalog(&app).await;
        for seed in seeds() {
            let (customer, rentals) = business(
                &app,
                &format!("props{seed}@acme.test"),
                &[
                    ("G-129", "2025-01-01"),
                    ("G-89", "2025-01-07"),
                    ("G-159", "2025-01-13"),
                    ("G-129", "2025-01-25"),
                ],
            )
            .await;
            let mut run = Run {
                app: &app,
                seed,
                customer,
                rentals,
                groups: Vec::new(),
                all_groups: Vec::new(),
                today: "2025-01-25".parse().unwrap(),
                log: Vec::new(),
            };
            run.check().await;
            let mut rng = StdRng::seed_from_u64(seed);
            for n in 0..25 {
                run.step(&mut rng, n).await;
                run.check().await;
            }
        }
    }
);

both_engines!(
    two_groups_racing_for_one_subscription,
    |app: TestApp| async move {
        vat_21_exclusive(&app).await;
        catalog(&app).await;
        for round in 0..5 {
            let start = format!("2025-01-{:02}", round + 2);
            let (customer, r) = business(
                &app,
                &format!("race{round}@acme.test"),
                &[("G-89", &start), ("G-159", &start)],
            )
            .await;
            app.set_date("2025-02-01", 9);
            // Both claim r[0]; the second also claims r[1], which must stay free when it loses.
            let body = |name: &str, ids: &[&String]| json!({"customerId": customer, "groupName": name, "billingDay": 15, "rentalIds": ids});
            let results = app
                .concurrently(vec![
                    (
                        "POST",
                        "/v1/billing-groups".to_string(),
                        Some(body("A", &[&r[0]])),
                    ),
                    (
                        "POST",
                        "/v1/billing-groups".to_string(),
                        Some(body("B", &[&r[0], &r[1]])),
                    ),
                ])
                .await;
            let statuses: Vec<u16> = results.iter().map(|(s, _)| s.as_u16()).collect();
            let (winner, loser) = match statuses.as_slice() {
                [201, 409] => (0, 1),
                [409, 201] => (1, 0),
                _ => panic!("round {round}: answers {results:?}"),
            };
            assert_eq!(
                results[loser].1["error"]["code"], "SUBSCRIPTION_ALREADY_GROUPED",
                "round {round}: {}",
                results[loser].1
            );
            let gid = results[winner].1["billingGroup"]["billingGroupId"]
                .as_str()
                .unwrap()
                .to_string();
            let sub0 = get_ok(&app, &format!("/v1/subscriptions/{}", r[0])).await;
            assert_eq!(sub0["billingGroupId"], gid.as_str(), "round {round}");
            let sub1 = get_ok(&app, &format!("/v1/subscriptions/{}", r[1])).await;
            if winner == 1 {
                assert_eq!(sub1["billingGroupId"], gid.as_str(), "round {round}");
            } else {
                assert!(sub1["billingGroupId"].is_null(), "round {round}: {sub1}");
            }
            // The loser left no group behind.
            let groups = get_ok(&app, &format!("/v1/billing-groups?customerId={customer}")).await;
            let ids: Vec<&str> = groups["billingGroups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["billingGroupId"].as_str().unwrap())
                .collect();
            assert_eq!(ids, [gid.as_str()], "round {round}");
            // And the winner's consolidation billed each month once.
            for rental in &r {
                let pays = payments(&app, &format!("rentalId={rental}")).await;
                let months = billed_months(rental, &pays).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(months, contract_months(), "round {round} {rental}");
                for p in pays.iter().filter(|p| p["paymentType"] == "consolidated") {
                    check_consolidated(p).unwrap_or_else(|e| panic!("round {round}: {e}"));
                }
            }
            let lines: usize = payments(&app, &format!("billingGroupId={gid}"))
                .await
                .iter()
                .filter(|p| p["status"] != "cancelled")
                .map(|p| p["lineItems"].as_array().map_or(0, Vec::len))
                .sum();
            assert!(lines > 0, "round {round}: nothing consolidated");
        }
    }
);
