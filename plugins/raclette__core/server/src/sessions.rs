//! Browser sessions: `tower-sessions` handles the cookie, the session id
//! and expiry; this store keeps the records in the app's database (both
//! engines, through [`raclette::Database`]), next to the user they belong
//! to, so that all of a user's sessions can be ended at once.
//!
//! Only the SHA-256 of a session id is stored: someone who can read the
//! table cannot take over a session. Records read are cached for a few
//! seconds; changes through this server reach the cache at once.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use raclette::{
    Database,
    db::{self, Row},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

/// The session key under which the sign-in is kept.
pub(crate) const AUTH_KEY: &str = "auth";

/// What a signed-in session holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionAuth {
    /// The signed-in user.
    pub user_id: String,
    /// The token that cookie-authenticated writes must send back in
    /// `X-CSRF-Token`.
    pub csrf: String,
    /// The project chosen last, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// A session record as cached, with its sign-in read once.
#[derive(Debug)]
pub(crate) struct Cached {
    record: Record,
    /// The sign-in the record holds, if it holds one.
    pub(crate) auth: Option<Arc<SessionAuth>>,
}

impl Cached {
    fn new(record: Record) -> Cached {
        let auth = record
            .data
            .get(AUTH_KEY)
            .and_then(|auth| SessionAuth::deserialize(auth).ok())
            .map(Arc::new);
        Cached { record, auth }
    }

    fn user(&self) -> Option<&str> {
        self.auth.as_ref().map(|auth| auth.user_id.as_str())
    }
}

/// The session store on the app's database.
#[derive(Clone)]
pub struct DatabaseStore {
    db: Database,
    /// Records by session id as the cookie holds it (not its hash: the
    /// hash is only needed to reach the database), so that a request's
    /// cookie finds its record without decoding the id.
    cache: crate::Cache<String, Arc<Cached>>,
    forgotten: Arc<crate::Forgotten>,
}

impl std::fmt::Debug for DatabaseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseStore").finish_non_exhaustive()
    }
}

fn id_hash(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

impl DatabaseStore {
    /// Sessions in `db`, records cached for `cache_for`.
    pub fn new(db: Database, cache_for: Duration) -> DatabaseStore {
        DatabaseStore {
            db,
            cache: crate::short_lived_cache(cache_for),
            forgotten: Arc::default(),
        }
    }

    /// Ends every session of `user_id` except `keep` (the session making
    /// the request, on a password change).
    pub async fn end_sessions_of(&self, user_id: &str, keep: Option<&Id>) -> Result<(), db::Error> {
        let keep_hash = keep.map(id_hash).unwrap_or_default();
        db::query("DELETE FROM raclette__core_sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(&keep_hash)
            .execute(&self.db)
            .await?;
        self.forgotten.note(user_id);
        self.uncache_sessions_of(user_id, keep);
        Ok(())
    }

    /// Drops the cached sessions of `user_id` but `keep`.
    fn uncache_sessions_of(&self, user_id: &str, keep: Option<&Id>) {
        let keep = keep.map(Id::to_string);
        self.cache.invalidate_entries_if(|id, entry| {
            keep.as_ref() != Some(id) && entry.user() == Some(user_id)
        });
    }

    /// The unexpired session `session_id`, from the cache or the database.
    /// Requests outside the core plugin's routes read their sign-in here
    /// directly: they never change their session, so they need neither the
    /// session layer nor a copy of the record.
    pub(crate) async fn fetch(
        &self,
        session_id: &Id,
    ) -> session_store::Result<Option<Arc<Cached>>> {
        let key = session_id.to_string();
        if let Some(known) = self.cached(&key) {
            return Ok(known);
        }
        let now = OffsetDateTime::now_utc();
        let began = std::time::Instant::now();
        let hash = id_hash(session_id);
        let row =
            db::query("SELECT data, expires_at FROM raclette__core_sessions WHERE id_hash = $1")
                .bind(&hash)
                .fetch_optional(&self.db)
                .await
                .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let expires_at: i64 = row.try_get("expires_at").map_err(backend)?;
        let data: String = row.try_get("data").map_err(backend)?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(expires_at).map_err(backend)?;
        if expiry_date <= now {
            return Ok(None);
        }
        let cached = Arc::new(Cached::new(Record {
            id: *session_id,
            data: serde_json::from_str(&data).map_err(backend)?,
            expiry_date,
        }));
        if cached
            .user()
            .is_none_or(|user| !self.forgotten.since(user, began))
        {
            self.cache.insert(key, cached.clone());
        }
        Ok(Some(cached))
    }

    /// What the cache alone says of the session whose id the cookie
    /// holds as `cookie`: `Some(None)` when it has expired, `None` when
    /// the database must say.
    pub(crate) fn cached(&self, cookie: &str) -> Option<Option<Arc<Cached>>> {
        let cached = self.cache.get(cookie)?;
        Some((cached.record.expiry_date > OffsetDateTime::now_utc()).then_some(cached))
    }

    /// Forgets the cached sessions of `user_id`: they are read again from
    /// the database (another instance may have ended them).
    pub fn forget_user(&self, user_id: &str) {
        self.forgotten.note(user_id);
        self.uncache_sessions_of(user_id, None);
    }

    /// Removes expired sessions from the database.
    pub async fn delete_expired(&self) -> Result<u64, db::Error> {
        let done = db::query("DELETE FROM raclette__core_sessions WHERE expires_at < $1")
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .execute(&self.db)
            .await?;
        Ok(done.rows_affected())
    }

    /// Stores `record`: a new session (`replace` false: nothing is written
    /// when its id is taken), or the new state of an existing one
    /// (`replace` true: nothing is written when the session has ended
    /// meanwhile, so that a request that read it before a sign-out, a
    /// password change or a disabling cannot bring it back). `true` when
    /// the record was written.
    async fn insert(&self, record: &Record, replace: bool) -> session_store::Result<bool> {
        let hash = id_hash(&record.id);
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        let cached = Cached::new(record.clone());
        let user = cached.user().map(str::to_owned);
        let sql = if replace {
            "UPDATE raclette__core_sessions SET user_id = $2, data = $3, expires_at = $4 WHERE id_hash = $1"
        } else {
            "INSERT INTO raclette__core_sessions (id_hash, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id_hash) DO NOTHING"
        };
        let done = db::query(sql)
            .bind(&hash)
            .bind(&user)
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .execute(&self.db)
            .await
            .map_err(backend)?;
        if done.rows_affected() > 0 {
            self.cache.insert(record.id.to_string(), Arc::new(cached));
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

#[async_trait]
impl SessionStore for DatabaseStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.insert(record, false).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    /// Saves the state of a session; a session that has ended (its row
    /// deleted) stays ended.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.insert(record, true).await.map(|_| ())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self
            .fetch(session_id)
            .await?
            .map(|cached| cached.record.clone()))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let hash = id_hash(session_id);
        let row =
            db::query("DELETE FROM raclette__core_sessions WHERE id_hash = $1 RETURNING user_id")
                .bind(&hash)
                .fetch_optional(&self.db)
                .await
                .map_err(backend)?;
        // A read of this session that began before the delete and ends
        // after it must not put it back into the cache.
        if let Some(row) = row
            && let Some(user) = row
                .try_get::<Option<String>, _>("user_id")
                .map_err(backend)?
        {
            self.forgotten.note(&user);
        }
        self.cache.invalidate(&session_id.to_string());
        Ok(())
    }
}
