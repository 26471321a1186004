//! The `flexportal` admin commands against both engines, run as a user runs them.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn flexportal(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flexportal"))
        .args(args)
        .env("FLEXPORTAL_DATABASE_URL", url)
        .env("FLEXPORTAL_LOG", "warn")
        // Commands that reach the file storage (jobs, serve) use a scratch directory, not
        // ./data/files under the crate.
        .env(
            "FLEXPORTAL_FILES_URL",
            std::env::temp_dir().join("flexportal-cli-test-files"),
        )
        .output()
        .expect("run flexportal");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(url: &str, args: &[&str]) -> Value {
    let (ok, out, err) = flexportal(url, args);
    assert!(ok, "{args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {out}"))
}

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "flexportal-cli-{}",
        flexportal_domain::ids::random_token(10)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn admin_commands(url: &str, dir: &std::path::Path) {
    let t = json(
        url,
        &[
            "tenants",
            "create",
            "--name",
            "Shop NL",
            "--currency",
            "eur",
            "--time-zone",
            "Europe/Amsterdam",
            "--json",
        ],
    );
    let tenant = t["tenantId"].as_str().unwrap().to_string();
    assert_eq!(t["currency"], "EUR");
    let list = json(url, &["tenants", "list", "--json"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|x| x["tenantId"] == tenant.as_str())
    );
    let (ok, _, err) = flexportal(
        url,
        &["tenants", "create", "--name", "X", "--currency", "EURO"],
    );
    assert!(!ok && err.contains("ISO 4217"), "{err}");

    let k = json(
        url,
        &[
            "keys", "create", "--tenant", &tenant, "--name", "shop", "--scope", "read", "--json",
        ],
    );
    let key_id = k["keyId"].as_str().unwrap().to_string();
    assert!(k["apiKey"].as_str().unwrap().starts_with("pk_live_"));
    let keys = json(url, &["keys", "list", "--tenant", &tenant, "--json"]);
    assert_eq!(keys[0]["keyId"], key_id.as_str());
    assert_eq!(keys[0]["scope"], "read");
    assert!(keys[0].get("apiKey").is_none(), "secrets are never listed");
    // Another unit's id does not reach the key.
    let other = json(
        url,
        &[
            "tenants",
            "create",
            "--name",
            "Other",
            "--currency",
            "EUR",
            "--json",
        ],
    );
    let other = other["tenantId"].as_str().unwrap().to_string();
    let (ok, _, _) = flexportal(url, &["keys", "revoke", &key_id, "--tenant", &other]);
    assert!(!ok, "a key is revoked only within its own business unit");
    let r = json(
        url,
        &["keys", "revoke", &key_id, "--tenant", &tenant, "--json"],
    );
    assert_eq!(r["status"], "revoked");
    let (ok, _, _) = flexportal(url, &["keys", "revoke", &key_id, "--tenant", &tenant]);
    assert!(!ok, "revoking twice fails");
    let (ok, _, _) = flexportal(url, &["keys", "create", "--tenant", "bu_unknown"]);
    assert!(!ok);

    // Settings: the defaults of SPEC §2.1, a validated merge, every failing setting named, and
    // nothing written by a refused document.
    let s = json(url, &["tenants", "settings", "get", "--tenant", &tenant]);
    assert_eq!(s["subscriptions"]["buyouts"]["method"], "remaining_months");
    assert_eq!(s["subscriptions"]["earlyReturn"]["feePercentage"], 100);
    assert_eq!(
        s["subscriptions"]["contractEnd"]["behaviour"],
        "require_action"
    );
    assert_eq!(s["assetWorkflow"]["requireInspection"], true);
    let s = json(
        url,
        &[
            "tenants",
            "settings",
            "set",
            "--tenant",
            &tenant,
            "--merge",
            r#"{"subscriptions": {"buyouts": {"method": "remaining_plus_rrp", "rrpPercentage": 50}}}"#,
        ],
    );
    assert_eq!(
        s["subscriptions"]["buyouts"]["method"],
        "remaining_plus_rrp"
    );
    assert_eq!(
        s["subscriptions"]["earlyReturn"]["feeMethod"],
        "remaining_months"
    );
    let (ok, _, err) = flexportal(
        url,
        &[
            "tenants",
            "settings",
            "set",
            "--tenant",
            &tenant,
            "--merge",
            r#"{"payments": {"dayOfMonth": 31}, "subscriptions": {"earlyReturn": {"flatFee": 1.234}}, "colour": 1}"#,
        ],
    );
    assert!(!ok, "an invalid document is refused");
    for path in [
        "payments.dayOfMonth",
        "subscriptions.earlyReturn.flatFee",
        "colour",
    ] {
        assert!(err.contains(path), "{path} not named: {err}");
    }
    let s = json(url, &["tenants", "settings", "get", "--tenant", &tenant]);
    assert_eq!(s["payments"]["dayOfMonth"], 1);
    assert_eq!(s["subscriptions"]["buyouts"]["rrpPercentage"], 50);
    let (ok, _, _) = flexportal(
        url,
        &["tenants", "settings", "get", "--tenant", "bu_unknown"],
    );
    assert!(!ok);

    // The daily jobs for one unit, as of a date, and for every unit.
    let r = json(
        url,
        &[
            "jobs",
            "run",
            "--tenant",
            &tenant,
            "--as-of",
            "2025-01-01",
            "--json",
        ],
    );
    assert_eq!(r["businessUnits"], 1);
    assert_eq!(r["contractsEnded"], 0);
    let (ok, out, err) = flexportal(url, &["jobs", "run"]);
    assert!(ok && out.contains("Daily jobs done"), "{out} {err}");
    let (ok, _, err) = flexportal(url, &["jobs", "run", "--as-of", "2025-13-01"]);
    assert!(!ok && err.contains("--as-of"), "{err}");

    // Imports: products then assets, with a report of rejected rows; a re-run changes nothing.
    let products = dir.join("products.csv");
    std::fs::write(&products, "Product Name,Product SKU,Category,Brand,Specification,Variant SKU,List Price,Acquisition Cost,12mo_Price\nDesk,DESK,Furniture,Ergo,Oak,DESK-OAK,899,400,49\n").unwrap();
    let (ok, out, err) = flexportal(
        url,
        &[
            "import",
            "products",
            products.to_str().unwrap(),
            "--tenant",
            &tenant,
        ],
    );
    assert!(ok && out.contains("1 products created"), "{out} {err}");
    let assets = dir.join("assets.csv");
    std::fs::write(
        &assets,
        "serialNumber,sku\nD-1,DESK-OAK\nD-2,DESK-OAK\nD-3,NOPE\n",
    )
    .unwrap();
    let report = dir.join("report.csv");
    let args = [
        "import",
        "assets",
        assets.to_str().unwrap(),
        "--tenant",
        &tenant,
        "--report",
        report.to_str().unwrap(),
    ];
    let (ok, out, err) = flexportal(url, &args);
    assert!(
        ok && out.contains("2 assets created, 0 already existed, 1 rejected"),
        "{out} {err}"
    );
    let rep = std::fs::read_to_string(&report).unwrap();
    assert!(rep.contains("3,D-3,VARIANT_NOT_FOUND"), "{rep}");
    let (ok, out, _) = flexportal(url, &args);
    assert!(
        ok && out.contains("0 assets created, 2 already existed"),
        "{out}"
    );

    // The portfolio report: JSON as GET /v1/reports/portfolio answers it, and a readable table.
    let r = json(
        url,
        &[
            "report",
            "portfolio",
            "--tenant",
            &tenant,
            "--as-of",
            "2025-01-01",
            "--json",
        ],
    );
    assert_eq!(r["success"], true);
    assert_eq!(r["asOf"], "2025-01-01");
    assert_eq!(r["currency"], "EUR");
    assert!(r["healthScore"].is_null(), "no active subscriptions: {r}");
    assert_eq!(r["assets"]["total"], 2);
    assert_eq!(r["assets"]["withCost"], 2);
    assert_eq!(r["assets"]["atOrBelowHalfRecovery"], 2);
    let (ok, out, err) = flexportal(url, &["report", "portfolio", "--tenant", &tenant]);
    assert!(
        ok && out.contains("Health score") && out.contains("Assets                  2"),
        "{out} {err}"
    );
    let (ok, _, err) = flexportal(url, &["report", "portfolio", "--tenant", "bu_nope"]);
    assert!(!ok && err.contains("not found"), "{err}");
}

#[test]
fn admin_commands_on_sqlite() {
    let dir = scratch();
    let url = format!("sqlite://{}", dir.join("cli.db").display());
    let (ok, out, _) = flexportal(&url, &["migrate"]);
    assert!(ok && out.contains("migrations applied"));
    admin_commands(&url, &dir);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn admin_commands_on_postgres() {
    let Some(url) = flexportal_testkit::pg_test_url() else {
        return;
    };
    let dir = scratch();
    admin_commands(&url, &dir);
    let _ = std::fs::remove_dir_all(dir);
}

/// `flexportal serve` on an empty store: prints a Tenant-ID, a key and a curl line that works;
/// Ctrl-C (SIGINT) shuts it down cleanly.
fn serve_first_start(url: &str, expect_bootstrap: bool) {
    use std::io::{BufRead, BufReader, Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flexportal"))
        .args(["serve", "--addr", &addr])
        .env("FLEXPORTAL_DATABASE_URL", url)
        .env("FLEXPORTAL_LOG", "warn")
        .env(
            "FLEXPORTAL_FILES_URL",
            std::env::temp_dir().join("flexportal-cli-test-files"),
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut tenant, mut key) = (String::new(), String::new());
    if expect_bootstrap {
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(t) = line.trim().strip_prefix("Tenant-ID: ") {
                tenant = t.to_string();
            }
            if let Some(k) = line.trim().strip_prefix("API key:") {
                key = k.split_whitespace().next().unwrap().to_string();
            }
            if line.contains("curl") {
                assert!(line.contains(&format!("http://{addr}/v1/assets")), "{line}");
                break;
            }
        }
        assert!(tenant.starts_with("bu_") && key.starts_with("pk_live_"));
    }
    // Wait until it listens, then make the request the curl line shows.
    let mut body = String::new();
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
            write!(s, "GET /v1/assets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nTenant-ID: {tenant}\r\nConnection: close\r\n\r\n").unwrap();
            s.read_to_string(&mut body).unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let expected = if expect_bootstrap { "200 OK" } else { "401" };
    assert!(body.starts_with(&format!("HTTP/1.1 {expected}")), "{body}");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "serve did not shut down cleanly: {exit:?}");
}

#[test]
fn serve_bootstraps_an_empty_sqlite_store() {
    let dir = scratch();
    let url = format!("sqlite://{}", dir.join("serve.db").display());
    serve_first_start(&url, true);
    // A second start finds the unit and prints no new key.
    serve_first_start(&url, false);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_runs_on_postgres() {
    let Some(url) = flexportal_testkit::pg_test_url() else {
        return;
    };
    // The shared test database already has business units, so no bootstrap happens.
    let (ok, _, _) = flexportal(
        &url,
        &["tenants", "create", "--name", "Seed", "--currency", "USD"],
    );
    assert!(ok);
    serve_first_start(&url, false);
}

/// `flexportal export rentals` over a demo business: the CSV on standard output parses back with
/// a standard reader, the active rows are the report's active subscriptions, filters and column
/// groups apply, and bad filters fail with a message.
fn export_rentals(url: &str) {
    let t = json(
        url,
        &[
            "tenants",
            "create",
            "--name",
            "Export",
            "--currency",
            "EUR",
            "--json",
        ],
    );
    let tenant = t["tenantId"].as_str().unwrap().to_string();
    let (ok, out, err) = flexportal(
        url,
        &[
            "demo",
            "--tenant",
            &tenant,
            "--assets",
            "80",
            "--orders",
            "40",
            "--customers",
            "20",
        ],
    );
    assert!(ok, "{out} {err}");
    let parse = |text: &str| -> (Vec<String>, Vec<csv::StringRecord>) {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().unwrap().iter().map(String::from).collect();
        (header, r.records().map(|x| x.unwrap()).collect())
    };
    let (ok, all, err) = flexportal(url, &["export", "rentals", "--tenant", &tenant]);
    assert!(ok && err.contains("rows in"), "{err}");
    let (header, rows) = parse(&all);
    assert_eq!(
        &header[..3],
        ["subscriptionId", "customerId", "customerEmail"]
    );
    assert!(rows.len() > 5, "the demo rents devices: {all}");
    // Sorted by start date, then rental id.
    let keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r[9].to_string(), r[0].to_string()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    let report = json(url, &["report", "portfolio", "--tenant", &tenant, "--json"]);
    let (ok, active, err) = flexportal(
        url,
        &[
            "export",
            "rentals",
            "--tenant",
            &tenant,
            "--status",
            "active",
            "--without",
            "custom-fields,financial-details",
        ],
    );
    assert!(ok, "{err}");
    let (header, active_rows) = parse(&active);
    assert_eq!(
        active_rows.len() as i64,
        report["subscriptions"]["active"].as_i64().unwrap()
    );
    assert!(active_rows.iter().all(|r| &r[8] == "active"));
    assert_eq!(header.len(), 12, "{header:?}");
    assert_eq!(
        rows.iter().filter(|r| &r[8] == "active").count(),
        active_rows.len()
    );

    for (args, says) in [
        (vec!["--status", "paused"], "status"),
        (vec!["--start-date-from", "2025-02-30"], "startDateFrom"),
        (vec!["--without", "prices"], "unknown column group"),
    ] {
        let mut all_args = vec!["export", "rentals", "--tenant", &tenant];
        all_args.extend(args);
        let (ok, _, err) = flexportal(url, &all_args);
        assert!(!ok && err.contains(says), "{all_args:?}: {err}");
    }
}

#[test]
fn export_rentals_on_sqlite() {
    let dir = scratch();
    let url = format!("sqlite://{}", dir.join("export.db").display());
    export_rentals(&url);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn export_rentals_on_postgres() {
    let Some(url) = flexportal_testkit::pg_test_url() else {
        return;
    };
    export_rentals(&url);
}

/// `flexportal tenants templates`: set (from a file), list, show, remove; unknown placeholders
/// and unknown units are refused with a message.
#[test]
fn contract_templates_on_sqlite() {
    let dir = scratch();
    let url = format!("sqlite://{}", dir.join("templates.db").display());
    let t = json(
        &url,
        &[
            "tenants",
            "create",
            "--name",
            "T",
            "--currency",
            "EUR",
            "--json",
        ],
    );
    let tenant = t["tenantId"].as_str().unwrap().to_string();
    let file = dir.join("order.txt");
    std::fs::write(&file, "# Vertrag\n{{customer.name}}\n{{items}}\n").unwrap();
    let at_file = format!("@{}", file.display());
    let (ok, out, err) = flexportal(
        &url,
        &[
            "tenants",
            "templates",
            "set",
            "--tenant",
            &tenant,
            "--id",
            "order",
            &at_file,
        ],
    );
    assert!(
        ok && out.contains("template order (order) saved"),
        "{out} {err}"
    );
    let list = json(
        &url,
        &[
            "tenants",
            "templates",
            "list",
            "--tenant",
            &tenant,
            "--json",
        ],
    );
    assert_eq!(list[0]["templateId"], "order");
    assert_eq!(list[0]["body"], "# Vertrag\n{{customer.name}}\n{{items}}\n");
    let (ok, out, _) = flexportal(
        &url,
        &[
            "tenants",
            "templates",
            "show",
            "--tenant",
            &tenant,
            "--id",
            "order",
        ],
    );
    assert!(ok && out.starts_with("# Vertrag"), "{out}");
    let (ok, out, _) = flexportal(
        &url,
        &[
            "tenants",
            "templates",
            "show",
            "--tenant",
            &tenant,
            "--default",
            "upgrade",
        ],
    );
    assert!(ok && out.starts_with("# Upgrade contract"), "{out}");
    let (ok, _, err) = flexportal(
        &url,
        &[
            "tenants",
            "templates",
            "set",
            "--tenant",
            &tenant,
            "--id",
            "x",
            "{{oops}}",
        ],
    );
    assert!(!ok && err.contains("Unknown placeholders: oops"), "{err}");
    let (ok, _, err) = flexportal(
        &url,
        &[
            "tenants",
            "templates",
            "set",
            "--tenant",
            "bu_nope",
            "--id",
            "x",
            "hi",
        ],
    );
    assert!(!ok && err.contains("not found"), "{err}");
    let (ok, _, _) = flexportal(
        &url,
        &[
            "tenants",
            "templates",
            "remove",
            "--tenant",
            &tenant,
            "--id",
            "order",
        ],
    );
    assert!(ok);
    let list = json(
        &url,
        &[
            "tenants",
            "templates",
            "list",
            "--tenant",
            &tenant,
            "--json",
        ],
    );
    assert_eq!(list, serde_json::json!([]));
    let _ = std::fs::remove_dir_all(dir);
}
