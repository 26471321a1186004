-- Webhooks (SPEC 2.11): the endpoints of each business unit, the outbox (one delivery per event
-- and subscribed endpoint, written in the transaction of the change that causes the event), and
-- every attempt of a delivery.
CREATE TABLE webhook_endpoints (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    endpoint_id TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    -- JSON array of event types; [] subscribes to every event.
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, endpoint_id)
);

CREATE TABLE webhook_deliveries (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    delivery_id TEXT NOT NULL,
    -- The event (one id for its deliveries to every endpoint).
    event_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- The JSON envelope posted to the receiver, byte for byte on every attempt.
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL,
    -- When the next attempt is due (epoch ms).
    next_attempt_at BIGINT NOT NULL,
    -- A worker that claimed the delivery holds it until then; a worker that died lets it go.
    locked_until BIGINT NOT NULL,
    last_attempt_at BIGINT,
    last_status_code BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, delivery_id)
);
-- The queue of each endpoint: what a worker claims next.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (tenant_id, endpoint_id, next_attempt_at)
    WHERE status = 'pending';
-- The delivery log of an endpoint, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at, delivery_id);

CREATE TABLE webhook_attempts (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    delivery_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL,
    -- The receiver's HTTP status; NULL when no response came (refused, timeout).
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (tenant_id, delivery_id, attempt)
);

-- Idempotency keys (Idempotency-Key header): the first response to a key, stored in the
-- transaction of its effect and replayed for 24 hours.
CREATE TABLE idempotency_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    idempotency_key TEXT NOT NULL,
    -- SHA-256 of method, path, query and body.
    request_hash TEXT NOT NULL,
    status_code BIGINT NOT NULL,
    content_type TEXT,
    response_body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (tenant_id, created_at);
