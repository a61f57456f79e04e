use std::fmt;

/// The result of a plugin's set-up code.
///
/// ```
/// pub fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
///     let _options: serde_json::Value = app.options()?;
///     Ok(())
/// }
/// # let _ = plugin;
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while a plugin sets itself up.
///
/// Every variant names the plugin and says what was expected, so that the
/// message printed at start-up is enough to fix the problem.
///
/// ```
/// fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
///     match app.service::<String>() {
///         Err(raclette::Error::ServiceMissing { service, .. }) => {
///             raclette::tracing::warn!("{service} is not provided; running without it");
///             Ok(())
///         }
///         other => other.map(drop),
///     }
/// }
/// # let _ = plugin;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plugin's options do not fit its options type.
    #[error(
        "options of plugin {plugin}: field `{field}`: {message} (defaults come from {defaults_file} [options], overrides from raclette.toml {overrides})"
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
        /// Where `raclette.toml` overrides them, such as
        /// `[plugins.acme__shop.options]`.
        overrides: String,
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
    /// A collection declaration is not valid.
    #[error("plugin {plugin}: {cause}")]
    Collection {
        /// The plugin declaring it.
        plugin: String,
        /// What is wrong.
        #[source]
        cause: crate::data::DataError,
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
    #[error("route of plugin {plugin}: {problem}")]
    Route {
        /// The plugin registering the route.
        plugin: String,
        /// What is wrong with it.
        #[source]
        problem: RouteProblem,
    },
    /// Two plugins provide a broadcaster.
    #[error(
        "plugin {plugin} provides a broadcaster, but plugin {provider} already provides one; an app has one broadcaster: turn one of them off in raclette.toml (`[plugins.{provider}] enabled = false` or `[plugins.{plugin}] enabled = false`)"
    )]
    BroadcasterTwice {
        /// The plugin providing it second.
        plugin: String,
        /// The plugin that provided it first.
        provider: String,
    },
    /// A database operation failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Any other failure, with a message from the plugin.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// What is wrong with a route a plugin registers.
///
/// ```
/// use raclette::{Error, RouteProblem, Routes};
///
/// # fn plugin(app: &mut raclette::Registrar) {
/// async fn h() {}
/// let err = app.routes(Routes::new().get("/a", h).get("/a", h)).unwrap_err();
/// assert!(matches!(err, Error::Route { problem: RouteProblem::Duplicate { .. }, .. }));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteProblem {
    /// The path is malformed.
    #[error("{reason}")]
    BadPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The method and path pair is registered twice.
    #[error("{method} {path} is registered twice")]
    Duplicate {
        /// Upper-case method.
        method: String,
        /// Path, parameters written `:name`.
        path: String,
    },
    /// `public()` or `require(…)` was called before any route was added.
    #[error("`public` or `require` must follow the route it applies to")]
    AccessWithoutRoute,
    /// `summary`, `accepts`, `answers`, `status`, `fails` or `query` was called before any
    /// route was added.
    #[error("`{call}` must follow the route it describes")]
    DocsWithoutRoute {
        /// The method called, such as `accepts`.
        call: &'static str,
    },
    /// axum cannot route this method.
    #[error("method {method} of {path} is not supported")]
    UnsupportedMethod {
        /// The method.
        method: String,
        /// The path.
        path: String,
    },
    /// Two routes declare the same data operation.
    #[error("data operation {data_type}.{name} is declared twice")]
    OperationTwice {
        /// The data type.
        data_type: String,
        /// The operation name.
        name: String,
    },
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

    /// Wraps any error type, keeping it as the source.
    ///
    /// ```
    /// let io = std::io::Error::other("disk full");
    /// let err = raclette::Error::other(io);
    /// assert_eq!(err.to_string(), "disk full");
    /// assert!(matches!(err, raclette::Error::Other(_)));
    /// ```
    pub fn other(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Other(Box::new(err))
    }
}
