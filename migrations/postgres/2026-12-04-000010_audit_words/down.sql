-- Back to the CHECK lists of the first audit log (fails, changing nothing, if the log holds
-- a later word).
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_fkey;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_object_type_fkey;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (
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
    'sign_in_throttled'));
ALTER TABLE audit_events ADD CONSTRAINT audit_events_object_type_check
    CHECK (object_type IN ('credential', 'client_application', 'user'));
DROP TABLE audit_object_kinds;
DROP TABLE audit_actions;
