-- Foundation: settings, catalog, warehouses, the event log and the audit log.
-- Mirrors postgres/V1__catalog.sql; a test keeps the two in step.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE categories (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL CHECK (length(name) > 0),
    parent_id  TEXT REFERENCES categories (id),
    created_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX categories_name_key ON categories (lower(name));
CREATE INDEX categories_parent_idx ON categories (parent_id);

CREATE TABLE warehouses (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT warehouses_code_key UNIQUE (code)
) STRICT;

CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    sku          TEXT NOT NULL,
    name         TEXT NOT NULL CHECK (length(name) > 0),
    description  TEXT NOT NULL DEFAULT '',
    price_minor  INTEGER NOT NULL CHECK (price_minor >= 0),
    currency     TEXT NOT NULL,
    price_micros INTEGER NOT NULL CHECK (price_micros >= 0),
    category_id  TEXT REFERENCES categories (id),
    attributes   TEXT NOT NULL DEFAULT '{}',
    barcode      TEXT,
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT
) STRICT;
-- A deleted product's SKU and barcode may be reused.
CREATE UNIQUE INDEX products_sku_key ON products (sku) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX products_barcode_key ON products (barcode) WHERE deleted_at IS NULL AND barcode IS NOT NULL;
CREATE INDEX products_category_idx ON products (category_id);
CREATE INDEX products_price_idx ON products (price_micros);

-- One row per attribute, so filters by attribute use an index.
CREATE TABLE product_attributes (
    product_id TEXT NOT NULL REFERENCES products (id),
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (product_id, key)
) STRICT;
CREATE INDEX product_attributes_lookup_idx ON product_attributes (key, value);

-- Full-text search over live products, kept in step by triggers.
CREATE VIRTUAL TABLE products_fts USING fts5 (sku, name, description, content = 'products', content_rowid = 'rowid');
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, sku, name, description) VALUES (new.rowid, new.sku, new.name, new.description);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, sku, name, description) VALUES ('delete', old.rowid, old.sku, old.name, old.description);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF sku, name, description ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, sku, name, description) VALUES ('delete', old.rowid, old.sku, old.name, old.description);
    INSERT INTO products_fts (rowid, sku, name, description) VALUES (new.rowid, new.sku, new.name, new.description);
END;

-- The append-only event log every consumer reads by seq. Seqs are dense: the one writer
-- (BEGIN IMMEDIATE) appends after the last, so events commit in seq order and a reader by
-- seq never skips a late commit. (PostgreSQL needs a journal_head row for that.)

CREATE TABLE events (
    seq            INTEGER PRIMARY KEY,
    event_type     TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    payload        TEXT NOT NULL,
    actor          TEXT NOT NULL,
    occurred_at    TEXT NOT NULL
);
CREATE INDEX events_type_idx ON events (event_type, seq);

-- Who did what: one record per state-changing command.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    occurred_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    request_id  TEXT
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, seq);
