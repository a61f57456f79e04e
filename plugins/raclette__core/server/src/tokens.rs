//! Personal API tokens for scripts and other services: `Authorization:
//! Bearer rct_…`. A token's secret is shown once, when it is created;
//! only its SHA-256 is stored.

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use raclette::{
    Database,
    db::{self, Row},
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{CoreError, now};

/// What every token secret starts with, so that leaked tokens are easy
/// to find in logs and code.
pub(crate) const PREFIX: &str = "rct_";

/// A token as its owner sees it: never the secret nor its hash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, raclette::TS, raclette::JsonSchema)]
#[ts(crate = "raclette::ts_rs")]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    /// The token's id (to revoke it).
    #[serde(rename = "_id")]
    pub id: String,
    /// What the owner called it.
    pub name: String,
    /// When it was created.
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
}

/// A token as the cache keeps it.
#[derive(Debug)]
pub(crate) struct CachedToken {
    /// The SHA-256 of the secret, to forget it on revocation.
    hash: String,
    /// The owner.
    pub(crate) user_id: String,
    /// When it stops working, if ever.
    expires_at: Option<String>,
}

/// The app's API tokens.
pub struct Tokens {
    db: Database,
    /// Tokens looked up lately, by secret: hashing a secret costs more than
    /// the rest of the lookup, so it is hashed only on a miss. The secret
    /// is held only as long as the cache keeps it (`cache_seconds`).
    cache: crate::Cache<String, Arc<CachedToken>>,
    forgotten: crate::Forgotten,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// 32 random bytes, URL-safe base64.
pub(crate) fn random_secret() -> Result<String, CoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| CoreError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

impl Tokens {
    /// Tokens in `db`, lookups cached for `cache_for`.
    pub fn new(db: Database, cache_for: Duration) -> Tokens {
        Tokens {
            db,
            cache: crate::short_lived_cache(cache_for),
            forgotten: crate::Forgotten::default(),
        }
    }

    /// Creates a token of `user_id` named `name`, valid for `days` (or
    /// forever); returns it with its secret.
    pub async fn create(
        &self,
        user_id: &str,
        name: &str,
        days: Option<u32>,
    ) -> Result<(TokenRecord, String), CoreError> {
        let secret = format!("{PREFIX}{}", random_secret()?);
        let id = uuid::Uuid::new_v4().to_string();
        let created_at = now();
        let expires_at = days.map(|days| {
            let at = time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days));
            crate::format_time(at)
        });
        db::query(
            "INSERT INTO raclette__core_tokens (id, user_id, name, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(name)
        .bind(secret_hash(&secret))
        .bind(&created_at)
        .bind(&expires_at)
        .execute(&self.db)
        .await?;
        Ok((
            TokenRecord {
                id,
                name: name.to_owned(),
                created_at,
                expires_at,
            },
            secret,
        ))
    }

    /// The tokens of `user_id`, newest first.
    pub async fn of_user(&self, user_id: &str) -> Result<Vec<TokenRecord>, CoreError> {
        let rows = db::query(
            "SELECT id, name, created_at, expires_at FROM raclette__core_tokens WHERE user_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(user_id)
        .fetch_all(&self.db)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TokenRecord {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    expires_at: row.try_get("expires_at")?,
                })
            })
            .collect()
    }

    /// Revokes token `id` of `user_id`; whether there was one.
    pub async fn revoke(&self, user_id: &str, id: &str) -> Result<bool, CoreError> {
        let row = db::query(
            "DELETE FROM raclette__core_tokens WHERE id = $1 AND user_id = $2 RETURNING secret_hash",
        )
        .bind(id)
        .bind(user_id)
        .fetch_optional(&self.db)
        .await?;
        match row {
            None => Ok(false),
            Some(row) => {
                let hash: String = row.try_get("secret_hash")?;
                // A read of this token that began before the delete and
                // ends after it must not put it back into the cache.
                self.forgotten.note(user_id);
                self.cache
                    .invalidate_entries_if(|_, token| token.hash == hash);
                Ok(true)
            }
        }
    }

    /// Revokes every token of `user_id` (the user was disabled: enabling
    /// them again must not bring back tokens that may have leaked); how
    /// many there were.
    pub async fn revoke_all_of(&self, user_id: &str) -> Result<u64, CoreError> {
        let done = db::query("DELETE FROM raclette__core_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.db)
            .await?;
        self.forget_user(user_id);
        Ok(done.rows_affected())
    }

    /// Forgets every cached token of `user_id`.
    pub fn forget_user(&self, user_id: &str) {
        self.forgotten.note(user_id);
        self.cache
            .invalidate_entries_if(|_, token| token.user_id == user_id);
    }

    /// The token `secret` is, unless it is unknown, revoked or expired.
    pub(crate) async fn token(&self, secret: &str) -> Result<Option<Arc<CachedToken>>, CoreError> {
        if let Some(known) = self.cached(secret) {
            return Ok(known);
        }
        let began = std::time::Instant::now();
        let hash = secret_hash(secret);
        let row = db::query(
            "SELECT user_id, expires_at FROM raclette__core_tokens WHERE secret_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.db)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let found = Arc::new(CachedToken {
            hash,
            user_id: row.try_get("user_id")?,
            expires_at: row.try_get("expires_at")?,
        });
        if !self.forgotten.since(&found.user_id, began) {
            self.cache.insert(secret.to_owned(), found.clone());
        }
        Ok(live(found))
    }

    /// What the cache alone says of `secret`: `Some(None)` when it cannot
    /// be a live token, `None` when the database must say.
    pub(crate) fn cached(&self, secret: &str) -> Option<Option<Arc<CachedToken>>> {
        if !secret.starts_with(PREFIX) || secret.len() > 128 {
            return Some(None);
        }
        self.cache.get(secret).map(live)
    }
}

/// `token`, unless it has expired.
fn live(token: Arc<CachedToken>) -> Option<Arc<CachedToken>> {
    match &token.expires_at {
        Some(at) if *at <= now() => None,
        _ => Some(token),
    }
}
