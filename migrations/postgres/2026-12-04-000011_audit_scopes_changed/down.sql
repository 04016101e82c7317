-- Back to the actions before `credential_scopes_changed`. A log that already holds such an
-- event fails the CHECK here, and nothing changes: history is never dropped to go back.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (
    'credential_created', 'credential_grants_changed', 'credential_revoked',
    'client_application_created', 'client_application_changed',
    'user_created', 'user_level_changed', 'user_permissions_changed',
    'user_disabled', 'user_enabled', 'sign_in_throttled'));
