//! The plugin's routes: sign-in, API tokens, users, projects, members,
//! tags.

use std::sync::Arc;

use raclette::{
    CurrentUser, DataOperation, HttpError, Json, Project, Routes,
    data::{Collection, DataError, crud},
    events::{AccessEnded, Events},
    extract::{ClientAddr, Extension, Path, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use raclette_contract::{ProjectSummary, SessionInfo, SessionUser};

use crate::{
    Core, CoreError,
    accounts::{Principal, UserRecord, check_email, normalize_email},
    authenticate::{SignedInWith, unauthorized},
    password,
    sessions::{AUTH_KEY, SessionAuth},
    tokens::{TokenRecord, random_secret},
};

/// A tag of the project, shared by every plugin (`$data.tag.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, raclette::TS, raclette::JsonSchema)]
#[ts(crate = "raclette::ts_rs")]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tag {
    /// What the tag says.
    pub name: String,
    /// A CSS colour, such as `#d33` or `teal`.
    #[serde(default)]
    pub color: String,
}

type Shared = State<Arc<Core>>;

/// Every route of the plugin.
pub(crate) fn routes(core: Arc<Core>, tags: &Collection<Tag>) -> Routes {
    let accounts = Routes::new()
        .post("/session", sign_in)
        .public()
        .summary("Signs in with email and password; sets the session cookie")
        .accepts::<SignIn>()
        .answers::<SessionInfo>()
        .fails(StatusCode::UNAUTHORIZED, "Wrong email or password (the same answer whether the email exists or not).")
        .fails(StatusCode::TOO_MANY_REQUESTS, "Too many attempts for this account or address; `Retry-After` says when to try again.")
        .get("/session", current_session)
        .public()
        .summary("The signed-in user, their project and the CSRF token; no user when signed out")
        .answers::<SessionInfo>()
        .delete("/session", sign_out)
        .summary("Signs out: ends the session")
        .status(StatusCode::NO_CONTENT)
        .put("/session/project", switch_project)
        .summary("Switches the session to another project of the user")
        .accepts::<SwitchProject>()
        .answers::<SessionInfo>()
        .fails(StatusCode::FORBIDDEN, "The user is not a member of that project.")
        .post("/password", change_password)
        .summary("Changes the user's password and ends their other sessions; attempts count against the sign-in limits")
        .accepts::<ChangePassword>()
        .status(StatusCode::NO_CONTENT)
        .fails(StatusCode::FORBIDDEN, "The current password is wrong.")
        .fails(StatusCode::TOO_MANY_REQUESTS, "Too many attempts for this account or address; `Retry-After` says when to try again.")
        .data(
            Method::GET,
            "/token/all",
            DataOperation::read("token", "getAll").items::<TokenRecord>(),
            list_tokens,
        )
        .summary("The user's API tokens (never their secrets)")
        .answers::<Vec<TokenRecord>>()
        .data(
            Method::POST,
            "/token",
            DataOperation::create("token", "create").items::<TokenRecord>(),
            create_token,
        )
        .summary("Creates an API token (signed in with the session, not a token); its secret is in this answer only")
        .accepts::<NewToken>()
        .answers::<CreatedToken>()
        .fails(StatusCode::FORBIDDEN, "Signed in with an API token: tokens are created from a browser session.")
        .data(
            Method::DELETE,
            "/token/:_id",
            DataOperation::delete_hard("token", "deleteHard"),
            revoke_token,
        )
        .summary("Revokes one of the user's API tokens")
        .status(StatusCode::NO_CONTENT)
        .data(
            Method::GET,
            "/user/all",
            DataOperation::read("user", "getAll").items::<UserRecord>(),
            list_users,
        )
        .summary("The members of the project (every user, for an admin), with their roles")
        .answers::<Vec<ListedUser>>()
        .data(
            Method::GET,
            "/user/:_id",
            DataOperation::read("user", "get").items::<UserRecord>(),
            get_user,
        )
        .summary("One member of the project")
        .answers::<ListedUser>()
        .data(
            Method::PATCH,
            "/user/:_id",
            DataOperation::update("user", "update").items::<UserRecord>(),
            update_user,
        )
        .summary("Changes a user: the user their display name, an admin anything")
        .accepts::<UserChange>()
        .data(
            Method::GET,
            "/project/all",
            DataOperation::read("project", "getAll").items::<ProjectSummary>(),
            list_projects,
        )
        .summary("The user's projects with their roles")
        .answers::<Vec<ProjectSummary>>()
        .data(
            Method::POST,
            "/project",
            DataOperation::create("project", "create").items::<ProjectSummary>(),
            create_project,
        )
        .summary("Creates a project with the user as its owner")
        .accepts::<NewProject>()
        .put("/member", set_member)
        .require("raclette__core.members.manage")
        .summary("Adds a user to the project, or changes their role")
        .accepts::<Membership>()
        .status(StatusCode::NO_CONTENT)
        .fails(StatusCode::NOT_FOUND, "No user has that email.")
        .fails(StatusCode::CONFLICT, "The change would leave the project without an owner.")
        .delete("/member/:_id", remove_member)
        .require("raclette__core.members.manage")
        .summary("Removes a user from the project")
        .status(StatusCode::NO_CONTENT)
        .fails(StatusCode::CONFLICT, "The user is the project's last owner.")
        .with_state(core);
    accounts.merge(
        crud(tags)
            .require_reads("raclette__core.tag.read")
            .require_writes("raclette__core.tag.write"),
    )
}

fn bad(field: &str, message: impl Into<String>) -> HttpError {
    DataError::invalid(format!("body.{field}"), message).into()
}

/// Whole seconds to wait, rounded up: a client that waits exactly that long
/// is let in (rounded down, it would be refused once more).
fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// An id in a route's path: any text without a NUL character (which
/// PostgreSQL cannot compare with, so it would be a 500 there and a plain
/// miss on SQLite): a 400 naming the parameter instead.
#[derive(serde::Deserialize)]
#[serde(try_from = "String")]
struct PathId(String);

impl TryFrom<String> for PathId {
    type Error = &'static str;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        if id.contains('\0') {
            Err("an id cannot contain the NUL character")
        } else {
            Ok(PathId(id))
        }
    }
}

fn forbidden(message: impl Into<String>) -> HttpError {
    HttpError::new(StatusCode::FORBIDDEN, message)
}

fn session_failed(err: tower_sessions::session::Error) -> HttpError {
    raclette::tracing::error!(error = %err, "session store failed");
    HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the session store is not available",
    )
}

async fn principal_of(core: &Core, user: &CurrentUser) -> Result<Arc<Principal>, HttpError> {
    let id = user
        .id()
        .ok_or_else(|| HttpError::new(StatusCode::UNAUTHORIZED, "sign in first"))?;
    core.accounts
        .principal(id)
        .await?
        .ok_or_else(|| HttpError::new(StatusCode::UNAUTHORIZED, "sign in first"))
}

async fn session_info(
    core: &Core,
    principal: &Principal,
    project: &str,
    csrf_token: Option<String>,
) -> Result<SessionInfo, HttpError> {
    let user = principal
        .user_in(project)
        .ok_or_else(|| forbidden(format!("you are not a member of project `{project}`")))?;
    Ok(SessionInfo {
        user: Some(SessionUser {
            id: user.id.clone(),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            is_admin: principal.record.is_admin,
            roles: user.roles.clone(),
            permissions: user.permissions.iter().cloned().collect(),
        }),
        project: project.to_owned(),
        projects: core.accounts.projects_of(principal).await?,
        csrf_token,
    })
}

#[derive(Debug, Deserialize, raclette::JsonSchema)]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignIn {
    email: String,
    password: String,
}

fn too_many(wait: std::time::Duration) -> Response {
    let seconds = retry_after_seconds(wait);
    let mut response = HttpError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many sign-in attempts; try again in {seconds} s"),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

async fn sign_in(
    State(core): Shared,
    session: Session,
    peer: Option<ClientAddr>,
    Json(body): Json<SignIn>,
) -> Result<Json<SessionInfo>, Response> {
    let email = normalize_email(&body.email);
    if email.len() > 254 || body.password.len() > 4 * password::MAX_LENGTH {
        return Err(unauthorized("wrong email or password"));
    }
    let address = peer.map(|ClientAddr(addr)| addr.ip());
    core.limits.attempt(&email, address).map_err(too_many)?;
    let found = core
        .accounts
        .by_email(&email)
        .await
        .map_err(|e| HttpError::from(e).into_response())?;
    let (record, hash) = match found {
        Some((record, hash)) => (Some(record), Some(hash)),
        None => (None, None),
    };
    let matches = password::verify(body.password, hash).await;
    let Some(record) = record.filter(|r| matches && !r.disabled) else {
        return Err(unauthorized("wrong email or password"));
    };
    let principal = core
        .accounts
        .principal(&record.id)
        .await
        .map_err(|e| HttpError::from(e).into_response())?
        .ok_or_else(|| unauthorized("wrong email or password"))?;
    let csrf = random_secret().map_err(|e| HttpError::from(e).into_response())?;
    let project = principal.home_project().id().to_owned();
    // A new session id at sign-in: an id planted before cannot be used.
    session
        .cycle_id()
        .await
        .map_err(|e| session_failed(e).into_response())?;
    let auth = SessionAuth {
        user_id: record.id.clone(),
        csrf: csrf.clone(),
        project: Some(project.clone()),
    };
    session
        .insert(AUTH_KEY, &auth)
        .await
        .map_err(|e| session_failed(e).into_response())?;
    raclette::tracing::info!(user = %record.id, "signed in");
    session_info(&core, &principal, &project, Some(csrf))
        .await
        .map(Json)
        .map_err(IntoResponse::into_response)
}

async fn current_session(
    State(core): Shared,
    user: CurrentUser,
    project: Project,
    session: Session,
) -> Result<Json<SessionInfo>, HttpError> {
    if user.get().is_none() {
        return Ok(Json(SessionInfo {
            user: None,
            project: project.id().to_owned(),
            projects: Vec::new(),
            csrf_token: None,
        }));
    }
    let principal = principal_of(&core, &user).await?;
    let csrf = session
        .get::<SessionAuth>(AUTH_KEY)
        .await
        .map_err(session_failed)?
        .map(|auth| auth.csrf);
    Ok(Json(
        session_info(&core, &principal, project.id(), csrf).await?,
    ))
}

async fn sign_out(
    session: Session,
    user: CurrentUser,
    events: Events,
) -> Result<StatusCode, HttpError> {
    session.flush().await.map_err(session_failed)?;
    access_ended(&events, &user);
    Ok(StatusCode::NO_CONTENT)
}

/// Tells the other plugins (the realtime plugin closes the user's sockets)
/// that `user`'s access ended or narrowed.
fn access_ended(events: &Events, user: &CurrentUser) {
    if let Some(id) = user.id() {
        ended(events, id);
    }
}

fn ended(events: &Events, user: &str) {
    drop(events.emit(AccessEnded {
        user: user.to_owned(),
        from_another_instance: false,
    }));
}

#[derive(Debug, Deserialize, raclette::JsonSchema)]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SwitchProject {
    project: String,
}

async fn switch_project(
    State(core): Shared,
    user: CurrentUser,
    events: Events,
    session: Session,
    Json(body): Json<SwitchProject>,
) -> Result<Json<SessionInfo>, HttpError> {
    let principal = principal_of(&core, &user).await?;
    let entered = core
        .accounts
        .user_in(&principal, &body.project)
        .await
        .map_err(|err| match err {
            CoreError::NoProject(_) => HttpError::from(err).with_field("project"),
            other => HttpError::from(other),
        })?;
    if entered.is_none() {
        return Err(forbidden(format!(
            "you are not a member of project `{}`",
            body.project
        ))
        .with_field("project"));
    }
    let Some(mut auth) = session
        .get::<SessionAuth>(AUTH_KEY)
        .await
        .map_err(session_failed)?
    else {
        return Err(bad(
            "project",
            "only a browser session remembers a project; send the X-Raclette-Project header instead",
        ));
    };
    auth.project = Some(body.project.clone());
    let csrf = auth.csrf.clone();
    session
        .insert(AUTH_KEY, &auth)
        .await
        .map_err(session_failed)?;
    // Stored before the connections opened in the old project are closed,
    // so that they authenticate again into the new one.
    session.save().await.map_err(session_failed)?;
    access_ended(&events, &user);
    Ok(Json(
        session_info(&core, &principal, &body.project, Some(csrf)).await?,
    ))
}

#[derive(Debug, Deserialize, raclette::JsonSchema)]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(core): Shared,
    user: CurrentUser,
    events: Events,
    session: Session,
    peer: Option<ClientAddr>,
    Json(body): Json<ChangePassword>,
) -> Result<StatusCode, Response> {
    let principal = principal_of(&core, &user)
        .await
        .map_err(IntoResponse::into_response)?;
    password::check_policy(&body.new_password)
        .map_err(|m| bad("newPassword", m).into_response())?;
    // Guessing the current password counts like guessing at sign-in.
    let address = peer.map(|ClientAddr(addr)| addr.ip());
    core.limits
        .attempt(&principal.record.email, address)
        .map_err(too_many)?;
    let failed = |e: CoreError| HttpError::from(e).into_response();
    let (_, hash) = core
        .accounts
        .by_email(&principal.record.email)
        .await
        .map_err(failed)?
        .ok_or_else(|| unauthorized("sign in first"))?;
    if body.current_password.len() > 4 * password::MAX_LENGTH
        || !password::verify(body.current_password, Some(hash)).await
    {
        return Err(forbidden("the current password is wrong")
            .with_field("currentPassword")
            .into_response());
    }
    let hash = password::hash(body.new_password)
        .await
        .map_err(|e| failed(CoreError::Hashing(e)))?;
    core.accounts
        .set_password_hash(&principal.record.id, &hash)
        .await
        .map_err(failed)?;
    core.sessions
        .end_sessions_of(&principal.record.id, session.id().as_ref())
        .await
        .map_err(|e| HttpError::from(e).into_response())?;
    access_ended(&events, &user);
    Ok(StatusCode::NO_CONTENT)
}

async fn list_tokens(
    State(core): Shared,
    user: CurrentUser,
) -> Result<Json<Vec<TokenRecord>>, HttpError> {
    let principal = principal_of(&core, &user).await?;
    Ok(Json(core.tokens.of_user(&principal.record.id).await?))
}

#[derive(Debug, Deserialize, raclette::JsonSchema)]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    name: String,
    #[serde(default)]
    expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, raclette::JsonSchema)]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase")]
struct CreatedToken {
    #[serde(flatten)]
    token: TokenRecord,
    /// Shown once: send it as `Authorization: Bearer <secret>`.
    secret: String,
}

async fn create_token(
    State(core): Shared,
    user: CurrentUser,
    with: Option<Extension<SignedInWith>>,
    Json(body): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), HttpError> {
    let principal = principal_of(&core, &user).await?;
    // A token cannot mint more tokens: a short-lived or leaked token must
    // not become a permanent one.
    if with.map(|Extension(w)| w) != Some(SignedInWith::Session) {
        return Err(forbidden(
            "API tokens are created by a signed-in browser session, not with another token",
        ));
    }
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(bad("name", "must be 1 to 100 characters"));
    }
    if body.expires_in_days.is_some_and(|d| d == 0 || d > 3650) {
        return Err(bad("expiresInDays", "must be from 1 to 3650"));
    }
    let (token, secret) = core
        .tokens
        .create(&principal.record.id, name, body.expires_in_days)
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

async fn revoke_token(
    State(core): Shared,
    user: CurrentUser,
    events: Events,
    Path(PathId(id)): Path<PathId>,
) -> Result<StatusCode, HttpError> {
    let principal = principal_of(&core, &user).await?;
    if core.tokens.revoke(&principal.record.id, &id).await? {
        access_ended(&events, &user);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(HttpError::not_found(format!("you have no token `{id}`")))
    }
}

/// A user as a listing shows them, with their role in the request's
/// project when they have one.
#[derive(Debug, Serialize, raclette::JsonSchema)]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase")]
struct ListedUser {
    #[serde(flatten)]
    user: UserRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

async fn visible_users(
    core: &Core,
    principal: &Principal,
    project: &Project,
) -> Result<Vec<ListedUser>, HttpError> {
    let members = core.accounts.members(project.id()).await?;
    if principal.record.is_admin {
        let roles: std::collections::BTreeMap<String, String> =
            members.into_iter().map(|(u, role)| (u.id, role)).collect();
        return Ok(core
            .accounts
            .all_users()
            .await?
            .into_iter()
            .map(|user| ListedUser {
                role: roles.get(&user.id).cloned(),
                user,
            })
            .collect());
    }
    Ok(members
        .into_iter()
        .map(|(user, role)| ListedUser {
            user,
            role: Some(role),
        })
        .collect())
}

async fn list_users(
    State(core): Shared,
    user: CurrentUser,
    project: Project,
) -> Result<Json<Vec<ListedUser>>, HttpError> {
    let principal = principal_of(&core, &user).await?;
    Ok(Json(visible_users(&core, &principal, &project).await?))
}

async fn get_user(
    State(core): Shared,
    user: CurrentUser,
    project: Project,
    Path(PathId(id)): Path<PathId>,
) -> Result<Json<ListedUser>, HttpError> {
    let principal = principal_of(&core, &user).await?;
    visible_users(&core, &principal, &project)
        .await?
        .into_iter()
        .find(|u| u.user.id == id)
        .map(Json)
        .ok_or_else(|| HttpError::not_found(format!("no user `{id}` in this project")))
}

#[derive(Debug, Deserialize, raclette::JsonSchema)]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserChange {
    display_name: Option<String>,
    is_admin: Option<bool>,
    disabled: Option<bool>,
}

async fn update_user(
    State(core): Shared,
    user: CurrentUser,
    events: Events,
    Path(PathId(id)): Path<PathId>,
    Json(body): Json<UserChange>,
) -> Result<Json<UserRecord>, HttpError> {
    let principal = principal_of(&core, &user).await?;
    let admin = principal.record.is_admin;
    if !admin && id != principal.record.id {
        return Err(forbidden("only an administrator may change another user"));
    }
    if !admin && (body.is_admin.is_some() || body.disabled.is_some()) {
        return Err(forbidden(
            "only an administrator may change `isAdmin` or `disabled`",
        ));
    }
    if id == principal.record.id && (body.is_admin == Some(false) || body.disabled == Some(true)) {
        return Err(forbidden(
            "administrators cannot lock themselves out; ask another administrator",
        ));
    }
    if let Some(name) = &body.display_name
        && (name.trim().is_empty() || name.chars().count() > 100)
    {
        return Err(bad("displayName", "must be 1 to 100 characters"));
    }
    let updated = core
        .accounts
        .update_user(
            &id,
            body.display_name.as_deref().map(str::trim),
            body.is_admin,
            body.disabled,
        )
        .await?
        .ok_or_else(|| HttpError::not_found(format!("no user `{id}`")))?;
    if updated.disabled {
        // Access ends at once and for good: sessions and tokens deleted.
        core.sessions.end_sessions_of(&id, None).await?;
        core.tokens.revoke_all_of(&id).await?;
        ended(&events, &id);
    } else if body.is_admin == Some(false) {
        // No longer an administrator: open connections authenticate again.
        ended(&events, &id);
    }
    Ok(Json(updated))
}

async fn list_projects(
    State(core): Shared,
    user: CurrentUser,
) -> Result<Json<Vec<ProjectSummary>>, HttpError> {
    let principal = principal_of(&core, &user).await?;
    Ok(Json(core.accounts.projects_of(&principal).await?))
}

#[derive(Debug, Deserialize, raclette::JsonSchema)]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewProject {
    name: String,
}

async fn create_project(
    State(core): Shared,
    user: CurrentUser,
    Json(body): Json<NewProject>,
) -> Result<(StatusCode, Json<ProjectSummary>), HttpError> {
    let principal = principal_of(&core, &user).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(bad("name", "must be 1 to 200 characters"));
    }
    let project = core
        .accounts
        .create_project(name, &principal.record.id)
        .await?;
    Ok((StatusCode::CREATED, Json(project)))
}

#[derive(Debug, Deserialize, raclette::JsonSchema)]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Membership {
    email: String,
    role: String,
}

async fn set_member(
    State(core): Shared,
    project: Project,
    events: Events,
    Json(body): Json<Membership>,
) -> Result<StatusCode, HttpError> {
    let email = normalize_email(&body.email);
    check_email(&email)?;
    if !core.accounts.roles().exists(&body.role) {
        let names: Vec<&str> = core.accounts.roles().names().collect();
        return Err(bad("role", format!("must be one of: {}", names.join(", "))));
    }
    let Some((user, _)) = core.accounts.by_email(&email).await? else {
        return Err(
            HttpError::not_found(format!("no user with the email `{email}`")).with_field("email"),
        );
    };
    core.accounts
        .set_member(project.id(), &user.id, &body.role)
        .await?;
    // A new role may read less: open connections authenticate again.
    ended(&events, &user.id);
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(core): Shared,
    project: Project,
    events: Events,
    Path(PathId(id)): Path<PathId>,
) -> Result<StatusCode, HttpError> {
    if core.accounts.remove_member(project.id(), &id).await? {
        ended(&events, &id);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(HttpError::not_found(format!(
            "no member `{id}` in this project"
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(
            super::retry_after_seconds(Duration::from_millis(10_900)),
            11
        );
        assert_eq!(
            super::retry_after_seconds(Duration::from_millis(10_001)),
            11
        );
        assert_eq!(super::retry_after_seconds(Duration::from_secs(10)), 10);
        assert_eq!(super::retry_after_seconds(Duration::ZERO), 1);
    }
}
