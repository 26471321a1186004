-- Files (SPEC 2.9): the metadata of documents kept in object storage (contracts, invoices,
-- uploads). order_id is '' for a file not linked to an order; customer_id is the linked order's
-- customer or metadata.customerId, for the listFiles customerId filter.
CREATE TABLE files (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    file_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    customer_id TEXT,
    file_type TEXT NOT NULL CHECK (file_type IN ('contract', 'invoice', 'document', 'attachment')),
    category TEXT NOT NULL CHECK (category IN ('generated', 'uploaded')),
    filename TEXT NOT NULL,
    original_filename TEXT,
    content_type TEXT NOT NULL,
    file_size BIGINT NOT NULL DEFAULT 0,
    storage_path TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, file_id)
);
CREATE INDEX files_created ON files (tenant_id, created_at, file_id);
CREATE INDEX files_order ON files (tenant_id, order_id, created_at, file_id);
CREATE INDEX files_customer ON files (tenant_id, customer_id, created_at, file_id);

-- Secrets of the server shared by every process on the store (the key signing file URLs).
CREATE TABLE server_secrets (
    name TEXT NOT NULL PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
