-- Billing groups (SPEC §2.8): one customer's subscriptions invoiced together each month on one
-- billing day. A member is a subscription whose billing_group_id names the group.
CREATE TABLE billing_groups (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    billing_group_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    billing_day BIGINT NOT NULL CHECK (billing_day BETWEEN 1 AND 28),
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    notes TEXT,
    currency TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, billing_group_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, customer_id)
);
CREATE INDEX billing_groups_created ON billing_groups (tenant_id, created_at, billing_group_id);
CREATE INDEX billing_groups_name ON billing_groups (tenant_id, group_name, billing_group_id);
CREATE INDEX billing_groups_customer ON billing_groups (tenant_id, customer_id, created_at, billing_group_id);
CREATE INDEX subscriptions_group ON subscriptions (tenant_id, billing_group_id, rental_id)
    WHERE billing_group_id IS NOT NULL;

-- The lines of a consolidated payment: one per member charge (SPEC §2.7, §2.8). A line keeps the
-- individual payment it absorbed (cancelled, "Consolidated into …"), so a removed line
-- (removed_at set) still hides that payment from the subscription's charges.
CREATE TABLE payment_lines (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    line_id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    rental_id TEXT NOT NULL,
    source_payment_id TEXT,
    charge_key TEXT NOT NULL,
    billing_date TEXT NOT NULL,
    service_start TEXT NOT NULL,
    stub BIGINT NOT NULL,
    description TEXT NOT NULL,
    base_amount BIGINT NOT NULL,
    subtotal BIGINT NOT NULL,
    tax_amount BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    removed_at BIGINT,
    PRIMARY KEY (tenant_id, line_id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES payments (tenant_id, payment_id),
    FOREIGN KEY (tenant_id, rental_id) REFERENCES subscriptions (tenant_id, rental_id)
);
CREATE INDEX payment_lines_payment ON payment_lines (tenant_id, payment_id, billing_date);
CREATE INDEX payment_lines_rental ON payment_lines (tenant_id, rental_id, billing_date);
