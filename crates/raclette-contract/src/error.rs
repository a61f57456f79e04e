//! The JSON body of every error answer.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The JSON body of an error answer, the shape the original framework's
/// clients know: `{ "statusCode": 400, "error": "Bad Request", "message":
/// "…", "field": "name" }` (`field` only when one field is at fault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status code.
    pub status_code: u16,
    /// The status code's reason phrase, such as `Bad Request`.
    pub error: String,
    /// What went wrong.
    pub message: String,
    /// The request field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
    /// On a 409 of a data operation: the item as it is now, so that the
    /// client can show it or retry on top of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "unknown")]
    pub current: Option<serde_json::Value>,
}

impl ErrorBody {
    /// A body for status `status_code` with reason phrase `error`.
    ///
    /// ```
    /// let body = raclette_contract::ErrorBody::new(404, "Not Found", "no todo 7").with_field("_id");
    /// assert_eq!(
    ///     serde_json::to_value(&body).unwrap(),
    ///     serde_json::json!({ "statusCode": 404, "error": "Not Found", "message": "no todo 7", "field": "_id" })
    /// );
    /// ```
    pub fn new(status_code: u16, error: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            status_code,
            error: error.into(),
            message: message.into(),
            field: None,
            current: None,
        }
    }

    /// Names the request field at fault.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// Shows the body as its JSON text, as sent.
///
/// ```
/// let body = raclette_contract::ErrorBody::new(400, "Bad Request", "no name");
/// assert_eq!(body.to_string(), r#"{"statusCode":400,"error":"Bad Request","message":"no name"}"#);
/// ```
impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&json)
    }
}
