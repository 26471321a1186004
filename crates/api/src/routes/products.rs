//! `/v1/products` (SPEC §2.2).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::products::{self as uc, UpsertOutcome};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{CsvUpload, JsonBody, Params};
use crate::views;

fn outcome(o: &UpsertOutcome) -> Value {
    json!({
        "success": true,
        "message": if o.operation == "created" { "Product created" } else { "Product updated" },
        "productId": o.product.product_id,
        "productSku": o.product.product_sku,
        "operation": o.operation,
        "variantResults": o.variant_results.iter()
            .map(|(sku, op)| json!({"variantSku": sku, "operation": op}))
            .collect::<Vec<_>>(),
    })
}

/// createProduct: 201 for both created and updated.
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let o = uc::create(&s.app, &ctx, &body).await?;
    Ok((StatusCode::CREATED, Json(outcome(&o))))
}

/// listProducts.
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<Value>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(views::try_list(
        "products",
        &page,
        limit,
        |r| r.product.product_id.clone(),
        |r| views::product(&r.product, None, Some(r.variant_count)),
    )?))
}

/// getProduct.
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (p, vs) = uc::get(&s.app, &ctx, &id).await?;
    let variants = vs
        .iter()
        .map(|v| views::variant(&ctx, v, &p.product_sku, None))
        .collect::<Result<_, _>>()?;
    Ok(Json(views::product(&p, Some(variants), None)?))
}

/// updateProduct.
pub(crate) async fn update(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = uc::update(&s.app, &ctx, &id, &body).await?;
    Ok(Json(outcome(&o)))
}

/// deleteProduct.
pub(crate) async fn delete(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let p = uc::delete(&s.app, &ctx, &id).await?;
    Ok(Json(json!({
        "success": true,
        "message": "Product discontinued",
        "productId": p.product_id,
        "productSku": p.product_sku,
    })))
}

/// listVariants.
pub(crate) async fn list_variants(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<Value>, ApiError> {
    let (page, limit) = uc::list_variants(&s.app, &ctx, &q).await?;
    Ok(Json(views::try_list(
        "variants",
        &page,
        limit,
        |r| r.variant.variant_id.clone(),
        |r| views::variant(&ctx, &r.variant, &r.product_sku, Some(&r.product_name)),
    )?))
}

/// importProductsCSV: 201 even when some rows failed.
pub(crate) async fn import_csv(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    CsvUpload(bytes): CsvUpload,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let o = flexportal_app::products_csv::import(&s.app, &ctx, &bytes).await?;
    let message = if o.errors.is_empty() {
        "Import completed"
    } else {
        "Import completed with errors"
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": message,
            "created": o.products_created,
            "updated": o.products_updated,
            "errors": o.errors.iter().map(|e| json!({"row": e.row, "error": e.error})).collect::<Vec<_>>(),
            "summary": {
                "totalRows": o.total_rows,
                "productsCreated": o.products_created,
                "productsUpdated": o.products_updated,
                "variantsCreated": o.variants_created,
                "variantsUpdated": o.variants_updated,
                "errors": o.errors.iter().map(|e| json!({"row": e.row, "sku": e.sku, "error": e.error})).collect::<Vec<_>>(),
            }
        })),
    ))
}

/// The typed operations of this resource (routes and their OpenAPI description).
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
}
