-- The audit log becomes a hash chain: each record stores the hash of the one before it and
-- its own. The chain head (last seq and hash) is kept apart, so a cut-off tail shows too.
-- Records from before this version are chained when a store first opens it.
-- Mirrors sqlite/V5__audit_chain.sql.

ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
