-- The portfolio report (SPEC 2.13) reads every payment of a unit for its payment report: with the
-- amounts in the index the aggregate reads the index alone, in status order, instead of visiting
-- each row of the table in index order.
CREATE INDEX payments_status_amounts ON payments (tenant_id, status, subtotal, total);
-- Unpaid payments by customer: the customers' collection status reads only the unpaid rows, one
-- group per customer in index order. The status list is written into the statements that use it
-- as it is here, so that both engines can prove the predicate.
CREATE INDEX payments_unpaid_customer ON payments (tenant_id, customer_id, due_date)
    WHERE status IN ('pending', 'failed');
