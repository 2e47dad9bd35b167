//! Encryption of personal data and secrets at rest: AES-256-GCM under a keyring (one key
//! seals, every key opens), each value with its own random nonce and the id of the key that
//! sealed it, bound to where it is stored; and a keyed blind index (HMAC-SHA256) for
//! finding a value by equality without storing it in the clear. The index key never
//! rotates with the data keys, so indexes stay valid across rotations.
//!
//! The database records its keyring's fingerprint (see [`fingerprint`]): the id and a keyed
//! check value of every data key values may be sealed under, which of them seals, and the
//! index key's check value — never a key. The protocol that keeps every process on the
//! keys the data needs:
//! - Opening a store checks the keyring against the fingerprint and refuses, before
//!   anything is written, a keyring that lacks a key in use or holds another key under its
//!   id (or another index key).
//! - Every transaction that seals or opens reads the fingerprint first (one settings row;
//!   a writer on PostgreSQL holds it `FOR SHARE` until commit) and seals under the key it
//!   names. When it changed since the process last looked, the keyring is loaded afresh and
//!   checked again; a keyring that still lacks the key is refused. So no process seals under
//!   a key a rotation elsewhere retired, nor fails to open a value sealed under a newer one.
//! - A rotation ([`rotation`]) holds a lease in the database and an exclusive lock on
//!   `<keyring>.lock`, re-reads the keyring, adds its key and writes the file atomically
//!   before the fingerprint names the key; then it switches the fingerprint (waiting for
//!   writers that still seal under the old key to commit), re-seals everything in batches,
//!   and finally retires the old keys from the fingerprint.

pub(crate) mod fingerprint;
pub mod rotation;

use std::{
    fs,
    io::{self, Read, Write},
    path::{Path, PathBuf},
};

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Marks a sealed value: `sy1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`.
const PREFIX: &str = "sy1";
const NONCE_LEN: usize = 12;
/// The most a keyring file may hold.
const KEYRING_LIMIT: u64 = 1 << 20;

/// Where a store's keyring comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// One data key, base64 of 32 bytes (`STOCKYARD_DATA_KEY`). Its blind-index key is
    /// derived from it, so moving on from it means moving to a keyring file.
    Key(String),
    /// A keyring file (`STOCKYARD_DATA_KEY_FILE`, or the SQLite default `<database>.key`).
    File(PathBuf),
}

impl KeySource {
    /// Names the source in a message, without the key.
    pub(crate) fn describe(&self) -> String {
        match self {
            KeySource::Key(_) => "STOCKYARD_DATA_KEY".into(),
            KeySource::File(path) => format!("the keyring {}", path.display()),
        }
    }
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Key(_) => f.write_str("Key(<redacted>)"),
            KeySource::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// One data key.
#[derive(Clone)]
struct DataKey {
    id: String,
    key: [u8; 32],
}

/// The keys a store encrypts with: one data key seals (the newest, unless the database
/// names another), any of them opens.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<DataKey>,
    index_key: [u8; 32],
    /// Which of `keys` seals.
    sealing: usize,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("key_ids", &self.key_ids()).finish_non_exhaustive()
    }
}

/// The keyring file's shape.
#[derive(Serialize, Deserialize)]
struct File {
    index_key: String,
    keys: Vec<FileKey>,
}

#[derive(Serialize, Deserialize)]
struct FileKey {
    id: String,
    key: String,
}

impl Keyring {
    /// A new keyring with one fresh data key and a fresh index key.
    pub fn generate() -> Self {
        let mut index_key = [0u8; 32];
        rand::fill(&mut index_key);
        Self { keys: vec![data_key(random_key())], index_key, sealing: 0 }
    }

    /// Loads the keyring a source names.
    pub fn load(source: &KeySource) -> Result<Self> {
        match source {
            KeySource::Key(encoded) => {
                let key = decode_key(encoded).map_err(|why| Error::internal(format!("STOCKYARD_DATA_KEY {why}")))?;
                let mut mac = hmac(&key);
                mac.update(b"stockyard blind index key v1");
                let index_key = mac.finalize().into_bytes().into();
                Ok(Self { keys: vec![data_key(key)], index_key, sealing: 0 })
            }
            KeySource::File(path) => Self::read(path),
        }
    }

    fn read(path: &Path) -> Result<Self> {
        let mut text = String::new();
        // Bounded: a keyring of thousands of keys is far smaller; `/dev/zero` is refused.
        fs::File::open(path).and_then(|f| f.take(KEYRING_LIMIT + 1).read_to_string(&mut text)).map_err(|e| {
            Error::internal(format!(
                "cannot read the keyring {}: {e} (its data cannot be decrypted without it)",
                path.display()
            ))
        })?;
        let bad = |why: String| Error::internal(format!("the keyring {} {why}", path.display()));
        if text.len() as u64 > KEYRING_LIMIT {
            return Err(bad(format!("is larger than {KEYRING_LIMIT} bytes: it is not a keyring file")));
        }
        let file: File = serde_json::from_str(&text).map_err(|e| bad(format!("is not a keyring file: {e}")))?;
        let keys = file
            .keys
            .iter()
            .map(|k| {
                let key = decode_key(&k.key).map_err(|why| bad(format!("key {}: {why}", k.id)))?;
                Ok(DataKey { id: k.id.clone(), key })
            })
            .collect::<Result<Vec<_>>>()?;
        if keys.is_empty() {
            return Err(bad("holds no data key".into()));
        }
        let index_key = decode_key(&file.index_key).map_err(|why| bad(format!("index key: {why}")))?;
        let sealing = keys.len() - 1;
        Ok(Self { keys, index_key, sealing })
    }

    /// Writes the keyring to `path` with owner-only permissions, replacing it atomically:
    /// written under a name of its own, synced, renamed over `path`, the folder synced.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.write_with(path, |temporary| fs::rename(temporary, path).map(|()| true)).map(drop)
    }

    /// Writes the keyring to `path` as [`Keyring::save`] does unless a file is there already,
    /// which it never replaces; returns whether it wrote.
    pub(crate) fn save_new(&self, path: &Path) -> Result<bool> {
        self.write_with(path, |temporary| match fs::hard_link(temporary, path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            linked => linked.map(|()| true),
        })
    }

    /// Writes the keyring to a fresh temporary file beside `path`, synced, then lets
    /// `install` put it in place; the temporary file never outlives the call.
    fn write_with(&self, path: &Path, install: impl FnOnce(&Path) -> io::Result<bool>) -> Result<bool> {
        let file = File {
            index_key: STANDARD.encode(self.index_key),
            keys: self.keys.iter().map(|k| FileKey { id: k.id.clone(), key: STANDARD.encode(k.key) }).collect(),
        };
        let text = serde_json::to_string_pretty(&file).map_err(|e| Error::internal_from("cannot encode JSON", e))?;
        // A name no other writer uses, so concurrent writers never share a half-written file.
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{}.{}.tmp", std::process::id(), &hex(&random_key())[..16]));
        let temporary = PathBuf::from(name);
        let written = (|| {
            let mut out = private_file(&temporary)?;
            out.write_all(text.as_bytes())?;
            out.sync_all()?;
            let installed = install(&temporary)?;
            sync_folder(path)?;
            Ok(installed)
        })();
        // Gone after a rename; after a hard link (or a failure) the temporary name remains.
        let _ = fs::remove_file(&temporary);
        written.map_err(|e: io::Error| Error::internal_from(format!("cannot write the keyring {}", path.display()), e))
    }

    /// Adds a data key, which seals from now on; returns its id.
    pub fn add(&mut self, key: [u8; 32]) -> Result<String> {
        let key = data_key(key);
        if self.keys.iter().any(|k| k.id == key.id) {
            return Err(Error::invalid("key", "the keyring already holds this key"));
        }
        let id = key.id.clone();
        self.keys.push(key);
        self.sealing = self.keys.len() - 1;
        Ok(id)
    }

    /// The ids of the data keys, oldest first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// The id of the key that seals.
    pub fn sealing_id(&self) -> &str {
        &self.keys[self.sealing].id
    }

    /// The id of the newest key: the one a rotation moves everything to.
    pub(crate) fn newest_id(&self) -> &str {
        // A keyring is never empty: every constructor makes or checks one key.
        &self.keys[self.keys.len() - 1].id
    }

    /// Seals under the key `id` from now on, if the keyring holds it.
    pub(crate) fn seal_under(mut self, id: &str) -> Option<Self> {
        self.sealing = self.keys.iter().position(|k| k.id == id)?;
        Some(self)
    }

    /// The keyed check value of data key `id`, if the keyring holds it: it tells keys apart
    /// without revealing anything about them.
    pub(crate) fn check_value(&self, id: &str) -> Option<String> {
        self.keys.iter().find(|k| k.id == id).map(|k| check_value(&k.key))
    }

    /// The check value of the blind-index key.
    pub(crate) fn index_check_value(&self) -> String {
        check_value(&self.index_key)
    }

    /// Encrypts `plaintext` under the sealing key, bound to `context` (where the value is
    /// stored, e.g. `settings.value/jwt_secret`): a value moved elsewhere does not open.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String> {
        let key = &self.keys[self.sealing];
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = cipher(key)
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .map_err(|_| Error::internal("encryption failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Ok(format!("{PREFIX}:{}:{}", key.id, STANDARD.encode(bytes)))
    }

    /// Decrypts a sealed value. A key missing from the keyring, a wrong key and a corrupted
    /// value each give their own clear error.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>> {
        let corrupt = || Error::internal(format!("the encrypted value of {context} is corrupted"));
        let mut parts = sealed.splitn(3, ':');
        let (Some(PREFIX), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(corrupt());
        };
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| {
            Error::internal(format!(
                "{context} was encrypted with key {id}, which the keyring (keys {}) does not hold",
                self.key_ids().join(", ")
            ))
        })?;
        let bytes = STANDARD.decode(body).map_err(|_| corrupt())?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(corrupt());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| corrupt())?;
        cipher(key).decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: context.as_bytes() }).map_err(|_| {
            Error::internal(format!(
                "cannot decrypt {context} with key {id}: the key is not the one it was sealed with, or the value was altered"
            ))
        })
    }

    /// Whether a sealed value is under the sealing key (rotation skips those).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed_key_id(sealed) == Some(self.sealing_id())
    }

    /// The blind index of `value` for lookups in `context` (e.g. `customer.email`): equal
    /// inputs give equal indexes, and nothing about the value shows without the index key.
    /// Callers normalise first (e.g. lower-case an email).
    pub fn blind_index(&self, context: &str, value: &str) -> String {
        let mut mac = hmac(&self.index_key);
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// The keyring file of a SQLite store: `<database>.key`, next to it.
pub(crate) fn default_keyring_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// The id of the key a sealed value names.
pub(crate) fn sealed_key_id(sealed: &str) -> Option<&str> {
    sealed.strip_prefix(PREFIX)?.strip_prefix(':')?.split(':').next()
}

/// An exclusive lock on `<keyring>.lock`, held until the file is dropped: writers of one
/// keyring file take turns. The keyring itself is replaced by a rename, so a lock on it
/// would hold the old file, not the one the next writer reads.
pub(crate) fn lock_keyring_file(path: &Path) -> Result<fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let locked = lock_file(&lock_path).and_then(|file| file.lock().map(|()| file));
    locked.map_err(|e| Error::internal_from(format!("cannot lock {}", lock_path.display()), e))
}

/// A fresh random 32-byte key.
pub fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    key
}

/// A 32-byte key from base64, with a reason when it is not one.
pub fn decode_key(encoded: &str) -> std::result::Result<[u8; 32], String> {
    let bytes = STANDARD.decode(encoded.trim()).map_err(|_| "is not base64".to_owned())?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| format!("is {} bytes, not 32", bytes.len()))
}

fn data_key(key: [u8; 32]) -> DataKey {
    // The id names the key without revealing it: a prefix of its hash.
    DataKey { id: format!("k{}", &hex(&Sha256::digest(key))[..12]), key }
}

fn cipher(key: &DataKey) -> Aes256Gcm {
    Aes256Gcm::new(&key.key.into())
}

fn hmac(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts 32-byte keys"))
}

fn check_value(key: &[u8; 32]) -> String {
    let mut mac = hmac(key);
    mac.update(b"stockyard key check v1");
    hex(&mac.finalize().into_bytes()[..16])
}

/// Syncs the folder holding `path`, so a rename or link in it survives a crash.
fn sync_folder(path: &Path) -> io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(folder) => fs::File::open(folder)?.sync_all(),
        None => fs::File::open(".")?.sync_all(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn private_file(path: &Path) -> io::Result<fs::File> {
    owner_only(fs::OpenOptions::new().write(true).create_new(true)).open(path)
}

fn lock_file(path: &Path) -> io::Result<fs::File> {
    owner_only(fs::OpenOptions::new().write(true).create(true).truncate(false)).open(path)
}

#[cfg(unix)]
fn owner_only(options: &mut fs::OpenOptions) -> &mut fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(0o600)
}

#[cfg(not(unix))]
fn owner_only(options: &mut fs::OpenOptions) -> &mut fs::OpenOptions {
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_in_context() {
        let ring = Keyring::generate();
        let sealed = ring.seal("customer.email/1", b"ann@example.com").expect("seal");
        assert!(sealed.starts_with("sy1:k") && !sealed.contains("ann"));
        assert_ne!(sealed, ring.seal("customer.email/1", b"ann@example.com").expect("seal"), "fresh nonce");
        assert_eq!(ring.open("customer.email/1", &sealed).expect("open"), b"ann@example.com");
        assert!(ring.open("customer.email/2", &sealed).is_err(), "bound to where it is stored");
        assert!(ring.is_current(&sealed));
    }

    #[test]
    fn wrong_key_missing_key_and_corruption_are_told_apart() {
        let ring = Keyring::generate();
        let sealed = ring.seal("c", b"secret").expect("seal");
        let other = Keyring::generate();
        let missing = other.open("c", &sealed).map_err(|e| e.to_string()).expect_err("missing key");
        assert!(missing.contains("does not hold"), "{missing}");
        // The same key id but different key bytes: a wrong key.
        let mut wrong = ring.clone();
        wrong.keys[0].key[0] ^= 1;
        let err = wrong.open("c", &sealed).map_err(|e| e.to_string()).expect_err("wrong key");
        assert!(err.contains("not the one it was sealed with"), "{err}");
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let err = ring.open("c", &String::from_utf8(bytes).expect("utf8")).map_err(|e| e.to_string());
        assert!(err.expect_err("altered").contains("altered"));
        assert!(ring.open("c", "sy1:nonsense").map_err(|e| e.to_string()).expect_err("corrupt").contains("corrupted"));
    }

    #[test]
    fn rotation_keeps_old_values_open_and_the_index_stable() {
        let mut ring = Keyring::generate();
        let old = ring.seal("c", b"v").expect("seal");
        let index = ring.blind_index("customer.email", "ann@example.com");
        ring.add(random_key()).expect("add");
        assert!(!ring.is_current(&old));
        assert_eq!(ring.open("c", &old).expect("old key still opens"), b"v");
        assert!(ring.is_current(&ring.seal("c", b"v").expect("seal")));
        assert_eq!(ring.blind_index("customer.email", "ann@example.com"), index);
        assert_ne!(ring.blind_index("customer.phone", "ann@example.com"), index);
    }

    #[test]
    fn keys_from_base64() {
        assert!(decode_key(&STANDARD.encode([7u8; 32])).is_ok());
        assert_eq!(decode_key(&STANDARD.encode([7u8; 16])), Err("is 16 bytes, not 32".into()));
        assert_eq!(decode_key("***"), Err("is not base64".into()));
    }
}
