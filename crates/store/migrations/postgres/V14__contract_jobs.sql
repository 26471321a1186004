-- Automatic contract generation (SPEC 2.9, the unit's features.contractGeneration): a job queued
-- on the transaction of the subscription change that calls for a contract, so a contract is due
-- exactly when that change committed. A worker renders the PDF, stores it under the file id
-- chosen here (a retry writes the same object again) and records the file. dedupe_key makes one
-- job per contract: `order:<orderId>`, `upgrade:<orderId>`, `extension:<rentalId>:<months>`.
-- contract_jobs_due holds only pending jobs: the worker's probe of every unit reads nothing else.
CREATE TABLE contract_jobs (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    job_id TEXT COLLATE "C" NOT NULL,
    dedupe_key TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C" NOT NULL,
    rental_id TEXT COLLATE "C",
    contract_type TEXT COLLATE "C" NOT NULL CHECK (contract_type IN ('order', 'extension', 'upgrade')),
    file_id TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, job_id),
    UNIQUE (tenant_id, dedupe_key)
);
CREATE INDEX contract_jobs_due ON contract_jobs (tenant_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX contract_jobs_order ON contract_jobs (tenant_id, order_id, created_at, job_id);
