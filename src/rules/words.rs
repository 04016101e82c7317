//! The product's words: API types, user levels, developer permissions, and what the audit
//! log says happened. Each is stored and submitted as a fixed text and shown with a label.

use std::fmt;
use std::str::FromStr;

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

macro_rules! product_word {
    ($name:ident { $($variant:ident => ($stored:literal, $label:literal)),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl ProductWord for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $stored),+ }
            }
            fn label(self) -> &'static str {
                match self { $(Self::$variant => $label),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;
            fn from_str(value: &str) -> Result<Self, UnknownWord> {
                <Self as ProductWord>::parse(value).ok_or_else(|| UnknownWord(value.to_owned()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

/// A value that is not one of the product's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownWord(pub String);

product_word!(ApiType {
    Harvest => ("harvest", "Harvest"),
    JobBoard => ("job_board", "Job Board"),
    Partner => ("partner", "Partner"),
});

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
    ClientApplicationCreated => ("client_application_created", "Client application added"),
    ClientApplicationChanged => ("client_application_changed", "Client application changed"),
    UserCreated => ("user_created", "User added"),
    UserLevelChanged => ("user_level_changed", "Level changed"),
    UserPermissionsChanged => ("user_permissions_changed", "Developer permissions changed"),
    UserDisabled => ("user_disabled", "User disabled"),
    UserEnabled => ("user_enabled", "User enabled"),
    SignInThrottled => ("sign_in_throttled", "Sign-in failures throttled"),
});

product_word!(ObjectKind {
    Credential => ("credential", "API key"),
    ClientApplication => ("client_application", "Client application"),
    User => ("user", "User"),
});
