-- The whole Dev Center schema: people, partners, keys and what each key may reach.
-- Constraints and triggers keep impossible states out of the file, whatever code writes it.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(trim(email)) AND length(email) BETWEEN 3 AND 254),
    name          TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 255),
    password_hash TEXT NOT NULL,
    level         TEXT NOT NULL CHECK (level IN ('basic', 'job_admin', 'site_admin')),
    disabled      BOOLEAN NOT NULL DEFAULT 0,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE user_permissions (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission TEXT NOT NULL CHECK (permission IN ('manage_job_board_credentials', 'manage_all_credentials', 'manage_webhooks')),
    PRIMARY KEY (user_id, permission)
) WITHOUT ROWID;

CREATE TABLE endpoints (
    id       INTEGER PRIMARY KEY NOT NULL,
    resource TEXT NOT NULL,
    method   TEXT NOT NULL CHECK (method IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
    name     TEXT NOT NULL,
    path     TEXT NOT NULL,
    UNIQUE (method, path)
);

CREATE TABLE client_applications (
    id         INTEGER PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE CHECK (length(trim(name)) BETWEEN 1 AND 255),
    active     BOOLEAN NOT NULL DEFAULT 1,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE client_application_endpoints (
    client_application_id INTEGER NOT NULL REFERENCES client_applications (id) ON DELETE CASCADE,
    endpoint_id           INTEGER NOT NULL REFERENCES endpoints (id),
    PRIMARY KEY (client_application_id, endpoint_id)
) WITHOUT ROWID;

CREATE TABLE credentials (
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
CREATE INDEX credentials_newest_first ON credentials (created_at DESC, id DESC);

CREATE TABLE credential_endpoints (
    credential_id INTEGER NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    endpoint_id   INTEGER NOT NULL REFERENCES endpoints (id),
    PRIMARY KEY (credential_id, endpoint_id)
) WITHOUT ROWID;

-- Only Harvest keys are granted endpoints.
CREATE TRIGGER credential_endpoints_harvest_only
BEFORE INSERT ON credential_endpoints
WHEN (SELECT api_type FROM credentials WHERE id = NEW.credential_id) <> 'harvest'
BEGIN
    SELECT RAISE(ABORT, 'endpoint grants are for Harvest keys only');
END;

-- Server-side sessions for actix-session; the id is the BLAKE3 hash of the cookie's key.
CREATE TABLE sessions (
    id         BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 32),
    state      TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Secrets the server makes for itself on first start (the session cookie's signing key).
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) WITHOUT ROWID;
