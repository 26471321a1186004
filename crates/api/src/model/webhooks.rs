//! Webhook endpoints and their delivery log on the wire (`/v1/webhook-endpoints`, additive to the
//! official document; SPEC §2.11).

use flexportal_app::webhooks::DeliveryLog;
use flexportal_store::webhooks::EndpointRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Instant;

/// An endpoint that receives the business unit's events.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    /// `ep_…`.
    pub endpoint_id: String,
    /// Where events are posted (`https`).
    pub url: String,
    /// Operator's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Subscribed event types; empty = every event of the catalogue.
    pub events: Vec<String>,
    /// Whether events are delivered.
    pub enabled: bool,
    /// The signing secret (`whsec_…`): shown when the endpoint is created and when the secret
    /// is rotated, never otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Creation instant.
    pub created_at: Instant,
    /// Last change.
    pub updated_at: Instant,
}

impl WebhookEndpoint {
    /// Renders an endpoint, with its secret when `with_secret`.
    pub fn new(e: &EndpointRecord, with_secret: bool) -> Self {
        WebhookEndpoint {
            endpoint_id: e.endpoint_id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            events: e.event_list(),
            enabled: e.enabled,
            secret: with_secret.then(|| e.secret.clone()),
            created_at: Instant(e.created_at),
            updated_at: Instant(e.updated_at),
        }
    }
}

/// Body of createWebhookEndpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CreateWebhookEndpointBody {
    /// `https` URL (on loopback or private networks only when the server allows it).
    #[schema(max_length = 2000)]
    pub url: String,
    /// Event types of the SPEC §2.11 catalogue; omitted, `[]` or `["*"]`: every event.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// Label, at most 500 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Default `true`.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Body of updateWebhookEndpoint: any of the fields of create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct UpdateWebhookEndpointBody {
    /// New URL.
    #[serde(default)]
    pub url: Option<String>,
    /// New subscription list.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// New label; `""` clears it.
    #[serde(default)]
    pub description: Option<String>,
    /// Pause (`false`) or resume (`true`) deliveries.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// One endpoint: `{success, message?, endpoint}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointFound {
    /// Always `true`.
    pub success: bool,
    /// Human text (writes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
}

/// listWebhookEndpoints: `{success, endpoints, count}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointList {
    /// Always `true`.
    pub success: bool,
    /// Every endpoint of the business unit, oldest first.
    pub endpoints: Vec<WebhookEndpoint>,
    /// How many.
    pub count: usize,
}

/// deleteWebhookEndpoint: `{success, message}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointDeleted {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAttempt {
    /// 1, 2, …
    pub attempt: i64,
    /// When it was made.
    pub attempted_at: Instant,
    /// The receiver's HTTP status; absent when no response came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    /// Milliseconds until the response or the failure.
    pub latency_ms: i64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `pending`, `delivered` or `failed`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A 2xx was received.
    Delivered,
    /// Given up (5 days of retries) or its endpoint was removed.
    Failed,
}

/// One event to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// `dlv_…` (`X-FlexPortal-Delivery`, `webhook-id`).
    pub delivery_id: String,
    /// The event (`msg_…`).
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// Status.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (pending deliveries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Instant>,
    /// When it was delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Instant>,
    /// Creation instant (the event's).
    pub created_at: Instant,
    /// Every attempt, in order.
    pub attempt_log: Vec<WebhookAttempt>,
}

impl WebhookDelivery {
    /// Renders a delivery with its attempts.
    pub fn new(l: &DeliveryLog) -> Self {
        let d = &l.delivery;
        let status = match d.status.as_str() {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        };
        WebhookDelivery {
            delivery_id: d.delivery_id.clone(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            endpoint_id: d.endpoint_id.clone(),
            status,
            attempts: d.attempts,
            next_attempt_at: (status == DeliveryStatus::Pending)
                .then_some(Instant(d.next_attempt_at)),
            delivered_at: Instant::opt(d.delivered_at),
            created_at: Instant(d.created_at),
            attempt_log: l
                .attempts
                .iter()
                .map(|a| WebhookAttempt {
                    attempt: a.attempt,
                    attempted_at: Instant(a.attempted_at),
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error.clone(),
                })
                .collect(),
        }
    }
}

/// listWebhookDeliveries: `{success, deliveries, count}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryList {
    /// Always `true`.
    pub success: bool,
    /// Newest first.
    pub deliveries: Vec<WebhookDelivery>,
    /// How many.
    pub count: usize,
}

/// Query of listWebhookDeliveries.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct WebhookDeliveryQuery {
    /// Only deliveries in this status.
    pub status: Option<DeliveryStatus>,
    /// Only the deliveries of this event.
    pub event_id: Option<String>,
    /// At most this many, newest first (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}
