-- Order picking: one row per order line per warehouse it is allocated at, written by its
-- first pick — how many to pick there (the allocation), how many are picked, who picked
-- last (as people read it, like the status history's actor) and when. A pick never passes
-- the allocation: the pick's guarded write refuses it, and the CHECK stands behind that.
-- Mirrors postgres/V15__order_picks.sql.

CREATE TABLE order_picks (
    order_id     TEXT NOT NULL REFERENCES orders (id),
    product_id   TEXT NOT NULL REFERENCES products (id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    picked       INTEGER NOT NULL CHECK (picked >= 0 AND picked <= quantity),
    picked_by    TEXT NOT NULL,
    picked_at    TEXT NOT NULL,
    PRIMARY KEY (order_id, product_id, warehouse_id)
) STRICT, WITHOUT ROWID;
