-- Who may see an event (SPEC §4: a caller sees an event only if it may read what it is
-- about): each event keeps the principal owning the order or reservation it is about
-- (`owner`, so a client reads its own) and the warehouse of a stock event (`warehouse`, so
-- a user scoped to warehouses reads theirs), each with an index in seq order, so a
-- filtered read pages from an index instead of parsing payloads.
-- Mirrors sqlite/V14__event_visibility.sql.

ALTER TABLE events ADD COLUMN owner TEXT;
ALTER TABLE events ADD COLUMN warehouse TEXT;

UPDATE events SET warehouse = payload::jsonb ->> 'warehouse'
 WHERE event_type IN ('InventoryChanged', 'InventoryReserved', 'InventoryReleased',
                      'InventoryThresholdSet', 'InventoryThresholdReached');
UPDATE events SET owner = o.owner FROM orders o
 WHERE events.aggregate_type = 'order' AND o.id = events.aggregate_id;
UPDATE events SET owner = r.owner FROM reservations r
 WHERE events.aggregate_type = 'reservation' AND r.id = events.aggregate_id;

CREATE INDEX events_owner_idx ON events (owner, seq);
CREATE INDEX events_warehouse_idx ON events (warehouse, seq);
