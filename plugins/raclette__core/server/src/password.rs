//! Password hashing with argon2id (the `argon2` crate, its default
//! parameters: 19 MiB, 2 passes, the OWASP recommendation), on a few
//! threads of its own, one per core, so that a burst of sign-ins cannot
//! take all of the server's memory.
//!
//! Threads of their own rather than the runtime's blocking pool: the C
//! library's allocator keeps what a thread freed in that thread's arena,
//! and hashes spread over the pool's many threads left hundreds of
//! megabytes behind after a burst of failed sign-ins (about 860 MB on two
//! cores); on a few long-lived threads the hashes reuse the same memory.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, LazyLock, Mutex, PoisonError, mpsc},
};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

/// Shortest accepted password, in characters (OWASP ASVS 2.1.1).
pub(crate) const MIN_LENGTH: usize = 12;
/// Longest accepted password, in characters (OWASP ASVS 2.1.2).
pub(crate) const MAX_LENGTH: usize = 128;

/// A hash to compute on one of the [`HASHERS`].
type Job = Box<dyn FnOnce() + Send>;

/// The queue of the hashing threads, started on first use.
static HASHERS: LazyLock<mpsc::Sender<Job>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..cores {
        let queue = queue.clone();
        let started = std::thread::Builder::new()
            .name(format!("raclette-hash-{n}"))
            .spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok(job) = next else { return };
                    // A panic fails that hash (its caller sees it), not the thread.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            });
        if let Err(err) = started {
            raclette::tracing::error!(error = %err, "cannot start a password hashing thread");
        }
    }
    jobs
});

/// `work`'s result, computed on a hashing thread; `None` when no hashing
/// thread could start or the work panicked.
async fn on_hasher<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    let (done, result) = tokio::sync::oneshot::channel();
    HASHERS
        .send(Box::new(move || {
            let _ = done.send(work());
        }))
        .ok()?;
    result.await.ok()
}

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
    on_hasher(move || hash_now(&password).map_err(|e| e.to_string()))
        .await
        .unwrap_or_else(|| Err("password hashing is not available".to_owned()))
}

/// Whether `password` matches `hash`; with no hash (unknown account) it
/// verifies against a dummy hash and answers false.
pub(crate) async fn verify(password: String, hash: Option<String>) -> bool {
    on_hasher(move || match hash {
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

    #[tokio::test]
    async fn hashes_run_on_a_few_threads_of_their_own() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut hashes = tokio::task::JoinSet::new();
        for _ in 0..4 * cores {
            hashes.spawn(super::on_hasher(|| {
                let _ = super::hash_now("correct horse battery");
                std::thread::current().name().map(str::to_owned)
            }));
        }
        let names: std::collections::BTreeSet<String> = hashes
            .join_all()
            .await
            .into_iter()
            .map(|name| name.flatten().expect("a named hashing thread"))
            .collect();
        assert!(
            names.iter().all(|name| name.starts_with("raclette-hash-")),
            "{names:?}"
        );
        assert!(names.len() <= cores, "{names:?}");
        assert_eq!(
            super::on_hasher(|| -> u8 { panic!("a failing hash") }).await,
            None,
            "a panic fails its own hash"
        );
        assert!(
            super::on_hasher(|| 1).await.is_some(),
            "and the threads go on"
        );
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
