//! Client halves at the command line: validation for `raclette check`, and
//! what editors need under `.raclette/types/`: the runtime's TypeScript
//! sources (`@raclette/client`) and each plugin's data API declarations.

use std::{collections::BTreeMap, path::Path, process::Command};

use raclette_client::ClientFiles;
use raclette_contract::DataApiDescription;
use raclette_discovery::{AppModel, Problem};

use crate::{
    CliError,
    host::{client_display, write_if_changed},
};

/// Problems in the enabled plugins' client halves: widget declarations
/// (file and field) and TypeScript that does not compile (line and column).
pub(crate) fn problems(model: &AppModel) -> Vec<Problem> {
    let folders: Vec<&str> = model
        .enabled()
        .filter(|p| p.has_client)
        .map(|p| p.folder())
        .collect();
    problems_in(&model.dir, &folders)
}

/// Client problems of every plugin folder with a client half, for an
/// app whose discovery failed (so that `check` still reports them all).
pub(crate) fn problems_of_folders(app: &Path) -> Vec<Problem> {
    let Ok(entries) = std::fs::read_dir(app.join("plugins")) else {
        return Vec::new();
    };
    let mut folders: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| raclette_discovery::client_dir(&e.path()).is_some())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| !name.starts_with(['.', '_']))
        .collect();
    folders.sort();
    let folders: Vec<&str> = folders.iter().map(String::as_str).collect();
    problems_in(app, &folders)
}

fn problems_in(app: &Path, folders: &[&str]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for folder in folders {
        let Some(client) = raclette_discovery::client_dir(&app.join("plugins").join(folder)) else {
            continue;
        };
        let base = client_display(folder, &client);
        let files = ClientFiles::Disk(client);
        let (_, widget_problems) =
            raclette_client::widgets::discover(&files, &raclette_contract::plugin_key(folder), "");
        for p in widget_problems {
            let file = format!("{base}/{}", p.file);
            problems.push(match p.field {
                Some(field) => Problem::field(file, field, p.message),
                None => Problem::file(file, p.message),
            });
        }
        for relative in files
            .list()
            .into_iter()
            .filter(|f| f.ends_with(".ts") && !f.ends_with(".d.ts"))
        {
            let Some(source) = files.read(&relative) else {
                continue;
            };
            let shown = format!("{base}/{relative}");
            if let Err(err) = raclette_client::compile(&source, &shown) {
                problems.push(Problem::file(
                    shown,
                    format!("line {}, column {}: {}", err.line, err.column, err.message),
                ));
            }
        }
    }
    problems
}

/// Asks the built app for every plugin's data API (with the item types its
/// operations name) and writes
/// `.raclette/types/<plugin key>.d.ts` for each.
pub(crate) fn write_declarations(app: &Path, binary: &Path) -> Result<(), CliError> {
    let output = Command::new(binary)
        .arg("client-config")
        .arg("--app")
        .arg(app)
        .output()
        .map_err(|err| CliError::Message(format!("cannot run {}: {err}", binary.display())))?;
    if !output.status.success() {
        return Err(CliError::Message(format!(
            "the app could not describe its data API: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let descriptions: BTreeMap<String, DataApiDescription> = serde_json::from_slice(&output.stdout)
        .map_err(|err| {
            CliError::Message(format!(
                "the app's data API description is not what this CLI expects \
                 (is the framework checkout of another version?): {err}"
            ))
        })?;
    let dir = app.join(".raclette").join("types");
    for (key, description) in &descriptions {
        write_if_changed(
            &dir.join(format!("{key}.d.ts")),
            raclette_client::declaration_file(description),
        )?;
    }
    Ok(())
}

/// Where the runtime's TypeScript sources go, relative to the app: the
/// app's `tsconfig.json` maps `@raclette/client` to `client.ts` there.
pub(crate) const RUNTIME_TYPES_DIR: &str = ".raclette/types/raclette-client";

/// Writes the browser runtime's own TypeScript sources (what
/// `@raclette/client` is) to [`RUNTIME_TYPES_DIR`], so that editors and
/// `tsc` resolve the import with the types of the framework the app is
/// built with; files the runtime no longer has are removed.
pub(crate) fn write_runtime_types(app: &Path) -> Result<(), CliError> {
    let dir = app.join(RUNTIME_TYPES_DIR);
    let names: Vec<String> = raclette_client::runtime_files()
        .into_iter()
        .filter(|name| name.ends_with(".ts"))
        .collect();
    for name in &names {
        if let Some(text) = raclette_client::runtime_file(name) {
            write_if_changed(&dir.join(name), text.as_bytes())?;
        }
    }
    for entry in std::fs::read_dir(&dir)
        .map_err(CliError::io(&dir))?
        .filter_map(Result::ok)
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !names.contains(&name) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(CliError::io(&path))?;
        }
    }
    Ok(())
}
