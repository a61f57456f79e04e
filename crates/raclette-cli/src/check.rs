//! `raclette check` and `raclette routes`.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use raclette_discovery::AppModel;

use crate::{
    CliError,
    cargo::{self, Profile},
    client, framework, host, verify,
};

/// Discovers the app with the framework's built-in plugins, or fails with
/// every problem.
pub(crate) fn discover(app: &Path) -> Result<AppModel, CliError> {
    Ok(raclette_discovery::discover_with(
        app,
        framework::builtins(app)?,
    )?)
}

/// Prints each plugin: key, version, enabled, dependencies; fails with every
/// problem, including those of client halves (widgets, TypeScript).
///
/// What only the plugins' server code knows (option types, services, routes
/// and their clashes) and what the database knows (changed migrations) is
/// checked with `build`: the app is built and its start-up checked.
pub(crate) fn check(app: &Path, build: bool) -> Result<(), CliError> {
    if app.join(raclette_discovery::APP_CONFIG_FILE).is_file()
        && let Err(err) = client::write_runtime_types(app)
    {
        eprintln!("raclette: {err}");
    }
    let model = match raclette_discovery::discover_with(app, framework::builtins(app)?) {
        Ok(model) => model,
        Err(mut report) => {
            report.problems.extend(client::problems_of_folders(app));
            return Err(CliError::Invalid(report));
        }
    };
    let problems = client::problems(&model);
    if !problems.is_empty() {
        return Err(CliError::Invalid(raclette_discovery::Report { problems }));
    }
    if build {
        let binary = build_host(app, &model)?;
        eprintln!("raclette: checking start-up (plugins set up, routes, migrations)");
        verify::verify(app, &binary)?;
        // The data API declarations for editors come from the plugins' set-up,
        // so only an app that starts has them.
        client::write_declarations(app, &binary)?;
    }
    let count = model.plugins.len();
    println!(
        "app {} ({}): {count} plugin{}",
        host::bin_name(&model),
        app.display(),
        if count == 1 { "" } else { "s" }
    );
    for plugin in &model.plugins {
        let deps = if plugin.manifest.dependencies.is_empty() {
            "none".to_owned()
        } else {
            plugin
                .manifest
                .dependencies
                .iter()
                .map(|(d, r)| format!("{d} {r}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "  {:<36} {:<10} {:<9} {:<9} dependencies: {deps}",
            plugin.key(),
            plugin.manifest.version.to_string(),
            if plugin.enabled {
                "enabled"
            } else {
                "disabled"
            },
            if plugin.builtin { "built-in" } else { "app" },
        );
    }
    if build {
        println!("ok");
    } else {
        println!(
            "ok (without building; `raclette check --build` also checks option types, services, routes and migrations)"
        );
    }
    Ok(())
}

/// Builds the host and prints its routes.
pub(crate) fn routes(app: &Path) -> Result<(), CliError> {
    let model = discover(app)?;
    eprintln!(
        "raclette: routes are registered by the plugins' server code; building the app to list them"
    );
    let binary = build_host(app, &model)?;
    client::write_declarations(app, &binary)?;
    run_host(
        &binary,
        app,
        &["routes"],
        "the app could not list its routes",
    )
}

/// `raclette user …`: builds the app and runs its `user` command, which
/// manages the accounts of the built-in core plugin. Standard input is
/// passed on, so a password can be typed at the prompt or piped in.
pub(crate) fn user(app: &Path, words: &[String]) -> Result<(), CliError> {
    let model = discover(app)?;
    let binary = build_host(app, &model)?;
    let mut args = vec!["user"];
    args.extend(words.iter().map(String::as_str));
    run_host(&binary, app, &args, "the user command failed")
}

/// The app's host binary, built in debug.
fn build_host(app: &Path, model: &AppModel) -> Result<PathBuf, CliError> {
    let host = host::generate(model, false)?;
    cargo::build(app, &host, Profile::Debug)
}

/// Runs the host `binary` with `args` on `app`, its output and input the
/// terminal's; `failure` says what went wrong when it fails.
fn run_host(binary: &Path, app: &Path, args: &[&str], failure: &str) -> Result<(), CliError> {
    let status = Command::new(binary)
        .args(args)
        .arg("--app")
        .arg(app)
        .status()
        .map_err(|err| CliError::Message(format!("cannot run {}: {err}", binary.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(CliError::Message(format!("{failure} (see above)")))
    }
}
