use std::{collections::BTreeMap, fmt, path::PathBuf, time::Duration};

use serde::{Deserialize, Deserializer, de};

use crate::{APP_CONFIG_FILE, Problem};

/// The app's configuration, read from `raclette.toml`.
///
/// ```
/// let config = raclette_discovery::AppConfig::parse(r#"
///     name = "my-portal"
///     [server]
///     port = 9000
///     [plugins.acme__chat]
///     enabled = false
/// "#).unwrap();
/// assert_eq!(config.server.port(), 9000);
/// assert!(!config.plugin_enabled("acme__chat"));
/// assert!(config.plugin_enabled("acme__other"));
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The app's name, shown in logs and the UI.
    #[serde(default)]
    pub name: Option<String>,
    /// Where the server listens.
    #[serde(default)]
    pub server: ServerConfig,
    /// Which database the app uses.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Where the framework's crates are (used when building the app).
    #[serde(default)]
    pub framework: FrameworkConfig,
    /// Who may call plugin routes without signing in.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Per-plugin settings, keyed by plugin folder name.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginConfig>,
    /// `[realtime]`: the short form of `[plugins.raclette__realtime.options]`
    /// (moved there by [`AppConfig::parse`]).
    #[serde(default)]
    realtime: Option<toml::Table>,
}

/// Top-level tables of `raclette.toml` that are the options of a built-in
/// plugin: `[realtime] adapter = "redis"` is
/// `[plugins.raclette__realtime.options] adapter = "redis"`.
pub(crate) const OPTION_SECTIONS: &[(&str, &str)] = &[("realtime", "raclette__realtime")];

/// Where `raclette.toml` overrides the options of the plugin in `folder`,
/// as a user writes it.
///
/// ```
/// use raclette_discovery::options_section;
/// assert_eq!(options_section("acme__shop"), "[plugins.acme__shop.options]");
/// assert_eq!(options_section("raclette__realtime"), "[realtime]");
/// ```
pub fn options_section(folder: &str) -> String {
    format!("[{}]", options_table(folder))
}

/// The TOML path of that section: `realtime`, `plugins.acme__shop.options`.
pub(crate) fn options_table(folder: &str) -> String {
    match OPTION_SECTIONS.iter().find(|(_, plugin)| *plugin == folder) {
        Some((section, _)) => (*section).to_owned(),
        None => format!("plugins.{folder}.options"),
    }
}

/// `[server]`: where the app listens, which host names it answers, and the
/// limits that keep slow or idle clients from holding its connections.
///
/// ```
/// let config = raclette_discovery::AppConfig::parse(r#"
///     [server]
///     allowed_hosts = ["portal.example.com", "*.example.org"]
///     header_read_timeout = 5
///     max_connections = 2000
/// "#).unwrap();
/// let server = &config.server;
/// assert_eq!(server.header_read_timeout(), std::time::Duration::from_secs(5));
/// assert_eq!(server.request_body_timeout(), std::time::Duration::from_secs(30));
/// assert!(server.allowed_hosts[1].matches("eu.example.org"));
/// assert_eq!(server.max_connections, Some(2000));
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to bind; default `127.0.0.1`.
    pub host: Option<String>,
    /// Port to bind; default 8081.
    pub port: Option<u16>,
    /// Host names the server answers besides the loopback names
    /// (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`), matched against
    /// the request's `Host` header without its port. `"*"` allows every
    /// host. Default: none, so a server listening on a loopback address
    /// answers loopback names only (no DNS rebinding) and one listening on
    /// another address answers every host.
    #[serde(default)]
    pub allowed_hosts: Vec<HostPattern>,
    /// Time a client has to send a request's headers: from the
    /// connection's start for its first request, from the first byte for
    /// the next ones. Default 10 seconds.
    pub header_read_timeout: Option<Seconds>,
    /// Time a client has to send a request's body, from the end of its
    /// headers. Default 30 seconds.
    pub request_body_timeout: Option<Seconds>,
    /// Time a kept-alive connection may stay idle between requests.
    /// Default 60 seconds.
    pub keep_alive_timeout: Option<Seconds>,
    /// Time a client may go without reading any of an answer while the
    /// server still has some of it to send. Default 30 seconds.
    pub send_timeout: Option<Seconds>,
    /// Most connections open at once; further clients wait until one
    /// closes. Default: 10,000, or fewer when the process's open-file
    /// limit is lower (the runtime derives it).
    #[serde(default, deserialize_with = "max_connections")]
    pub max_connections: Option<u32>,
    /// Time graceful shutdown waits for in-flight requests before it
    /// closes the connections left. Default 30 seconds.
    pub shutdown_timeout: Option<Seconds>,
}

impl ServerConfig {
    /// The default port when neither the command line nor `raclette.toml`
    /// name one.
    pub const DEFAULT_PORT: u16 = 8081;
    /// Default of [`ServerConfig::header_read_timeout`].
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default of [`ServerConfig::request_body_timeout`].
    pub const DEFAULT_REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default of [`ServerConfig::keep_alive_timeout`].
    pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default of [`ServerConfig::send_timeout`].
    pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default of [`ServerConfig::shutdown_timeout`].
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
    /// Highest default of [`ServerConfig::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 10_000;

    /// The configured port, or 8081.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(Self::DEFAULT_PORT)
    }

    /// The configured host, or `127.0.0.1`.
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("127.0.0.1")
    }

    /// The configured header read timeout, or 10 seconds.
    pub fn header_read_timeout(&self) -> Duration {
        Seconds::or(self.header_read_timeout, Self::DEFAULT_HEADER_READ_TIMEOUT)
    }

    /// The configured request body timeout, or 30 seconds.
    pub fn request_body_timeout(&self) -> Duration {
        Seconds::or(
            self.request_body_timeout,
            Self::DEFAULT_REQUEST_BODY_TIMEOUT,
        )
    }

    /// The configured keep-alive timeout, or 60 seconds.
    pub fn keep_alive_timeout(&self) -> Duration {
        Seconds::or(self.keep_alive_timeout, Self::DEFAULT_KEEP_ALIVE_TIMEOUT)
    }

    /// The configured send timeout, or 30 seconds.
    pub fn send_timeout(&self) -> Duration {
        Seconds::or(self.send_timeout, Self::DEFAULT_SEND_TIMEOUT)
    }

    /// The configured shutdown timeout, or 30 seconds.
    pub fn shutdown_timeout(&self) -> Duration {
        Seconds::or(self.shutdown_timeout, Self::DEFAULT_SHUTDOWN_TIMEOUT)
    }
}

/// A duration in `raclette.toml`, written as a number of seconds (`10`,
/// `0.5`): more than 0 and at most one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl Seconds {
    /// The longest duration accepted: one day.
    pub const MAX: Duration = Duration::from_secs(86_400);

    fn or(value: Option<Seconds>, default: Duration) -> Duration {
        value.map_or(default, |s| s.0)
    }

    fn new(seconds: f64) -> Result<Seconds, String> {
        if seconds.is_finite() && seconds > 0.0 && seconds <= Self::MAX.as_secs_f64() {
            Ok(Seconds(Duration::from_secs_f64(seconds)))
        } else {
            Err(format!(
                "expected a number of seconds more than 0 and at most 86400 (one day), such as 10 or 0.5; got {seconds}"
            ))
        }
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seconds, such as 10 or 0.5")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                Seconds::new(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                Seconds::new(v as f64).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                Seconds::new(v as f64).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

fn max_connections<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let value = i64::deserialize(deserializer).map_err(|_| {
        de::Error::custom("expected a whole number of connections from 1 to 1000000")
    })?;
    match u32::try_from(value) {
        Ok(n @ 1..=1_000_000) => Ok(Some(n)),
        _ => Err(de::Error::custom(format!(
            "expected a whole number of connections from 1 to 1000000; got {value}"
        ))),
    }
}

/// One entry of `[server] allowed_hosts`: a host name (`portal.example.com`),
/// every subdomain of one (`*.example.com`), an IP address (`10.0.0.5`,
/// `[fe80::1]`), or `*` for every host. Written without scheme, port or
/// path; compared without case and without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    /// Parses an entry, saying what is wrong with a bad one.
    ///
    /// ```
    /// use raclette_discovery::HostPattern;
    /// assert!(HostPattern::parse("Portal.Example.com.").unwrap().matches("portal.example.com"));
    /// assert!(HostPattern::parse("https://portal.example.com").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let bad = |why: &str| {
            format!(
                "`{text}` is not a host name: {why}; write the name alone, such as `portal.example.com`, `*.example.com` or `10.0.0.5`"
            )
        };
        let host = text.trim().to_ascii_lowercase();
        let host = host.strip_suffix('.').unwrap_or(&host);
        if host == "*" {
            return Ok(HostPattern("*".to_owned()));
        }
        if host.contains("://") {
            return Err(bad("it has a scheme"));
        }
        if host.contains(['/', '?', '#']) {
            return Err(bad("it has a path"));
        }
        if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return match inner.parse::<std::net::Ipv6Addr>() {
                Ok(ip) => Ok(HostPattern(format!("[{ip}]"))),
                Err(_) => Err(bad("it is not an IPv6 address")),
            };
        }
        if let Ok(ip) = host.parse::<std::net::Ipv6Addr>() {
            return Ok(HostPattern(format!("[{ip}]")));
        }
        if host.contains(':') {
            return Err(bad("it has a port (ports are not compared)"));
        }
        let name = host.strip_prefix("*.").unwrap_or(host);
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
            return Err(bad(
                "a host name is made of letters, digits, `-` and `_`, in labels separated by dots",
            ));
        }
        Ok(HostPattern(host.to_owned()))
    }

    /// The entry as written in normal form (lowercase, IPv6 in brackets).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `host` (lowercase, without port or trailing dot; IPv6 in
    /// brackets) is allowed by this entry.
    pub fn matches(&self, host: &str) -> bool {
        match self.0.strip_prefix("*") {
            Some("") => true,
            Some(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
            None => self.0 == host,
        }
    }
}

impl<'de> Deserialize<'de> for HostPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        HostPattern::parse(&text).map_err(de::Error::custom)
    }
}

/// `[database]`: the app's database.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// A `sqlite://…` or `postgres://…` URL. Default: the SQLite file
    /// `data/raclette.sqlite` inside the app folder.
    pub url: Option<String>,
}

/// `[framework]`: where to find the framework when building the app.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkConfig {
    /// Folder of a raclette source checkout (the one holding `crates/`).
    /// Default: the checkout the `raclette` command was built from.
    pub path: Option<PathBuf>,
}

/// `[auth]`: what anonymous requests may do.
///
/// By default every plugin route needs a signed-in user unless the route is
/// declared public. `require_authentication = false` lets anonymous requests
/// call routes that need only a signed-in user, and routes whose permission
/// matches one of `anonymous_permissions` (`*` stands for any text).
///
/// ```
/// let config = raclette_discovery::AppConfig::parse(r#"
///     [auth]
///     require_authentication = false
///     anonymous_permissions = ["pacifico__todo.read"]
/// "#).unwrap();
/// assert!(!config.auth.require_authentication);
/// assert!(raclette_discovery::AppConfig::default().auth.require_authentication);
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Whether anonymous requests are refused (401) by every route that is
    /// not public. Default `true`.
    #[serde(default = "yes")]
    pub require_authentication: bool,
    /// Permissions anonymous requests have when authentication is not
    /// required, as patterns such as `pacifico__todo.*`. Default none.
    #[serde(default)]
    pub anonymous_permissions: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            require_authentication: true,
            anonymous_permissions: Vec::new(),
        }
    }
}

/// `[plugins.<folder>]`: one plugin's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// `false` turns the plugin off. Default `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Overrides of the plugin's `[options]` defaults.
    #[serde(default)]
    pub options: toml::Table,
}

fn yes() -> bool {
    true
}

impl AppConfig {
    /// Parses the text of `raclette.toml`.
    ///
    /// A section of [`OPTION_SECTIONS`] becomes its plugin's options:
    ///
    /// ```
    /// let config = raclette_discovery::AppConfig::parse("[realtime]\nadapter = \"redis\"").unwrap();
    /// let options = &config.plugins["raclette__realtime"].options;
    /// assert_eq!(options["adapter"].as_str(), Some("redis"));
    /// ```
    pub fn parse(text: &str) -> Result<AppConfig, Problem> {
        let value: toml::Value =
            toml::from_str(text).map_err(|err| toml_problem(APP_CONFIG_FILE, text, &err))?;
        let mut config: AppConfig = serde_path_to_error::deserialize(value).map_err(|err| {
            let path = err.path().to_string();
            let message = err.into_inner().to_string();
            if path == "." {
                Problem::file(APP_CONFIG_FILE, message)
            } else {
                Problem::field(APP_CONFIG_FILE, path, message)
            }
        })?;
        if let Some(section) = config.realtime.take() {
            let (name, folder) = OPTION_SECTIONS[0];
            let plugin = config
                .plugins
                .entry(folder.to_owned())
                .or_insert_with(|| PluginConfig {
                    enabled: true,
                    options: toml::Table::new(),
                });
            if !plugin.options.is_empty() {
                return Err(Problem::field(
                    APP_CONFIG_FILE,
                    name,
                    format!(
                        "[{name}] and [plugins.{folder}.options] both set {folder}'s options: keep one"
                    ),
                ));
            }
            plugin.options = section;
        }
        Ok(config)
    }

    /// Whether the plugin in `folder` is enabled (plugins are enabled unless
    /// turned off).
    pub fn plugin_enabled(&self, folder: &str) -> bool {
        self.plugins.get(folder).is_none_or(|p| p.enabled)
    }
}

/// A TOML syntax error as a problem with its line and column.
pub(crate) fn toml_problem(file: &str, text: &str, err: &toml::de::Error) -> Problem {
    let message = err.message().trim().to_owned();
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            Problem::file(
                file,
                format!("invalid TOML at line {line}, column {column}: {message}"),
            )
        }
        None => Problem::file(file, format!("invalid TOML: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Problem {
        AppConfig::parse(text).expect_err("the configuration is refused")
    }

    #[test]
    fn server_limits_have_defaults() {
        let server = AppConfig::parse("").unwrap().server;
        assert_eq!(server.header_read_timeout(), Duration::from_secs(10));
        assert_eq!(server.request_body_timeout(), Duration::from_secs(30));
        assert_eq!(server.keep_alive_timeout(), Duration::from_secs(60));
        assert_eq!(server.send_timeout(), Duration::from_secs(30));
        assert_eq!(server.shutdown_timeout(), Duration::from_secs(30));
        assert_eq!(server.max_connections, None);
        assert!(server.allowed_hosts.is_empty());
        let server = AppConfig::parse("[server]\nheader_read_timeout = 0.25\nshutdown_timeout = 2")
            .unwrap()
            .server;
        assert_eq!(server.header_read_timeout(), Duration::from_millis(250));
        assert_eq!(server.shutdown_timeout(), Duration::from_secs(2));
    }

    #[test]
    fn bad_server_values_name_their_field() {
        for (text, field, says) in [
            (
                "header_read_timeout = 0",
                "server.header_read_timeout",
                "more than 0",
            ),
            (
                "keep_alive_timeout = -3",
                "server.keep_alive_timeout",
                "more than 0",
            ),
            (
                "request_body_timeout = \"30s\"",
                "server.request_body_timeout",
                "number of seconds",
            ),
            (
                "shutdown_timeout = 100000",
                "server.shutdown_timeout",
                "one day",
            ),
            (
                "max_connections = 0",
                "server.max_connections",
                "from 1 to 1000000",
            ),
            (
                "max_connections = 2.5",
                "server.max_connections",
                "whole number",
            ),
            (
                "allowed_hosts = \"portal.example.com\"",
                "server.allowed_hosts",
                "sequence",
            ),
            (
                "allowed_hosts = [\"ok.example\", \"https://portal.example.com\"]",
                "server.allowed_hosts[1]",
                "has a scheme",
            ),
            (
                "allowed_hosts = [\"portal.example.com:8443\"]",
                "server.allowed_hosts[0]",
                "has a port",
            ),
            (
                "allowed_hosts = [\"bad host\"]",
                "server.allowed_hosts[0]",
                "letters, digits",
            ),
        ] {
            let problem = problem(&format!("[server]\n{text}\n"));
            assert_eq!(problem.field.as_deref(), Some(field), "{text}: {problem}");
            assert!(problem.message.contains(says), "{text}: {problem}");
        }
    }

    #[test]
    fn host_patterns_match_names_subdomains_and_addresses() {
        let p = |s: &str| HostPattern::parse(s).unwrap();
        assert!(p("Portal.Example.COM.").matches("portal.example.com"));
        assert!(!p("portal.example.com").matches("evil.example.com"));
        assert!(p("*.example.com").matches("a.b.example.com"));
        assert!(!p("*.example.com").matches("example.com"));
        assert!(!p("*.example.com").matches("evilexample.com"));
        assert!(p("*").matches("anything.example"));
        assert!(p("10.0.0.5").matches("10.0.0.5"));
        assert!(p("[FE80::1]").matches("[fe80::1]"));
        assert!(p("fe80::1").matches("[fe80::1]"));
    }
}
