//! Turning plugins into one axum router.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    panic::AssertUnwindSafe,
    sync::Arc,
};

use axum::{Router, body::Body};
use raclette::{
    __private::{
        self, AccessPolicy, BroadcasterSlot, PluginParts, PluginRouting, PluginScope,
        RegistrarSeed, ServiceRegistry, panic_message,
    },
    Database, Plugin, PluginInfo, PluginSummary, RouteInfo,
};
use raclette_discovery::AppModel;
use tower_http::trace::TraceLayer;
use tracing::Instrument;

use raclette_client::ClientFiles;

use raclette_contract::{ClientListing, PluginListing};

use raclette::data::Store;

use crate::{MountFailure, StartError, endpoints, migrate};

/// One mounted plugin: its parts and the span its work runs in.
pub(crate) struct Mounted {
    pub(crate) folder: String,
    pub(crate) span: tracing::Span,
    pub(crate) parts: PluginParts,
    /// What guards its routes; carries its scope (who it is, which services
    /// it may use) once every plugin is set up.
    pub(crate) routing: Arc<PluginRouting>,
}

/// Options for [`mount`].
pub(crate) struct MountOptions {
    pub(crate) run_migrations: bool,
    pub(crate) run_before_mount: bool,
}

/// Builds every enabled plugin in dependency order: migrations, set-up,
/// `before_mount` hooks.
pub(crate) async fn mount(
    model: &AppModel,
    entries: &HashMap<String, Arc<dyn Plugin>>,
    db: &Database,
    store: &Store,
    options: MountOptions,
) -> Result<Vec<Mounted>, StartError> {
    for folder in entries.keys() {
        if model.get(folder).is_none() {
            return Err(StartError::UnknownPlugin(folder.clone()));
        }
    }
    let mut services = ServiceRegistry::default();
    let broadcaster = BroadcasterSlot::default();
    let events = raclette::events::Events::default();
    let app_plugins: Arc<[PluginSummary]> = model
        .plugins
        .iter()
        .map(|p| PluginSummary {
            key: p.key(),
            folder: p.folder().to_owned(),
            version: p.manifest.version.to_string(),
            description: p.manifest.description.clone(),
            builtin: p.builtin,
            enabled: p.enabled,
            permissions: p.permissions(),
        })
        .collect();
    let policy = AccessPolicy::new(
        model.config.auth.require_authentication,
        &model.config.auth.anonymous_permissions,
    );
    let declared: BTreeSet<String> = model
        .enabled()
        .flat_map(|p| p.permissions().into_keys())
        .collect();
    let mut mounted = Vec::new();
    for plugin in model.enabled() {
        let folder = plugin.folder().to_owned();
        let span = tracing::info_span!("plugin", plugin = %folder);
        let fail = |cause: MountFailure| StartError::mount(folder.clone(), cause);
        if options.run_migrations {
            let migrations: Vec<_> = plugin
                .migrations
                .iter()
                .filter(|m| m.runs_on(store.database_name()))
                .cloned()
                .collect();
            migrate::apply(db, &folder, &migrations)
                .instrument(span.clone())
                .await
                .map_err(|e| fail(e.into()))?;
        }
        let entry = entries.get(&folder);
        if entry.is_none() && plugin.server.is_some() {
            return Err(StartError::MissingServer(folder));
        }
        let info = PluginInfo::new(&folder, &plugin.manifest.version.to_string());
        let seed = RegistrarSeed {
            info,
            options: plugin.options.clone(),
            defaults_file: plugin.manifest_file.clone(),
            overrides: raclette_discovery::options_section(plugin.folder()),
            database: db.clone(),
            store: store.clone(),
            dependencies: plugin.all_dependencies.clone(),
            app_plugins: app_plugins.clone(),
            policy: policy.clone(),
        };
        let mut registrar = __private::registrar(seed, &mut services, &broadcaster, &events);
        if let Some(entry) = entry {
            let built = span.in_scope(|| {
                std::panic::catch_unwind(AssertUnwindSafe(|| entry.build(&mut registrar)))
            });
            match built {
                Ok(Ok(())) => {}
                Ok(Err(err)) => return Err(fail(MountFailure::Setup(err))),
                Err(panic) => {
                    return Err(fail(MountFailure::Panic(panic_message(&*panic))));
                }
            }
        }
        for route in __private::registrar_routes(&registrar) {
            if let raclette::RouteAccess::Permission(permission) = &route.access
                && !declared.contains(permission)
            {
                return Err(fail(MountFailure::UnknownPermission {
                    method: route.method.clone(),
                    path: route.path.clone(),
                    permission: permission.clone(),
                }));
            }
        }
        let routing = PluginRouting::new(&folder, span.clone(), policy.clone());
        // axum refuses paths that clash (`/a/{x}` beside `/a/{y}`) by
        // panicking when the router is built.
        let mut parts = std::panic::catch_unwind(AssertUnwindSafe(|| {
            __private::into_parts(registrar, &routing)
        }))
        .map_err(|panic| fail(MountFailure::Routes(panic_message(&*panic))))?;
        store
            .create_tables()
            .instrument(span.clone())
            .await
            .map_err(|e| fail(MountFailure::Collections(e)))?;
        if options.run_before_mount {
            for hook in std::mem::take(&mut parts.hooks.before_mount) {
                hook().instrument(span.clone()).await.map_err(|source| {
                    fail(MountFailure::Hook {
                        stage: "before_mount",
                        source,
                    })
                })?;
            }
        }
        mounted.push(Mounted {
            folder,
            span,
            parts,
            routing,
        });
    }
    let services = Arc::new(services);
    for m in &mut mounted {
        let plugin = model
            .get(&m.folder)
            .expect("mounted plugins are discovered");
        m.routing.set_scope(PluginScope::new(
            PluginInfo::new(&m.folder, &plugin.manifest.version.to_string()),
            services.clone(),
            plugin.all_dependencies.clone(),
            broadcaster.clone(),
            events.clone(),
            &m.parts.routes,
        ));
    }
    Ok(mounted)
}

/// The listing of every plugin, routes with full paths.
pub(crate) fn listing(
    model: &AppModel,
    mounted: &[Mounted],
    clients: &HashMap<String, ClientFiles>,
) -> Vec<PluginListing> {
    model
        .plugins
        .iter()
        .map(|plugin| {
            let prefix = plugin.name.route_prefix();
            let routes = mounted
                .iter()
                .find(|m| m.folder == plugin.folder())
                .map(|m| {
                    m.parts
                        .routes
                        .iter()
                        .map(|r| RouteInfo {
                            path: raclette_contract::full_path(&prefix, &r.path),
                            ..r.clone()
                        })
                        .collect()
                })
                .unwrap_or_default();
            PluginListing {
                key: plugin.key(),
                name: plugin.name.name().to_owned(),
                author: plugin.name.author().map(str::to_owned),
                version: plugin.manifest.version.to_string(),
                description: plugin.manifest.description.clone(),
                enabled: plugin.enabled,
                builtin: plugin.builtin,
                dependencies: plugin
                    .manifest
                    .dependencies
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_string()))
                    .collect(),
                route_prefix: prefix,
                routes,
                permissions: plugin.permissions(),
                client: clients
                    .get(plugin.folder())
                    .map(|files| client_listing(plugin.folder(), files)),
            }
        })
        .collect()
}

/// The client half of one plugin: entry, config URL, widget catalogue.
fn client_listing(folder: &str, files: &ClientFiles) -> ClientListing {
    let key = raclette_contract::plugin_key(folder);
    let base = raclette_contract::client_files_url(&key);
    let (widgets, problems) = raclette_client::widgets::discover(files, &key, &base);
    for problem in problems {
        let field = problem
            .field
            .map(|f| format!(" field `{f}`:"))
            .unwrap_or_default();
        tracing::error!(plugin = %folder, "plugins/{folder}/client/{}:{field} {} (widget skipped)", problem.file, problem.message);
    }
    ClientListing {
        entry: files
            .resolve("index.js")
            .map(|_| format!("{base}/index.js")),
        config_url: raclette_contract::client_config_url(&key),
        widgets,
    }
}

/// Checks that no two plugins claim the same path.
pub(crate) fn check_clashes(listing: &[PluginListing]) -> Result<(), StartError> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for plugin in listing {
        let folder = raclette_contract::folder_of_key(&plugin.key)
            .unwrap_or(&plugin.key)
            .to_owned();
        let mut own = std::collections::BTreeSet::new();
        for route in &plugin.routes {
            let shape = route
                .path
                .split('/')
                .map(|s| if s.starts_with([':', '*']) { ":" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            if !own.insert(shape.clone()) {
                continue;
            }
            if let Some(first) = seen.insert(shape, folder.clone()) {
                return Err(StartError::RouteClash {
                    path: route.path.clone(),
                    first,
                    second: folder,
                });
            }
        }
    }
    Ok(())
}

/// Assembles the app router: plugin routers under their prefixes (each with
/// its own layers, a span naming the plugin and panic recovery), framework
/// endpoints, JSON 404/405, then app-wide layers.
pub(crate) fn assemble(
    app_name: String,
    mounted: &mut [Mounted],
    listing: Arc<Vec<PluginListing>>,
    clients: HashMap<String, ClientFiles>,
    auth: crate::openapi::AuthDocs,
) -> Result<Router, StartError> {
    let shell: Arc<str> = raclette_client::shell_html(&app_name).into();
    let mut client_server = raclette_client::ClientServer::new();
    for (folder, files) in clients {
        client_server.plugin(&raclette_contract::plugin_key(&folder), &folder, files);
    }
    let mut app = endpoints::router(app_name.clone(), listing.clone())
        .merge(crate::openapi::router(app_name, listing.clone(), auth))
        .merge(client_server.router());
    let mut app_layers = Vec::new();
    for m in mounted.iter_mut() {
        let router = std::mem::take(&mut m.parts.router);
        let layers = std::mem::take(&mut m.parts.layers);
        app_layers.extend(std::mem::take(&mut m.parts.app_layers));
        let span = m.span.clone();
        let current = app;
        let result = std::panic::catch_unwind(AssertUnwindSafe(move || {
            let mut router = router;
            for layer in layers.into_iter().rev() {
                router = layer(router);
            }
            // Request spans and events of tower-http's trace layer are at
            // DEBUG: without a subscriber that wants them (the log filter is
            // set at start-up), the layer is left out, as it costs
            // measurable throughput on cheap routes.
            if tracing::enabled!(tracing::Level::DEBUG) {
                router = router.layer(TraceLayer::new_for_http().make_span_with(
                    move |req: &axum::http::Request<Body>| {
                        tracing::debug_span!(parent: &span, "request", method = %req.method(), uri = %req.uri())
                    },
                ));
            }
            // Plugin routes carry their full paths: merged, the app finds
            // any route with one lookup.
            current.merge(router)
        }));
        app = result.map_err(|panic| {
            StartError::mount(
                m.folder.clone(),
                MountFailure::Routes(panic_message(&*panic)),
            )
        })?;
    }
    let mut app = app
        .fallback(endpoints::fallback(shell))
        .method_not_allowed_fallback(endpoints::method_not_allowed);
    for layer in app_layers.into_iter().rev() {
        app = layer(app);
    }
    Ok(app)
}
