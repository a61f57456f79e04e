//! The framework's built-in plugins: ordinary plugin folders under
//! `plugins/` of the framework repository, linked into every app by the
//! runtime itself.
//!
//! Discovery sees them beside the app's plugins (marked `builtin`), so they
//! are listed, ordered and disabled like any plugin; an app plugin cannot
//! take a built-in's name. Their metadata, migrations and client files are
//! embedded here at compile time, so a release binary needs no framework
//! checkout; while the checkout is on disk, client files are served from
//! it, so edits show on reload.

use std::{path::PathBuf, sync::Arc};

use raclette_client::ClientFiles;
use raclette_discovery::PluginSource;

use crate::host::EmbeddedPlugin;

macro_rules! plugin_file {
    ($folder:literal, $path:literal) => {
        include_str!(concat!("../../../plugins/", $folder, "/", $path))
    };
}

macro_rules! client_files {
    ($folder:literal: $($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!("../../../plugins/", $folder, "/client/", $path)) as &[u8])),*]
    };
}

/// Every built-in plugin, embedded like an app plugin in a release binary.
pub fn all() -> Vec<EmbeddedPlugin> {
    vec![
        EmbeddedPlugin {
            folder: "raclette__core",
            manifest: plugin_file!("raclette__core", "raclette.plugin.toml"),
            migrations: &[
                (
                    "0001_accounts.sql",
                    plugin_file!("raclette__core", "server/migrations/0001_accounts.sql"),
                ),
                (
                    "0002_membership_joined_at.sql",
                    plugin_file!(
                        "raclette__core",
                        "server/migrations/0002_membership_joined_at.sql"
                    ),
                ),
            ],
            server: Some(Arc::new(raclette_core_server::plugin)),
            has_client: false,
            client_files: &[],
        },
        EmbeddedPlugin {
            folder: "raclette__realtime",
            manifest: plugin_file!("raclette__realtime", "raclette.plugin.toml"),
            migrations: &[],
            server: Some(Arc::new(raclette_realtime_server::plugin)),
            has_client: false,
            client_files: &[],
        },
        EmbeddedPlugin {
            folder: "raclette__home",
            manifest: plugin_file!("raclette__home", "raclette.plugin.toml"),
            migrations: &[],
            server: Some(Arc::new(raclette_home_server::plugin)),
            has_client: true,
            client_files: client_files!("raclette__home":
                "index.ts",
                "widgets/home/setup.ts",
                "widgets/home/HomeWidget.ts",
            ),
        },
    ]
}

/// Where the framework checkout keeps built-in `folder`, when it is on disk.
fn checkout_dir(folder: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins")
        .join(folder);
    dir.join(raclette_discovery::PLUGIN_MANIFEST_FILE)
        .is_file()
        .then_some(dir)
}

/// The raw material of every built-in plugin, for discovery.
pub fn sources() -> Vec<PluginSource> {
    all().iter().map(|plugin| plugin.source(true)).collect()
}

/// The client files of built-in `plugin`: the checkout's folder when it is
/// on disk, else the embedded copy.
pub(crate) fn client(plugin: &EmbeddedPlugin) -> Option<ClientFiles> {
    if !plugin.has_client {
        return None;
    }
    match checkout_dir(plugin.folder) {
        Some(dir) => Some(ClientFiles::Disk(dir.join("client"))),
        None => plugin.embedded_client(),
    }
}

#[cfg(test)]
mod tests {
    /// Every client file of a built-in on disk is embedded, so release
    /// binaries serve the same files as development.
    #[test]
    fn embedded_client_files_match_the_checkout() {
        for builtin in super::all() {
            let dir = super::checkout_dir(builtin.folder).expect("built-in on disk");
            let on_disk = raclette_client::ClientFiles::Disk(dir.join("client")).list();
            let mut embedded: Vec<String> = builtin
                .client_files
                .iter()
                .map(|(p, _)| (*p).to_owned())
                .collect();
            embedded.sort();
            assert_eq!(
                embedded, on_disk,
                "client files of {} in crates/raclette-runtime/src/builtins.rs",
                builtin.folder
            );
            let migrations = dir.join("server/migrations");
            let count = std::fs::read_dir(&migrations)
                .map(|d| d.count())
                .unwrap_or(0);
            assert_eq!(
                builtin.migrations.len(),
                count,
                "migrations of {}",
                builtin.folder
            );
        }
    }
}
