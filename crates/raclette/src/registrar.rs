use std::{collections::BTreeSet, convert::Infallible, future::Future, sync::Arc};

use axum::{Router, extract::Request, response::IntoResponse, routing::Route};
use serde::de::DeserializeOwned;
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    Database, Error, Hooks, PluginInfo, Result, RouteInfo, Routes, ServiceRegistry, hooks::boxed,
};

/// Wraps a router in a middleware; what [`Registrar::layer`] and
/// [`Registrar::app_layer`] store.
pub type LayerFn = Box<dyn FnOnce(Router) -> Router + Send>;

/// What a plugin registers at start-up: routes, middleware, services, hooks.
///
/// The runtime makes one per plugin and passes it to the plugin's entry
/// function. Everything registered here is scoped to the plugin: its routes
/// are mounted under its prefix, its log lines carry its name.
pub struct Registrar<'a> {
    info: PluginInfo,
    options: serde_json::Value,
    defaults_file: String,
    database: Database,
    services: &'a mut ServiceRegistry,
    dependencies: BTreeSet<String>,
    routes: Routes,
    layers: Vec<LayerFn>,
    app_layers: Vec<LayerFn>,
    hooks: Hooks,
}

/// Everything one plugin registered, handed back to the runtime.
pub struct PluginParts {
    /// The plugin's routes, paths relative to its prefix.
    pub router: Router,
    /// The route list, for `GET /raclette/plugins` and `raclette routes`.
    pub routes: Vec<RouteInfo>,
    /// Middleware for the plugin's own routes, first added first.
    pub layers: Vec<LayerFn>,
    /// Middleware for the whole app, first added first.
    pub app_layers: Vec<LayerFn>,
    /// Lifecycle hooks.
    pub hooks: Hooks,
}

impl std::fmt::Debug for Registrar<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("plugin", &self.info.folder())
            .finish_non_exhaustive()
    }
}

impl<'a> Registrar<'a> {
    /// A registrar for one plugin. Called by the runtime, not by plugins.
    ///
    /// `options` are the plugin's merged options (metadata defaults with the
    /// app's overrides on top), `defaults_file` the metadata file they came
    /// from, `dependencies` the folders of every plugin this one depends on,
    /// directly or not.
    pub fn new(
        info: PluginInfo,
        options: serde_json::Value,
        defaults_file: String,
        database: Database,
        services: &'a mut ServiceRegistry,
        dependencies: BTreeSet<String>,
    ) -> Self {
        Registrar {
            info,
            options,
            defaults_file,
            database,
            services,
            dependencies,
            routes: Routes::new(),
            layers: Vec::new(),
            app_layers: Vec::new(),
            hooks: Hooks::default(),
        }
    }

    /// Who this plugin is: folder, key, route prefix.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Adds routes, mounted under the plugin's prefix.
    ///
    /// Fails when a path is malformed or a method and path pair is added
    /// twice.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
    /// async fn ping() -> &'static str { "pong" }
    /// app.routes(raclette::Routes::new().get("/ping", ping))?;
    /// # Ok(()) }
    /// ```
    pub fn routes(&mut self, routes: Routes) -> Result<&mut Self> {
        let mut merged = std::mem::take(&mut self.routes).merge(routes);
        let problems = merged.take_problems();
        self.routes = merged;
        match problems.into_iter().next() {
            Some(message) => Err(Error::Route {
                plugin: self.info.folder().to_owned(),
                message,
            }),
            None => Ok(self),
        }
    }

    /// Adds a tower middleware around this plugin's routes only.
    ///
    /// Layers run in the order they were added: the first one added sees the
    /// request first. App-wide layers ([`Registrar::app_layer`]) run before
    /// any plugin's own layers.
    pub fn layer<L>(&mut self, layer: L) -> &mut Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.layers
            .push(Box::new(move |router: Router| router.layer(layer)));
        self
    }

    /// Adds a tower middleware around the whole app: every plugin's routes,
    /// framework endpoints and unknown paths.
    ///
    /// App-wide layers of plugins run in dependency order (a dependency's
    /// layer sees the request before its dependants' layers); within one
    /// plugin, the first added sees the request first.
    pub fn app_layer<L>(&mut self, layer: L) -> &mut Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.app_layers
            .push(Box::new(move |router: Router| router.layer(layer)));
        self
    }

    /// Reads the plugin's options into `T`.
    ///
    /// The options are the `[options]` table of `raclette.plugin.toml`, with
    /// `[plugins.<folder>.options]` of `raclette.toml` merged on top (tables
    /// merge key by key; other values are replaced).
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Options { page_size: u32 }
    ///
    /// # fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
    /// let options: Options = app.options()?;
    /// # let _ = options.page_size; Ok(()) }
    /// ```
    pub fn options<T: DeserializeOwned>(&self) -> Result<T> {
        serde_path_to_error::deserialize(&self.options).map_err(|err| {
            let path = err.path().to_string();
            Error::Options {
                plugin: self.info.folder().to_owned(),
                field: if path == "." {
                    "options".to_owned()
                } else {
                    format!("options.{path}")
                },
                message: err.into_inner().to_string(),
                defaults_file: self.defaults_file.clone(),
            }
        })
    }

    /// The plugin's options as raw JSON.
    pub fn options_value(&self) -> &serde_json::Value {
        &self.options
    }

    /// Offers a service to the plugins that depend on this one.
    ///
    /// Fails when another plugin already provides the same type.
    pub fn provide<T: Send + Sync + 'static>(&mut self, service: T) -> Result<&mut Self> {
        let folder = self.info.folder().to_owned();
        self.services
            .insert(&folder, Arc::new(service))
            .map_err(|provider| Error::ServiceTwice {
                plugin: folder.clone(),
                service: std::any::type_name::<T>().to_owned(),
                provider,
            })?;
        Ok(self)
    }

    /// A service provided by a plugin this one depends on (directly or
    /// through other dependencies).
    pub fn service<T: Send + Sync + 'static>(&self) -> Result<Arc<T>> {
        let folder = self.info.folder();
        let service = std::any::type_name::<T>().to_owned();
        match self.services.get::<T>() {
            None => Err(Error::ServiceMissing {
                plugin: folder.to_owned(),
                service,
            }),
            Some((value, provider))
                if provider == folder || self.dependencies.contains(provider) =>
            {
                Ok(value)
            }
            Some((_, provider)) => Err(Error::ServiceNotDependency {
                plugin: folder.to_owned(),
                service,
                provider: provider.to_owned(),
            }),
        }
    }

    /// The app's database pool (cheap to clone).
    pub fn database(&self) -> Database {
        self.database.clone()
    }

    /// Runs `hook` before the plugin's routes are mounted. An error stops
    /// start-up with the plugin's name.
    pub fn on_before_mount<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.hooks.before_mount.push(boxed(hook));
        self
    }

    /// Runs `hook` once the server is listening.
    pub fn on_mounted<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.hooks.mounted.push(boxed(hook));
        self
    }

    /// Runs `hook` at graceful shutdown, after in-flight requests finished.
    /// Plugins are unmounted in reverse dependency order.
    pub fn on_before_unmount<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.hooks.before_unmount.push(boxed(hook));
        self
    }

    /// Hands everything registered back to the runtime.
    pub fn into_parts(self) -> PluginParts {
        let (router, routes, _) = self.routes.into_parts();
        PluginParts {
            router,
            routes,
            layers: self.layers,
            app_layers: self.app_layers,
            hooks: self.hooks,
        }
    }
}
