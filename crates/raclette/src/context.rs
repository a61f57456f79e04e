//! Who is asking: the request's user and project.
//!
//! These are interfaces, not implementations: every plugin may read them
//! without depending on the plugin that fills them in. Until a plugin that
//! signs users in is enabled, every request is anonymous and runs in the
//! [default project](Project::DEFAULT_ID).
//!
//! A plugin that authenticates requests puts a [`CurrentUser`] and a
//! [`Project`] into the request's extensions from a request identifier
//! ([`crate::Registrar::identify_requests`]); handlers read them as
//! extractors.

use std::{collections::BTreeSet, convert::Infallible, sync::Arc};

use axum::{extract::FromRequestParts, http::request::Parts};
use serde::Serialize;

/// A signed-in user, as a plugin that signs users in describes them.
///
/// ```
/// use raclette::User;
///
/// let user = User::new("u1", "ada@example.com").with_permissions(["todo.read"]);
/// assert!(user.has_permission("todo.read"));
/// assert!(!user.has_permission("todo.write"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// A stable id.
    pub id: String,
    /// The email address the user signs in with.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// Role names in the request's project.
    pub roles: Vec<String>,
    /// Every permission the roles grant, such as `todo.write`.
    pub permissions: BTreeSet<String>,
}

impl User {
    /// A user with no roles and no permissions; the display name is the
    /// email until [`User::with_display_name`] sets one.
    ///
    /// ```
    /// let user = raclette::User::new("u1", "ada@example.com");
    /// assert_eq!(user.display_name, "ada@example.com");
    /// assert!(user.roles.is_empty());
    /// ```
    pub fn new(id: impl Into<String>, email: impl Into<String>) -> Self {
        let email = email.into();
        User {
            id: id.into(),
            display_name: email.clone(),
            email,
            roles: Vec::new(),
            permissions: BTreeSet::new(),
        }
    }

    /// Sets the display name.
    ///
    /// ```
    /// let user = raclette::User::new("u1", "ada@example.com").with_display_name("Ada");
    /// assert_eq!(user.display_name, "Ada");
    /// ```
    #[must_use]
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = name.into();
        self
    }

    /// Adds role names.
    ///
    /// ```
    /// let user = raclette::User::new("u1", "ada@example.com").with_roles(["admin"]);
    /// assert!(user.has_permission("anything.at_all"));
    /// ```
    #[must_use]
    pub fn with_roles<I: IntoIterator<Item = S>, S: Into<String>>(mut self, roles: I) -> Self {
        self.roles.extend(roles.into_iter().map(Into::into));
        self
    }

    /// Adds permissions.
    ///
    /// ```
    /// let user = raclette::User::new("u1", "a@b.c").with_permissions(["todo.read"]);
    /// assert!(user.permissions.contains("todo.read"));
    /// ```
    #[must_use]
    pub fn with_permissions<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        permissions: I,
    ) -> Self {
        self.permissions
            .extend(permissions.into_iter().map(Into::into));
        self
    }

    /// Whether the user may do `permission`: the built-in `admin` role may
    /// do everything.
    ///
    /// ```
    /// let user = raclette::User::new("u1", "a@b.c").with_permissions(["todo.read"]);
    /// assert!(user.has_permission("todo.read"));
    /// ```
    pub fn has_permission(&self, permission: &str) -> bool {
        self.roles.iter().any(|r| r == "admin") || self.permissions.contains(permission)
    }
}

/// The user making the request, if signed in: an extractor that never fails.
///
/// ```
/// use raclette::{CurrentUser, Json};
///
/// async fn whoami(user: CurrentUser) -> Json<String> {
///     Json(match user.get() {
///         Some(user) => user.display_name.clone(),
///         None => "anonymous".to_owned(),
///     })
/// }
/// # let _ = whoami;
/// ```
///
/// A plugin that signs users in inserts it into the request's extensions:
///
/// ```
/// use raclette::{CurrentUser, User};
///
/// let mut request = raclette::http::Request::new(());
/// request.extensions_mut().insert(CurrentUser::signed_in(User::new("u1", "a@b.c")));
/// ```
#[derive(Debug, Clone, Default)]
pub struct CurrentUser(Option<Arc<User>>);

impl CurrentUser {
    /// Nobody signed in.
    ///
    /// ```
    /// assert!(raclette::CurrentUser::anonymous().get().is_none());
    /// ```
    pub fn anonymous() -> Self {
        CurrentUser(None)
    }

    /// `user` is signed in.
    ///
    /// ```
    /// let user = raclette::CurrentUser::signed_in(raclette::User::new("u1", "a@b.c"));
    /// assert_eq!(user.get().unwrap().id, "u1");
    /// ```
    pub fn signed_in(user: User) -> Self {
        CurrentUser(Some(Arc::new(user)))
    }

    /// The user, unless the request is anonymous.
    ///
    /// ```
    /// assert!(raclette::CurrentUser::default().get().is_none());
    /// ```
    pub fn get(&self) -> Option<&User> {
        self.0.as_deref()
    }

    /// The user's id, unless the request is anonymous.
    ///
    /// ```
    /// assert_eq!(raclette::CurrentUser::anonymous().id(), None);
    /// ```
    pub fn id(&self) -> Option<&str> {
        self.get().map(|u| u.id.as_str())
    }
}

impl From<Arc<User>> for CurrentUser {
    /// `user` is signed in; a plugin that signs users in can keep one
    /// `Arc` per user and project instead of building a [`User`] per
    /// request.
    fn from(user: Arc<User>) -> Self {
        CurrentUser(Some(user))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(from_extensions(&parts.extensions))
    }
}

/// The project (tenant) the request runs in: an extractor that never fails.
///
/// Until a plugin that manages projects is enabled, every request runs in
/// the project with id [`Project::DEFAULT_ID`].
///
/// ```
/// use raclette::{Json, Project};
///
/// async fn which(project: Project) -> Json<String> {
///     Json(project.id().to_owned())
/// }
/// # let _ = which;
/// assert_eq!(Project::default().id(), "default");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    id: Arc<str>,
}

impl Project {
    /// The id of the project requests run in when nothing chose one.
    pub const DEFAULT_ID: &'static str = "default";

    /// The project with id `id`.
    ///
    /// ```
    /// assert_eq!(raclette::Project::new("acme").id(), "acme");
    /// ```
    pub fn new(id: impl AsRef<str>) -> Self {
        Project {
            id: Arc::from(id.as_ref()),
        }
    }

    /// The project's id.
    ///
    /// ```
    /// assert_eq!(raclette::Project::new("acme").id(), "acme");
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The id, shared rather than copied.
    pub(crate) fn shared_id(&self) -> Arc<str> {
        self.id.clone()
    }

    /// The id of the default project, shared.
    pub(crate) fn default_shared_id() -> Arc<str> {
        DEFAULT_PROJECT.shared_id()
    }
}

/// The default project, made once.
static DEFAULT_PROJECT: std::sync::LazyLock<Project> =
    std::sync::LazyLock::new(|| Project::new(Project::DEFAULT_ID));

impl Default for Project {
    fn default() -> Self {
        DEFAULT_PROJECT.clone()
    }
}

impl Serialize for Project {
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        serializer.serialize_str(&self.id)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Project {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(from_extensions(&parts.extensions))
    }
}

/// What a plugin put into the request's extensions, or the default
/// (anonymous, the default project) when none did.
pub(crate) fn from_extensions<T: Clone + Default + Send + Sync + 'static>(
    extensions: &axum::http::Extensions,
) -> T {
    extensions.get::<T>().cloned().unwrap_or_default()
}
