//! The naming rules that follow from a plugin's folder name, in one place.
//!
//! | thing | rule | example |
//! |---|---|---|
//! | plugin key | `plugin_` + folder name | `plugin_pacifico__todo` |
//! | route prefix | `/plugin/<author>/<name>` (or `/plugin/<name>`) | `/plugin/pacifico/todo` |
//! | broadcast channel | `<plugin key>--<event>` | `plugin_pacifico__todo--todoCreated` |
//!
//! The folder name is not validated here; discovery does that.

/// What every plugin key starts with.
pub const KEY_PREFIX: &str = "plugin_";

/// The plugin key of the plugin in folder `folder`: `plugin_<folder>`.
///
/// ```
/// assert_eq!(raclette_contract::plugin_key("pacifico__todo"), "plugin_pacifico__todo");
/// ```
pub fn plugin_key(folder: &str) -> String {
    format!("{KEY_PREFIX}{folder}")
}

/// The folder name a plugin key stands for, or `None` when `key` is not a
/// plugin key.
///
/// ```
/// use raclette_contract::folder_of_key;
///
/// assert_eq!(folder_of_key("plugin_pacifico__todo"), Some("pacifico__todo"));
/// assert_eq!(folder_of_key("pacifico__todo"), None);
/// ```
pub fn folder_of_key(key: &str) -> Option<&str> {
    key.strip_prefix(KEY_PREFIX)
        .filter(|folder| !folder.is_empty())
}

/// The author and name parts of a folder name: `author__name` gives
/// `(Some("author"), "name")`, a plain `name` gives `(None, "name")`.
///
/// ```
/// use raclette_contract::author_and_name;
///
/// assert_eq!(author_and_name("pacifico__todo"), (Some("pacifico"), "todo"));
/// assert_eq!(author_and_name("todo"), (None, "todo"));
/// ```
pub fn author_and_name(folder: &str) -> (Option<&str>, &str) {
    match folder.split_once("__") {
        Some((author, name)) => (Some(author), name),
        None => (None, folder),
    }
}

/// Where the routes of the plugin in folder `folder` are mounted:
/// `/plugin/<author>/<name>`, or `/plugin/<name>` without an author.
///
/// ```
/// use raclette_contract::route_prefix;
///
/// assert_eq!(route_prefix("pacifico__todo"), "/plugin/pacifico/todo");
/// assert_eq!(route_prefix("todo"), "/plugin/todo");
/// ```
pub fn route_prefix(folder: &str) -> String {
    match author_and_name(folder) {
        (Some(author), name) => format!("/plugin/{author}/{name}"),
        (None, name) => format!("/plugin/{name}"),
    }
}

/// The full path of a plugin route: `path` below `prefix`, where the path
/// `/` is the prefix itself (and stays `/` without a prefix).
///
/// ```
/// use raclette_contract::full_path;
///
/// assert_eq!(full_path("/plugin/acme/notes", "/note/:_id"), "/plugin/acme/notes/note/:_id");
/// assert_eq!(full_path("/plugin/acme/notes", "/"), "/plugin/acme/notes");
/// assert_eq!(full_path("", "/"), "/");
/// ```
pub fn full_path(prefix: &str, path: &str) -> String {
    match (prefix, path) {
        ("", path) => path.to_owned(),
        (prefix, "/") => prefix.to_owned(),
        (prefix, path) => format!("{prefix}{path}"),
    }
}

/// The broadcast channel of event `event` of the plugin with key `key`:
/// `<plugin key>--<event>`.
///
/// ```
/// assert_eq!(
///     raclette_contract::channel("plugin_pacifico__todo", "todoCreated"),
///     "plugin_pacifico__todo--todoCreated"
/// );
/// ```
pub fn channel(key: &str, event: &str) -> String {
    format!("{key}--{event}")
}

/// Where the client files of the plugin with key `key` are served:
/// `/raclette/client/<plugin key>`.
///
/// ```
/// assert_eq!(
///     raclette_contract::client_files_url("plugin_pacifico__todo"),
///     "/raclette/client/plugin_pacifico__todo"
/// );
/// ```
pub fn client_files_url(key: &str) -> String {
    format!("/raclette/client/{key}")
}

/// Where the generated data API of the plugin with key `key` is served:
/// `/raclette/plugins/<plugin key>/client-config`.
///
/// ```
/// assert_eq!(
///     raclette_contract::client_config_url("plugin_pacifico__todo"),
///     "/raclette/plugins/plugin_pacifico__todo/client-config"
/// );
/// ```
pub fn client_config_url(key: &str) -> String {
    format!("/raclette/plugins/{key}/client-config")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_folder_round_trip() {
        for folder in ["todo", "pacifico__todo", "a-b__c_d"] {
            assert_eq!(folder_of_key(&plugin_key(folder)), Some(folder));
        }
        assert_eq!(folder_of_key("plugin_"), None);
        assert_eq!(folder_of_key("other_x"), None);
    }
}
