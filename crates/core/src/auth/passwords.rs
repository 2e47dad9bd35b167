//! Passwords: argon2id hashes (the crate's defaults, OWASP's m=19 MiB, t=2, p=1), the
//! strength rule, and generated passwords.

use std::sync::OnceLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{Error, Result};

const MIN_LENGTH: usize = 12;
const MAX_LENGTH: usize = 256;

/// Refuses a password too short, too long or too repetitive to be worth hashing.
pub(crate) fn check_strength(password: &str) -> Result<()> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(Error::invalid("password", format!("is shorter than {MIN_LENGTH} characters")));
    }
    if length > MAX_LENGTH {
        return Err(Error::invalid("password", format!("is longer than {MAX_LENGTH} characters")));
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Err(Error::invalid("password", "uses fewer than 5 different characters"));
    }
    Ok(())
}

/// The PHC string of an argon2id hash of `password` under a fresh random salt.
pub(crate) fn hash(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::internal_from("cannot hash a password", e))
}

/// Whether `password` matches the stored hash (a malformed hash matches nothing).
pub(crate) fn verify(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// Spends the time of one verification, for a login naming no account, so the answer's
/// timing does not tell whether the email exists.
pub(crate) fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("stockyard-timing-equaliser").unwrap_or_default());
    verify(password, dummy);
}

/// A random password of 24 URL-safe characters (144 bits), shown once to whoever asked.
pub(crate) fn generate() -> String {
    let mut bytes = [0u8; 18];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash("correct horse battery").expect("hash");
        let b = hash("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$") && a != b);
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn strength() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("aaaaaaaaaaaaaaaa").is_err());
        assert!(check_strength(&generate()).is_ok());
        assert!(check_strength("correct horse battery").is_ok());
    }
}
