-- Dropping the table drops its triggers; then the functions they called.
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP FUNCTION is_json(TEXT);
DROP INDEX sessions_by_user;
ALTER TABLE sessions DROP COLUMN user_id;
