-- Back to v1/v2 keys only: v3 credentials and every secret but the current one are lost.
DROP TRIGGER credential_scopes_v3_only ON credential_scopes;
DROP FUNCTION credential_scopes_v3_only();
DROP TABLE credential_scopes;
DROP TRIGGER client_application_scopes_from_catalogue ON client_application_scopes;
DROP FUNCTION client_application_scopes_from_catalogue();
DROP TABLE client_application_scopes;
DELETE FROM credentials WHERE api_type = 'harvest_v3';
DELETE FROM credential_usage WHERE endpoint_id IN (SELECT id FROM endpoints WHERE scope IS NOT NULL);
DELETE FROM endpoints WHERE scope IS NOT NULL;
ALTER TABLE endpoints DROP COLUMN scope;
CREATE OR REPLACE FUNCTION credential_endpoints_harvest_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT api_type FROM credentials WHERE id = NEW.credential_id) <> 'harvest' THEN
        RAISE EXCEPTION 'endpoint grants are for Harvest keys only';
    END IF;
    RETURN NEW;
END;
$$;
ALTER TABLE credentials ADD COLUMN key_hash BYTEA, ADD COLUMN key_prefix TEXT, ADD COLUMN key_last4 TEXT;
UPDATE credentials c SET key_hash = s.secret_hash, key_prefix = s.secret_prefix, key_last4 = s.secret_last4
FROM credential_secrets s WHERE s.credential_id = c.id AND s.ends_at IS NULL;
ALTER TABLE credentials ALTER COLUMN key_hash SET NOT NULL, ALTER COLUMN key_prefix SET NOT NULL, ALTER COLUMN key_last4 SET NOT NULL,
    ADD CONSTRAINT credentials_key_hash_key UNIQUE (key_hash);
DROP TABLE credential_secrets;
ALTER TABLE credentials DROP COLUMN trusted_ips, DROP COLUMN client_id;
ALTER TABLE credentials DROP CONSTRAINT credentials_api_type_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_api_type_check CHECK (api_type IN ('harvest', 'job_board', 'partner'));
