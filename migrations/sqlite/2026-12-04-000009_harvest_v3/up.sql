-- Harvest v3 (OAuth) credentials beside the v1/v2 keys.
--
-- * A credential may have several secrets: its current one and, after a rotation, older
--   ones that keep working until their overlap ends. The key (v1/v2) or client secret (v3)
--   moves out of `credentials` into `credential_secrets`.
-- * A v3 credential has a public client ID and is granted scopes, not endpoints.
-- * Every credential may be limited to trusted addresses.
-- * The v3 catalogue joins the endpoints, each with the scope that opens it.
--
-- SQLite cannot change a table's CHECK constraints in place, so `credentials` is rebuilt
-- (https://www.sqlite.org/lang_altertable.html, "other kinds of table schema changes").
-- That needs foreign keys off, which SQLite only allows outside a transaction: this
-- migration runs outside diesel's transaction (metadata.toml) and opens its own.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

-- The trigger reads `credentials`; it is dropped while the table is replaced.
DROP TRIGGER credential_endpoints_harvest_only;

CREATE TABLE credentials_rebuilt (
    id                    INTEGER PRIMARY KEY NOT NULL,
    description           TEXT NOT NULL CHECK (length(trim(description)) BETWEEN 1 AND 255),
    api_type              TEXT NOT NULL CHECK (api_type IN ('harvest', 'harvest_v3', 'job_board', 'partner', 'oauth_client')),
    client_application_id INTEGER REFERENCES client_applications (id),
    -- The public half of the client credentials of a v3 credential or of a client
    -- application's OAuth client (the partner flow).
    client_id             TEXT UNIQUE CHECK (client_id IS NULL OR length(client_id) BETWEEN 16 AND 64),
    -- One address or CIDR per line, as parsed and written back by the app; empty: anywhere.
    trusted_ips           TEXT NOT NULL DEFAULT '' CHECK (length(trusted_ips) <= 8000),
    created_by            INTEGER NOT NULL REFERENCES users (id),
    created_at            TIMESTAMP NOT NULL,
    revoked_at            TIMESTAMP,
    revoked_by            INTEGER REFERENCES users (id),
    last_used_at          TIMESTAMP,
    CHECK (api_type <> 'partner' OR client_application_id IS NOT NULL),
    CHECK (api_type <> 'job_board' OR client_application_id IS NULL),
    CHECK (api_type <> 'oauth_client' OR client_application_id IS NOT NULL),
    CHECK ((api_type IN ('harvest_v3', 'oauth_client')) = (client_id IS NOT NULL)),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);

CREATE TABLE credential_secrets (
    id            INTEGER PRIMARY KEY NOT NULL,
    credential_id INTEGER NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    -- BLAKE3 of the key or client secret; the text itself is never stored.
    secret_hash   BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    secret_prefix TEXT NOT NULL,
    secret_last4  TEXT NOT NULL CHECK (length(secret_last4) = 4),
    created_at    TIMESTAMP NOT NULL,
    -- NULL: the credential's current secret. Otherwise the secret was rotated out and
    -- works until then (an overlap that ended is in the past).
    ends_at       TIMESTAMP,
    last_used_at  TIMESTAMP
);
-- Exactly one current secret per credential at most.
CREATE UNIQUE INDEX credential_secrets_one_current ON credential_secrets (credential_id) WHERE ends_at IS NULL;
CREATE INDEX credential_secrets_of_credential ON credential_secrets (credential_id, id);

INSERT INTO credentials_rebuilt
    (id, description, api_type, client_application_id, created_by, created_at, revoked_at, revoked_by, last_used_at)
SELECT id, description, api_type, client_application_id, created_by, created_at, revoked_at, revoked_by, last_used_at
FROM credentials;

INSERT INTO credential_secrets (credential_id, secret_hash, secret_prefix, secret_last4, created_at, last_used_at)
SELECT id, key_hash, key_prefix, key_last4, created_at, last_used_at FROM credentials;

DROP TABLE credentials;
ALTER TABLE credentials_rebuilt RENAME TO credentials;
CREATE INDEX credentials_newest_first ON credentials (created_at DESC, id DESC);

-- The v3 catalogue: each endpoint names the scope that opens it; v1/v2 endpoints have none.
ALTER TABLE endpoints ADD COLUMN scope TEXT CHECK (scope IS NULL OR scope GLOB 'harvest:*:*');
CREATE INDEX endpoints_by_scope ON endpoints (scope) WHERE scope IS NOT NULL;

-- Only Harvest v1/v2 keys are granted endpoints, and only v1/v2 endpoints.
CREATE TRIGGER credential_endpoints_harvest_only
BEFORE INSERT ON credential_endpoints
WHEN (SELECT api_type FROM credentials WHERE id = NEW.credential_id) <> 'harvest'
  OR (SELECT scope FROM endpoints WHERE id = NEW.endpoint_id) IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'endpoint grants are for Harvest keys and v1/v2 endpoints only');
END;

-- The scopes a Harvest v3 credential is granted.
CREATE TABLE credential_scopes (
    credential_id INTEGER NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    scope         TEXT NOT NULL,
    PRIMARY KEY (credential_id, scope)
) WITHOUT ROWID;

CREATE TRIGGER credential_scopes_v3_only
BEFORE INSERT ON credential_scopes
WHEN (SELECT api_type FROM credentials WHERE id = NEW.credential_id) <> 'harvest_v3'
  OR NOT EXISTS (SELECT 1 FROM endpoints WHERE scope = NEW.scope)
BEGIN
    SELECT RAISE(ABORT, 'scopes are for Harvest v3 credentials, from the v3 catalogue');
END;

-- The scopes a client application (a partner integration) asks for: granted to a v3
-- credential made for it, as its preset endpoints are to a Harvest key.
CREATE TABLE client_application_scopes (
    client_application_id INTEGER NOT NULL REFERENCES client_applications (id) ON DELETE CASCADE,
    scope                 TEXT NOT NULL,
    PRIMARY KEY (client_application_id, scope)
) WITHOUT ROWID;

CREATE TRIGGER client_application_scopes_from_catalogue
BEFORE INSERT ON client_application_scopes
WHEN NOT EXISTS (SELECT 1 FROM endpoints WHERE scope = NEW.scope)
BEGIN
    SELECT RAISE(ABORT, 'client applications ask for scopes of the v3 catalogue');
END;

-- The Harvest v3 catalogue (162 endpoints, 147 scopes) from ../shared/reference/harvest-v3-endpoints.tsv,
-- in its order. Ids start at 1001 so the v1/v2 catalogue keeps room below.
INSERT INTO endpoints (id, resource, method, name, path, scope) VALUES
    (1001, 'Application stages', 'GET', 'List application stages', '/v3/application_stages', 'harvest:application_stages:list'),
    (1002, 'Applications', 'GET', 'List applications', '/v3/applications', 'harvest:applications:list'),
    (1003, 'Applications', 'POST', 'Create application (candidate or prospect)', '/v3/applications', 'harvest:applications:create'),
    (1004, 'Applications', 'DELETE', 'Delete application', '/v3/applications/{id}', 'harvest:applications:destroy'),
    (1005, 'Applications', 'PATCH', 'Update application', '/v3/applications/{id}', 'harvest:applications:update'),
    (1006, 'Applications', 'POST', 'Convert prospect application to candidate', '/v3/applications/{id}/convert_to_candidate', 'harvest:applications:convert_to_candidate'),
    (1007, 'Applications', 'POST', 'Hire application', '/v3/applications/{id}/hire', 'harvest:applications:hire'),
    (1008, 'Applications', 'POST', 'Move application (advance stage or transfer job)', '/v3/applications/{id}/move', 'harvest:applications:move'),
    (1009, 'Applications', 'POST', 'Reject application', '/v3/applications/{id}/reject', 'harvest:applications:reject'),
    (1010, 'Applications', 'POST', 'Unreject application', '/v3/applications/{id}/unreject', 'harvest:applications:unreject'),
    (1011, 'Applied candidate tags', 'GET', 'List applied candidate tags', '/v3/applied_candidate_tags', 'harvest:applied_candidate_tags:list'),
    (1012, 'Applied candidate tags', 'POST', 'Apply tag to candidate', '/v3/applied_candidate_tags', 'harvest:applied_candidate_tags:create'),
    (1013, 'Applied candidate tags', 'DELETE', 'Remove applied candidate tag', '/v3/applied_candidate_tags/{id}', 'harvest:applied_candidate_tags:destroy'),
    (1014, 'Approval flows', 'GET', 'List approval flows', '/v3/approval_flows', 'harvest:approval_flows:list'),
    (1015, 'Approval flows', 'POST', 'Create approval flow', '/v3/approval_flows', 'harvest:approval_flows:create'),
    (1016, 'Approval flows', 'PATCH', 'Update approval flow', '/v3/approval_flows/{id}', 'harvest:approval_flows:update'),
    (1017, 'Approval flows', 'PUT', 'Replace approver groups', '/v3/approval_flows/{id}/replace_approver_groups', 'harvest:approval_flows:replace_approver_groups'),
    (1018, 'Approval flows', 'POST', 'Request approvals (emails approvers)', '/v3/approval_flows/{id}/request_approvals', 'harvest:approval_flows:request_approvals'),
    (1019, 'Approver groups', 'GET', 'List approver groups', '/v3/approver_groups', 'harvest:approver_groups:list'),
    (1020, 'Approver groups', 'PUT', 'Replace approver in approver group', '/v3/approver_groups/{id}/replace_approver', 'harvest:approver_groups:replace_approver'),
    (1021, 'Approvers', 'GET', 'List approvers', '/v3/approvers', 'harvest:approvers:list'),
    (1022, 'Attachments', 'GET', 'List attachments', '/v3/attachments', 'harvest:attachments:list'),
    (1023, 'Attachments', 'POST', 'Create attachment', '/v3/attachments', 'harvest:attachments:create'),
    (1024, 'Attachments', 'DELETE', 'Delete attachment', '/v3/attachments/{id}', 'harvest:attachments:destroy'),
    (1025, 'Blocked spam sources', 'GET', 'List blocked spam sources', '/v3/blocked_spam_sources', 'harvest:blocked_spam_sources:list'),
    (1026, 'Blocked spam sources', 'POST', 'Create blocked spam source', '/v3/blocked_spam_sources', 'harvest:blocked_spam_sources:create'),
    (1027, 'Blocked spam sources', 'DELETE', 'Bulk delete blocked spam sources', '/v3/blocked_spam_sources/bulk', 'harvest:blocked_spam_sources:destroy'),
    (1028, 'Blocked spam sources', 'PATCH', 'Bulk update blocked spam sources', '/v3/blocked_spam_sources/bulk', 'harvest:blocked_spam_sources:update'),
    (1029, 'Blocked spam sources', 'POST', 'Bulk create blocked spam sources', '/v3/blocked_spam_sources/bulk', 'harvest:blocked_spam_sources:create'),
    (1030, 'Blocked spam sources', 'DELETE', 'Delete blocked spam source', '/v3/blocked_spam_sources/{id}', 'harvest:blocked_spam_sources:destroy'),
    (1031, 'Blocked spam sources', 'PATCH', 'Update blocked spam source', '/v3/blocked_spam_sources/{id}', 'harvest:blocked_spam_sources:update'),
    (1032, 'Bulk requests', 'GET', 'Bulk requests', '/v3/bulk_requests', 'harvest:bulk_requests:list'),
    (1033, 'Bulk requests', 'GET', 'Bulk request (single)', '/v3/bulk_requests/{bulk_action_uuid}', 'harvest:bulk_requests:list'),
    (1034, 'Candidate attribute types', 'GET', 'List candidate attribute types', '/v3/candidate_attribute_types', 'harvest:candidate_attribute_types:list'),
    (1035, 'Candidate educations', 'GET', 'List candidate educations', '/v3/candidate_educations', 'harvest:candidate_educations:list'),
    (1036, 'Candidate educations', 'POST', 'Create candidate education', '/v3/candidate_educations', 'harvest:candidate_educations:create'),
    (1037, 'Candidate educations', 'DELETE', 'Delete candidate education', '/v3/candidate_educations/{id}', 'harvest:candidate_educations:destroy'),
    (1038, 'Candidate employments', 'GET', 'List candidate employments', '/v3/candidate_employments', 'harvest:candidate_employments:list'),
    (1039, 'Candidate employments', 'POST', 'Create candidate employment', '/v3/candidate_employments', 'harvest:candidate_employments:create'),
    (1040, 'Candidate employments', 'DELETE', 'Delete candidate employment', '/v3/candidate_employments/{id}', 'harvest:candidate_employments:destroy'),
    (1041, 'Candidate tags', 'GET', 'List candidate tags', '/v3/candidate_tags', 'harvest:candidate_tags:list'),
    (1042, 'Candidate tags', 'POST', 'Create candidate tag', '/v3/candidate_tags', 'harvest:candidate_tags:create'),
    (1043, 'Candidate tags', 'DELETE', 'Delete candidate tag', '/v3/candidate_tags/{id}', 'harvest:candidate_tags:destroy'),
    (1044, 'Candidates', 'GET', 'List candidates', '/v3/candidates', 'harvest:candidates:list'),
    (1045, 'Candidates', 'POST', 'Create candidate', '/v3/candidates', 'harvest:candidates:create'),
    (1046, 'Candidates', 'DELETE', 'Delete candidate', '/v3/candidates/{id}', 'harvest:candidates:destroy'),
    (1047, 'Candidates', 'PATCH', 'Update candidate', '/v3/candidates/{id}', 'harvest:candidates:update'),
    (1048, 'Candidates', 'PATCH', 'Anonymize candidate', '/v3/candidates/{id}/anonymize', 'harvest:candidates:anonymize'),
    (1049, 'Candidates', 'POST', 'Merge candidates', '/v3/candidates/{id}/merge', 'harvest:candidates:merge'),
    (1050, 'Close reasons', 'GET', 'List close reasons', '/v3/close_reasons', 'harvest:close_reasons:list'),
    (1051, 'Custom field departments', 'GET', 'List custom field departments', '/v3/custom_field_departments', 'harvest:custom_field_departments:list'),
    (1052, 'Custom field departments', 'POST', 'Create custom field department', '/v3/custom_field_departments', 'harvest:custom_field_departments:create'),
    (1053, 'Custom field departments', 'DELETE', 'Delete custom field department', '/v3/custom_field_departments/{id}', 'harvest:custom_field_departments:destroy'),
    (1054, 'Custom field offices', 'GET', 'List custom field offices', '/v3/custom_field_offices', 'harvest:custom_field_offices:list'),
    (1055, 'Custom field offices', 'POST', 'Create custom field office', '/v3/custom_field_offices', 'harvest:custom_field_offices:create'),
    (1056, 'Custom field offices', 'DELETE', 'Delete custom field office', '/v3/custom_field_offices/{id}', 'harvest:custom_field_offices:destroy'),
    (1057, 'Custom field options', 'GET', 'List custom field options', '/v3/custom_field_options', 'harvest:custom_field_options:list'),
    (1058, 'Custom field options', 'POST', 'Create custom field option', '/v3/custom_field_options', 'harvest:custom_field_options:create'),
    (1059, 'Custom field options', 'DELETE', 'Bulk delete (archive) custom field options', '/v3/custom_field_options/bulk', 'harvest:custom_field_options:destroy'),
    (1060, 'Custom field options', 'PATCH', 'Bulk update custom field options', '/v3/custom_field_options/bulk', 'harvest:custom_field_options:update'),
    (1061, 'Custom field options', 'POST', 'Bulk create custom field options', '/v3/custom_field_options/bulk', 'harvest:custom_field_options:create'),
    (1062, 'Custom field options', 'DELETE', 'Delete (archive) custom field option', '/v3/custom_field_options/{id}', 'harvest:custom_field_options:destroy'),
    (1063, 'Custom field options', 'PATCH', 'Update custom field option', '/v3/custom_field_options/{id}', 'harvest:custom_field_options:update'),
    (1064, 'Custom fields', 'GET', 'List custom fields', '/v3/custom_fields', 'harvest:custom_fields:list'),
    (1065, 'Custom fields', 'POST', 'Create custom field', '/v3/custom_fields', 'harvest:custom_fields:create'),
    (1066, 'Custom fields', 'DELETE', 'Delete custom field', '/v3/custom_fields/{id}', 'harvest:custom_fields:destroy'),
    (1067, 'Custom fields', 'PATCH', 'Update custom field', '/v3/custom_fields/{id}', 'harvest:custom_fields:update'),
    (1068, 'Default interviewers', 'GET', 'List default interviewers', '/v3/default_interviewers', 'harvest:default_interviewers:list'),
    (1069, 'Demographic answer options', 'GET', 'List demographic answer options', '/v3/demographic_answer_options', 'harvest:demographic_answer_options:list'),
    (1070, 'Demographic answers', 'GET', 'List demographic answers', '/v3/demographic_answers', 'harvest:demographic_answers:list'),
    (1071, 'Demographic question sets', 'GET', 'List demographic question sets', '/v3/demographic_question_sets', 'harvest:demographic_question_sets:list'),
    (1072, 'Demographic questions', 'GET', 'List demographic questions', '/v3/demographic_questions', 'harvest:demographic_questions:list'),
    (1073, 'Departments', 'GET', 'List departments', '/v3/departments', 'harvest:departments:list'),
    (1074, 'Departments', 'POST', 'Create department', '/v3/departments', 'harvest:departments:create'),
    (1075, 'Departments', 'PATCH', 'Bulk update departments', '/v3/departments/bulk', 'harvest:departments:update'),
    (1076, 'Departments', 'PATCH', 'Update department', '/v3/departments/{id}', 'harvest:departments:update'),
    (1077, 'Eeoc', 'GET', 'List EEOC', '/v3/eeoc', 'harvest:eeoc:list'),
    (1078, 'Email templates', 'GET', 'List email templates', '/v3/email_templates', 'harvest:email_templates:list'),
    (1079, 'Focus candidate attributes', 'GET', 'List focus candidate attributes', '/v3/focus_candidate_attributes', 'harvest:focus_candidate_attributes:list'),
    (1080, 'Future job permissions', 'GET', 'List future job permissions', '/v3/future_job_permissions', 'harvest:future_job_permissions:list'),
    (1081, 'Future job permissions', 'POST', 'Create future job permission', '/v3/future_job_permissions', 'harvest:future_job_permissions:create'),
    (1082, 'Future job permissions', 'DELETE', 'Delete future job permission', '/v3/future_job_permissions/{id}', 'harvest:future_job_permissions:destroy'),
    (1083, 'Interview kits', 'GET', 'List interview kits', '/v3/interview_kits', 'harvest:interview_kits:list'),
    (1084, 'Interviewer tags', 'GET', 'List interviewer tags', '/v3/interviewer_tags', 'harvest:interviewer_tags:list'),
    (1085, 'Interviewers', 'GET', 'List interviewers', '/v3/interviewers', 'harvest:interviewers:list'),
    (1086, 'Interviews', 'GET', 'List interviews', '/v3/interviews', 'harvest:interviews:list'),
    (1087, 'Interviews', 'POST', 'Create interview (records an already-scheduled calendar event)', '/v3/interviews', 'harvest:interviews:create'),
    (1088, 'Interviews', 'DELETE', 'Delete interview', '/v3/interviews/{id}', 'harvest:interviews:destroy'),
    (1089, 'Interviews', 'PATCH', 'Update interview', '/v3/interviews/{id}', 'harvest:interviews:update'),
    (1090, 'Job board custom locations', 'GET', 'List job board custom locations', '/v3/job_board_custom_locations', 'harvest:job_board_custom_locations:list'),
    (1091, 'Job boards', 'GET', 'List job boards', '/v3/job_boards', 'harvest:job_boards:list'),
    (1092, 'Job candidate attributes', 'GET', 'List job candidate attributes', '/v3/job_candidate_attributes', 'harvest:job_candidate_attributes:list'),
    (1093, 'Job hiring managers', 'GET', 'List job hiring managers', '/v3/job_hiring_managers', 'harvest:job_hiring_managers:list'),
    (1094, 'Job hiring managers', 'POST', 'Create job hiring manager', '/v3/job_hiring_managers', 'harvest:job_hiring_managers:create'),
    (1095, 'Job hiring managers', 'DELETE', 'Delete job hiring manager', '/v3/job_hiring_managers/{id}', 'harvest:job_hiring_managers:destroy'),
    (1096, 'Job interview stages', 'GET', 'List job interview stages', '/v3/job_interview_stages', 'harvest:job_interview_stages:list'),
    (1097, 'Job interviews', 'GET', 'List job interviews', '/v3/job_interviews', 'harvest:job_interviews:list'),
    (1098, 'Job notes', 'GET', 'List job notes', '/v3/job_notes', 'harvest:job_notes:list'),
    (1099, 'Job notes', 'POST', 'Create job note', '/v3/job_notes', 'harvest:job_notes:create'),
    (1100, 'Job notes', 'DELETE', 'Delete job note', '/v3/job_notes/{id}', 'harvest:job_notes:destroy'),
    (1101, 'Job notes', 'PATCH', 'Update job note', '/v3/job_notes/{id}', 'harvest:job_notes:update'),
    (1102, 'Job owners', 'GET', 'List job owners', '/v3/job_owners', 'harvest:job_owners:list'),
    (1103, 'Job owners', 'POST', 'Create job owner', '/v3/job_owners', 'harvest:job_owners:create'),
    (1104, 'Job owners', 'DELETE', 'Delete job owner', '/v3/job_owners/{id}', 'harvest:job_owners:destroy'),
    (1105, 'Job post locations', 'GET', 'List job post locations', '/v3/job_post_locations', 'harvest:job_post_locations:list'),
    (1106, 'Job post locations', 'POST', 'Create job post location', '/v3/job_post_locations', 'harvest:job_post_locations:create'),
    (1107, 'Job post locations', 'DELETE', 'Delete job post location', '/v3/job_post_locations/{id}', 'harvest:job_post_locations:destroy'),
    (1108, 'Job post searchable locations', 'GET', 'List job post searchable locations', '/v3/job_post_searchable_locations', 'harvest:job_post_searchable_locations:list'),
    (1109, 'Job posts', 'GET', 'List job posts', '/v3/job_posts', 'harvest:job_posts:list'),
    (1110, 'Job posts', 'POST', 'Create job post', '/v3/job_posts', 'harvest:job_posts:create'),
    (1111, 'Job posts', 'PATCH', 'Update job post', '/v3/job_posts/{id}', 'harvest:job_posts:update'),
    (1112, 'Jobs', 'GET', 'List jobs', '/v3/jobs', 'harvest:jobs:list'),
    (1113, 'Jobs', 'POST', 'Create job', '/v3/jobs', 'harvest:jobs:create'),
    (1114, 'Jobs', 'POST', 'Bulk create jobs', '/v3/jobs/bulk', 'harvest:jobs:create'),
    (1115, 'Jobs', 'PATCH', 'Update job', '/v3/jobs/{id}', 'harvest:jobs:update'),
    (1116, 'Notes', 'GET', 'List notes', '/v3/notes', 'harvest:notes:list'),
    (1117, 'Notes', 'POST', 'Create note', '/v3/notes', 'harvest:notes:create'),
    (1118, 'Offers', 'GET', 'List offers', '/v3/offers', 'harvest:offers:list'),
    (1119, 'Offers', 'POST', 'Create offer', '/v3/offers', 'harvest:offers:create'),
    (1120, 'Offers', 'PATCH', 'Update offer', '/v3/offers/{id}', 'harvest:offers:update'),
    (1121, 'Offices', 'GET', 'List offices', '/v3/offices', 'harvest:offices:list'),
    (1122, 'Offices', 'POST', 'Create office', '/v3/offices', 'harvest:offices:create'),
    (1123, 'Offices', 'PATCH', 'Bulk update offices', '/v3/offices/bulk', 'harvest:offices:update'),
    (1124, 'Offices', 'PATCH', 'Update office', '/v3/offices/{id}', 'harvest:offices:update'),
    (1125, 'Openings', 'GET', 'List openings', '/v3/openings', 'harvest:openings:list'),
    (1126, 'Openings', 'POST', 'Create opening', '/v3/openings', 'harvest:openings:create'),
    (1127, 'Openings', 'DELETE', 'Bulk delete openings', '/v3/openings/bulk', 'harvest:openings:destroy'),
    (1128, 'Openings', 'PATCH', 'Bulk update openings', '/v3/openings/bulk', 'harvest:openings:update'),
    (1129, 'Openings', 'POST', 'Bulk create openings', '/v3/openings/bulk', 'harvest:openings:create'),
    (1130, 'Openings', 'DELETE', 'Delete opening', '/v3/openings/{id}', 'harvest:openings:destroy'),
    (1131, 'Openings', 'PATCH', 'Update opening', '/v3/openings/{id}', 'harvest:openings:update'),
    (1132, 'Pay input ranges', 'GET', 'List pay input ranges', '/v3/pay_input_ranges', 'harvest:pay_input_ranges:list'),
    (1133, 'Pay inputs', 'GET', 'List pay inputs', '/v3/pay_inputs', 'harvest:pay_inputs:list'),
    (1134, 'Prospect details', 'GET', 'List prospect details', '/v3/prospect_details', 'harvest:prospect_details:list'),
    (1135, 'Prospect pool stages', 'GET', 'List prospect pool stages', '/v3/prospect_pool_stages', 'harvest:prospect_pool_stages:list'),
    (1136, 'Prospect pools', 'GET', 'List prospect pools', '/v3/prospect_pools', 'harvest:prospect_pools:list'),
    (1137, 'Referrers', 'GET', 'List referrers', '/v3/referrers', 'harvest:referrers:list'),
    (1138, 'Rejection details', 'GET', 'List rejection details', '/v3/rejection_details', 'harvest:rejection_details:list'),
    (1139, 'Rejection details', 'PATCH', 'Update rejection details', '/v3/rejection_details/{id}', 'harvest:rejection_details:update'),
    (1140, 'Rejection reasons', 'GET', 'List rejection reasons', '/v3/rejection_reasons', 'harvest:rejection_reasons:list'),
    (1141, 'Rejection reasons', 'GET', 'Retrieve rejection reason', '/v3/rejection_reasons/{id}', 'harvest:rejection_reasons:list'),
    (1142, 'Scorecard candidate attributes', 'GET', 'List scorecard candidate attributes', '/v3/scorecard_candidate_attributes', 'harvest:scorecard_candidate_attributes:list'),
    (1143, 'Scorecard question answer options', 'GET', 'List scorecard question answer options', '/v3/scorecard_question_answer_options', 'harvest:scorecard_question_answer_options:list'),
    (1144, 'Scorecard question answers', 'GET', 'List scorecard question answers', '/v3/scorecard_question_answers', 'harvest:scorecard_question_answers:list'),
    (1145, 'Scorecard question candidate attributes', 'GET', 'List scorecard question candidate attributes', '/v3/scorecard_question_candidate_attributes', 'harvest:scorecard_question_candidate_attributes:list'),
    (1146, 'Scorecard question options', 'GET', 'List scorecard question options', '/v3/scorecard_question_options', 'harvest:scorecard_question_options:list'),
    (1147, 'Scorecard questions', 'GET', 'List scorecard questions', '/v3/scorecard_questions', 'harvest:scorecard_questions:list'),
    (1148, 'Scorecards', 'GET', 'List scorecards', '/v3/scorecards', 'harvest:scorecards:list'),
    (1149, 'Sources', 'GET', 'List sources', '/v3/sources', 'harvest:sources:list'),
    (1150, 'Tracking links', 'GET', 'List tracking links', '/v3/tracking_links', 'harvest:tracking_links:list'),
    (1151, 'User emails', 'GET', 'List user emails', '/v3/user_emails', 'harvest:user_emails:list'),
    (1152, 'User emails', 'POST', 'Create user email', '/v3/user_emails', 'harvest:user_emails:create'),
    (1153, 'User job permissions', 'GET', 'List user job permissions', '/v3/user_job_permissions', 'harvest:user_job_permissions:list'),
    (1154, 'User job permissions', 'POST', 'Create user job permission', '/v3/user_job_permissions', 'harvest:user_job_permissions:create'),
    (1155, 'User job permissions', 'DELETE', 'Delete user job permission', '/v3/user_job_permissions/{id}', 'harvest:user_job_permissions:destroy'),
    (1156, 'User roles', 'GET', 'List user roles', '/v3/user_roles', 'harvest:user_roles:list'),
    (1157, 'Users', 'GET', 'List users', '/v3/users', 'harvest:users:list'),
    (1158, 'Users', 'POST', 'Bulk activate users', '/v3/users/activate/bulk', 'harvest:users:activate'),
    (1159, 'Users', 'PATCH', 'Bulk update users', '/v3/users/bulk', 'harvest:users:update'),
    (1160, 'Users', 'POST', 'Bulk create users', '/v3/users/bulk', 'harvest:users:create'),
    (1161, 'Users', 'POST', 'Bulk deactivate users', '/v3/users/deactivate/bulk', 'harvest:users:deactivate'),
    (1162, 'Users', 'PATCH', 'Update user', '/v3/users/{id}', 'harvest:users:update');

COMMIT;
PRAGMA foreign_keys = ON;
