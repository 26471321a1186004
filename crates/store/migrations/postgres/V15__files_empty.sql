-- Files without content (SPEC 2.9: a record is made at size 0 when an upload URL is handed out, or
-- when an export starts writing its copy): the daily job removes those still empty a day after
-- their URL could last be used. Only empty files are in this index, so the job reads none other.
CREATE INDEX files_empty ON files (tenant_id, created_at, file_id) WHERE file_size = 0;
