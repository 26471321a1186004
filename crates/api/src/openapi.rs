//! The operations this server implements, with the official operation ids, paths, methods,
//! parameter names and response fields, and the OpenAPI document generated from them
//! (`/openapi.json`). The router registers its `/v1` routes from the same table.

use serde_json::{Map, Value, json};

/// An implemented operation: method, path, operationId, query parameters, and the top-level
/// response fields.
pub struct Operation {
    /// Lowercase HTTP method.
    pub method: &'static str,
    /// Path template with `{param}`.
    pub path: &'static str,
    /// The official operation id.
    pub operation_id: &'static str,
    /// Query parameters.
    pub query: &'static [&'static str],
    /// Status code of success.
    pub status: &'static str,
    /// Top-level fields of the success body.
    pub response: &'static [&'static str],
}

/// Every operation served under `/v1`.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        method: "post",
        path: "/v1/products",
        operation_id: "createProduct",
        query: &[],
        status: "201",
        response: &[
            "success",
            "message",
            "productId",
            "productSku",
            "operation",
            "variantResults",
        ],
    },
    Operation {
        method: "get",
        path: "/v1/products",
        operation_id: "listProducts",
        query: &[
            "limit",
            "startAfter",
            "status",
            "category",
            "brand",
            "sortBy",
            "sortDir",
        ],
        status: "200",
        response: &["products", "count", "limit", "hasMore", "nextCursor"],
    },
    Operation {
        method: "get",
        path: "/v1/products/variants",
        operation_id: "listVariants",
        query: &[
            "limit",
            "startAfter",
            "status",
            "productSku",
            "grade",
            "sku",
            "category",
            "brand",
            "sortBy",
            "sortDir",
        ],
        status: "200",
        response: &["variants", "count", "limit", "hasMore", "nextCursor"],
    },
    Operation {
        method: "get",
        path: "/v1/products/{productId}",
        operation_id: "getProduct",
        query: &[],
        status: "200",
        response: &[
            "productId",
            "tenantId",
            "productSku",
            "name",
            "specification",
            "category",
            "brand",
            "description",
            "images",
            "status",
            "_sync",
            "variants",
            "createdAt",
            "updatedAt",
        ],
    },
    Operation {
        method: "put",
        path: "/v1/products/{productId}",
        operation_id: "updateProduct",
        query: &[],
        status: "200",
        response: &[
            "success",
            "message",
            "productId",
            "productSku",
            "operation",
            "variantResults",
        ],
    },
    Operation {
        method: "delete",
        path: "/v1/products/{productId}",
        operation_id: "deleteProduct",
        query: &[],
        status: "200",
        response: &["success", "message", "productId", "productSku"],
    },
    Operation {
        method: "post",
        path: "/v1/products/csv",
        operation_id: "importProductsCSV",
        query: &[],
        status: "201",
        response: &[
            "success", "message", "created", "updated", "errors", "summary",
        ],
    },
    Operation {
        method: "post",
        path: "/v1/assets",
        operation_id: "createAsset",
        query: &[],
        status: "201",
        response: &["success", "message", "asset"],
    },
    Operation {
        method: "get",
        path: "/v1/assets",
        operation_id: "listAssets",
        query: &[
            "limit",
            "startAfter",
            "status",
            "sku",
            "customerId",
            "rentalId",
            "sortBy",
            "sortDir",
        ],
        status: "200",
        response: &["assets", "count", "limit", "hasMore", "nextCursor"],
    },
    Operation {
        method: "get",
        path: "/v1/assets/{serialNumber}",
        operation_id: "getAsset",
        query: &[],
        status: "200",
        response: &[
            "serialNumber",
            "tenantId",
            "productId",
            "productImageUrl",
            "variantId",
            "sku",
            "productName",
            "status",
            "location",
            "customerId",
            "rentalId",
            "createdAt",
            "updatedAt",
            "notes",
        ],
    },
    Operation {
        method: "put",
        path: "/v1/assets/{serialNumber}",
        operation_id: "updateAsset",
        query: &[],
        status: "200",
        response: &["success", "message", "asset"],
    },
    Operation {
        method: "delete",
        path: "/v1/assets/{serialNumber}",
        operation_id: "deleteAsset",
        query: &[],
        status: "200",
        response: &["success", "message", "serialNumber"],
    },
    Operation {
        method: "get",
        path: "/v1/customers",
        operation_id: "listCustomers",
        query: &[
            "limit",
            "startAfter",
            "status",
            "customerType",
            "email",
            "hasActiveRentals",
            "sortBy",
            "sortDir",
        ],
        status: "200",
        response: &["customers", "count", "limit", "hasMore", "nextCursor"],
    },
    Operation {
        method: "get",
        path: "/v1/customers/{customerId}",
        operation_id: "getCustomer",
        query: &[],
        status: "200",
        response: &[
            "customerId",
            "tenantId",
            "email",
            "firstName",
            "lastName",
            "company",
            "phone",
            "customerType",
            "customFields",
            "totalOrders",
            "totalDevicesRented",
            "totalMonthlyRevenue",
            "status",
            "orderIds",
            "rentalIds",
            "lastBillingAddress",
            "lastShippingAddress",
            "createdAt",
            "updatedAt",
            "createdBy",
            "lifetimeCollected",
            "totalAcquisitionCost",
            "customerMargin",
            "customerMarginPercent",
            "subscriptionsTracked",
            "profitability",
        ],
    },
    Operation {
        method: "put",
        path: "/v1/customers/{customerId}",
        operation_id: "updateCustomer",
        query: &[],
        status: "200",
        response: &["success", "message", "customerId", "customer"],
    },
    Operation {
        method: "delete",
        path: "/v1/customers/{customerId}",
        operation_id: "deleteCustomer",
        query: &[],
        status: "200",
        response: &["success", "message", "customerId"],
    },
    Operation {
        method: "post",
        path: "/v1/orders",
        operation_id: "createOrder",
        query: &[],
        status: "201",
        response: &["success", "message", "orderId", "order"],
    },
    Operation {
        method: "get",
        path: "/v1/orders",
        operation_id: "listOrders",
        query: &[
            "limit",
            "startAfter",
            "status",
            "customerId",
            "sortBy",
            "sortDir",
        ],
        status: "200",
        response: &["orders", "count", "limit", "hasMore", "nextCursor"],
    },
    Operation {
        method: "get",
        path: "/v1/orders/{orderId}",
        operation_id: "getOrder",
        query: &[],
        status: "200",
        response: &[
            "orderId",
            "tenantId",
            "status",
            "orderType",
            "customer",
            "billingAddress",
            "shippingAddress",
            "items",
            "totals",
            "customFields",
            "rentalProgress",
            "rentalIds",
            "createdAt",
            "updatedAt",
            "createdBy",
            "notes",
            "extensionDetails",
            "upgradeDetails",
            "payment",
            "billingGroupId",
            "trackingNumber",
            "shippedAt",
        ],
    },
    Operation {
        method: "patch",
        path: "/v1/orders/{orderId}/notes",
        operation_id: "updateOrderNotes",
        query: &[],
        status: "200",
        response: &["success", "message", "orderId"],
    },
    Operation {
        method: "post",
        path: "/v1/orders/{orderId}/cancel",
        operation_id: "cancelOrder",
        query: &[],
        status: "200",
        response: &["success", "message", "orderId"],
    },
    Operation {
        method: "post",
        path: "/v1/subscriptions",
        operation_id: "createSubscription",
        query: &[],
        status: "201",
        response: &["success", "message", "rentalId", "rental"],
    },
    Operation {
        method: "get",
        path: "/v1/subscriptions",
        operation_id: "listSubscriptions",
        query: &[
            "limit",
            "startAfter",
            "status",
            "customerId",
            "orderId",
            "serialNumber",
            "sku",
            "billingGroupId",
            "startDateFrom",
            "startDateTo",
            "endDateFrom",
            "endDateTo",
            "sortBy",
            "sortDir",
        ],
        status: "200",
        response: &["rentals", "count", "limit", "hasMore", "nextCursor"],
    },
    Operation {
        method: "get",
        path: "/v1/subscriptions/{subscriptionId}",
        operation_id: "getSubscription",
        query: &[],
        status: "200",
        response: &[
            "rentalId",
            "tenantId",
            "assetSerialNumber",
            "customerId",
            "productId",
            "variantId",
            "sku",
            "productName",
            "productImageUrl",
            "monthlyAmount",
            "currency",
            "status",
            "billingGroupId",
            "originalContractLength",
            "contractLength",
            "startDate",
            "endDate",
            "nextBillingDate",
            "lastModifiedDate",
            "extensionHistory",
            "actualMonthsRented",
            "monthsSaved",
            "listPrice",
            "listPriceSource",
            "listPriceCapturedAt",
            "acquisitionCost",
            "acquisitionCostSource",
            "acquisitionCostCapturedAt",
            "totalCollected",
            "costRecoveryPercent",
            "currentProfit",
            "breakevenMonths",
            "hasReachedBreakeven",
            "recoveryStatus",
            "replacementHistory",
            "orderId",
            "upgradeFromRentalId",
            "customerEmail",
            "customerName",
            "customFields",
            "createdAt",
            "updatedAt",
            "createdBy",
            "notes",
            "costRecovery",
            "buyoutDetails",
            "earlyReturnDetails",
            "cancellationDetails",
        ],
    },
    Operation {
        method: "patch",
        path: "/v1/subscriptions/{subscriptionId}/notes",
        operation_id: "updateSubscriptionNotes",
        query: &[],
        status: "200",
        response: &["success", "message", "rentalId"],
    },
    Operation {
        method: "get",
        path: "/v1/payments",
        operation_id: "listPayments",
        query: &[
            "limit",
            "startAfter",
            "status",
            "customerId",
            "rentalId",
            "billingGroupId",
            "dueDateFrom",
            "dueDateTo",
            "sortBy",
            "sortDir",
        ],
        status: "200",
        response: &[
            "success",
            "payments",
            "count",
            "limit",
            "hasMore",
            "nextCursor",
        ],
    },
    Operation {
        method: "get",
        path: "/v1/payments/{paymentId}",
        operation_id: "getPayment",
        query: &[],
        status: "200",
        response: &["success", "payment"],
    },
    Operation {
        method: "post",
        path: "/v1/payments/{paymentId}/mark-paid",
        operation_id: "markPaymentPaid",
        query: &[],
        status: "200",
        response: &["success", "message", "payment"],
    },
    Operation {
        method: "post",
        path: "/v1/payments/{paymentId}/cancel",
        operation_id: "cancelPayment",
        query: &[],
        status: "200",
        response: &["success", "message", "payment"],
    },
];

/// The OpenAPI 3.1 document of the server: the typed operations as their handlers describe them,
/// and the [`OPERATIONS`] not typed yet, with the security scheme, servers and tags.
pub fn document() -> Value {
    let typed = crate::routes::typed().into_openapi();
    let mut doc = serde_json::to_value(&typed).unwrap_or_else(|_| json!({}));
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    let mut paths: Map<String, Value> = paths;
    for op in OPERATIONS {
        if paths
            .get(op.path)
            .is_some_and(|p| p.get(op.method).is_some())
        {
            continue;
        }
        let mut params: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        params.extend(op.query.iter().map(
            |q| json!({"name": q, "in": "query", "required": false, "schema": {"type": "string"}}),
        ));
        params.push(json!({"name": "Tenant-ID", "in": "header", "required": true, "schema": {"type": "string"}}));
        let props: Map<String, Value> = op
            .response
            .iter()
            .map(|f| (f.to_string(), json!({})))
            .collect();
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        entry[op.method] = json!({
            "operationId": op.operation_id,
            "parameters": params,
            "responses": {
                op.status: {"description": "Success", "content": {"application/json": {"schema": {"type": "object", "properties": props}}}},
                "default": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            },
        });
    }
    doc["paths"] = Value::Object(paths);
    doc["openapi"] = json!("3.1.0");
    doc["info"] = json!({
        "title": "FlexPortal API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "Rental of physical products on monthly contracts: catalog, assets, customers, orders, subscriptions and payments, per business unit.",
        "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
    });
    doc["servers"] = json!([{"url": "/", "description": "This server"}]);
    doc["security"] = json!([{"bearerAuth": []}]);
    doc["components"]["securitySchemes"] = json!({
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API key of the business unit (`flexportal keys create`)"}
    });
    doc
}
