-- Idempotency keys, per principal (see core/src/idempotency.rs). Mirrors postgres/V12__idempotency_keys.sql.
-- A row is claimed in the command's own transaction and names what the command made or
-- changed (result), so a repeat can answer with it. The sweep forgets keys older than a week.
CREATE TABLE idempotency_keys (
    principal   TEXT NOT NULL,
    key         TEXT NOT NULL,
    action      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result      TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
