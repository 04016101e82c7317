//! The product's words: API types, user levels, developer permissions, the methods of the
//! Harvest catalogue, and what the audit log says happened. Each is stored and submitted as a fixed text and shown with a label.

use std::fmt;

/// A word the product stores as text and shows with a label.
pub trait ProductWord: Copy + Sized + 'static {
    const ALL: &'static [Self];
    /// The stored and submitted form, e.g. `job_board`.
    fn as_str(self) -> &'static str;
    /// What a person reads, e.g. "Job Board".
    fn label(self) -> &'static str;

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|w| w.as_str() == value)
    }
}

/// Declares a product word: the enum, its stored text and label, and its column type, so
/// that a value read from the database is already the word (a stored text that is not
/// one is an error, never a silent fallback).
macro_rules! product_word {
    ($name:ident { $($variant:ident => ($stored:literal, $label:literal)),+ $(,)? }) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name { $($variant),+ }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                out.set_value(self.as_str());
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write;
                out.write_all(self.as_str().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, crate::db::MultiBackend> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(value: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let stored =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(value)?;
                <Self as ProductWord>::parse(&stored).ok_or_else(|| {
                    format!("{:?} is not a stored {}", stored, stringify!($name)).into()
                })
            }
        }

        impl ProductWord for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $stored),+ }
            }
            fn label(self) -> &'static str {
                match self { $(Self::$variant => $label),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

product_word!(EndpointMethod {
    Get => ("GET", "GET"),
    Post => ("POST", "POST"),
    Put => ("PUT", "PUT"),
    Patch => ("PATCH", "PATCH"),
    Delete => ("DELETE", "DELETE"),
});

product_word!(ApiType {
    Harvest => ("harvest", "Harvest"),
    HarvestV3 => ("harvest_v3", "Harvest v3 (OAuth)"),
    JobBoard => ("job_board", "Job Board"),
    Partner => ("partner", "Partner"),
    OauthClient => ("oauth_client", "Partner OAuth client"),
});

impl ApiType {
    /// Whether Create New Credential makes this type. A partner's OAuth client is made on
    /// its client application's page instead.
    pub fn made_in_the_dialog(self) -> bool {
        self != ApiType::OauthClient
    }
}

product_word!(UserLevel {
    Basic => ("basic", "Basic"),
    JobAdmin => ("job_admin", "Job Admin"),
    SiteAdmin => ("site_admin", "Site Admin"),
});

product_word!(DeveloperPermission {
    ManageJobBoardCredentials => ("manage_job_board_credentials", "Can manage Job Board related API Credentials"),
    ManageAllCredentials => ("manage_all_credentials", "Can manage ALL organization's API Credentials"),
    ManageWebhooks => ("manage_webhooks", "Can manage and configure web hooks"),
});

product_word!(AuditAction {
    CredentialCreated => ("credential_created", "API key created"),
    CredentialGrantsChanged => ("credential_grants_changed", "Endpoint grants changed"),
    CredentialRevoked => ("credential_revoked", "API key revoked"),
    CredentialRotated => ("credential_rotated", "API key rotated"),
    CredentialOverlapEnded => ("credential_overlap_ended", "Rotation overlap ended"),
    CredentialTrustedIpsChanged => ("credential_trusted_ips_changed", "Trusted IPs changed"),
    CredentialEnabled => ("credential_enabled", "API key enabled"),
    ClientApplicationCreated => ("client_application_created", "Client application added"),
    ClientApplicationChanged => ("client_application_changed", "Client application changed"),
    UserCreated => ("user_created", "User added"),
    UserLevelChanged => ("user_level_changed", "Level changed"),
    UserPermissionsChanged => ("user_permissions_changed", "Developer permissions changed"),
    UserDisabled => ("user_disabled", "User disabled"),
    UserEnabled => ("user_enabled", "User enabled"),
    SignInThrottled => ("sign_in_throttled", "Sign-in failures throttled"),
    CredentialScopesChanged => ("credential_scopes_changed", "Scopes changed"),
    IntegrationConnected => ("integration_connected", "Integration connected"),
    IntegrationDisconnected => ("integration_disconnected", "Integration disconnected"),
    IntegrationTokensRevoked => ("integration_tokens_revoked", "Integration tokens revoked"),
    ClientApplicationOauthChanged => ("client_application_oauth_changed", "OAuth client changed"),
    CredentialExpiryChanged => ("credential_expiry_changed", "Expiry changed"),
    DevCenterSettingsChanged => ("dev_center_settings_changed", "Dev Center settings changed"),
    WebHookCreated => ("web_hook_created", "Web hook added"),
    WebHookChanged => ("web_hook_changed", "Web hook changed"),
    CredentialExpiring => ("credential_expiring", "API key expires in 7 days"),
    CredentialExpired => ("credential_expired", "API key expired"),
});

product_word!(ObjectKind {
    Credential => ("credential", "API key"),
    ClientApplication => ("client_application", "Client application"),
    User => ("user", "User"),
    Integration => ("integration", "Integration"),
    DevCenterSettings => ("dev_center_settings", "Dev Center settings"),
    WebHook => ("web_hook", "Web hook"),
});

product_word!(WebHookEvent {
    CredentialCreated => ("credential.created", "Credential created"),
    CredentialRevoked => ("credential.revoked", "Credential revoked"),
    CredentialEnabled => ("credential.enabled", "Revoked credential enabled again"),
    CredentialRotated => ("credential.rotated", "Credential secret rotated"),
    CredentialGrantsChanged => ("credential.grants_changed", "Endpoint grants or scopes changed"),
    CredentialExpiring => ("credential.expiring", "Credential expires in 7 days"),
    CredentialExpired => ("credential.expired", "Credential expired"),
    IntegrationConnected => ("integration.connected", "Partner integration connected"),
    IntegrationDisconnected => ("integration.disconnected", "Partner integration disconnected"),
    Ping => ("ping", "Test ping"),
});

impl WebHookEvent {
    /// The events a hook may subscribe to: every one but the ping, which a person sends.
    pub fn subscribable() -> impl Iterator<Item = WebHookEvent> {
        Self::ALL
            .iter()
            .copied()
            .filter(|e| *e != WebHookEvent::Ping)
    }
}

product_word!(DeliveryState {
    Pending => ("pending", "Pending"),
    Delivered => ("delivered", "Delivered"),
    Failed => ("failed", "Failed"),
});
