//! The sealing key: a 256-bit key kept in a file outside the database, which seals the
//! private halves of the token signing keys stored in it (XChaCha20-Poly1305). A copy of
//! the database alone then signs no token. Every instance serving one database must be
//! given the same file (`--sealing-key-file`).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use chacha20poly1305::aead::{Aead, Generate};
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretBox, SecretSlice};

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// The key that seals the signing keys. Its `Debug` never shows it.
#[derive(Debug)]
pub struct SealingKey(SecretBox<[u8; KEY_LEN]>);

/// A sealed value that this sealing key cannot open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a signing key in the database cannot be unsealed: it was sealed with another sealing \
     key, or altered. Give every instance serving this database the same --sealing-key-file"
)]
pub struct Unsealable;

impl SealingKey {
    /// The key in the file at `path`: 64 hexadecimal characters. When the file is missing,
    /// a new key is made and written there (and the folder made), readable by its owner
    /// only. Two processes starting together end up with the same key: the file appears
    /// whole or not at all, and the first one written wins.
    pub fn load_or_create(path: &Path) -> anyhow::Result<SealingKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::parse(path, &Zeroizing::new(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("cannot read the sealing key {}", path.display()));
            }
        }
        let key = SealingKey(SecretBox::new(Box::new(Key::generate().into())));
        key.create_file(path)?;
        // Another process may have won the race: whichever file is there is the key.
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the sealing key {}", path.display()))?;
        let key = Self::parse(path, &Zeroizing::new(text))?;
        tracing::info!(path = %path.display(), "made a new sealing key");
        Ok(key)
    }

    fn parse(path: &Path, text: &str) -> anyhow::Result<SealingKey> {
        let Some(bytes) = decode_hex(text.trim()) else {
            bail!(
                "the sealing key file {} does not hold a sealing key (64 hexadecimal \
                 characters); restore the right file, or point --sealing-key-file at it",
                path.display()
            );
        };
        Ok(SealingKey(SecretBox::new(Box::new(*bytes))))
    }

    /// Writes the key to a private temporary file, then links it into place: the link
    /// fails when the file already exists, so a key another process wrote is never
    /// overwritten, and a reader never sees a half-written file.
    fn create_file(&self, path: &Path) -> anyhow::Result<()> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(folder) = folder
            && !folder.exists()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(folder)
                .with_context(|| format!("cannot create the folder {}", folder.display()))?;
        }
        let file_name = path
            .file_name()
            .with_context(|| format!("{} is not a file name", path.display()))?;
        let mut temporary_name = file_name.to_owned();
        temporary_name.push(format!(".{}.tmp", std::process::id()));
        let temporary = path.with_file_name(temporary_name);
        // A leftover of a crash of a process that had this one's id.
        let _ = std::fs::remove_file(&temporary);
        let written = (|| -> anyhow::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temporary)
                .with_context(|| format!("cannot create {}", temporary.display()))?;
            let text = Zeroizing::new(encode_hex(self.0.expose_secret()) + "\n");
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            match std::fs::hard_link(&temporary, path) {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                Err(error) => Err(error)
                    .with_context(|| format!("cannot create the sealing key {}", path.display())),
            }
        })();
        let _ = std::fs::remove_file(&temporary);
        written
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(*self.0.expose_secret()))
    }

    /// `plaintext` sealed: a random 24-byte nonce, then the ciphertext and its tag.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce = XNonce::generate();
        let sealed = self.cipher().encrypt(&nonce, plaintext);
        // Only a plaintext beyond the cipher's 256 GiB limit fails to encrypt.
        let sealed = sealed.unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// What `seal` sealed, when this key sealed it and nothing changed since.
    pub fn unseal(&self, sealed: &[u8]) -> Result<SecretSlice<u8>, Unsealable> {
        if sealed.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| Unsealable)?;
        self.cipher()
            .decrypt(&nonce, ciphertext)
            .map(SecretSlice::from)
            .map_err(|_| Unsealable)
    }

    /// A key made here and now, for tests that need no file.
    #[cfg(test)]
    pub(crate) fn generate() -> SealingKey {
        SealingKey(SecretBox::new(Box::new(Key::generate().into())))
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

fn decode_hex(text: &str) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let digits = text.as_bytes();
    if digits.len() != KEY_LEN * 2 {
        return None;
    }
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *byte = u8::try_from(high * 16 + low).ok()?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_unseals_with_the_same_key() {
        let key = SealingKey::generate();
        let sealed = key.seal(b"a signing key");
        assert_eq!(sealed.len(), NONCE_LEN + 13 + 16);
        assert_ne!(&sealed[NONCE_LEN..NONCE_LEN + 13], b"a signing key");
        let unsealed = key.unseal(&sealed).expect("unseals");
        assert_eq!(unsealed.expose_secret(), b"a signing key");
        // A fresh nonce each time: the same plaintext never seals the same way twice.
        assert_ne!(key.seal(b"a signing key"), sealed);
    }

    #[test]
    fn another_sealing_key_cannot_unseal() {
        let sealed = SealingKey::generate().seal(b"a signing key");
        let error = SealingKey::generate().unseal(&sealed).unwrap_err();
        assert!(error.to_string().contains("--sealing-key-file"), "{error}");
    }

    #[test]
    fn any_changed_byte_is_refused() {
        let key = SealingKey::generate();
        let sealed = key.seal(b"a signing key");
        for at in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[at] ^= 0x01;
            assert_eq!(key.unseal(&tampered).unwrap_err(), Unsealable, "byte {at}");
        }
        assert_eq!(key.unseal(&sealed[..10]).unwrap_err(), Unsealable);
        assert_eq!(
            key.unseal(&sealed[..sealed.len() - 1]).unwrap_err(),
            Unsealable
        );
    }

    #[test]
    fn the_key_file_is_made_private_once_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("new-folder").join("sealing.key");
        let made = SealingKey::load_or_create(&path).expect("made");
        let mode = std::fs::metadata(&path)
            .expect("the file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).expect("readable");
        assert_eq!(text.trim().len(), 64);
        let again = SealingKey::load_or_create(&path).expect("read back");
        assert_eq!(
            again
                .unseal(&made.seal(b"x"))
                .expect("the same key")
                .expose_secret(),
            b"x"
        );
        assert!(!format!("{made:?}").contains(text.trim()));
        let leftovers = std::fs::read_dir(path.parent().expect("a folder"))
            .expect("listed")
            .count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn a_file_that_is_not_a_key_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("sealing.key");
        for content in ["", "not a key", &"g".repeat(64), &"ab".repeat(31)] {
            std::fs::write(&path, content).expect("written");
            let error = SealingKey::load_or_create(&path).unwrap_err();
            assert!(
                format!("{error:#}").contains("does not hold a sealing key"),
                "{error:#}"
            );
        }
    }
}
