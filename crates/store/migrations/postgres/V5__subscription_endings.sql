-- What an ending freezes on a subscription (SPEC §2.6.2 ending effects, §2.6.4): the effective
-- date, the months rented and saved at that date; and the upgrade order a deferred upgrade waits
-- for (SPEC §2.6.5).
ALTER TABLE subscriptions ADD COLUMN ended_on TEXT;
ALTER TABLE subscriptions ADD COLUMN months_rented BIGINT;
ALTER TABLE subscriptions ADD COLUMN months_saved BIGINT;
ALTER TABLE subscriptions ADD COLUMN pending_upgrade_order_id TEXT;

-- The late fee the daily job adds once to an overdue payment (SPEC §2.7 "Late fees").
ALTER TABLE payments ADD COLUMN late_fee_applied BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN late_fee_amount BIGINT;
ALTER TABLE payments ADD COLUMN original_amount BIGINT;
CREATE INDEX payments_overdue ON payments (tenant_id, due_date, payment_id)
    WHERE status IN ('pending', 'failed') AND late_fee_applied = 0;
CREATE INDEX subscriptions_active_end ON subscriptions (tenant_id, end_date, rental_id)
    WHERE status = 'active';
