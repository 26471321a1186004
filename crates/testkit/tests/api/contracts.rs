//! Contract PDFs (SPEC §2.9 generateContract): the PDF opens in a real reader and holds the
//! order's customer, items, monthly prices and contract length; templates of the unit; errors;
//! isolation.

use axum::body::Body;
use axum::http::Request;
use flexportal_testkit::{TestApp, both_engines, examples};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// An order of two items for a customer with a company; returns the order id.
async fn order(app: &TestApp) -> String {
    for (sku, name, price) in [("CT-L", "ThinkPad X1", 59.9), ("CT-P", "iPhone 15", 39.5)] {
        let (s, b) = app
            .post(
                "/v1/products",
                json!({"productSku": sku, "name": name, "specification": "s",
                    "category": "Laptops", "brand": "B",
                    "variants": [{"variantSku": format!("{sku}-1"), "variantName": "Base",
                        "grade": "A", "pricing": [{"contractLength": 24, "monthlyPrice": price}]}]}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b) = app
        .post(
            "/v1/orders",
            json!({"customer": {"email": "zoe@example.com", "firstName": "Zoë",
                    "lastName": "Müller", "company": "Æble ApS", "phone": "+45 1234"},
                "billingAddress": {"streetAddress": "Nørregade 7", "city": "København",
                    "postalCode": "1165", "country": "DK"},
                "items": [{"sku": "CT-L-1", "quantity": 2, "contractLength": 24},
                          {"sku": "CT-P-1", "quantity": 1, "contractLength": 24}],
                "customFields": {"po": "PO-4711"}}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["orderId"].as_str().unwrap().to_string()
}

/// The bytes behind a signed URL.
pub async fn download(app: &TestApp, url: &str) -> Vec<u8> {
    let rest = url.split_once("://").unwrap().1;
    let path = &rest[rest.find('/').unwrap()..];
    let resp = app
        .router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

/// The text of a PDF as `pdftotext` (poppler) reads it; `None` when it is not installed and
/// `FLEXPORTAL_TEST_REQUIRE_PDFTOTEXT` is unset (CI sets it).
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = std::env::temp_dir().join(format!(
        "flexportal-pdf-{}",
        flexportal_domain::ids::random_token(8)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("contract.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(o) => {
            assert!(
                o.status.success(),
                "pdftotext failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            Some(String::from_utf8(o.stdout).unwrap())
        }
        Err(e) => {
            assert!(
                std::env::var_os("FLEXPORTAL_TEST_REQUIRE_PDFTOTEXT").is_none(),
                "pdftotext is required: {e}"
            );
            eprintln!("WARNING: pdftotext (poppler-utils) not found; PDFs checked with lopdf only");
            None
        }
    }
}

/// The text of every page, read with lopdf.
pub fn lopdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).expect("a PDF");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).unwrap()
}

both_engines!(contract_pdf_holds_the_order, |app: TestApp| async move {
    // The documentation's example, as written: its order does not exist here.
    let ex = examples("generateContract");
    let (s, b) = app
        .post("/v1/files/contracts/generate", ex[0].clone())
        .await;
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "ORDER_NOT_FOUND");

    let order_id = order(&app).await;
    let (s, b) = app
        .post("/v1/files/contracts/generate", json!({"orderId": order_id}))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["success"], true);
    assert_eq!(b["orderId"], order_id.as_str());
    assert_eq!(b["tenantId"], app.tenant.tenant_id.as_str());
    assert_eq!(b["fileName"], format!("contract-{order_id}.pdf").as_str());
    let file_id = b["fileId"].as_str().unwrap().to_string();
    let pdf = download(&app, b["downloadUrl"].as_str().unwrap()).await;
    assert!(pdf.starts_with(b"%PDF-"));

    let (s, f) = app.get(&format!("/v1/files/{file_id}")).await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(
        (f["type"].as_str(), f["category"].as_str()),
        (Some("contract"), Some("generated"))
    );
    assert_eq!(f["fileSize"], pdf.len());
    assert_eq!(f["orderId"], order_id.as_str());
    assert_eq!(f["metadata"]["contractType"], "order");
    let (_, l) = app
        .get(&format!("/v1/files?orderId={order_id}&type=contract"))
        .await;
    assert_eq!(l["count"], 1);

    let mut texts = vec![lopdf_text(&pdf)];
    texts.extend(pdftotext(&pdf));
    for text in &texts {
        for want in [
            "Rental contract",
            "Zoë Müller",
            "Æble ApS",
            "zoe@example.com",
            "Nørregade 7, 1165, København, DK",
            &order_id,
            "2 x ThinkPad X1 - Base (CT-L-1): 59.90 EUR per month each, 24 months",
            "1 x iPhone 15 - Base (CT-P-1): 39.50 EUR per month each, 24 months",
            "Monthly total: 159.30 EUR",
            "Total over the contract: 3823.20 EUR",
        ] {
            assert!(text.contains(want), "{want:?} missing from:\n{text}");
        }
    }

    // Each call makes a new file; the contract type can be chosen.
    let (s, b) = app
        .post(
            "/v1/files/contracts/generate",
            json!({"orderId": order_id, "contractType": "extension"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_ne!(b["fileId"], file_id.as_str());
    let pdf = download(&app, b["downloadUrl"].as_str().unwrap()).await;
    assert!(lopdf_text(&pdf).contains("Contract extension"));
});

both_engines!(unit_templates_and_errors, |app: TestApp| async move {
    let order_id = order(&app).await;
    let tenant = app.tenant.tenant_id.clone();
    let ctx_app = app.app();
    // A template named after the contract type replaces the built-in one; others by id.
    flexportal_app::contracts::set_template(
        ctx_app,
        &tenant,
        "order",
        "order",
        "# Mietvertrag\nKunde: {{customer.name}} ({{customer.company}})\nBestellnummer {{customFields.po}}\n{{items}}",
    )
    .await
    .unwrap();
    flexportal_app::contracts::set_template(
        ctx_app,
        &tenant,
        "short",
        "order",
        "Short form for {{customer.email}}: {{totals.monthly}} {{currency}} a month",
    )
    .await
    .unwrap();
    let (s, b) = app
        .post("/v1/files/contracts/generate", json!({"orderId": order_id}))
        .await;
    assert_eq!(s, 201, "{b}");
    let text = lopdf_text(&download(&app, b["downloadUrl"].as_str().unwrap()).await);
    assert!(text.contains("Mietvertrag"), "{text}");
    assert!(text.contains("Kunde: Zoë Müller (Æble ApS)"), "{text}");
    assert!(text.contains("Bestellnummer PO-4711"), "{text}");
    let (s, b) = app
        .post(
            "/v1/files/contracts/generate",
            json!({"orderId": order_id, "templateId": "short"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (_, f) = app
        .get(&format!("/v1/files/{}", b["fileId"].as_str().unwrap()))
        .await;
    assert_eq!(f["metadata"]["templateId"], "short");
    let text = lopdf_text(&download(&app, b["downloadUrl"].as_str().unwrap()).await);
    assert!(
        text.contains("Short form for zoe@example.com: 159.30 EUR a month"),
        "{text}"
    );

    // Templates are checked when written.
    let err = flexportal_app::contracts::set_template(
        ctx_app,
        &tenant,
        "bad",
        "order",
        "{{customer.nmae}}",
    )
    .await
    .unwrap_err()
    .into_wire();
    assert!(err.message.contains("customer.nmae"), "{}", err.message);
    assert!(
        flexportal_app::contracts::set_template(ctx_app, &tenant, "x/y", "order", "hi")
            .await
            .is_err()
    );
    assert!(
        flexportal_app::contracts::set_template(ctx_app, &tenant, "x", "lease", "hi")
            .await
            .is_err()
    );

    for (body, code) in [
        (
            json!({"orderId": order_id, "templateId": "nope"}),
            "TEMPLATE_NOT_FOUND",
        ),
        (
            json!({"orderId": order_id, "contractType": "lease"}),
            "VALIDATION_ERROR",
        ),
        (json!({}), "VALIDATION_ERROR"),
        (json!({"orderId": 7}), "VALIDATION_ERROR"),
    ] {
        let (s, b) = app.post("/v1/files/contracts/generate", body.clone()).await;
        assert_eq!(s, 400, "{body}: {b}");
        assert_eq!(b["error"]["code"], code, "{body}: {b}");
    }
    // Another unit neither finds the order nor uses this unit's templates.
    let other = app.new_tenant("EUR").await;
    let (s, b) = app
        .call_as(
            &other,
            "POST",
            "/v1/files/contracts/generate",
            Some(json!({"orderId": order_id})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["error"]["code"].clone()),
        (400, Value::from("ORDER_NOT_FOUND"))
    );
    let (_, l) = app.call_as(&other, "GET", "/v1/files", None).await;
    assert_eq!(l["count"], 0);
});

both_engines!(
    names_in_other_scripts_print_as_written,
    |app: TestApp| async move {
        order(&app).await;
        let (s, b) = app
            .post(
                "/v1/orders",
                json!({"customer": {"email": "lukasz@example.com", "firstName": "Łukasz",
                    "lastName": "Wiśniewski", "company": "Ελληνικά Ενοικιάσεις ΑΕ"},
                "billingAddress": {"streetAddress": "ul. Świętokrzyska 11", "city": "Łódź",
                    "postalCode": "90-001", "country": "PL"},
                "items": [{"sku": "CT-P-1", "quantity": 1, "contractLength": 24}],
                "notes": "Доставка в офис; 李"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let order_id = b["orderId"].as_str().unwrap().to_string();
        let (s, b) = app
            .post("/v1/files/contracts/generate", json!({"orderId": order_id}))
            .await;
        assert_eq!(s, 201, "{b}");
        let pdf = download(&app, b["downloadUrl"].as_str().unwrap()).await;
        let mut texts = vec![lopdf_text(&pdf)];
        texts.extend(pdftotext(&pdf));
        for text in &texts {
            for want in [
                "Łukasz Wiśniewski",
                "Ελληνικά Ενοικιάσεις ΑΕ",
                "ul. Świętokrzyska 11, 90-001, Łódź, PL",
            ] {
                assert!(text.contains(want), "{want:?} missing from:\n{text}");
            }
        }
    }
);
