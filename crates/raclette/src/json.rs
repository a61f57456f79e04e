use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::HttpError;

/// A JSON body in or out.
///
/// As an extractor it answers a body that does not fit `T` with a
/// 400 [`HttpError`] that names the field at fault (`tags[1]: invalid type:
/// integer, expected a string`), instead of axum's plain-text rejection; a
/// body over the route's size limit (2 MiB unless the route sets
/// `axum::extract::DefaultBodyLimit`) with a 413. Text holding a NUL
/// character (`\u0000`) is a 400 naming the field on every database
/// (PostgreSQL cannot store it).
///
/// ```
/// use raclette::Json;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct NewTodo { name: String }
///
/// async fn create(Json(todo): Json<NewTodo>) -> Json<String> {
///     Json(todo.name)
/// }
/// # let _ = create;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(HttpError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a request body with content-type application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => HttpError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is larger than this route accepts",
                ),
                status => HttpError::new(status, format!("could not read the body: {e}")),
            })?;
        parse(&bytes).map(Json)
    }
}

/// `Option<Json<T>>`: `None` when the request has no body (no
/// content-type and no content), the parsed body otherwise; a body
/// without a JSON content type is a 415.
impl<T, S> axum::extract::OptionalFromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if req.headers().get(header::CONTENT_TYPE).is_none() {
            // No body at all: `None`. A body without a content type is not
            // taken for JSON, nor silently ignored.
            let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
                || req
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .is_some_and(|v| v.as_bytes() != b"0");
            if has_body {
                return <Self as FromRequest<S>>::from_request(req, state)
                    .await
                    .map(Some);
            }
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// Parses a JSON body, naming the field at fault on failure.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpError> {
    if let Some(field) = nul_text(bytes) {
        return Err(body_error(field, "text cannot contain the NUL character"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        // serde reports a missing field at its parent; name the field itself.
        let field = match message.strip_prefix("missing field `") {
            Some(rest) => {
                let name = rest.split('`').next().unwrap_or_default();
                if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            }
            None => path,
        };
        // `?` stands for a position the parser had not yet named (truncated input).
        let field = field.trim_end_matches(".?").to_owned();
        let field = if field == "." || field == "?" {
            String::new()
        } else {
            field
        };
        body_error(field, &message)
    })?;
    // One JSON value and nothing after it (`{…}{…}` or `{…} <script>` is not
    // a body of type `T`).
    de.end().map_err(|err| {
        HttpError::bad_request(format!("body: {err}: nothing may follow the JSON value"))
    })?;
    Ok(value)
}

/// The 400 of a body whose `field` (empty: the body as a whole) is wrong.
fn body_error(field: String, message: &str) -> HttpError {
    if field.is_empty() {
        HttpError::bad_request(format!("body: {message}"))
    } else {
        HttpError::bad_request(format!("body.{field}: {message}")).with_field(field)
    }
}

/// Where a JSON body holds text with a NUL character (`\u0000`; PostgreSQL
/// cannot store it, SQLite would, so it is refused alike for every plugin):
/// the path of the first such string or key (empty at the top), or `None`.
/// The scan for the escape is cheap; only a body that has one is parsed to
/// find the path.
fn nul_text(bytes: &[u8]) -> Option<String> {
    if !has_nul_escape(bytes) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    fn path_of(value: &serde_json::Value, path: &str) -> Option<String> {
        match value {
            serde_json::Value::String(s) => s.contains('\0').then(|| path.to_owned()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| path_of(item, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.contains('\0') {
                    Some(path)
                } else {
                    path_of(item, &path)
                }
            }),
            _ => None,
        }
    }
    path_of(&value, "")
}

/// Whether the JSON text holds the escape `\u0000` (raw control characters
/// are not valid JSON, so this is the only way a NUL gets in).
fn has_nul_escape(mut rest: &[u8]) -> bool {
    while let Some(at) = rest.iter().position(|&b| b == b'\\') {
        if rest.get(at + 1..at + 6) == Some(b"u0000") {
            return true;
        }
        // Skip the escaped character (it may itself be a backslash).
        rest = rest.get(at + 2..).unwrap_or_default();
    }
    false
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_after_the_json_value_is_refused() {
        #[derive(serde::Deserialize)]
        struct Named {
            #[allow(dead_code)]
            name: String,
        }
        assert!(super::parse::<Named>(br#"{"name":"a"}"#).is_ok());
        assert!(super::parse::<Named>(b"{\"name\":\"a\"}  \n").is_ok());
        for body in [
            &br#"{"name":"a"}{"name":"b"}"#[..],
            br#"{"name":"a"} <script>"#,
        ] {
            let err = super::parse::<Named>(body).err().expect("refused");
            assert_eq!(err.status().as_u16(), 400);
            assert!(
                err.message().contains("nothing may follow"),
                "{}",
                err.message()
            );
        }
    }

    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Todo {
        name: String,
        tags: Option<Vec<String>>,
    }

    #[test]
    fn text_with_a_nul_character_is_refused_naming_the_field() {
        let err = parse::<Todo>(br#"{"name": "a\u0000b"}"#).unwrap_err();
        assert_eq!((err.status().as_u16(), err.field()), (400, Some("name")));
        assert!(err.message().contains("NUL"), "{}", err.message());
        let err = parse::<Todo>(br#"{"name": "a", "tags": ["x", "\u0000"]}"#).unwrap_err();
        assert_eq!(err.field(), Some("tags[1]"));
        let err = parse::<serde_json::Value>(br#"{"a": {"b\u0000": 1}}"#).unwrap_err();
        assert_eq!(err.field(), Some("a.b\0"));
        // An escaped backslash before `u0000` is text, not a NUL.
        let todo = parse::<Todo>(br#"{"name": "C:\\u0000"}"#).unwrap();
        assert_eq!(todo.name, "C:\\u0000");
        assert!(parse::<Todo>(br#"{"name": "\u0001 \\ \" ok"}"#).is_ok());
    }

    #[test]
    fn missing_field_is_named() {
        let err = parse::<Todo>(br#"{"tags": []}"#).unwrap_err();
        assert_eq!(err.field(), Some("name"));
        assert!(
            err.message().contains("missing field `name`"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn wrong_type_in_array_is_named() {
        let err = parse::<Todo>(br#"{"name": "a", "tags": ["x", 3]}"#).unwrap_err();
        assert_eq!(err.field(), Some("tags[1]"));
    }

    #[test]
    fn malformed_json_has_no_field() {
        let err = parse::<Todo>(b"{").unwrap_err();
        assert_eq!(err.field(), None);
        assert!(err.message().starts_with("body:"));
    }
}
