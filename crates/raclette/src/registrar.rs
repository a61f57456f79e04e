use std::{collections::BTreeSet, convert::Infallible, future::Future, sync::Arc};

use axum::{Router, extract::Request, response::IntoResponse, routing::Route};
use serde::de::DeserializeOwned;
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    Broadcast, Broadcaster, Database, Error, PluginInfo, PluginSummary, Result, Routes,
    broadcast::BroadcasterSlot,
    hooks::{Hooks, boxed},
    services::ServiceRegistry,
};

/// Wraps a router in a middleware; what [`Registrar::layer`] and
/// [`Registrar::app_layer`] store.
pub type LayerFn = Box<dyn FnOnce(Router) -> Router + Send>;

/// What a plugin registers at start-up: routes, middleware, services, hooks.
///
/// The runtime makes one per plugin and passes it to the plugin's entry
/// function. Everything registered here is scoped to the plugin: its routes
/// are mounted under its prefix, its log lines carry its name.
///
/// ```
/// use raclette::{Json, Registrar, Routes};
///
/// pub fn plugin(app: &mut Registrar) -> raclette::Result<()> {
///     async fn hello() -> Json<&'static str> { Json("hello") }
///     app.routes(Routes::new().get("/hello", hello))?;
///     Ok(())
/// }
/// # let _ = plugin;
/// ```
pub struct Registrar<'a> {
    pub(crate) seed: RegistrarSeed,
    pub(crate) services: &'a mut ServiceRegistry,
    pub(crate) broadcaster: BroadcasterSlot,
    pub(crate) events: crate::events::Events,
    pub(crate) routes: Routes,
    pub(crate) layers: Vec<LayerFn>,
    pub(crate) app_layers: Vec<LayerFn>,
    pub(crate) identifiers: Vec<Arc<dyn crate::IdentifyRequests>>,
    pub(crate) hooks: Hooks,
}

/// Who a plugin is and what it is given; the runtime fills it in.
pub struct RegistrarSeed {
    /// Who the plugin is.
    pub info: PluginInfo,
    /// Its merged options (metadata defaults, app overrides on top).
    pub options: serde_json::Value,
    /// The metadata file the defaults come from, for messages.
    pub defaults_file: String,
    /// Where `raclette.toml` overrides its options (`[plugins.<folder>.options]`).
    pub overrides: String,
    /// The app's database.
    pub database: Database,
    /// The store of the app's collections.
    pub store: crate::data::Store,
    /// Every plugin it depends on, directly or not.
    pub dependencies: BTreeSet<String>,
    /// Every plugin of the app.
    pub app_plugins: Arc<[PluginSummary]>,
    /// What anonymous requests may do (`[auth]` of `raclette.toml`).
    pub policy: crate::guard::AccessPolicy,
}

impl std::fmt::Debug for Registrar<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("plugin", &self.seed.info.folder())
            .finish_non_exhaustive()
    }
}

impl<'a> Registrar<'a> {
    /// Who this plugin is: folder, key, route prefix.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// raclette::tracing::info!("mounted at {}", app.info().route_prefix());
    /// # }
    /// ```
    pub fn info(&self) -> &PluginInfo {
        &self.seed.info
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
            Some(problem) => Err(Error::Route {
                plugin: self.seed.info.folder().to_owned(),
                problem,
            }),
            None => Ok(self),
        }
    }

    /// Adds a tower middleware around this plugin's routes only.
    ///
    /// Layers run in the order they were added: the first one added sees the
    /// request first. App-wide layers ([`Registrar::app_layer`]) run before
    /// any plugin's own layers.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// use raclette::http::{HeaderValue, Request};
    /// // any tower layer; this one tags every request of the plugin
    /// app.layer(raclette::middleware::map_request(|mut req: Request<raclette::Body>| async move {
    ///     req.headers_mut().insert("x-plugin", HeaderValue::from_static("greeter"));
    ///     req
    /// }));
    /// # }
    /// ```
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
    ///
    /// It wraps every route in a service of its own. To say who sends a
    /// request, a plugin that signs users in registers a request
    /// identifier instead ([`Registrar::identify_requests`]), which costs
    /// one call per request.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// use raclette::http::{HeaderValue, Request};
    /// app.app_layer(raclette::middleware::map_request(|mut req: Request<raclette::Body>| async move {
    ///     req.headers_mut().insert("x-app", HeaderValue::from_static("acme"));
    ///     req
    /// }));
    /// # }
    /// ```
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

    /// Identifies every request of the app before routing (see
    /// [`crate::IdentifyRequests`]): what a plugin that signs users in
    /// registers, rather than an app-wide layer, as it costs one call per
    /// request instead of a service around every route.
    ///
    /// The identifiers of all plugins run in dependency order.
    ///
    /// ```
    /// use raclette::{CurrentUser, Identified, IdentifyRequests, http::Request};
    ///
    /// struct EveryoneAnonymous;
    ///
    /// impl IdentifyRequests for EveryoneAnonymous {
    ///     fn identify(&self, mut request: Request<raclette::Body>) -> Identified {
    ///         request.extensions_mut().insert(CurrentUser::anonymous());
    ///         Identified::Ready(request)
    ///     }
    /// }
    ///
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// app.identify_requests(EveryoneAnonymous);
    /// # }
    /// ```
    pub fn identify_requests(&mut self, identifier: impl crate::IdentifyRequests) -> &mut Self {
        self.identifiers.push(Arc::new(identifier));
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
        serde_path_to_error::deserialize(&self.seed.options).map_err(|err| {
            let path = err.path().to_string();
            Error::Options {
                plugin: self.seed.info.folder().to_owned(),
                field: if path == "." {
                    "options".to_owned()
                } else {
                    format!("options.{path}")
                },
                message: in_plain_words(&err.into_inner().to_string()),
                defaults_file: self.seed.defaults_file.clone(),
                overrides: self.seed.overrides.clone(),
            }
        })
    }

    /// The plugin's options as raw JSON.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// let size = app.options_value().get("page_size").and_then(|v| v.as_u64());
    /// # let _ = size; }
    /// ```
    pub fn options_value(&self) -> &serde_json::Value {
        &self.seed.options
    }

    /// Offers a service to the plugins that depend on this one.
    ///
    /// Fails when another plugin already provides the same type.
    ///
    /// ```
    /// pub struct Greeter { pub greeting: String }
    ///
    /// # fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
    /// app.provide(Greeter { greeting: "hello".into() })?;
    /// # Ok(()) }
    /// ```
    pub fn provide<T: Send + Sync + 'static>(&mut self, service: T) -> Result<&mut Self> {
        let folder = self.seed.info.folder().to_owned();
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
    /// through other dependencies), at set-up: a missing service or a
    /// missing dependency stops start-up with a message saying which
    /// dependency to declare. Handlers can also take it per request with
    /// the [`crate::Service`] extractor.
    ///
    /// ```
    /// # pub struct Greeter { pub greeting: String }
    /// # fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
    /// let greeter = app.service::<Greeter>()?;
    /// raclette::tracing::info!("{}", greeter.greeting);
    /// # Ok(()) }
    /// ```
    pub fn service<T: Send + Sync + 'static>(&self) -> Result<Arc<T>> {
        let folder = self.seed.info.folder();
        let service = std::any::type_name::<T>().to_owned();
        match self.services.get::<T>() {
            None => Err(Error::ServiceMissing {
                plugin: folder.to_owned(),
                service,
            }),
            Some((value, provider))
                if provider == folder || self.seed.dependencies.contains(provider) =>
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

    /// Declares a collection of the plugin's type `T` (see [`crate::data`]):
    /// its table is created before the plugin's `before_mount` hooks run,
    /// and handlers of this plugin (and of plugins depending on it) reach
    /// it through the [`crate::data::Data`] extractor. Register its
    /// standard routes with [`crate::data::crud`].
    ///
    /// Fails when the type name is not a lower-case word, when `T` is not
    /// a struct with named fields, when one of its fields has a name the
    /// framework sets (`_id`, `version`, …), or when the plugin declares
    /// the same type twice.
    ///
    /// ```
    /// use raclette::data::CollectionSpec;
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Note { title: String }
    /// # fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
    /// let notes = app.collection(CollectionSpec::<Note>::new("note"))?;
    /// # let _ = notes; Ok(()) }
    /// ```
    pub fn collection<T>(
        &mut self,
        spec: crate::data::CollectionSpec<T>,
    ) -> Result<crate::data::Collection<T>>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        let folder = self.seed.info.folder().to_owned();
        let collection =
            spec.declare(&self.seed.store, &folder)
                .map_err(|cause| Error::Collection {
                    plugin: folder.clone(),
                    cause,
                })?;
        self.provide(collection.clone())?;
        Ok(collection)
    }

    /// The store of the app's collections, for transactions over several
    /// of them ([`crate::data::Store::transaction`]).
    pub fn data_store(&self) -> crate::data::Store {
        self.seed.store.clone()
    }

    /// The app's database pool (cheap to clone).
    ///
    /// ```
    /// # async fn count(db: raclette::Database) -> Result<i64, raclette::db::Error> {
    /// let (n,): (i64,) = raclette::db::query_as("SELECT COUNT(*) FROM acme_notes")
    ///     .fetch_one(&db)
    ///     .await?;
    /// # Ok(n) }
    /// # fn plugin(app: &mut raclette::Registrar) { let _ = count(app.database()); }
    /// ```
    pub fn database(&self) -> Database {
        self.seed.database.clone()
    }

    /// Runs `hook` before the plugin's routes are mounted. An error stops
    /// start-up with the plugin's name.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// let db = app.database();
    /// app.on_before_mount(move || async move {
    ///     raclette::db::query("SELECT 1").execute(&db).await?;
    ///     Ok(())
    /// });
    /// # }
    /// ```
    pub fn on_before_mount<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.hooks.before_mount.push(boxed(hook));
        self
    }

    /// Runs `hook` once the server is listening.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// app.on_mounted(|| async { raclette::tracing::info!("ready"); Ok(()) });
    /// # }
    /// ```
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
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// app.on_before_unmount(|| async { raclette::tracing::info!("bye"); Ok(()) });
    /// # }
    /// ```
    pub fn on_before_unmount<F, Fut>(&mut self, hook: F) -> &mut Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.hooks.before_unmount.push(boxed(hook));
        self
    }

    /// Makes `broadcaster` the app's broadcaster: data operations and
    /// [`crate::Broadcast`] hand their messages to it. One plugin of the app
    /// provides it (the realtime plugin); a second one is refused.
    ///
    /// ```
    /// use raclette::{BroadcastMessage, Broadcaster};
    ///
    /// struct Log;
    /// impl Broadcaster for Log {
    ///     fn broadcast(&self, message: BroadcastMessage) {
    ///         raclette::tracing::info!(channel = %message.channel_key, "broadcast");
    ///     }
    /// }
    ///
    /// # fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
    /// app.provide_broadcaster(Log)?;
    /// # Ok(()) }
    /// ```
    pub fn provide_broadcaster(&mut self, broadcaster: impl Broadcaster) -> Result<&mut Self> {
        let folder = self.seed.info.folder().to_owned();
        self.broadcaster
            .set(&folder, Arc::new(broadcaster))
            .map_err(|provider| Error::BroadcasterTwice {
                plugin: folder,
                provider,
            })?;
        Ok(self)
    }

    /// Sends messages on this plugin's channels from outside a request
    /// (a background task, a hook). It reaches the broadcaster that any
    /// plugin provides, also one set up after this plugin.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// let broadcast = app.broadcaster();
    /// app.on_mounted(move || async move {
    ///     broadcast.send(&raclette::Project::default(), "started", vec![]);
    ///     Ok(())
    /// });
    /// # }
    /// ```
    pub fn broadcaster(&self) -> Broadcast {
        Broadcast::new(self.seed.info.clone(), self.broadcaster.clone())
    }

    /// Calls `listener` with a copy of every event of type `E` that any
    /// plugin emits ([`crate::events`]), in a task of its own. It may return
    /// nothing or a `Result`; an error or a panic is logged and the other
    /// listeners go on.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// #[derive(Clone)]
    /// struct OrderPlaced { id: String }
    ///
    /// app.listen(|order: OrderPlaced| async move {
    ///     raclette::tracing::info!(order = %order.id, "placed");
    ///     Ok::<(), std::io::Error>(())
    /// });
    /// # }
    /// ```
    pub fn listen<E, F, Fut>(&mut self, listener: F) -> &mut Self
    where
        E: Clone + Send + Sync + 'static,
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: crate::events::ListenerOutcome,
    {
        self.events.listen(self.seed.info.folder(), listener);
        self
    }

    /// The app's event bus, to emit events from hooks and background tasks
    /// (handlers take [`crate::events::Events`] as an extractor).
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// #[derive(Clone)]
    /// struct Started;
    /// let events = app.events();
    /// app.on_mounted(move || async move {
    ///     events.emit(Started);
    ///     Ok(())
    /// });
    /// # }
    /// ```
    pub fn events(&self) -> crate::events::Events {
        self.events.clone()
    }

    /// Whether an anonymous request may use `permission` (`[auth]` of
    /// `raclette.toml`: never when authentication is required, else when
    /// `anonymous_permissions` matches it). For checks outside a route's
    /// guard, such as which realtime messages an anonymous socket may get.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// let open = app.anonymous_may("acme__wiki.read");
    /// # let _ = open; }
    /// ```
    pub fn anonymous_may(&self, permission: &str) -> bool {
        self.seed
            .policy
            .anonymous_may(&crate::RouteAccess::Permission(permission.to_owned()))
    }

    /// Every plugin of the app, enabled or not, in dependency order: what
    /// an overview page or an admin area shows.
    ///
    /// ```
    /// # fn plugin(app: &mut raclette::Registrar) {
    /// let builtins = app.app_plugins().iter().filter(|p| p.builtin).count();
    /// # let _ = builtins; }
    /// ```
    pub fn app_plugins(&self) -> &[PluginSummary] {
        &self.seed.app_plugins
    }
}

/// A serde message with Rust's number types in words: an app's author
/// reads "expected a whole number of at least 1", not "a nonzero usize".
fn in_plain_words(message: &str) -> String {
    let Some(at) = message.rfind("expected ") else {
        return message.to_owned();
    };
    let (said, expected) = message.split_at(at);
    let mut expected = expected.to_owned();
    for unsigned in ["usize", "u128", "u64", "u32", "u16", "u8"] {
        expected = expected
            .replace(
                &format!("a nonzero {unsigned}"),
                "a whole number of at least 1",
            )
            .replace(
                &format!("expected {unsigned}"),
                "expected a whole number of at least 0",
            );
    }
    for signed in ["isize", "i128", "i64", "i32", "i16", "i8"] {
        expected = expected
            .replace(
                &format!("a nonzero {signed}"),
                "a whole number other than 0",
            )
            .replace(&format!("expected {signed}"), "expected a whole number");
    }
    for float in ["f64", "f32"] {
        expected = expected.replace(&format!("expected {float}"), "expected a number");
    }
    format!("{said}{expected}")
}
