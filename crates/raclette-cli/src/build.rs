//! `raclette build`.

use std::path::Path;

use crate::{
    CliError,
    cargo::{self, Profile},
    check, client, host,
};

/// Builds a release binary and copies it to `dist/<app name>`.
pub(crate) fn build(app: &Path) -> Result<(), CliError> {
    let model = check::discover(app)?;
    let host = host::generate(&model, true)?;
    let binary = cargo::build(app, &host, Profile::Release)?;
    client::write_declarations(app, &binary)?;
    let dist = app.join("dist");
    std::fs::create_dir_all(&dist).map_err(CliError::io(&dist))?;
    let target = dist.join(&host.bin);
    // Remove first: the old binary may be running.
    let _ = std::fs::remove_file(&target);
    std::fs::copy(&binary, &target).map_err(CliError::io(&target))?;
    println!("built {}", target.display());
    println!(
        "run it with: {} --app {}   (or from the app folder: ./dist/{})",
        target.display(),
        app.display(),
        host.bin
    );
    Ok(())
}
