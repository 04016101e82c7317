//! Bearer access tokens at the gate (Harvest v3). A token is verified once (signature,
//! expiry, issuer, audience) and then remembered by its hash until it expires, so the hot
//! path hashes 32 bytes instead of checking an Ed25519 signature. What the cache holds is
//! only what the token says; whether its credential, secret and acting user still allow
//! it is asked of the live keys on every request.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderMap};
use dashmap::DashMap;

use crate::db::catalogue::Endpoint;
use crate::oauth::access_token::{AUDIENCE, AccessClaims, Acting};
use crate::oauth::signing::{SigningKeys, TOKEN_LIFETIME, TokenRejected};

use super::live_keys::Grants;

/// Longest token worth looking at: ours are about 600 bytes.
const MAX_TOKEN: usize = 4096;

/// The token in `Authorization: Bearer …`, if the header holds one.
pub fn presented(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= MAX_TOKEN)
        .then_some(token)
}

/// What a verified token says, as the gate checks it on each request.
#[derive(Debug)]
pub struct VerifiedToken {
    pub client_id: Box<str>,
    /// The credential's secret that obtained the token: ending it ends its tokens.
    pub secret_id: i32,
    pub acting: Acting,
    /// A partner integration's token: its integration and token family.
    pub integration_id: Option<i32>,
    pub family_id: Option<i32>,
    /// The endpoints the token's scopes open.
    pub grants: Grants,
    /// Unix milliseconds.
    pub expires_at: i64,
}

impl VerifiedToken {
    pub fn is_granted(&self, endpoint_id: i32) -> bool {
        self.grants.contains(endpoint_id)
    }
}

/// Each v3 scope and the endpoints it opens.
#[derive(Debug, Default)]
pub struct ScopeCatalogue(HashMap<String, Vec<i32>>);

impl ScopeCatalogue {
    pub fn new(catalogue: &[Endpoint]) -> Self {
        let mut scopes: HashMap<String, Vec<i32>> = HashMap::new();
        for endpoint in catalogue {
            if let Some(scope) = &endpoint.scope {
                scopes.entry(scope.clone()).or_default().push(endpoint.id);
            }
        }
        Self(scopes)
    }

    /// The endpoints one scope opens (none for an unknown scope).
    pub fn opens(&self, scope: &str) -> &[i32] {
        self.0.get(scope).map_or(&[], Vec::as_slice)
    }

    /// The endpoints a space-separated scope list opens (unknown scopes open nothing).
    fn grants(&self, scopes: &str) -> Grants {
        Grants::new(
            scopes
                .split_ascii_whitespace()
                .filter_map(|scope| self.0.get(scope))
                .flatten()
                .copied(),
        )
    }
}

/// Verified tokens by their BLAKE3 hash, at most `capacity` of them.
pub struct TokenCache {
    verified: DashMap<[u8; 32], Arc<VerifiedToken>>,
    capacity: usize,
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            verified: DashMap::new(),
            capacity,
        }
    }

    /// The token's verified claims, from the cache or by verifying it now.
    pub fn verify(
        &self,
        token: &str,
        signing: &SigningKeys,
        issuer: &str,
        scopes: &ScopeCatalogue,
        now_millis: i64,
    ) -> Result<Arc<VerifiedToken>, TokenRejected> {
        let hash = *blake3::hash(token.as_bytes()).as_bytes();
        if let Some(known) = self.verified.get(&hash).map(|t| Arc::clone(t.value())) {
            return match now_millis < known.expires_at {
                true => Ok(known),
                false => {
                    self.verified.remove(&hash);
                    Err(TokenRejected::Expired)
                }
            };
        }
        let claims: AccessClaims = signing.verify(token, issuer, AUDIENCE)?;
        let acting = claims.acting().ok_or(TokenRejected::Malformed)?;
        // No token this server signs lives longer than TOKEN_LIFETIME: one that claims to
        // (signed with a leaked key) is refused rather than cached for its whole claim.
        let lifetime = i64::try_from(TOKEN_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        if claims.exp.saturating_sub(claims.iat) > lifetime {
            return Err(TokenRejected::Malformed);
        }
        let verified = Arc::new(VerifiedToken {
            client_id: claims.client_id.as_str().into(),
            secret_id: claims.secret_id,
            acting,
            integration_id: claims.integration_id,
            family_id: claims.family_id,
            grants: scopes.grants(&claims.scope),
            expires_at: claims.exp.saturating_mul(1000),
        });
        if now_millis >= verified.expires_at {
            return Err(TokenRejected::Expired);
        }
        self.remember(hash, Arc::clone(&verified), now_millis);
        Ok(verified)
    }

    /// Keeps a verified token; when full, forgets the expired ones first and, if that is
    /// not enough, everything (a forgotten token is only verified again).
    fn remember(&self, hash: [u8; 32], token: Arc<VerifiedToken>, now_millis: i64) {
        if self.verified.len() >= self.capacity {
            self.verified.retain(|_, t| now_millis < t.expires_at);
            if self.verified.len() >= self.capacity {
                self.verified.clear();
            }
        }
        self.verified.insert(hash, token);
    }

    pub fn len(&self) -> usize {
        self.verified.len()
    }

    pub fn is_empty(&self) -> bool {
        self.verified.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("a header value"),
        );
        headers
    }

    #[test]
    fn only_a_bearer_header_presents_a_token() {
        assert_eq!(
            presented(&with_authorization("Bearer abc.def.ghi")),
            Some("abc.def.ghi")
        );
        assert_eq!(presented(&with_authorization("bearer  abc ")), Some("abc"));
        assert_eq!(presented(&with_authorization("Basic YWJjOg==")), None);
        assert_eq!(presented(&with_authorization("Bearer ")), None);
        assert_eq!(
            presented(&with_authorization(&format!("Bearer {}", "a".repeat(5000)))),
            None
        );
        assert_eq!(presented(&HeaderMap::new()), None);
    }

    #[test]
    fn a_scope_list_opens_exactly_its_scopes_endpoints() {
        let catalogue = ScopeCatalogue(HashMap::from([
            ("harvest:jobs:list".to_owned(), vec![1001]),
            ("harvest:jobs:update".to_owned(), vec![1002, 1003]),
        ]));
        let grants = catalogue.grants("harvest:jobs:update unknown:scope");
        assert!(!grants.contains(1001));
        assert!(grants.contains(1002) && grants.contains(1003));
        assert!(!catalogue.grants("").contains(1001));
    }
}
