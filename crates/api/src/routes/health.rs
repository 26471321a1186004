//! Liveness, readiness and the OpenAPI document.

use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;

/// `GET /healthz`: the process answers.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the store answers; 503 otherwise.
pub(crate) async fn readyz(State(s): State<AppState>) -> (StatusCode, Json<Value>) {
    match s.app.db.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "store not reachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "store unreachable" })),
            )
        }
    }
}

/// `GET /openapi.json`: the document generated from the routes of this server.
pub(crate) async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}
