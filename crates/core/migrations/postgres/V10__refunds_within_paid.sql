-- Refunds never add up to more than was paid. Mirrors sqlite/V10__refunds_within_paid.sql.

ALTER TABLE orders ADD CONSTRAINT orders_refunded_check CHECK (refunded_minor <= paid_minor);
