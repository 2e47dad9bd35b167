-- Users, their warehouse scope and notification preferences, and API tokens.
-- Mirrors sqlite/V4__users.sql.

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    -- Stored lower-cased: unique regardless of case.
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'warehouse', 'sales', 'client', 'viewer')),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash   TEXT NOT NULL,
    -- Bumped when the password, role, scope or active flag changes: tokens carrying an
    -- older version are refused.
    token_version   BIGINT NOT NULL DEFAULT 1,
    -- Login back-off: consecutive failures, and no attempt is checked before this time.
    failed_logins   BIGINT NOT NULL DEFAULT 0,
    locked_until    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);

-- A user with rows here acts only at these warehouses; none means all.
CREATE TABLE user_warehouses (
    user_id      TEXT NOT NULL REFERENCES users (id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses (id),
    PRIMARY KEY (user_id, warehouse_id)
);

-- Overrides of the role's default notification preferences.
CREATE TABLE notification_preferences (
    user_id    TEXT NOT NULL REFERENCES users (id),
    event_type TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'in_app', 'webhook', 'sms')),
    enabled    BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, event_type, channel)
);

-- API tokens for client apps and scripts; only a hash of the secret is kept.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'warehouse', 'sales', 'client', 'viewer')),
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT api_tokens_hash_key UNIQUE (token_hash)
);
-- A name is reused only once its token is revoked.
CREATE UNIQUE INDEX api_tokens_name_key ON api_tokens (name) WHERE revoked_at IS NULL;
