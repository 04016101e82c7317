-- Who each session belongs to, so disabling a user can end all of their sessions at once.
-- Maintained by the session store from the session's `user_id` entry.
ALTER TABLE sessions ADD COLUMN user_id INTEGER;
UPDATE sessions
   SET user_id = CAST(json_extract(state, '$.user_id') AS INTEGER)
 WHERE json_valid(state) AND json_extract(state, '$.user_id') IS NOT NULL;
CREATE INDEX sessions_by_user ON sessions (user_id) WHERE user_id IS NOT NULL;

-- The audit log: one row per change, written in the same transaction as the change.
-- Names and labels are copied at the time, so the log reads the same after later renames.
-- Never holds a key: descriptions, prefixes and endpoint identifiers only.
CREATE TABLE audit_events (
    id            INTEGER PRIMARY KEY NOT NULL,
    occurred_at   TIMESTAMP NOT NULL,
    -- NULL when no signed-in person acted: the first start, the command line, sign-in.
    actor_id      INTEGER REFERENCES users (id),
    actor_name    TEXT NOT NULL,
    actor_address TEXT,
    action        TEXT NOT NULL CHECK (action IN (
                      'credential_created', 'credential_grants_changed', 'credential_revoked',
                      'client_application_created', 'client_application_changed',
                      'user_created', 'user_level_changed', 'user_permissions_changed',
                      'user_disabled', 'user_enabled', 'sign_in_throttled')),
    object_type   TEXT NOT NULL CHECK (object_type IN ('credential', 'client_application', 'user')),
    object_id     INTEGER,
    object_label  TEXT NOT NULL,
    summary       TEXT NOT NULL,
    details       TEXT NOT NULL CHECK (json_valid(details))
);
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
