//! The catalog on the wire: products, variants and their pricing tiers (SPEC §2.2; the official
//! shapes plus the additive `variantCount`, `productName`, `marginPercent` and the CSV import's
//! `summary`). The request bodies are in [`super::catalog_input`].

use flexportal_app::products::UpsertOutcome;
use flexportal_app::products_csv::CsvImportOutcome;
use flexportal_app::{AppError, TenantContext};
use flexportal_domain::pricing;
use flexportal_domain::recovery::{RecoveryInput, recovery};
use flexportal_domain::status::{Grade, ProductStatus, VariantStatus};
use flexportal_store::products::{ProductListRow, ProductRecord};
use flexportal_store::variants::VariantRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Decimal, Instant, SortDirection, list_envelope, stored_enum};

/// A stored JSON list of image URLs. Errors: 500 when it is not one.
fn images(text: &str) -> Result<Vec<String>, AppError> {
    serde_json::from_str(text).map_err(AppError::corrupt)
}

/// A product: a catalogue model with its variants (SPEC §2.2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// `prod_…`.
    pub product_id: String,
    /// Business unit.
    pub tenant_id: String,
    /// The product's key, unique in the business unit; immutable.
    pub product_sku: String,
    /// Name.
    pub name: String,
    /// Specification text (an object sent on create is stored as its JSON text).
    pub specification: String,
    /// Category as written.
    pub category: String,
    /// Brand as written.
    pub brand: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub description: Option<String>,
    /// Image URLs.
    pub images: Vec<String>,
    /// `active`, or `discontinued` after deleteProduct (SPEC §2.2 statuses).
    pub status: ProductStatus,
    /// E-commerce sync metadata (read-only, SPEC §2.12); `{source: "manual"}` for products
    /// created through the API.
    #[serde(rename = "_sync")]
    pub sync: ProductSync,
    /// Every variant, any status (getProduct only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub variants: Option<Vec<Variant>>,
    /// Number of variants, any status (listProducts only; additive, SPEC §2.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub variant_count: Option<i64>,
    /// Creation instant.
    pub created_at: Instant,
    /// Last change.
    pub updated_at: Instant,
}

impl Product {
    /// A product as listed (listProducts): with `variantCount`, without variants.
    /// Errors: 500 when a stored status or document cannot be decoded.
    pub fn listed(row: &ProductListRow) -> Result<Self, AppError> {
        Product::render(&row.product, None, Some(row.variant_count))
    }

    /// A product with every variant (getProduct). Errors: 500 when a stored status or document
    /// cannot be decoded.
    pub fn with_variants(
        ctx: &TenantContext,
        p: &ProductRecord,
        variants: &[VariantRecord],
    ) -> Result<Self, AppError> {
        let variants = variants
            .iter()
            .map(|v| Variant::new(ctx, v, &p.product_sku, None))
            .collect::<Result<Vec<_>, _>>()?;
        Product::render(p, Some(variants), None)
    }

    fn render(
        p: &ProductRecord,
        variants: Option<Vec<Variant>>,
        variant_count: Option<i64>,
    ) -> Result<Self, AppError> {
        let sync = match p.sync.as_deref() {
            Some(text) => serde_json::from_str(text).map_err(AppError::corrupt)?,
            None => ProductSync::manual(),
        };
        Ok(Product {
            product_id: p.product_id.clone(),
            tenant_id: p.tenant_id.clone(),
            product_sku: p.product_sku.clone(),
            name: p.name.clone(),
            specification: p.specification.clone(),
            category: p.category.clone(),
            brand: p.brand.clone(),
            description: p.description.clone(),
            images: images(&p.images)?,
            status: stored_enum(&p.status, ProductStatus::parse)?,
            sync,
            variants,
            variant_count,
            created_at: Instant(p.created_at),
            updated_at: Instant(p.updated_at),
        })
    }
}

/// The `_sync` document of a product (SPEC §2.12), stored as JSON.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductSync {
    /// Where the product is maintained.
    pub source: SyncSource,
    /// The product's id in the shop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub external_id: Option<String>,
    /// When the product was last synchronised (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_synced_at: Option<String>,
    /// Outcome of the last synchronisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sync_status: Option<SyncStatus>,
    /// Why the last synchronisation failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sync_error: Option<String>,
    /// Product fields owned by the shop (changing them through the API is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub read_only_fields: Option<Vec<String>>,
}

impl ProductSync {
    /// `{source: "manual"}`: a product maintained through the API.
    pub fn manual() -> Self {
        ProductSync {
            source: SyncSource::Manual,
            external_id: None,
            last_synced_at: None,
            sync_status: None,
            sync_error: None,
            read_only_fields: None,
        }
    }
}

/// Where a product is maintained.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncSource {
    /// Through the API or the dashboard.
    Manual,
    /// A Shopify shop.
    Shopify,
    /// A WooCommerce shop.
    Woocommerce,
}

/// Outcome of the last synchronisation of a product.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    /// Up to date.
    Synced,
    /// Waiting to be synchronised.
    Pending,
    /// Failed (see `syncError`).
    Error,
}

/// A variant: one sellable configuration of a product (SPEC §2.2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    /// `var_…`.
    pub variant_id: String,
    /// Business unit.
    pub tenant_id: String,
    /// Owning product.
    pub product_id: String,
    /// The owning product's SKU.
    pub product_sku: String,
    /// The owning product's name (listVariants only; additive, SPEC §2.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub product_name: Option<String>,
    /// The variant's key, unique in the business unit; orders and assets refer to it.
    pub variant_sku: String,
    /// Configuration description.
    pub variant_name: String,
    /// Grade `A`–`E`.
    pub grade: Grade,
    /// Catalogue condition code.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub condition: Option<String>,
    /// Colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub color_name: Option<String>,
    /// Image URLs.
    pub images: Vec<String>,
    /// List price (RRP), major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub list_price: Option<Decimal>,
    /// Default acquisition cost of a unit, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub acquisition_cost: Option<Decimal>,
    /// `(listPrice − acquisitionCost) ÷ listPrice × 100`, 1 decimal; only with both prices and a
    /// list price above 0 (additive, SPEC §2.13).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub margin_percent: Option<Decimal>,
    /// One monthly price per contract length, by contract length.
    pub pricing: Vec<PricingTier>,
    /// `active` or `inactive`.
    pub status: VariantStatus,
    /// Creation instant.
    pub created_at: Instant,
    /// Last change.
    pub updated_at: Instant,
}

impl Variant {
    /// Renders a stored variant of the product `product_sku`; `product_name` for listVariants.
    /// Errors: 500 when its grade, status, images or pricing cannot be decoded.
    pub fn new(
        ctx: &TenantContext,
        v: &VariantRecord,
        product_sku: &str,
        product_name: Option<&str>,
    ) -> Result<Self, AppError> {
        let exp = ctx.exponent();
        let pricing = v
            .tiers()?
            .iter()
            .map(|t| PricingTier::new(t, exp, v.acquisition_cost))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Variant {
            variant_id: v.variant_id.clone(),
            tenant_id: v.tenant_id.clone(),
            product_id: v.product_id.clone(),
            product_sku: product_sku.to_string(),
            product_name: product_name.map(str::to_string),
            variant_sku: v.variant_sku.clone(),
            variant_name: v.variant_name.clone(),
            grade: stored_enum(&v.grade, Grade::parse)?,
            condition: v.condition.clone(),
            color_name: v.color_name.clone(),
            images: images(&v.images)?,
            list_price: Decimal::money_opt(v.list_price, exp),
            acquisition_cost: Decimal::money_opt(v.acquisition_cost, exp),
            margin_percent: match (v.list_price, v.acquisition_cost) {
                (Some(list), Some(cost)) => Decimal::percent(list - cost, list, 1),
                _ => None,
            },
            pricing,
            status: stored_enum(&v.status, VariantStatus::parse)?,
            created_at: Instant(v.created_at),
            updated_at: Instant(v.updated_at),
        })
    }
}

/// A pricing tier: the monthly price of one contract length (SPEC §2.2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PricingTier {
    /// Contract length in months, 1–120.
    pub contract_length: i64,
    /// Monthly price before the discount, major units.
    pub monthly_price: Decimal,
    /// One-off setup fee, major units.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub setup_fee: Option<Decimal>,
    /// Discount on the monthly price.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub discount: Option<Discount>,
    /// Where the price comes from (`manual` unless sent).
    pub source: PricingSource,
    /// When a suggested price was calculated (as sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub calculated_at: Option<String>,
    /// The pricing preset a suggested price used.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub preset_used: Option<String>,
    /// Months until the variant's acquisition cost is recovered at this price: cost ÷ monthly
    /// price, 1 decimal (SPEC §2.13 "Variant/product level"); absent without a cost or price.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub breakeven_months: Option<Decimal>,
    /// Whether the breakeven comes after the contract ends (cost ÷ price > contract length).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub breakeven_warning: Option<bool>,
    /// Cost recovered by one full contract: price × length ÷ cost × 100, 1 decimal; absent
    /// without a cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub recovery_at_end_percent: Option<Decimal>,
}

impl PricingTier {
    /// Renders a stored tier in a currency of `exponent` decimals. Errors: 500 when its source,
    /// discount type or discount value is not what the catalog use cases write.
    /// `cost` is the variant's acquisition cost in minor units, for the breakeven figures.
    pub fn new(
        t: &pricing::PricingTier,
        exponent: u32,
        cost: Option<i64>,
    ) -> Result<Self, AppError> {
        // One full contract at this price, as the subscription-level recovery computes it
        // (SPEC §2.13): breakeven months, the warning, and the recovery at the contract's end.
        let full = t.monthly_price.checked_mul(t.contract_length);
        let r = recovery(&RecoveryInput {
            total_collected: full.unwrap_or(0),
            acquisition_cost: cost,
            monthly_amount: t.monthly_price,
            contract_length: t.contract_length,
            months_elapsed: t.contract_length,
        });
        Ok(PricingTier {
            breakeven_months: r.breakeven_months_tenths.map(Decimal::tenths),
            breakeven_warning: r.breakeven_months_tenths.map(|_| r.breakeven_warning),
            recovery_at_end_percent: full
                .and(r.cost_recovery_percent_tenths)
                .map(Decimal::tenths),
            contract_length: t.contract_length,
            monthly_price: Decimal::money(t.monthly_price, exponent),
            setup_fee: Decimal::money_opt(t.setup_fee, exponent),
            discount: t
                .discount
                .as_ref()
                .map(|d| Discount::new(d, exponent))
                .transpose()?,
            source: stored_enum(&t.source, PricingSource::parse)?,
            calculated_at: t.calculated_at.clone(),
            preset_used: t.preset_used.clone(),
        })
    }
}

/// A discount on a tier's monthly price.
#[derive(Debug, Serialize, ToSchema)]
pub struct Discount {
    /// `percentage` or `fixed`.
    #[serde(rename = "type")]
    pub kind: DiscountType,
    /// Percent (e.g. `10` for 10 %) for `percentage`, major units for `fixed`; written without
    /// trailing zeros.
    pub value: Decimal,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub description: Option<String>,
}

impl Discount {
    /// Renders a stored discount (percent × 10 000, or minor units). Errors: 500 when its type or
    /// value cannot be decoded.
    pub fn new(d: &pricing::Discount, exponent: u32) -> Result<Self, AppError> {
        let kind = stored_enum(&d.kind, DiscountType::parse)?;
        let value: i64 = d.value.parse().map_err(AppError::corrupt)?;
        let scale = match kind {
            DiscountType::Percentage => 4,
            DiscountType::Fixed => exponent,
        };
        Ok(Discount {
            kind,
            value: Decimal::trimmed(value, scale),
            description: d.description.clone(),
        })
    }
}

/// How a discount applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiscountType {
    /// `value` percent off the monthly price.
    Percentage,
    /// `value` off the monthly price, major units.
    Fixed,
}

impl DiscountType {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "percentage" => Some(DiscountType::Percentage),
            "fixed" => Some(DiscountType::Fixed),
            _ => None,
        }
    }
}

/// Where a tier's price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PricingSource {
    /// Computed by the pricing assistant.
    Suggested,
    /// Set by hand (default).
    Manual,
}

impl PricingSource {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "suggested" => Some(PricingSource::Suggested),
            "manual" => Some(PricingSource::Manual),
            _ => None,
        }
    }
}

list_envelope!(
    /// listProducts.
    ProductList,
    "products",
    Product
);

list_envelope!(
    /// listVariants.
    VariantList,
    "variants",
    Variant
);

/// createProduct and updateProduct: what the upsert did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductSaved {
    /// Always `true`.
    pub success: bool,
    /// `Product created` or `Product updated`.
    pub message: &'static str,
    /// The product.
    pub product_id: String,
    /// Its SKU.
    pub product_sku: String,
    /// `created` when the product SKU was new, else `updated` (SPEC §1.12 upsert).
    pub operation: ProductOperation,
    /// One entry per variant sent, in request order.
    pub variant_results: Vec<VariantResult>,
}

impl ProductSaved {
    /// The answer of an upsert. Errors: 500 if the use case reports an unknown operation.
    pub fn new(o: &UpsertOutcome) -> Result<Self, AppError> {
        let operation = stored_enum(o.operation, ProductOperation::parse)?;
        Ok(ProductSaved {
            success: true,
            message: match operation {
                ProductOperation::Created => "Product created",
                ProductOperation::Updated => "Product updated",
            },
            product_id: o.product.product_id.clone(),
            product_sku: o.product.product_sku.clone(),
            operation,
            variant_results: o
                .variant_results
                .iter()
                .map(|(sku, op)| {
                    Ok(VariantResult {
                        variant_sku: sku.clone(),
                        operation: stored_enum(op, VariantOperation::parse)?,
                    })
                })
                .collect::<Result<_, AppError>>()?,
        })
    }
}

/// What an upsert did to the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProductOperation {
    /// A new product.
    Created,
    /// An existing product (any status) was updated.
    Updated,
}

impl ProductOperation {
    /// Parses the use case's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "created" => Some(ProductOperation::Created),
            "updated" => Some(ProductOperation::Updated),
            _ => None,
        }
    }
}

/// What an upsert did to one variant sent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantResult {
    /// The variant SKU sent.
    pub variant_sku: String,
    /// `create` for a new variant, `update` for an existing one.
    pub operation: VariantOperation,
}

/// What an upsert did to a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VariantOperation {
    /// A new variant.
    Create,
    /// An existing variant of the product was updated.
    Update,
}

impl VariantOperation {
    /// Parses the use case's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "create" => Some(VariantOperation::Create),
            "update" => Some(VariantOperation::Update),
            _ => None,
        }
    }
}

/// deleteProduct: `{success, message, productId, productSku}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductDeleted {
    /// Always `true`.
    pub success: bool,
    /// Human text.
    pub message: &'static str,
    /// The product, now `discontinued`.
    pub product_id: String,
    /// Its SKU.
    pub product_sku: String,
}

/// importProductsCSV: the official fields plus the page's `summary` (SPEC §2.2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsvImported {
    /// Always `true`, even when some rows failed.
    pub success: bool,
    /// `Import completed` or `Import completed with errors`.
    pub message: &'static str,
    /// Products created.
    pub created: u64,
    /// Products updated.
    pub updated: u64,
    /// One entry per row not imported, by row number.
    pub errors: Vec<CsvRowFailure>,
    /// Counts of the import (additive).
    pub summary: CsvImportSummary,
}

impl CsvImported {
    /// The answer of an import.
    pub fn new(o: &CsvImportOutcome) -> Self {
        CsvImported {
            success: true,
            message: if o.errors.is_empty() {
                "Import completed"
            } else {
                "Import completed with errors"
            },
            created: o.products_created,
            updated: o.products_updated,
            errors: o
                .errors
                .iter()
                .map(|e| CsvRowFailure {
                    row: e.row,
                    error: e.error.clone(),
                })
                .collect(),
            summary: CsvImportSummary {
                total_rows: o.total_rows,
                products_created: o.products_created,
                products_updated: o.products_updated,
                variants_created: o.variants_created,
                variants_updated: o.variants_updated,
                errors: o
                    .errors
                    .iter()
                    .map(|e| CsvSummaryError {
                        row: e.row,
                        sku: e.sku.clone(),
                        error: e.error.clone(),
                    })
                    .collect(),
            },
        }
    }
}

/// A CSV row that was not imported.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsvRowFailure {
    /// 1-based data row (the header is not counted).
    pub row: u64,
    /// Why; several problems of one row are joined with `; `.
    pub error: String,
}

/// The counts of a CSV import.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsvImportSummary {
    /// Data rows in the file (header and blank rows not counted).
    pub total_rows: u64,
    /// Products created.
    pub products_created: u64,
    /// Products updated.
    pub products_updated: u64,
    /// Variants created.
    pub variants_created: u64,
    /// Variants updated.
    pub variants_updated: u64,
    /// One entry per row not imported, with its variant SKU.
    pub errors: Vec<CsvSummaryError>,
}

/// A CSV row that was not imported, with its variant SKU.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsvSummaryError {
    /// 1-based data row (the header is not counted).
    pub row: u64,
    /// The row's `Variant SKU`; `null` when the row has none.
    #[schema(required = true)]
    pub sku: Option<String>,
    /// Why; several problems of one row are joined with `; `.
    pub error: String,
}

/// Sort fields of listProducts.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum ProductSortBy {
    /// Creation instant (default).
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Name.
    Name,
    /// Product SKU.
    ProductSku,
}

/// Query parameters of listProducts (SPEC §1.8, §1.9, §2.2). Empty values are absent.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ProductListQuery {
    /// Items per page (default 50; larger values are clamped to 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Cursor: the `nextCursor` of the previous page (a product id).
    pub start_after: Option<String>,
    /// Exact status; without it every product is listed.
    #[param(inline)]
    pub status: Option<ProductStatus>,
    /// Category, case-insensitive exact match.
    pub category: Option<String>,
    /// Brand, case-insensitive exact match.
    pub brand: Option<String>,
    /// Sort field (default `createdAt`).
    #[param(inline)]
    pub sort_by: Option<ProductSortBy>,
    /// Sort direction (default `desc`).
    #[param(inline)]
    pub sort_dir: Option<SortDirection>,
}

/// Sort fields of listVariants.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum VariantSortBy {
    /// Creation instant (default).
    CreatedAt,
    /// Variant SKU.
    VariantSku,
}

/// Query parameters of listVariants (SPEC §1.8, §1.9, §2.2). Empty values are absent.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct VariantListQuery {
    /// Items per page (default 50; larger values are clamped to 5 000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
    /// Cursor: the `nextCursor` of the previous page (a variant id).
    pub start_after: Option<String>,
    /// Exact status.
    #[param(inline)]
    pub status: Option<VariantStatus>,
    /// Exact product SKU.
    pub product_sku: Option<String>,
    /// Grade `A`–`E` (lowercase accepted).
    pub grade: Option<String>,
    /// Prefix of the variant SKU (autocomplete).
    pub sku: Option<String>,
    /// Category of the product, case-insensitive exact match.
    pub category: Option<String>,
    /// Brand of the product, case-insensitive exact match.
    pub brand: Option<String>,
    /// Sort field (default `createdAt`).
    #[param(inline)]
    pub sort_by: Option<VariantSortBy>,
    /// Sort direction (default `desc`).
    #[param(inline)]
    pub sort_dir: Option<SortDirection>,
}
