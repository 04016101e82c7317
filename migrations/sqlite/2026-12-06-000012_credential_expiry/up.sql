-- Credentials may expire: each its own date, within the organization's longest lifetime
-- when a Site Admin sets one (Dev Center settings).

-- The first moment the credential no longer works (UTC); NULL: it never expires.
ALTER TABLE credentials ADD COLUMN expires_at TIMESTAMP;

-- Dev Center's organization-wide settings: one row.
CREATE TABLE dev_center_settings (
    id                INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    -- The longest a new credential (or a changed expiry) may live, in days; NULL: no limit.
    max_lifetime_days INTEGER CHECK (max_lifetime_days IS NULL OR max_lifetime_days BETWEEN 1 AND 3650)
);
INSERT INTO dev_center_settings (id, max_lifetime_days) VALUES (1, NULL);

INSERT INTO audit_actions (action) VALUES
    ('credential_expiry_changed'),
    ('dev_center_settings_changed');
INSERT INTO audit_object_kinds (object_type) VALUES ('dev_center_settings');
