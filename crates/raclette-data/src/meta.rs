//! What the store knows of a collection, without its Rust type.

use std::{borrow::Cow, collections::BTreeMap};

use serde_json::{Map, Value};

use crate::{DataError, item::FRAMEWORK_FIELDS, sql::Statements};

/// Checks a whole document and gives it back as the collection's type
/// serializes it.
pub(crate) type Normalize = dyn Fn(Map<String, Value>) -> Result<String, DataError> + Send + Sync;

/// A collection as the store sees it.
pub(crate) struct Meta {
    /// The item type's name as clients use it (`todo`).
    pub(crate) type_name: String,
    /// The table, quoted for SQL.
    pub(crate) table: String,
    /// The type's own fields.
    pub(crate) fields: Vec<&'static str>,
    pub(crate) max_item_bytes: usize,
    pub(crate) max_field_bytes: BTreeMap<String, usize>,
    pub(crate) normalize: Box<Normalize>,
    /// Its statements by id on SQLite.
    pub(crate) sqlite: Statements,
    /// Its statements by id on PostgreSQL.
    pub(crate) postgres: Statements,
}

impl std::fmt::Debug for Meta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meta")
            .field("type_name", &self.type_name)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// Where a field lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Id,
    Owner,
    LastEditor,
    Version,
    IsDeleted,
    CreatedAt,
    UpdatedAt,
    /// A field of the plugin's document.
    Doc,
}

impl Meta {
    /// The column of `field`; an error naming `what` (`query.x`) when the
    /// collection has no such field.
    pub(crate) fn column(&self, field: &str, what: &str) -> Result<Column, DataError> {
        Ok(match field {
            "_id" => Column::Id,
            "owner" => Column::Owner,
            "lastEditor" => Column::LastEditor,
            "version" => Column::Version,
            "isDeleted" => Column::IsDeleted,
            "createdAt" => Column::CreatedAt,
            "updatedAt" => Column::UpdatedAt,
            "project" => {
                return Err(DataError::invalid(
                    what,
                    "items are always of the request's project; `project` cannot be chosen",
                ));
            }
            field if self.fields.contains(&field) => Column::Doc,
            field => {
                return Err(DataError::invalid(
                    what,
                    format!(
                        "`{field}` is not a field of {}; expected one of {}",
                        self.type_name,
                        self.known_fields()
                    ),
                ));
            }
        })
    }

    pub(crate) fn known_fields(&self) -> String {
        FRAMEWORK_FIELDS
            .iter()
            .filter(|f| **f != "project")
            .chain(self.fields.iter())
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The conflict of a create whose id is taken.
    pub(crate) fn exists(&self, id: &str) -> DataError {
        DataError::Conflict {
            message: format!("a {} with _id {id} exists already", self.type_name),
            current: None,
        }
    }

    /// Checks the sizes of a normalized document.
    pub(crate) fn check_sizes(&self, doc: &str) -> Result<(), DataError> {
        if doc.len() > self.max_item_bytes {
            return Err(DataError::invalid(
                "body",
                format!(
                    "the {} is {} bytes as JSON; at most {} are allowed",
                    self.type_name,
                    doc.len(),
                    self.max_item_bytes
                ),
            ));
        }
        if self.max_field_bytes.is_empty() {
            return Ok(());
        }
        let value: Map<String, Value> =
            serde_json::from_str(doc).map_err(|e| DataError::invalid("body", e.to_string()))?;
        for (field, max) in &self.max_field_bytes {
            if let Some(v) = value.get(field) {
                let size = match v {
                    Value::String(s) => s.len(),
                    other => other.to_string().len(),
                };
                if size > *max {
                    return Err(DataError::invalid(
                        format!("body.{field}"),
                        format!("is {size} bytes; at most {max} are allowed"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The document of a create: the body without the framework's fields
    /// (an `_id` is returned apart), checked and normalized.
    pub(crate) fn new_document(
        &self,
        mut body: Map<String, Value>,
    ) -> Result<(Option<String>, String), DataError> {
        let id = match body.remove("_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(check_id(&id, "body._id")?),
            Some(other) => {
                return Err(DataError::invalid(
                    "body._id",
                    format!("expected a UUID string, got {other}"),
                ));
            }
        };
        for field in FRAMEWORK_FIELDS {
            body.remove(field);
        }
        self.check_known(&body)?;
        let doc = (self.normalize)(body)?;
        self.check_sizes(&doc)?;
        Ok((id, doc))
    }

    /// A patch without the framework's fields; its `version`, if any.
    pub(crate) fn patch(
        &self,
        mut patch: Map<String, Value>,
    ) -> Result<(Map<String, Value>, Option<i64>), DataError> {
        let version = match patch.remove("version") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
            Some(other) => {
                return Err(DataError::invalid(
                    "body.version",
                    format!("expected the item's version (a whole number), got {other}"),
                ));
            }
        };
        if let Some(deleted) = patch.get("isDeleted")
            && deleted != &Value::Bool(false)
        {
            return Err(DataError::invalid(
                "body.isDeleted",
                "an update cannot delete; use the delete operation",
            ));
        }
        for field in FRAMEWORK_FIELDS {
            patch.remove(field);
        }
        self.check_known(&patch)?;
        Ok((patch, version))
    }

    /// The document after `patch`: its fields replace the current ones,
    /// the result is checked as a whole.
    pub(crate) fn merge(
        &self,
        current: &str,
        patch: &Map<String, Value>,
    ) -> Result<String, DataError> {
        let mut doc: Map<String, Value> = serde_json::from_str(current).map_err(|e| {
            DataError::database(std::io::Error::other(format!(
                "a stored {} is not a JSON object: {e}",
                self.type_name
            )))
        })?;
        for (k, v) in patch {
            doc.insert(k.clone(), v.clone());
        }
        let doc = (self.normalize)(doc)?;
        self.check_sizes(&doc)?;
        Ok(doc)
    }

    /// Checks that every key of `body` is a field of the type and that no
    /// text holds a NUL character (which PostgreSQL cannot store).
    fn check_known(&self, body: &Map<String, Value>) -> Result<(), DataError> {
        for (key, value) in body {
            if has_nul(value) {
                return Err(DataError::invalid(
                    format!("body.{key}"),
                    "text cannot contain the NUL character",
                ));
            }
            if !self.fields.contains(&key.as_str()) {
                return Err(DataError::invalid(
                    format!("body.{key}"),
                    format!(
                        "`{key}` is not a field of {}; expected one of {}",
                        self.type_name,
                        self.fields.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Whether any text (or key) in `value` holds a NUL character.
pub(crate) fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Checks an item id before any query: a UUID, returned hyphenated and in
/// lower case.
pub fn check_id(id: &str, what: &str) -> Result<String, DataError> {
    canonical_id(id, what).map(Cow::into_owned)
}

/// [`check_id`], borrowing `id` when it already is in that form (as ids the
/// framework hands out are).
pub(crate) fn canonical_id<'a>(id: &'a str, what: &str) -> Result<Cow<'a, str>, DataError> {
    match uuid::Uuid::try_parse(id) {
        // Of the forms a UUID is read in, only the canonical one has 36
        // characters and hyphens; lowercase, it is already canonical.
        Ok(_) if id.len() == 36 && !id.bytes().any(|byte| byte.is_ascii_uppercase()) => {
            Ok(Cow::Borrowed(id))
        }
        Ok(uuid) => {
            let mut buffer = uuid::Uuid::encode_buffer();
            Ok(Cow::Owned(
                uuid.hyphenated().encode_lower(&mut buffer).to_owned(),
            ))
        }
        Err(_) => {
            let shown: String = id
                .chars()
                .take(60)
                .collect::<String>()
                .escape_default()
                .to_string();
            Err(DataError::invalid(
                what,
                format!("`{shown}` is not an item id; expected a UUID"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_given_in_canonical_form() {
        let id = "0000002a-0000-4000-8000-00000000002a";
        assert!(matches!(canonical_id(id, "_id"), Ok(Cow::Borrowed(same)) if same == id));
        for other in [
            "0000002A-0000-4000-8000-00000000002A",
            "0000002a00004000800000000000002a",
            "{0000002a-0000-4000-8000-00000000002a}",
        ] {
            assert_eq!(check_id(other, "_id").unwrap(), id, "{other}");
        }
        for bad in [
            "",
            "\0",
            "0000002g-0000-4000-8000-00000000002a",
            "0000002a-0000-4000-8000-00000000002a0",
            "0000002a_0000-4000-8000-00000000002a",
            "0000002a-00004-000-8000-00000000002a",
            "0000002a-0000-4000-8000-00000000002-",
        ] {
            assert!(
                matches!(check_id(bad, "_id"), Err(DataError::Invalid { .. })),
                "{bad:?}"
            );
        }
    }
}
