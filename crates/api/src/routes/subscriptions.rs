//! `/v1/subscriptions` (SPEC §2.6).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::subscriptions as uc;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::{views, views_rentals};

/// createSubscription: 201 `{success, message, rentalId, rental}`.
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let v = uc::create(&s.app, &ctx, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": "Subscription created",
            "rentalId": v.sub.rental_id,
            "rental": views_rentals::subscription(&ctx, &v)?,
        })),
    ))
}

/// listSubscriptions: items under `rentals`.
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<Value>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(views::try_list(
        "rentals",
        &page,
        limit,
        |v| v.sub.rental_id.clone(),
        |v| views_rentals::subscription(&ctx, v),
    )?))
}

/// getSubscription.
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let v = uc::get(&s.app, &ctx, &id).await?;
    Ok(Json(views_rentals::subscription(&ctx, &v)?))
}

/// updateSubscriptionNotes.
pub(crate) async fn notes(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let r = uc::update_notes(&s.app, &ctx, &id, &body).await?;
    Ok(Json(
        json!({"success": true, "message": "Subscription notes updated", "rentalId": r.rental_id}),
    ))
}

/// The typed operations of this resource (routes and their OpenAPI description).
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
}
