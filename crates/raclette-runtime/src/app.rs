use std::{collections::HashMap, future::Future, net::SocketAddr, path::Path, sync::Arc};

use axum::Router;
use raclette::{__private::Hooks, Database, Plugin};
use raclette_client::ClientFiles;
use raclette_discovery::{AppModel, ServerConfig};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tracing::Instrument;

use raclette_contract::PluginListing;

use crate::{
    StartError, builtins, database,
    identify::Identifiers,
    mount::{self, MountOptions},
};

/// An app about to start: its discovered plugins and their server halves.
#[must_use]
pub struct App {
    model: AppModel,
    entries: HashMap<String, Arc<dyn Plugin>>,
    client_files: HashMap<String, ClientFiles>,
    database_url: Option<String>,
}

/// An app that is built (plugins set up, router assembled) but not yet
/// listening.
pub struct Built {
    router: Router,
    identifiers: Identifiers,
    listing: Arc<Vec<PluginListing>>,
    hooks: Vec<(String, tracing::Span, Hooks)>,
    db: Database,
    server: ServerConfig,
}

/// A started app. Dropping it starts a graceful shutdown in the background
/// without waiting for it; call [`RunningApp::shutdown`] to wait until
/// in-flight requests finished and `before_unmount` hooks ran.
pub struct RunningApp {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), StartError>>,
}

impl App {
    /// Discovers the app in `dir` with the framework's built-in plugins
    /// (see [`raclette_discovery::discover_with`]).
    pub fn discover(dir: &Path) -> Result<App, StartError> {
        Ok(App::from_model(raclette_discovery::discover_with(
            dir,
            builtins::sources(),
        )?))
    }

    /// An app from an already validated model. The server and client halves
    /// of the built-in plugins in it are linked in already.
    pub fn from_model(model: AppModel) -> App {
        let mut app = App {
            model,
            entries: HashMap::new(),
            client_files: HashMap::new(),
            database_url: None,
        };
        for builtin in builtins::all() {
            if app.model.get(builtin.folder).is_none_or(|p| !p.builtin) {
                continue;
            }
            if let Some(files) = builtins::client(&builtin) {
                app.client_files.insert(builtin.folder.to_owned(), files);
            }
            if let Some(server) = builtin.server {
                app.entries.insert(builtin.folder.to_owned(), server);
            }
        }
        app
    }

    /// Gives the plugin in folder `folder` its server half.
    pub fn plugin(mut self, folder: &str, plugin: impl Plugin) -> App {
        self.entries.insert(folder.to_owned(), Arc::new(plugin));
        self
    }

    pub(crate) fn entries_insert(&mut self, folder: &str, plugin: Arc<dyn Plugin>) {
        self.entries.insert(folder.to_owned(), plugin);
    }

    /// Serves the client half of the plugin in `folder` from `files`
    /// (by default: its `client/` folder on disk).
    pub fn client_files(mut self, folder: &str, files: ClientFiles) -> App {
        self.client_files.insert(folder.to_owned(), files);
        self
    }

    /// The client files of every enabled plugin that has a client half.
    fn clients(&self) -> HashMap<String, ClientFiles> {
        self.model
            .enabled()
            .filter_map(|plugin| {
                let folder = plugin.folder();
                if let Some(files) = self.client_files.get(folder) {
                    return Some((folder.to_owned(), files.clone()));
                }
                if !plugin.has_client {
                    return None;
                }
                let dir = plugin.dir.clone().unwrap_or_else(|| {
                    self.model
                        .dir
                        .join(raclette_discovery::PLUGINS_DIR)
                        .join(folder)
                });
                Some((
                    folder.to_owned(),
                    ClientFiles::Disk(
                        raclette_discovery::client_dir(&dir).unwrap_or_else(|| dir.join("client")),
                    ),
                ))
            })
            .collect()
    }

    /// Uses this database instead of the configured one.
    pub fn database_url(mut self, url: impl Into<String>) -> App {
        self.database_url = Some(url.into());
        self
    }

    /// The discovered app.
    pub fn model(&self) -> &AppModel {
        &self.model
    }

    fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            database::database_url(&self.model.dir, self.model.config.database.url.as_deref())
        })
    }

    /// Sets up every plugin without touching the database or running hooks,
    /// and returns the plugin listing: what `raclette routes` prints.
    pub async fn inspect(self) -> Result<Vec<PluginListing>, StartError> {
        let db = database::connect(&self.url(), true).await?;
        let options = MountOptions {
            run_migrations: false,
            run_before_mount: false,
        };
        let store = raclette::data::Store::detached();
        let mounted = mount::mount(&self.model, &self.entries, &db, &store, options).await?;
        let listing = mount::listing(&self.model, &mounted, &self.clients());
        mount::check_clashes(&listing)?;
        Ok(listing)
    }

    /// Opens the database, applies migrations, sets up plugins, runs their
    /// `before_mount` hooks and assembles the router.
    pub async fn build(self) -> Result<Built, StartError> {
        let db = database::connect(&self.url(), false).await?;
        let options = MountOptions {
            run_migrations: true,
            run_before_mount: true,
        };
        let store = database::open_store(&self.url()).await?;
        let mut mounted = mount::mount(&self.model, &self.entries, &db, &store, options).await?;
        let clients = self.clients();
        let listing = Arc::new(mount::listing(&self.model, &mounted, &clients));
        mount::check_clashes(&listing)?;
        let app_name = self.model.config.name.clone().unwrap_or_else(|| {
            self.model
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let auth = crate::openapi::AuthDocs {
            require_authentication: self.model.config.auth.require_authentication,
        };
        let router = mount::assemble(app_name, &mut mounted, listing.clone(), clients, auth)?;
        let identifiers = Identifiers::new(mounted.iter_mut().map(|m| {
            (
                m.folder.as_str(),
                &m.span,
                std::mem::take(&mut m.parts.identifiers),
            )
        }));
        let hooks = mounted
            .into_iter()
            .map(|m| (m.folder, m.span, m.parts.hooks))
            .collect();
        Ok(Built {
            router,
            identifiers,
            listing,
            hooks,
            db,
            server: self.model.config.server.clone(),
        })
    }

    /// Builds the app and serves it on `addr` until
    /// [`RunningApp::shutdown`].
    pub async fn start(self, addr: SocketAddr) -> Result<RunningApp, StartError> {
        let (stop, stopped) = oneshot::channel::<()>();
        let built = self.build().await?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|cause| StartError::Bind {
                addr: addr.to_string(),
                cause,
            })?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(built.serve(listener, async move {
            let _ = stopped.await;
        }));
        Ok(RunningApp {
            addr,
            stop: Some(stop),
            task,
        })
    }
}

impl Built {
    /// The assembled router (for tests that call it without a socket),
    /// with the plugins' request identifiers in front of every route.
    pub fn router(&self) -> Router {
        self.identifiers.in_front_of(self.router.clone())
    }

    /// The app's database, migrations applied.
    pub fn database(&self) -> Database {
        self.db.clone()
    }

    /// Every plugin with its routes.
    pub fn listing(&self) -> &[PluginListing] {
        &self.listing
    }

    /// Serves on `listener` until `shutdown` completes: runs `mounted`
    /// hooks once listening, and after in-flight requests have finished
    /// (or the shutdown deadline has passed) runs `before_unmount` hooks in
    /// reverse dependency order. Connections are handled as `[server]` in
    /// `raclette.toml` says (timeouts, connection cap, allowed hosts; see
    /// [`raclette_discovery::ServerConfig`]).
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        for (folder, span, hooks) in &mut self.hooks {
            for hook in std::mem::take(&mut hooks.mounted) {
                if let Err(source) = hook().instrument(span.clone()).await {
                    return Err(StartError::mount(
                        folder.clone(),
                        crate::MountFailure::Hook {
                            stage: "mounted",
                            source,
                        },
                    ));
                }
            }
        }
        crate::serve::serve(
            listener,
            self.router.with_state(()),
            self.identifiers.clone(),
            &self.server,
            shutdown,
        )
        .await?;
        tracing::info!("server stopped; unmounting plugins");
        let mut first_error = None;
        for (folder, span, hooks) in self.hooks.into_iter().rev() {
            for hook in hooks.before_unmount {
                if let Err(err) = hook().instrument(span.clone()).await {
                    tracing::error!(plugin = %folder, error = %err, "before_unmount failed");
                    first_error.get_or_insert(StartError::Unmount {
                        plugin: folder.clone(),
                        cause: Box::new(err),
                    });
                }
            }
        }
        self.db.close().await;
        first_error.map_or(Ok(()), Err)
    }
}

impl RunningApp {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, waits for in-flight requests, runs the
    /// `before_unmount` hooks and returns.
    pub async fn shutdown(mut self) -> Result<(), StartError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task
            .await
            .map_err(|e| StartError::Serve(std::io::Error::other(e)))?
    }
}
