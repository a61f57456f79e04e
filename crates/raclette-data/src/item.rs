//! Items as stored and as sent: the framework's fields beside the plugin's
//! own, written to JSON straight from the row.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::DataError;

/// The fields the framework keeps on every item, as clients name them.
/// A collection's type cannot have a field of these names.
pub const FRAMEWORK_FIELDS: [&str; 8] = [
    "_id",
    "project",
    "owner",
    "lastEditor",
    "version",
    "isDeleted",
    "createdAt",
    "updatedAt",
];

/// An item as stored: the framework's fields and the plugin's document as
/// JSON text. Reads hand it out without parsing the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    /// The item's id, a hyphenated UUID.
    pub id: String,
    /// The project (tenant) it belongs to.
    pub project: String,
    /// The user who created it; `None` for anonymous.
    pub owner: Option<String>,
    /// The user who changed it last; `None` for anonymous.
    pub last_editor: Option<String>,
    /// Starts at 1; every write that changes the item adds 1.
    pub version: i64,
    /// Soft-deleted.
    pub is_deleted: bool,
    /// When it was created, RFC 3339 UTC with milliseconds.
    pub created_at: String,
    /// When it last changed, same format.
    pub updated_at: String,
    /// The plugin's fields: a JSON object.
    pub doc: String,
}

impl StoredItem {
    /// The item's fields, borrowed.
    pub fn as_ref(&self) -> ItemRef<'_> {
        ItemRef {
            id: &self.id,
            project: &self.project,
            owner: self.owner.as_deref(),
            last_editor: self.last_editor.as_deref(),
            version: self.version,
            is_deleted: self.is_deleted,
            created_at: &self.created_at,
            updated_at: &self.updated_at,
            doc: &self.doc,
        }
    }

    /// Appends the item as one JSON object: the framework's fields, then
    /// the document's.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        self.as_ref().write_json(out);
    }

    /// The item as JSON text.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(self.doc.len() + 256);
        self.write_json(&mut out);
        String::from_utf8(out).expect("JSON of UTF-8 parts")
    }

    /// The item with its document parsed as `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<Item<T>, DataError> {
        let data = serde_json::from_str(&self.doc).map_err(|e| {
            DataError::database(std::io::Error::other(format!(
                "stored item {} does not match its type: {e}",
                self.id
            )))
        })?;
        Ok(Item {
            id: self.id.clone(),
            project: self.project.clone(),
            owner: self.owner.clone(),
            last_editor: self.last_editor.clone(),
            version: self.version,
            is_deleted: self.is_deleted,
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            data,
        })
    }
}

/// An item's fields as a database row holds them, borrowed: reads write
/// their answer straight from the row with [`ItemRef::write_json`],
/// without a copy of each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRef<'a> {
    /// The item's id, a hyphenated UUID.
    pub id: &'a str,
    /// The project (tenant) it belongs to.
    pub project: &'a str,
    /// The user who created it; `None` for anonymous.
    pub owner: Option<&'a str>,
    /// The user who changed it last; `None` for anonymous.
    pub last_editor: Option<&'a str>,
    /// Starts at 1; every write that changes the item adds 1.
    pub version: i64,
    /// Soft-deleted.
    pub is_deleted: bool,
    /// When it was created, RFC 3339 UTC with milliseconds.
    pub created_at: &'a str,
    /// When it last changed, same format.
    pub updated_at: &'a str,
    /// The plugin's fields: a JSON object.
    pub doc: &'a str,
}

impl ItemRef<'_> {
    /// About the size of the item's JSON (its exact size, unless a field
    /// needs escaping): the room to make for it at once.
    fn json_size(&self) -> usize {
        // The framework's field names, punctuation, a version and a flag.
        const FIXED: usize = 128;
        FIXED
            + self.id.len()
            + self.project.len()
            + self.owner.map_or(4, str::len)
            + self.last_editor.map_or(4, str::len)
            + self.created_at.len()
            + self.updated_at.len()
            + self.doc.len()
    }

    /// The item as an owned [`StoredItem`].
    pub fn to_stored(&self) -> StoredItem {
        StoredItem {
            id: self.id.to_owned(),
            project: self.project.to_owned(),
            owner: self.owner.map(str::to_owned),
            last_editor: self.last_editor.map(str::to_owned),
            version: self.version,
            is_deleted: self.is_deleted,
            created_at: self.created_at.to_owned(),
            updated_at: self.updated_at.to_owned(),
            doc: self.doc.to_owned(),
        }
    }

    /// Appends the item as one JSON object: the framework's fields, then
    /// the document's (copied as stored: it was checked as JSON when it
    /// was written).
    ///
    /// ```
    /// use raclette_data::ItemRef;
    ///
    /// let item = ItemRef {
    ///     id: "0b3d7a4e-6a53-4a3c-9d0e-0c8b6f2b1a00",
    ///     project: "default",
    ///     owner: None,
    ///     last_editor: None,
    ///     version: 1,
    ///     is_deleted: false,
    ///     created_at: "2026-01-01T00:00:00.000Z",
    ///     updated_at: "2026-01-01T00:00:00.000Z",
    ///     doc: r#"{"name":"x"}"#,
    /// };
    /// let mut out = Vec::new();
    /// item.write_json(&mut out);
    /// let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    /// assert_eq!(json["name"], "x");
    /// assert_eq!(json["version"], 1);
    /// ```
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.reserve(self.json_size());
        out.extend_from_slice(b"{\"_id\":");
        write_str(out, self.id);
        out.extend_from_slice(b",\"project\":");
        write_str(out, self.project);
        out.extend_from_slice(b",\"owner\":");
        write_opt(out, self.owner);
        out.extend_from_slice(b",\"lastEditor\":");
        write_opt(out, self.last_editor);
        out.extend_from_slice(b",\"version\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.version).as_bytes());
        out.extend_from_slice(if self.is_deleted {
            b",\"isDeleted\":true,\"createdAt\":"
        } else {
            b",\"isDeleted\":false,\"createdAt\":"
        });
        write_str(out, self.created_at);
        out.extend_from_slice(b",\"updatedAt\":");
        write_str(out, self.updated_at);
        let body = self.doc.trim();
        let inner = body
            .strip_prefix('{')
            .and_then(|b| b.strip_suffix('}'))
            .unwrap_or("")
            .trim();
        if !inner.is_empty() {
            out.push(b',');
            out.extend_from_slice(inner.as_bytes());
        }
        out.push(b'}');
    }
}

/// One item written as JSON, as a read by id answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonItem {
    /// The item as one JSON object ([`ItemRef::write_json`]).
    pub json: Vec<u8>,
    /// Its version, for an `ETag`.
    pub version: i64,
}

impl JsonItem {
    /// `item` written as JSON.
    pub fn of(item: ItemRef<'_>) -> JsonItem {
        let mut json = Vec::with_capacity(item.json_size());
        item.write_json(&mut json);
        JsonItem {
            json,
            version: item.version,
        }
    }
}

/// A page of items written as one JSON array, as a list answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPage {
    /// The items, in order, as a JSON array.
    pub json: Vec<u8>,
    /// How many items the array holds.
    pub len: usize,
    /// The `offset` of the next page, when there may be one.
    pub next_offset: Option<u64>,
}

/// Writes the JSON array of `items`.
pub fn write_json_array(items: &[StoredItem]) -> Vec<u8> {
    let size: usize = items.iter().map(|i| i.doc.len() + 256).sum();
    let mut out = Vec::with_capacity(size + 2);
    out.push(b'[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        item.write_json(&mut out);
    }
    out.push(b']');
    out
}

/// Appends `s` as a JSON string. Ids, projects and timestamps need no
/// escaping: they are copied as they are after one quick check, which is
/// many times faster than escaping byte by byte.
fn write_str(out: &mut Vec<u8>, s: &str) {
    if needs_no_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
    }
}

/// Whether no byte of `bytes` is one JSON escapes: a control character,
/// `"` or `\`. Without an early exit, so that the compiler checks many
/// bytes per instruction.
fn needs_no_escape(bytes: &[u8]) -> bool {
    !bytes.iter().fold(false, |bad, &b| {
        bad | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

fn write_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// An item of type `T` with the framework's fields, as clients see it:
/// `{ "_id", "project", "owner", "lastEditor", "version", "isDeleted",
/// "createdAt", "updatedAt", ...the fields of T }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "{T}Item")]
pub struct Item<T> {
    /// The item's id, a hyphenated UUID.
    #[serde(rename = "_id")]
    pub id: String,
    /// The project (tenant) it belongs to.
    pub project: String,
    /// The id of the user who created it; `null` for anonymous.
    pub owner: Option<String>,
    /// The id of the user who changed it last; `null` for anonymous.
    pub last_editor: Option<String>,
    /// Starts at 1; every write that changes the item adds 1. Send it back (`If-Match` or a
    /// `version` field) to update only what you read.
    #[ts(type = "number")]
    pub version: i64,
    /// Soft-deleted (restorable).
    pub is_deleted: bool,
    /// When it was created, RFC 3339 UTC.
    pub created_at: String,
    /// When it last changed, RFC 3339 UTC.
    pub updated_at: String,
    /// The plugin's own fields.
    #[serde(flatten)]
    pub data: T,
}

/// The answer of a hard delete: `{ "_id": "…", "deleted": true }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS, schemars::JsonSchema)]
pub struct Removed {
    /// The id of the removed item.
    #[serde(rename = "_id")]
    pub id: String,
    /// Always `true`.
    pub deleted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(doc: &str) -> StoredItem {
        StoredItem {
            id: "0b3d7a4e-6a53-4a3c-9d0e-0c8b6f2b1a00".into(),
            project: "p\"1".into(),
            owner: None,
            last_editor: Some("u1".into()),
            version: 3,
            is_deleted: false,
            created_at: "2026-01-01T00:00:00.000Z".into(),
            updated_at: "2026-01-02T00:00:00.000Z".into(),
            doc: doc.into(),
        }
    }

    #[test]
    fn json_from_rows_is_valid_and_complete() {
        let json: serde_json::Value =
            serde_json::from_str(&item(r#"{"name":"x","n":1}"#).to_json()).unwrap();
        assert_eq!(json["project"], "p\"1");
        assert_eq!(json["owner"], serde_json::Value::Null);
        assert_eq!(json["version"], 3);
        assert_eq!(json["name"], "x");
        let empty: serde_json::Value = serde_json::from_str(&item("{}").to_json()).unwrap();
        assert_eq!(empty["lastEditor"], "u1");
        let list: serde_json::Value =
            serde_json::from_slice(&write_json_array(&[item("{}"), item(r#"{"a":[1]}"#)])).unwrap();
        assert_eq!(list[1]["a"][0], 1);
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "0b3d7a4e-6a53-4a3c-9d0e-0c8b6f2b1a00",
            "",
            "quote \" and backslash \\",
            "tab\tnew line\n\u{1}",
            "déjà vu \u{7f} ✓",
            "eight by\"",
            "0123456789abcdef\\x",
            "0123456\u{1f}89abcdef",
            "ÿÿÿÿÿÿÿÿ\u{80}\u{a0}",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, text);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(text).unwrap()
            );
        }
        // Every ASCII character at every place of a word and of the rest.
        for c in (0u8..0x80).map(char::from) {
            for at in 0..12 {
                let mut text: Vec<char> = "abcdefghijkl".chars().collect();
                text[at] = c;
                let text: String = text.into_iter().collect();
                let mut out = Vec::new();
                write_str(&mut out, &text);
                assert_eq!(out, serde_json::to_vec(&text).unwrap(), "{text:?}");
            }
        }
    }
}
