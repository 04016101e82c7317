-- Requests the gate let through, per key, per day and per catalogue endpoint. Job Board and
-- Partner keys have no catalogue endpoints: their requests are counted with endpoint_id NULL.
CREATE TABLE credential_usage (
    credential_id INTEGER NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    day           TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    endpoint_id   INTEGER REFERENCES endpoints (id),
    requests      INTEGER NOT NULL CHECK (requests > 0)
);
CREATE UNIQUE INDEX credential_usage_per_endpoint ON credential_usage (credential_id, day, endpoint_id)
    WHERE endpoint_id IS NOT NULL;
CREATE UNIQUE INDEX credential_usage_whole_api ON credential_usage (credential_id, day)
    WHERE endpoint_id IS NULL;
