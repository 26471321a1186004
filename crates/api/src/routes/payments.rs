//! `/v1/payments` (SPEC §2.7).

use axum::Json;
use axum::extract::{Path, State};
use flexportal_app::payments as uc;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::{views, views_rentals};

/// listPayments: `{success, payments, count, limit, hasMore, nextCursor}`.
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<Value>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    let mut v = views::list(
        "payments",
        &page,
        limit,
        |p| p.payment_id.clone(),
        |p| views_rentals::payment(&ctx, p),
    );
    v["success"] = json!(true);
    Ok(Json(v))
}

/// getPayment: `{success, payment}`.
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let p = uc::get(&s.app, &ctx, &id).await?;
    Ok(Json(
        json!({"success": true, "payment": views_rentals::payment(&ctx, &p)}),
    ))
}

/// markPaymentPaid.
pub(crate) async fn mark_paid(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let p = uc::mark_paid(&s.app, &ctx, &id, &body).await?;
    Ok(Json(
        json!({"success": true, "message": "Payment marked as paid", "payment": views_rentals::payment(&ctx, &p)}),
    ))
}

/// cancelPayment.
pub(crate) async fn cancel(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let p = uc::cancel(&s.app, &ctx, &id, &body).await?;
    Ok(Json(
        json!({"success": true, "message": "Payment cancelled", "payment": views_rentals::payment(&ctx, &p)}),
    ))
}

/// The typed operations of this resource (routes and their OpenAPI description).
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
}
