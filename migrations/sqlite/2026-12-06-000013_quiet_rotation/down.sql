ALTER TABLE credential_secrets DROP COLUMN last_user_agent;
ALTER TABLE credential_secrets DROP COLUMN last_used_from;
ALTER TABLE credential_secrets DROP COLUMN rotated_at;
ALTER TABLE credential_secrets DROP COLUMN quiet_hours;
