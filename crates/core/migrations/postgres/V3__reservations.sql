-- Reservations: stock held for a checkout or an order. Mirrors sqlite/V3__reservations.sql.

CREATE TABLE reservations (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    reference  TEXT,
    -- Why the lines sit where they do: the allocation strategy's reason, or the warehouse asked for.
    allocation TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'committed', 'released', 'expired')),
    -- A checkout reservation expires then; one held by an order (NULL) never does on its own.
    expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
-- What the expiry sweep looks for: active reservations by expiry time.
CREATE INDEX reservations_expiry_idx ON reservations (expires_at) WHERE status = 'active' AND expires_at IS NOT NULL;

CREATE TABLE reservation_lines (
    reservation_id TEXT NOT NULL REFERENCES reservations (id),
    product_id     TEXT NOT NULL REFERENCES products (id),
    warehouse_id   TEXT NOT NULL REFERENCES warehouses (id),
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, product_id, warehouse_id)
);
