//! Who writes and in which project: the scope of every data operation.

use std::sync::Arc;

/// The project (tenant) and user a data operation runs for. Every read
/// and write of a collection is confined to the context's project, and
/// writes stamp its user as `owner` (on create) and `lastEditor`.
///
/// Plugins do not build one by hand: the `Data<T>` extractor of the plugin
/// API fills it from the request.
///
/// ```
/// let ctx = raclette_data::Context::new("acme").with_user("u-1");
/// assert_eq!(ctx.project(), "acme");
/// assert_eq!(ctx.user(), Some("u-1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    project: Arc<str>,
    user: Option<Arc<str>>,
}

impl Context {
    /// Anonymous, in `project`.
    pub fn new(project: impl Into<Arc<str>>) -> Self {
        Context {
            project: project.into(),
            user: None,
        }
    }

    /// The same project, as user `user`.
    pub fn with_user(mut self, user: impl Into<Arc<str>>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The project's id.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The user's id; `None` for anonymous.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }
}
