-- Orders, subscriptions (rentals) and payments. Keys lead with tenant_id like every table.
-- Per-item and per-order rental ids, customer order and rental ids are derived from these tables
-- through their (tenant_id, order_id) and (tenant_id, customer_id) indexes, never stored twice.

CREATE TABLE orders (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    order_id TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL
        CHECK (status IN ('pending', 'confirmed', 'partial', 'fulfilled', 'cancelled')),
    order_type TEXT COLLATE "C" NOT NULL CHECK (order_type IN ('standard', 'extension', 'upgrade')),
    customer_id TEXT COLLATE "C" NOT NULL,
    customer_snapshot TEXT COLLATE "C" NOT NULL,
    billing_address TEXT COLLATE "C" NOT NULL,
    shipping_address TEXT COLLATE "C" NOT NULL,
    items TEXT COLLATE "C" NOT NULL,
    subtotal BIGINT NOT NULL,
    tax_amount BIGINT NOT NULL,
    total BIGINT NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    total_devices BIGINT NOT NULL,
    rented_devices BIGINT NOT NULL DEFAULT 0,
    custom_fields TEXT COLLATE "C",
    notes TEXT COLLATE "C",
    extension_details TEXT COLLATE "C",
    upgrade_details TEXT COLLATE "C",
    dedupe_key TEXT COLLATE "C" NOT NULL,
    cancellation_reason TEXT COLLATE "C",
    cancelled_at BIGINT,
    created_by TEXT COLLATE "C" NOT NULL,
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
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    rental_id TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NOT NULL,
    order_item_index BIGINT NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    customer_email TEXT COLLATE "C" NOT NULL,
    customer_name TEXT COLLATE "C" NOT NULL,
    asset_serial_number TEXT COLLATE "C" NOT NULL,
    sku TEXT COLLATE "C" NOT NULL,
    variant_id TEXT COLLATE "C" NOT NULL,
    product_id TEXT COLLATE "C" NOT NULL,
    product_name TEXT COLLATE "C" NOT NULL,
    product_image_url TEXT COLLATE "C",
    monthly_amount BIGINT NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'cancelled', 'ended_completed', 'ended_buyout',
        'ended_upgrade', 'ended_early_return')),
    billing_group_id TEXT COLLATE "C",
    original_contract_length BIGINT NOT NULL,
    contract_length BIGINT NOT NULL,
    start_date TEXT COLLATE "C" NOT NULL,
    end_date TEXT COLLATE "C" NOT NULL,
    anchor_date TEXT COLLATE "C" NOT NULL,
    billing TEXT COLLATE "C" NOT NULL,
    last_modified_date BIGINT NOT NULL,
    list_price BIGINT,
    list_price_source TEXT COLLATE "C" NOT NULL,
    acquisition_cost BIGINT,
    acquisition_cost_source TEXT COLLATE "C" NOT NULL,
    captured_at BIGINT NOT NULL,
    total_collected BIGINT NOT NULL DEFAULT 0,
    custom_fields TEXT COLLATE "C",
    notes TEXT COLLATE "C",
    history TEXT COLLATE "C" NOT NULL,
    upgrade_from_rental_id TEXT COLLATE "C",
    created_by TEXT COLLATE "C" NOT NULL,
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
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    payment_id TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    rental_id TEXT COLLATE "C",
    billing_group_id TEXT COLLATE "C",
    payment_type TEXT COLLATE "C" NOT NULL CHECK (payment_type IN ('individual', 'consolidated')),
    billing_date TEXT COLLATE "C" NOT NULL,
    service_start TEXT COLLATE "C" NOT NULL,
    stub BIGINT NOT NULL,
    billing_period TEXT COLLATE "C" NOT NULL,
    due_date TEXT COLLATE "C" NOT NULL,
    subtotal BIGINT NOT NULL,
    tax_amount BIGINT NOT NULL,
    tax_rate_bp BIGINT NOT NULL,
    total BIGINT NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'failed', 'cancelled')),
    provider TEXT COLLATE "C" NOT NULL,
    manually_marked BIGINT NOT NULL DEFAULT 0,
    payment_reference TEXT COLLATE "C",
    marked_by TEXT COLLATE "C",
    paid_at BIGINT,
    idempotency_key TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    notes TEXT COLLATE "C",
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
