-- Who may see an event (SPEC §4: a caller sees an event only if it may read what it is
-- about): each event keeps the principal owning the order or reservation it is about
-- (`owner`, so a client reads its own) and the warehouse of a stock event (`warehouse`, so
-- a user scoped to warehouses reads theirs), each with an index in seq order, so a
-- filtered read pages from an index instead of parsing payloads.
-- Mirrors postgres/V14__event_visibility.sql.

ALTER TABLE events ADD COLUMN owner TEXT;
ALTER TABLE events ADD COLUMN warehouse TEXT;

UPDATE events SET warehouse = json_extract(payload, '$.warehouse')
 WHERE event_type IN ('InventoryChanged', 'InventoryReserved', 'InventoryReleased',
                      'InventoryThresholdSet', 'InventoryThresholdReached');
UPDATE events SET owner = (SELECT o.owner FROM orders o WHERE o.id = events.aggregate_id)
 WHERE aggregate_type = 'order';
UPDATE events SET owner = (SELECT r.owner FROM reservations r WHERE r.id = events.aggregate_id)
 WHERE aggregate_type = 'reservation';

CREATE INDEX events_owner_idx ON events (owner, seq);
CREATE INDEX events_warehouse_idx ON events (warehouse, seq);
