-- A counter that every change to a key's status, scope, hash or business unit, and every change to
-- a business unit, increments, with a notification on the channel `flexportal_auth` delivered when
-- the change commits. Server processes that cache credentials listen on the channel and drop
-- their cache, so a revocation made anywhere applies to the next request on every node.
CREATE TABLE auth_epoch (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, n) VALUES (1, 0);

CREATE FUNCTION flexportal_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
    PERFORM pg_notify('flexportal_auth', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_auth AFTER UPDATE OF status, scope, key_hash, tenant_id OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION flexportal_auth_changed();
CREATE TRIGGER tenants_auth AFTER UPDATE OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION flexportal_auth_changed();
