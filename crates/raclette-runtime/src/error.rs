use raclette_discovery::Report;

/// Why an app could not start (or stop cleanly).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Discovery found problems in the app's files.
    #[error("{0}")]
    Invalid(#[from] Report),
    /// A plugin failed while mounting (set-up, migrations or `before_mount`).
    #[error("plugin {plugin} failed to mount: {cause}")]
    Mount {
        /// Folder name of the plugin.
        plugin: String,
        /// What went wrong.
        #[source]
        cause: Box<MountFailure>,
    },
    /// Two routes of different plugins would answer the same requests.
    #[error("route clash: {path} is claimed by plugin {first} and by plugin {second}")]
    RouteClash {
        /// The path, parameters written `:name`.
        path: String,
        /// The plugin that registered it first.
        first: String,
        /// The plugin that registered it again.
        second: String,
    },
    /// A plugin is enabled and has a server half, but the running binary was
    /// not built with it.
    #[error(
        "plugin {0} has a server/ crate that this binary was not built with; run the app through `raclette dev` or `raclette build` so the host is regenerated"
    )]
    MissingServer(String),
    /// A server half was handed in for a plugin that was not discovered.
    #[error("a server half was given for plugin {0}, but there is no such plugin folder")]
    UnknownPlugin(String),
    /// The database could not be opened.
    #[error("database {url}: {cause}")]
    Database {
        /// The URL (without password).
        url: String,
        /// What went wrong.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {cause}")]
    Bind {
        /// The address.
        addr: String,
        /// What went wrong.
        cause: std::io::Error,
    },
    /// An I/O error while serving.
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
    /// A plugin's `before_unmount` hook failed (the others still ran).
    #[error("plugin {plugin} failed to unmount: {cause}")]
    Unmount {
        /// Folder name of the plugin.
        plugin: String,
        /// What went wrong.
        #[source]
        cause: Box<raclette::Error>,
    },
}

/// Why one plugin could not be mounted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MountFailure {
    /// Its entry function returned an error.
    #[error(transparent)]
    Setup(raclette::Error),
    /// Its entry function panicked.
    #[error("panicked during set-up: {0}")]
    Panic(String),
    /// One of its migrations failed or was changed.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// Its collections' tables could not be created.
    #[error("cannot create the tables of its collections: {0}")]
    Collections(#[source] raclette::data::DataError),
    /// A lifecycle hook failed.
    #[error("{stage}: {source}")]
    Hook {
        /// `before_mount` or `mounted`.
        stage: &'static str,
        /// The hook's error.
        source: raclette::Error,
    },
    /// axum refused its routes.
    #[error("its routes cannot be mounted: {0}")]
    Routes(String),
    /// A route requires a permission no enabled plugin defines.
    #[error(
        "route {method} {path} requires the permission `{permission}`, which no enabled plugin defines: declare it under `[permissions]` in the metadata of the plugin it belongs to (`{name} = \"what it allows\"` for `<plugin folder>.{name}`)",
        name = permission.rsplit('.').next().unwrap_or(permission)
    )]
    UnknownPermission {
        /// The route's method.
        method: String,
        /// The route's path below the plugin's prefix.
        path: String,
        /// The permission it requires.
        permission: String,
    },
}

/// Why a plugin's migrations could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// A recorded migration's file changed since it was applied.
    #[error(
        "migration {version}_{name} was changed after it was applied; add a new migration instead"
    )]
    Changed {
        /// Its version number.
        version: i64,
        /// Its name.
        name: String,
    },
    /// A migration's SQL failed.
    #[error("migration {version}_{name}: {source}")]
    Failed {
        /// Its version number.
        version: i64,
        /// Its name.
        name: String,
        /// The database's error.
        source: sqlx::Error,
    },
    /// Reading or recording migrations failed.
    #[error("recording migrations: {0}")]
    Bookkeeping(#[from] sqlx::Error),
}

impl StartError {
    /// A mount failure of `plugin`.
    pub(crate) fn mount(plugin: impl Into<String>, cause: MountFailure) -> Self {
        StartError::Mount {
            plugin: plugin.into(),
            cause: Box::new(cause),
        }
    }

    /// The plugin and cause, when a plugin failed to mount.
    ///
    /// ```
    /// # fn f(err: raclette_runtime::StartError) {
    /// if let Some((plugin, cause)) = err.mount_failure() {
    ///     eprintln!("{plugin}: {cause}");
    /// }
    /// # }
    /// ```
    pub fn mount_failure(&self) -> Option<(&str, &MountFailure)> {
        match self {
            StartError::Mount { plugin, cause } => Some((plugin, cause)),
            _ => None,
        }
    }
}
