//! Building the host crate with cargo.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{CliError, host::Host};

/// Debug (for `dev` and `routes`) or release (for `build`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    Debug,
    Release,
}

/// The target folder: `CARGO_TARGET_DIR` when set (so apps can share one
/// build cache), else `.raclette/target` inside the app.
pub(crate) fn target_dir(app_dir: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir().unwrap_or_default().join(dir)
            }
        }
        None => app_dir.join(".raclette").join("target"),
    }
}

/// Builds the host, cargo's progress shown on the terminal; returns the
/// binary.
pub(crate) fn build(app_dir: &Path, host: &Host, profile: Profile) -> Result<PathBuf, CliError> {
    let target = target_dir(app_dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(&host.manifest)
        .env("CARGO_TARGET_DIR", &target);
    if profile == Profile::Release {
        command.arg("--release");
    }
    eprintln!(
        "raclette: building {} ({})",
        host.bin,
        if profile == Profile::Release {
            "release"
        } else {
            "debug"
        }
    );
    let status = command.status().map_err(|err| {
        CliError::Message(format!(
            "cannot run cargo ({err}); is the Rust toolchain installed?"
        ))
    })?;
    if !status.success() {
        return Err(CliError::Build);
    }
    let dir = if profile == Profile::Release {
        "release"
    } else {
        "debug"
    };
    Ok(target.join(dir).join(&host.bin))
}
