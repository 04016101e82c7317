-- The audit log's new actions: a credential rotated, its rotation's overlap ended, its
-- trusted IPs changed, and a revoked credential enabled again.
--
-- SQLite cannot change a CHECK constraint in place, so `audit_events` is rebuilt with its
-- rows, indexes and append-only triggers. Nothing references it, so this runs in diesel's
-- transaction with foreign keys on. (Dropping a table drops its triggers first: the
-- append-only trigger does not fire.)
CREATE TABLE audit_events_rebuilt (
    id            INTEGER PRIMARY KEY NOT NULL,
    occurred_at   TIMESTAMP NOT NULL,
    -- NULL when no signed-in person acted: the first start, the command line, sign-in.
    actor_id      INTEGER REFERENCES users (id),
    actor_name    TEXT NOT NULL,
    actor_address TEXT,
    action        TEXT NOT NULL CHECK (action IN (
                      'credential_created', 'credential_grants_changed', 'credential_revoked',
                      'credential_rotated', 'credential_overlap_ended',
                      'credential_trusted_ips_changed', 'credential_enabled',
                      'client_application_created', 'client_application_changed',
                      'user_created', 'user_level_changed', 'user_permissions_changed',
                      'user_disabled', 'user_enabled', 'sign_in_throttled')),
    object_type   TEXT NOT NULL CHECK (object_type IN ('credential', 'client_application', 'user')),
    object_id     INTEGER,
    object_label  TEXT NOT NULL,
    summary       TEXT NOT NULL,
    details       TEXT NOT NULL CHECK (json_valid(details))
);
INSERT INTO audit_events_rebuilt
    (id, occurred_at, actor_id, actor_name, actor_address, action, object_type, object_id, object_label, summary, details)
SELECT id, occurred_at, actor_id, actor_name, actor_address, action, object_type, object_id, object_label, summary, details
FROM audit_events;
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
