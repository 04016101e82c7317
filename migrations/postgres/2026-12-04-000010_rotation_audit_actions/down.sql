-- Back to the earlier actions. The audit log is append-only, so this fails while it holds
-- an event of the newer actions.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN (
    'credential_created', 'credential_grants_changed', 'credential_revoked',
    'client_application_created', 'client_application_changed',
    'user_created', 'user_level_changed', 'user_permissions_changed',
    'user_disabled', 'user_enabled', 'sign_in_throttled'));
