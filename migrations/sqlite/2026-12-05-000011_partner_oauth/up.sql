-- Partner integrations connect with OAuth (authorization code): a client application's
-- redirect URIs; each authorization a person gives it (an integration); the one-minute
-- codes; and the token families (the tokens issued from one code, refreshed in turn).
-- The partner's client ID and secrets are a credential of type 'oauth_client' made for
-- the client application, so rotation, trusted IPs, revoking and the request log are
-- those of every credential.

-- One exact redirect URI per line, as the app checked and wrote them.
ALTER TABLE client_applications ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT ''
    CHECK (length(redirect_uris) <= 8000);

CREATE TABLE integrations (
    id              INTEGER PRIMARY KEY NOT NULL,
    -- The partner's OAuth client (a credential of type 'oauth_client').
    credential_id   INTEGER NOT NULL REFERENCES credentials (id),
    authorized_by   INTEGER NOT NULL REFERENCES users (id),
    -- Acting as the organization's service account of this integration, or else as the
    -- person who authorized it.
    service_account BOOLEAN NOT NULL,
    -- The scopes consented to, space separated.
    scopes          TEXT NOT NULL CHECK (length(scopes) <= 20000),
    created_at      TIMESTAMP NOT NULL,
    last_used_at    TIMESTAMP,
    disconnected_at TIMESTAMP,
    -- NULL when the integration stopped by itself (its authorizer lost the right to act).
    disconnected_by INTEGER REFERENCES users (id),
    CHECK (disconnected_at IS NOT NULL OR disconnected_by IS NULL)
);
CREATE INDEX integrations_newest_first ON integrations (created_at DESC, id DESC);

-- Only a client application's OAuth client is authorized by people.
CREATE TRIGGER integrations_of_oauth_clients
BEFORE INSERT ON integrations
WHEN (SELECT api_type FROM credentials WHERE id = NEW.credential_id) <> 'oauth_client'
BEGIN
    SELECT RAISE(ABORT, 'integrations are authorizations of OAuth clients');
END;

-- The tokens issued from one authorization code: revoked together when the code or one
-- of its refresh tokens is presented twice, or the integration is disconnected.
CREATE TABLE token_families (
    id             INTEGER PRIMARY KEY NOT NULL,
    integration_id INTEGER NOT NULL REFERENCES integrations (id),
    created_at     TIMESTAMP NOT NULL,
    revoked_at     TIMESTAMP
);
CREATE INDEX token_families_of_integration ON token_families (integration_id);

-- Codes live a minute and are used once; only their BLAKE3 hash is kept.
CREATE TABLE authorization_codes (
    code_hash      BLOB PRIMARY KEY NOT NULL CHECK (length(code_hash) = 32),
    integration_id INTEGER NOT NULL REFERENCES integrations (id),
    redirect_uri   TEXT NOT NULL,
    -- PKCE S256: base64url of the SHA-256 of the verifier, when the request carried one.
    code_challenge TEXT CHECK (code_challenge IS NULL OR length(code_challenge) = 43),
    expires_at     TIMESTAMP NOT NULL,
    used_at        TIMESTAMP,
    -- The family its exchange started, revoked if the code comes back.
    family_id      INTEGER REFERENCES token_families (id),
    CHECK ((used_at IS NULL) = (family_id IS NULL))
) WITHOUT ROWID;

-- Refresh tokens: opaque, hashed, each used once (rotated on every use).
CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    family_id  INTEGER NOT NULL REFERENCES token_families (id),
    issued_at  TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_of_family ON refresh_tokens (family_id);

INSERT INTO audit_actions (action) VALUES
    ('integration_connected'),
    ('integration_disconnected'),
    ('integration_tokens_revoked'),
    ('client_application_oauth_changed');
INSERT INTO audit_object_kinds (object_type) VALUES ('integration');
