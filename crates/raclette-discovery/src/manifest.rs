use std::collections::BTreeMap;

use semver::{Version, VersionReq};

use crate::{PluginName, Problem, config::toml_problem};

/// A plugin's metadata, read from its `raclette.plugin.toml`.
///
/// ```toml
/// name = "invoices"
/// author = "acme"
/// version = "1.2.0"
/// description = "Invoices for the customer portal"
/// license = "MIT"
///
/// [dependencies]
/// acme__customers = "^1.0"
///
/// [options]
/// page_size = 20
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The plugin's name; must equal the name part of its folder.
    pub name: String,
    /// The author; must equal the author part of its folder, if any.
    pub author: Option<String>,
    /// The plugin's version.
    pub version: Version,
    /// One line on what the plugin does.
    pub description: String,
    /// Where its source lives.
    pub repository: Option<String>,
    /// Its licence (SPDX expression).
    pub license: Option<String>,
    /// The plugins it needs, by folder name, with a version requirement.
    pub dependencies: BTreeMap<String, VersionReq>,
    /// Defaults of its options, as JSON (always an object).
    pub options: serde_json::Value,
    /// The permissions it defines, by short name (`read`), with what each
    /// allows; their full names are `<plugin key>.<name>`.
    pub permissions: BTreeMap<String, String>,
}

const KNOWN_FIELDS: &[&str] = &[
    "name",
    "author",
    "version",
    "description",
    "repository",
    "license",
    "dependencies",
    "options",
    "permissions",
];

impl Manifest {
    /// Parses and checks the metadata of the plugin in folder `folder`,
    /// reporting every problem at once. `file` is the path shown in
    /// messages.
    pub fn parse(text: &str, file: &str, folder: &PluginName) -> Result<Manifest, Vec<Problem>> {
        let table: toml::Table =
            toml::from_str(text).map_err(|err| vec![toml_problem(file, text, &err)])?;
        let mut problems = Vec::new();
        for key in table.keys() {
            if !KNOWN_FIELDS.contains(&key.as_str()) {
                problems.push(Problem::field(
                    file,
                    key,
                    format!("unknown field; expected one of {}", KNOWN_FIELDS.join(", ")),
                ));
            }
        }
        let mut string = |field: &str, required: bool| -> Option<String> {
            match table.get(field) {
                Some(toml::Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    problems.push(Problem::field(
                        file,
                        field,
                        format!("expected a string, found {}", other.type_str()),
                    ));
                    None
                }
                None if required => {
                    problems.push(Problem::field(
                        file,
                        field,
                        "missing; this field is required",
                    ));
                    None
                }
                None => None,
            }
        };
        let name = string("name", true);
        let author = string("author", folder.author().is_some());
        let version = string("version", true);
        let description = string("description", false).unwrap_or_default();
        let repository = string("repository", false);
        let license = string("license", false);

        if let Some(name) = &name
            && name != folder.name()
        {
            problems.push(Problem::field(
                file,
                "name",
                format!(
                    "`{name}` clashes with the folder name `{folder}`: expected `{}`",
                    folder.name()
                ),
            ));
        }
        match (&author, folder.author()) {
            (Some(a), Some(expected)) if a != expected => problems.push(Problem::field(
                file,
                "author",
                format!("`{a}` clashes with the folder name `{folder}`: expected `{expected}`"),
            )),
            (Some(a), None) => problems.push(Problem::field(
                file,
                "author",
                format!("`{a}` clashes with the folder name `{folder}`, which has no author part: rename the folder to `{a}__{folder}` or remove the field"),
            )),
            _ => {}
        }
        let version = version.and_then(|v| match Version::parse(&v) {
            Ok(version) => Some(version),
            Err(err) => {
                problems.push(Problem::field(
                    file,
                    "version",
                    format!("`{v}` is not a semver version ({err}); expected something like 1.2.3"),
                ));
                None
            }
        });

        let mut dependencies = BTreeMap::new();
        match table.get("dependencies") {
            None => {}
            Some(toml::Value::Table(deps)) => {
                for (dep, req) in deps {
                    let field = format!("dependencies.{dep}");
                    if let Err(message) = PluginName::parse(dep) {
                        problems.push(Problem::field(file, &field, message));
                        continue;
                    }
                    match req {
                        toml::Value::String(req) => match VersionReq::parse(req) {
                            Ok(req) => {
                                dependencies.insert(dep.clone(), req);
                            }
                            Err(err) => problems.push(Problem::field(
                                file,
                                &field,
                                format!("`{req}` is not a semver requirement ({err}); expected something like \"^1.0\""),
                            )),
                        },
                        other => problems.push(Problem::field(
                            file,
                            &field,
                            format!("expected a semver requirement string such as \"^1.0\", found {}", other.type_str()),
                        )),
                    }
                }
            }
            Some(other) => problems.push(Problem::field(
                file,
                "dependencies",
                format!(
                    "expected a table of `plugin_folder = \"version requirement\"`, found {}",
                    other.type_str()
                ),
            )),
        }

        let options = match table.get("options") {
            None => serde_json::Value::Object(Default::default()),
            Some(toml::Value::Table(options)) => serde_json::to_value(options).unwrap_or_default(),
            Some(other) => {
                problems.push(Problem::field(
                    file,
                    "options",
                    format!("expected a table, found {}", other.type_str()),
                ));
                serde_json::Value::Null
            }
        };

        let mut permissions = BTreeMap::new();
        match table.get("permissions") {
            None => {}
            Some(toml::Value::Table(declared)) => {
                for (permission, description) in declared {
                    let field = format!("permissions.{permission}");
                    let valid = permission.split('.').all(|part| {
                        part.starts_with(|c: char| c.is_ascii_lowercase())
                            && part
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    });
                    if !valid {
                        problems.push(Problem::field(
                            file,
                            &field,
                            format!("`{permission}` is not a permission name: expected lower-case words of letters, digits and `_` joined by `.`, such as `read` or `users.manage`"),
                        ));
                        continue;
                    }
                    if let Some((prefix, short)) = permission
                        .split_once('.')
                        .filter(|(prefix, _)| prefix.contains("__"))
                    {
                        problems.push(Problem::field(
                            file,
                            &field,
                            format!("`{permission}` names a plugin folder: permissions are declared by their short name (`{short}`), which the framework prefixes with the plugin's folder (`{prefix}.{short}`)"),
                        ));
                        continue;
                    }
                    match description {
                        toml::Value::String(text) => {
                            permissions.insert(permission.clone(), text.clone());
                        }
                        other => problems.push(Problem::field(
                            file,
                            &field,
                            format!(
                                "expected a string saying what the permission allows, found {}",
                                other.type_str()
                            ),
                        )),
                    }
                }
            }
            Some(other) => problems.push(Problem::field(
                file,
                "permissions",
                format!(
                    "expected a table of `name = \"what it allows\"`, found {}",
                    other.type_str()
                ),
            )),
        }

        match (name, version) {
            (Some(name), Some(version)) if problems.is_empty() => Ok(Manifest {
                name,
                author,
                version,
                description,
                repository,
                license,
                dependencies,
                options,
                permissions,
            }),
            _ => Err(problems),
        }
    }
}
