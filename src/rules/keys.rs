//! API keys: how they are made, recognised and stored.
//!
//! A key reads `{prefix}_{secret}{checksum}`: a type prefix (`dch` Harvest, `dcj` Job Board,
//! `dcp` Partner, `dcs` a Harvest v3 client secret, `dco` a partner OAuth client's secret) so secret scanners and people can tell keys apart; 43 base62 characters
//! (256 bits) from the operating system's CSPRNG; and 6 base62 characters encoding the
//! CRC-32 of everything before them. CRC-32 detects every single-byte change, so a mistyped
//! or truncated key is refused before any lookup. Only the BLAKE3 hash is ever stored.

use std::fmt;

use rand::distr::{Alphanumeric, SampleString};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use secrecy::{ExposeSecret, SecretString};

use super::words::{ApiType, ProductWord};

const SECRET_LEN: usize = 43;
const CHECKSUM_LEN: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn prefix(api_type: ApiType) -> &'static str {
    match api_type {
        ApiType::Harvest => "dch_",
        ApiType::HarvestV3 => "dcs_",
        ApiType::JobBoard => "dcj_",
        ApiType::Partner => "dcp_",
        ApiType::OauthClient => "dco_",
    }
}

/// A full API key in plain text, held in `secrecy`'s string. It exists only while a key is
/// being shown once or checked; its `Debug` never prints it.
pub struct ApiKey {
    text: SecretString,
    api_type: ApiType,
}

/// The stored form of a key: its BLAKE3 hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash(pub [u8; 32]);

/// Why a presented key was refused without a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedKey {
    #[error("the key has no known type prefix")]
    UnknownPrefix,
    #[error("the key has the wrong length or characters")]
    BadShape,
    #[error("the key's checksum does not match")]
    BadChecksum,
}

impl ApiKey {
    /// A new key of `api_type`, its secret drawn from the operating system.
    pub fn generate(api_type: ApiType) -> Self {
        let secret = Alphanumeric.sample_string(&mut UnwrapErr(SysRng), SECRET_LEN);
        let mut text = String::with_capacity(4 + SECRET_LEN + CHECKSUM_LEN);
        text.push_str(prefix(api_type));
        text.push_str(&secret);
        text.push_str(&encode_checksum(crc32fast::hash(text.as_bytes())));
        Self {
            text: text.into(),
            api_type,
        }
    }

    /// Recognises a presented key by its shape and checksum alone.
    pub fn parse(text: &str) -> Result<Self, MalformedKey> {
        let api_type = Self::check(text)?;
        Ok(Self {
            text: text.to_owned().into(),
            api_type,
        })
    }

    /// The hash a presented key is looked up by, once its shape and checksum pass;
    /// allocates nothing, for the gate's hot path.
    pub fn hash_of(text: &str) -> Result<KeyHash, MalformedKey> {
        Self::check(text)?;
        Ok(KeyHash(*blake3::hash(text.as_bytes()).as_bytes()))
    }

    fn check(text: &str) -> Result<ApiType, MalformedKey> {
        let api_type = ApiType::ALL
            .iter()
            .copied()
            .find(|t| text.starts_with(prefix(*t)))
            .ok_or(MalformedKey::UnknownPrefix)?;
        let body = &text[prefix(api_type).len()..];
        if body.len() != SECRET_LEN + CHECKSUM_LEN
            || !body.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(MalformedKey::BadShape);
        }
        let (signed, checksum) = text.split_at(text.len() - CHECKSUM_LEN);
        if decode_checksum(checksum) != Some(crc32fast::hash(signed.as_bytes())) {
            return Err(MalformedKey::BadChecksum);
        }
        Ok(api_type)
    }

    pub fn api_type(&self) -> ApiType {
        self.api_type
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash(*blake3::hash(self.reveal().as_bytes()).as_bytes())
    }

    /// The type prefix, shown in the credentials table.
    pub fn prefix(&self) -> &'static str {
        prefix(self.api_type)
    }

    /// The last four characters, shown in the credentials table.
    pub fn last4(&self) -> &str {
        let text = self.reveal();
        &text[text.len() - 4..]
    }

    /// The whole key, for the one time it is shown.
    pub fn reveal(&self) -> &str {
        self.text.expose_secret()
    }
}

/// A Harvest v3 credential's client ID: public (shown on the credential's pages and sent
/// with every token request), so it needs no checksum, only to be unguessable enough that
/// ids cannot be enumerated. `dci_` and 24 base62 characters from the CSPRNG.
pub struct ClientId;

impl ClientId {
    pub const PREFIX: &'static str = "dci_";

    pub fn generate() -> String {
        let mut id = String::from(Self::PREFIX);
        id.push_str(&Alphanumeric.sample_string(&mut UnwrapErr(SysRng), 24));
        id
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}…{})", self.prefix(), self.last4())
    }
}

fn encode_checksum(mut value: u32) -> String {
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits.iter().map(|&b| b as char).collect()
}

fn decode_checksum(text: &str) -> Option<u32> {
    let mut value: u64 = 0;
    for byte in text.bytes() {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'A'..=b'Z' => byte - b'A' + 10,
            b'a'..=b'z' => byte - b'a' + 36,
            _ => return None,
        };
        value = value * 62 + u64::from(digit);
    }
    u32::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_parses_back_with_its_type() {
        for api_type in [ApiType::Harvest, ApiType::JobBoard, ApiType::Partner] {
            let key = ApiKey::generate(api_type);
            let parsed = ApiKey::parse(key.reveal()).expect("a fresh key is well formed");
            assert_eq!(parsed.api_type(), api_type);
            assert_eq!(parsed.hash(), key.hash());
            assert_eq!(ApiKey::hash_of(key.reveal()), Ok(key.hash()));
        }
    }

    #[test]
    fn a_key_carries_at_least_256_bits_of_secret() {
        let bits = SECRET_LEN as f64 * 62f64.log2();
        assert!(bits >= 256.0, "{bits} bits");
        let a = ApiKey::generate(ApiType::Harvest);
        let b = ApiKey::generate(ApiType::Harvest);
        assert_ne!(a.reveal(), b.reveal());
        assert_eq!(a.reveal().len(), 4 + SECRET_LEN + CHECKSUM_LEN);
    }

    #[test]
    fn every_single_character_change_is_caught() {
        let alphabet: Vec<char> = (0u8..=127).map(char::from).chain(['é', '…']).collect();
        for api_type in [ApiType::Harvest, ApiType::JobBoard, ApiType::Partner] {
            let key = ApiKey::generate(api_type);
            let original: Vec<char> = key.reveal().chars().collect();
            let mut variants = 0;
            for position in 0..original.len() {
                for &replacement in &alphabet {
                    if replacement == original[position] {
                        continue;
                    }
                    let mut changed = original.clone();
                    changed[position] = replacement;
                    let changed: String = changed.into_iter().collect();
                    assert!(
                        ApiKey::parse(&changed).is_err() && ApiKey::hash_of(&changed).is_err(),
                        "changing position {position} to {replacement:?} went unnoticed"
                    );
                    variants += 1;
                }
            }
            assert!(variants > 6000);
        }
    }

    #[test]
    fn a_truncated_or_extended_key_is_refused() {
        let key = ApiKey::generate(ApiType::Partner);
        let text = key.reveal();
        assert_eq!(
            ApiKey::parse(&text[..text.len() - 1]).unwrap_err(),
            MalformedKey::BadShape
        );
        assert_eq!(
            ApiKey::parse(&format!("{text}0")).unwrap_err(),
            MalformedKey::BadShape
        );
        assert_eq!(ApiKey::parse("").unwrap_err(), MalformedKey::UnknownPrefix);
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let key = ApiKey::generate(ApiType::Harvest);
        let shown = format!("{key:?}");
        assert!(!shown.contains(&key.reveal()[4..40]));
        assert!(shown.ends_with(&format!("{})", key.last4())));
    }

    #[test]
    fn checksum_encoding_round_trips_at_the_edges() {
        for value in [0, 1, 61, 62, u32::MAX / 2, u32::MAX] {
            assert_eq!(decode_checksum(&encode_checksum(value)), Some(value));
        }
        assert_eq!(decode_checksum("zzzzzz"), None);
    }
}
