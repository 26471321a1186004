-- A rental's payments are read in billing-date order with the payment id as the tie-break (its
-- schedule for the subscription views, lifecycle actions and daily jobs). The index now ends
-- with the id, so those reads come out of it in order instead of through a sort of whole rows.
DROP INDEX payments_rental_billing;
CREATE INDEX payments_rental_billing ON payments (tenant_id, rental_id, billing_date, payment_id);
