-- The text columns of the tables added since V8 compare byte by byte, as every other table's do
-- (COLLATE "C", the order of SQLite's BINARY): their keys and indexes compare without the
-- locale's collation, and ids sort the same on both engines. Indexes on these columns are rebuilt.
ALTER TABLE files
    ALTER COLUMN tenant_id TYPE TEXT COLLATE "C",
    ALTER COLUMN file_id TYPE TEXT COLLATE "C",
    ALTER COLUMN order_id TYPE TEXT COLLATE "C",
    ALTER COLUMN customer_id TYPE TEXT COLLATE "C",
    ALTER COLUMN file_type TYPE TEXT COLLATE "C",
    ALTER COLUMN category TYPE TEXT COLLATE "C",
    ALTER COLUMN filename TYPE TEXT COLLATE "C",
    ALTER COLUMN original_filename TYPE TEXT COLLATE "C",
    ALTER COLUMN content_type TYPE TEXT COLLATE "C",
    ALTER COLUMN storage_path TYPE TEXT COLLATE "C",
    ALTER COLUMN uploaded_by TYPE TEXT COLLATE "C",
    ALTER COLUMN metadata TYPE TEXT COLLATE "C";
ALTER TABLE server_secrets
    ALTER COLUMN name TYPE TEXT COLLATE "C",
    ALTER COLUMN secret TYPE TEXT COLLATE "C";
ALTER TABLE contract_templates
    ALTER COLUMN tenant_id TYPE TEXT COLLATE "C",
    ALTER COLUMN template_id TYPE TEXT COLLATE "C",
    ALTER COLUMN contract_type TYPE TEXT COLLATE "C",
    ALTER COLUMN body TYPE TEXT COLLATE "C";
ALTER TABLE webhook_endpoints
    ALTER COLUMN tenant_id TYPE TEXT COLLATE "C",
    ALTER COLUMN endpoint_id TYPE TEXT COLLATE "C",
    ALTER COLUMN url TYPE TEXT COLLATE "C",
    ALTER COLUMN description TYPE TEXT COLLATE "C",
    ALTER COLUMN event_types TYPE TEXT COLLATE "C",
    ALTER COLUMN secret TYPE TEXT COLLATE "C";
ALTER TABLE webhook_deliveries
    ALTER COLUMN tenant_id TYPE TEXT COLLATE "C",
    ALTER COLUMN delivery_id TYPE TEXT COLLATE "C",
    ALTER COLUMN event_id TYPE TEXT COLLATE "C",
    ALTER COLUMN endpoint_id TYPE TEXT COLLATE "C",
    ALTER COLUMN event_type TYPE TEXT COLLATE "C",
    ALTER COLUMN payload TYPE TEXT COLLATE "C",
    ALTER COLUMN status TYPE TEXT COLLATE "C",
    ALTER COLUMN last_error TYPE TEXT COLLATE "C";
ALTER TABLE webhook_attempts
    ALTER COLUMN tenant_id TYPE TEXT COLLATE "C",
    ALTER COLUMN delivery_id TYPE TEXT COLLATE "C",
    ALTER COLUMN error TYPE TEXT COLLATE "C";
ALTER TABLE idempotency_keys
    ALTER COLUMN tenant_id TYPE TEXT COLLATE "C",
    ALTER COLUMN idempotency_key TYPE TEXT COLLATE "C",
    ALTER COLUMN request_hash TYPE TEXT COLLATE "C",
    ALTER COLUMN content_type TYPE TEXT COLLATE "C",
    ALTER COLUMN response_body TYPE TEXT COLLATE "C";

-- The outbox is written by the transactions that cause events (up to dozens of rows each, a
-- fulfilment writes 39), so each of its rows costs as little as the queries need: the key leads
-- with the endpoint (an endpoint's log, newest first, is a range of the key, since delivery ids
-- begin with their creation time), which replaces the log's own index, and no foreign key to the
-- business unit (a row is written only by its unit's transaction, and units are never deleted;
-- the same for the attempts, written only by the delivery worker).
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_tenant_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey,
    ADD PRIMARY KEY (tenant_id, endpoint_id, delivery_id);
DROP INDEX webhook_deliveries_endpoint;
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_tenant_id_fkey;

-- A worker takes an endpoint, not each delivery: one process at a time serves an endpoint (its
-- lane) until `lane_until` (epoch ms), renewed with each batch, so a batch is read without
-- writing every row it holds; a worker that died lets the endpoint go when the lease ends.
ALTER TABLE webhook_deliveries DROP COLUMN locked_until;
ALTER TABLE webhook_endpoints
    ADD COLUMN lane_owner TEXT COLLATE "C",
    ADD COLUMN lane_until BIGINT NOT NULL DEFAULT 0;
