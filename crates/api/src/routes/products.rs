//! `/v1/products` (SPEC §2.2).

use crate::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use flexportal_app::products as uc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::extract::{CsvUpload, JsonBody, Params};
use crate::model::catalog::{
    CsvImported, Product, ProductDeleted, ProductList, ProductListQuery, ProductSaved, Variant,
    VariantList, VariantListQuery,
};
use crate::model::catalog_input::{CreateProductBody, CsvUploadForm, UpdateProductBody};
use crate::model::{ErrorEnvelope, TenantHeader};
use crate::routes::CommonErrors;

/// The catalog operations.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(list_variants))
        .routes(routes!(get, update, delete))
        .routes(routes!(import_csv))
}

/// createProduct: an upsert by product SKU, 201 for both created and updated.
#[utoipa::path(
    post, path = "/v1/products", operation_id = "createProduct", tag = "Products",
    summary = "Create a product",
    params(TenantHeader),
    request_body = CreateProductBody,
    responses(
        (status = 201, description = "Product created or updated", body = ProductSaved),
        (status = 400, description = "Invalid body (`VALIDATION_ERROR`) or pricing tier (`INVALID_PRICING`)", body = ErrorEnvelope),
        (status = 409, description = "A variant SKU belongs to another product (`DUPLICATE_SKU`), a variant to deactivate has unfulfilled units on an open order (`VARIANT_IN_USE`), or discontinuing the product meets open orders (`PRODUCT_HAS_ACTIVE_ORDERS`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn create(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ProductSaved>), ApiError> {
    let o = uc::create(&s.app, &ctx, &body).await?;
    Ok((StatusCode::CREATED, Json(ProductSaved::new(&o)?)))
}

/// listProducts; the cursor is the product id of the last item.
#[utoipa::path(
    get, path = "/v1/products", operation_id = "listProducts", tag = "Products",
    summary = "List products",
    params(ProductListQuery, TenantHeader),
    responses(
        (status = 200, description = "A page of products", body = ProductList),
        (status = 400, description = "Invalid query parameter or cursor", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn list(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<ProductList>, ApiError> {
    let (page, limit) = uc::list(&s.app, &ctx, &q).await?;
    Ok(Json(ProductList::from_page(
        &page,
        limit,
        |r| r.product.product_id.clone(),
        Product::listed,
    )?))
}

/// listVariants; the cursor is the variant id of the last item.
#[utoipa::path(
    get, path = "/v1/products/variants", operation_id = "listVariants", tag = "Products",
    summary = "List all variants",
    params(VariantListQuery, TenantHeader),
    responses(
        (status = 200, description = "A page of variants", body = VariantList),
        (status = 400, description = "Invalid query parameter or cursor", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn list_variants(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Params(q): Params,
) -> Result<Json<VariantList>, ApiError> {
    let (page, limit) = uc::list_variants(&s.app, &ctx, &q).await?;
    Ok(Json(VariantList::from_page(
        &page,
        limit,
        |r| r.variant.variant_id.clone(),
        |r| Variant::new(&ctx, &r.variant, &r.product_sku, Some(&r.product_name)),
    )?))
}

/// getProduct: the product with every variant.
#[utoipa::path(
    get, path = "/v1/products/{productId}", operation_id = "getProduct", tag = "Products",
    summary = "Get a product",
    params(("productId" = String, Path, description = "The product ID"), TenantHeader),
    responses(
        (status = 200, description = "The product", body = Product),
        (status = 404, description = "Product not found", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn get(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<Product>, ApiError> {
    let (p, vs) = uc::get(&s.app, &ctx, &id).await?;
    Ok(Json(Product::with_variants(&ctx, &p, &vs)?))
}

/// updateProduct: a partial update.
#[utoipa::path(
    put, path = "/v1/products/{productId}", operation_id = "updateProduct", tag = "Products",
    summary = "Update a product",
    params(("productId" = String, Path, description = "The product ID"), TenantHeader),
    request_body = UpdateProductBody,
    responses(
        (status = 200, description = "Product updated", body = ProductSaved),
        (status = 400, description = "Invalid body, a changed `productSku` (`VALIDATION_ERROR`) or an invalid pricing tier (`INVALID_PRICING`)", body = ErrorEnvelope),
        (status = 404, description = "Product not found", body = ErrorEnvelope),
        (status = 409, description = "A variant SKU belongs to another product (`DUPLICATE_SKU`), a variant to deactivate has unfulfilled units on an open order (`VARIANT_IN_USE`), or discontinuing the product meets open orders (`PRODUCT_HAS_ACTIVE_ORDERS`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn update(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ProductSaved>, ApiError> {
    let o = uc::update(&s.app, &ctx, &id, &body).await?;
    Ok(Json(ProductSaved::new(&o)?))
}

/// deleteProduct (soft: the product becomes `discontinued`, its variants `inactive`).
#[utoipa::path(
    delete, path = "/v1/products/{productId}", operation_id = "deleteProduct", tag = "Products",
    summary = "Delete a product",
    params(("productId" = String, Path, description = "The product ID"), TenantHeader),
    responses(
        (status = 200, description = "Product discontinued", body = ProductDeleted),
        (status = 404, description = "Product not found", body = ErrorEnvelope),
        (status = 409, description = "Open orders still have unfulfilled units of the product (`PRODUCT_HAS_ACTIVE_ORDERS`)", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    Path(id): Path<String>,
) -> Result<Json<ProductDeleted>, ApiError> {
    let p = uc::delete(&s.app, &ctx, &id).await?;
    Ok(Json(ProductDeleted {
        success: true,
        message: "Product discontinued",
        product_id: p.product_id,
        product_sku: p.product_sku,
    }))
}

/// importProductsCSV: 201 even when some rows failed.
#[utoipa::path(
    post, path = "/v1/products/csv", operation_id = "importProductsCSV", tag = "Products",
    summary = "Import products from CSV",
    params(TenantHeader),
    request_body(content(
        (CsvUploadForm = "multipart/form-data"),
        (String = "text/csv"),
    )),
    responses(
        (status = 201, description = "Import completed (possibly with row errors)", body = CsvImported),
        (status = 400, description = "No file, an empty or unreadable file, a missing required column or too many rows (`VALIDATION_ERROR`); nothing is imported", body = ErrorEnvelope),
        CommonErrors,
    ),
)]
pub(crate) async fn import_csv(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    CsvUpload(bytes): CsvUpload,
) -> Result<(StatusCode, Json<CsvImported>), ApiError> {
    let o = flexportal_app::products_csv::import(&s.app, &ctx, &bytes).await?;
    Ok((StatusCode::CREATED, Json(CsvImported::new(&o))))
}
