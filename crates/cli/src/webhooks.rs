//! `flexportal webhooks …`: a business unit's webhook endpoints, their delivery log and replays
//! (SPEC §2.11).

use clap::Subcommand;
use flexportal_app::App;
use flexportal_app::webhooks as uc;
use flexportal_store::webhooks::{DeliveryFilter, EndpointRecord};
use serde_json::{Value, json};

use crate::commands::context;
use crate::templates::message;

/// `flexportal webhooks …`
#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint; prints its id and signing secret (shown this once).
    Add {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// `https` URL (loopback and private addresses only with
        /// FLEXPORTAL_WEBHOOK_ALLOW_PRIVATE=1).
        #[arg(long)]
        url: String,
        /// Comma-separated event types (default: every event).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// A label.
        #[arg(long)]
        description: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the unit's endpoints.
    List {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove an endpoint (its pending deliveries fail).
    Remove {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Endpoint id.
        endpoint: String,
    },
    /// Give an endpoint a new signing secret; prints it.
    RotateSecret {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Endpoint id.
        endpoint: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The delivery log, newest first, with every attempt (status code, latency, error).
    Deliveries {
        /// Business unit id.
        #[arg(long)]
        tenant: String,
        /// Only this endpoint.
        #[arg(long)]
        endpoint: Option<String>,
        /// Only deliveries in this status: pending, delivered, failed.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Send a delivery again now (same event, same delivery id).
    Replay {
        /// Delivery id (`dlv_…`).
        delivery: String,
    },
}

/// An instant as the API writes it (ISO 8601 UTC with milliseconds).
fn iso(millis: i64) -> Value {
    Value::from(flexportal_domain::time::format_timestamp(millis))
}

fn endpoint_json(e: &EndpointRecord, with_secret: bool) -> Value {
    let mut v = json!({
        "id": e.endpoint_id,
        "url": e.url,
        "events": e.event_list(),
        "enabled": e.enabled,
        "description": e.description,
    });
    if with_secret {
        v["secret"] = e.secret.clone().into();
    }
    v
}

/// Runs a webhook command.
pub async fn run(app: &App, cmd: WebhookCommand) -> Result<(), Box<dyn std::error::Error>> {
    match cmd {
        WebhookCommand::Add {
            tenant,
            url,
            events,
            description,
            json,
        } => {
            let ctx = context(app, Some(tenant)).await?;
            let body = json!({"url": url, "events": events, "description": description});
            let e = uc::create(app, &ctx, &body).await.map_err(message)?;
            if json {
                println!("{}", endpoint_json(&e, true));
            } else {
                println!("endpoint {} added for {}", e.endpoint_id, e.url);
                println!("  id:     {}", e.endpoint_id);
                println!("  secret: {}   (shown once; store it now)", e.secret);
            }
        }
        WebhookCommand::List { tenant, json } => {
            let ctx = context(app, Some(tenant)).await?;
            let all = uc::list(app, &ctx).await.map_err(message)?;
            if json {
                let v: Vec<Value> = all.iter().map(|e| endpoint_json(e, false)).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for e in &all {
                    let events = e.event_list();
                    println!(
                        "{:<26} {:<8} {} [{}]",
                        e.endpoint_id,
                        if e.enabled { "enabled" } else { "disabled" },
                        e.url,
                        if events.is_empty() {
                            "*".to_string()
                        } else {
                            events.join(",")
                        }
                    );
                }
            }
        }
        WebhookCommand::Remove { tenant, endpoint } => {
            let ctx = context(app, Some(tenant)).await?;
            uc::delete(app, &ctx, &endpoint).await.map_err(message)?;
            println!("endpoint {endpoint} removed");
        }
        WebhookCommand::RotateSecret {
            tenant,
            endpoint,
            json,
        } => {
            let ctx = context(app, Some(tenant)).await?;
            let e = uc::rotate_secret(app, &ctx, &endpoint)
                .await
                .map_err(message)?;
            if json {
                println!("{}", endpoint_json(&e, true));
            } else {
                println!("new secret of {}: {}", e.endpoint_id, e.secret);
            }
        }
        WebhookCommand::Deliveries {
            tenant,
            endpoint,
            status,
            limit,
            json,
        } => {
            let ctx = context(app, Some(tenant)).await?;
            let filter = DeliveryFilter {
                endpoint_id: endpoint,
                status,
                event_id: None,
            };
            let log = uc::deliveries(app, &ctx, &filter, limit)
                .await
                .map_err(message)?;
            if json {
                let v: Vec<Value> = log
                    .iter()
                    .map(|l| {
                        let d = &l.delivery;
                        json!({
                            "deliveryId": d.delivery_id, "eventId": d.event_id,
                            "eventType": d.event_type, "endpointId": d.endpoint_id,
                            "status": d.status, "attempts": d.attempts,
                            "nextAttemptAt": (d.status == "pending").then(|| iso(d.next_attempt_at)),
                            "deliveredAt": d.delivered_at.map(iso),
                            "attemptLog": l.attempts.iter().map(|a| json!({
                                "attempt": a.attempt, "attemptedAt": iso(a.attempted_at),
                                "statusCode": a.status_code, "latencyMs": a.latency_ms,
                                "error": a.error,
                            })).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for l in &log {
                    let d = &l.delivery;
                    println!(
                        "{} {:<22} {:<9} attempts {} endpoint {}",
                        d.delivery_id, d.event_type, d.status, d.attempts, d.endpoint_id
                    );
                    for a in &l.attempts {
                        println!(
                            "    #{} {} ms {}{}",
                            a.attempt,
                            a.latency_ms,
                            a.status_code.map_or("-".to_string(), |s| s.to_string()),
                            a.error
                                .as_deref()
                                .map_or(String::new(), |e| format!("  {e}"))
                        );
                    }
                }
            }
        }
        WebhookCommand::Replay { delivery } => {
            let d = uc::replay(app, &delivery).await.map_err(message)?;
            println!(
                "delivery {} ({}) queued again for endpoint {}",
                d.delivery_id, d.event_type, d.endpoint_id
            );
        }
    }
    Ok(())
}
