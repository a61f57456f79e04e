//! Serving client files and the runtime over HTTP.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
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

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "js" | "mjs" | "ts" | "mts" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A body with its content type, answered 304 when the browser has it.
fn respond(request: &HeaderMap, content_type: &'static str, body: String) -> Response {
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..20]
    );
    if request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// A module that reports a compile error in the browser console.
fn error_module(error: &crate::CompileError) -> String {
    tracing::error!(target: "raclette::client", "{error}");
    let text = serde_json::to_string(&error.to_string()).unwrap_or_default();
    format!("console.error({text});\nthrow new SyntaxError({text});\n")
}

fn not_found(path: &str) -> Response {
    raclette::HttpError::not_found(format!("no client file {path}")).into_response()
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
        (Ok(module), Form::Code) => respond(headers, content_type("js"), module.code.clone()),
        (Ok(module), Form::Map) => respond(headers, content_type("map"), module.map.clone()),
        (Err(err), Form::Code) => respond(headers, content_type("js"), error_module(&err)),
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
            return not_found(&file);
        };
        let map_url = format!("/raclette/runtime/{stem}.js.map");
        let shown = format!("raclette/runtime/{name}");
        return compiled(&server, &headers, &source, &shown, &map_url, form);
    }
    match assets::runtime_file(&file) {
        Some(content) if file.ends_with(".css") => {
            respond(&headers, content_type(&file), content.into_owned())
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
        let map_url = format!("/raclette/client/{key}/{stem}.js.map");
        return compiled(&server, &headers, &content, &shown, &map_url, form);
    }
    respond(&headers, content_type(&resolved), content.into_owned())
}
