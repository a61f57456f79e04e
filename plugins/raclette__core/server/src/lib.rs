//! Server half of the built-in `raclette__core` plugin: users, sign-in,
//! roles, projects (tenants) and tags.
//!
//! It is written against the public plugin API like any plugin. Its
//! request identifier ([`raclette::IdentifyRequests`]) reads the request's
//! credentials (a session cookie
//! or an `Authorization: Bearer` API token) and puts the request's
//! [`raclette::CurrentUser`] (with the permissions of their role in the
//! request's project) and [`raclette::Project`] into its extensions, where
//! the route guard and the data API of every plugin read them.
//!
//! Routes, under `/plugin/raclette/core`:
//!
//! | route | who | does |
//! |---|---|---|
//! | `POST /session` | anyone | signs in (`email`, `password`); sets the session cookie |
//! | `GET /session` | anyone | the signed-in user, project, projects and CSRF token, or `user: null` |
//! | `DELETE /session` | signed in | signs out: the session is deleted |
//! | `PUT /session/project` | signed in | switches project (`project`), remembered in the session |
//! | `POST /password` | signed in | changes the password (`currentPassword`, `newPassword`); ends the user's other sessions |
//! | `GET /token/all`, `POST /token`, `DELETE /token/:_id` | signed in | the user's API tokens |
//! | `GET /user/all`, `GET /user/:_id` | signed in | members of the project (admins: everyone) |
//! | `PATCH /user/:_id` | self or admin | display name; admins also `isAdmin`, `disabled` |
//! | `GET /project/all`, `POST /project` | signed in | the user's projects; a new one (they own it) |
//! | `PUT /member`, `DELETE /member/:_id` | `raclette__core.members.manage` | members of the request's project |
//! | `/tag/…` | `raclette__core.tag.read`/`write` | the project's tags (standard data routes) |
//!
//! Choices: sessions are `tower-sessions` with a store on the app's
//! database (so all of a user's sessions can be ended at once); the session
//! layer runs on this plugin's routes, the only ones that change a session,
//! while other routes read the signed-in user from the store by the
//! cookie's session id (cached), which costs a fraction of it. Passwords
//! are argon2id (`argon2`), sign-in limits are GCRA (`governor`), the CSRF
//! defence is a per-session synchronizer token (OWASP) compared in constant
//! time (`subtle`). The session cookie is `HttpOnly`, `SameSite=Lax`.

mod accounts;
pub mod admin;
mod authenticate;
mod cache;
mod layer;
mod limits;
mod password;
mod routes;
mod sessions;
mod tokens;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};

pub use accounts::{Accounts, Roles, UserRecord};
use raclette::{HttpError, Registrar, events::AccessEnded, http::StatusCode};
pub use raclette_contract::{ProjectSummary, SessionInfo, SessionUser};
use serde::Deserialize;
pub use sessions::DatabaseStore;
pub use tokens::{TokenRecord, Tokens};

/// The header that chooses the request's project.
pub const PROJECT_HEADER: &str = "x-raclette-project";
/// The header that carries the session's CSRF token on writes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "raclette_session";
/// Where this plugin's routes are, with the trailing `/`.
pub(crate) const ROUTE_PREFIX: &str = "/plugin/raclette/core/";
/// The variable that makes `raclette dev` create the development account
/// on an empty database.
pub const DEV_ACCOUNT_VARIABLE: &str = "RACLETTE_DEV_ACCOUNT";
/// The development account's email.
pub const DEV_EMAIL: &str = "dev@example.com";
/// The development account's password.
pub const DEV_PASSWORD: &str = "raclette-dev";

/// Options of the plugin (`[options]` of its metadata, overridable in
/// `raclette.toml` under `[plugins.raclette__core.options]`).
#[derive(Debug, Clone, Deserialize)]
pub struct Options {
    /// A browser session lasts this long after sign-in.
    pub session_hours: u32,
    /// How long sessions, users and tokens are cached in memory.
    pub cache_seconds: u32,
    /// Sign-in attempts per minute for one account.
    pub sign_ins_per_minute_per_account: u32,
    /// Sign-in attempts per minute from one address.
    pub sign_ins_per_minute_per_address: u32,
    /// Whether the session cookie is `Secure`.
    pub secure_cookie: bool,
    /// Permission patterns by project role.
    pub roles: BTreeMap<String, Vec<String>>,
}

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] raclette::db::Error),
    /// The email belongs to another user.
    #[error("this email is taken by another user")]
    EmailTaken,
    /// A field is not acceptable.
    #[error("{0}: {1}")]
    Invalid(String, String),
    /// The system's random source failed.
    #[error("no random bytes: {0}")]
    Random(String),
    /// Hashing a password failed.
    #[error("password hashing: {0}")]
    Hashing(String),
    /// No project has this id.
    #[error("no project `{0}`")]
    NoProject(String),
    /// The change would leave the project without an owner.
    #[error("a project keeps at least one owner: make another member owner first")]
    LastOwner,
}

impl From<CoreError> for HttpError {
    fn from(err: CoreError) -> HttpError {
        match err {
            CoreError::EmailTaken => HttpError::conflict(err.to_string()).with_field("email"),
            CoreError::Invalid(field, message) => {
                HttpError::new(StatusCode::BAD_REQUEST, format!("{field} {message}"))
                    .with_field(field)
            }
            CoreError::Database(err) => HttpError::from(err),
            CoreError::NoProject(_) => HttpError::not_found(err.to_string()),
            CoreError::LastOwner => HttpError::conflict(err.to_string()).with_field("role"),
            other => {
                raclette::tracing::error!(error = %other, "account operation failed");
                HttpError::internal("the account operation failed")
            }
        }
    }
}

/// Everything the plugin's middleware and routes share.
#[derive(Debug)]
pub struct Core {
    /// Users, projects, memberships.
    pub accounts: Accounts,
    /// API tokens.
    pub tokens: Tokens,
    /// Browser sessions.
    pub sessions: DatabaseStore,
    limits: limits::SignInLimits,
}

/// A bounded in-memory cache whose entries expire after `cache_for`, for
/// sessions, users and tokens; entries can also be dropped by a predicate
/// (all of one user's).
pub(crate) fn short_lived_cache<K, V>(cache_for: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq,
    V: Clone,
{
    Cache::new(100_000, Some(cache_for))
}

/// When what a cache held of each user was last forgotten. A database read
/// that began before must not put what it read into the cache after: it
/// may predate the change that made the cache forget (a sign-out on another
/// instance, say, racing a slow sign-in check here).
#[derive(Default)]
pub(crate) struct Forgotten(
    std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
);

impl Forgotten {
    /// How long a forgetting is remembered: longer than any read takes.
    const KEEP: Duration = Duration::from_secs(60);

    /// Notes that what was cached of `user` was forgotten now.
    pub(crate) fn note(&self, user: &str) {
        let now = std::time::Instant::now();
        let mut forgotten = self.0.lock().expect("forgotten lock");
        forgotten.retain(|_, at| now.duration_since(*at) < Self::KEEP);
        forgotten.insert(user.to_owned(), now);
    }

    /// Whether what was cached of `user` was forgotten since `began`.
    pub(crate) fn since(&self, user: &str, began: std::time::Instant) -> bool {
        self.0
            .lock()
            .expect("forgotten lock")
            .get(user)
            .is_some_and(|at| *at >= began)
    }
}

pub(crate) use cache::Cache;

/// UTC now as RFC 3339 text with whole seconds (sorts as text).
pub(crate) fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

/// `at` as RFC 3339 UTC text with whole seconds.
pub(crate) fn format_time(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Every permission the app's plugins declare.
fn declared_permissions(app: &Registrar) -> BTreeSet<String> {
    app.app_plugins()
        .iter()
        .filter(|p| p.enabled)
        .flat_map(|p| p.permissions.keys().cloned())
        .collect()
}

/// Entry point called by the framework.
pub fn plugin(app: &mut Registrar) -> raclette::Result<()> {
    let options: Options = app.options()?;
    let cache_for = Duration::from_secs(u64::from(options.cache_seconds));
    let roles = Roles::new(&options.roles, &declared_permissions(app));
    let db = app.database();
    let core = Arc::new(Core {
        accounts: Accounts::new(db.clone(), roles, cache_for),
        tokens: Tokens::new(db.clone(), cache_for),
        sessions: DatabaseStore::new(db, cache_for),
        limits: limits::SignInLimits::new(
            options.sign_ins_per_minute_per_account,
            options.sign_ins_per_minute_per_address,
        ),
    });
    // This plugin's routes: sessions outside, the middleware that reads
    // them inside. Every other route: identified before routing (see
    // `layer`).
    let sessions = tower_sessions::SessionManagerLayer::new(core.sessions.clone())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(options.secure_cookie)
        .with_expiry(tower_sessions::Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::hours(i64::from(options.session_hours)),
        ));
    app.layer(tower_layer::Stack::new(
        authenticate::AuthenticateLayer(core.clone()),
        sessions,
    ));
    app.identify_requests(layer::SignIn(core.clone()));
    let tags = app.collection(
        raclette::data::CollectionSpec::<routes::Tag>::new("tag")
            .max_field_size("name", 200)
            .max_field_size("color", 64),
    )?;
    app.routes(routes::routes(core.clone(), &tags))?;
    app.provide(core.clone())?;
    // Whatever this process cached of a user whose access ended, here or on
    // another instance, is read again.
    let forgetting = core.clone();
    app.listen(move |ended: AccessEnded| {
        let core = forgetting.clone();
        async move {
            core.accounts.forget(&ended.user);
            core.tokens.forget_user(&ended.user);
            core.sessions.forget_user(&ended.user);
        }
    });
    let on_mount = core.clone();
    app.on_mounted(move || async move {
        admin::on_mounted(&on_mount)
            .await
            .map_err(raclette::Error::other)
    });
    Ok(())
}

#[cfg(test)]
mod forgotten_tests {
    use std::time::Instant;

    use super::Forgotten;

    #[test]
    fn a_read_that_began_before_a_forgetting_is_not_cached() {
        let forgotten = Forgotten::default();
        let before = Instant::now();
        forgotten.note("ada");
        assert!(
            forgotten.since("ada", before),
            "read before, forgotten after"
        );
        assert!(!forgotten.since("bob", before), "another user");
        std::thread::sleep(std::time::Duration::from_millis(1));
        let after = Instant::now();
        assert!(!forgotten.since("ada", after), "read after the forgetting");
    }
}
