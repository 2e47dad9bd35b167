-- Refunds never add up to more than was paid. SQLite cannot add a CHECK to an existing
-- table, so triggers hold the rule, raising as a CHECK would. Mirrors
-- postgres/V10__refunds_within_paid.sql.

CREATE TRIGGER orders_refunded_check_insert BEFORE INSERT ON orders
WHEN NEW.refunded_minor > NEW.paid_minor
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: orders_refunded_check');
END;

CREATE TRIGGER orders_refunded_check_update BEFORE UPDATE OF paid_minor, refunded_minor ON orders
WHEN NEW.refunded_minor > NEW.paid_minor
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: orders_refunded_check');
END;
