DROP TABLE credential_usage;
