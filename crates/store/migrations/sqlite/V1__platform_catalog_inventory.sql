-- Business units, API keys, catalog (products, variants), inventory (assets), customers.
-- Every tenant-owned table is keyed by tenant_id first: primary keys, foreign keys, unique
-- constraints and indexes all lead with it. Money is BIGINT minor units, timestamps BIGINT epoch
-- milliseconds (UTC), calendar dates TEXT 'YYYY-MM-DD', JSON documents TEXT.

CREATE TABLE tenants (
    tenant_id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    id_prefix TEXT,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- API keys are looked up by the hash of the presented secret before the tenant is known, so the
-- hash is unique across the platform; the key itself is keyed by its business unit first.
CREATE TABLE api_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    key_id TEXT NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'all')),
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    usage_count BIGINT NOT NULL DEFAULT 0,
    last_used_at BIGINT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (tenant_id, key_id)
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);

CREATE TABLE products (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    product_id TEXT NOT NULL,
    product_sku TEXT NOT NULL,
    name TEXT NOT NULL,
    specification TEXT NOT NULL,
    category TEXT NOT NULL,
    category_key TEXT NOT NULL,
    brand TEXT NOT NULL,
    brand_key TEXT NOT NULL,
    description TEXT,
    images TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'discontinued')),
    sync TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, product_id),
    UNIQUE (tenant_id, product_sku)
);
CREATE INDEX products_created ON products (tenant_id, created_at, product_id);
CREATE INDEX products_updated ON products (tenant_id, updated_at, product_id);
CREATE INDEX products_name ON products (tenant_id, name, product_id);

CREATE TABLE variants (
    tenant_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    variant_sku TEXT NOT NULL,
    variant_name TEXT NOT NULL,
    grade TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D', 'E')),
    condition_code TEXT,
    color_name TEXT,
    images TEXT NOT NULL,
    list_price BIGINT,
    acquisition_cost BIGINT,
    pricing TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, variant_id),
    UNIQUE (tenant_id, variant_sku),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, product_id)
);
CREATE INDEX variants_product ON variants (tenant_id, product_id, variant_id);
CREATE INDEX variants_created ON variants (tenant_id, created_at, variant_id);

CREATE TABLE assets (
    tenant_id TEXT NOT NULL,
    serial_number TEXT NOT NULL,
    product_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    product_name TEXT NOT NULL,
    product_image_url TEXT,
    status TEXT NOT NULL
        CHECK (status IN ('available', 'rented_out', 'returned', 'sold', 'unavailable')),
    location TEXT,
    condition_note TEXT,
    notes TEXT,
    customer_id TEXT,
    rental_id TEXT,
    acquisition_cost BIGINT,
    acquisition_cost_source TEXT CHECK (acquisition_cost_source IN ('manual', 'variant')),
    acquisition_date TEXT NOT NULL,
    lifetime_collected BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, serial_number),
    FOREIGN KEY (tenant_id, variant_id) REFERENCES variants (tenant_id, variant_id)
);
CREATE INDEX assets_created ON assets (tenant_id, created_at, serial_number);
CREATE INDEX assets_updated ON assets (tenant_id, updated_at, serial_number);
CREATE INDEX assets_status_created ON assets (tenant_id, status, created_at, serial_number);
CREATE INDEX assets_status_serial ON assets (tenant_id, status, serial_number);
CREATE INDEX assets_sku_created ON assets (tenant_id, sku, created_at, serial_number);
CREATE INDEX assets_sku_serial ON assets (tenant_id, sku, serial_number);
CREATE INDEX assets_customer ON assets (tenant_id, customer_id);
CREATE INDEX assets_rental ON assets (tenant_id, rental_id);

CREATE TABLE customers (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    customer_id TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    company TEXT,
    phone TEXT,
    customer_type TEXT NOT NULL CHECK (customer_type IN ('individual', 'business')),
    custom_fields TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    last_billing_address TEXT,
    last_shipping_address TEXT,
    total_orders BIGINT NOT NULL DEFAULT 0,
    total_devices_rented BIGINT NOT NULL DEFAULT 0,
    total_monthly_revenue BIGINT NOT NULL DEFAULT 0,
    lifetime_collected BIGINT NOT NULL DEFAULT 0,
    total_acquisition_cost BIGINT NOT NULL DEFAULT 0,
    subscriptions_tracked BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id),
    UNIQUE (tenant_id, email_key)
);
CREATE INDEX customers_created ON customers (tenant_id, status, created_at, customer_id);
CREATE INDEX customers_first_name ON customers (tenant_id, status, first_name, customer_id);
CREATE INDEX customers_last_name ON customers (tenant_id, status, last_name, customer_id);
CREATE INDEX customers_email ON customers (tenant_id, status, email_key, customer_id);
CREATE INDEX customers_revenue ON customers (tenant_id, status, total_monthly_revenue, customer_id);
CREATE INDEX customers_devices ON customers (tenant_id, status, total_devices_rented, customer_id);
