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
use raclette_contract::{ClientConfig, PluginListing};

/// Every enabled plugin of `listing` with its folder name.
pub(crate) fn enabled_plugins(
    listing: &[PluginListing],
) -> impl Iterator<Item = (&PluginListing, &str)> {
    listing
        .iter()
        .filter(|p| p.enabled)
        .filter_map(|p| Some((p, raclette_contract::folder_of_key(&p.key)?)))
}

/// The router of the framework endpoints.
pub(crate) fn router(app_name: String, listing: Arc<Vec<PluginListing>>) -> Router {
    let count = listing.iter().filter(|p| p.enabled).count();
    let configs: Arc<HashMap<String, ClientConfig>> = Arc::new(
        enabled_plugins(&listing)
            .map(|(p, folder)| {
                let config = raclette_client::client_config(folder, &p.routes);
                (p.key.clone(), config)
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
