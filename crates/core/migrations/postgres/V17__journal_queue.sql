-- The journal without a global lock (see journal.rs). A command's transaction queues its
-- journal record — its events and audit record, not yet numbered — in one row; after
-- commit one sealer at a time (an advisory lock) numbers the committed records in queue
-- order, chains them and writes `events`, `audit_log` and `stock_movements`. Seqs stay
-- dense and in commit order, and no writer waits on another's commit.
CREATE TABLE journal_queue (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The command's records, as JSON.
    body      TEXT NOT NULL,
    queued_at TIMESTAMPTZ NOT NULL
);
DROP TABLE journal_head;
-- The sealer numbers audit records itself, in seq order.
ALTER TABLE audit_log ALTER COLUMN seq DROP IDENTITY;
-- Order numbers from a sequence rather than a counter row every order locks: a rolled-back
-- order leaves a gap.
CREATE SEQUENCE order_numbers;
SELECT setval('order_numbers', GREATEST(value, 1), value > 0) FROM counters WHERE name = 'order_number';
DROP TABLE counters;
