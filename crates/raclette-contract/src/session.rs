//! The session as the built-in core plugin reports it to the browser
//! (`GET /plugin/raclette/core/session`, the answer of a sign-in): the
//! shell shows the user and project from it and sends its CSRF token on
//! writes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Who is signed in, in which project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// The signed-in user, or null for an anonymous request.
    pub user: Option<SessionUser>,
    /// The id of the request's project.
    pub project: String,
    /// The projects the user may switch to.
    pub projects: Vec<ProjectSummary>,
    /// The token a cookie-authenticated write sends in `X-CSRF-Token`
    /// (null for anonymous and bearer-token requests).
    pub csrf_token: Option<String>,
}

/// A signed-in user as the shell sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionUser {
    /// The user's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The email they sign in with.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// Whether they may do everything in every project.
    pub is_admin: bool,
    /// Their roles in the request's project.
    pub roles: Vec<String>,
    /// What those roles allow, such as `pacifico__todo.write`.
    pub permissions: Vec<String>,
}

/// A project and the user's role in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSummary {
    /// The project's id (what `X-Raclette-Project` names).
    #[serde(rename = "_id")]
    pub id: String,
    /// Its name.
    pub name: String,
    /// The user's role in it; absent when an administrator is no member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub role: Option<String>,
}
