//! What a Harvest v3 access token says: the JWT claims the token endpoint signs and the
//! gate (or an upstream, from the JWKS alone) verifies.

use serde::{Deserialize, Serialize};

/// The audience of every access token: the Harvest API behind the gate.
pub const AUDIENCE: &str = "harvest";

/// The `sub` of a token acting as its credential's service account, before the client ID.
const SERVICE_ACCOUNT: &str = "service-account:";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The acting user's id, or `service-account:{client_id}`.
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    /// Space separated, as OAuth writes scopes.
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// Which of the credential's secrets obtained the token: when a rotation's overlap
    /// ends, so do the old secret's tokens.
    pub secret_id: i32,
    /// A partner integration's token: the authorization it acts under, and the family of
    /// tokens issued from one code (revoked together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_id: Option<i32>,
}

/// Who a token acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    User(i32),
    /// The credential's own service account.
    ServiceAccount,
}

impl Acting {
    /// The `sub` of a token acting so for a credential's client (`integration`: a partner
    /// integration's own service account).
    pub fn subject(self, client_id: &str, integration: Option<i32>) -> String {
        match (self, integration) {
            (Acting::User(id), _) => id.to_string(),
            (Acting::ServiceAccount, None) => format!("{SERVICE_ACCOUNT}{client_id}"),
            (Acting::ServiceAccount, Some(id)) => format!("{SERVICE_ACCOUNT}integration-{id}"),
        }
    }
}

impl AccessClaims {
    /// Who the token acts as; `None` when its `sub` is neither a user id nor its own
    /// service account, which no token this server signs has.
    pub fn acting(&self) -> Option<Acting> {
        match self.sub.strip_prefix(SERVICE_ACCOUNT) {
            Some(_) => (Acting::ServiceAccount.subject(&self.client_id, self.integration_id)
                == self.sub)
                .then_some(Acting::ServiceAccount),
            None => self.sub.parse().ok().filter(|id| *id > 0).map(Acting::User),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_names_a_user_or_the_service_account() {
        let mut claims = AccessClaims {
            iss: "http://127.0.0.1".into(),
            sub: Acting::User(42).subject("dci_x", None),
            aud: AUDIENCE.into(),
            client_id: "dci_x".into(),
            scope: String::new(),
            iat: 0,
            exp: 0,
            jti: String::new(),
            secret_id: 1,
            integration_id: None,
            family_id: None,
        };
        assert_eq!(claims.acting(), Some(Acting::User(42)));
        claims.sub = Acting::ServiceAccount.subject("dci_x", None);
        assert_eq!(claims.sub, "service-account:dci_x");
        assert_eq!(claims.acting(), Some(Acting::ServiceAccount));
        claims.integration_id = Some(7);
        assert_eq!(
            claims.acting(),
            None,
            "an integration's token names its own"
        );
        claims.sub = Acting::ServiceAccount.subject("dci_x", Some(7));
        assert_eq!(claims.sub, "service-account:integration-7");
        assert_eq!(claims.acting(), Some(Acting::ServiceAccount));
        claims.integration_id = None;
        for odd in ["service-account:dci_other", "", "-1", "0", "alice"] {
            claims.sub = odd.into();
            assert_eq!(claims.acting(), None, "{odd:?}");
        }
    }
}
