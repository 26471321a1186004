//! The request bodies of the catalog operations, for the document only (the use cases read the
//! JSON themselves, SPEC §2.2): createProduct (complete), updateProduct (partial), the pricing
//! tiers of both, and the CSV upload form of importProductsCSV.

use std::borrow::Cow;

use flexportal_domain::status::{ProductStatus, VariantStatus};
use utoipa::openapi::schema::{ArrayBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::Decimal;
use super::catalog::{DiscountType, PricingSource};

/// The body of createProduct: an upsert by `productSku` (SPEC §1.12, §2.2). Server-set fields
/// (`productId`, `tenantId`, `_sync`, `createdAt`, `updatedAt`) are ignored (SPEC §1.3).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CreateProductBody {
    /// The product's key; an existing product with this SKU (any status) is updated.
    #[schema(min_length = 1)]
    pub product_sku: String,
    /// Name.
    #[schema(min_length = 1)]
    pub name: String,
    /// Specification text; an object is accepted and stored as its JSON text.
    #[schema(min_length = 1)]
    pub specification: String,
    /// Category.
    #[schema(min_length = 1)]
    pub category: String,
    /// Brand.
    #[schema(min_length = 1)]
    pub brand: String,
    /// Free text.
    pub description: Option<String>,
    /// Image URLs.
    pub images: Option<Vec<String>>,
    /// `active` (default for a new product) or `discontinued` (SPEC §2.2 statuses).
    pub status: Option<ProductStatus>,
    /// The variants: new SKUs are added, existing ones of this product updated, variants not
    /// sent are kept.
    #[schema(min_items = 1)]
    pub variants: Vec<CreateVariantBody>,
}

/// A variant of a createProduct body.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CreateVariantBody {
    /// Ignored (server-set).
    pub variant_id: Option<String>,
    /// The variant's key, unique in the business unit (alias `sku`); a SKU of another product
    /// is 409 `DUPLICATE_SKU`.
    #[schema(min_length = 1)]
    pub variant_sku: String,
    /// Configuration description (alias `specification`).
    #[schema(min_length = 1)]
    pub variant_name: String,
    /// Grade `A`–`E` (lowercase accepted, stored uppercase).
    #[schema(min_length = 1)]
    pub grade: String,
    /// Catalogue condition code.
    pub condition: Option<String>,
    /// Colour (alias `color`).
    pub color_name: Option<String>,
    /// Image URLs.
    pub images: Option<Vec<String>>,
    /// List price (RRP), major units, ≥ 0.
    pub list_price: Option<Decimal>,
    /// Default acquisition cost of a unit, major units, ≥ 0.
    pub acquisition_cost: Option<Decimal>,
    /// At least one tier; tiers of an existing variant are merged by contract length.
    pub pricing: PricingInput,
    /// `active` (default for a new variant) or `inactive` (409 `VARIANT_IN_USE` while an open
    /// order has unfulfilled units of it).
    pub status: Option<VariantStatus>,
}

/// The body of updateProduct: a partial update, only the fields sent change (SPEC §2.2); `null`
/// clears `description`. Server-set fields are ignored (SPEC §1.3).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct UpdateProductBody {
    /// Must equal the stored SKU (it cannot change).
    pub product_sku: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Specification text; an object is accepted and stored as its JSON text.
    pub specification: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Image URLs (replace the stored list).
    pub images: Option<Vec<String>>,
    /// `discontinued` behaves like deleteProduct; `active` reactivates the product (its
    /// variants stay as they are).
    pub status: Option<ProductStatus>,
    /// Variants matched by SKU: existing ones updated, new SKUs added, others unchanged.
    pub variants: Option<Vec<UpdateVariantBody>>,
}

/// A variant of an updateProduct body: only the fields sent change; `null` clears `condition`,
/// `colorName`, `listPrice` and `acquisitionCost`. A new SKU needs `variantName`, `grade` and at
/// least one tier.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct UpdateVariantBody {
    /// Ignored (server-set).
    pub variant_id: Option<String>,
    /// The variant's key (the match key); `sku` is accepted instead.
    pub variant_sku: Option<String>,
    /// Alias of `variantSku`.
    pub sku: Option<String>,
    /// Configuration description (alias `specification`).
    pub variant_name: Option<String>,
    /// Grade `A`–`E` (lowercase accepted, stored uppercase).
    pub grade: Option<String>,
    /// Catalogue condition code.
    pub condition: Option<String>,
    /// Colour (alias `color`).
    pub color_name: Option<String>,
    /// Image URLs (replace the stored list).
    pub images: Option<Vec<String>>,
    /// List price (RRP), major units, ≥ 0.
    pub list_price: Option<Decimal>,
    /// Default acquisition cost of a unit, major units, ≥ 0.
    pub acquisition_cost: Option<Decimal>,
    /// Tiers merged by contract length into the stored ones (lengths not sent are kept).
    pub pricing: Option<PricingInput>,
    /// `active` or `inactive` (409 `VARIANT_IN_USE` while an open order has unfulfilled units
    /// of it).
    pub status: Option<VariantStatus>,
}

/// The `pricing` of a variant in a body: an array of tiers, or the map form
/// `{"12": 149.00, "24": 119.00}` (contract length in months → monthly price in major units).
/// Contract lengths are unique within a variant; failures are 400 `INVALID_PRICING`.
#[derive(Debug)]
#[allow(dead_code)]
pub struct PricingInput;

impl PartialSchema for PricingInput {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Array, Type::Object]))
            .items(RefOr::Ref(Ref::from_schema_name(PricingTierBody::name())))
            .description(Some(
                "An array of pricing tiers, or the map form {\"12\": 149.00} (contract length in \
                 months to monthly price in major units; SPEC 2.2)",
            ))
            .into()
    }
}

impl ToSchema for PricingInput {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PricingInput")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            PricingTierBody::name().into_owned(),
            PricingTierBody::schema(),
        ));
        <PricingTierBody as ToSchema>::schemas(schemas);
    }
}

/// A pricing tier in a body (SPEC §2.2).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct PricingTierBody {
    /// Contract length in months.
    #[schema(minimum = 1, maximum = 120)]
    pub contract_length: i64,
    /// Monthly price, major units, ≥ 0.
    pub monthly_price: Decimal,
    /// One-off setup fee, major units, ≥ 0.
    pub setup_fee: Option<Decimal>,
    /// Discount on the monthly price.
    pub discount: Option<DiscountBody>,
    /// `manual` (default) or `suggested`.
    pub source: Option<PricingSource>,
    /// When a suggested price was calculated (kept as sent).
    pub calculated_at: Option<String>,
    /// The pricing preset a suggested price used.
    pub preset_used: Option<String>,
}

/// A discount in a body.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct DiscountBody {
    /// `percentage` or `fixed`.
    #[serde(rename = "type")]
    pub kind: DiscountType,
    /// Percent for `percentage` (up to 4 decimals), major units for `fixed`; ≥ 0.
    pub value: Decimal,
    /// Label.
    pub description: Option<String>,
}

/// The multipart form of importProductsCSV (SPEC §2.2). The file may also be sent as the raw
/// body with `Content-Type: text/csv`.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CsvUploadForm {
    /// CSV file with product data: UTF-8, a header row, at most 10 MB and 10 000 data rows.
    #[schema(value_type = String, format = Binary)]
    pub csv_file: Vec<u8>,
}
