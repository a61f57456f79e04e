use std::fmt;

/// A validated plugin folder name: `author__name` or a plain `name`.
///
/// ```
/// use raclette_discovery::PluginName;
///
/// let name = PluginName::parse("pacifico__todo").unwrap();
/// assert_eq!(name.author(), Some("pacifico"));
/// assert_eq!(name.name(), "todo");
/// assert_eq!(name.key(), "plugin_pacifico__todo");
/// assert_eq!(name.route_prefix(), "/plugin/pacifico/todo");
/// assert!(PluginName::parse("Todo").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PluginName {
    folder: String,
}

impl PluginName {
    /// Checks a folder name against the naming rule.
    pub fn parse(folder: &str) -> Result<Self, String> {
        let expected = "expected `author__name` or `name` of lowercase letters, digits, `_` and `-`, starting with a letter or digit";
        let valid_part = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
                && part
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && !part.ends_with('_')
        };
        let ok = match folder.split_once("__") {
            Some((author, name)) => valid_part(author) && valid_part(name) && !name.contains("__"),
            None => valid_part(folder),
        };
        if ok {
            Ok(PluginName {
                folder: folder.to_owned(),
            })
        } else {
            Err(format!(
                "plugin folder name `{folder}` is not valid: {expected}"
            ))
        }
    }

    /// The folder name itself.
    pub fn folder(&self) -> &str {
        &self.folder
    }

    /// The author part, if the folder is `author__name`.
    pub fn author(&self) -> Option<&str> {
        raclette_contract::author_and_name(&self.folder).0
    }

    /// The name part.
    pub fn name(&self) -> &str {
        raclette_contract::author_and_name(&self.folder).1
    }

    /// `plugin_` + folder name.
    pub fn key(&self) -> String {
        raclette_contract::plugin_key(&self.folder)
    }

    /// `/plugin/<author>/<name>` or `/plugin/<name>`.
    pub fn route_prefix(&self) -> String {
        raclette_contract::route_prefix(&self.folder)
    }
}

impl fmt::Display for PluginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.folder)
    }
}

#[cfg(test)]
mod tests {
    use super::PluginName;

    #[test]
    fn accepts_the_documented_forms() {
        for ok in ["todo", "pacifico__todo", "a-b__c_d", "x1__2y"] {
            assert!(PluginName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "Todo", "a b", "__x", "x__", "a__b__c", "-x", "x/y", "é"] {
            assert!(PluginName::parse(bad).is_err(), "{bad}");
        }
    }
}
