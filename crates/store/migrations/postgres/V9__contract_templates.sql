-- Contract templates of a business unit (SPEC 2.9 generateContract): text with {{placeholders}},
-- chosen by templateId, or by the contract type's name when none is given.
CREATE TABLE contract_templates (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    template_id TEXT NOT NULL,
    contract_type TEXT NOT NULL CHECK (contract_type IN ('order', 'extension', 'upgrade')),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, template_id)
);
