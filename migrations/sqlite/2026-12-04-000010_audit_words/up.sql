-- The audit log's words become rows: `audit_actions` and `audit_object_kinds`, each event
-- referring to its action and object kind by foreign key, instead of CHECK lists. A new
-- word is then one INSERT in its feature's migration, where a CHECK list meant rebuilding
-- the whole audit log each time on SQLite. (A test checks that every word the app knows is
-- here.) This adds the words of Harvest v3 scopes, rotation, trusted IPs and re-enabling.
CREATE TABLE audit_actions (
    action TEXT PRIMARY KEY NOT NULL
);
INSERT INTO audit_actions (action) VALUES
    ('credential_created'),
    ('credential_grants_changed'),
    ('credential_revoked'),
    ('client_application_created'),
    ('client_application_changed'),
    ('user_created'),
    ('user_level_changed'),
    ('user_permissions_changed'),
    ('user_disabled'),
    ('user_enabled'),
    ('sign_in_throttled'),
    ('credential_scopes_changed'),
    ('credential_rotated'),
    ('credential_overlap_ended'),
    ('credential_trusted_ips_changed'),
    ('credential_enabled');

CREATE TABLE audit_object_kinds (
    object_type TEXT PRIMARY KEY NOT NULL
);
INSERT INTO audit_object_kinds (object_type) VALUES
    ('credential'),
    ('client_application'),
    ('user');

-- SQLite cannot change a column's constraints in place, so `audit_events` is rebuilt with
-- every row, index and trigger it had (https://www.sqlite.org/lang_altertable.html). No
-- table refers to it, so this runs in diesel's transaction with foreign keys on.
CREATE TABLE audit_events_rebuilt (
    id            INTEGER PRIMARY KEY NOT NULL,
    occurred_at   TIMESTAMP NOT NULL,
    -- NULL when no signed-in person acted: the first start, the command line, sign-in.
    actor_id      INTEGER REFERENCES users (id),
    actor_name    TEXT NOT NULL,
    actor_address TEXT,
    action        TEXT NOT NULL REFERENCES audit_actions (action),
    object_type   TEXT NOT NULL REFERENCES audit_object_kinds (object_type),
    object_id     INTEGER,
    object_label  TEXT NOT NULL,
    summary       TEXT NOT NULL,
    details       TEXT NOT NULL CHECK (json_valid(details))
);
INSERT INTO audit_events_rebuilt
       (id, occurred_at, actor_id, actor_name, actor_address, action, object_type, object_id,
        object_label, summary, details)
SELECT id, occurred_at, actor_id, actor_name, actor_address, action, object_type, object_id,
       object_label, summary, details
  FROM audit_events;
-- Dropping a table drops its triggers first, so the append-only ones do not fire.
DROP TABLE audit_events;
ALTER TABLE audit_events_rebuilt RENAME TO audit_events;
CREATE INDEX audit_events_newest_first ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_by_object ON audit_events (object_type, object_id);
CREATE INDEX audit_events_by_actor ON audit_events (actor_id);

-- Append-only: nothing rewrites or removes history.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
