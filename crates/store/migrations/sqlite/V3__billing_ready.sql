-- What each payment charges, versioned billing settings, asset assignments and appended
-- subscription history.

-- Payments say what they charge (SPEC §2.7 kinds) instead of leaving it to the idempotency key.
ALTER TABLE payments ADD COLUMN kind TEXT NOT NULL DEFAULT 'installment'
    CHECK (kind IN ('installment', 'setup', 'buyout', 'early_return', 'late_fee', 'adjustment'));
UPDATE payments SET kind = 'setup' WHERE idempotency_key LIKE '%:setup';

-- Billing settings become a versioned document (flexportal_domain::billing, version 1).
UPDATE subscriptions SET billing = json_object(
    'version', 1,
    'cycle', CASE json_extract(billing, '$.cycle')
        WHEN 'StartDate' THEN 'start_date'
        WHEN 'Every30Days' THEN 'every_30_days'
        ELSE 'fixed_day' END,
    'fixedDay', CASE WHEN json_extract(billing, '$.cycle') LIKE 'FixedDay(%'
        THEN CAST(substr(json_extract(billing, '$.cycle'), 10,
                         length(json_extract(billing, '$.cycle')) - 10) AS INTEGER) END,
    'firstPayment', CASE json_extract(billing, '$.firstPayment')
        WHEN 'FullMonth' THEN 'full_month'
        WHEN 'ProRated' THEN 'pro_rated'
        WHEN 'FreeUntilCycle' THEN 'free_until_cycle'
        WHEN 'CollectedExternally' THEN 'collected_externally' END,
    'billingStartOption', json_extract(billing, '$.billingStartOption'))
WHERE json_extract(billing, '$.version') IS NULL;

-- Which asset a rental held over which days; income is attributed by the billing date.
CREATE TABLE asset_assignments (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    rental_id TEXT NOT NULL,
    serial_number TEXT NOT NULL,
    assigned_from TEXT NOT NULL,
    assigned_to TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rental_id, assigned_from, serial_number),
    FOREIGN KEY (tenant_id, rental_id) REFERENCES subscriptions (tenant_id, rental_id)
);
CREATE INDEX asset_assignments_asset ON asset_assignments (tenant_id, serial_number, assigned_from);
INSERT INTO asset_assignments (tenant_id, rental_id, serial_number, assigned_from, assigned_to, created_at)
SELECT tenant_id, rental_id, asset_serial_number, start_date, NULL, created_at FROM subscriptions;

-- The history of a subscription: one appended row per lifecycle event, never rewritten.
CREATE TABLE subscription_events (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    rental_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('created', 'extended', 'device_replaced', 'upgraded',
        'bought_out', 'returned_early', 'completed', 'cancelled')),
    actor TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rental_id, event_id),
    FOREIGN KEY (tenant_id, rental_id) REFERENCES subscriptions (tenant_id, rental_id)
);
INSERT INTO subscription_events (tenant_id, rental_id, event_id, kind, actor, details, created_at)
SELECT tenant_id, rental_id, 'evt_' || rental_id, 'created', created_by, '{}', created_at
FROM subscriptions;
ALTER TABLE subscriptions DROP COLUMN history;
