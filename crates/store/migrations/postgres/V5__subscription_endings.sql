-- What an ending freezes on a subscription (SPEC §2.6.2 ending effects, §2.6.4): the effective
-- date, the months rented and saved at that date; and the upgrade order a deferred upgrade waits
-- for (SPEC §2.6.5).
ALTER TABLE subscriptions ADD COLUMN ended_on TEXT;
ALTER TABLE subscriptions ADD COLUMN months_rented BIGINT;
ALTER TABLE subscriptions ADD COLUMN months_saved BIGINT;
ALTER TABLE subscriptions ADD COLUMN pending_upgrade_order_id TEXT;
