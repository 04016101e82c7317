-- PostgreSQL dialect of migrations/sqlite/2026-12-04-000010_audit_words: the constraints
-- change in place.
--
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

ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_object_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_fkey
    FOREIGN KEY (action) REFERENCES audit_actions (action);
ALTER TABLE audit_events ADD CONSTRAINT audit_events_object_type_fkey
    FOREIGN KEY (object_type) REFERENCES audit_object_kinds (object_type);
