//! Dataset generator: a business unit with a realistic catalog (see [`crate::catalog`]) created
//! through `flexportal_app::products::create`, and N assets written as CSV in the format of
//! `flexportal import assets`.
//!
//! Everything is deterministic for a seed except the ids the application assigns. Money is kept
//! in integer minor units (EUR, 2 decimals) and written as decimal text.

use std::io::Write;
use std::path::{Path, PathBuf};

use flexportal_app::{Actor, App, TenantContext, admin};
use flexportal_domain::Currency;
use flexportal_domain::money::format_amount;
use flexportal_domain::status::KeyScope;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::catalog::{self, CURRENCY, EXPONENT, VariantSpec};

/// Header of the assets CSV.
pub const CSV_HEADER: [&str; 8] = [
    "serialNumber",
    "sku",
    "acquisitionCost",
    "acquisitionDate",
    "location",
    "condition",
    "notes",
    "status",
];

const LOCATIONS: [&str; 6] = [
    "Amsterdam DC",
    "Berlin Hub",
    "Munich Warehouse",
    "Rotterdam Returns Center",
    "Paris Store",
    "Utrecht Store",
];
const CONDITIONS: [&str; 4] = ["new", "like_new", "good", "fair"];
const NOTES: [&str; 4] = [
    "Minor scratch on the lid, see photo",
    "Battery health 87%, charger replaced",
    "Returned early; \"like new\" per customer",
    "Box damaged in transit",
];

/// The benchmark business unit: the use-case context and a full-access API key.
#[derive(Debug, Clone)]
pub struct BenchTenant {
    /// Context of the use cases (as the command line builds it).
    pub ctx: TenantContext,
    /// API key secret for `Authorization: Bearer`.
    pub key: String,
    /// Id of that key (requests made with it act as `apikey:<key_id>`).
    pub key_id: String,
}

/// The assets CSV written by [`write_assets_csv`].
#[derive(Debug)]
pub struct AssetsCsv {
    /// Where it was written.
    pub path: PathBuf,
    /// Data rows.
    pub rows: u64,
    /// Every serial number, in file order.
    pub serials: Vec<String>,
    /// The variant SKU of every row, in file order.
    pub skus: Vec<String>,
    /// Rows with status `available`.
    pub available: u64,
}

/// Creates the business unit (EUR, Europe/Amsterdam, no rate limit: a load test is not abuse)
/// and a full-access key.
pub async fn create_tenant(app: &App) -> BenchTenant {
    let t = admin::create_tenant(app, "Bench Rentals", CURRENCY, Some("Europe/Amsterdam"))
        .await
        .expect("create the business unit");
    let unlimited = serde_json::json!({"api": {"abuseCeilingPerMinute": null}});
    let settings = admin::set_settings(app, &t.tenant_id, &unlimited, true)
        .await
        .expect("lift the rate limit");
    let k = admin::create_key(app, &t.tenant_id, "bench key", KeyScope::All)
        .await
        .expect("create the API key");
    let ctx = TenantContext {
        currency: Currency::parse(&t.currency).expect("stored currency is valid"),
        time_zone: t.time_zone,
        settings: std::sync::Arc::new(settings),
        tenant_id: t.tenant_id,
        actor: Actor {
            user_id: "system".into(),
            display_name: "Benchmark".into(),
        },
    };
    BenchTenant {
        ctx,
        key: k.secret,
        key_id: k.record.key_id,
    }
}

/// Creates the catalog in the business unit through `flexportal_app::products::create`; returns
/// the number of products and the variants.
pub async fn create_catalog(app: &App, ctx: &TenantContext) -> (usize, Vec<VariantSpec>) {
    let (bodies, specs) = catalog::catalog();
    for body in &bodies {
        flexportal_app::products::create(app, ctx, body)
            .await
            .unwrap_or_else(|e| panic!("createProduct {}: {e:?}", body["productSku"]));
    }
    (bodies.len(), specs)
}

/// Writes `rows` assets over `variants` to `path` as CSV (header [`CSV_HEADER`]); about
/// `available_pct` % are `available` (80 for the import scenarios, 100 for fulfilment), the rest
/// `unavailable` or `returned`. Phone serials are Luhn-valid IMEIs.
pub fn write_assets_csv(
    path: &Path,
    rows: u64,
    variants: &[VariantSpec],
    seed: u64,
    available_pct: u32,
) -> AssetsCsv {
    let file = std::fs::File::create(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
    w.write_record(CSV_HEADER).expect("write the CSV header");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut serials = Vec::with_capacity(rows as usize);
    let mut skus = Vec::with_capacity(rows as usize);
    let mut available = 0;
    for i in 0..rows {
        let v = &variants[rng.random_range(0..variants.len())];
        let serial = if v.phone {
            imei(i)
        } else {
            format!("{}{i:09}", v.serial_prefix)
        };
        let cost = if rng.random_bool(0.85) {
            let pct = rng.random_range(90..=110);
            format_amount(v.acquisition_cost * pct / 100, EXPONENT)
        } else {
            String::new()
        };
        let date = format!(
            "{}-{:02}-{:02}",
            rng.random_range(2022..=2025),
            rng.random_range(1..=12),
            rng.random_range(1..=28)
        );
        let location = LOCATIONS[rng.random_range(0..LOCATIONS.len())];
        let condition = CONDITIONS[rng.random_range(0..CONDITIONS.len())];
        let notes = if rng.random_bool(0.05) {
            NOTES[rng.random_range(0..NOTES.len())]
        } else {
            ""
        };
        let status = match rng.random_range(0..100u32) {
            r if r < available_pct => "available",
            r if r < 92 => "unavailable",
            _ => "returned",
        };
        if status == "available" {
            available += 1;
        }
        w.write_record([
            serial.as_str(),
            v.sku.as_str(),
            cost.as_str(),
            date.as_str(),
            location,
            condition,
            notes,
            status,
        ])
        .expect("write a CSV row");
        serials.push(serial);
        skus.push(v.sku.clone());
    }
    let mut inner = w
        .into_inner()
        .unwrap_or_else(|e| panic!("flush {}: {e}", path.display()));
    inner.flush().expect("flush the CSV file");
    AssetsCsv {
        path: path.to_path_buf(),
        rows,
        serials,
        skus,
        available,
    }
}

/// A whole benchmark dataset in one business unit.
pub struct Dataset {
    /// The business unit and its key.
    pub tenant: BenchTenant,
    /// Products of the catalog.
    pub products: usize,
    /// Variants of the catalog.
    pub variants: Vec<VariantSpec>,
    /// The assets file (not yet imported).
    pub csv: AssetsCsv,
}

/// Creates the business unit and its catalog in `app`, and writes `rows` assets to
/// `dir/assets.csv`, about `available_pct` % of them `available`.
pub async fn generate(app: &App, dir: &Path, rows: u64, seed: u64, available_pct: u32) -> Dataset {
    let tenant = create_tenant(app).await;
    let (products, variants) = create_catalog(app, &tenant.ctx).await;
    let path = dir.join("assets.csv");
    let csv = {
        let variants = variants.clone();
        tokio::task::spawn_blocking(move || {
            write_assets_csv(&path, rows, &variants, seed, available_pct)
        })
        .await
        .expect("CSV writer")
    };
    Dataset {
        tenant,
        products,
        variants,
        csv,
    }
}

/// A 15-digit IMEI for row `i`: `35`, twelve digits of `i`, and the Luhn check digit.
pub fn imei(i: u64) -> String {
    let body = format!("35{:012}", i % 1_000_000_000_000);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(j, b)| {
            let d = u32::from(b - b'0');
            if j % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexportal_domain::serial::is_valid_imei;

    #[test]
    fn imeis_pass_the_luhn_check() {
        for i in [0, 1, 9, 123_456, 999_999, 1_000_000, 987_654_321] {
            let s = imei(i);
            assert_eq!(s.len(), 15);
            assert!(is_valid_imei(&s), "{s}");
        }
    }

    #[test]
    fn csv_has_unique_serials_and_mostly_available_assets() {
        let dir = crate::store::TempDir::new();
        let (_, specs) = catalog::catalog();
        let out = write_assets_csv(&dir.path().join("a.csv"), 5_000, &specs, 7, 80);
        let unique: std::collections::HashSet<_> = out.serials.iter().collect();
        assert_eq!(unique.len(), 5_000);
        assert!(
            (3_700..=4_300).contains(&out.available),
            "{}",
            out.available
        );
        let text = std::fs::read_to_string(&out.path).expect("read back");
        assert_eq!(text.lines().next(), Some(CSV_HEADER.join(",").as_str()));
    }
}
