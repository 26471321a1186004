-- A counter that every change to a key's status, scope, hash or business unit, and every change to
-- a business unit, increments. A server process that caches credentials compares it on each
-- request, so a revocation made by another process (the CLI) applies to the next request.
CREATE TABLE auth_epoch (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO auth_epoch (id, n) VALUES (1, 0);

CREATE TRIGGER api_keys_auth_update AFTER UPDATE OF status, scope, key_hash, tenant_id ON api_keys
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER api_keys_auth_delete AFTER DELETE ON api_keys
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER tenants_auth_update AFTER UPDATE ON tenants
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER tenants_auth_delete AFTER DELETE ON tenants
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
