-- Orders: customer details sealed (with blind indexes to find them), lines with the price
-- captured at order time, the reservation that holds their stock, payments, the status
-- history and returned lines. Mirrors postgres/V6__orders.sql.

-- Named counters handed out under a row lock (human-readable order numbers).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('order_number', 0);

CREATE TABLE orders (
    id                      TEXT PRIMARY KEY,
    number                  INTEGER NOT NULL,
    status                  TEXT NOT NULL,
    -- Who placed it (a client sees only its own).
    owner                   TEXT NOT NULL,
    customer_email          TEXT NOT NULL,
    customer_email_index    TEXT NOT NULL,
    customer_name           TEXT,
    customer_phone          TEXT,
    customer_phone_index    TEXT,
    customer_address        TEXT,
    currency                TEXT NOT NULL,
    total_minor             INTEGER NOT NULL CHECK (total_minor >= 0),
    paid_minor              INTEGER NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
    refunded_minor          INTEGER NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    -- Set when a paid order is cancelled: the money is owed back.
    refund_due              INTEGER NOT NULL DEFAULT 0 CHECK (refund_due IN (0, 1)),
    reservation_id          TEXT NOT NULL REFERENCES reservations (id),
    tracking_number         TEXT,
    notes                   TEXT,
    version                 INTEGER NOT NULL DEFAULT 1,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    CONSTRAINT orders_number_key UNIQUE (number),
    -- One order per reservation: a checkout reservation is adopted once.
    CONSTRAINT orders_reservation_key UNIQUE (reservation_id),
    CONSTRAINT orders_paid_check CHECK (paid_minor <= total_minor)
) STRICT;
CREATE INDEX orders_status_idx ON orders (status, created_at);
CREATE INDEX orders_email_idx ON orders (customer_email_index);
CREATE INDEX orders_phone_idx ON orders (customer_phone_index);

CREATE TABLE order_lines (
    order_id         TEXT NOT NULL REFERENCES orders (id),
    line_no          INTEGER NOT NULL,
    product_id       TEXT NOT NULL REFERENCES products (id),
    sku              TEXT NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line_no)
) STRICT, WITHOUT ROWID;
-- Open orders of a product (deleting it is refused while any).
CREATE INDEX order_lines_product_idx ON order_lines (product_id);

CREATE TABLE order_status_history (
    order_id    TEXT NOT NULL REFERENCES orders (id),
    position    INTEGER NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT,
    at          TEXT NOT NULL,
    PRIMARY KEY (order_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE order_payments (
    order_id     TEXT NOT NULL REFERENCES orders (id),
    position     INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    reference    TEXT,
    actor        TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (order_id, position)
) STRICT, WITHOUT ROWID;

-- Goods that came back: restocked at their warehouse, or written off.
CREATE TABLE order_returns (
    order_id     TEXT NOT NULL REFERENCES orders (id),
    position     INTEGER NOT NULL,
    product_id   TEXT NOT NULL REFERENCES products (id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    disposition  TEXT NOT NULL CHECK (disposition IN ('restock', 'scrap')),
    received     INTEGER NOT NULL CHECK (received IN (0, 1)),
    PRIMARY KEY (order_id, position)
) STRICT, WITHOUT ROWID;
