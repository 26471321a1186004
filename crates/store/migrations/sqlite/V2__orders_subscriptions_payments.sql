-- Orders, subscriptions (rentals) and payments. Keys lead with tenant_id like every table.
-- Per-item and per-order rental ids, customer order and rental ids are derived from these tables
-- through their (tenant_id, order_id) and (tenant_id, customer_id) indexes, never stored twice.

CREATE TABLE orders (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    order_id TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'confirmed', 'partial', 'fulfilled', 'cancelled')),
    order_type TEXT NOT NULL CHECK (order_type IN ('standard', 'extension', 'upgrade')),
    customer_id TEXT NOT NULL,
    customer_snapshot TEXT NOT NULL,
    billing_address TEXT NOT NULL,
    shipping_address TEXT NOT NULL,
    items TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    tax_amount BIGINT NOT NULL,
    total BIGINT NOT NULL,
    currency TEXT NOT NULL,
    total_devices BIGINT NOT NULL,
    rented_devices BIGINT NOT NULL DEFAULT 0,
    custom_fields TEXT,
    notes TEXT,
    extension_details TEXT,
    upgrade_details TEXT,
    dedupe_key TEXT NOT NULL,
    cancellation_reason TEXT,
    cancelled_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, order_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, customer_id)
);
CREATE INDEX orders_created ON orders (tenant_id, created_at, order_id);
CREATE INDEX orders_updated ON orders (tenant_id, updated_at, order_id);
CREATE INDEX orders_status_created ON orders (tenant_id, status, created_at, order_id);
CREATE INDEX orders_status ON orders (tenant_id, status, order_id);
CREATE INDEX orders_customer_created ON orders (tenant_id, customer_id, created_at, order_id);
CREATE INDEX orders_total ON orders (tenant_id, total, order_id);
CREATE INDEX orders_dedupe ON orders (tenant_id, dedupe_key, created_at);

CREATE TABLE subscriptions (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    rental_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    order_item_index BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    customer_email TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    asset_serial_number TEXT NOT NULL,
    sku TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    product_name TEXT NOT NULL,
    product_image_url TEXT,
    monthly_amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'cancelled', 'ended_completed', 'ended_buyout',
        'ended_upgrade', 'ended_early_return')),
    billing_group_id TEXT,
    original_contract_length BIGINT NOT NULL,
    contract_length BIGINT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    anchor_date TEXT NOT NULL,
    billing TEXT NOT NULL,
    last_modified_date BIGINT NOT NULL,
    list_price BIGINT,
    list_price_source TEXT NOT NULL,
    acquisition_cost BIGINT,
    acquisition_cost_source TEXT NOT NULL,
    captured_at BIGINT NOT NULL,
    total_collected BIGINT NOT NULL DEFAULT 0,
    custom_fields TEXT,
    notes TEXT,
    history TEXT NOT NULL,
    upgrade_from_rental_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rental_id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, order_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, customer_id)
);
CREATE INDEX subscriptions_created ON subscriptions (tenant_id, created_at, rental_id);
CREATE INDEX subscriptions_updated ON subscriptions (tenant_id, updated_at, rental_id);
CREATE INDEX subscriptions_status_created ON subscriptions (tenant_id, status, created_at, rental_id);
CREATE INDEX subscriptions_customer_created ON subscriptions (tenant_id, customer_id, created_at, rental_id);
CREATE INDEX subscriptions_order_item ON subscriptions (tenant_id, order_id, order_item_index);
CREATE INDEX subscriptions_asset ON subscriptions (tenant_id, asset_serial_number, created_at, rental_id);
CREATE INDEX subscriptions_start ON subscriptions (tenant_id, start_date, rental_id);
CREATE INDEX subscriptions_end ON subscriptions (tenant_id, end_date, rental_id);
CREATE INDEX subscriptions_amount ON subscriptions (tenant_id, monthly_amount, rental_id);
CREATE INDEX subscriptions_sku ON subscriptions (tenant_id, sku, created_at, rental_id);

CREATE TABLE payments (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    payment_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    rental_id TEXT,
    billing_group_id TEXT,
    payment_type TEXT NOT NULL CHECK (payment_type IN ('individual', 'consolidated')),
    billing_date TEXT NOT NULL,
    service_start TEXT NOT NULL,
    stub BIGINT NOT NULL,
    billing_period TEXT NOT NULL,
    due_date TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    tax_amount BIGINT NOT NULL,
    tax_rate_bp BIGINT NOT NULL,
    total BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'cancelled')),
    provider TEXT NOT NULL,
    manually_marked BIGINT NOT NULL DEFAULT 0,
    payment_reference TEXT,
    marked_by TEXT,
    paid_at BIGINT,
    idempotency_key TEXT NOT NULL,
    description TEXT NOT NULL,
    notes TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, payment_id)
);
CREATE INDEX payments_created ON payments (tenant_id, created_at, payment_id);
CREATE INDEX payments_status_created ON payments (tenant_id, status, created_at, payment_id);
CREATE INDEX payments_rental_created ON payments (tenant_id, rental_id, created_at, payment_id);
CREATE INDEX payments_rental_billing ON payments (tenant_id, rental_id, billing_date);
CREATE INDEX payments_customer_created ON payments (tenant_id, customer_id, created_at, payment_id);
CREATE INDEX payments_group_created ON payments (tenant_id, billing_group_id, created_at, payment_id);
CREATE INDEX payments_due ON payments (tenant_id, due_date, payment_id);
CREATE INDEX payments_total ON payments (tenant_id, total, payment_id);
CREATE INDEX payments_status ON payments (tenant_id, status, payment_id);
CREATE UNIQUE INDEX payments_idempotency ON payments (tenant_id, idempotency_key)
    WHERE status <> 'cancelled';
