-- Fewer pages per order. The unpaid-order sweep walks confirmed orders by number
-- (orders_status_number_idx), so no (status, created_at) index need be written by every
-- order and moved by every status change. Order numbers are the last one plus one: the
-- single writer reads it from orders_number_key, and orders are never deleted, so the
-- counter row every order rewrote goes.
DROP INDEX orders_status_idx;
DROP TABLE counters;
