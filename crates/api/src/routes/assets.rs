//! `/v1/assets` (SPEC §2.3).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::assets as uc;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::views;

/// createAsset: 201 `{success, message, asset}`.
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let a = uc::create(&s.app, &ctx, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"success": true, "message": "Asset created", "asset": views::asset(&ctx, &a)})),
    ))
}

/// listAssets; the cursor is the serial number of the last item.
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<Value>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(views::list(
        "assets",
        &page,
        limit,
        |a| a.serial_number.clone(),
        |a| views::asset(&ctx, a),
    )))
}

/// getAsset.
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(serial): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let a = uc::get(&s.app, &ctx, &serial).await?;
    Ok(Json(views::asset(&ctx, &a)))
}

/// updateAsset (PUT, with PATCH as an alias).
pub(crate) async fn update(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(serial): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let a = uc::update(&s.app, &ctx, &serial, &body).await?;
    Ok(Json(
        json!({"success": true, "message": "Asset updated", "asset": views::asset(&ctx, &a)}),
    ))
}

/// deleteAsset (soft).
pub(crate) async fn delete(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(serial): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let a = uc::delete(&s.app, &ctx, &serial).await?;
    Ok(Json(json!({
        "success": true,
        "message": "Asset marked unavailable",
        "serialNumber": a.serial_number,
    })))
}
