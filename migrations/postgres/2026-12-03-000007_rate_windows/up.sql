-- Each credential's current rate-limit window, shared by every instance on the database:
-- instances lease parts of it (`taken`) and spend them without asking again.
CREATE TABLE rate_windows (
    credential_id INTEGER PRIMARY KEY REFERENCES credentials (id) ON DELETE CASCADE,
    started_at    TIMESTAMP NOT NULL,
    taken         INTEGER NOT NULL CHECK (taken >= 0)
);
