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

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use raclette::Plugin;
use raclette_client::ClientFiles;
use raclette_discovery::PluginSource;

/// One built-in plugin as compiled into the runtime.
pub struct Builtin {
    /// Folder name, such as `raclette__home`.
    pub folder: &'static str,
    /// Text of its `raclette.plugin.toml`.
    pub manifest: &'static str,
    /// `server/migrations/*.sql`: (file name, SQL).
    pub migrations: &'static [(&'static str, &'static str)],
    /// Its server half.
    pub server: Option<Arc<dyn Plugin>>,
    /// Its client files (TypeScript, compiled when served).
    pub client_files: &'static [(&'static str, &'static [u8])],
}

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

/// Every built-in plugin.
pub fn all() -> Vec<Builtin> {
    vec![Builtin {
        folder: "raclette__home",
        manifest: plugin_file!("raclette__home", "raclette.plugin.toml"),
        migrations: &[],
        server: Some(Arc::new(raclette_home_server::plugin)),
        client_files: client_files!("raclette__home":
            "index.ts",
            "widgets/home/setup.ts",
            "widgets/home/HomeWidget.ts",
        ),
    }]
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

impl Builtin {
    /// The plugin's raw material for discovery.
    pub fn source(&self) -> PluginSource {
        PluginSource {
            folder: self.folder.to_owned(),
            manifest_text: Some(self.manifest.to_owned()),
            migration_files: self
                .migrations
                .iter()
                .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
                .collect(),
            server: None,
            dir: None,
            has_client: !self.client_files.is_empty(),
            builtin: true,
        }
    }

    /// Its client files: the checkout's folder when it is on disk, else the
    /// embedded copy.
    pub fn client(&self) -> Option<ClientFiles> {
        if self.client_files.is_empty() {
            return None;
        }
        if let Some(dir) = checkout_dir(self.folder) {
            return Some(ClientFiles::Disk(dir.join("client")));
        }
        let files: BTreeMap<String, &'static [u8]> = self
            .client_files
            .iter()
            .map(|(path, text)| ((*path).to_owned(), *text))
            .collect();
        Some(ClientFiles::Embedded(files))
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
