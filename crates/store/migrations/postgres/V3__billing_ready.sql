-- What each payment charges, versioned billing settings, asset assignments and appended
-- subscription history.

-- Payments say what they charge (SPEC §2.7 kinds) instead of leaving it to the idempotency key.
ALTER TABLE payments ADD COLUMN kind TEXT COLLATE "C" NOT NULL DEFAULT 'installment'
    CHECK (kind IN ('installment', 'setup', 'buyout', 'early_return', 'late_fee', 'adjustment'));
UPDATE payments SET kind = 'setup' WHERE idempotency_key LIKE '%:setup';

-- Billing settings become a versioned document (flexportal_domain::billing, version 1).
UPDATE subscriptions SET billing = jsonb_build_object(
    'version', 1,
    'cycle', CASE billing::jsonb ->> 'cycle'
        WHEN 'StartDate' THEN 'start_date'
        WHEN 'Every30Days' THEN 'every_30_days'
        ELSE 'fixed_day' END,
    'fixedDay', CASE WHEN billing::jsonb ->> 'cycle' LIKE 'FixedDay(%'
        THEN substr(billing::jsonb ->> 'cycle', 10,
                    length(billing::jsonb ->> 'cycle') - 10)::integer END,
    'firstPayment', CASE billing::jsonb ->> 'firstPayment'
        WHEN 'FullMonth' THEN 'full_month'
        WHEN 'ProRated' THEN 'pro_rated'
        WHEN 'FreeUntilCycle' THEN 'free_until_cycle'
        WHEN 'CollectedExternally' THEN 'collected_externally' END,
    'billingStartOption', billing::jsonb -> 'billingStartOption')::text
WHERE NOT (billing::jsonb ? 'version');

-- Which asset a rental held over which days; income is attributed by the billing date.
CREATE TABLE asset_assignments (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    rental_id TEXT COLLATE "C" NOT NULL,
    serial_number TEXT COLLATE "C" NOT NULL,
    assigned_from TEXT COLLATE "C" NOT NULL,
    assigned_to TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rental_id, assigned_from, serial_number),
    FOREIGN KEY (tenant_id, rental_id) REFERENCES subscriptions (tenant_id, rental_id)
);
CREATE INDEX asset_assignments_asset ON asset_assignments (tenant_id, serial_number, assigned_from);
INSERT INTO asset_assignments (tenant_id, rental_id, serial_number, assigned_from, assigned_to, created_at)
SELECT tenant_id, rental_id, asset_serial_number, start_date, NULL, created_at FROM subscriptions;

-- The history of a subscription: one appended row per lifecycle event, never rewritten.
CREATE TABLE subscription_events (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    rental_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('created', 'extended', 'device_replaced',
        'upgraded', 'bought_out', 'returned_early', 'completed', 'cancelled')),
    actor TEXT COLLATE "C" NOT NULL,
    details TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rental_id, event_id),
    FOREIGN KEY (tenant_id, rental_id) REFERENCES subscriptions (tenant_id, rental_id)
);
INSERT INTO subscription_events (tenant_id, rental_id, event_id, kind, actor, details, created_at)
SELECT tenant_id, rental_id, 'evt_' || rental_id, 'created', created_by, '{}', created_at
FROM subscriptions;
ALTER TABLE subscriptions DROP COLUMN history;
