-- Back to v1/v2 keys only: v3 credentials and every secret but the current one are lost.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
DROP TRIGGER credential_scopes_v3_only;
DROP TABLE credential_scopes;
DROP TRIGGER client_application_scopes_from_catalogue;
DROP TABLE client_application_scopes;
DROP TRIGGER credential_endpoints_harvest_only;
DELETE FROM credential_endpoints WHERE credential_id IN (SELECT id FROM credentials WHERE api_type = 'harvest_v3');
DELETE FROM credential_usage WHERE credential_id IN (SELECT id FROM credentials WHERE api_type = 'harvest_v3')
    OR endpoint_id IN (SELECT id FROM endpoints WHERE scope IS NOT NULL);
DELETE FROM gate_requests WHERE credential_id IN (SELECT id FROM credentials WHERE api_type = 'harvest_v3');
DELETE FROM rate_windows WHERE credential_id IN (SELECT id FROM credentials WHERE api_type = 'harvest_v3');
DELETE FROM endpoints WHERE scope IS NOT NULL;
DROP INDEX endpoints_by_scope;
ALTER TABLE endpoints DROP COLUMN scope;

CREATE TABLE credentials_rebuilt (
    id                    INTEGER PRIMARY KEY NOT NULL,
    description           TEXT NOT NULL CHECK (length(trim(description)) BETWEEN 1 AND 255),
    api_type              TEXT NOT NULL CHECK (api_type IN ('harvest', 'job_board', 'partner')),
    client_application_id INTEGER REFERENCES client_applications (id),
    key_hash              BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    key_prefix            TEXT NOT NULL,
    key_last4             TEXT NOT NULL CHECK (length(key_last4) = 4),
    created_by            INTEGER NOT NULL REFERENCES users (id),
    created_at            TIMESTAMP NOT NULL,
    revoked_at            TIMESTAMP,
    revoked_by            INTEGER REFERENCES users (id),
    last_used_at          TIMESTAMP,
    CHECK (api_type <> 'partner' OR client_application_id IS NOT NULL),
    CHECK (api_type <> 'job_board' OR client_application_id IS NULL),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
INSERT INTO credentials_rebuilt
SELECT c.id, c.description, c.api_type, c.client_application_id, s.secret_hash, s.secret_prefix, s.secret_last4,
       c.created_by, c.created_at, c.revoked_at, c.revoked_by, c.last_used_at
FROM credentials c JOIN credential_secrets s ON s.credential_id = c.id AND s.ends_at IS NULL
WHERE c.api_type <> 'harvest_v3';
DROP TABLE credential_secrets;
DROP TABLE credentials;
ALTER TABLE credentials_rebuilt RENAME TO credentials;
CREATE INDEX credentials_newest_first ON credentials (created_at DESC, id DESC);
CREATE TRIGGER credential_endpoints_harvest_only
BEFORE INSERT ON credential_endpoints
WHEN (SELECT api_type FROM credentials WHERE id = NEW.credential_id) <> 'harvest'
BEGIN
    SELECT RAISE(ABORT, 'endpoint grants are for Harvest keys only');
END;
COMMIT;
PRAGMA foreign_keys = ON;
