//! Where the framework's crates are, for the generated host.

use std::path::{Path, PathBuf};

use raclette_discovery::AppConfig;

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
