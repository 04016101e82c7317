// @generated automatically by Diesel CLI.

diesel::table! {
    audit_events (id) {
        id -> Integer,
        occurred_at -> Timestamp,
        actor_id -> Nullable<Integer>,
        actor_name -> Text,
        actor_address -> Nullable<Text>,
        action -> Text,
        object_type -> Text,
        object_id -> Nullable<Integer>,
        object_label -> Text,
        summary -> Text,
        details -> Text,
    }
}

diesel::table! {
    client_application_endpoints (client_application_id, endpoint_id) {
        client_application_id -> Integer,
        endpoint_id -> Integer,
    }
}

diesel::table! {
    client_application_scopes (client_application_id, scope) {
        client_application_id -> Integer,
        scope -> Text,
    }
}

diesel::table! {
    client_applications (id) {
        id -> Integer,
        name -> Text,
        active -> Bool,
        created_by -> Integer,
        created_at -> Timestamp,
        redirect_uris -> Text,
    }
}

diesel::table! {
    integrations (id) {
        id -> Integer,
        credential_id -> Integer,
        authorized_by -> Integer,
        service_account -> Bool,
        scopes -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        disconnected_at -> Nullable<Timestamp>,
        disconnected_by -> Nullable<Integer>,
    }
}

diesel::table! {
    token_families (id) {
        id -> Integer,
        integration_id -> Integer,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Binary,
        integration_id -> Integer,
        redirect_uri -> Text,
        code_challenge -> Nullable<Text>,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        family_id -> Nullable<Integer>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Binary,
        family_id -> Integer,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    credential_endpoints (credential_id, endpoint_id) {
        credential_id -> Integer,
        endpoint_id -> Integer,
    }
}

diesel::table! {
    credential_scopes (credential_id, scope) {
        credential_id -> Integer,
        scope -> Text,
    }
}

diesel::table! {
    credential_secrets (id) {
        id -> Integer,
        credential_id -> Integer,
        secret_hash -> Binary,
        secret_prefix -> Text,
        secret_last4 -> Text,
        created_at -> Timestamp,
        ends_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        quiet_hours -> Nullable<Integer>,
        rotated_at -> Nullable<Timestamp>,
        last_used_from -> Nullable<Text>,
        last_user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    credential_usage (rowid) {
        rowid -> Integer,
        credential_id -> Integer,
        day -> Text,
        endpoint_id -> Nullable<Integer>,
        requests -> BigInt,
    }
}

diesel::table! {
    credentials (id) {
        id -> Integer,
        description -> Text,
        api_type -> Text,
        client_application_id -> Nullable<Integer>,
        client_id -> Nullable<Text>,
        trusted_ips -> Text,
        created_by -> Integer,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Integer>,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    dev_center_settings (id) {
        id -> Integer,
        max_lifetime_days -> Nullable<Integer>,
    }
}

diesel::table! {
    endpoints (id) {
        id -> Integer,
        resource -> Text,
        method -> Text,
        name -> Text,
        path -> Text,
        last_segment_optional -> Bool,
        scope -> Nullable<Text>,
    }
}

diesel::table! {
    rate_windows (credential_id) {
        credential_id -> Integer,
        started_at -> Timestamp,
        taken -> Integer,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Binary,
    }
}

diesel::table! {
    sessions (id) {
        id -> Binary,
        state -> Text,
        expires_at -> Timestamp,
        user_id -> Nullable<Integer>,
    }
}

diesel::table! {
    user_permissions (user_id, permission) {
        user_id -> Integer,
        permission -> Text,
    }
}

diesel::table! {
    failure_windows (scope, subject) {
        scope -> Text,
        subject -> Text,
        window_started -> Timestamp,
        failures -> Integer,
    }
}

diesel::table! {
    gate_requests (id) {
        id -> Integer,
        credential_id -> Integer,
        at -> Timestamp,
        method -> Text,
        path -> Text,
        status -> Integer,
        latency_us -> BigInt,
        client_address -> Text,
        user_agent -> Nullable<Text>,
        endpoint_id -> Nullable<Integer>,
        refused_address -> Bool,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        public_key -> Binary,
        sealed_private_key -> Binary,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        level -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    web_hooks (id) {
        id -> Integer,
        name -> Text,
        url -> Text,
        secret_key_sealed -> Binary,
        enabled -> Bool,
        created_at -> Timestamp,
        created_by -> Integer,
        consecutive_failures -> Integer,
        failing_since -> Nullable<Timestamp>,
        sending_until -> Nullable<Timestamp>,
        sending_by -> Nullable<Text>,
    }
}

diesel::table! {
    web_hook_subscriptions (web_hook_id, event) {
        web_hook_id -> Integer,
        event -> Text,
    }
}

diesel::table! {
    web_hook_deliveries (id) {
        id -> Integer,
        web_hook_id -> Integer,
        delivery_id -> Text,
        event -> Text,
        payload -> Text,
        created_at -> Timestamp,
        state -> Text,
        attempts -> Integer,
        first_attempt_at -> Nullable<Timestamp>,
        next_attempt_at -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_duration_ms -> Nullable<Integer>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    credential_expiry_notices (credential_id, expires_at, event) {
        credential_id -> Integer,
        expires_at -> Timestamp,
        event -> Text,
    }
}

diesel::joinable!(audit_events -> users (actor_id));
diesel::joinable!(client_application_endpoints -> client_applications (client_application_id));
diesel::joinable!(client_application_endpoints -> endpoints (endpoint_id));
diesel::joinable!(client_application_scopes -> client_applications (client_application_id));
diesel::joinable!(client_applications -> users (created_by));
diesel::joinable!(credential_endpoints -> credentials (credential_id));
diesel::joinable!(credential_endpoints -> endpoints (endpoint_id));
diesel::joinable!(credential_scopes -> credentials (credential_id));
diesel::joinable!(integrations -> credentials (credential_id));
diesel::joinable!(token_families -> integrations (integration_id));
diesel::joinable!(authorization_codes -> integrations (integration_id));
diesel::joinable!(refresh_tokens -> token_families (family_id));
diesel::joinable!(credential_secrets -> credentials (credential_id));
diesel::joinable!(credential_usage -> credentials (credential_id));
diesel::joinable!(gate_requests -> credentials (credential_id));
diesel::joinable!(credentials -> client_applications (client_application_id));
diesel::joinable!(rate_windows -> credentials (credential_id));
diesel::joinable!(user_permissions -> users (user_id));
diesel::joinable!(web_hook_subscriptions -> web_hooks (web_hook_id));
diesel::joinable!(web_hook_deliveries -> web_hooks (web_hook_id));
diesel::joinable!(web_hooks -> users (created_by));
diesel::joinable!(credential_expiry_notices -> credentials (credential_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    authorization_codes,
    client_application_endpoints,
    client_application_scopes,
    client_applications,
    credential_endpoints,
    credential_scopes,
    credential_secrets,
    credential_usage,
    credentials,
    dev_center_settings,
    endpoints,
    failure_windows,
    gate_requests,
    integrations,
    rate_windows,
    refresh_tokens,
    server_secrets,
    sessions,
    signing_keys,
    token_families,
    user_permissions,
    users,
    web_hook_deliveries,
    web_hook_subscriptions,
    web_hooks,
    credential_expiry_notices,
);
