-- The unpaid-order sweep walks confirmed orders by number (orders_status_number_idx), so
-- no (status, created_at) index need be written by every order and moved by every status
-- change. (SQLite's V18 also drops its order-number counter; PostgreSQL's numbers come from
-- the order_numbers sequence since V17.)
DROP INDEX orders_status_idx;
