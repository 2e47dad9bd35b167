-- Owners as typed principals, and API tokens limited to warehouses. Mirrors postgres/V11__identity.sql.
--
-- An owner was the actor's display text (an email, token:NAME), which a later account or
-- token could take over: it becomes user:<user id>, token:<API token id>, local-admin or
-- system:NAME. A token name maps to the newest token of that name: the one live now, if any.
-- Text naming no known user or token is left as it is and matches no one.

UPDATE reservations SET owner = 'user:' || (SELECT u.id FROM users u WHERE u.email = reservations.owner)
WHERE owner IN (SELECT email FROM users);
UPDATE reservations SET owner = 'token:' || (
    SELECT t.id FROM api_tokens t WHERE 'token:' || t.name = reservations.owner ORDER BY t.created_at DESC, t.id DESC LIMIT 1)
WHERE owner IN (SELECT 'token:' || name FROM api_tokens);

UPDATE orders SET owner = 'user:' || (SELECT u.id FROM users u WHERE u.email = orders.owner)
WHERE owner IN (SELECT email FROM users);
UPDATE orders SET owner = 'token:' || (
    SELECT t.id FROM api_tokens t WHERE 'token:' || t.name = orders.owner ORDER BY t.created_at DESC, t.id DESC LIMIT 1)
WHERE owner IN (SELECT 'token:' || name FROM api_tokens);

UPDATE api_tokens SET created_by = 'user:' || (SELECT u.id FROM users u WHERE u.email = api_tokens.created_by)
WHERE created_by IN (SELECT email FROM users);

CREATE INDEX orders_owner_idx ON orders (owner);

-- A token with rows here acts only at these warehouses; none means all. Tokens made before
-- had no scope: they keep none (every warehouse).
CREATE TABLE api_token_warehouses (
    token_id     TEXT NOT NULL REFERENCES api_tokens (id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    PRIMARY KEY (token_id, warehouse_id)
) STRICT, WITHOUT ROWID;
