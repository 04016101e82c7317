-- Web hooks: signed JSON POSTs of credential and integration events to receivers people
-- configure (Dev Center → Web Hooks). Each event is written to the outbox
-- (`web_hook_deliveries`) in the transaction of the change that causes it, so a change
-- and its event are committed together or not at all; a background sender delivers them.

-- The events a hook may subscribe to, as rows (a new event is one INSERT).
CREATE TABLE web_hook_events (
    event TEXT PRIMARY KEY NOT NULL
);
INSERT INTO web_hook_events (event) VALUES
    ('credential.created'),
    ('credential.revoked'),
    ('credential.enabled'),
    ('credential.rotated'),
    ('credential.grants_changed'),
    ('credential.expiring'),
    ('credential.expired'),
    ('integration.connected'),
    ('integration.disconnected'),
    ('ping');

CREATE TABLE web_hooks (
    id                   INTEGER PRIMARY KEY NOT NULL,
    name                 TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    url                  TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    -- The secret key that signs deliveries, sealed with the installation's sealing key
    -- (it must be read back to sign, so it cannot be a hash). Never shown after saving.
    secret_key_sealed    BLOB NOT NULL,
    enabled              BOOLEAN NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    created_by           INTEGER NOT NULL REFERENCES users (id),
    -- Failed attempts since the last delivery that succeeded; from the fifth the hook is
    -- failing (shown on the page) until a delivery or a ping succeeds.
    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    failing_since        TIMESTAMP,
    -- A sender (`sending_by`, a random token of its claim) is sending this hook's oldest
    -- delivery until then: one at a time per hook, so a hook's events arrive in order
    -- whichever instance sends them. Only the claim's owner records and releases it.
    sending_until        TIMESTAMP,
    sending_by           TEXT CHECK (sending_by IS NULL OR length(sending_by) = 32)
);

CREATE TABLE web_hook_subscriptions (
    web_hook_id INTEGER NOT NULL REFERENCES web_hooks (id),
    event       TEXT NOT NULL REFERENCES web_hook_events (event),
    PRIMARY KEY (web_hook_id, event)
) WITHOUT ROWID;

-- The outbox and the record of every delivery, a row per event per hook.
CREATE TABLE web_hook_deliveries (
    id               INTEGER PRIMARY KEY NOT NULL,
    web_hook_id      INTEGER NOT NULL REFERENCES web_hooks (id),
    -- Public: sent with every attempt, so receivers can drop one they already have.
    delivery_id      TEXT NOT NULL UNIQUE CHECK (length(delivery_id) = 36),
    event            TEXT NOT NULL REFERENCES web_hook_events (event),
    -- The event's payload as JSON: names and ids, never a key, secret or token.
    payload          TEXT NOT NULL CHECK (json_valid(payload)),
    created_at       TIMESTAMP NOT NULL,
    -- pending: waiting for its (next) attempt; delivered: a 2xx answered; failed: no
    -- more attempts (a ping that failed, or retries for 24 hours that all failed).
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- Retries last 24 hours from the first attempt (not from the event: one that waited
    -- behind a failing delivery still gets its day).
    first_attempt_at TIMESTAMP,
    next_attempt_at  TIMESTAMP,
    last_attempt_at  TIMESTAMP,
    -- The receiver's status code, when it answered.
    last_status      INTEGER,
    last_duration_ms INTEGER,
    -- Why the last attempt failed, in words (never the receiver's body).
    last_error       TEXT CHECK (last_error IS NULL OR length(last_error) <= 500),
    CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX web_hook_deliveries_pending ON web_hook_deliveries (web_hook_id, id)
    WHERE state = 'pending';
CREATE INDEX web_hook_deliveries_newest ON web_hook_deliveries (web_hook_id, id DESC);

-- The expiry events already written for a credential's expiry date: each is written once
-- per date, and again if the date changes.
CREATE TABLE credential_expiry_notices (
    credential_id INTEGER NOT NULL REFERENCES credentials (id),
    expires_at    TIMESTAMP NOT NULL,
    event         TEXT NOT NULL CHECK (event IN ('credential.expiring', 'credential.expired')),
    PRIMARY KEY (credential_id, expires_at, event)
) WITHOUT ROWID;

INSERT INTO audit_actions (action) VALUES
    ('web_hook_created'),
    ('web_hook_changed'),
    ('credential_expiring'),
    ('credential_expired');
INSERT INTO audit_object_kinds (object_type) VALUES ('web_hook');
