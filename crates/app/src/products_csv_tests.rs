//! Tests of `products_csv`.

use super::*;

const HEADER: &str = "Product Name,Product SKU,Category,Brand,Specification,Variant SKU,\
                      List Price,Acquisition Cost,Grade,Color,6mo_Price,12mo_Price,\
                      24mo_Price,36mo_Price\n";

fn parse2(text: &str) -> Result<ParsedCsv, DomainError> {
    parse(text.as_bytes(), 2)
}

fn ok(text: &str) -> ParsedCsv {
    parse2(text).expect("parses")
}

fn err(text: &str) -> DomainError {
    parse2(text).expect_err("fails")
}

#[test]
fn parses_full_rows_and_groups_by_product_sku() {
    let csv = format!(
        "{HEADER}\
         MacBook Pro,MBP-16,Laptops,Apple,M3 Pro,MBP-16-A,2499.00,1800,A,Space Black,,149.5,,\n\
         MacBook Pro,MBP-16,Laptops,Apple,M3 Max,MBP-16-B,2999,2000.10,b,,199,179,159,139\n\
         iPhone,IP-15,Phones,Apple,128GB,IP-15-A,999,700,,,49,,,\n"
    );
    let p = ok(&csv);
    assert_eq!(p.total_rows, 3);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.products.len(), 2);
    let g = &p.products[0];
    assert_eq!(g.product_sku, "MBP-16");
    assert_eq!(g.rows.len(), 2);
    assert_eq!(g.rows[0].row, 1);
    assert_eq!(g.rows[1].row, 2);
    let v = &g.rows[0].variant;
    assert_eq!(v.sku, "MBP-16-A");
    assert_eq!(v.name.as_deref(), Some("M3 Pro"));
    assert_eq!(v.grade, Some(Grade::A));
    assert_eq!(v.color, Patch::Value("Space Black".to_string()));
    assert_eq!(v.list_price, Patch::Value(249_900));
    assert_eq!(v.acquisition_cost, Patch::Value(180_000));
    let tiers = v.pricing.as_ref().unwrap();
    assert_eq!(tiers.len(), 1);
    assert_eq!(
        (tiers[0].contract_length, tiers[0].monthly_price),
        (12, 14_950)
    );
    assert_eq!(tiers[0].source, "manual");
    let v2 = &g.rows[1].variant;
    assert_eq!(v2.grade, Some(Grade::B));
    assert_eq!(v2.color, Patch::Absent);
    assert_eq!(v2.acquisition_cost, Patch::Value(200_010));
    let lengths: Vec<i64> = v2
        .pricing
        .as_ref()
        .unwrap()
        .iter()
        .map(|t| t.contract_length)
        .collect();
    assert_eq!(lengths, vec![6, 12, 24, 36]);
    assert_eq!(g.rows[0].product.specification, "M3 Pro");
    assert_eq!(g.rows[0].product.category, "Laptops");
    assert_eq!(p.products[1].rows[0].row, 3);
    assert_eq!(p.products[1].rows[0].variant.grade, Some(Grade::A));
}

#[test]
fn header_matched_case_insensitively_in_any_order_with_bom() {
    let csv = "\u{FEFF}  variant sku ,LIST PRICE,acquisition cost,Brand,category,\
               specification,PRODUCT NAME,product sku,12MO_PRICE,Notes\n\
               V1,10,5,Acme,Tools,Std,Drill,P1,2.5,ignored\n";
    let p = ok(csv);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let r = &p.products[0].rows[0];
    assert_eq!(p.products[0].product_sku, "P1");
    assert_eq!(r.variant.sku, "V1");
    assert_eq!(r.product.name, "Drill");
    assert_eq!(r.variant.list_price, Patch::Value(1000));
    assert_eq!(r.variant.pricing.as_ref().unwrap()[0].monthly_price, 250);
}

#[test]
fn quoted_fields_with_commas_quotes_and_newlines() {
    let csv = format!(
        "{HEADER}\
         \"Laptop, 16\"\"\",P1,Laptops,Acme,\"16GB RAM,\n512GB SSD\",V1,\"1,0\",5,,,,1,,\n\
         \"Laptop, 16\"\"\",P1,Laptops,Acme,\"Line1\nLine2\",V2,100,50,,,,1,,\n"
    );
    let p = ok(&csv);
    assert_eq!(p.total_rows, 2);
    // "1,0" is not a number: row 1 fails, row 2 (after a quoted newline) is row 2.
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].row, 1);
    assert_eq!(p.errors[0].sku.as_deref(), Some("V1"));
    assert_eq!(
        p.errors[0].error,
        "Invalid List Price: must be a positive number"
    );
    let r = &p.products[0].rows[0];
    assert_eq!(r.row, 2);
    assert_eq!(r.product.name, "Laptop, 16\"");
    assert_eq!(r.variant.name.as_deref(), Some("Line1\nLine2"));
}

#[test]
fn row_errors_are_collected_and_import_continues() {
    let csv = format!(
        "{HEADER}\
         A,P1,C,B,S,V1,abc,5,,,,1,,\n\
         A,P1,C,B,S,V2,10,0,,,,1,,\n\
         A,P1,C,B,S,V3,10,5,,,,,,\n\
         A,P1,C,B,S,V4,10,5,F,,,1,,\n\
         A,P1,C,B,S,V5,10,5,,,,x,,\n\
         ,P1,C,B,S,,10,5,,,,1,,\n\
         A,P1,C,B,S,V7,-10,5,,,,1,,\n\
         A,P1,C,B,S,V8,10,5,e,,,0,,\n"
    );
    let p = ok(&csv);
    assert_eq!(p.total_rows, 8);
    let got: Vec<(u64, Option<&str>, &str)> = p
        .errors
        .iter()
        .map(|e| (e.row, e.sku.as_deref(), e.error.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                1,
                Some("V1"),
                "Invalid List Price: must be a positive number"
            ),
            (
                2,
                Some("V2"),
                "Invalid Acquisition Cost: must be a positive number"
            ),
            (3, Some("V3"), "At least one price column is required"),
            (4, Some("V4"), "Invalid Grade: must be one of A, B, C, D, E"),
            (
                5,
                Some("V5"),
                "Invalid 12mo_Price: must be a number, zero or more"
            ),
            (
                6,
                None,
                "Missing required value: Product Name; Missing required value: Variant SKU"
            ),
            (
                7,
                Some("V7"),
                "Invalid List Price: must be a positive number"
            ),
        ]
    );
    assert_eq!(p.products.len(), 1);
    let r = &p.products[0].rows[0];
    assert_eq!(r.row, 8);
    assert_eq!(r.variant.grade, Some(Grade::E));
}

#[test]
fn short_rows_read_as_blank_values() {
    let csv = format!("{HEADER}A,P1,C,B,S,V1,10,5\n");
    let p = ok(&csv);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].error, "At least one price column is required");
    // Optional columns may be absent from the header altogether.
    let csv = "Product Name,Product SKU,Category,Brand,Specification,Variant SKU,List Price,\
               Acquisition Cost,24mo_Price\r\nA,P1,C,B,S,V1,10,5,3\r\n";
    let p = ok(csv);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.products[0].rows[0].variant.grade, Some(Grade::A));
}

#[test]
fn duplicate_variant_sku_in_file_is_a_row_error() {
    let csv = format!(
        "{HEADER}\
         A,P1,C,B,S,V1,10,5,,,,1,,\n\
         A,P2,C,B,S,V1,10,5,,,,1,,\n\
         A,P1,C,B,S,V2,bad,5,,,,1,,\n\
         A,P1,C,B,S,V2,10,5,,,,1,,\n"
    );
    let p = ok(&csv);
    assert_eq!(p.errors.len(), 2);
    assert_eq!(
        (p.errors[0].row, p.errors[0].error.as_str()),
        (2, "Duplicate Variant SKU in file")
    );
    assert_eq!(p.errors[1].row, 3);
    // The first valid occurrence of V2 (row 4) is imported.
    assert_eq!(p.products.len(), 1);
    let rows: Vec<u64> = p.products[0].rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, vec![1, 4]);
}

#[test]
fn blank_rows_keep_numbering_but_are_not_counted() {
    let csv = format!("{HEADER},,,,,,,,,,,,,\nA,P1,C,B,S,V1,x,5,,,,1,,\n");
    let p = ok(&csv);
    assert_eq!(p.total_rows, 1);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].row, 2);
}

#[test]
fn file_level_failures_are_validation_errors() {
    for bad in ["", "\u{FEFF}", "  \n\n"] {
        let e = err(bad);
        assert_eq!((e.status, e.code), (400, "VALIDATION_ERROR"));
    }
    let e = parse(b"Product Name\n\xff\xfe\n", 2).unwrap_err();
    assert_eq!((e.status, e.code), (400, "VALIDATION_ERROR"));
    assert!(e.details[0].message.contains("UTF-8"));

    let e = err("Product Name,Product SKU,Category,Brand,Specification,List Price\nA,B,C,D,E,1\n");
    assert_eq!((e.status, e.code), (400, "VALIDATION_ERROR"));
    assert_eq!(e.details[0].path, "csvFile");
    assert_eq!(
        e.details[0].message,
        "Missing required column(s): Variant SKU, Acquisition Cost"
    );

    let e = err(HEADER);
    assert_eq!((e.status, e.code), (400, "VALIDATION_ERROR"));
}

#[test]
fn too_many_rows_is_rejected() {
    let mut csv = HEADER.to_string();
    for i in 0..MAX_CSV_ROWS {
        csv.push_str(&format!("A,P1,C,B,S,V{i},10,5,,,,1,,\n"));
    }
    let p = ok(&csv);
    assert_eq!(p.total_rows, MAX_CSV_ROWS as u64);
    csv.push_str("A,P1,C,B,S,VX,10,5,,,,1,,\n");
    let e = err(&csv);
    assert_eq!((e.status, e.code), (400, "VALIDATION_ERROR"));
    assert_eq!(e.details[0].code, "too_big");
}

#[test]
fn money_is_exact_minor_units() {
    let csv = format!("{HEADER}A,P1,C,B,S,V1,0.1,0.2,,,0.30,,,\n");
    let p = ok(&csv);
    let v = &p.products[0].rows[0].variant;
    assert_eq!(v.list_price, Patch::Value(10));
    assert_eq!(v.acquisition_cost, Patch::Value(20));
    assert_eq!(v.pricing.as_ref().unwrap()[0].monthly_price, 30);
    // Zero-decimal currency.
    let p = parse(csv.as_bytes(), 0).unwrap();
    assert_eq!(
        p.errors[0].error,
        "Invalid List Price: must be a positive number; \
         Invalid Acquisition Cost: must be a positive number"
    );
}

#[test]
fn empty_lines_between_rows() {
    let csv = format!("\n{HEADER}\nA,P1,C,B,S,V1,10,5,,,,1,,\n\nA,P1,C,B,S,V2,x,5,,,,1,,\n\n");
    let p = ok(&csv);
    assert_eq!(p.total_rows, 2);
    assert_eq!(p.products[0].rows[0].variant.sku, "V1");
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].row, 2);
}
