use std::fmt;

/// The result of a plugin's set-up code.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while a plugin sets itself up.
///
/// Every variant names the plugin and says what was expected, so that the
/// message printed at start-up is enough to fix the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plugin's options do not fit its options type.
    #[error(
        "options of plugin {plugin}: field `{field}`: {message} (defaults come from {defaults_file} [options], overrides from raclette.toml [plugins.{plugin}.options])"
    )]
    Options {
        /// Folder name of the plugin.
        plugin: String,
        /// Path of the offending field, such as `options.limit`.
        field: String,
        /// What serde expected.
        message: String,
        /// The metadata file holding the defaults.
        defaults_file: String,
    },
    /// A service was asked for that no enabled plugin provides.
    #[error("plugin {plugin} asked for service `{service}`, but no enabled plugin provides it")]
    ServiceMissing {
        /// The plugin that asked.
        plugin: String,
        /// Rust type name of the service.
        service: String,
    },
    /// A service was asked for whose provider is not a dependency.
    #[error(
        "plugin {plugin} asked for service `{service}` of plugin {provider}, but does not depend on it: add `{provider}` to [dependencies] in its raclette.plugin.toml"
    )]
    ServiceNotDependency {
        /// The plugin that asked.
        plugin: String,
        /// Rust type name of the service.
        service: String,
        /// The plugin that provides it.
        provider: String,
    },
    /// Two plugins provide the same service type.
    #[error(
        "plugin {plugin} provides service `{service}`, which plugin {provider} already provides"
    )]
    ServiceTwice {
        /// The plugin providing it second.
        plugin: String,
        /// Rust type name of the service.
        service: String,
        /// The plugin that provided it first.
        provider: String,
    },
    /// A route could not be registered.
    #[error("route of plugin {plugin}: {message}")]
    Route {
        /// The plugin registering the route.
        plugin: String,
        /// What is wrong with it.
        message: String,
    },
    /// A database operation failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Any other failure, with a message from the plugin.
    #[error("{0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// An error with a message of the plugin's own.
    ///
    /// ```
    /// let err = raclette::Error::msg("the invoice service is not configured");
    /// assert_eq!(err.to_string(), "the invoice service is not configured");
    /// ```
    pub fn msg(message: impl fmt::Display) -> Self {
        Error::Other(message.to_string().into())
    }

    /// Wraps any error type.
    pub fn other(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Other(Box::new(err))
    }
}
