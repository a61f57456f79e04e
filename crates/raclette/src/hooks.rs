use std::{future::Future, pin::Pin};

use crate::Result;

/// The future a lifecycle hook returns.
pub type HookFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

/// A lifecycle hook: called once, then dropped.
pub type Hook = Box<dyn FnOnce() -> HookFuture + Send>;

/// The lifecycle hooks one plugin registered, in the order it registered
/// them.
#[derive(Default)]
pub struct Hooks {
    /// Run before the plugin's routes are mounted; an error stops start-up.
    pub before_mount: Vec<Hook>,
    /// Run once the server is listening.
    pub mounted: Vec<Hook>,
    /// Run at graceful shutdown, after in-flight requests have finished, in
    /// reverse dependency order.
    pub before_unmount: Vec<Hook>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("before_mount", &self.before_mount.len())
            .field("mounted", &self.mounted.len())
            .field("before_unmount", &self.before_unmount.len())
            .finish()
    }
}

pub(crate) fn boxed<F, Fut>(hook: F) -> Hook
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    Box::new(move || Box::pin(hook()))
}
