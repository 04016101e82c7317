-- Back to no partner flow: every integration and its tokens are forgotten.
DROP TABLE refresh_tokens;
DROP TABLE authorization_codes;
DROP TABLE token_families;
DROP TABLE integrations;
DROP FUNCTION integrations_of_oauth_clients();
ALTER TABLE client_applications DROP COLUMN redirect_uris;
DELETE FROM audit_actions WHERE action IN ('integration_connected', 'integration_disconnected',
    'integration_tokens_revoked', 'client_application_oauth_changed');
DELETE FROM audit_object_kinds WHERE object_type = 'integration';
