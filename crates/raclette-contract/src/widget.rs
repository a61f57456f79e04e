//! The widget catalogue: what `client/widgets/<id>/setup.ts` declares, as
//! listed in `GET /raclette/plugins`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use ts_rs::TS;

/// A widget in the catalogue of `GET /raclette/plugins`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Widget {
    /// The folder name under `client/widgets/`.
    pub id: String,
    /// The plugin's key.
    pub plugin_key: String,
    /// How the widget presents itself (`details` of `setup.ts`).
    pub details: WidgetDetails,
    /// What can be configured, by field name (`config` of `setup.ts`).
    pub config: BTreeMap<String, WidgetConfigField>,
    /// URL of the module that mounts it.
    pub module: String,
}

/// How a widget presents itself in catalogues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WidgetDetails {
    /// Its title (a plugin may translate it under `widgets.<id>.title`).
    pub title: String,
    /// A CSS color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub color: Option<String>,
    /// An icon name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub icon: Option<String>,
    /// Image URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub images: Option<Vec<String>>,
    /// A longer text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub description: Option<String>,
}

/// One configurable field of a widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WidgetConfigField {
    /// The type of its value.
    #[serde(rename = "type")]
    pub field_type: WidgetFieldType,
    /// The value when a page gives none (`null` is a value).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[ts(optional, type = "unknown")]
    pub default: Option<Value>,
    /// A label for editors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub label: Option<String>,
    /// How an editor offers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub editor: Option<WidgetEditor>,
}

/// A present value, `null` included (a missing one is `None` by default).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// The type of a widget config field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum WidgetFieldType {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl WidgetFieldType {
    /// Every field type.
    pub const ALL: [WidgetFieldType; 5] = [
        WidgetFieldType::String,
        WidgetFieldType::Number,
        WidgetFieldType::Boolean,
        WidgetFieldType::Array,
        WidgetFieldType::Object,
    ];

    /// The name as written in `setup.ts`.
    pub fn as_str(self) -> &'static str {
        match self {
            WidgetFieldType::String => "string",
            WidgetFieldType::Number => "number",
            WidgetFieldType::Boolean => "boolean",
            WidgetFieldType::Array => "array",
            WidgetFieldType::Object => "object",
        }
    }
}

/// How an editor offers a widget config field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WidgetEditor {
    /// The input to use.
    pub input_type: WidgetInputType,
    /// The smallest number accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub min: Option<serde_json::Number>,
    /// The largest number accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub max: Option<serde_json::Number>,
    /// The step between numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub step: Option<serde_json::Number>,
    /// The values a `select` or `multiselect` offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "Array<unknown>")]
    pub selection_values: Option<Vec<Value>>,
}

/// The input an editor shows for a widget config field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum WidgetInputType {
    /// A text box.
    Text,
    /// A number box.
    Number,
    /// A checkbox.
    Checkbox,
    /// A switch.
    Switch,
    /// One value of `selectionValues`.
    Select,
    /// Any values of `selectionValues`.
    Multiselect,
}

impl WidgetInputType {
    /// Every input type.
    pub const ALL: [WidgetInputType; 6] = [
        WidgetInputType::Text,
        WidgetInputType::Number,
        WidgetInputType::Checkbox,
        WidgetInputType::Switch,
        WidgetInputType::Select,
        WidgetInputType::Multiselect,
    ];

    /// The name as written in `setup.ts`.
    pub fn as_str(self) -> &'static str {
        match self {
            WidgetInputType::Text => "text",
            WidgetInputType::Number => "number",
            WidgetInputType::Checkbox => "checkbox",
            WidgetInputType::Switch => "switch",
            WidgetInputType::Select => "select",
            WidgetInputType::Multiselect => "multiselect",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_json() {
        for t in WidgetFieldType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        for t in WidgetInputType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }

    #[test]
    fn a_field_keeps_its_json() {
        let json = serde_json::json!({
            "type": "object", "default": null, "label": "Where",
            "editor": { "inputType": "select", "min": 1, "step": 0.5, "selectionValues": [1, "a"] }
        });
        let field: WidgetConfigField = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(field.field_type, WidgetFieldType::Object);
        assert_eq!(serde_json::to_value(&field).unwrap(), json);
    }
}
