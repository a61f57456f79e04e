//! Widgets discovered from `client/widgets/<id>/`: `setup.ts` (details and
//! config schema, read without running it) and `<Name>Widget.ts` (the module
//! that mounts the widget).

use raclette_contract::{WidgetFieldType, WidgetInputType};
use serde_json::Value;

pub use raclette_contract::Widget;

use crate::{ClientFiles, literal::exported_literals};

/// A problem with a widget declaration: file, field, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetProblem {
    /// The file, relative to the plugin's `client/` folder.
    pub file: String,
    /// The field, such as `config.size.editor.inputType`.
    pub field: Option<String>,
    /// What was expected.
    pub message: String,
}

/// The names of `values`, for messages: `a, b, c`.
fn names(values: impl IntoIterator<Item = &'static str>) -> String {
    values.into_iter().collect::<Vec<_>>().join(", ")
}

/// Discovers and validates the widgets among `files`.
pub fn discover(
    files: &ClientFiles,
    plugin_key: &str,
    url_base: &str,
) -> (Vec<Widget>, Vec<WidgetProblem>) {
    let all = files.list();
    let mut ids: Vec<String> = all
        .iter()
        .filter_map(|f| f.strip_prefix("widgets/"))
        .filter_map(|rest| rest.split_once('/').map(|(id, _)| id.to_owned()))
        .collect();
    ids.dedup();
    let mut widgets = Vec::new();
    let mut problems = Vec::new();
    for id in ids {
        let dir = format!("widgets/{id}");
        let setup = ["setup.ts", "setup.js"]
            .iter()
            .map(|n| format!("{dir}/{n}"))
            .find(|p| all.contains(p));
        let Some(setup) = setup else {
            problems.push(WidgetProblem {
                file: dir,
                field: None,
                message: "missing setup.ts exporting `details` and `config`".into(),
            });
            continue;
        };
        let module = all.iter().find(|f| {
            f.strip_prefix(&format!("{dir}/")).is_some_and(|name| {
                !name.contains('/') && (name.ends_with("Widget.ts") || name.ends_with("Widget.js"))
            })
        });
        let Some(module) = module else {
            problems.push(WidgetProblem {
                file: dir.clone(),
                field: None,
                message: "missing the widget module `<Name>Widget.ts` whose default export mounts the widget".into(),
            });
            continue;
        };
        let source = files.read(&setup).unwrap_or_default();
        let literals = match exported_literals(&source, &setup) {
            Ok(literals) => literals,
            Err(err) => {
                problems.push(WidgetProblem {
                    file: setup.clone(),
                    field: None,
                    message: format!("line {}, column {}: {}", err.line, err.column, err.message),
                });
                continue;
            }
        };
        let before = problems.len();
        let details = literals.get("details").cloned();
        let config = literals
            .get("config")
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()));
        match &details {
            None => problems.push(WidgetProblem {
                file: setup.clone(),
                field: Some("details".into()),
                message: "missing; expected `export const details = { title: '…' }`".into(),
            }),
            Some(details) => check_details(details, &setup, &mut problems),
        }
        check_config(&config, &setup, &mut problems);
        if problems.len() != before {
            continue;
        }
        // Checked above, so these only fail on shapes the checks let through.
        let typed = serde_json::from_value(details.unwrap_or_default())
            .map_err(|e| ("details", e))
            .and_then(|details| {
                serde_json::from_value(config)
                    .map(|config| (details, config))
                    .map_err(|e| ("config", e))
            });
        let (details, config) = match typed {
            Ok(typed) => typed,
            Err((field, err)) => {
                problems.push(WidgetProblem {
                    file: setup.clone(),
                    field: Some(field.into()),
                    message: err.to_string(),
                });
                continue;
            }
        };
        let module_url = format!(
            "{url_base}/{}",
            module
                .trim_end_matches(".ts")
                .trim_end_matches(".js")
                .to_owned()
                + ".js"
        );
        widgets.push(Widget {
            id,
            plugin_key: plugin_key.to_owned(),
            details,
            config,
            module: module_url,
        });
    }
    (widgets, problems)
}

fn check_details(details: &Value, file: &str, problems: &mut Vec<WidgetProblem>) {
    let mut problem = |field: &str, message: &str| {
        problems.push(WidgetProblem {
            file: file.to_owned(),
            field: Some(format!("details.{field}")),
            message: message.to_owned(),
        });
    };
    let Some(map) = details.as_object() else {
        problem("", "expected an object");
        return;
    };
    match map.get("title") {
        Some(Value::String(_)) => {}
        Some(_) => problem("title", "expected a string"),
        None => problem("title", "missing; every widget needs a title"),
    }
    for key in ["color", "icon", "description"] {
        if map.get(key).is_some_and(|v| !v.is_string()) {
            problem(key, "expected a string");
        }
    }
    if let Some(images) = map.get("images")
        && !images
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        problem("images", "expected an array of image URLs (strings)");
    }
}

fn check_config(config: &Value, file: &str, problems: &mut Vec<WidgetProblem>) {
    let mut problem = |field: String, message: String| {
        problems.push(WidgetProblem {
            file: file.to_owned(),
            field: Some(field),
            message,
        });
    };
    let Some(fields) = config.as_object() else {
        problem("config".into(), "expected an object of fields".into());
        return;
    };
    for (name, field) in fields {
        let at = |rest: &str| {
            if rest.is_empty() {
                format!("config.{name}")
            } else {
                format!("config.{name}.{rest}")
            }
        };
        let Some(field) = field.as_object() else {
            problem(
                at(""),
                "expected an object with `type`, `default` and `editor`".into(),
            );
            continue;
        };
        match field.get("type").and_then(Value::as_str) {
            Some(t) if WidgetFieldType::ALL.iter().any(|f| f.as_str() == t) => {}
            _ => problem(
                at("type"),
                format!(
                    "expected one of {}",
                    names(WidgetFieldType::ALL.map(WidgetFieldType::as_str))
                ),
            ),
        }
        if field.get("label").is_some_and(|v| !v.is_string()) {
            problem(at("label"), "expected a string".into());
        }
        let Some(editor) = field.get("editor") else {
            continue;
        };
        let Some(editor) = editor.as_object() else {
            problem(at("editor"), "expected an object with `inputType`".into());
            continue;
        };
        let input = editor.get("inputType").and_then(Value::as_str);
        match input {
            Some(t) if WidgetInputType::ALL.iter().any(|i| i.as_str() == t) => {}
            _ => problem(
                at("editor.inputType"),
                format!(
                    "expected one of {}",
                    names(WidgetInputType::ALL.map(WidgetInputType::as_str))
                ),
            ),
        }
        for key in ["min", "max", "step"] {
            if editor.get(key).is_some_and(|v| !v.is_number()) {
                problem(at(&format!("editor.{key}")), "expected a number".into());
            }
        }
        let values = editor.get("selectionValues");
        if values.is_some_and(|v| !v.is_array()) {
            problem(at("editor.selectionValues"), "expected an array".into());
        } else if matches!(input, Some("select" | "multiselect")) && values.is_none() {
            problem(
                at("editor.selectionValues"),
                "missing; a select needs the values to choose from".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn files(entries: &[(&str, &'static str)]) -> ClientFiles {
        ClientFiles::Embedded(
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.as_bytes()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn a_valid_widget_is_catalogued() {
        let f = files(&[
            (
                "widgets/list/setup.ts",
                "export const details = { title: 'List' }\nexport const config = { n: { type: 'number', default: 1, editor: { inputType: 'number', min: 0 } } }",
            ),
            ("widgets/list/ListWidget.ts", "export default () => {}"),
        ]);
        let (widgets, problems) = discover(&f, "plugin_x", "/raclette/client/plugin_x");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(widgets[0].id, "list");
        assert_eq!(
            widgets[0].module,
            "/raclette/client/plugin_x/widgets/list/ListWidget.js"
        );
    }

    #[test]
    fn problems_name_file_and_field() {
        let f = files(&[
            (
                "widgets/bad/setup.ts",
                "export const details = { color: 3 }\nexport const config = { s: { type: 'string', editor: { inputType: 'slider', step: 'x' } }, c: { type: 'array', editor: { inputType: 'select' } } }",
            ),
            ("widgets/bad/BadWidget.ts", ""),
            (
                "widgets/nomodule/setup.ts",
                "export const details = { title: 'x' }",
            ),
        ]);
        let (widgets, problems) = discover(&f, "plugin_x", "");
        assert!(widgets.is_empty());
        let fields: Vec<_> = problems
            .iter()
            .map(|p| (p.file.as_str(), p.field.clone().unwrap_or_default()))
            .collect();
        assert!(
            fields.contains(&("widgets/bad/setup.ts", "details.title".into())),
            "{fields:?}"
        );
        assert!(fields.contains(&("widgets/bad/setup.ts", "details.color".into())));
        assert!(fields.contains(&("widgets/bad/setup.ts", "config.s.editor.inputType".into())));
        assert!(fields.contains(&("widgets/bad/setup.ts", "config.s.editor.step".into())));
        assert!(fields.contains(&(
            "widgets/bad/setup.ts",
            "config.c.editor.selectionValues".into()
        )));
        assert!(fields.contains(&("widgets/nomodule", String::new())));
    }
}
