//! The generated catalog: 48 products in Laptops, Smartphones, E-Bikes and Office Furniture, each
//! with two configurations × grades A, B, C, priced for 6, 12, 24 and 36 months. Prices are
//! integer minor units (EUR), sent as JSON numbers written with exactly two decimals.

use flexportal_domain::money::amount_json;
use serde_json::{Value, json};

/// Currency of the benchmark business unit.
pub const CURRENCY: &str = "EUR";
/// Decimal digits of [`CURRENCY`].
pub const EXPONENT: u32 = 2;
/// Contract lengths every variant is priced for, with the monthly price as basis points of the
/// list price.
const TIERS: [(i64, i64); 4] = [(6, 950), (12, 650), (24, 450), (36, 350)];
/// Grades: (grade, list price %, acquisition cost % of the grade A list price, condition code).
const GRADES: [(&str, i64, i64, &str); 3] = [
    ("A", 100, 72, "like_new"),
    ("B", 85, 60, "good"),
    ("C", 72, 50, "fair"),
];
/// A product model: brand, name, list price in minor units and specification.
struct Model {
    brand: &'static str,
    name: &'static str,
    list_price: i64,
    spec: &'static str,
}

/// A category: its name, a short code for SKUs and serials, two configuration options
/// `(code, name, list price surcharge)` and its models.
struct Category {
    name: &'static str,
    code: &'static str,
    options: [(&'static str, &'static str, i64); 2],
    models: &'static [Model],
}

const fn m(brand: &'static str, name: &'static str, euros: i64, spec: &'static str) -> Model {
    Model {
        brand,
        name,
        list_price: euros * 100,
        spec,
    }
}

const CATEGORIES: [Category; 4] = [
    Category {
        name: "Laptops",
        code: "LT",
        options: [
            ("16-512", "16 GB RAM, 512 GB SSD", 0),
            ("32-1T", "32 GB RAM, 1 TB SSD", 40_000),
        ],
        models: &[
            m(
                "Lenovo",
                "ThinkPad T14 Gen 4",
                1499,
                "14\" WUXGA, Intel Core i7",
            ),
            m(
                "Lenovo",
                "ThinkPad X1 Carbon Gen 11",
                2199,
                "14\" 2.8K OLED",
            ),
            m(
                "Apple",
                "MacBook Air 13 M2",
                1299,
                "13.6\" Liquid Retina, M2",
            ),
            m("Apple", "MacBook Pro 14 M3", 1999, "14.2\" XDR, M3 Pro"),
            m("Dell", "Latitude 5440", 1199, "14\" FHD, Intel Core i5"),
            m("Dell", "XPS 13 Plus", 1799, "13.4\" 3.5K OLED"),
            m("HP", "EliteBook 840 G10", 1399, "14\" WUXGA, Intel Core i7"),
            m("HP", "ProBook 450 G10", 949, "15.6\" FHD, Intel Core i5"),
            m("Microsoft", "Surface Laptop 5", 1299, "13.5\" PixelSense"),
            m("Framework", "Laptop 13", 1149, "13.5\" 2256x1504, modular"),
            m("ASUS", "ExpertBook B9", 1699, "14\" OLED, 880 g"),
            m("Acer", "TravelMate P6", 1249, "14\" WUXGA, Intel Core i7"),
        ],
    },
    Category {
        name: "Smartphones",
        code: "SP",
        options: [("128", "128 GB", 0), ("256", "256 GB", 12_000)],
        models: &[
            m("Apple", "iPhone 15", 899, "6.1\" Super Retina XDR"),
            m("Apple", "iPhone 15 Pro", 1199, "6.1\" ProMotion, titanium"),
            m("Apple", "iPhone 14", 749, "6.1\" Super Retina XDR"),
            m("Samsung", "Galaxy S24", 899, "6.2\" Dynamic AMOLED 2X"),
            m("Samsung", "Galaxy S23 FE", 649, "6.4\" Dynamic AMOLED 2X"),
            m("Samsung", "Galaxy A54", 449, "6.4\" Super AMOLED"),
            m("Google", "Pixel 8", 699, "6.2\" Actua display, Tensor G3"),
            m("Google", "Pixel 8 Pro", 1099, "6.7\" Super Actua display"),
            m("Fairphone", "Fairphone 5", 699, "6.46\" OLED, repairable"),
            m("Nothing", "Phone (2)", 649, "6.7\" LTPO OLED"),
            m("OnePlus", "OnePlus 12", 969, "6.82\" ProXDR"),
            m("Motorola", "Edge 40", 549, "6.55\" pOLED"),
        ],
    },
    Category {
        name: "E-Bikes",
        code: "EB",
        options: [("M", "Frame M", 0), ("L", "Frame L", 0)],
        models: &[
            m("VanMoof", "S5", 3498, "Urban e-bike, 487 Wh"),
            m("Cowboy", "Cowboy 4", 2990, "Belt drive, 360 Wh"),
            m(
                "Gazelle",
                "Ultimate C380",
                3699,
                "Bosch Performance, 500 Wh",
            ),
            m("Riese & Müller", "Nevo4", 5499, "Bosch CX, 625 Wh"),
            m("Stromer", "ST3", 5990, "Speed pedelec, 45 km/h"),
            m(
                "Cube",
                "Kathmandu Hybrid",
                3299,
                "Bosch Performance, 625 Wh",
            ),
            m("Trek", "Allant+ 7", 3999, "Bosch Performance, 625 Wh"),
            m(
                "Specialized",
                "Turbo Vado 4.0",
                4200,
                "Specialized 2.2, 710 Wh",
            ),
            m("Babboe", "Curve Mountain", 4999, "Cargo bike, 500 Wh"),
            m("Urban Arrow", "Family", 6499, "Cargo bike, Bosch CX"),
            m("Ampler", "Axel", 3290, "Lightweight, 336 Wh"),
            m("QWIC", "Premium Q MN7+", 2899, "Mid motor, 504 Wh"),
        ],
    },
    Category {
        name: "Office Furniture",
        code: "OF",
        options: [("BLK", "Black", 0), ("GRA", "Graphite", 5_000)],
        models: &[
            m("Herman Miller", "Aeron", 1695, "Size B, PostureFit SL"),
            m("Herman Miller", "Embody", 1995, "Pixelated support"),
            m("Steelcase", "Leap V2", 1299, "LiveBack, 4D arms"),
            m("Steelcase", "Gesture", 1449, "360 arms"),
            m("Vitra", "ID Chair Concept", 899, "Mesh back"),
            m("IKEA", "Bekant Sit/Stand Desk", 549, "160x80 cm"),
            m("Humanscale", "Freedom", 1199, "Self-adjusting recline"),
            m("Haworth", "Fern", 1399, "Wave suspension"),
            m("Sedus", "se:motion", 999, "Similar mechanism"),
            m(
                "Bene",
                "Height-Adjustable Desk",
                1190,
                "180x80 cm, dual motor",
            ),
            m("Kinnarps", "8000", 1050, "Task chair"),
            m("USM", "Haller Sideboard", 2450, "2 doors, steel"),
        ],
    },
];

/// A variant of the generated catalog, as the asset generator needs it.
#[derive(Debug, Clone)]
pub struct VariantSpec {
    /// Variant SKU.
    pub sku: String,
    /// Whether the product is in a phone category (serials are IMEIs).
    pub phone: bool,
    /// Serial number prefix of the model (unused for phones).
    pub serial_prefix: String,
    /// Default acquisition cost, minor units.
    pub acquisition_cost: i64,
}

/// The createProduct bodies of the catalog (48 products, 6 variants each) and the variants.
pub fn catalog() -> (Vec<Value>, Vec<VariantSpec>) {
    let mut bodies = Vec::new();
    let mut specs = Vec::new();
    for cat in &CATEGORIES {
        let phone = flexportal_domain::serial::is_phone_category(cat.name);
        for (mi, model) in cat.models.iter().enumerate() {
            let product_sku = format!("{}-{:02}", cat.code, mi + 1);
            let mut variants = Vec::new();
            for (opt_code, opt_name, surcharge) in cat.options {
                let base = model.list_price + surcharge;
                for (grade, list_pct, cost_pct, condition) in GRADES {
                    let sku = format!("{product_sku}-{opt_code}-{grade}");
                    let list_price = round_euros(base * list_pct / 100);
                    let acquisition_cost = round_euros(base * cost_pct / 100);
                    let pricing: Vec<Value> = TIERS
                        .iter()
                        .map(|(months, bp)| {
                            json!({
                                "contractLength": months,
                                "monthlyPrice": amount_json(monthly_price(list_price, *bp), EXPONENT),
                            })
                        })
                        .collect();
                    variants.push(json!({
                        "variantSku": sku,
                        "variantName": format!("{opt_name}, Grade {grade}"),
                        "grade": grade,
                        "condition": condition,
                        "listPrice": amount_json(list_price, EXPONENT),
                        "acquisitionCost": amount_json(acquisition_cost, EXPONENT),
                        "pricing": pricing,
                    }));
                    specs.push(VariantSpec {
                        sku,
                        phone,
                        serial_prefix: format!("{}{:02}", cat.code, mi + 1),
                        acquisition_cost,
                    });
                }
            }
            bodies.push(json!({
                "productSku": product_sku,
                "name": format!("{} {}", model.brand, model.name),
                "specification": model.spec,
                "category": cat.name,
                "brand": model.brand,
                "description": format!("{} {} for rent, grades A to C.", model.brand, model.name),
                "images": [format!("https://images.example.com/flexportal/{}.jpg", product_sku.to_lowercase())],
                "variants": variants,
            }));
        }
    }
    (bodies, specs)
}

/// Rounds minor units down to whole euros less one cent (`1234.56` → `1233.99`), at least 0.99.
fn round_euros(minor: i64) -> i64 {
    ((minor / 100).max(1) * 100) - 1
}

/// The monthly price for a tier: `bp` basis points of the list price, rounded down to `.90`.
fn monthly_price(list_price: i64, bp: i64) -> i64 {
    (list_price * bp / 10_000 / 100) * 100 + 90
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_covers_four_categories_with_graded_variants() {
        let (bodies, specs) = catalog();
        assert_eq!(bodies.len(), 48);
        assert_eq!(specs.len(), 48 * 6);
        assert_eq!(specs.iter().filter(|v| v.phone).count(), 12 * 6);
        let tiers = bodies[0]["variants"][0]["pricing"].as_array().map(Vec::len);
        assert_eq!(tiers, Some(4));
    }
}
