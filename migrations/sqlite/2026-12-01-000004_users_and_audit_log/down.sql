DROP TABLE audit_events;
DROP INDEX sessions_by_user;
ALTER TABLE sessions DROP COLUMN user_id;
