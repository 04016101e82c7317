//! The keys that sign Harvest v3 (OAuth) access tokens, and the checks a token must pass.
//!
//! Tokens are JWTs signed with Ed25519 (`alg: EdDSA`), naming their key by `kid`. The
//! current key signs; every key that may still have unexpired tokens out is published at
//! `/.well-known/jwks.json`, so an upstream verifies tokens on its own. A rotation retires
//! the current key and makes a new one; the retired key stays published for
//! `TOKEN_LIFETIME` plus a margin. The keys live in the database (private halves sealed,
//! see `super::sealing`) and each instance reloads them periodically, so a rotation by
//! the command line or another instance reaches every instance.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::sealing::SealingKey;
use crate::db::signing_keys::SigningKeyRow;
use crate::db::{self, Conn};

/// How long an access token lasts.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// How long a retired key stays published after `TOKEN_LIFETIME`: more than an instance
/// may go on signing with a key another one retired (until its next reload), so that
/// every token signed with it expires before it is withdrawn.
const PUBLISHED_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How often each instance reloads the keys (well within `PUBLISHED_MARGIN`).
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// A token naming a key this instance does not know triggers a reload at most this often,
/// so a stream of made-up `kid`s cannot keep the database busy.
const UNKNOWN_KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// Clock difference allowed between this instance and the one that signed, on `exp`.
const LEEWAY_SECONDS: u64 = 5;

/// Why a presented token was refused, with a message short enough for a
/// `WWW-Authenticate` error description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejected {
    #[error("the token is not a well-formed access token")]
    Malformed,
    #[error("the token is signed with an algorithm other than EdDSA")]
    WrongAlgorithm,
    #[error("the token names a signing key that is not (or no longer) published")]
    UnknownKey,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token is meant for another audience")]
    WrongAudience,
}

/// The signing keys as last loaded, swapped whole on each reload.
pub struct SigningKeys {
    set: ArcSwap<KeySet>,
    /// When a token naming an unknown key last made this instance reload.
    last_unknown_key_reload: Mutex<Option<Instant>>,
}

/// One load of the keys: what signs, what verifies, and the JWKS that publishes them.
struct KeySet {
    current_kid: String,
    current: EncodingKey,
    published: HashMap<String, DecodingKey>,
    jwks: String,
}

impl std::fmt::Debug for SigningKeys {
    /// Only the key ids: never key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.set.load();
        let mut published: Vec<&String> = set.published.keys().collect();
        published.sort();
        f.debug_struct("SigningKeys")
            .field("current", &set.current_kid)
            .field("published", &published)
            .finish()
    }
}

impl SigningKeys {
    /// Makes the first signing key when there is no current one, then loads the keys. The
    /// check and the insert run under the writers' lock: instances starting together make
    /// one key between them.
    pub fn ensure_and_load(conn: &mut Conn, sealing: &SealingKey) -> anyhow::Result<SigningKeys> {
        let made = db::write(conn, |conn| -> anyhow::Result<Option<String>> {
            if SigningKeyRow::current(conn)?.is_some() {
                return Ok(None);
            }
            let row = new_key(sealing, db::now());
            SigningKeyRow::insert(conn, &row)?;
            Ok(Some(row.kid))
        })?;
        if let Some(kid) = made {
            tracing::info!(kid, "made the first token signing key");
        }
        Ok(SigningKeys {
            set: ArcSwap::from_pointee(load(conn, sealing)?),
            last_unknown_key_reload: Mutex::new(None),
        })
    }

    /// Reads the keys again (another instance or the command line may have rotated). On
    /// failure the keys loaded before stay in use.
    pub fn reload(&self, conn: &mut Conn, sealing: &SealingKey) -> anyhow::Result<()> {
        self.swap_in(conn, sealing)
    }

    /// After `verify` answered `UnknownKey`: reloads, unless an unknown key made it reload
    /// within the last few seconds (so made-up `kid`s cannot keep the database busy); true
    /// when it did, and verifying again may now succeed. Of requests arriving together
    /// with unknown keys, one reloads.
    pub fn reload_for_unknown_key(
        &self,
        conn: &mut Conn,
        sealing: &SealingKey,
    ) -> anyhow::Result<bool> {
        let due = match self.last_unknown_key_reload.lock() {
            Ok(mut last) if last.is_none_or(|at| at.elapsed() >= UNKNOWN_KEY_RELOAD_INTERVAL) => {
                *last = Some(Instant::now());
                true
            }
            Ok(_) => false,
            Err(_) => true,
        };
        if due {
            self.swap_in(conn, sealing)?;
        }
        Ok(due)
    }

    fn swap_in(&self, conn: &mut Conn, sealing: &SealingKey) -> anyhow::Result<()> {
        let set = load(conn, sealing)?;
        self.set.store(Arc::new(set));
        Ok(())
    }

    /// The id of the key that signs now.
    pub fn current_kid(&self) -> String {
        self.set.load().current_kid.clone()
    }

    /// `claims` as a JWT signed with the current key (`alg: EdDSA`, `typ: JWT`, its `kid`).
    pub fn sign<T: Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        let set = self.set.load();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(set.current_kid.clone());
        jsonwebtoken::encode(&header, claims, &set.current).context("cannot sign the token")
    }

    /// The claims of `token` when it is signed (EdDSA only) by a published key, unexpired,
    /// and issued by `issuer` for `audience`; `exp`, `iss`, `aud` and `sub` are required.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<T, TokenRejected> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            // Algorithms jsonwebtoken does not even name (`none`) are still told apart.
            if unknown_algorithm(token) {
                TokenRejected::WrongAlgorithm
            } else {
                TokenRejected::Malformed
            }
        })?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenRejected::WrongAlgorithm);
        }
        let set = self.set.load();
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| set.published.get(kid))
            .ok_or(TokenRejected::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<T>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidSignature => TokenRejected::BadSignature,
                ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
                    TokenRejected::WrongAlgorithm
                }
                ErrorKind::ExpiredSignature => TokenRejected::Expired,
                ErrorKind::InvalidIssuer => TokenRejected::WrongIssuer,
                ErrorKind::InvalidAudience => TokenRejected::WrongAudience,
                _ => TokenRejected::Malformed,
            })
    }

    /// The published keys as a JSON Web Key Set, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> String {
        self.set.load().jwks.clone()
    }

    /// Keys made in memory, for tests without a database: the first signs, all verify.
    #[cfg(test)]
    fn from_keys(keys: &[(&str, &SigningKey)]) -> anyhow::Result<SigningKeys> {
        let Some((kid, current)) = keys.first() else {
            bail!("no keys");
        };
        let published: Vec<(String, [u8; 32])> = keys
            .iter()
            .map(|(kid, key)| ((*kid).to_owned(), key.verifying_key().to_bytes()))
            .collect();
        Ok(SigningKeys {
            set: ArcSwap::from_pointee(KeySet::new(kid, current, &published)?),
            last_unknown_key_reload: Mutex::new(None),
        })
    }
}

/// Retires the current key (it stays published for `TOKEN_LIFETIME` and a margin) and
/// makes a new one, in one transaction; the new key's id. Running instances sign with it
/// after their next reload.
pub fn rotate(conn: &mut Conn, sealing: &SealingKey) -> anyhow::Result<String> {
    db::write(conn, |conn| -> anyhow::Result<String> {
        let now = db::now();
        SigningKeyRow::retire_current(conn, now)?;
        let row = new_key(sealing, now);
        SigningKeyRow::insert(conn, &row)?;
        Ok(row.kid)
    })
}

/// A new key pair, its private half sealed, under a random id.
fn new_key(sealing: &SealingKey, now: chrono::NaiveDateTime) -> SigningKeyRow {
    let mut rng = UnwrapErr(SysRng);
    let mut seed = secrecy::zeroize::Zeroizing::new([0u8; 32]);
    rng.fill_bytes(&mut seed[..]);
    let key = SigningKey::from_bytes(&seed);
    let mut kid = [0u8; 16];
    rng.fill_bytes(&mut kid);
    SigningKeyRow {
        kid: URL_SAFE_NO_PAD.encode(kid),
        public_key: key.verifying_key().to_bytes().to_vec(),
        sealed_private_key: sealing.seal(&seed[..]),
        created_at: now,
        retired_at: None,
    }
}

/// The keys from the database: the current one unsealed, every published one's public key.
fn load(conn: &mut Conn, sealing: &SealingKey) -> anyhow::Result<KeySet> {
    let published_for = chrono::Duration::from_std(TOKEN_LIFETIME + PUBLISHED_MARGIN)?;
    let rows = SigningKeyRow::published(conn, db::now() - published_for)
        .context("cannot read the token signing keys")?;
    // Newest first: the first one not retired signs.
    let Some(current) = rows.iter().find(|row| row.retired_at.is_none()) else {
        bail!("there is no current token signing key in the database");
    };
    let seed = sealing.unseal(&current.sealed_private_key)?;
    let seed = <&[u8; 32]>::try_from(seed.expose_secret())
        .ok()
        .with_context(|| format!("the signing key {} is not an Ed25519 key", current.kid))?;
    let signing = SigningKey::from_bytes(seed);
    if signing.verifying_key().as_bytes()[..] != current.public_key[..] {
        bail!(
            "the signing key {} does not match its public key in the database",
            current.kid
        );
    }
    let published = rows
        .iter()
        .map(|row| {
            let public = <[u8; 32]>::try_from(&row.public_key[..])
                .ok()
                .with_context(|| format!("the public key of {} is not 32 bytes", row.kid))?;
            Ok((row.kid.clone(), public))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    KeySet::new(&current.kid, &signing, &published)
}

impl KeySet {
    fn new(
        current_kid: &str,
        current: &SigningKey,
        published: &[(String, [u8; 32])],
    ) -> anyhow::Result<KeySet> {
        // jsonwebtoken's RustCrypto backend takes an Ed25519 private key as PKCS#8 DER
        // (it parses it again for each signature), and a public key as its 32 raw bytes.
        let der = current
            .to_pkcs8_der()
            .context("cannot encode the signing key")?;
        let jwks = JwkSet {
            keys: published
                .iter()
                .map(|(kid, public)| jwk(kid, public))
                .collect(),
        };
        Ok(KeySet {
            current_kid: current_kid.to_owned(),
            current: EncodingKey::from_ed_der(der.as_bytes()),
            published: published
                .iter()
                .map(|(kid, public)| (kid.clone(), DecodingKey::from_ed_der(public)))
                .collect(),
            jwks: serde_json::to_string(&jwks)?,
        })
    }
}

/// One published key as a JWK (RFC 8037: `kty: OKP`, `crv: Ed25519`).
fn jwk(kid: &str, public: &[u8; 32]) -> Jwk {
    Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::EdDSA),
            key_id: Some(kid.to_owned()),
            ..CommonParameters::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: URL_SAFE_NO_PAD.encode(public),
        }),
    }
}

/// Whether the token's header names an algorithm, but one jsonwebtoken does not know.
fn unknown_algorithm(token: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Named {
        alg: String,
    }
    token
        .split('.')
        .next()
        .and_then(|header| URL_SAFE_NO_PAD.decode(header).ok())
        .and_then(|json| serde_json::from_slice::<Named>(&json).ok())
        .is_some_and(|named| named.alg != "EdDSA")
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    const ISSUER: &str = "https://devcenter.example.com";
    const AUDIENCE: &str = "harvest";

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct Claims {
        iss: String,
        aud: String,
        sub: String,
        exp: u64,
        scope: String,
    }

    fn unix_now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
    }

    fn claims() -> Claims {
        Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "client-42".into(),
            // Fixed, so that two calls a second apart make the same claims.
            exp: IN_2100,
            scope: "candidates:read".into(),
        }
    }

    /// 2100-01-01: a token that expires long after any test run.
    const IN_2100: u64 = 4_102_444_800;

    fn generated() -> SigningKey {
        let mut seed = [0u8; 32];
        UnwrapErr(SysRng).fill_bytes(&mut seed);
        SigningKey::from_bytes(&seed)
    }

    fn keys() -> (SigningKeys, SigningKey) {
        let key = generated();
        (
            SigningKeys::from_keys(&[("current", &key)]).expect("keys"),
            key,
        )
    }

    fn verify(keys: &SigningKeys, token: &str) -> Result<Claims, TokenRejected> {
        keys.verify(token, ISSUER, AUDIENCE)
    }

    fn b64(json: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    #[test]
    fn a_signed_token_verifies_to_its_claims() {
        let (keys, _) = keys();
        let token = keys.sign(&claims()).expect("signed");
        let header = jsonwebtoken::decode_header(&token).expect("a header");
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.kid.as_deref(), Some("current"));
        assert_eq!(verify(&keys, &token), Ok(claims()));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let (keys, _) = keys();
        let header = serde_json::json!({"alg": "none", "typ": "JWT", "kid": "current"});
        let payload = serde_json::to_value(claims()).expect("json");
        for token in [
            format!("{}.{}.", b64(&header), b64(&payload)),
            format!("{}.{}", b64(&header), b64(&payload)),
        ] {
            assert_eq!(verify(&keys, &token), Err(TokenRejected::WrongAlgorithm));
        }
    }

    #[test]
    fn a_token_signed_with_hmac_over_the_public_key_is_refused() {
        let (keys, key) = keys();
        let public = key.verifying_key().to_bytes();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("current".into());
        for secret in [public.to_vec(), URL_SAFE_NO_PAD.encode(public).into_bytes()] {
            let hmac = EncodingKey::from_secret(&secret).expect("an HMAC key");
            let token = jsonwebtoken::encode(&header, &claims(), &hmac).expect("signed");
            assert_eq!(verify(&keys, &token), Err(TokenRejected::WrongAlgorithm));
        }
        let rs256 = format!(
            "{}.{}.c2ln",
            b64(&serde_json::json!({"alg": "RS256", "kid": "current"})),
            b64(&serde_json::to_value(claims()).expect("json"))
        );
        assert_eq!(verify(&keys, &rs256), Err(TokenRejected::WrongAlgorithm));
    }

    #[test]
    fn a_changed_payload_is_refused() {
        let (keys, _) = keys();
        let token = keys.sign(&claims()).expect("signed");
        let parts: Vec<&str> = token.split('.').collect();
        let mut changed = claims();
        changed.scope = "candidates:write".into();
        let changed = b64(&serde_json::to_value(changed).expect("json"));
        let forged = format!("{}.{changed}.{}", parts[0], parts[2]);
        assert_eq!(verify(&keys, &forged), Err(TokenRejected::BadSignature));
        // The signature stripped off.
        assert_eq!(
            verify(&keys, &format!("{}.{}.", parts[0], parts[1])),
            Err(TokenRejected::BadSignature)
        );
        assert_eq!(verify(&keys, "not a token"), Err(TokenRejected::Malformed));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let (keys, _) = keys();
        let mut expired = claims();
        expired.exp = unix_now() - LEEWAY_SECONDS - 2;
        let token = keys.sign(&expired).expect("signed");
        assert_eq!(verify(&keys, &token), Err(TokenRejected::Expired));
    }

    #[test]
    fn another_issuer_or_audience_is_refused() {
        let (keys, _) = keys();
        let token = keys.sign(&claims()).expect("signed");
        assert_eq!(
            keys.verify::<Claims>(&token, "https://elsewhere.example.com", AUDIENCE),
            Err(TokenRejected::WrongIssuer)
        );
        assert_eq!(
            keys.verify::<Claims>(&token, ISSUER, "job_board"),
            Err(TokenRejected::WrongAudience)
        );
    }

    #[test]
    fn a_token_without_a_required_claim_is_refused() {
        #[derive(Serialize, Deserialize)]
        struct NoSubject {
            iss: String,
            aud: String,
            exp: u64,
        }
        let (keys, _) = keys();
        let claims = claims();
        let token = keys
            .sign(&NoSubject {
                iss: claims.iss,
                aud: claims.aud,
                exp: claims.exp,
            })
            .expect("signed");
        assert_eq!(
            keys.verify::<serde_json::Value>(&token, ISSUER, AUDIENCE),
            Err(TokenRejected::Malformed)
        );
    }

    #[test]
    fn a_key_that_is_not_published_is_refused() {
        let (keys, _) = keys();
        let (others, _) = keys_named("elsewhere");
        let token = others.sign(&claims()).expect("signed");
        assert_eq!(verify(&keys, &token), Err(TokenRejected::UnknownKey));
        // The same kid, another key: the signature tells.
        let (impostor, _) = keys_named("current");
        let token = impostor.sign(&claims()).expect("signed");
        assert_eq!(verify(&keys, &token), Err(TokenRejected::BadSignature));
    }

    fn keys_named(kid: &str) -> (SigningKeys, SigningKey) {
        let key = generated();
        (SigningKeys::from_keys(&[(kid, &key)]).expect("keys"), key)
    }

    #[test]
    fn a_token_of_a_retired_but_published_key_still_verifies() {
        let old = generated();
        let before = SigningKeys::from_keys(&[("old", &old)]).expect("keys");
        let token = before.sign(&claims()).expect("signed");
        let new = generated();
        let after = SigningKeys::from_keys(&[("new", &new), ("old", &old)]).expect("keys");
        assert_eq!(after.current_kid(), "new");
        assert_eq!(verify(&after, &token), Ok(claims()));
        let fresh = after.sign(&claims()).expect("signed");
        assert_eq!(
            jsonwebtoken::decode_header(&fresh)
                .expect("header")
                .kid
                .as_deref(),
            Some("new")
        );
    }

    #[test]
    fn an_upstream_verifies_tokens_with_the_published_jwks_alone() {
        let old = generated();
        let new = generated();
        let keys = SigningKeys::from_keys(&[("new", &new), ("old", &old)]).expect("keys");
        let published: serde_json::Value = serde_json::from_str(&keys.jwks()).expect("json");
        assert_eq!(
            published["keys"][0],
            serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(new.verifying_key().to_bytes()),
                "kid": "new",
                "use": "sig",
                "alg": "EdDSA",
            })
        );
        assert!(
            !keys
                .jwks()
                .contains(&URL_SAFE_NO_PAD.encode(new.to_bytes()))
        );

        // What an upstream does: fetch the set, find the token's kid, verify.
        let token = keys.sign(&claims()).expect("signed");
        let set: JwkSet = serde_json::from_str(&keys.jwks()).expect("a JWK set");
        assert_eq!(set.keys.len(), 2);
        let kid = jsonwebtoken::decode_header(&token)
            .expect("header")
            .kid
            .expect("a kid");
        let jwk = set.find(&kid).expect("the token's key is published");
        let key = DecodingKey::from_jwk(jwk).expect("a decoding key");
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        let verified = jsonwebtoken::decode::<Claims>(&token, &key, &validation).expect("verified");
        assert_eq!(verified.claims, claims());
    }

    #[test]
    fn keys_are_made_once_rotated_and_withdrawn_from_the_database() {
        use diesel::prelude::*;

        use crate::db::schema::signing_keys;

        let dir = tempfile::tempdir().expect("a temporary folder");
        let database = db::Database::Sqlite(dir.path().join("devcenter.db"));
        let pool = db::open(&database).expect("a database");
        let mut conn = pool.get().expect("a connection");
        let sealing = SealingKey::generate();

        let first = SigningKeys::ensure_and_load(&mut conn, &sealing).expect("loaded");
        let again = SigningKeys::ensure_and_load(&mut conn, &sealing).expect("loaded");
        assert_eq!(first.current_kid(), again.current_kid());
        assert_eq!(SigningKeyRow::count(&mut conn), Ok(1));
        let old_token = first.sign(&claims()).expect("signed");

        let kid = rotate(&mut conn, &sealing).expect("rotated");
        assert_ne!(kid, first.current_kid());
        // Until it reloads, an instance signs with the retired key, which still verifies.
        assert_eq!(
            verify(&first, &first.sign(&claims()).expect("signed")),
            Ok(claims())
        );
        let new_token = again.sign(&claims()).expect("signed");
        first.reload(&mut conn, &sealing).expect("reloaded");
        assert_eq!(first.current_kid(), kid);
        assert_eq!(verify(&first, &old_token), Ok(claims()));
        assert_eq!(verify(&first, &new_token), Ok(claims()));
        assert_eq!(first.jwks().matches("\"kid\"").count(), 2);

        // Retired longer ago than any token it signed can live: withdrawn.
        let long_ago = db::now() - chrono::Duration::hours(2);
        diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_not_null()))
            .set(signing_keys::retired_at.eq(long_ago))
            .execute(&mut conn)
            .expect("backdated");
        first.reload(&mut conn, &sealing).expect("reloaded");
        assert_eq!(verify(&first, &old_token), Err(TokenRejected::UnknownKey));
        assert_eq!(first.jwks().matches("\"kid\"").count(), 1);

        // Another sealing key opens none of it, and says which flag to fix.
        let error =
            SigningKeys::ensure_and_load(&mut conn, &SealingKey::generate()).expect_err("refused");
        assert!(
            format!("{error:#}").contains("--sealing-key-file"),
            "{error:#}"
        );
        assert!(first.reload(&mut conn, &SealingKey::generate()).is_err());
        assert_eq!(first.current_kid(), kid, "a failed reload keeps the keys");
        // The first unknown key reloads; another within a few seconds does not.
        assert!(
            first
                .reload_for_unknown_key(&mut conn, &sealing)
                .expect("asked")
        );
        assert!(
            !first
                .reload_for_unknown_key(&mut conn, &sealing)
                .expect("asked")
        );
    }

    #[test]
    fn debug_shows_key_ids_only() {
        let (keys, key) = keys();
        let shown = format!("{keys:?}");
        assert!(shown.contains("current"), "{shown}");
        for secret in [
            URL_SAFE_NO_PAD.encode(key.to_bytes()),
            format!("{:?}", key.to_bytes()),
        ] {
            assert!(!shown.contains(&secret), "{shown}");
        }
    }
}
