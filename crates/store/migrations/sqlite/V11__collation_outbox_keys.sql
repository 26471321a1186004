-- The text columns of the tables added since V8 take COLLATE "C" on PostgreSQL, the byte order
-- SQLite's columns have had from the start (BINARY): nothing to do here for them.
--
-- The outbox is written by the transactions that cause events (up to dozens of rows each, a
-- fulfilment writes 39), so each of its rows costs as little as the queries need: the key leads
-- with the endpoint (an endpoint's log, newest first, is a range of the key, since delivery ids
-- begin with their creation time), which replaces the log's own index, and no foreign key to the
-- business unit (a row is written only by its unit's transaction, and units are never deleted;
-- the same for the attempts, written only by the delivery worker). SQLite changes a key or a
-- foreign key by rebuilding the table.
--
-- A worker takes an endpoint, not each delivery: one process at a time serves an endpoint (its
-- lane) until `lane_until` (epoch ms), renewed with each batch, so a batch is read without
-- writing every row it holds; a worker that died lets the endpoint go when the lease ends. The
-- deliveries lose their own lease column.
CREATE TABLE webhook_deliveries_v11 (
    tenant_id TEXT NOT NULL,
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
    last_attempt_at BIGINT,
    last_status_code BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, endpoint_id, delivery_id)
);
INSERT INTO webhook_deliveries_v11 (tenant_id, delivery_id, event_id, endpoint_id, event_type,
    payload, status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error,
    delivered_at, created_at)
SELECT tenant_id, delivery_id, event_id, endpoint_id, event_type, payload, status, attempts,
    next_attempt_at, last_attempt_at, last_status_code, last_error, delivered_at, created_at
FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_v11 RENAME TO webhook_deliveries;
-- The queue of each endpoint: what a worker claims next.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (tenant_id, endpoint_id, next_attempt_at)
    WHERE status = 'pending';

CREATE TABLE webhook_attempts_v11 (
    tenant_id TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL,
    -- The receiver's HTTP status; NULL when no response came (refused, timeout).
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (tenant_id, delivery_id, attempt)
);
INSERT INTO webhook_attempts_v11 (tenant_id, delivery_id, attempt, attempted_at, status_code,
    latency_ms, error)
SELECT tenant_id, delivery_id, attempt, attempted_at, status_code, latency_ms, error
FROM webhook_attempts;
DROP TABLE webhook_attempts;
ALTER TABLE webhook_attempts_v11 RENAME TO webhook_attempts;

ALTER TABLE webhook_endpoints ADD COLUMN lane_owner TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN lane_until BIGINT NOT NULL DEFAULT 0;
