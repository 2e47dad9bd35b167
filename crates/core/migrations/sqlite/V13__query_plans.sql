-- Lists at 100,000 orders and a million audit records read one page from an index in
-- the list's own order, instead of sorting every match or walking past non-matches
-- (BENCHMARKS.md, "Query plans at 100k"). Mirrors postgres/V13__query_plans.sql.

-- `order list` is newest first (by number), filtered by status, customer or owner.
CREATE INDEX orders_status_number_idx ON orders (status, number);
DROP INDEX orders_email_idx;
CREATE INDEX orders_email_number_idx ON orders (customer_email_index, number);
DROP INDEX orders_owner_idx;
CREATE INDEX orders_owner_number_idx ON orders (owner, number);

-- `audit list --entity TYPE` is in seq order.
CREATE INDEX audit_log_type_idx ON audit_log (entity_type, seq);
