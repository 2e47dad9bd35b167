-- The event log joins the audit chain: each event stores a SHA-256 over its fields and the
-- hash of the event before it, and each audit record names the event head (event_seq) it
-- saw, its hash covering that event's hash. The audit head keeps the event head beside its
-- own, so an edited, deleted, moved or cut-off event shows in `verify`. Events from
-- before this version are chained when a store first opens it.
-- Mirrors postgres/V9__event_chain.sql.

ALTER TABLE events ADD COLUMN hash TEXT;
ALTER TABLE audit_log ADD COLUMN event_seq INTEGER;
ALTER TABLE audit_head ADD COLUMN event_seq INTEGER;
ALTER TABLE audit_head ADD COLUMN event_hash TEXT;
