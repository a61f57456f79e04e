use std::path::{Path, PathBuf};

use crate::Problem;

/// A plugin's server half: the Rust library crate in `server/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCrate {
    /// The package name from `server/Cargo.toml`.
    pub package: String,
    /// The crate folder.
    pub dir: PathBuf,
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
        match package {
            Some(package) if problems.is_empty() => Ok(ServerCrate {
                package: package.to_owned(),
                dir: dir.to_owned(),
            }),
            _ => Err(problems),
        }
    }

    /// The name Rust code uses for the crate (dashes become underscores).
    pub fn lib_name(&self) -> String {
        self.package.replace('-', "_")
    }
}
