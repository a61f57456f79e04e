use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use semver::VersionReq;

use crate::{
    APP_CONFIG_FILE, AppConfig, BUILTIN_AUTHOR, Manifest, Migration, PLUGIN_MANIFEST_FILE,
    PLUGINS_DIR, PluginName, Problem, Report, ServerCrate, migrations, order::dependency_order,
};

/// The raw material of one plugin, read from disk or embedded in a binary.
#[derive(Debug, Clone, Default)]
pub struct PluginSource {
    /// The folder name.
    pub folder: String,
    /// The text of `raclette.plugin.toml`, or `None` when it is missing.
    pub manifest_text: Option<String>,
    /// Files of `server/migrations/`: (file name, SQL).
    pub migration_files: Vec<(String, String)>,
    /// The server crate, when read from disk and valid.
    pub server: Option<ServerCrate>,
    /// The plugin folder, when read from disk.
    pub dir: Option<PathBuf>,
    /// Whether the plugin has a client half (`client/` or `frontend/`).
    pub has_client: bool,
    /// Whether it ships with the framework (a built-in plugin).
    pub builtin: bool,
}

/// A plugin that passed validation.
#[derive(Debug, Clone)]
pub struct DiscoveredPlugin {
    /// Its validated folder name.
    pub name: PluginName,
    /// Its metadata.
    pub manifest: Manifest,
    /// Path of its metadata file, relative to the app folder.
    pub manifest_file: String,
    /// Whether `raclette.toml` leaves it on.
    pub enabled: bool,
    /// Its options: metadata defaults with the app's overrides merged on top.
    pub options: serde_json::Value,
    /// Every plugin it depends on, directly or not.
    pub all_dependencies: BTreeSet<String>,
    /// Its SQL migrations, in order.
    pub migrations: Vec<Migration>,
    /// Its server crate, when read from disk.
    pub server: Option<ServerCrate>,
    /// Its folder, when read from disk.
    pub dir: Option<PathBuf>,
    /// Whether it has a client half.
    pub has_client: bool,
    /// Whether it ships with the framework (a built-in plugin).
    pub builtin: bool,
}

impl DiscoveredPlugin {
    /// The permissions the plugin defines, by full name
    /// (`<folder>.<name>`, such as `pacifico__todo.read`), with what each
    /// allows.
    pub fn permissions(&self) -> BTreeMap<String, String> {
        self.manifest
            .permissions
            .iter()
            .map(|(name, text)| (format!("{}.{name}", self.folder()), text.clone()))
            .collect()
    }

    /// The plugin key: `plugin_<folder>`.
    pub fn key(&self) -> String {
        self.name.key()
    }

    /// The folder name.
    pub fn folder(&self) -> &str {
        self.name.folder()
    }
}

/// A validated app: its configuration and its plugins in dependency order.
#[derive(Debug, Clone)]
pub struct AppModel {
    /// The app folder.
    pub dir: PathBuf,
    /// `raclette.toml`.
    pub config: AppConfig,
    /// Every plugin, enabled or not, dependencies before dependants.
    pub plugins: Vec<DiscoveredPlugin>,
}

impl AppModel {
    /// The enabled plugins, in dependency order.
    pub fn enabled(&self) -> impl Iterator<Item = &DiscoveredPlugin> {
        self.plugins.iter().filter(|p| p.enabled)
    }

    /// The plugin in folder `folder`.
    pub fn get(&self, folder: &str) -> Option<&DiscoveredPlugin> {
        self.plugins.iter().find(|p| p.folder() == folder)
    }
}

/// Discovers and validates the app in `app_dir` (without built-in
/// plugins), reporting every problem at once.
pub fn discover(app_dir: &Path) -> Result<AppModel, Report> {
    discover_with(app_dir, Vec::new())
}

/// Discovers and validates the app in `app_dir` together with the
/// framework's built-in plugins `builtins` (see [`read_builtin_sources`]),
/// reporting every problem at once.
pub fn discover_with(app_dir: &Path, builtins: Vec<PluginSource>) -> Result<AppModel, Report> {
    let config_path = app_dir.join(APP_CONFIG_FILE);
    let config_text = std::fs::read_to_string(&config_path).map_err(|err| Report {
        problems: vec![Problem::file(
            APP_CONFIG_FILE,
            format!("cannot be read in {} ({err}); is this a raclette app? `raclette new DIR` creates one", app_dir.display()),
        )],
    })?;
    let (mut sources, mut problems) = read_plugin_sources(app_dir);
    sources.extend(builtins);
    match from_sources(app_dir, Some(&config_text), sources) {
        Ok(model) if problems.is_empty() => Ok(model),
        Ok(_) => Err(Report { problems }),
        Err(report) => {
            problems.extend(report.problems);
            Err(Report { problems })
        }
    }
}

/// Reads the framework's built-in plugins: every folder under
/// `<framework_dir>/plugins/`, marked as built in.
pub fn read_builtin_sources(framework_dir: &Path) -> (Vec<PluginSource>, Vec<Problem>) {
    let (mut sources, problems) = read_plugin_sources(framework_dir);
    for source in &mut sources {
        source.builtin = true;
    }
    (sources, problems)
}

/// Reads every plugin folder under `<app_dir>/plugins/` (skipping names that
/// start with `.` or `_`), checking server crates on the way.
pub fn read_plugin_sources(app_dir: &Path) -> (Vec<PluginSource>, Vec<Problem>) {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    let plugins_dir = app_dir.join(PLUGINS_DIR);
    let entries = match std::fs::read_dir(&plugins_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return (sources, problems),
        Err(err) => {
            problems.push(Problem::file(PLUGINS_DIR, format!("cannot be read: {err}")));
            return (sources, problems);
        }
    };
    let mut dirs: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with('.') && !name.starts_with('_'))
        .collect();
    dirs.sort();
    for (folder, dir) in dirs {
        let display = format!("{PLUGINS_DIR}/{folder}");
        let manifest_text = std::fs::read_to_string(dir.join(PLUGIN_MANIFEST_FILE)).ok();
        let server_dir = dir.join("server");
        let server = if server_dir.is_dir() {
            match ServerCrate::inspect(&server_dir, &format!("{display}/server")) {
                Ok(server) => Some(server),
                Err(found) => {
                    problems.extend(found);
                    None
                }
            }
        } else {
            None
        };
        let mut migration_files = Vec::new();
        if let Ok(entries) = std::fs::read_dir(server_dir.join("migrations")) {
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".sql") {
                    match std::fs::read_to_string(entry.path()) {
                        Ok(sql) => migration_files.push((name, sql)),
                        Err(err) => problems.push(Problem::file(
                            format!("{display}/server/migrations/{name}"),
                            format!("cannot be read: {err}"),
                        )),
                    }
                }
            }
        }
        migration_files.sort();
        let has_client = crate::client_dir(&dir).is_some();
        problems.extend(crate::client_dir::both_problem(&dir, &display));
        sources.push(PluginSource {
            folder,
            manifest_text,
            migration_files,
            server,
            dir: Some(dir),
            has_client,
            builtin: false,
        });
    }
    (sources, problems)
}

/// Validates plugin sources against the app configuration (`None`: all
/// defaults) and orders them by dependency.
pub fn from_sources(
    app_dir: &Path,
    config_text: Option<&str>,
    sources: Vec<PluginSource>,
) -> Result<AppModel, Report> {
    let mut report = Report::default();
    let config = match config_text.map(AppConfig::parse) {
        None => AppConfig::default(),
        Some(Ok(config)) => config,
        Some(Err(problem)) => {
            report.push(problem);
            AppConfig::default()
        }
    };

    let builtin_folders: BTreeSet<String> = sources
        .iter()
        .filter(|s| s.builtin)
        .map(|s| s.folder.clone())
        .collect();
    let mut valid: BTreeMap<String, (PluginName, Manifest, PluginSource, Vec<Migration>)> =
        BTreeMap::new();
    let mut invalid_folders = BTreeSet::new();
    // Dependencies still readable from metadata that has other problems, so
    // that their problems are reported in the same run.
    let mut partial_dependencies: BTreeMap<String, BTreeMap<String, VersionReq>> = BTreeMap::new();
    for source in sources {
        let display = format!("{PLUGINS_DIR}/{}", source.folder);
        let name = match PluginName::parse(&source.folder) {
            Ok(name) => name,
            Err(message) => {
                report.push(Problem::file(&display, message));
                invalid_folders.insert(source.folder.clone());
                continue;
            }
        };
        if !source.builtin {
            if builtin_folders.contains(&source.folder) {
                report.push(Problem::file(
                    &display,
                    format!(
                        "the name `{folder}` belongs to a built-in plugin of the framework; rename this folder (to turn the built-in off, set [plugins.{folder}] enabled = false in {APP_CONFIG_FILE})",
                        folder = source.folder
                    ),
                ));
                continue;
            }
            if name.author() == Some(BUILTIN_AUTHOR) {
                report.push(Problem::file(
                    &display,
                    format!(
                        "the author name `{BUILTIN_AUTHOR}` is reserved for the framework's built-in plugins; choose another author part than `{BUILTIN_AUTHOR}__`"
                    ),
                ));
                invalid_folders.insert(source.folder.clone());
                continue;
            }
        }
        let manifest_file = format!("{display}/{PLUGIN_MANIFEST_FILE}");
        let Some(text) = &source.manifest_text else {
            report.push(Problem::file(
                &manifest_file,
                "missing; every plugin folder needs one with at least `name` and `version`",
            ));
            invalid_folders.insert(source.folder.clone());
            continue;
        };
        let manifest = Manifest::parse(text, &manifest_file, &name);
        let migrations = migrations::parse(
            &source.migration_files,
            &format!("{display}/server/migrations"),
        );
        match (manifest, migrations) {
            (Ok(manifest), Ok(migrations)) => {
                valid.insert(source.folder.clone(), (name, manifest, source, migrations));
            }
            (manifest, migrations) => {
                partial_dependencies.insert(source.folder.clone(), readable_dependencies(text));
                report.problems.extend(manifest.err().unwrap_or_default());
                report.problems.extend(migrations.err().unwrap_or_default());
                invalid_folders.insert(source.folder.clone());
            }
        }
    }

    // Dependencies: known and satisfied.
    let declared = valid
        .iter()
        .map(|(folder, (_, manifest, _, _))| (folder, &manifest.dependencies))
        .chain(partial_dependencies.iter());
    for (folder, dependencies) in declared {
        let file = format!("{PLUGINS_DIR}/{folder}/{PLUGIN_MANIFEST_FILE}");
        for (dep, req) in dependencies {
            let field = format!("dependencies.{dep}");
            match valid.get(dep) {
                Some((_, dep_manifest, _, _)) if !req.matches(&dep_manifest.version) => report
                    .push(Problem::field(
                        &file,
                        field,
                        format!(
                            "requires {dep} {req}, but {dep} is version {}",
                            dep_manifest.version
                        ),
                    )),
                Some(_) => {}
                None if invalid_folders.contains(dep) => {}
                None => report.push(Problem::field(
                    &file,
                    field,
                    format!("unknown plugin `{dep}`: there is no folder {PLUGINS_DIR}/{dep}"),
                )),
            }
        }
    }

    // Server crates use only the plugin crates their metadata declares.
    report
        .problems
        .extend(crate::server_crate::plugin_crate_problems(
            valid.iter().map(|(folder, (_, manifest, source, _))| {
                (folder.as_str(), manifest, source.server.as_ref())
            }),
        ));

    // Configuration refers to existing plugins.
    for (folder, overrides) in &config.plugins {
        if let Some((_, manifest, source, _)) = valid.get(folder) {
            // An override must name an option the plugin declares, or a
            // misspelling would silently leave the default in place.
            let declared = manifest.options.as_object();
            for key in overrides.options.keys() {
                if declared.is_some_and(|d| d.contains_key(key)) {
                    continue;
                }
                let names: Vec<String> = declared
                    .into_iter()
                    .flat_map(|d| d.keys().map(|k| format!("`{k}`")))
                    .collect();
                let names = if names.is_empty() {
                    "it declares none".to_owned()
                } else {
                    format!("it declares {}", names.join(", "))
                };
                // Named as the user wrote it (`[realtime] adaptor`); a
                // built-in's metadata is not in the app, so it is not cited.
                let table = crate::config::options_table(folder);
                let declared_in = if source.builtin {
                    format!("the built-in plugin `{folder}`")
                } else {
                    format!("[options] of {PLUGINS_DIR}/{folder}/{PLUGIN_MANIFEST_FILE}")
                };
                report.push(Problem::field(
                    crate::APP_CONFIG_FILE,
                    format!("{table}.{key}"),
                    format!(
                        "unknown option `{key}` in [{table}] of plugin `{folder}`: {names} ({declared_in})"
                    ),
                ));
            }
        } else if !invalid_folders.contains(folder) {
            report.push(Problem::field(
                crate::APP_CONFIG_FILE,
                format!("plugins.{folder}"),
                format!("unknown plugin `{folder}`: there is no folder {PLUGINS_DIR}/{folder}"),
            ));
        }
    }

    let graph: BTreeMap<String, Vec<String>> = valid
        .iter()
        .map(|(folder, (_, m, _, _))| (folder.clone(), m.dependencies.keys().cloned().collect()))
        .collect();
    let order = match dependency_order(&graph) {
        Ok(order) => order,
        Err(cycles) => {
            for cycle in cycles {
                let file = format!("{PLUGINS_DIR}/{}/{PLUGIN_MANIFEST_FILE}", cycle[0]);
                report.push(Problem::field(
                    file,
                    format!("dependencies.{}", cycle[1]),
                    format!("dependency cycle: {}", cycle.join(" -> ")),
                ));
            }
            Vec::new()
        }
    };

    // Transitive dependencies and enablement.
    let mut closure: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for folder in &order {
        let mut all = BTreeSet::new();
        for dep in &graph[folder] {
            all.insert(dep.clone());
            if let Some(deeper) = closure.get(dep) {
                all.extend(deeper.iter().cloned());
            }
        }
        closure.insert(folder.clone(), all);
    }
    for folder in &order {
        if config.plugin_enabled(folder) {
            continue;
        }
        let needed_by: Vec<&str> = order
            .iter()
            .filter(|other| config.plugin_enabled(other) && graph[*other].contains(folder))
            .map(String::as_str)
            .collect();
        if !needed_by.is_empty() {
            report.push(Problem::field(
                crate::APP_CONFIG_FILE,
                format!("plugins.{folder}.enabled"),
                format!(
                    "{folder} cannot be disabled alone: {} depend{} on it; disable {} too",
                    needed_by.join(", "),
                    if needed_by.len() == 1 { "s" } else { "" },
                    if needed_by.len() == 1 { "it" } else { "them" },
                ),
            ));
        }
    }

    if !report.is_empty() {
        return Err(report);
    }
    let mut plugins = Vec::with_capacity(order.len());
    for folder in order {
        let (name, manifest, source, migrations) =
            valid.remove(&folder).expect("ordered plugins are valid");
        let mut options = manifest.options.clone();
        if let Some(overrides) = config.plugins.get(&folder) {
            merge(
                &mut options,
                serde_json::to_value(&overrides.options).unwrap_or_default(),
            );
        }
        plugins.push(DiscoveredPlugin {
            manifest_file: format!("{PLUGINS_DIR}/{folder}/{PLUGIN_MANIFEST_FILE}"),
            enabled: config.plugin_enabled(&folder),
            all_dependencies: closure.remove(&folder).unwrap_or_default(),
            options,
            name,
            manifest,
            migrations,
            server: source.server,
            dir: source.dir,
            has_client: source.has_client,
            builtin: source.builtin,
        });
    }
    Ok(AppModel {
        dir: app_dir.to_owned(),
        config,
        plugins,
    })
}

/// Merges `overrides` into `base`: objects key by key, anything else
/// replaced.
fn merge(base: &mut serde_json::Value, overrides: serde_json::Value) {
    match (base, overrides) {
        (serde_json::Value::Object(base), serde_json::Value::Object(overrides)) => {
            for (key, value) in overrides {
                merge(base.entry(key).or_insert(serde_json::Value::Null), value);
            }
        }
        (base, value) => *base = value,
    }
}

/// The well-formed entries of `[dependencies]` in metadata that has other
/// problems (a bad entry is reported by [`Manifest::parse`] already).
fn readable_dependencies(text: &str) -> BTreeMap<String, VersionReq> {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return BTreeMap::new();
    };
    let Some(toml::Value::Table(deps)) = table.get("dependencies") else {
        return BTreeMap::new();
    };
    deps.iter()
        .filter(|(dep, _)| PluginName::parse(dep).is_ok())
        .filter_map(|(dep, req)| {
            let req = VersionReq::parse(req.as_str()?).ok()?;
            Some((dep.clone(), req))
        })
        .collect()
}
