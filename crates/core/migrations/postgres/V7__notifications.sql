-- Notifications: templates, webhook subscriptions, one row per (event, recipient, channel)
-- with its delivery state, the circuit breaker of each endpoint, and the dispatcher's cursor
-- over the event log. Mirrors sqlite/V7__notifications.sql.

CREATE TABLE notification_templates (
    name       TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'in_app', 'webhook', 'sms')),
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    html       TEXT,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (name, channel)
);

CREATE TABLE notifications (
    -- Also the delivery id every attempt carries (the email Message-ID).
    id              TEXT PRIMARY KEY,
    -- The event it was made for; none for an ad-hoc send.
    event_seq       BIGINT,
    -- A user id, or for customers and ad-hoc sends the blind index of the address.
    recipient_id    TEXT NOT NULL,
    -- The user it is for (in-app inboxes, preferences), if any.
    user_id         TEXT REFERENCES users (id),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'in_app', 'webhook', 'sms')),
    template        TEXT NOT NULL,
    -- Where it goes, for its circuit breaker: `smtp`, or a webhook's scheme://host:port.
    endpoint        TEXT NOT NULL,
    -- Sealed: the address (an email, a webhook URL), and the rendered subject and bodies.
    address         TEXT,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    html            TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    read_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
-- Exactly one row per event, recipient and channel, however often the event is read.
CREATE UNIQUE INDEX notifications_once_key ON notifications (event_seq, recipient_id, channel) WHERE event_seq IS NOT NULL;
-- What the dispatcher delivers next.
CREATE INDEX notifications_due_idx ON notifications (status, next_attempt_at);
CREATE INDEX notifications_user_idx ON notifications (user_id, channel, created_at);

-- Webhook subscriptions: events of these types are POSTed to the URL, signed with the secret.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    -- Comma-separated event types.
    event_types TEXT NOT NULL,
    -- Sealed.
    secret      TEXT NOT NULL,
    -- Events after this seq are sent: a new subscription does not get the past.
    from_seq    BIGINT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL
);

-- One circuit breaker per endpoint: after repeated failures it opens and the endpoint
-- rests until `open_until`, then one probe decides.
CREATE TABLE endpoint_breakers (
    endpoint   TEXT PRIMARY KEY,
    state      TEXT NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    failures   BIGINT NOT NULL DEFAULT 0,
    open_until TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Who runs the dispatcher (SQLite allows one at a time): a lease renewed while it runs.
CREATE TABLE dispatcher_leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- How far each event-log consumer has read.
CREATE TABLE consumer_cursors (
    name       TEXT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
