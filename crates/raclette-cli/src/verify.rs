//! Asking a built app whether it would start: `<binary> verify`.

use std::{path::Path, process::Command};

use raclette_discovery::{Problem, Report};

use crate::CliError;

/// Runs the built app's `verify` command: every enabled plugin set up as
/// at start-up (options, services, routes, route clashes) and migrations
/// checked against the database, without serving, running hooks or
/// changing the database. Fails with every problem found.
pub(crate) fn verify(app: &Path, binary: &Path) -> Result<(), CliError> {
    let output = Command::new(binary)
        .arg("verify")
        .arg("--app")
        .arg(app)
        .output()
        .map_err(|err| CliError::Message(format!("cannot run {}: {err}", binary.display())))?;
    let problems = serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .ok()
        .and_then(|v| v.get("problems").and_then(|p| p.as_array()).cloned());
    match problems {
        Some(problems) if problems.is_empty() && output.status.success() => Ok(()),
        Some(problems) if !problems.is_empty() => Err(CliError::Invalid(Report {
            problems: problems.iter().map(problem).collect(),
        })),
        _ => Err(CliError::Message(format!(
            "the app could not check its start-up ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
    }
}

/// One problem of `verify`'s answer.
fn problem(value: &serde_json::Value) -> Problem {
    let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
    match value["field"].as_str() {
        Some(field) => Problem::field(text("file"), field, text("message")),
        None => Problem::file(text("file"), text("message")),
    }
}
