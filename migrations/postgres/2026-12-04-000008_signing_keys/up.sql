-- The Ed25519 keys that sign Harvest v3 (OAuth) access tokens. The private half is sealed
-- (XChaCha20-Poly1305: a 24-byte nonce, then the ciphertext and its tag) with the sealing
-- key kept outside the database, so a copy of the database alone signs nothing. A key
-- replaced by a newer one is retired, and stays published until every token it signed has
-- expired.
CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    public_key         BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
    sealed_private_key BYTEA NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    retired_at         TIMESTAMP
);
