//! Serving client files and the runtime over HTTP.

use std::{borrow::Cow, collections::HashMap, sync::Arc};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};

use crate::{ClientFiles, CompileCache, assets};

/// What the client router serves: each plugin's files and the runtime.
#[derive(Debug, Default)]
pub struct ClientServer {
    plugins: HashMap<String, (String, ClientFiles)>,
    cache: CompileCache,
}

impl ClientServer {
    /// A server for no plugins yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a plugin's client files, by plugin key; `folder` names files in
    /// messages (`plugins/<folder>/client/…`).
    pub fn plugin(&mut self, key: &str, folder: &str, files: ClientFiles) {
        self.plugins
            .insert(key.to_owned(), (folder.to_owned(), files));
    }

    /// The routes `/raclette/runtime/{file}` and `/raclette/client/{key}/{*path}`.
    pub fn router(self) -> Router {
        Router::new()
            .route("/raclette/runtime/{file}", get(runtime))
            .route("/raclette/client/{key}/{*path}", get(plugin_file))
            .with_state(Arc::new(self))
            .layer(tower_http::compression::CompressionLayer::new())
    }
}

/// The content type of a client file, by extension (without case).
fn content_type(path: &str) -> &'static str {
    let extension = path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "js" | "mjs" | "ts" | "mts" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

/// A body with its content type, answered 304 when the browser has it.
fn respond(request: &HeaderMap, content_type: &'static str, body: Cow<'static, [u8]>) -> Response {
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..20]);
    if request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let body = match body {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(bytes) => Bytes::from(bytes),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// JavaScript text as a body.
fn text(js: String) -> Cow<'static, [u8]> {
    Cow::Owned(js.into_bytes())
}

/// A module that reports a compile error in the browser console.
fn error_module(error: &dyn std::fmt::Display) -> String {
    tracing::error!(target: "raclette::client", "{error}");
    let text = serde_json::to_string(&error.to_string()).unwrap_or_default();
    format!("console.error({text});\nthrow new SyntaxError({text});\n")
}

fn not_found(path: &str) -> Response {
    let status = StatusCode::NOT_FOUND;
    let body = raclette_contract::ErrorBody::new(
        status.as_u16(),
        status.canonical_reason().unwrap_or("Not Found"),
        format!("no client file {path}"),
    );
    (status, axum::Json(body)).into_response()
}

/// Which form of a compiled module a request asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// The JavaScript.
    Code,
    /// Its source map (`<module>.js.map`).
    Map,
}

/// A compiled module or its source map, or a module that reports the
/// compile error (whose map is not found).
fn compiled(
    server: &ClientServer,
    headers: &HeaderMap,
    source: &str,
    shown: &str,
    map_url: &str,
    form: Form,
) -> Response {
    match (server.cache.compile(source, shown, map_url), form) {
        (Ok(module), Form::Code) => {
            respond(headers, content_type(".js"), text(module.code.clone()))
        }
        (Ok(module), Form::Map) => respond(headers, content_type(".map"), text(module.map.clone())),
        (Err(err), Form::Code) => respond(headers, content_type(".js"), text(error_module(&err))),
        (Err(_), Form::Map) => not_found(map_url),
    }
}

/// `a/b.js.map` is the map of `a/b.js`.
fn split_map(path: &str) -> (&str, Form) {
    match path.strip_suffix(".map") {
        Some(module) if module.ends_with(".js") => (module, Form::Map),
        _ => (path, Form::Code),
    }
}

async fn runtime(
    State(server): State<Arc<ClientServer>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (module, form) = split_map(&file);
    if let Some(stem) = module.strip_suffix(".js") {
        let name = format!("{stem}.ts");
        let Some(source) = assets::runtime_file(&name) else {
            // A vendored module (the socket.io client), served as it is.
            return match (assets::runtime_file(module), form) {
                (Some(code), Form::Code) if module.ends_with(".min.js") => {
                    respond(&headers, content_type(module), text(code.into_owned()))
                }
                _ => not_found(&file),
            };
        };
        let map_url = format!("/raclette/runtime/{stem}.js.map");
        let shown = format!("raclette/runtime/{name}");
        return compiled(&server, &headers, &source, &shown, &map_url, form);
    }
    match assets::runtime_file(&file) {
        Some(content) if file.ends_with(".css") => {
            respond(&headers, content_type(&file), text(content.into_owned()))
        }
        _ => not_found(&file),
    }
}

async fn plugin_file(
    State(server): State<Arc<ClientServer>>,
    Path((key, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some((folder, files)) = server.plugins.get(&key) else {
        return not_found(&path);
    };
    let (module, form) = split_map(&path);
    let resolved = match (files.resolve(module), form) {
        (found, Form::Code) => found,
        // The map of a TypeScript module is made when it is compiled; any
        // other `.map` (such as one embedded at build time) is a file.
        (Some(found), Form::Map) if found.0.ends_with(".ts") => Some(found),
        (_, Form::Map) => files.resolve(&path),
    };
    let Some((resolved, content)) = resolved else {
        return not_found(&path);
    };
    if let Some(stem) = resolved.strip_suffix(".ts") {
        let shown = format!("plugins/{folder}/{}/{resolved}", files.folder_name());
        let Ok(source) = std::str::from_utf8(&content) else {
            let body = error_module(&format!("{shown} is not UTF-8 text"));
            return respond(&headers, content_type(".js"), text(body));
        };
        let map_url = format!("/raclette/client/{key}/{stem}.js.map");
        return compiled(&server, &headers, source, &shown, &map_url, form);
    }
    respond(&headers, content_type(&resolved), content)
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("widgets/x/icon.png"), "image/png");
        assert_eq!(content_type("widgets/x/ICON.PNG"), "image/png");
        assert_eq!(content_type("fonts/a.woff2"), "font/woff2");
        assert_eq!(content_type("index.ts"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
