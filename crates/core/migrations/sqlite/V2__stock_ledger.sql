-- The stock ledger: movements (append-only), the stock-level projection and replay snapshots.
-- Mirrors postgres/V2__stock_ledger.sql.

-- Current stock per product and warehouse: a projection of the event log, updated in the
-- transaction that appends the movement. Whether a level is low is derived
-- (reorder_point > 0 AND on_hand - reserved <= reorder_point), never stored.
CREATE TABLE stock_levels (
    product_id    TEXT NOT NULL REFERENCES products (id),
    warehouse_id  TEXT NOT NULL REFERENCES warehouses (id),
    on_hand       INTEGER NOT NULL DEFAULT 0,
    reserved      INTEGER NOT NULL DEFAULT 0,
    reorder_point INTEGER NOT NULL DEFAULT 0,
    reorder_qty   INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (product_id, warehouse_id),
    CONSTRAINT stock_levels_on_hand_check CHECK (on_hand >= 0),
    CONSTRAINT stock_levels_reserved_check CHECK (reserved >= 0 AND reserved <= on_hand),
    CONSTRAINT stock_levels_threshold_check CHECK (reorder_point >= 0 AND reorder_qty >= 0)
) STRICT;
CREATE INDEX stock_levels_warehouse_idx ON stock_levels (warehouse_id);

-- Every change of stock, never edited: corrections are new movements. One row per stock
-- event (InventoryChanged, InventoryReserved, InventoryReleased), keyed by its seq.
CREATE TABLE stock_movements (
    event_seq      INTEGER PRIMARY KEY,
    product_id     TEXT NOT NULL REFERENCES products (id),
    warehouse_id   TEXT NOT NULL REFERENCES warehouses (id),
    kind           TEXT NOT NULL,
    on_hand_delta  INTEGER NOT NULL,
    reserved_delta INTEGER NOT NULL,
    on_hand_after  INTEGER NOT NULL CHECK (on_hand_after >= 0),
    reserved_after INTEGER NOT NULL CHECK (reserved_after >= 0),
    reason         TEXT,
    reference      TEXT,
    actor          TEXT NOT NULL,
    occurred_at    TEXT NOT NULL
) STRICT;
CREATE INDEX stock_movements_item_idx ON stock_movements (product_id, warehouse_id, event_seq);

-- Replay snapshots: stock levels as a replay computed them up to an event seq, so the next
-- replay starts there. Only the newest is kept.
CREATE TABLE stock_snapshots (
    seq           INTEGER NOT NULL,
    product_id    TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    on_hand       INTEGER NOT NULL,
    reserved      INTEGER NOT NULL,
    reorder_point INTEGER NOT NULL,
    reorder_qty   INTEGER NOT NULL,
    PRIMARY KEY (seq, product_id, warehouse_id)
) STRICT;
