-- A keyed write stores its key's record in its own transaction, so the record costs as little
-- as its queries need: the key (business unit, key) is the only index, and there is no foreign
-- key to the business unit (a record is written only by its unit's request, and units are never
-- deleted). The daily purge of expired keys reads a unit's keys through the key instead of a
-- `created_at` index: there are at most two days of them. SQLite drops a foreign key by
-- rebuilding the table.
CREATE TABLE idempotency_keys_v12 (
    tenant_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- SHA-256 of method, path, query and body.
    request_hash TEXT NOT NULL,
    status_code BIGINT NOT NULL,
    content_type TEXT,
    response_body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
INSERT INTO idempotency_keys_v12 (tenant_id, idempotency_key, request_hash, status_code,
    content_type, response_body, created_at)
SELECT tenant_id, idempotency_key, request_hash, status_code, content_type, response_body,
    created_at
FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v12 RENAME TO idempotency_keys;
