//! Framework endpoints under `/raclette/…`, and the JSON answers for unknown
//! routes and methods.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    extract::{OriginalUri, Path},
    http::{HeaderMap, Method, StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use raclette::HttpError;
use serde::Serialize;

/// One plugin as `GET /raclette/plugins` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginListing {
    /// `plugin_<folder>`.
    pub key: String,
    /// Name part of the folder.
    pub name: String,
    /// Author part of the folder, if any.
    pub author: Option<String>,
    /// Version from the metadata.
    pub version: String,
    /// Description from the metadata.
    pub description: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Whether it ships with the framework.
    pub builtin: bool,
    /// Its dependencies: folder name to version requirement.
    pub dependencies: std::collections::BTreeMap<String, String>,
    /// Where its routes are mounted.
    pub route_prefix: String,
    /// Its routes with their full paths (empty when disabled).
    pub routes: Vec<raclette::RouteInfo>,
    /// Its client half, when it has one and is enabled.
    pub client: Option<ClientListing>,
}

/// The client half of a plugin in `GET /raclette/plugins`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientListing {
    /// URL of the compiled `client/index.ts`, if the plugin has one.
    pub entry: Option<String>,
    /// URL of the plugin's generated data API.
    pub config_url: String,
    /// The widget catalogue.
    pub widgets: Vec<raclette_client::Widget>,
}

/// The router of the framework endpoints.
pub(crate) fn router(app_name: String, listing: Arc<Vec<PluginListing>>) -> Router {
    let count = listing.iter().filter(|p| p.enabled).count();
    let configs: Arc<HashMap<String, serde_json::Value>> = Arc::new(
        listing
            .iter()
            .filter(|p| p.enabled)
            .map(|p| {
                let folder = p.key.trim_start_matches("plugin_");
                (
                    p.key.clone(),
                    raclette_client::client_config(folder, &p.routes),
                )
            })
            .collect(),
    );
    Router::new()
        .route(
            "/raclette/plugins/{key}/client-config",
            get(move |Path(key): Path<String>| async move {
                match configs.get(&key) {
                    Some(config) => Json(config.clone()).into_response(),
                    None => HttpError::not_found(format!("no enabled plugin with key `{key}`"))
                        .into_response(),
                }
            }),
        )
        .route(
            "/raclette/health",
            get(move || {
                let app_name = app_name.clone();
                async move {
                    Json(serde_json::json!({ "status": "ok", "app": app_name, "plugins": count }))
                }
            }),
        )
        .route(
            "/raclette/plugins",
            get(move || async move { Json(listing.as_ref().clone()) }),
        )
}

/// The answer to a path no route matches: the shell page for a browser
/// navigating outside `/plugin/…` and `/raclette/…` (so deep links and
/// reloads work), a JSON 404 otherwise.
pub(crate) fn fallback(
    shell: Arc<str>,
) -> impl Fn(Method, OriginalUri, HeaderMap) -> std::future::Ready<axum::response::Response> + Clone
{
    move |method: Method, OriginalUri(uri): OriginalUri, headers: HeaderMap| {
        let path = uri.path();
        let wants_html = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        let response = if method == Method::GET
            && wants_html
            && !path.starts_with("/plugin/")
            && !path.starts_with("/raclette/")
        {
            (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                shell.to_string(),
            )
                .into_response()
        } else {
            HttpError::not_found(format!("Route {method}:{path} not found")).into_response()
        };
        std::future::ready(response)
    }
}

/// The answer to a known path with a method it does not have.
pub(crate) async fn method_not_allowed(
    method: Method,
    OriginalUri(uri): OriginalUri,
) -> impl IntoResponse {
    HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Route {method}:{} has no {method} handler", uri.path()),
    )
}
