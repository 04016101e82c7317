-- Back to the CHECK lists of the first audit log. A log that already holds an event with a
-- later word fails the CHECK here, and nothing changes: history is never dropped to go back.
CREATE TABLE audit_events_rebuilt (
    id            INTEGER PRIMARY KEY NOT NULL,
    occurred_at   TIMESTAMP NOT NULL,
    actor_id      INTEGER REFERENCES users (id),
    actor_name    TEXT NOT NULL,
    actor_address TEXT,
    action        TEXT NOT NULL CHECK (action IN (
                      'credential_created',
                      'credential_grants_changed',
                      'credential_revoked',
                      'client_application_created',
                      'client_application_changed',
                      'user_created',
                      'user_level_changed',
                      'user_permissions_changed',
                      'user_disabled',
                      'user_enabled',
                      'sign_in_throttled')),
    object_type   TEXT NOT NULL CHECK (object_type IN ('credential', 'client_application', 'user')),
    object_id     INTEGER,
    object_label  TEXT NOT NULL,
    summary       TEXT NOT NULL,
    details       TEXT NOT NULL CHECK (json_valid(details))
);
INSERT INTO audit_events_rebuilt SELECT * FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_rebuilt RENAME TO audit_events;
CREATE INDEX audit_events_newest_first ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_by_object ON audit_events (object_type, object_id);
CREATE INDEX audit_events_by_actor ON audit_events (actor_id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
DROP TABLE audit_object_kinds;
DROP TABLE audit_actions;
