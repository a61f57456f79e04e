//! Where a plugin's client half lives: `client/`, or `frontend/` (the name
//! newer plugins of the original framework use).

use std::path::{Path, PathBuf};

use crate::Problem;

/// The folder names a plugin's client half may have, in order of preference.
pub const CLIENT_DIRS: [&str; 2] = ["client", "frontend"];

/// The client folder of the plugin in `plugin_dir`: `client/` or
/// `frontend/`, whichever exists (`client/` when both do, which
/// [`discover`](crate::discover) reports as a problem); `None` when the
/// plugin has no client half.
///
/// ```
/// let plugin = tempfile::tempdir().unwrap();
/// assert_eq!(raclette_discovery::client_dir(plugin.path()), None);
/// std::fs::create_dir(plugin.path().join("frontend")).unwrap();
/// assert_eq!(
///     raclette_discovery::client_dir(plugin.path()),
///     Some(plugin.path().join("frontend"))
/// );
/// ```
pub fn client_dir(plugin_dir: &Path) -> Option<PathBuf> {
    CLIENT_DIRS
        .iter()
        .map(|name| plugin_dir.join(name))
        .find(|dir| dir.is_dir())
}

/// A problem when the plugin in `plugin_dir` (shown as `display`) has both
/// `client/` and `frontend/`.
pub(crate) fn both_problem(plugin_dir: &Path, display: &str) -> Option<Problem> {
    CLIENT_DIRS
        .iter()
        .all(|name| plugin_dir.join(name).is_dir())
        .then(|| {
            Problem::file(
                display,
                "has both client/ and frontend/; a plugin's client half lives in one of them: merge them into one",
            )
        })
}

#[cfg(test)]
mod tests {
    use crate::{Problem, discover};

    fn app_with(folders: &[&str]) -> tempfile::TempDir {
        let app = tempfile::tempdir().unwrap();
        std::fs::write(app.path().join("raclette.toml"), "").unwrap();
        let plugin = app.path().join("plugins/acme__notes");
        std::fs::create_dir_all(&plugin).unwrap();
        std::fs::write(
            plugin.join("raclette.plugin.toml"),
            "name = \"notes\"\nauthor = \"acme\"\nversion = \"1.0.0\"\n",
        )
        .unwrap();
        for folder in folders {
            std::fs::create_dir(plugin.join(folder)).unwrap();
        }
        app
    }

    #[test]
    fn frontend_is_a_client_half() {
        for (folders, expected) in [
            (&["frontend"][..], true),
            (&["client"][..], true),
            (&["docs"][..], false),
        ] {
            let app = app_with(folders);
            let model = discover(app.path()).unwrap();
            assert_eq!(model.plugins[0].has_client, expected, "{folders:?}");
        }
    }

    #[test]
    fn both_folders_are_a_problem_naming_the_plugin() {
        let app = app_with(&["client", "frontend"]);
        let report = discover(app.path()).unwrap_err();
        assert_eq!(
            report.problems,
            vec![Problem::file(
                "plugins/acme__notes",
                "has both client/ and frontend/; a plugin's client half lives in one of them: merge them into one",
            )]
        );
    }
}
