//! The official contract as a test oracle: every `/v1` response the integration suite receives is
//! validated against the response schema that `spec/flexportal-openapi.json` gives for its
//! operation and status (JSON Schema 2020-12, the dialect of OpenAPI 3.1), so a handler that drops
//! or mistypes a documented field fails the test that called it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

/// Compiled validators by `(operationId, status)`; `None` where no JSON schema is documented.
type Validators = Mutex<HashMap<(String, String), Option<Arc<jsonschema::Validator>>>>;

struct Contract {
    /// `(method, path template segments, operation)`.
    operations: Vec<(String, Vec<String>, Value)>,
    /// `components.schemas`, moved under `$defs` of every compiled schema.
    defs: Value,
    validators: Validators,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let doc = crate::spec_json("flexportal-openapi.json");
        let mut operations = Vec::new();
        for (path, methods) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in methods.as_object().into_iter().flatten() {
                let segments: Vec<String> = path.split('/').map(str::to_string).collect();
                operations.push((method.to_uppercase(), segments, op.clone()));
            }
        }
        // Literal segments before parameters: `/v1/products/variants` is not `/v1/products/{id}`.
        operations.sort_by_key(|(_, segs, _)| segs.iter().filter(|s| s.starts_with('{')).count());
        let defs = rewrite_refs(doc["components"]["schemas"].clone());
        Contract {
            operations,
            defs,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// `#/components/schemas/X` → `#/$defs/X`, everywhere in a schema.
fn rewrite_refs(mut v: Value) -> Value {
    match &mut v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "$ref"
                    && let Some(r) = x.as_str()
                {
                    *x = Value::String(r.replace("#/components/schemas/", "#/$defs/"));
                } else {
                    *x = rewrite_refs(x.take());
                }
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                *x = rewrite_refs(x.take());
            }
        }
        _ => {}
    }
    v
}

fn find(method: &str, path: &str) -> Option<(&'static str, &'static Value)> {
    let segments: Vec<&str> = path.split('/').collect();
    contract().operations.iter().find_map(|(m, segs, op)| {
        let matches = m == method
            && segs.len() == segments.len()
            && segs
                .iter()
                .zip(&segments)
                .all(|(t, s)| t.starts_with('{') || t == s);
        matches.then(|| (op["operationId"].as_str().unwrap_or(""), op))
    })
}

/// The deviations from the official document that SPEC lists (§3): upgradeSubscription in
/// deferred mode answers `newRentalId: null` (the subscription does not exist yet).
fn deviation(operation_id: &str, path: &str, body: &Value) -> bool {
    operation_id == "upgradeSubscription" && path == "/newRentalId" && body["newRentalId"].is_null()
}

/// Validates one response against the official document. `Ok` when the path is not an official
/// operation or the operation documents no JSON schema for the status; `Err` with every violation
/// otherwise.
pub fn check(method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
    let Some((operation_id, op)) = find(method, path) else {
        return Ok(());
    };
    let c = contract();
    let key = (operation_id.to_string(), status.to_string());
    let validator = {
        let mut cache = c.validators.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| {
                let schema =
                    op["responses"][status.to_string()]["content"]["application/json"]["schema"]
                        .clone();
                if schema.is_null() {
                    return None;
                }
                let mut schema = rewrite_refs(schema);
                if let Value::Object(m) = &mut schema {
                    m.insert("$defs".into(), c.defs.clone());
                    m.insert(
                        "$schema".into(),
                        Value::String("https://json-schema.org/draft/2020-12/schema".into()),
                    );
                }
                let v = jsonschema::validator_for(&schema)
                    .unwrap_or_else(|e| panic!("{operation_id} {status}: schema invalid: {e}"));
                Some(Arc::new(v))
            })
            .clone()
    };
    let Some(validator) = validator else {
        return Ok(());
    };
    let errors: Vec<String> = validator
        .iter_errors(body)
        .filter(|e| !deviation(operation_id, &e.instance_path.to_string(), body))
        .map(|e| format!("{} at {}: {e}", operation_id, e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_outside_the_contract_are_reported() {
        // A documented asset missing its required fields and with a status outside the enum.
        let bad = serde_json::json!({"serialNumber": "S-1", "status": "lost"});
        let e = check("GET", "/v1/assets/S-1", 200, &bad).unwrap_err();
        assert!(e.contains("getAsset"), "{e}");
        assert!(e.contains("status"), "{e}");
        let good = serde_json::json!({
            "serialNumber": "S-1", "tenantId": "bu_1", "sku": "P-1", "productName": "Laptop",
            "status": "available", "createdAt": "2025-01-01T00:00:00.000Z",
            "updatedAt": "2025-01-01T00:00:00.000Z"
        });
        assert_eq!(check("GET", "/v1/assets/S-1", 200, &good), Ok(()));
        // Paths that are not official operations are not checked.
        assert_eq!(check("GET", "/healthz", 200, &bad), Ok(()));
    }
}
