use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};

use crate::{Manifest, PLUGIN_MANIFEST_FILE, PLUGINS_DIR, Problem};

/// A plugin's server half: the Rust library crate in `server/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCrate {
    /// The package name from `server/Cargo.toml`.
    pub package: String,
    /// The package version, unless it is inherited from a workspace.
    pub version: Option<Version>,
    /// The crate folder.
    pub dir: PathBuf,
    /// Its normal dependencies (`[dependencies]` and
    /// `[target.'…'.dependencies]`).
    pub dependencies: Vec<CrateDependency>,
}

/// One dependency of a server crate, as its `Cargo.toml` declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateDependency {
    /// Where it is declared, such as `dependencies.acme-notes-server`.
    pub field: String,
    /// The package it names: its `package` key, else its own name.
    pub package: String,
    /// Its version requirement, if it has one.
    pub version: Option<String>,
}

impl ServerCrate {
    /// Checks that `dir` holds a library crate that can be a plugin's server
    /// half. `display` is the folder as shown in messages.
    pub fn inspect(dir: &Path, display: &str) -> Result<ServerCrate, Vec<Problem>> {
        let manifest_file = format!("{display}/Cargo.toml");
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).map_err(|err| {
            vec![Problem::file(
                &manifest_file,
                format!("cannot be read ({err}); a server/ folder must be a Rust library crate"),
            )]
        })?;
        let table: toml::Table = toml::from_str(&text)
            .map_err(|err| vec![crate::config::toml_problem(&manifest_file, &text, &err)])?;
        let mut problems = Vec::new();
        let package = table
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str());
        if package.is_none() {
            problems.push(Problem::field(
                &manifest_file,
                "package.name",
                "missing; expected the crate's package name",
            ));
        }
        let lib_path = table
            .get("lib")
            .and_then(|l| l.get("path"))
            .and_then(|p| p.as_str())
            .unwrap_or("src/lib.rs");
        if !dir.join(lib_path).is_file() {
            problems.push(Problem::file(
                format!("{display}/{lib_path}"),
                "missing; a plugin's server half is a library crate whose entry is src/lib.rs with `pub fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()>`",
            ));
        }
        if table
            .get("lib")
            .and_then(|l| l.get("proc-macro"))
            .and_then(|v| v.as_bool())
            == Some(true)
        {
            problems.push(Problem::field(
                &manifest_file,
                "lib.proc-macro",
                "a plugin's server half cannot be a proc-macro crate",
            ));
        }
        let has_raclette = table
            .get("dependencies")
            .and_then(|d| d.get("raclette"))
            .is_some();
        if !has_raclette {
            problems.push(Problem::field(
                &manifest_file,
                "dependencies.raclette",
                "missing; expected `raclette = \"0.1\"` so the plugin can register with the framework",
            ));
        }
        let version = table
            .get("package")
            .and_then(|p| p.get("version"))
            .and_then(|v| v.as_str())
            .and_then(|v| Version::parse(v).ok());
        match package {
            Some(package) if problems.is_empty() => Ok(ServerCrate {
                package: package.to_owned(),
                version,
                dir: dir.to_owned(),
                dependencies: dependencies(&table),
            }),
            _ => Err(problems),
        }
    }

    /// The name Rust code uses for the crate (dashes become underscores).
    pub fn lib_name(&self) -> String {
        self.package.replace('-', "_")
    }
}

/// The normal dependencies declared in a parsed `Cargo.toml`.
fn dependencies(table: &toml::Table) -> Vec<CrateDependency> {
    let mut tables: Vec<(String, &toml::Table)> = Vec::new();
    if let Some(deps) = table.get("dependencies").and_then(|d| d.as_table()) {
        tables.push(("dependencies".to_owned(), deps));
    }
    for (cfg, target) in table
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flatten()
    {
        if let Some(deps) = target.get("dependencies").and_then(|d| d.as_table()) {
            tables.push((format!("target.{cfg}.dependencies"), deps));
        }
    }
    let mut found = Vec::new();
    for (prefix, deps) in tables {
        for (name, spec) in deps {
            let (package, version) = match spec {
                toml::Value::String(version) => (name.clone(), Some(version.clone())),
                toml::Value::Table(spec) => (
                    spec.get("package")
                        .and_then(|p| p.as_str())
                        .unwrap_or(name)
                        .to_owned(),
                    spec.get("version")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                ),
                _ => continue,
            };
            found.push(CrateDependency {
                field: format!("{prefix}.{name}"),
                package,
                version,
            });
        }
    }
    found
}

/// Problems of server crates that depend on the server crate of another
/// plugin: that plugin must be a dependency in the metadata (so it is set
/// up first, and the generated host can resolve the crate by its name), and
/// the version requirement must match the crate.
///
/// `plugins` holds each valid plugin's folder, metadata and server crate.
pub(crate) fn plugin_crate_problems<'a>(
    plugins: impl IntoIterator<Item = (&'a str, &'a Manifest, Option<&'a ServerCrate>)>,
) -> Vec<Problem> {
    let plugins: Vec<_> = plugins.into_iter().collect();
    let mut problems = Vec::new();
    for (folder, manifest, server) in &plugins {
        let Some(server) = server else { continue };
        let cargo_toml = format!("{PLUGINS_DIR}/{folder}/server/Cargo.toml");
        for dep in &server.dependencies {
            let Some((provider, provider_manifest, provided)) =
                plugins.iter().find_map(|(other, other_manifest, crate_)| {
                    crate_
                        .filter(|c| c.package == dep.package && other != folder)
                        .map(|c| (*other, *other_manifest, c))
                })
            else {
                continue;
            };
            if !manifest.dependencies.contains_key(provider) {
                let v = &provider_manifest.version;
                let req = format!("^{}.{}", v.major, v.minor);
                problems.push(Problem::field(
                    &cargo_toml,
                    &dep.field,
                    format!(
                        "`{}` is the server crate of plugin {provider}, which is not a dependency in {PLUGINS_DIR}/{folder}/{PLUGIN_MANIFEST_FILE}: add `{provider} = \"{req}\"` to its [dependencies]",
                        dep.package
                    ),
                ));
                continue;
            }
            let Some(wanted) = &dep.version else { continue };
            let (Ok(req), Some(version)) = (VersionReq::parse(wanted), &provided.version) else {
                continue;
            };
            if !req.matches(version) {
                problems.push(Problem::field(
                    &cargo_toml,
                    &dep.field,
                    format!(
                        "requires {} {wanted}, but {PLUGINS_DIR}/{provider}/server/Cargo.toml is version {version}; ask for \"{}.{}\" or \"*\"",
                        dep.package, version.major, version.minor
                    ),
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use crate::{Problem, discover};

    /// An app with the plugins `acme__notes` (server crate
    /// `acme-notes-server` 0.1.0) and `acme__stats`, whose metadata lists
    /// `stats_deps` and whose Cargo.toml has `cargo_deps`.
    fn app(stats_deps: &str, cargo_deps: &str) -> tempfile::TempDir {
        let app = tempfile::tempdir().unwrap();
        std::fs::write(app.path().join("raclette.toml"), "").unwrap();
        for (folder, name, deps, cargo) in [
            ("acme__notes", "notes", "", ""),
            ("acme__stats", "stats", stats_deps, cargo_deps),
        ] {
            let dir = app.path().join("plugins").join(folder);
            std::fs::create_dir_all(dir.join("server/src")).unwrap();
            std::fs::write(
                dir.join("raclette.plugin.toml"),
                format!(
                    "name = \"{name}\"\nauthor = \"acme\"\nversion = \"1.2.0\"\n[dependencies]\n{deps}"
                ),
            )
            .unwrap();
            std::fs::write(
                dir.join("server/Cargo.toml"),
                format!(
                    "[package]\nname = \"acme-{name}-server\"\nversion = \"0.1.0\"\n[dependencies]\nraclette = \"0.1\"\n{cargo}"
                ),
            )
            .unwrap();
            std::fs::write(dir.join("server/src/lib.rs"), "").unwrap();
        }
        app
    }

    #[test]
    fn a_declared_plugin_crate_is_fine_by_name_or_renamed() {
        for cargo in [
            "acme-notes-server = \"0.1\"",
            "acme-notes-server = \"*\"",
            "notes = { package = \"acme-notes-server\", version = \"0.1.0\" }",
            "acme-notes-server = { path = \"../../acme__notes/server\" }",
        ] {
            let app = app("acme__notes = \"^1.0\"", cargo);
            let model = discover(app.path()).unwrap_or_else(|r| panic!("{cargo}: {r}"));
            let stats = model.get("acme__stats").unwrap().server.as_ref().unwrap();
            assert!(
                stats
                    .dependencies
                    .iter()
                    .any(|d| d.package == "acme-notes-server"),
                "{cargo}"
            );
        }
    }

    #[test]
    fn an_undeclared_plugin_crate_names_cargo_toml_and_the_missing_dependency() {
        let app = app(
            "",
            "notes = { package = \"acme-notes-server\", version = \"0.1\" }",
        );
        let report = discover(app.path()).unwrap_err();
        assert_eq!(
            report.problems,
            vec![Problem::field(
                "plugins/acme__stats/server/Cargo.toml",
                "dependencies.notes",
                "`acme-notes-server` is the server crate of plugin acme__notes, which is not a dependency in plugins/acme__stats/raclette.plugin.toml: add `acme__notes = \"^1.2\"` to its [dependencies]",
            )]
        );
    }

    #[test]
    fn a_version_the_plugin_crate_does_not_have_is_named() {
        let app = app("acme__notes = \"^1.0\"", "acme-notes-server = \"0.2\"");
        let report = discover(app.path()).unwrap_err();
        assert_eq!(
            report.problems,
            vec![Problem::field(
                "plugins/acme__stats/server/Cargo.toml",
                "dependencies.acme-notes-server",
                "requires acme-notes-server 0.2, but plugins/acme__notes/server/Cargo.toml is version 0.1.0; ask for \"0.1\" or \"*\"",
            )]
        );
    }
}
