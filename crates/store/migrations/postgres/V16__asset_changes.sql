-- Manual changes of an asset (SPEC 2.3 updateAsset and deleteAsset): what an operator changed
-- and who, for the asset's history. Changes made by rentals are in the subscriptions' histories.
-- changes is a JSON object {field: {from, to}} of the fields that changed.
CREATE TABLE asset_changes (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
    change_id TEXT COLLATE "C" NOT NULL,
    serial_number TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL CHECK (action IN ('updated', 'deactivated')),
    changes TEXT COLLATE "C" NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, change_id)
);
CREATE INDEX asset_changes_asset ON asset_changes (tenant_id, serial_number, created_at, change_id);
