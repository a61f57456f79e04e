//! Users, projects and memberships in the app's database, and who a user
//! is in each project (a [`Principal`]), kept in a short-lived cache.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};

use raclette::{
    Database, User,
    db::{self, Row},
};
use raclette_contract::ProjectSummary;
use serde::Serialize;
use wildmatch::WildMatch;

use crate::{CoreError, now};

/// The role of a project's creator, and of the first account of the default project.
pub(crate) const OWNER: &str = "owner";
/// The role a new account gets in the default project once it has an owner.
pub(crate) const MEMBER: &str = "member";

/// What each project role may do, expanded from patterns to the
/// permissions the app's plugins declare.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    permissions: BTreeMap<String, BTreeSet<String>>,
}

impl Roles {
    /// `patterns` by role, matched against every `declared` permission.
    pub fn new(patterns: &BTreeMap<String, Vec<String>>, declared: &BTreeSet<String>) -> Roles {
        let permissions = patterns
            .iter()
            .map(|(role, patterns)| {
                let patterns: Vec<WildMatch> = patterns.iter().map(|p| WildMatch::new(p)).collect();
                let granted = declared
                    .iter()
                    .filter(|permission| patterns.iter().any(|p| p.matches(permission)))
                    .cloned()
                    .collect();
                (role.clone(), granted)
            })
            .collect();
        Roles { permissions }
    }

    /// Whether `role` is one of the configured roles.
    pub fn exists(&self, role: &str) -> bool {
        self.permissions.contains_key(role)
    }

    /// The configured role names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.permissions.keys().map(String::as_str)
    }

    fn grant(&self, role: &str) -> BTreeSet<String> {
        self.permissions.get(role).cloned().unwrap_or_default()
    }
}

/// A stored user, without the password hash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, raclette::TS, raclette::JsonSchema)]
#[ts(crate = "raclette::ts_rs")]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    /// The user's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Lower-case email, unique.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// Whether the user may do everything in every project.
    pub is_admin: bool,
    /// Whether the user is locked out.
    pub disabled: bool,
    /// When the user was added.
    pub created_at: String,
    /// When the user last changed.
    pub updated_at: String,
}

impl UserRecord {
    fn from_row(row: &db::AnyRow) -> Result<UserRecord, db::Error> {
        Ok(UserRecord {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            display_name: row.try_get("display_name")?,
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
            disabled: row.try_get::<i64, _>("disabled")? != 0,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A user with what they may do in each of their projects.
#[derive(Debug)]
pub struct Principal {
    /// The stored user.
    pub record: UserRecord,
    /// Role by project id.
    pub memberships: BTreeMap<String, String>,
    /// The request's user, by project.
    users: BTreeMap<String, Arc<User>>,
    /// The request's user in a project they are not a member of (admins).
    admin: Option<Arc<User>>,
    /// The request's user in their own project (no roles).
    personal: Arc<User>,
    /// `user:<id>`, the project of theirs that nobody else shares.
    personal_project: String,
    /// Where their requests run when nothing chose a project.
    home: raclette::Project,
}

impl Principal {
    fn new(
        record: UserRecord,
        memberships: BTreeMap<String, String>,
        first_joined: Option<String>,
        roles: &Roles,
    ) -> Principal {
        let base = || {
            User::new(record.id.clone(), record.email.clone())
                .with_display_name(record.display_name.clone())
        };
        let admin_role = record.is_admin.then_some("admin");
        let users = memberships
            .iter()
            .map(|(project, role)| {
                let user = base()
                    .with_roles(std::iter::once(role.as_str()).chain(admin_role))
                    .with_permissions(roles.grant(role));
                (project.clone(), Arc::new(user))
            })
            .collect();
        let admin = record
            .is_admin
            .then(|| Arc::new(base().with_roles(["admin"])));
        let personal = Arc::new(base());
        let personal_project = format!("user:{}", record.id);
        // The default project if the user is a member (or an admin), else
        // the project they joined first (so that being added to another
        // project later never moves where their writes land), else their
        // own.
        let home = if memberships.contains_key(raclette::Project::DEFAULT_ID) || admin.is_some() {
            raclette::Project::default()
        } else {
            raclette::Project::new(first_joined.as_deref().unwrap_or(&personal_project))
        };
        Principal {
            record,
            memberships,
            users,
            admin,
            personal,
            personal_project,
            home,
        }
    }

    /// The request's user in `project`, unless they may not enter it.
    pub fn user_in(&self, project: &str) -> Option<Arc<User>> {
        self.users
            .get(project)
            .cloned()
            .or_else(|| self.admin.clone())
            .or_else(|| (project == self.personal_project()).then(|| self.personal.clone()))
    }

    /// The project of the user's own that nobody else shares.
    pub fn personal_project(&self) -> &str {
        &self.personal_project
    }

    /// The project a request runs in when nothing chose one: the
    /// default project if the user is a member (or an admin), else the
    /// project they joined first (so that being added to another project
    /// later never moves where their writes land), else a project of their
    /// own that nobody else shares.
    pub fn home_project(&self) -> &raclette::Project {
        &self.home
    }
}

/// The core plugin's accounts: users, projects, memberships.
pub struct Accounts {
    db: Database,
    roles: Roles,
    principals: crate::Cache<String, Arc<Principal>>,
    forgotten: crate::Forgotten,
    /// Ids of projects known to exist.
    projects: crate::Cache<String, ()>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

const USER_COLUMNS: &str = "id, email, display_name, is_admin, disabled, created_at, updated_at";

impl Accounts {
    /// Accounts in `db`, users kept in memory for `cache_for`.
    pub fn new(db: Database, roles: Roles, cache_for: Duration) -> Accounts {
        Accounts {
            db,
            roles,
            principals: crate::short_lived_cache(cache_for),
            forgotten: crate::Forgotten::default(),
            projects: crate::Cache::new(10_000, None),
        }
    }

    /// The app's database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The configured roles.
    pub fn roles(&self) -> &Roles {
        &self.roles
    }

    /// Forgets what is cached of `user_id`, after a change.
    pub fn forget(&self, user_id: &str) {
        self.forgotten.note(user_id);
        self.principals.invalidate(user_id);
    }

    /// The user `user_id` with their memberships, unless unknown.
    pub async fn principal(&self, user_id: &str) -> Result<Option<Arc<Principal>>, CoreError> {
        if let Some(found) = self.cached_principal(user_id) {
            return Ok(Some(found));
        }
        let began = std::time::Instant::now();
        let Some(record) = self.user(user_id).await? else {
            return Ok(None);
        };
        let rows = db::query(
            "SELECT project_id, role FROM raclette__core_memberships WHERE user_id = $1 \
             ORDER BY joined_at, project_id",
        )
        .bind(user_id)
        .fetch_all(&self.db)
        .await?;
        let first_joined = rows
            .first()
            .map(|r| r.try_get::<String, _>("project_id"))
            .transpose()?;
        let memberships = rows
            .iter()
            .map(|r| Ok((r.try_get("project_id")?, r.try_get("role")?)))
            .collect::<Result<_, db::Error>>()?;
        let principal = Arc::new(Principal::new(
            record,
            memberships,
            first_joined,
            &self.roles,
        ));
        if !self.forgotten.since(user_id, began) {
            self.principals
                .insert(user_id.to_owned(), principal.clone());
        }
        Ok(Some(principal))
    }

    /// The stored user `user_id`.
    pub async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, CoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM raclette__core_users WHERE id = $1");
        let row = db::query(db::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_optional(&self.db)
            .await?;
        Ok(row.as_ref().map(UserRecord::from_row).transpose()?)
    }

    /// The user with `email` (any case) and their password hash.
    pub async fn by_email(&self, email: &str) -> Result<Option<(UserRecord, String)>, CoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, password_hash FROM raclette__core_users WHERE email = $1"
        );
        let row = db::query(db::AssertSqlSafe(sql))
            .bind(normalize_email(email))
            .fetch_optional(&self.db)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some((
                UserRecord::from_row(&row)?,
                row.try_get("password_hash")?,
            ))),
        }
    }

    /// Every user, by email.
    pub async fn all_users(&self) -> Result<Vec<UserRecord>, CoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM raclette__core_users ORDER BY email");
        let rows = db::query(db::AssertSqlSafe(sql))
            .fetch_all(&self.db)
            .await?;
        Ok(rows
            .iter()
            .map(UserRecord::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The members of `project` with their roles, by email.
    pub async fn members(&self, project: &str) -> Result<Vec<(UserRecord, String)>, CoreError> {
        let sql = "SELECT u.id, u.email, u.display_name, u.is_admin, u.disabled, u.created_at, u.updated_at, m.role \
             FROM raclette__core_users u JOIN raclette__core_memberships m ON m.user_id = u.id \
             WHERE m.project_id = $1 ORDER BY u.email";
        let rows = db::query(sql).bind(project).fetch_all(&self.db).await?;
        rows.iter()
            .map(|row| Ok((UserRecord::from_row(row)?, row.try_get("role")?)))
            .collect()
    }

    /// Whether any user has the admin flag.
    pub async fn has_admin(&self) -> Result<bool, CoreError> {
        let n: i64 =
            db::query_scalar("SELECT COUNT(*) FROM raclette__core_users WHERE is_admin = 1")
                .fetch_one(&self.db)
                .await?;
        Ok(n > 0)
    }

    /// Whether there is no user at all.
    pub async fn is_empty(&self) -> Result<bool, CoreError> {
        let n: i64 = db::query_scalar("SELECT COUNT(*) FROM raclette__core_users")
            .fetch_one(&self.db)
            .await?;
        Ok(n == 0)
    }

    /// Adds a user with an already hashed password to the default project:
    /// as its owner when it has none yet (or the user is an administrator),
    /// else as a `member` (a role an app's `[options.roles]` may redefine;
    /// without it the membership grants nothing), so that a new account
    /// cannot manage everyone else's membership. Fails with
    /// [`CoreError::EmailTaken`] when the email is in use.
    pub async fn add_user(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        is_admin: bool,
    ) -> Result<UserRecord, CoreError> {
        let email = normalize_email(email);
        check_email(&email)?;
        let id = uuid::Uuid::new_v4().to_string();
        let at = now();
        let mut tx = self.db.begin().await?;
        let inserted = db::query(
            "INSERT INTO raclette__core_users (id, email, display_name, password_hash, is_admin, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $6) ON CONFLICT (email) DO NOTHING",
        )
        .bind(&id)
        .bind(&email)
        .bind(display_name)
        .bind(password_hash)
        .bind(i64::from(is_admin))
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(CoreError::EmailTaken);
        }
        let owners: i64 = db::query_scalar(
            "SELECT COUNT(*) FROM raclette__core_memberships WHERE project_id = $1 AND role = $2",
        )
        .bind(raclette::Project::DEFAULT_ID)
        .bind(OWNER)
        .fetch_one(&mut *tx)
        .await?;
        let role = if is_admin || owners == 0 {
            OWNER
        } else {
            MEMBER
        };
        db::query(
            "INSERT INTO raclette__core_memberships (project_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(raclette::Project::DEFAULT_ID)
        .bind(&id)
        .bind(role)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.user(&id)
            .await?
            .ok_or_else(|| CoreError::Invalid("user".into(), "vanished after insert".into()))
    }

    /// Replaces the password hash of `user_id`.
    pub async fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<(), CoreError> {
        db::query(
            "UPDATE raclette__core_users SET password_hash = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now())
        .bind(user_id)
        .execute(&self.db)
        .await?;
        self.forget(user_id);
        Ok(())
    }

    /// Changes the display name, the admin flag or the disabled flag of
    /// `user_id`.
    pub async fn update_user(
        &self,
        user_id: &str,
        display_name: Option<&str>,
        is_admin: Option<bool>,
        disabled: Option<bool>,
    ) -> Result<Option<UserRecord>, CoreError> {
        let Some(current) = self.user(user_id).await? else {
            return Ok(None);
        };
        db::query(
            "UPDATE raclette__core_users SET display_name = $1, is_admin = $2, disabled = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(display_name.unwrap_or(&current.display_name))
        .bind(i64::from(is_admin.unwrap_or(current.is_admin)))
        .bind(i64::from(disabled.unwrap_or(current.disabled)))
        .bind(now())
        .bind(user_id)
        .execute(&self.db)
        .await?;
        self.forget(user_id);
        self.user(user_id).await
    }

    /// The projects `principal` may enter: their memberships, or every
    /// project for an admin.
    pub async fn projects_of(
        &self,
        principal: &Principal,
    ) -> Result<Vec<ProjectSummary>, CoreError> {
        let rows = db::query("SELECT id, name FROM raclette__core_projects ORDER BY name, id")
            .fetch_all(&self.db)
            .await?;
        let mut projects = Vec::new();
        for row in &rows {
            let id: String = row.try_get("id")?;
            let role = principal.memberships.get(&id).cloned();
            if role.is_some() || principal.record.is_admin {
                projects.push(ProjectSummary {
                    name: row.try_get("name")?,
                    id,
                    role,
                });
            }
        }
        Ok(projects)
    }

    /// Creates a project with `owner` as its owner.
    pub async fn create_project(
        &self,
        name: &str,
        owner: &str,
    ) -> Result<ProjectSummary, CoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.db.begin().await?;
        db::query("INSERT INTO raclette__core_projects (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(name)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        db::query(
            "INSERT INTO raclette__core_memberships (project_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(owner)
        .bind(OWNER)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.forget(owner);
        Ok(ProjectSummary {
            id,
            name: name.to_owned(),
            role: Some(OWNER.to_owned()),
        })
    }

    /// Makes `user_id` a member of `project` with `role` (or changes
    /// their role). Fails with [`CoreError::NoProject`] for an unknown
    /// project and [`CoreError::LastOwner`] when it would leave the project
    /// without an owner.
    pub async fn set_member(
        &self,
        project: &str,
        user_id: &str,
        role: &str,
    ) -> Result<(), CoreError> {
        self.change_membership(project, user_id, Some(role))
            .await
            .map(|_| ())
    }

    /// Ends the membership of `user_id` in `project`; whether there was
    /// one. Fails like [`Accounts::set_member`].
    pub async fn remove_member(&self, project: &str, user_id: &str) -> Result<bool, CoreError> {
        self.change_membership(project, user_id, None).await
    }

    /// Sets (`Some(role)`) or ends (`None`) a membership, keeping an owner;
    /// whether a membership was changed.
    async fn change_membership(
        &self,
        project: &str,
        user_id: &str,
        role: Option<&str>,
    ) -> Result<bool, CoreError> {
        let mut tx = self.db.begin().await?;
        // Serializes membership changes of one project: a row lock on
        // PostgreSQL, the write lock on SQLite. Two owners demoting each
        // other at once cannot both pass the check below.
        let found = db::query("UPDATE raclette__core_projects SET name = name WHERE id = $1")
            .bind(project)
            .execute(&mut *tx)
            .await?;
        if found.rows_affected() == 0 {
            return Err(CoreError::NoProject(project.to_owned()));
        }
        let current: Option<String> = db::query_scalar(
            "SELECT role FROM raclette__core_memberships WHERE project_id = $1 AND user_id = $2",
        )
        .bind(project)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        if current.as_deref() == Some(OWNER) && role != Some(OWNER) {
            let other_owners: i64 = db::query_scalar(
                "SELECT COUNT(*) FROM raclette__core_memberships \
                 WHERE project_id = $1 AND role = $2 AND user_id <> $3",
            )
            .bind(project)
            .bind(OWNER)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            if other_owners == 0 {
                return Err(CoreError::LastOwner);
            }
        }
        let done = match role {
            Some(role) => {
                db::query(
                    "INSERT INTO raclette__core_memberships (project_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(project)
                .bind(user_id)
                .bind(role)
                .bind(now_micros())
                .execute(&mut *tx)
                .await?
            }
            None => {
                db::query(
                    "DELETE FROM raclette__core_memberships WHERE project_id = $1 AND user_id = $2",
                )
                .bind(project)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        self.forget(user_id);
        Ok(done.rows_affected() > 0)
    }

    /// The request's user of `principal` in `project`, unless they may not
    /// enter it; an administrator may enter any project that exists, and
    /// gets [`CoreError::NoProject`] for one that does not.
    pub async fn user_in(
        &self,
        principal: &Principal,
        project: &str,
    ) -> Result<Option<Arc<User>>, CoreError> {
        if let Some(known) = self.cached_user_in(principal, project) {
            return known;
        }
        if !self.project_exists(project).await? {
            return Err(CoreError::NoProject(project.to_owned()));
        }
        Ok(principal.user_in(project))
    }

    /// The user, cached (see [`Accounts::principal`]); `None` when it must
    /// be read.
    pub(crate) fn cached_principal(&self, user_id: &str) -> Option<Arc<Principal>> {
        self.principals.get(user_id)
    }

    /// [`Accounts::user_in`] without the database: `None` when whether
    /// the project exists must be read first (an admin outside their
    /// projects naming one not seen yet).
    pub(crate) fn cached_user_in(
        &self,
        principal: &Principal,
        project: &str,
    ) -> Option<Result<Option<Arc<User>>, CoreError>> {
        let member =
            principal.memberships.contains_key(project) || project == principal.personal_project();
        if !member && principal.record.is_admin && !self.projects.contains_key(project) {
            return None;
        }
        Some(Ok(principal.user_in(project)))
    }

    /// Whether a project with id `id` exists (known ones are remembered:
    /// projects are never deleted).
    async fn project_exists(&self, id: &str) -> Result<bool, CoreError> {
        if self.projects.contains_key(id) {
            return Ok(true);
        }
        let found: Option<String> =
            db::query_scalar("SELECT id FROM raclette__core_projects WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.db)
                .await?;
        if found.is_some() {
            self.projects.insert(id.to_owned(), ());
        }
        Ok(found.is_some())
    }
}

/// Now as Unix microseconds: when a membership began.
fn now_micros() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// Emails are compared without case and surrounding blanks.
pub(crate) fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether `email` looks like an address: something, `@`, something with
/// a dot, no blanks, at most 254 characters.
pub(crate) fn check_email(email: &str) -> Result<(), CoreError> {
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(())
    } else {
        Err(CoreError::Invalid(
            "email".into(),
            "must be an email address such as ada@example.com".into(),
        ))
    }
}
