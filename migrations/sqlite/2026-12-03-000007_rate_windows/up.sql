-- Each credential's current rate-limit window, shared by every instance on the database:
-- instances lease parts of it (`taken`) and spend them without asking again. Used on
-- PostgreSQL, where several instances run; kept here so both schemas stay the same.
CREATE TABLE rate_windows (
    credential_id INTEGER PRIMARY KEY NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    started_at    TIMESTAMP NOT NULL,
    taken         INTEGER NOT NULL CHECK (taken >= 0)
);
