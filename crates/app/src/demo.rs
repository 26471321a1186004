//! A living demo business (the `flexportal demo` command): a catalog of laptops, phones, e-bikes
//! and office furniture with grades and 6/12/24/36-month tiers, a few thousand assets, a few
//! hundred customers and orders in every state, and a year of payment history. Everything goes
//! through the same use cases as the API, with the clock walked through the past year, so the
//! data obeys every rule the API enforces. The data is the same on every run (fixed seed).

use std::collections::HashMap;
use std::sync::Arc;

use crate::AppError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::{App, AppResult, ManualClock, TenantContext};

/// How much to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    /// Assets registered.
    pub assets: usize,
    /// Orders placed over the year.
    pub orders: usize,
    /// Distinct customers (orders pick among them).
    pub customers: usize,
}

impl Default for DemoSize {
    /// 3 000 assets, 400 orders, 300 customers.
    fn default() -> Self {
        DemoSize {
            assets: 3_000,
            orders: 400,
            customers: 300,
        }
    }
}

/// What the demo created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Products.
    pub products: usize,
    /// Variants.
    pub variants: usize,
    /// Assets.
    pub assets: u64,
    /// Orders.
    pub orders: usize,
    /// Subscriptions.
    pub subscriptions: usize,
    /// Payments marked paid.
    pub payments_paid: usize,
    /// Payments cancelled.
    pub payments_cancelled: usize,
}

struct Model {
    category: &'static str,
    brand: &'static str,
    sku: &'static str,
    name: &'static str,
    spec: &'static str,
    list: i64,
    cost: i64,
    /// Monthly prices in whole currency units for 6, 12, 24, 36 months.
    prices: [i64; 4],
}

const MODELS: &[Model] = &[
    Model {
        category: "Laptops",
        brand: "Apple",
        sku: "MBP-14",
        name: "MacBook Pro 14\"",
        spec: "M3 Pro, 18GB, 512GB",
        list: 2_399,
        cost: 1_750,
        prices: [189, 149, 119, 99],
    },
    Model {
        category: "Laptops",
        brand: "Apple",
        sku: "MBA-13",
        name: "MacBook Air 13\"",
        spec: "M3, 16GB, 256GB",
        list: 1_299,
        cost: 950,
        prices: [109, 85, 65, 55],
    },
    Model {
        category: "Laptops",
        brand: "Lenovo",
        sku: "X1C",
        name: "ThinkPad X1 Carbon",
        spec: "Core Ultra 7, 32GB, 1TB",
        list: 2_099,
        cost: 1_500,
        prices: [169, 129, 99, 85],
    },
    Model {
        category: "Laptops",
        brand: "Dell",
        sku: "XPS-15",
        name: "XPS 15",
        spec: "Core i7, 32GB, 1TB",
        list: 1_899,
        cost: 1_350,
        prices: [155, 119, 92, 79],
    },
    Model {
        category: "Smartphones",
        brand: "Apple",
        sku: "IP15P",
        name: "iPhone 15 Pro",
        spec: "256GB",
        list: 1_229,
        cost: 900,
        prices: [99, 75, 55, 45],
    },
    Model {
        category: "Smartphones",
        brand: "Samsung",
        sku: "GS24",
        name: "Galaxy S24",
        spec: "256GB",
        list: 999,
        cost: 720,
        prices: [85, 65, 45, 39],
    },
    Model {
        category: "Smartphones",
        brand: "Google",
        sku: "PX8",
        name: "Pixel 8",
        spec: "128GB",
        list: 799,
        cost: 560,
        prices: [69, 52, 39, 32],
    },
    Model {
        category: "E-Bikes",
        brand: "CityRide",
        sku: "ECB-250W",
        name: "Urban Commuter E-Bike",
        spec: "250W motor, 60km range",
        list: 2_499,
        cost: 1_600,
        prices: [119, 89, 59, 52],
    },
    Model {
        category: "E-Bikes",
        brand: "VanMoof",
        sku: "VM-S5",
        name: "S5",
        spec: "Automatic shifting, 150km range",
        list: 3_498,
        cost: 2_400,
        prices: [159, 129, 99, 85],
    },
    Model {
        category: "E-Bikes",
        brand: "Riese & Müller",
        sku: "RM-LOAD",
        name: "Load 75 Cargo",
        spec: "Bosch CX, 1000Wh",
        list: 8_999,
        cost: 6_200,
        prices: [399, 319, 259, 219],
    },
    Model {
        category: "Office Furniture",
        brand: "Herman Miller",
        sku: "AERON",
        name: "Aeron Chair",
        spec: "Size B, graphite",
        list: 1_595,
        cost: 900,
        prices: [69, 49, 35, 29],
    },
    Model {
        category: "Office Furniture",
        brand: "Ergo",
        sku: "DESK-160",
        name: "Standing Desk 160",
        spec: "Electric, oak top",
        list: 899,
        cost: 450,
        prices: [49, 35, 25, 19],
    },
    Model {
        category: "Office Furniture",
        brand: "Steelcase",
        sku: "LEAP",
        name: "Leap V2",
        spec: "Black frame",
        list: 1_199,
        cost: 700,
        prices: [59, 42, 30, 25],
    },
];

const GRADES: [(&str, &str, i64); 3] = [
    ("A", "Like new", 100),
    ("B", "Light wear", 85),
    ("C", "Visible wear", 70),
];
const FIRST: &[&str] = &[
    "Emma", "Liam", "Sofia", "Noah", "Mila", "Lucas", "Julia", "Daan", "Sara", "Finn", "Anna",
    "Sem", "Eva", "Levi", "Lotte", "Jesse",
];
const LAST: &[&str] = &[
    "Larsson", "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos",
    "Peters", "Hendriks",
];
const CITIES: &[&str] = &[
    "Amsterdam",
    "Rotterdam",
    "Utrecht",
    "Stockholm",
    "Berlin",
    "Antwerp",
];
const DAY: i64 = 86_400_000;

fn imei(rng: &mut StdRng) -> String {
    let mut digits: Vec<u32> = (0..14).map(|_| rng.random_range(0..10)).collect();
    digits[0] = 3 + rng.random_range(0..2);
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                *d
            }
        })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits
        .iter()
        .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
        .collect()
}

/// Loads the demo business into the unit of `ctx`, ending "today" at `app.now()`. The unit should
/// be empty (a product SKU that exists is updated, existing serial numbers are skipped).
pub async fn load(app: &App, ctx: &TenantContext, size: DemoSize) -> AppResult<DemoSummary> {
    let mut rng = StdRng::seed_from_u64(20_250_101);
    let end = app.now();
    let clock = Arc::new(ManualClock::new(end - 400 * DAY));
    let demo = App::new(app.db.clone(), clock.clone());
    let mut summary = DemoSummary::default();
    // Catalog.
    let mut skus: Vec<(String, &'static str)> = Vec::new();
    for m in MODELS {
        let variants: Vec<Value> = GRADES
            .iter()
            .map(|(grade, label, pct)| {
                let sku = format!("{}-{grade}", m.sku);
                skus.push((sku.clone(), m.category));
                let tiers: Vec<Value> = [6, 12, 24, 36]
                    .iter()
                    .zip(m.prices)
                    .map(|(len, p)| json!({"contractLength": len, "monthlyPrice": p * pct / 100}))
                    .collect();
                json!({
                    "variantSku": sku, "variantName": format!("{} - Grade {grade} ({label})", m.spec), "grade": grade,
                    "listPrice": m.list, "acquisitionCost": m.cost * pct / 100, "pricing": tiers
                })
            })
            .collect();
        summary.variants += variants.len();
        crate::products::create(&demo, ctx, &json!({
            "productSku": m.sku, "name": m.name, "specification": m.spec, "category": m.category,
            "brand": m.brand, "variants": variants
        }))
        .await?;
        summary.products += 1;
    }
    // Inventory, through the bulk import path.
    let mut csv = String::from("serialNumber,sku,acquisitionDate,location,condition\n");
    for i in 0..size.assets {
        let (sku, category) = &skus[i % skus.len()];
        let serial = if *category == "Smartphones" {
            imei(&mut rng)
        } else {
            format!("{}-{:06}", &sku[..sku.len() - 2], i)
        };
        let days_ago = rng.random_range(400..800);
        let date = flexportal_domain::time::today_in("UTC", end - days_ago * DAY);
        let location = ["Amsterdam Warehouse", "Rotterdam Warehouse", "Berlin Hub"][i % 3];
        csv.push_str(&format!("{serial},{sku},{date},{location},New in box\n"));
    }
    let imported = crate::assets_import::import(&demo, ctx, csv.as_bytes(), &|_| {}).await?;
    summary.assets = imported.created;
    // Orders over the year, fulfilled from stock; payments paid as their due dates pass.
    let step = (365 * DAY) / size.orders.max(1) as i64;
    clock.set(end - 365 * DAY);
    let mut open_payments: Vec<(String, i64)> = Vec::new();
    for n in 0..size.orders {
        clock.advance(step);
        let c = rng.random_range(0..size.customers.max(1));
        let business = c % 5 == 0;
        let (first, last) = (FIRST[c % FIRST.len()], LAST[(c / FIRST.len()) % LAST.len()]);
        let qty = if n % 20 == 3 {
            3
        } else if business {
            rng.random_range(2..6)
        } else {
            1
        };
        let (sku, _) = &skus[rng.random_range(0..skus.len())];
        let length = [6, 12, 24, 36][rng.random_range(0..4)];
        let mut customer = json!({"email": format!("customer{c}@example.com"), "firstName": first, "lastName": last,
            "customerType": if business { "business" } else { "individual" }});
        if business {
            customer["company"] = json!(format!("{last} Holding B.V."));
        }
        let order = crate::orders::create(&demo, ctx, &json!({
            "customer": customer,
            "billingAddress": {"contactName": format!("{first} {last}"), "streetAddress": format!("Main Street {}", c + 1),
                "city": CITIES[c % CITIES.len()], "country": "Netherlands"},
            "items": [{"sku": sku, "quantity": qty, "contractLength": length}]
        }))
        .await?;
        summary.orders += 1;
        let order_id = order.order.order_id.clone();
        // Every state: some stay pending, some are cancelled, some confirmed, some partial.
        match n % 20 {
            0 => continue,
            1 => {
                crate::orders::cancel(
                    &demo,
                    ctx,
                    &order_id,
                    &json!({"reason": "Customer changed their mind"}),
                )
                .await?;
                continue;
            }
            2 => {
                confirm(&demo, ctx, &order_id).await?;
                continue;
            }
            _ => {}
        }
        // One order in twenty is left partially fulfilled when it has several units.
        let units = if n % 20 == 3 && qty > 1 { qty - 1 } else { qty };
        for _ in 0..units {
            let mut q = HashMap::new();
            q.insert("status".to_string(), "available".to_string());
            q.insert("sku".to_string(), sku.clone());
            q.insert("limit".to_string(), "1".to_string());
            let (page, _) = crate::assets::list(&demo, ctx, &q).await?;
            let Some(asset) = page.items.first() else {
                break;
            };
            let sub = crate::subscriptions::create(
                &demo,
                ctx,
                &json!({"orderId": order_id, "assetSerialNumber": asset.serial_number}),
            )
            .await?;
            summary.subscriptions += 1;
            let payments = {
                let mut c = demo.db.read().await?;
                flexportal_store::payments::for_rental(&mut c, &ctx.tenant_id, &sub.sub.rental_id)
                    .await?
            };
            for p in &payments {
                if p.status == "pending" {
                    let due = p
                        .due_date
                        .parse::<jiff::civil::Date>()
                        .ok()
                        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok());
                    let due_ms = due
                        .map(|z| z.timestamp().as_millisecond())
                        .unwrap_or(i64::MAX);
                    open_payments.push((p.payment_id.clone(), due_ms));
                }
            }
        }
        settle(
            &demo,
            ctx,
            &clock,
            &mut open_payments,
            &mut rng,
            &mut summary,
        )
        .await?;
    }
    clock.set(end);
    settle(
        &demo,
        ctx,
        &clock,
        &mut open_payments,
        &mut rng,
        &mut summary,
    )
    .await?;
    Ok(summary)
}

/// Pays the charges that fell due (a few days late, one in twenty-five left unpaid, one in a
/// hundred cancelled).
async fn settle(
    app: &App,
    ctx: &TenantContext,
    clock: &ManualClock,
    open: &mut Vec<(String, i64)>,
    rng: &mut StdRng,
    summary: &mut DemoSummary,
) -> AppResult<()> {
    let now = crate::Clock::now_millis(clock);
    let (due, later): (Vec<_>, Vec<_>) = open.drain(..).partition(|(_, due)| *due + 3 * DAY <= now);
    *open = later;
    for (id, _) in due {
        match rng.random_range(0..100) {
            0 => {
                crate::payments::cancel(
                    app,
                    ctx,
                    &id,
                    &json!({"reason": "Goodwill: service outage"}),
                )
                .await?;
                summary.payments_cancelled += 1;
            }
            1..=4 => {}
            _ => {
                crate::payments::mark_paid(app, ctx, &id, &json!({"paymentReference": format!("BANK-{}", &id[4..14]), "notes": "Bank transfer"})).await?;
                summary.payments_paid += 1;
            }
        }
    }
    Ok(())
}

/// Marks an order `confirmed`, the optional dashboard step (SPEC §2.5) that has no `/v1` route.
async fn confirm(app: &App, ctx: &TenantContext, order_id: &str) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    let mut o = flexportal_store::orders::get(&mut tx, &ctx.tenant_id, order_id, true)
        .await?
        .ok_or_else(|| AppError::not_found("Order"))?;
    o.status = "confirmed".into();
    o.updated_at = app.now();
    flexportal_store::orders::update(&mut tx, &o).await?;
    tx.commit().await.map_err(AppError::from)
}
