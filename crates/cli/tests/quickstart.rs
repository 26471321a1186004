//! The documentation's quickstart (`quickstart` in `spec/examples.json`, replayed through
//! `/v1` as SPEC §3 item 123 gives it) and the request examples of orders, subscriptions and
//! payments, over HTTP against a running `flexportal serve` process, on both engines.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

struct Server {
    child: Child,
    addr: String,
    key: String,
    tenant: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn flexportal(url: &str, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_flexportal"))
        .args(args)
        .env("FLEXPORTAL_DATABASE_URL", url)
        .env("FLEXPORTAL_LOG", "warn")
        .output()
        .expect("run flexportal");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json output")
}

fn start(url: &str) -> Server {
    let t = flexportal(
        url,
        &[
            "tenants",
            "create",
            "--name",
            "Quickstart",
            "--currency",
            "EUR",
            "--json",
        ],
    );
    let tenant = t["tenantId"].as_str().unwrap().to_string();
    let k = flexportal(url, &["keys", "create", "--tenant", &tenant, "--json"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_flexportal"))
        .args(["serve", "--addr", &addr])
        .env("FLEXPORTAL_DATABASE_URL", url)
        .env("FLEXPORTAL_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start serve");
    let server = Server {
        child,
        addr,
        key: k["apiKey"].as_str().unwrap().to_string(),
        tenant,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(&server.addr).is_ok() {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("serve did not start");
}

impl Server {
    /// One HTTP/1.1 request; returns status and JSON body.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut s = std::net::TcpStream::connect(&self.addr).expect("connect");
        let payload = body.map(Value::to_string).unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nTenant-ID: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            self.key,
            self.tenant,
            payload.len()
        )
        .unwrap();
        let mut reader = BufReader::new(s);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).unwrap();
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut buf = vec![0; len];
        reader.read_exact(&mut buf).unwrap();
        (status, serde_json::from_slice(&buf).unwrap_or(Value::Null))
    }
}

fn examples() -> Value {
    flexportal_testkit::spec_json("examples.json")
}

fn request_examples(all: &Value, op: &str) -> Vec<Value> {
    flexportal_testkit::request_examples(all, op)
}

fn quickstart(url: &str) {
    let srv = start(url);
    let all = examples();
    let qs = &all["quickstart"];
    // 1. The product with its variant and 24-month tier.
    let p = &qs["product"];
    let (s, b) = srv.call(
        "POST",
        "/v1/products",
        Some(&json!({
            "productSku": p["productSku"], "name": p["name"], "specification": p["specification"],
            "category": p["category"], "brand": p["brand"], "variants": [p["variant"]]
        })),
    );
    assert_eq!(s, 201, "{b}");
    let sku = p["variant"]["variantSku"].as_str().unwrap();
    // 2. The asset.
    let serial = qs["fulfilment"]["serialNumber"].as_str().unwrap();
    let (s, b) = srv.call(
        "POST",
        "/v1/assets",
        Some(&json!({"serialNumber": serial, "sku": sku})),
    );
    assert_eq!(s, 201, "{b}");
    // 3. The order, as the quickstart gives it (no contactName).
    let o = &qs["order"];
    let items: Vec<Value> = o["items"].as_array().unwrap().iter()
        .map(|i| json!({"sku": i["sku"], "quantity": i["quantity"], "contractLength": i["contractLength"]}))
        .collect();
    let (s, b) = srv.call("POST", "/v1/orders", Some(&json!({"customer": o["customer"], "billingAddress": o["billingAddress"], "items": items})));
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["order"]["status"], o["expectedStatus"]);
    assert_eq!(b["order"]["billingAddress"]["contactName"], "Emma Larsson");
    let order_id = b["orderId"].as_str().unwrap().to_string();
    // 4. Fulfil by serial number, starting today.
    let (s, b) = srv.call(
        "POST",
        "/v1/subscriptions",
        Some(&json!({"orderId": order_id, "assetSerialNumber": serial})),
    );
    assert_eq!(s, 201, "{b}");
    let e = &qs["expected"];
    let r = &b["rental"];
    assert_eq!(r["status"], e["subscriptionStatus"]);
    assert_eq!(r["monthlyAmount"].to_string(), "59.00");
    assert_eq!(r["contractLength"], e["contractLength"]);
    let rental = b["rentalId"].as_str().unwrap().to_string();
    let start: jiff::civil::Date = r["startDate"].as_str().unwrap().parse().unwrap();
    let next = start.checked_add(jiff::Span::new().months(1)).unwrap();
    assert_eq!(
        r["nextBillingDate"],
        next.to_string(),
        "one month after the start date"
    );
    // 5. The 24 scheduled payments.
    let (s, b) = srv.call(
        "GET",
        &format!("/v1/payments?rentalId={rental}&limit=100&sortBy=dueDate&sortDir=asc"),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(b["count"], e["scheduledPayments"]);
    assert!(
        b["payments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "pending"
                && p["total"].as_number().map(|n| n.as_str()) == Some("59.00"))
    );
    assert_eq!(b["payments"][0]["dueDate"], start.to_string());
    // 6. Mark the first paid and read the cost recovery back.
    let first = b["payments"][0]["paymentId"].as_str().unwrap().to_string();
    let (s, b) = srv.call(
        "POST",
        &format!("/v1/payments/{first}/mark-paid"),
        Some(&json!({"paymentReference": "QS-1"})),
    );
    assert_eq!(s, 200, "{b}");
    let (_, r) = srv.call("GET", &format!("/v1/subscriptions/{rental}"), None);
    assert_eq!(r["totalCollected"].to_string(), "59.00");
    assert_eq!(r["costRecovery"]["totalCollected"].to_string(), "59.00");
    assert_eq!(
        r["costRecovery"]["projectedTotalCollection"].to_string(),
        "1416.00"
    );
    assert_eq!(
        r["recoveryStatus"], "no_data",
        "the quickstart variant has no acquisition cost"
    );
    let (_, a) = srv.call("GET", &format!("/v1/assets/{serial}"), None);
    assert_eq!(
        (a["status"].as_str(), a["rentalId"].as_str()),
        (Some("rented_out"), Some(rental.as_str()))
    );

    // The other request examples of orders, subscriptions and payments, as written (ids filled in).
    for (psku, vsku) in [("MBP", "MACBOOK-PRO-16-M3"), ("IPAD", "IPAD-PRO-12-M2")] {
        let (s, _) = srv.call("POST", "/v1/products", Some(&json!({
            "productSku": psku, "name": psku, "specification": "s", "category": "Laptops", "brand": "Apple",
            "variants": [{"variantSku": vsku, "variantName": "Base", "grade": "A", "acquisitionCost": 1800.0,
                "pricing": [{"contractLength": 12, "monthlyPrice": 79.0}, {"contractLength": 24, "monthlyPrice": 129.0}]}]
        })));
        assert_eq!(s, 201);
    }
    let mut orders = Vec::new();
    for body in request_examples(&all, "createOrder") {
        let (s, b) = srv.call("POST", "/v1/orders", Some(&body));
        assert_eq!(s, 201, "{b}");
        orders.push(b["order"].clone());
    }
    let (s, _) = srv.call(
        "POST",
        "/v1/assets",
        Some(&json!({"serialNumber": "SN123456789", "sku": "MACBOOK-PRO-16-M3"})),
    );
    assert_eq!(s, 201);
    let mut sub_examples = request_examples(&all, "createSubscription");
    assert_eq!(sub_examples.len(), 2);
    let minimal = &orders[0];
    // Basic example: the documented ids are placeholders; with real ones it fulfils.
    let mut basic = sub_examples.remove(0);
    basic["orderId"] = minimal["orderId"].clone();
    basic["customerId"] = minimal["customer"]["customerId"].clone();
    let (s, b) = srv.call("POST", "/v1/subscriptions", Some(&basic));
    assert_eq!(s, 201, "{b}");
    let rental2 = b["rentalId"].as_str().unwrap().to_string();
    // With a custom start date: the asset is now rented, so the documented error comes back.
    let mut dated = sub_examples.remove(0);
    dated["orderId"] = orders[1]["orderId"].clone();
    dated["customerId"] = orders[1]["customer"]["customerId"].clone();
    let (s, b) = srv.call("POST", "/v1/subscriptions", Some(&dated));
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("ASSET_NOT_AVAILABLE"))
    );
    let (s, _) = srv.call(
        "POST",
        "/v1/assets",
        Some(&json!({"serialNumber": "SN-2", "sku": "MACBOOK-PRO-16-M3"})),
    );
    assert_eq!(s, 201);
    dated["assetSerialNumber"] = json!("SN-2");
    let (s, b) = srv.call("POST", "/v1/subscriptions", Some(&dated));
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["rental"]["startDate"], "2025-02-01");
    for body in request_examples(&all, "updateSubscriptionNotes") {
        let (s, _) = srv.call(
            "PATCH",
            &format!("/v1/subscriptions/{rental2}/notes"),
            Some(&body),
        );
        assert_eq!(s, 200);
    }
    let (_, p) = srv.call(
        "GET",
        &format!("/v1/payments?rentalId={rental2}&sortBy=dueDate&sortDir=asc"),
        None,
    );
    let pays: Vec<String> = p["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["paymentId"].as_str().unwrap().to_string())
        .collect();
    for body in request_examples(&all, "markPaymentPaid") {
        let (s, b) = srv.call(
            "POST",
            &format!("/v1/payments/{}/mark-paid", pays[0]),
            Some(&body),
        );
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["payment"]["paymentReference"], "WIRE-2025-001234");
    }
    for body in request_examples(&all, "cancelPayment") {
        let (s, b) = srv.call(
            "POST",
            &format!("/v1/payments/{}/cancel", pays[1]),
            Some(&body),
        );
        assert_eq!(s, 200, "{b}");
    }
    let complete = orders[1]["orderId"].as_str().unwrap();
    for body in request_examples(&all, "updateOrderNotes") {
        let (s, _) = srv.call(
            "PATCH",
            &format!("/v1/orders/{complete}/notes"),
            Some(&body),
        );
        assert_eq!(s, 200);
    }
    for body in request_examples(&all, "cancelOrder") {
        // The complete order has a subscription now: cancelling it is refused as documented.
        let (s, b) = srv.call(
            "POST",
            &format!("/v1/orders/{complete}/cancel"),
            Some(&body),
        );
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (400, Some("ORDER_NOT_CANCELLABLE"))
        );
    }
}

#[test]
fn quickstart_over_http_on_sqlite() {
    let dir = std::env::temp_dir().join(format!(
        "flexportal-qs-{}",
        flexportal_domain::ids::random_token(10)
    ));
    let url = format!("sqlite://{}", dir.join("qs.db").display());
    quickstart(&url);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn quickstart_over_http_on_postgres() {
    let Some(url) = flexportal_testkit::pg_test_url() else {
        return;
    };
    quickstart(&url);
}
