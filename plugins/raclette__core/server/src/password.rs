//! Password hashing with argon2id (the `argon2` crate, its default
//! parameters: 19 MiB, 2 passes, the OWASP recommendation), on a few
//! threads of its own, one per core, so that a burst of sign-ins cannot
//! take all of the server's memory.
//!
//! Each hashing thread keeps the 19 MiB its hashes work in and reuses it
//! for the next (argon2's `hash_password_into_with_memory`), instead of
//! allocating it per hash: the C library's allocator kept freed blocks in
//! per-thread arenas, and a burst of 50 concurrent failed sign-ins left
//! about 860 MB behind on two cores when the hashes ran on the runtime's
//! many blocking threads (still 300 MB on two threads of their own, in six
//! arenas). The PHC strings written and read are those of the crate's own
//! `PasswordHasher` and `PasswordVerifier`.

use std::{
    cell::RefCell,
    panic::AssertUnwindSafe,
    sync::{Arc, LazyLock, Mutex, PoisonError, mpsc},
};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, Salt, SaltString, rand_core::OsRng},
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

thread_local! {
    /// The memory this thread's hashes work in, kept between them.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// `password` hashed by `argon2` with `salt` into `out`, in this thread's
/// kept memory.
fn compute(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    out: &mut [u8],
) -> Result<(), argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    BLOCKS.with_borrow_mut(|blocks| {
        blocks.resize(argon2.params().block_count(), Block::default());
        argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..])
    })?;
    Ok(())
}

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default());
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        compute(&argon2, password.as_bytes(), salt.as_salt(), out)
    })?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

fn verify_now(password: &str, hash: &str) -> bool {
    let check = || -> Result<bool, argon2::password_hash::Error> {
        let parsed = PasswordHash::new(hash)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Ok(false);
        };
        let algorithm = Algorithm::try_from(parsed.algorithm)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let argon2 = Argon2::new(algorithm, version, Params::try_from(&parsed)?);
        let computed = Output::init_with(expected.len(), |out| {
            compute(&argon2, password.as_bytes(), salt, out)
        })?;
        // `Output` compares in constant time.
        Ok(computed == expected)
    };
    check().unwrap_or(false)
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

    #[test]
    fn hashes_read_and_write_the_crates_own_phc_strings() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let password = "correct horse battery";
        let theirs = argon2::Argon2::default()
            .hash_password(
                password.as_bytes(),
                &super::SaltString::generate(&mut super::OsRng),
            )
            .unwrap()
            .to_string();
        assert!(super::verify_now(password, &theirs), "{theirs}");
        assert!(!super::verify_now("wrong horse battery", &theirs));
        let ours = super::hash_now(password).unwrap();
        let parsed = argon2::PasswordHash::new(&ours).unwrap();
        assert!(
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            "{ours}"
        );
        assert_eq!(
            ours.split('$').take(4).collect::<Vec<_>>(),
            theirs.split('$').take(4).collect::<Vec<_>>(),
            "same algorithm, version and parameters"
        );
        assert!(!super::verify_now(password, "not a hash"));
        assert!(!super::verify_now(
            password,
            "$argon2id$v=19$m=19456,t=2,p=1"
        ));
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
