//! Account administration outside requests: what the app binary's `user`
//! command does (`raclette user add|list|passwd`), the development
//! account of `raclette dev`, and the start-up hint when no administrator
//! exists.

use std::time::Duration;

use raclette::Database;

use crate::{
    Accounts, CoreError, DEV_ACCOUNT_VARIABLE, DEV_EMAIL, DEV_PASSWORD, DatabaseStore, Roles,
    UserRecord, accounts::normalize_email, password,
};

/// Adds a user to the default project (its owner if it has none yet, else
/// a member; with `admin`, an administrator and owner). The password must
/// pass the policy.
pub async fn add_user(
    db: &Database,
    email: &str,
    display_name: Option<&str>,
    password: &str,
    admin: bool,
) -> Result<UserRecord, CoreError> {
    password::check_policy(password).map_err(|m| CoreError::Invalid("password".into(), m))?;
    let email = normalize_email(email);
    let accounts = accounts(db);
    crate::accounts::check_email(&email)?;
    let hash = password::hash(password.to_owned())
        .await
        .map_err(CoreError::Hashing)?;
    let name = display_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or(&email))
        .to_owned();
    accounts.add_user(&email, &name, &hash, admin).await
}

/// Every user, by email.
pub async fn list_users(db: &Database) -> Result<Vec<UserRecord>, CoreError> {
    accounts(db).all_users().await
}

/// Sets the password of the user with `email` and ends their sessions.
/// Fails with [`CoreError::Invalid`] on `email` when there is no such user.
pub async fn set_password(db: &Database, email: &str, password: &str) -> Result<(), CoreError> {
    password::check_policy(password).map_err(|m| CoreError::Invalid("password".into(), m))?;
    let accounts = accounts(db);
    let Some((user, _)) = accounts.by_email(email).await? else {
        return Err(CoreError::Invalid(
            "email".into(),
            format!("no user has the email `{}`", normalize_email(email)),
        ));
    };
    let hash = password::hash(password.to_owned())
        .await
        .map_err(CoreError::Hashing)?;
    accounts.set_password_hash(&user.id, &hash).await?;
    DatabaseStore::new(db.clone(), Duration::ZERO)
        .end_sessions_of(&user.id, None)
        .await?;
    Ok(())
}

fn accounts(db: &Database) -> Accounts {
    Accounts::new(db.clone(), Roles::default(), Duration::ZERO)
}

/// Once the server listens: removes expired sessions, creates the
/// development account when asked to on an empty database, and says how
/// to create an administrator when there is none.
pub(crate) async fn on_mounted(core: &crate::Core) -> Result<(), CoreError> {
    let removed = core.sessions.delete_expired().await?;
    if removed > 0 {
        raclette::tracing::info!(removed, "expired sessions removed");
    }
    let accounts = &core.accounts;
    if std::env::var_os(DEV_ACCOUNT_VARIABLE).is_some() && accounts.is_empty().await? {
        add_user(
            accounts.database(),
            DEV_EMAIL,
            Some("Developer"),
            DEV_PASSWORD,
            true,
        )
        .await?;
        raclette::tracing::warn!(
            "development account created: sign in as {DEV_EMAIL} with the password {DEV_PASSWORD}"
        );
    }
    if !accounts.has_admin().await? {
        raclette::tracing::warn!(
            "no administrator yet: create one with `raclette user add EMAIL --admin` in the app folder"
        );
    }
    Ok(())
}
