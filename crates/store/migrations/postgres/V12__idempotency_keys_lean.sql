-- A keyed write stores its key's record in its own transaction, so the record costs as little
-- as its queries need: the key (business unit, key) is the only index, and there is no foreign
-- key to the business unit (a record is written only by its unit's request, and units are never
-- deleted). The daily purge of expired keys reads a unit's keys through the key instead of a
-- `created_at` index: there are at most two days of them.
ALTER TABLE idempotency_keys DROP CONSTRAINT IF EXISTS idempotency_keys_tenant_id_fkey;
DROP INDEX IF EXISTS idempotency_keys_created;
