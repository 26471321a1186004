//! Compatibility of the served `/openapi.json` with the official document: for every operation this
//! server implements, every official parameter, request field and response field exists in the
//! served document with a compatible type, and the served document requires nothing of a client
//! that the official one does not.

use serde_json::{Map, Value};

/// Which way values flow: a client sends requests (the server must accept everything the official
/// document allows) and receives responses (the server may only send what it allows).
#[derive(Clone, Copy, PartialEq)]
enum Flow {
    Request,
    Response,
}

struct Doc<'a>(&'a Value);

impl Doc<'_> {
    /// A schema with `$ref`s and `allOf`s resolved into one object.
    fn resolve(&self, schema: &Value) -> Value {
        let mut s = schema.clone();
        for _ in 0..16 {
            let Some(r) = s.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let name = r.trim_start_matches("#/components/schemas/");
            let target = self.0["components"]["schemas"][name].clone();
            assert!(!target.is_null(), "dangling $ref {r}");
            let mut m = target.as_object().cloned().unwrap_or_default();
            // Sibling keywords of a $ref (description) stay.
            for (k, v) in s.as_object().unwrap() {
                if k != "$ref" {
                    m.insert(k.clone(), v.clone());
                }
            }
            s = Value::Object(m);
        }
        // `oneOf: [{type: null}, X]` (an optional typed field) is X, nullable.
        if let Some(alts) = s.get("oneOf").and_then(Value::as_array).cloned() {
            let not_null: Vec<&Value> = alts.iter().filter(|a| a["type"] != "null").collect();
            if let [only] = not_null[..] {
                let mut merged = self.resolve(only).as_object().cloned().unwrap_or_default();
                for (k, v) in s.as_object().unwrap() {
                    if k != "oneOf" {
                        merged.insert(k.clone(), v.clone());
                    }
                }
                if alts.len() > 1 {
                    merged.insert("nullable".into(), Value::Bool(true));
                }
                s = Value::Object(merged);
            }
        }
        if let Some(parts) = s.get("allOf").and_then(Value::as_array).cloned() {
            let mut merged = s.as_object().cloned().unwrap_or_default();
            merged.remove("allOf");
            let mut props = Map::new();
            let mut required = Vec::new();
            for p in parts {
                let p = self.resolve(&p);
                if let Some(o) = p["properties"].as_object() {
                    props.extend(o.clone());
                }
                if let Some(r) = p["required"].as_array() {
                    required.extend(r.clone());
                }
                if let Some(t) = p.get("type") {
                    merged.insert("type".into(), t.clone());
                }
            }
            merged.insert("properties".into(), Value::Object(props));
            merged.insert("required".into(), Value::Array(required));
            s = Value::Object(merged);
        }
        s
    }
}

/// The JSON types a schema allows; empty = any.
fn types(s: &Value) -> Vec<String> {
    let mut t: Vec<String> = match &s["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => {
            if s.get("properties").is_some() {
                vec!["object".into()]
            } else if let Some(one) = s.get("oneOf").or_else(|| s.get("anyOf")) {
                one.as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(types)
                    .collect()
            } else {
                vec![]
            }
        }
    };
    if s.get("nullable") == Some(&Value::Bool(true)) {
        t.push("null".into());
    }
    t
}

fn allows(types: &[String], t: &str) -> bool {
    types.is_empty()
        || types.iter().any(|x| x == t)
        || (t == "integer" && types.iter().any(|x| x == "number"))
}

fn required(s: &Value) -> Vec<String> {
    s["required"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Compares a served schema with the official one at `at`, appending every incompatibility.
fn compare(
    served: &Doc,
    official: &Doc,
    ours: &Value,
    theirs: &Value,
    flow: Flow,
    at: &str,
    problems: &mut Vec<String>,
) {
    let ours = served.resolve(ours);
    let theirs = official.resolve(theirs);
    let (ot, tt) = (types(&ours), types(&theirs));
    if !ot.is_empty() && !tt.is_empty() {
        // Requests: whatever the official type allows must be accepted; responses: whatever is
        // sent must be allowed by the official type.
        let ok = match flow {
            Flow::Request => tt.iter().all(|t| allows(&ot, t)),
            Flow::Response => ot.iter().all(|t| allows(&tt, t)),
        };
        if !ok {
            problems.push(format!("{at}: served type {ot:?}, official {tt:?}"));
            return;
        }
    }
    if let (Some(oe), Some(te)) = (ours["enum"].as_array(), theirs["enum"].as_array()) {
        let (narrow, wide, what) = match flow {
            Flow::Request => (te, oe, "official value not accepted"),
            Flow::Response => (oe, te, "served value not official"),
        };
        for v in narrow {
            if !wide.contains(v) {
                problems.push(format!("{at}: {what}: {v}"));
            }
        }
    }
    if let Some(tp) = theirs["properties"].as_object() {
        let op = ours["properties"].as_object().cloned().unwrap_or_default();
        let (oreq, treq) = (required(&ours), required(&theirs));
        for (name, t) in tp {
            let path = format!("{at}.{name}");
            match op.get(name) {
                None => problems.push(format!("{path}: missing in the served document")),
                Some(o) => compare(served, official, o, t, flow, &path, problems),
            }
            if flow == Flow::Response && treq.contains(name) && !oreq.contains(name) {
                problems.push(format!("{path}: required officially, optional as served"));
            }
        }
        if flow == Flow::Request {
            for name in &oreq {
                if !treq.contains(name) {
                    problems.push(format!("{at}.{name}: required as served, not officially"));
                }
            }
        }
    }
    if theirs.get("items").is_some() {
        compare(
            served,
            official,
            &ours["items"],
            &theirs["items"],
            flow,
            &format!("{at}[]"),
            problems,
        );
    }
}

fn json_schema(content: &Value) -> Option<(&str, &Value)> {
    content
        .as_object()?
        .iter()
        .next()
        .map(|(ct, c)| (ct.as_str(), &c["schema"]))
}

/// Every incompatibility of `served_doc` with `official_doc`, and the number of official
/// operations served.
fn incompatibilities(served_doc: &Value, official_doc: &Value) -> (Vec<String>, usize) {
    let (official, served) = (Doc(official_doc), Doc(served_doc));
    let mut problems = Vec::new();
    let mut operations = 0;
    for (path, methods) in served_doc["paths"].as_object().unwrap() {
        for (method, ours) in methods.as_object().unwrap() {
            let theirs = &official_doc["paths"][path][method];
            if theirs.is_null() {
                // Additive operations must not reuse an official operation id.
                let id = ours["operationId"].as_str().unwrap_or("");
                assert!(
                    !official_doc.to_string().contains(&format!("\"{id}\"")) || id.is_empty(),
                    "{method} {path} reuses the official operation id {id}"
                );
                continue;
            }
            operations += 1;
            let id = theirs["operationId"].as_str().unwrap();
            let at = format!("{id} ({method} {path})");
            if ours["operationId"] != theirs["operationId"] {
                problems.push(format!("{at}: served operationId {}", ours["operationId"]));
            }
            // Parameters: every official one, same place; nothing newly required.
            let params = |op: &Value| -> Vec<Value> {
                op["parameters"].as_array().cloned().unwrap_or_default()
            };
            let (ops, tps) = (params(ours), params(theirs));
            for t in &tps {
                let found = ops
                    .iter()
                    .find(|o| o["name"] == t["name"] && o["in"] == t["in"]);
                let Some(o) = found else {
                    problems.push(format!(
                        "{at}: parameter {} ({}) missing",
                        t["name"], t["in"]
                    ));
                    continue;
                };
                // A query, path or header value is text on the wire: an official `string` is
                // compatible with a served integer or enum that documents what the server accepts.
                let (os, ts) = (served.resolve(&o["schema"]), official.resolve(&t["schema"]));
                let textual = types(&ts) == ["string"];
                if !textual {
                    compare(
                        &served,
                        &official,
                        &os,
                        &ts,
                        Flow::Request,
                        &format!("{at} parameter {}", t["name"]),
                        &mut problems,
                    );
                }
            }
            for o in &ops {
                let required = o["required"] == Value::Bool(true);
                let official_too = tps.iter().any(|t| {
                    t["name"] == o["name"]
                        && t["in"] == o["in"]
                        && t["required"] == Value::Bool(true)
                });
                if required && !official_too {
                    problems.push(format!(
                        "{at}: parameter {} required as served only",
                        o["name"]
                    ));
                }
            }
            // Request body.
            if let Some((ct, ts)) = json_schema(&theirs["requestBody"]["content"]) {
                match ours["requestBody"]["content"].get(ct) {
                    None => problems.push(format!("{at}: no {ct} request body")),
                    Some(c) => compare(
                        &served,
                        &official,
                        &c["schema"],
                        ts,
                        Flow::Request,
                        &format!("{at} body"),
                        &mut problems,
                    ),
                }
            } else if ours["requestBody"]["required"] == Value::Bool(true) {
                problems.push(format!("{at}: body required as served only"));
            }
            // Responses: every official status, each with a compatible schema.
            for (status, t) in theirs["responses"].as_object().unwrap() {
                let o = &ours["responses"][status];
                if o.is_null() {
                    problems.push(format!("{at}: response {status} not documented"));
                    continue;
                }
                if let Some((ct, ts)) = json_schema(&t["content"]) {
                    match o["content"].get(ct) {
                        None => problems.push(format!("{at}: response {status} has no {ct}")),
                        Some(c) => compare(
                            &served,
                            &official,
                            &c["schema"],
                            ts,
                            Flow::Response,
                            &format!("{at} {status}"),
                            &mut problems,
                        ),
                    }
                }
            }
            // Every documented failure uses the error envelope.
            for (status, o) in ours["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    let schema = &o["content"]["application/json"]["schema"]["$ref"];
                    if schema != "#/components/schemas/Error" {
                        problems.push(format!("{at}: response {status} is not the error envelope"));
                    }
                }
            }
        }
    }
    (problems, operations)
}

#[test]
fn served_document_is_compatible_with_the_official_one() {
    let official = flexportal_testkit::spec_json("flexportal-openapi.json");
    let served = flexportal_api::openapi::document();
    let (mut problems, operations) = incompatibilities(&served, &official);
    // SPEC §2.6.5 and §3 (77): a deferred upgrade has no new subscription yet, so `newRentalId`
    // is `null`; the served document says so instead of promising a string.
    problems.retain(|p| !p.starts_with("upgradeSubscription (post /v1/subscriptions/{subscriptionId}/upgrade) 200.newRentalId:"));
    assert!(
        operations >= 36,
        "only {operations} official operations served"
    );
    assert!(
        problems.is_empty(),
        "{} incompatibilities:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_dropped_or_retyped_field_is_an_incompatibility() {
    let official = flexportal_testkit::spec_json("flexportal-openapi.json");
    let mut served = flexportal_api::openapi::document();
    let asset = &mut served["components"]["schemas"]["Asset"];
    asset["properties"].as_object_mut().unwrap().remove("sku");
    asset["properties"]["status"] = serde_json::json!({"type": "integer"});
    let (problems, _) = incompatibilities(&served, &official);
    let text = problems.join("\n");
    assert!(
        text.contains("getAsset (get /v1/assets/{serialNumber}) 200.sku: missing"),
        "{text}"
    );
    assert!(
        text.contains("200.status: served type [\"integer\"]"),
        "{text}"
    );
    let mut served = flexportal_api::openapi::document();
    let body = &mut served["components"]["schemas"]["CreateAssetBody"];
    body["required"]
        .as_array_mut()
        .unwrap()
        .push("location".into());
    let (problems, _) = incompatibilities(&served, &official);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("body.location: required as served, not officially")),
        "{problems:?}"
    );
}

/// Every `$ref` anywhere in `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn served_document_declares_its_security_and_servers() {
    let doc = flexportal_api::openapi::document();
    // Every reference resolves (schemas used only by parameters included).
    let mut all = Vec::new();
    refs(&doc, &mut all);
    let dangling: Vec<&String> = all
        .iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            doc["components"]["schemas"][name].is_null()
        })
        .collect();
    assert!(dangling.is_empty(), "dangling references: {dangling:?}");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"][0]["bearerAuth"], serde_json::json!([]));
    assert!(doc["servers"][0]["url"].is_string());
    assert!(doc["components"]["schemas"]["Error"]["properties"]["error"].is_object());
}
