//! Where the framework's crates are, for the generated host.

use std::path::{Path, PathBuf};

use raclette_discovery::{AppConfig, PluginSource, Report};

use crate::CliError;

/// The raclette source checkout to build apps against: `[framework] path` of
/// `raclette.toml` (relative to the app), else `RACLETTE_FRAMEWORK_PATH`,
/// else the checkout this CLI was built from.
pub(crate) fn locate(app_dir: &Path, config: &AppConfig) -> Result<PathBuf, CliError> {
    let (path, origin) = match (
        &config.framework.path,
        std::env::var_os("RACLETTE_FRAMEWORK_PATH"),
    ) {
        (Some(path), _) => (app_dir.join(path), "raclette.toml [framework] path"),
        (None, Some(path)) => (PathBuf::from(path), "the RACLETTE_FRAMEWORK_PATH variable"),
        (None, None) => (
            built_from(),
            "the checkout the raclette command was built from",
        ),
    };
    let runtime = path.join("crates/raclette-runtime/Cargo.toml");
    if !runtime.is_file() {
        return Err(CliError::Message(format!(
            "no raclette framework at {} (from {origin}): expected {}; set [framework] path in raclette.toml to a raclette checkout",
            path.display(),
            runtime.display()
        )));
    }
    Ok(path.canonicalize().unwrap_or(path))
}

fn built_from() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The framework's built-in plugins (`plugins/` of the framework checkout
/// the app builds against), for discovery beside the app's own.
pub(crate) fn builtins(app_dir: &Path) -> Result<Vec<PluginSource>, CliError> {
    // A broken raclette.toml is reported by discovery itself; the default
    // framework location serves until it is fixed.
    let config = std::fs::read_to_string(app_dir.join(raclette_discovery::APP_CONFIG_FILE))
        .ok()
        .and_then(|text| AppConfig::parse(&text).ok())
        .unwrap_or_default();
    let framework = locate(app_dir, &config)?;
    let (sources, problems) = raclette_discovery::read_builtin_sources(&framework);
    if problems.is_empty() {
        Ok(sources)
    } else {
        Err(CliError::Invalid(Report { problems }))
    }
}
