//! Every error answer is the framework's JSON error.
//!
//! axum's extractors reject a bad request with a plain-text answer: a path
//! parameter that is not UTF-8 (`/todo/%ff%fe`), a query string that does
//! not fit, a body over the size limit. [`into_json`] turns any error
//! answer (4xx or 5xx) whose body is plain text or empty into the body of
//! [`raclette::HttpError`], `{ statusCode, error, message }`, keeping its
//! status and headers and using its text as the message (axum's texts name
//! the parameter at fault, such as ``Invalid UTF-8 in `_id` ``).
//!
//! Why one mapping around the whole app rather than framework `Path` and
//! `Query` extractors: it holds whatever a plugin uses, namely axum's own
//! extractors (`Path`, `Query`, `Form`, `String`, `Bytes`, `axum::Json`),
//! third-party extractors, tower middleware that answers by itself (body
//! limits, timeouts) and handlers that answer `(StatusCode, "text")`.
//! Framework extractors would cover only the routes written with them, and
//! every new kind of rejection would need one more. Error answers of another
//! type (an HTML page a plugin chose to answer) are left alone.

use std::time::Duration;

use axum::{
    body::Body,
    http::{HeaderValue, Response, header},
};
use http_body_util::{BodyExt, Limited};
use raclette::HttpError;

/// Longest plain-text body read as a message; a longer one gives way to
/// the status's reason phrase.
const MAX_MESSAGE: usize = 4096;

/// Whether `response` is a plain-text or empty error answer, which
/// [`into_json`] turns into JSON.
pub(crate) fn is_plain_error(response: &Response<Body>) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value.to_str().is_ok_and(|v| {
            v.trim_start()
                .get(..10)
                .is_some_and(|t| t.eq_ignore_ascii_case("text/plain"))
        }),
    }
}

/// `response` itself, or the JSON error with its status when it is a
/// plain-text or empty error answer.
pub(crate) async fn into_json(response: Response<Body>) -> Response<Body> {
    if !is_plain_error(&response) {
        return response;
    }
    let status = response.status();
    let (mut parts, body) = response.into_parts();
    let text = if parts.headers.contains_key(header::CONTENT_ENCODING) {
        None
    } else {
        read_text(body).await
    };
    let message = text
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::TRANSFER_ENCODING,
    ] {
        parts.headers.remove(name);
    }
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = HttpError::new(status, message).body().to_string();
    Response::from_parts(parts, Body::from(body))
}

/// The body as text, when it is short, UTF-8 and arrives promptly.
async fn read_text(body: Body) -> Option<String> {
    let collect = Limited::new(body, MAX_MESSAGE).collect();
    let collected = tokio::time::timeout(Duration::from_secs(1), collect)
        .await
        .ok()?
        .ok()?;
    String::from_utf8(collected.to_bytes().to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use axum::{http::StatusCode, response::IntoResponse};

    use super::*;

    async fn body(response: Response<Body>) -> (StatusCode, String, serde_json::Value) {
        let status = response.status();
        let kind = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            kind,
            serde_json::from_slice(&bytes).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn plain_and_empty_error_answers_become_json() {
        let plain = (StatusCode::BAD_REQUEST, "Invalid UTF-8 in `_id`").into_response();
        let (status, kind, json) = body(into_json(plain).await).await;
        assert_eq!((status.as_u16(), kind.as_str()), (400, "application/json"));
        assert_eq!(json["statusCode"], 400);
        assert_eq!(json["error"], "Bad Request");
        assert_eq!(json["message"], "Invalid UTF-8 in `_id`");
        let empty = StatusCode::PAYLOAD_TOO_LARGE.into_response();
        let (_, _, json) = body(into_json(empty).await).await;
        assert_eq!(json["message"], "Payload Too Large");
    }

    #[tokio::test]
    async fn json_html_and_successful_answers_are_kept() {
        let html = (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            "<h1>gone</h1>",
        )
            .into_response();
        assert_eq!(
            into_json(html).await.headers()[header::CONTENT_TYPE],
            "text/html"
        );
        let ok = "fine".into_response();
        let kept = into_json(ok).await;
        assert_eq!(
            kept.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        let json = HttpError::conflict("taken")
            .with_field("name")
            .into_response();
        let (_, _, json) = body(into_json(json).await).await;
        assert_eq!(json["field"], "name");
    }
}
