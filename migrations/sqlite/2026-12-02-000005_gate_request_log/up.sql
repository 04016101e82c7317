-- The gate's request log: each credential's most recent requests (the gate keeps the last
-- 1,000 per credential), written in batches with the usage counters. Never a key, a token,
-- a query string or a body.
CREATE TABLE gate_requests (
    id             INTEGER PRIMARY KEY NOT NULL,
    credential_id  INTEGER NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    at             TIMESTAMP NOT NULL,
    method         TEXT NOT NULL CHECK (length(method) BETWEEN 1 AND 16),
    path           TEXT NOT NULL CHECK (length(path) BETWEEN 1 AND 2048 AND path NOT LIKE '%?%'),
    status         INTEGER NOT NULL CHECK (status BETWEEN 100 AND 599),
    latency_us     BIGINT NOT NULL CHECK (latency_us >= 0),
    client_address TEXT NOT NULL CHECK (length(client_address) BETWEEN 1 AND 45),
    user_agent     TEXT CHECK (user_agent IS NULL OR length(user_agent) <= 256)
);
CREATE INDEX gate_requests_newest ON gate_requests (credential_id, id);

-- Segments the original API lets a client leave out: `GET /v1/custom_fields` lists the
-- custom fields of every type.
ALTER TABLE endpoints ADD COLUMN last_segment_optional BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE endpoints SET last_segment_optional = TRUE
    WHERE method = 'GET' AND path = '/v1/custom_fields/{field_type}';
