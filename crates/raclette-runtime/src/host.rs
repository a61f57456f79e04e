//! The `main` of a generated host binary.
//!
//! `raclette dev` and `raclette build` generate a small crate under
//! `.raclette/host/` whose `main` calls [`main`] with every plugin's
//! metadata, migrations and server half embedded, so the binary runs on its
//! own. Its command line:
//!
//! ```text
//! <binary> [serve] [--app DIR] [--config FILE] [--host HOST] [--port N]
//! <binary> routes [--app DIR]
//! <binary> client-config [--app DIR]    (JSON: every enabled plugin's data API and item types)
//! <binary> verify [--app DIR]           (JSON: why the app would not start)
//! <binary> user add EMAIL [--admin] [--name NAME] | user list | user passwd EMAIL [--app DIR]
//! ```
//!
//! `user` manages the accounts of the built-in core plugin (see
//! `user_command`).
//!
//! `verify` checks, without serving, changing the database or running
//! hooks, what start-up would check: every enabled plugin is set up (options,
//! services, routes), routes of different plugins must not clash, and
//! migrations recorded in the database must not have changed since. It
//! prints `{"problems": [{"kind", "plugin", "file", "field", "message"}]}`
//! and exits with 1 when there are any. `raclette dev` runs it on a new
//! build before it replaces the running server, and `raclette check --build`
//! reports its problems.
//!
//! `--app` (default: the `RACLETTE_APP_DIR` variable, else the current
//! folder) is where `raclette.toml` and `data/` are looked for; without a
//! `raclette.toml` there, the one embedded at build time is used.
//! `--config FILE` reads the configuration from FILE instead (`raclette
//! dev` keeps each running build's copy, so that the previous server can
//! start again with the configuration it ran with).

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc};

use raclette::Plugin;
use raclette_client::ClientFiles;
use raclette_discovery::PluginSource;

use crate::{App, StartError};

/// A plugin as embedded in a host binary.
pub struct EmbeddedPlugin {
    /// Folder name.
    pub folder: &'static str,
    /// Text of `raclette.plugin.toml`.
    pub manifest: &'static str,
    /// `server/migrations/*.sql`: (file name, SQL).
    pub migrations: &'static [(&'static str, &'static str)],
    /// The server half, if the plugin has one.
    pub server: Option<Arc<dyn Plugin>>,
    /// Whether it has a client half.
    pub has_client: bool,
    /// Its client files, TypeScript compiled to JavaScript at build time
    /// and every other file (images, fonts) as it is, embedded with
    /// `include_bytes!` (release builds); empty to serve `client/` from the
    /// app folder on disk.
    pub client_files: &'static [(&'static str, &'static [u8])],
}

impl EmbeddedPlugin {
    /// The plugin's raw material for discovery; `builtin` for the
    /// framework's own plugins.
    pub fn source(&self, builtin: bool) -> PluginSource {
        PluginSource {
            folder: self.folder.to_owned(),
            manifest_text: Some(self.manifest.to_owned()),
            migration_files: self
                .migrations
                .iter()
                .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
                .collect(),
            server: None,
            dir: None,
            has_client: self.has_client,
            builtin,
        }
    }

    /// Its embedded client files, when it has any.
    pub fn embedded_client(&self) -> Option<ClientFiles> {
        if self.client_files.is_empty() {
            return None;
        }
        let files = self
            .client_files
            .iter()
            .map(|(path, bytes)| ((*path).to_owned(), *bytes))
            .collect();
        Some(ClientFiles::Embedded(files))
    }
}

/// What a generated host hands to [`main`].
pub struct HostSpec {
    /// Text of the app's `raclette.toml` when the host was generated.
    pub config: &'static str,
    /// The app folder when the host was generated.
    pub app_dir: &'static str,
    /// Every plugin.
    pub plugins: Vec<EmbeddedPlugin>,
}

struct Args {
    command: String,
    app: Option<PathBuf>,
    config: Option<PathBuf>,
    host: Option<String>,
    port: Option<u16>,
    user: crate::user_command::UserArgs,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        command: "serve".to_owned(),
        app: None,
        config: None,
        host: None,
        port: None,
        user: Default::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "serve" | "routes" | "client-config" | "verify" | "user" if args.command == "serve" => {
                args.command = arg;
            }
            "--admin" if args.command == "user" => args.user.admin = true,
            "--name" if args.command == "user" => args.user.name = Some(value("--name")?),
            word if args.command == "user" && !word.starts_with('-') => {
                args.user.words.push(word.to_owned());
            }
            "--app" => args.app = Some(PathBuf::from(value("--app")?)),
            "--config" => args.config = Some(PathBuf::from(value("--config")?)),
            "--host" => args.host = Some(value("--host")?),
            "--port" => {
                let v = value("--port")?;
                args.port =
                    Some(v.parse().map_err(|_| {
                        format!("--port expects a number from 0 to 65535, got `{v}`")
                    })?);
            }
            "-h" | "--help" => {
                return Err(format!(
                    "usage: [serve] [--app DIR] [--config FILE] [--host HOST] [--port N] | routes [--app DIR] | client-config [--app DIR] | verify [--app DIR] | {} [--app DIR]",
                    crate::user_command::USAGE
                ));
            }
            other => return Err(format!("unknown argument `{other}`; try --help")),
        }
    }
    Ok(args)
}

/// Runs the host binary: serves the app (default) or prints its routes.
pub fn main(spec: HostSpec) -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    init_logging("info");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(spec, args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(spec: HostSpec, args: Args) -> Result<(), String> {
    let app_dir = args
        .app
        .or_else(|| std::env::var_os("RACLETTE_APP_DIR").map(PathBuf::from))
        .map_or_else(|| std::env::current_dir().map_err(|e| e.to_string()), Ok)?;
    let config_on_disk = match &args.config {
        Some(file) => Some(
            std::fs::read_to_string(file)
                .map_err(|err| format!("cannot read {}: {err}", file.display()))?,
        ),
        None => std::fs::read_to_string(app_dir.join(raclette_discovery::APP_CONFIG_FILE)).ok(),
    };
    let config = config_on_disk.as_deref().unwrap_or(spec.config);
    let _ = spec.app_dir;
    let sources = spec
        .plugins
        .iter()
        .map(|p| p.source(false))
        .chain(crate::builtins::sources())
        .collect();
    let model = raclette_discovery::from_sources(&app_dir, Some(config), sources)
        .map_err(|r| r.to_string())?;
    let host = args
        .host
        .unwrap_or_else(|| model.config.server.host().to_owned());
    let port = args.port.unwrap_or_else(|| model.config.server.port());
    let mut app = App::from_model(model);
    for plugin in spec.plugins {
        if let Some(files) = plugin.embedded_client() {
            app = app.client_files(plugin.folder, files);
        }
        if let Some(server) = plugin.server {
            app.entries_insert(plugin.folder, server);
        }
    }
    if args.command == "verify" {
        return verify(app).await;
    }
    if args.command == "user" {
        return crate::user_command::run(app, args.user).await;
    }
    if args.command == "client-config" {
        let listing = app.inspect().await.map_err(|e| e.to_string())?;
        let descriptions = data_api_descriptions(&listing);
        say(&serde_json::to_string(&descriptions).map_err(|e| e.to_string())?);
        return Ok(());
    }
    if args.command == "routes" {
        let listing = app.inspect().await.map_err(|e| e.to_string())?;
        for plugin in listing {
            for route in plugin.routes {
                let folder = raclette_contract::folder_of_key(&plugin.key).unwrap_or(&plugin.key);
                say(&format!("{:<7} {:<50} {folder}", route.method, route.path));
            }
        }
        return Ok(());
    }
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|_| format!("`{host}:{port}` is not a valid address to listen on"))?;
    let built = app.build().await.map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    say(&format!("raclette: listening on http://{local}"));
    built
        .serve(listener, shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    say("raclette: stopped");
    Ok(())
}

/// What the `client-config` command prints: every enabled plugin's data
/// API with the item types its operations name, by plugin key. The CLI
/// writes `.raclette/types/<plugin key>.d.ts` from it
/// ([`raclette_client::declaration_file`]).
pub fn data_api_descriptions(
    listing: &[raclette_contract::PluginListing],
) -> BTreeMap<String, raclette_contract::DataApiDescription> {
    crate::endpoints::enabled_plugins(listing)
        .map(|(p, folder)| {
            let description = raclette_client::data_api_description(folder, &p.routes);
            (p.key.clone(), description)
        })
        .collect()
}

/// The `verify` command: prints why the app would not start, as JSON, and
/// fails when there is a reason.
async fn verify(app: App) -> Result<(), String> {
    let problems = start_up_problems(app).await;
    say(&serde_json::json!({ "problems": problems }).to_string());
    match problems.len() {
        0 => Ok(()),
        1 => Err("1 start-up problem found".to_owned()),
        n => Err(format!("{n} start-up problems found")),
    }
}

/// What `raclette verify` reports: why `app` would not start, each as
/// `{ kind, plugin, file, field, message }` with the file (and field) to
/// change. Configuration only: services such as Redis are not reached.
pub async fn start_up_problems(app: App) -> Vec<serde_json::Value> {
    let model = app.model().clone();
    let url = crate::database::database_url(&model.dir, model.config.database.url.as_deref());
    let migrations: Vec<(String, Vec<raclette_discovery::Migration>)> = model
        .enabled()
        .map(|p| (p.folder().to_owned(), p.migrations.clone()))
        .collect();
    let mut problems = Vec::new();
    if let Err(err) = app.inspect().await {
        problems.extend(start_problems(&err, &model));
    }
    match crate::migrate::changed(&url, &migrations).await {
        Ok(changed) => problems.extend(changed.into_iter().map(|m| {
            serde_json::json!({
                "kind": "migrationChanged",
                "plugin": m.plugin,
                "file": format!("{}/{}/server/migrations/{}", raclette_discovery::PLUGINS_DIR, m.plugin, m.file),
                "field": null,
                "message": m.message,
            })
        })),
        Err(err) => problems.extend(start_problems(&err, &model)),
    }
    problems
}

/// A plugin option that does not fit, as a `verify` problem naming where
/// the value is written: `raclette.toml` and the section the user wrote
/// (`[realtime] adapter`) when the app overrides it, else the plugin's
/// defaults (`[options] adapter` of its metadata file).
fn options_problem(
    err: &StartError,
    model: &raclette_discovery::AppModel,
    plugin: &str,
    field: &str,
    overrides: &str,
    defaults_file: &str,
) -> serde_json::Value {
    let path = field.strip_prefix("options.").unwrap_or("");
    let key = path.split(['.', '[']).next().unwrap_or("");
    let overridden = !key.is_empty()
        && model
            .config
            .plugins
            .get(plugin)
            .is_some_and(|config| config.options.contains_key(key));
    let (file, section) = if overridden {
        (raclette_discovery::APP_CONFIG_FILE.to_owned(), overrides)
    } else {
        (defaults_file.to_owned(), "[options]")
    };
    serde_json::json!({
        "kind": "options",
        "plugin": plugin,
        "file": file,
        "field": if path.is_empty() { section.to_owned() } else { format!("{section} {path}") },
        "message": err.to_string(),
    })
}

/// A start-up error as `verify` problems: what kind, which plugin, which
/// file (and field), and the message start-up would print.
fn start_problems(
    err: &StartError,
    model: &raclette_discovery::AppModel,
) -> Vec<serde_json::Value> {
    let problem = |kind: &str, plugin: Option<&str>, file: String| {
        serde_json::json!({
            "kind": kind,
            "plugin": plugin,
            "file": file,
            "field": null,
            "message": err.to_string(),
        })
    };
    let folder = |plugin: &str| format!("{}/{plugin}", raclette_discovery::PLUGINS_DIR);
    match err {
        StartError::Invalid(report) => report
            .problems
            .iter()
            .map(|p| {
                serde_json::json!({
                    "kind": "invalid",
                    "plugin": null,
                    "file": p.file,
                    "field": p.field,
                    "message": p.message,
                })
            })
            .collect(),
        StartError::Mount { plugin, cause } => match &**cause {
            crate::MountFailure::Setup(raclette::Error::Options {
                field,
                overrides,
                defaults_file,
                ..
            }) => vec![options_problem(
                err,
                model,
                plugin,
                field,
                overrides,
                defaults_file,
            )],
            _ => vec![problem("mount", Some(plugin), folder(plugin))],
        },
        StartError::RouteClash { second, .. } => {
            vec![problem("routeClash", Some(second), folder(second))]
        }
        StartError::MissingServer(plugin) => {
            vec![problem("missingServer", Some(plugin), folder(plugin))]
        }
        StartError::UnknownPlugin(plugin) => {
            vec![problem("unknownPlugin", Some(plugin), folder(plugin))]
        }
        StartError::Database { .. } => {
            let mut p = problem(
                "database",
                None,
                raclette_discovery::APP_CONFIG_FILE.to_owned(),
            );
            p["field"] = "database.url".into();
            vec![p]
        }
        _ => vec![problem(
            "other",
            None,
            raclette_discovery::APP_CONFIG_FILE.to_owned(),
        )],
    }
}

/// Sets up logging as a generated host does: to stderr (in colour when it
/// is a terminal), filtered by
/// `RUST_LOG`, else by `default_filter` (such as `info`) with tower-sessions
/// at `warn` (it opens an `info` span around every request that says
/// nothing the request's own span does not).
///
/// Filters of targets and levels (`info,my_plugin=debug`) use
/// [`Targets`](tracing_subscriber::filter::Targets): unlike `EnvFilter`,
/// it has nothing to do when a span is entered, and every request enters
/// its plugin's span. `EnvFilter` is used only for what needs it, span and
/// field directives such as `[plugin]=debug` or `[request{path=/x}]=trace`.
/// A `RUST_LOG` that is neither is ignored.
pub fn init_logging(default_filter: &str) {
    use tracing_subscriber::{layer::SubscriberExt as _, util::SubscriberInitExt as _};

    let wanted = std::env::var("RUST_LOG").ok();
    let (targets, dynamic) = log_filter(wanted.as_deref(), default_filter);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with(targets)
        .with(dynamic)
        .init();
}

/// The filter [`init_logging`] uses for `RUST_LOG` (`wanted`): one of the
/// two, by what `wanted` needs.
fn log_filter(
    wanted: Option<&str>,
    default_filter: &str,
) -> (
    Option<tracing_subscriber::filter::Targets>,
    Option<tracing_subscriber::EnvFilter>,
) {
    use tracing_subscriber::{EnvFilter, filter::Targets};

    let default = || {
        format!("{default_filter},tower_sessions=warn")
            .parse::<Targets>()
            .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO))
    };
    match wanted.filter(|spec| !spec.trim().is_empty()) {
        None => (Some(default()), None),
        // `Targets` would read `[span]=debug` as a target named `[span]`.
        Some(spec) if spec.contains('[') => match EnvFilter::try_new(spec) {
            Ok(filter) => (None, Some(filter)),
            Err(_) => (Some(default()), None),
        },
        Some(spec) => match spec.parse::<Targets>() {
            Ok(targets) => (Some(targets), None),
            Err(_) => (Some(default()), None),
        },
    }
}

/// Prints a line on stdout; a closed stdout (the reader went away) is no
/// reason to stop serving.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::log_filter;

    #[test]
    fn log_filters_of_targets_and_levels_take_the_light_filter() {
        let (Some(targets), None) = log_filter(None, "info") else {
            panic!("the default is a filter of targets")
        };
        assert!(targets.would_enable("portal", &Level::INFO));
        assert!(!targets.would_enable("portal", &Level::DEBUG));
        assert!(!targets.would_enable("tower_sessions::service", &Level::INFO));

        let (Some(targets), None) = log_filter(Some("debug,hyper=warn"), "info") else {
            panic!("targets and levels need no more")
        };
        assert!(targets.would_enable("raclette_runtime", &Level::DEBUG));
        assert!(!targets.would_enable("hyper::proto", &Level::INFO));

        for spans in [
            "[request{path=/x}]=trace",
            "[plugin]=debug",
            "[plugin]",
            "raclette_core_server=debug,[plugin]=trace",
        ] {
            assert!(
                matches!(log_filter(Some(spans), "info"), (None, Some(_))),
                "span directives need EnvFilter: {spans}"
            );
        }
        let (Some(targets), None) = log_filter(Some("=[=nonsense"), "warn") else {
            panic!("a filter neither can read falls back to the default")
        };
        assert!(targets.would_enable("portal", &Level::WARN));
        assert!(!targets.would_enable("portal", &Level::INFO));
    }
}
