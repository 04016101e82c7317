//! The product's words for people and keys: API types, user levels, developer permissions.

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

/// Other modules name their own words with the same macro (e.g. the audit log's actions).
pub(crate) use product_word;

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
