-- PostgreSQL dialect of migrations/sqlite/2026-12-06-000013_quiet_rotation.
--
-- A rotation may end when the old secret goes quiet: it stops once it has had no request
-- for `quiet_hours` (counted from its last request, or from the rotation if none came
-- since), and at the latest at `ends_at` (7 days). While an overlap lasts, each secret's
-- last request shows where it came from, so an admin sees who still uses the old one.
ALTER TABLE credential_secrets ADD COLUMN quiet_hours INTEGER
    CHECK (quiet_hours IS NULL OR quiet_hours BETWEEN 1 AND 168);
ALTER TABLE credential_secrets ADD COLUMN rotated_at TIMESTAMP;
ALTER TABLE credential_secrets ADD COLUMN last_used_from TEXT
    CHECK (last_used_from IS NULL OR length(last_used_from) <= 64);
ALTER TABLE credential_secrets ADD COLUMN last_user_agent TEXT
    CHECK (last_user_agent IS NULL OR length(last_user_agent) <= 512);
