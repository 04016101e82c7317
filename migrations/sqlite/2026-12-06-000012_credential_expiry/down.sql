DELETE FROM audit_actions WHERE action IN ('credential_expiry_changed', 'dev_center_settings_changed');
DELETE FROM audit_object_kinds WHERE object_type = 'dev_center_settings';
DROP TABLE dev_center_settings;
ALTER TABLE credentials DROP COLUMN expires_at;
