-- The request log names the catalogue endpoint a request matched (so the permissions pages
-- can say "asked for GET /v1/offers 37 times this week" of a refused one), and marks the
-- requests refused because they came from outside the credential's trusted IPs.
ALTER TABLE gate_requests ADD COLUMN endpoint_id INTEGER REFERENCES endpoints (id);
ALTER TABLE gate_requests ADD COLUMN refused_address BOOLEAN NOT NULL DEFAULT 0;
