DELETE FROM audit_events WHERE action IN
    ('web_hook_created', 'web_hook_changed', 'credential_expiring', 'credential_expired')
    OR object_type = 'web_hook';
DELETE FROM audit_actions WHERE action IN
    ('web_hook_created', 'web_hook_changed', 'credential_expiring', 'credential_expired');
DELETE FROM audit_object_kinds WHERE object_type = 'web_hook';
DROP TABLE credential_expiry_notices;
DROP TABLE web_hook_deliveries;
DROP TABLE web_hook_subscriptions;
DROP TABLE web_hooks;
DROP TABLE web_hook_events;
