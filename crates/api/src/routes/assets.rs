//! `/v1/assets` (SPEC §2.3).

use crate::json::{Json, Written};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::patch;
use flexportal_app::assets as uc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::model::assets::{
    Asset, AssetDeleted, AssetHistory, AssetList, AssetListQuery, AssetSaved, CreateAssetBody,
    UpdateAssetBody,
};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The asset operations; PATCH is an accepted alias of PUT (SPEC §2.3), not documented.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update, delete))
        .routes(routes!(history))
        .route("/v1/assets/{serialNumber}", patch(update))
}

/// createAsset: 201 `{success, message, asset}`.
#[utoipa::path(
    post, path = "/v1/assets", operation_id = "createAsset", tag = "Assets",
    summary = "Create an asset",
    params(TenantHeader),
    request_body = CreateAssetBody,
    responses(
        (status = 201, description = "Asset created", body = AssetSaved),
        (status = 400, description = "Invalid body, unknown or inactive SKU, invalid status", body = ErrorEnvelope),
        (status = 409, description = "Serial number already exists (`ASSET_EXISTS`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<AssetSaved>), ApiError> {
    let a = uc::create(&s.app, &ctx, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(AssetSaved {
            success: true,
            message: "Asset created",
            asset: Asset::new(&ctx, a)?,
        }),
    ))
}

/// listAssets; the cursor is the serial number of the last item.
#[utoipa::path(
    get, path = "/v1/assets", operation_id = "listAssets", tag = "Assets",
    summary = "List assets",
    params(AssetListQuery, TenantHeader),
    responses(
        (status = 200, description = "A page of assets", body = AssetList),
        (status = 400, description = "Invalid query parameter or cursor", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Written<AssetList>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Written(AssetList::from_owned_page(
        page,
        limit,
        |a| a.serial_number.clone(),
        |a| Asset::new(&ctx, a),
    )?))
}

/// getAsset.
#[utoipa::path(
    get, path = "/v1/assets/{serialNumber}", operation_id = "getAsset", tag = "Assets",
    summary = "Get an asset",
    params(("serialNumber" = String, Path, description = "The asset serial number"), TenantHeader),
    responses(
        (status = 200, description = "The asset", body = Asset),
        (status = 404, description = "Asset not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(serial): Path<String>,
) -> Result<Written<Asset>, ApiError> {
    let a = uc::get(&s.app, &ctx, &serial).await?;
    Ok(Written(Asset::new(&ctx, a)?))
}

/// updateAsset (PUT, with PATCH as an alias).
#[utoipa::path(
    put, path = "/v1/assets/{serialNumber}", operation_id = "updateAsset", tag = "Assets",
    summary = "Update an asset",
    params(("serialNumber" = String, Path, description = "The asset serial number"), TenantHeader),
    request_body = UpdateAssetBody,
    responses(
        (status = 200, description = "Asset updated", body = AssetSaved),
        (status = 400, description = "Invalid body or status transition", body = ErrorEnvelope),
        (status = 404, description = "Asset not found", body = ErrorEnvelope),
        (status = 409, description = "The asset is linked to an active subscription (`ASSET_IN_USE`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn update(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(serial): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<AssetSaved>, ApiError> {
    let a = uc::update(&s.app, &ctx, &serial, &body).await?;
    Ok(Json(AssetSaved {
        success: true,
        message: "Asset updated",
        asset: Asset::new(&ctx, a)?,
    }))
}

/// deleteAsset (soft: the asset becomes `unavailable`).
#[utoipa::path(
    delete, path = "/v1/assets/{serialNumber}", operation_id = "deleteAsset", tag = "Assets",
    summary = "Delete an asset",
    params(("serialNumber" = String, Path, description = "The asset serial number"), TenantHeader),
    responses(
        (status = 200, description = "Asset marked unavailable", body = AssetDeleted),
        (status = 404, description = "Asset not found", body = ErrorEnvelope),
        (status = 409, description = "The asset is linked to an active subscription (`ASSET_IN_USE`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(serial): Path<String>,
) -> Result<Json<AssetDeleted>, ApiError> {
    let a = uc::delete(&s.app, &ctx, &serial).await?;
    Ok(Json(AssetDeleted {
        success: true,
        message: "Asset marked unavailable",
        serial_number: a.serial_number,
    }))
}

/// The history of an asset across its rentals (additive).
#[utoipa::path(
    get, path = "/v1/assets/{serialNumber}/history", operation_id = "getAssetHistory",
    tag = "Assets",
    summary = "Get an asset's history",
    description = "Every step of the asset across the rentals it served: registration, \
        assignments (fulfilment or replacement), replacement, and how each rental ended (sold, \
        returned, upgraded, cancelled), with the date, actor and reason.",
    params(
        ("serialNumber" = String, Path, description = "The asset's serial number"),
        TenantHeader,
    ),
    responses(
        (status = 200, description = "The history, oldest first", body = AssetHistory),
        (status = 404, description = "Asset not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn history(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(serial): Path<String>,
) -> Result<Json<AssetHistory>, ApiError> {
    let (asset, events) = flexportal_app::asset_history::history(&s.app, &ctx, &serial).await?;
    Ok(Json(AssetHistory::new(asset.serial_number, events)))
}
