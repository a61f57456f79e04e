//! The generated host crate under `.raclette/host/`.
//!
//! A small binary crate that links every plugin's server crate and hands
//! them, with their metadata and migrations embedded, to
//! `raclette_runtime::host::main`. It is regenerated from `plugins/` and
//! `raclette.toml` by every command that builds, and files are only
//! rewritten when their content changes, so cargo rebuilds only what changed.
//!
//! Every plugin with a server crate is linked, enabled or not, so turning a
//! plugin on or off in `raclette.toml` needs a restart, not a rebuild.
//!
//! Plugin crates depend on `raclette = "0.1"` and on other plugins' crates by
//! package name (`acme-notes-server = "0.1"`), never by path, so that a
//! plugin folder can be copied between apps as it is; `[patch.crates-io]`
//! of the host resolves those names to the framework checkout and to the
//! plugins' `server/` folders.

use std::{
    collections::BTreeSet,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use raclette_discovery::AppModel;

use crate::{CliError, framework};

/// A generated host crate. While it lives it holds `.raclette/host.lock`,
/// so that two commands on one app (`raclette dev` rebuilding while
/// `raclette build` runs) do not rewrite the host under each other's build.
pub(crate) struct Host {
    /// `.raclette/host/Cargo.toml`.
    pub(crate) manifest: PathBuf,
    /// The binary's name (the app's name, as a file name).
    pub(crate) bin: String,
    _lock: std::fs::File,
}

/// Takes the app's host lock, waiting (and saying so) while another
/// command holds it.
fn lock_host(root: &Path) -> Result<std::fs::File, CliError> {
    std::fs::create_dir_all(root).map_err(CliError::io(root))?;
    let path = root.join("host.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(CliError::io(&path))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => eprintln!(
            "raclette: another raclette command is building this app ({}); waiting for it",
            path.display()
        ),
        Err(std::fs::TryLockError::Error(err)) => return Err(CliError::io(&path)(err)),
    }
    file.lock().map_err(CliError::io(&path))?;
    Ok(file)
}

/// The app's name as a binary name: lowercase letters, digits and `-`.
pub(crate) fn bin_name(model: &AppModel) -> String {
    let raw = model
        .config
        .name
        .clone()
        .or_else(|| {
            model
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "app".to_owned());
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_owned();
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name = format!("app-{name}");
    }
    name
}

fn toml_str(path: &Path) -> String {
    let text = path.display().to_string();
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn rust_str(text: &str) -> String {
    format!("{text:?}")
}

/// Writes (or refreshes) the host crate for `model`.
///
/// With `embed_client`, every plugin's client files are compiled (TypeScript
/// to JavaScript) into `.raclette/client/` and embedded, so the binary needs
/// no source tree; without it the binary serves `client/` from the app folder,
/// so client edits show on reload without a rebuild. The runtime's
/// TypeScript sources for editors are refreshed on the way (see
/// [`crate::client::write_runtime_types`]).
pub(crate) fn generate(model: &AppModel, embed_client: bool) -> Result<Host, CliError> {
    let app_dir = model.dir.canonicalize().map_err(CliError::io(&model.dir))?;
    let framework = framework::locate(&app_dir, &model.config)?;
    let root = app_dir.join(".raclette");
    let lock = lock_host(&root)?;
    let host_dir = root.join("host");
    let bin = bin_name(model);

    let mut deps = String::new();
    let mut patches = String::new();
    let mut plugins = String::new();
    // Plugin crates that other plugin crates depend on by name (such as
    // `acme-notes-server = "0.1"`) resolve to their folders.
    let wanted: BTreeSet<&str> = model
        .plugins
        .iter()
        .filter_map(|p| p.server.as_ref())
        .flat_map(|s| s.dependencies.iter().map(|d| d.package.as_str()))
        .collect();
    // Built-in plugins are linked into the runtime itself.
    for (index, plugin) in model.plugins.iter().enumerate().filter(|(_, p)| !p.builtin) {
        let folder = plugin.folder();
        let plugin_dir = app_dir.join("plugins").join(folder);
        let server = match &plugin.server {
            Some(server) => {
                let alias = format!("plugin_{index}");
                writeln!(
                    deps,
                    "{alias} = {{ package = \"{}\", path = {} }}",
                    server.package,
                    toml_str(&plugin_dir.join("server"))
                )
                .expect("write to string");
                if wanted.contains(server.package.as_str()) {
                    writeln!(
                        patches,
                        "{} = {{ path = {} }}",
                        server.package,
                        toml_str(&plugin_dir.join("server"))
                    )
                    .expect("write to string");
                }
                format!("Some(Arc::new({alias}::plugin))")
            }
            None => "None".to_owned(),
        };
        let client_files = match raclette_discovery::client_dir(&plugin_dir) {
            Some(client) if embed_client && plugin.has_client => {
                embed_client_files(&client, &root.join("client").join(folder), folder)?
            }
            _ => String::new(),
        };
        let mut migrations = String::new();
        for m in &plugin.migrations {
            let on_disk = &m.file;
            let path = plugin_dir.join("server/migrations").join(on_disk);
            writeln!(
                migrations,
                "                ({}, include_str!({})),",
                rust_str(on_disk),
                rust_str(&path.display().to_string())
            )
            .expect("write to string");
        }
        write!(
            plugins,
            r#"        EmbeddedPlugin {{
            folder: {folder},
            manifest: include_str!({manifest}),
            migrations: &[
{migrations}            ],
            server: {server},
            has_client: {has_client},
            client_files: &[
{client_files}            ],
        }},
"#,
            folder = rust_str(folder),
            manifest = rust_str(
                &plugin_dir
                    .join(raclette_discovery::PLUGIN_MANIFEST_FILE)
                    .display()
                    .to_string()
            ),
            has_client = plugin.has_client,
        )
        .expect("write to string");
    }

    let cargo_toml = format!(
        r#"# Generated by raclette from {app}; do not edit (it is rewritten on every build).
[package]
name = "raclette-host-{bin}"
version = "0.0.0"
edition = "2024"
publish = false

[[bin]]
name = "{bin}"
path = "src/main.rs"

[dependencies]
raclette-runtime = {{ path = {runtime} }}
{deps}
[patch.crates-io]
raclette = {{ path = {api} }}
{patches}
[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false

# Password hashing is far too slow unoptimised.
[profile.dev.package.argon2]
opt-level = 3

[profile.dev.package.blake2]
opt-level = 3

[workspace]
"#,
        app = app_dir.display(),
        runtime = toml_str(&framework.join("crates/raclette-runtime")),
        api = toml_str(&framework.join("crates/raclette")),
    );
    let main_rs = format!(
        r#"//! Generated by raclette from {app}; do not edit.
//! Links the server half of every plugin into one binary.

use std::sync::Arc;

use raclette_runtime::host::{{EmbeddedPlugin, HostSpec}};

fn main() -> std::process::ExitCode {{
    raclette_runtime::host::main(HostSpec {{
        config: include_str!({config}),
        app_dir: {app_str},
        plugins: vec![
{plugins}        ],
    }})
}}
"#,
        app = app_dir.display(),
        config = rust_str(
            &app_dir
                .join(raclette_discovery::APP_CONFIG_FILE)
                .display()
                .to_string()
        ),
        app_str = rust_str(&app_dir.display().to_string()),
    );

    write_if_changed(&root.join(".gitignore"), "*\n")?;
    crate::client::write_runtime_types(&app_dir)?;
    write_if_changed(&host_dir.join("Cargo.toml"), &cargo_toml)?;
    write_if_changed(&host_dir.join("src/main.rs"), &main_rs)?;
    let cargo_lock = host_dir.join("Cargo.lock");
    if !cargo_lock.exists() {
        // Start from the framework's own lock file, so the host resolves to
        // the same dependency versions (and a shared target folder reuses
        // their builds).
        let _ = std::fs::copy(framework.join("Cargo.lock"), &cargo_lock);
    }
    Ok(Host {
        manifest: host_dir.join("Cargo.toml"),
        bin,
        _lock: lock,
    })
}

/// Compiles a plugin's client files into `out` and returns the Rust list
/// that embeds them (relative path, bytes): each TypeScript module becomes
/// `<stem>.js` and its source map `<stem>.js.map`; every other file (images,
/// fonts, …) is embedded as it is.
fn embed_client_files(client: &Path, out: &Path, folder: &str) -> Result<String, CliError> {
    let mut list = String::new();
    let files = raclette_client::ClientFiles::Disk(client.to_owned());
    let mut problems = Vec::new();
    for relative in files.list() {
        let Some(content) = files.read_bytes(&relative) else {
            continue;
        };
        let outputs = match relative.strip_suffix(".ts") {
            Some(stem) if !relative.ends_with(".d.ts") => {
                let shown = format!("{}/{relative}", client_display(folder, client));
                let Ok(source) = std::str::from_utf8(&content) else {
                    problems.push(format!("{shown}: not UTF-8 text"));
                    continue;
                };
                let map_url = format!("/raclette/client/plugin_{folder}/{stem}.js.map");
                match raclette_client::compile_with_source_map(source, &shown, &map_url) {
                    Ok(module) => vec![
                        (format!("{stem}.js"), module.code.into_bytes()),
                        (format!("{stem}.js.map"), module.map.into_bytes()),
                    ],
                    Err(err) => {
                        problems.push(err.to_string());
                        continue;
                    }
                }
            }
            Some(_) => continue,
            None => vec![(relative.clone(), content.into_owned())],
        };
        for (target, bytes) in outputs {
            let path = out.join(&target);
            write_if_changed(&path, &bytes)?;
            writeln!(
                list,
                "                ({}, include_bytes!({})),",
                rust_str(&target),
                rust_str(&path.display().to_string())
            )
            .expect("write to string");
        }
    }
    if problems.is_empty() {
        Ok(list)
    } else {
        Err(CliError::Message(format!(
            "client files do not compile:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// A plugin's client folder as shown in messages: `plugins/<folder>/client`
/// (or `…/frontend`).
pub(crate) fn client_display(folder: &str, client: &Path) -> String {
    let name = client
        .file_name()
        .map_or_else(|| "client".into(), |n| n.to_string_lossy());
    format!("plugins/{folder}/{name}")
}

/// Writes `content` to `path` unless it already holds exactly that.
pub(crate) fn write_if_changed(path: &Path, content: impl AsRef<[u8]>) -> Result<(), CliError> {
    let content = content.as_ref();
    if std::fs::read(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(CliError::io(parent))?;
    }
    std::fs::write(path, content).map_err(CliError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_lock_is_held_by_one_command_at_a_time() {
        let app = tempfile::tempdir().unwrap();
        let root = app.path().join(".raclette");
        let first = lock_host(&root).unwrap();
        let other = std::fs::File::open(root.join("host.lock")).unwrap();
        assert!(
            matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            "a second command finds the host taken"
        );
        drop(first);
        other.try_lock().expect("free once the first is done");
        drop(other);
        // And the next command takes it without waiting.
        lock_host(&root).unwrap();
    }

    #[test]
    fn embedding_compiles_a_frontend_folder_with_source_maps() {
        let plugin = tempfile::tempdir().unwrap();
        let frontend = plugin.path().join("frontend");
        std::fs::create_dir_all(frontend.join("widgets/list")).unwrap();
        std::fs::write(
            frontend.join("index.ts"),
            "const n: number = 1\nexport default n\n",
        )
        .unwrap();
        std::fs::write(frontend.join("style.css"), "body {}\n").unwrap();
        std::fs::write(frontend.join("types.d.ts"), "export type A = 1\n").unwrap();
        let client = raclette_discovery::client_dir(plugin.path()).unwrap();
        let out = plugin.path().join("out");

        let list = embed_client_files(&client, &out, "acme__notes").unwrap();
        let embedded: Vec<&str> = list
            .lines()
            .filter_map(|l| l.trim().strip_prefix("(\"")?.split('"').next())
            .collect();
        assert_eq!(embedded, ["index.js", "index.js.map", "style.css"]);
        let js = std::fs::read_to_string(out.join("index.js")).unwrap();
        assert!(
            js.ends_with("//# sourceMappingURL=/raclette/client/plugin_acme__notes/index.js.map\n"),
            "{js}"
        );
        let map: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("index.js.map")).unwrap())
                .unwrap();
        assert_eq!(map["sources"], serde_json::json!(["index.ts"]));

        std::fs::write(frontend.join("broken.ts"), "const = ;\n").unwrap();
        let err = embed_client_files(&client, &out, "acme__notes").unwrap_err();
        assert!(
            err.to_string()
                .contains("plugins/acme__notes/frontend/broken.ts:1:7:"),
            "{err}"
        );
    }
}
