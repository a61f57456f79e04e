//! `raclette new` and `raclette plugin new`.

use std::path::Path;

use raclette_discovery::{PLUGIN_MANIFEST_FILE, PLUGINS_DIR, PluginName};

use crate::{CliError, client};

/// The app's TypeScript settings, for editors and `tsc`.
const TSCONFIG: &str = "tsconfig.json";

fn render(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(template.to_owned(), |text, (key, value)| {
        text.replace(&format!("{{{{{key}}}}}"), value)
    })
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(CliError::io(parent))?;
    }
    std::fs::write(path, text).map_err(CliError::io(path))
}

/// Creates a new app in `dir`.
pub(crate) fn new_app(dir: &Path) -> Result<(), CliError> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(CliError::io(dir))?
            .next()
            .is_some()
    {
        return Err(CliError::Message(format!(
            "{} exists and is not empty; pick a new folder",
            dir.display()
        )));
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            CliError::Message(format!(
                "{} has no folder name to name the app after",
                dir.display()
            ))
        })?;
    write(
        &dir.join("raclette.toml"),
        &render(include_str!("templates/raclette.toml"), &[("name", &name)]),
    )?;
    write(&dir.join(".gitignore"), include_str!("templates/gitignore"))?;
    write(&dir.join(TSCONFIG), include_str!("templates/tsconfig.json"))?;
    write(&dir.join(PLUGINS_DIR).join(".gitkeep"), "")?;
    client::write_runtime_types(dir)?;
    println!("created app `{name}` in {}", dir.display());
    println!(
        "next: cd {} && raclette plugin new you__hello && raclette dev",
        dir.display()
    );
    Ok(())
}

/// Creates a plugin skeleton in `plugins/<folder>`.
pub(crate) fn new_plugin(app: &Path, folder: &str) -> Result<(), CliError> {
    if !app.join(raclette_discovery::APP_CONFIG_FILE).is_file() {
        return Err(CliError::Message(format!(
            "{} is not a raclette app (no raclette.toml); run this inside an app or pass --app DIR",
            app.display()
        )));
    }
    let name = PluginName::parse(folder).map_err(CliError::Message)?;
    if name.author() == Some(raclette_discovery::BUILTIN_AUTHOR) {
        return Err(CliError::Message(format!(
            "`{folder}`: the author name `{author}` is reserved for the framework's built-in plugins; choose another author part than `{author}__`",
            author = raclette_discovery::BUILTIN_AUTHOR
        )));
    }
    let dir = app.join(PLUGINS_DIR).join(folder);
    if dir.exists() {
        return Err(CliError::Message(format!(
            "{} exists already",
            dir.display()
        )));
    }
    let author_line = name
        .author()
        .map(|a| format!("author = \"{a}\"\n"))
        .unwrap_or_default();
    let package = format!("{}-server", folder.replace("__", "-").replace('_', "-"));
    let prefix = name.route_prefix();
    let vars = [
        ("folder", folder),
        ("name", name.name()),
        ("author_line", author_line.as_str()),
        ("package", package.as_str()),
        ("prefix", prefix.as_str()),
    ];
    write(
        &dir.join(PLUGIN_MANIFEST_FILE),
        &render(include_str!("templates/plugin.toml"), &vars),
    )?;
    write(
        &dir.join("client/index.ts"),
        &render(include_str!("templates/index.ts"), &vars),
    )?;
    write(
        &dir.join("server/Cargo.toml"),
        &render(include_str!("templates/Cargo.toml"), &vars),
    )?;
    write(
        &dir.join("server/src/lib.rs"),
        &render(include_str!("templates/lib.rs"), &vars),
    )?;
    // Apps made before `raclette new` wrote one get it with their first
    // plugin; an existing one is the app's own.
    let tsconfig = app.join(TSCONFIG);
    if !tsconfig.exists() {
        write(&tsconfig, include_str!("templates/tsconfig.json"))?;
    }
    client::write_runtime_types(app)?;
    println!("created plugin {folder} in {}", dir.display());
    println!("its route: GET {prefix}/hello");
    Ok(())
}
