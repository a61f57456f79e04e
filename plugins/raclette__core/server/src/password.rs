//! Password hashing with argon2id (the `argon2` crate, its default
//! parameters: 19 MiB, 2 passes, the OWASP recommendation), on blocking
//! threads, a few at a time so that a burst of sign-ins cannot take all
//! of the server's memory.

use std::sync::{Arc, LazyLock};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

/// Shortest accepted password, in characters (OWASP ASVS 2.1.1).
pub(crate) const MIN_LENGTH: usize = 12;
/// Longest accepted password, in characters (OWASP ASVS 2.1.2).
pub(crate) const MAX_LENGTH: usize = 128;

/// At most this many hashes are computed at once.
static HASHING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new(cores))
});

/// A hash verified when the email is unknown, so that a failed sign-in
/// takes as long whether or not the account exists.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now("not a password of anyone").unwrap_or_default());

/// Why a password is not accepted, for the field `field`.
pub(crate) fn check_policy(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        Err(format!("must be at least {MIN_LENGTH} characters"))
    } else if length > MAX_LENGTH {
        Err(format!("must be at most {MAX_LENGTH} characters"))
    } else {
        Ok(())
    }
}

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The PHC string of `password`'s argon2id hash with a new salt.
pub(crate) async fn hash(password: String) -> Result<String, String> {
    let _permit = HASHING.acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || hash_now(&password).map_err(|e| e.to_string()))
        .await
        .map_err(|e| e.to_string())?
}

/// Whether `password` matches `hash`; with no hash (unknown account) it
/// verifies against a dummy hash and answers false.
pub(crate) async fn verify(password: String, hash: Option<String>) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_now(&password, &hash),
        None => {
            let _ = verify_now(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let a = super::hash("correct horse battery".into()).await.unwrap();
        let b = super::hash("correct horse battery".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(super::verify("correct horse battery".into(), Some(a.clone())).await);
        assert!(!super::verify("wrong horse battery".into(), Some(a)).await);
        assert!(!super::verify("correct horse battery".into(), None).await);
    }

    #[test]
    fn policy_names_the_bounds() {
        assert!(super::check_policy("short").unwrap_err().contains("12"));
        assert!(
            super::check_policy(&"x".repeat(129))
                .unwrap_err()
                .contains("128")
        );
        assert!(super::check_policy("long enough password").is_ok());
    }
}
