//! The security headers of every answer, in one place: the runtime adds
//! those an answer lacks; the data API's answers start from a template
//! that already has them.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// The headers every answer gets, whatever its content.
pub const FIXED: [(HeaderName, HeaderValue); 3] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    ),
];

/// The Content-Security-Policy of every answer that is not an HTML page
/// (JSON, scripts, images, errors): nothing may load and nothing may frame
/// it, as OWASP advises for API answers. A policy only acts on a document
/// (or a worker), so the page's policy on these would protect nothing; the
/// short one also keeps every JSON answer 300 bytes lighter.
pub const RESOURCE_POLICY: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

/// The headers of a JSON answer: its content type and every security
/// header, plus `Content-Length` and, `with_etag`, `ETag` with placeholder
/// values that the answer replaces.
///
/// Cloning a map that has them all costs less than inserting them into
/// each answer (replacing a value does not grow the map), and the server
/// then finds nothing to add.
fn json_template(with_etag: bool) -> HeaderMap {
    // Room for a few more (`X-Next-Offset`, a layer's `Vary`) without
    // rehashing; a clone keeps it.
    let mut headers = HeaderMap::with_capacity(12);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    for (name, value) in FIXED {
        headers.insert(name, value);
    }
    headers.insert(header::CONTENT_SECURITY_POLICY, RESOURCE_POLICY);
    if with_etag {
        headers.insert(header::ETAG, HeaderValue::from_static(""));
    }
    headers
}

/// The headers of a JSON answer (see [`json_template`]); the answer sets
/// `Content-Length`.
pub(crate) fn json_headers() -> HeaderMap {
    static TEMPLATE: OnceLock<HeaderMap> = OnceLock::new();
    TEMPLATE.get_or_init(|| json_template(false)).clone()
}

/// The headers of a JSON answer with an `ETag`; the answer sets it and
/// `Content-Length`.
pub(crate) fn json_headers_with_etag() -> HeaderMap {
    static TEMPLATE: OnceLock<HeaderMap> = OnceLock::new();
    TEMPLATE.get_or_init(|| json_template(true)).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_templates_carry_every_security_header() {
        for headers in [json_headers(), json_headers_with_etag()] {
            assert_eq!(headers[header::CONTENT_TYPE], "application/json");
            for (name, value) in FIXED {
                assert_eq!(headers[&name], value);
            }
            assert_eq!(headers[header::CONTENT_SECURITY_POLICY], RESOURCE_POLICY);
        }
        assert!(json_headers_with_etag().contains_key(header::ETAG));
        assert!(!json_headers().contains_key(header::ETAG));
    }
}
