-- The audit log learns a new action: `credential_scopes_changed` (Manage Scopes of a
-- Harvest v3 credential). PostgreSQL dialect of
-- migrations/sqlite/2026-12-04-000011_audit_scopes_changed: the CHECK changes in place.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (
    'credential_created', 'credential_grants_changed', 'credential_revoked',
    'client_application_created', 'client_application_changed',
    'user_created', 'user_level_changed', 'user_permissions_changed',
    'user_disabled', 'user_enabled', 'sign_in_throttled',
    'credential_scopes_changed'));
