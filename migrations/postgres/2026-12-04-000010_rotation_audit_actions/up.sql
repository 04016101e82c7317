-- The audit log's new actions: a credential rotated, its rotation's overlap ended, its
-- trusted IPs changed, and a revoked credential enabled again.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (
    'credential_created', 'credential_grants_changed', 'credential_revoked',
    'credential_rotated', 'credential_overlap_ended',
    'credential_trusted_ips_changed', 'credential_enabled',
    'client_application_created', 'client_application_changed',
    'user_created', 'user_level_changed', 'user_permissions_changed',
    'user_disabled', 'user_enabled', 'sign_in_throttled'));
