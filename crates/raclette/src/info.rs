/// Who a plugin is: the names that follow from its folder.
///
/// ```
/// let info = raclette::PluginInfo::new("pacifico__todo", "1.0.0");
/// assert_eq!(info.key(), "plugin_pacifico__todo");
/// assert_eq!(info.route_prefix(), "/plugin/pacifico/todo");
/// assert_eq!(info.channel("todoCreated"), "plugin_pacifico__todo--todoCreated");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    folder: String,
    author: Option<String>,
    name: String,
    version: String,
}

impl PluginInfo {
    /// Info for the plugin in folder `folder` (`author__name` or `name`).
    ///
    /// The folder name is not validated here; discovery does that.
    ///
    /// ```
    /// let info = raclette::PluginInfo::new("blog", "0.1.0");
    /// assert_eq!(info.route_prefix(), "/plugin/blog");
    /// ```
    pub fn new(folder: &str, version: &str) -> Self {
        let (author, name) = raclette_contract::author_and_name(folder);
        PluginInfo {
            folder: folder.to_owned(),
            author: author.map(str::to_owned),
            name: name.to_owned(),
            version: version.to_owned(),
        }
    }

    /// The folder name, which is the plugin's identity.
    ///
    /// ```
    /// assert_eq!(raclette::PluginInfo::new("acme__notes", "1.0.0").folder(), "acme__notes");
    /// ```
    pub fn folder(&self) -> &str {
        &self.folder
    }

    /// The author part of `author__name`, if any.
    ///
    /// ```
    /// assert_eq!(raclette::PluginInfo::new("acme__notes", "1.0.0").author(), Some("acme"));
    /// assert_eq!(raclette::PluginInfo::new("blog", "1.0.0").author(), None);
    /// ```
    pub fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }

    /// The name part of `author__name`, or the whole folder name.
    ///
    /// ```
    /// assert_eq!(raclette::PluginInfo::new("acme__notes", "1.0.0").name(), "notes");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version from the plugin's metadata.
    ///
    /// ```
    /// assert_eq!(raclette::PluginInfo::new("acme__notes", "1.2.0").version(), "1.2.0");
    /// ```
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The plugin key: `plugin_` followed by the folder name.
    ///
    /// ```
    /// assert_eq!(raclette::PluginInfo::new("acme__notes", "1.0.0").key(), "plugin_acme__notes");
    /// ```
    pub fn key(&self) -> String {
        raclette_contract::plugin_key(&self.folder)
    }

    /// Where the plugin's routes are mounted: `/plugin/<author>/<name>` or
    /// `/plugin/<name>`.
    ///
    /// ```
    /// assert_eq!(raclette::PluginInfo::new("acme__notes", "1.0.0").route_prefix(), "/plugin/acme/notes");
    /// ```
    pub fn route_prefix(&self) -> String {
        raclette_contract::route_prefix(&self.folder)
    }

    /// The broadcast channel of one of the plugin's events:
    /// `<plugin key>--<event>`.
    ///
    /// ```
    /// let info = raclette::PluginInfo::new("acme__notes", "1.0.0");
    /// assert_eq!(info.channel("noteCreated"), "plugin_acme__notes--noteCreated");
    /// ```
    pub fn channel(&self, event: &str) -> String {
        raclette_contract::channel(&self.key(), event)
    }
}
