use axum::{
    Router,
    handler::Handler,
    http::Method,
    routing::{MethodFilter, on},
};

use crate::{DataOperation, RouteInfo};

/// A set of routes with their handlers, built like an axum `Router`, that
/// also remembers which method and path each route has, so that the framework
/// can list them.
///
/// Paths take parameters as `:name` (the original framework's form) or
/// `{name}` (axum's form); a trailing `*name` or `{*name}` takes the rest of
/// the path.
///
/// ```
/// use axum::extract::{Path, State};
/// use raclette::{Json, Routes};
///
/// #[derive(Clone)]
/// struct Store;
///
/// async fn get_one(State(_): State<Store>, Path(id): Path<String>) -> Json<String> {
///     Json(id)
/// }
///
/// let routes: Routes = Routes::new()
///     .get("/todo/:_id", get_one)
///     .with_state(Store);
/// assert_eq!(routes.infos()[0].path, "/todo/:_id");
/// ```
#[must_use]
pub struct Routes<S = ()> {
    router: Router<S>,
    infos: Vec<RouteInfo>,
    problems: Vec<String>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// No routes yet.
    pub fn new() -> Self {
        Routes {
            router: Router::new(),
            infos: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Adds a route for `method` at `path`.
    pub fn route<H, T>(mut self, method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let (display, axum_path) = match normalize_path(path) {
            Ok(paths) => paths,
            Err(problem) => {
                self.problems.push(problem);
                return self;
            }
        };
        let info = RouteInfo {
            method: method.as_str().to_owned(),
            path: display,
            operation: None,
        };
        if self
            .infos
            .iter()
            .any(|i| i.method == info.method && i.path == info.path)
        {
            self.problems
                .push(format!("{} {} is registered twice", info.method, info.path));
            return self;
        }
        let filter = match MethodFilter::try_from(method.clone()) {
            Ok(filter) => filter,
            Err(_) => {
                self.problems
                    .push(format!("method {method} of {path} is not supported"));
                return self;
            }
        };
        self.router = self.router.route(&axum_path, on(filter, handler));
        self.infos.push(info);
        self
    }

    /// Adds a `GET` route.
    pub fn get<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::GET, path, handler)
    }

    /// Adds a `POST` route.
    pub fn post<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::POST, path, handler)
    }

    /// Adds a `PUT` route.
    pub fn put<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::PUT, path, handler)
    }

    /// Adds a `PATCH` route.
    pub fn patch<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::PATCH, path, handler)
    }

    /// Adds a `DELETE` route.
    pub fn delete<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::DELETE, path, handler)
    }

    /// Adds a `HEAD` route.
    pub fn head<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::HEAD, path, handler)
    }

    /// Adds an `OPTIONS` route.
    pub fn options<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::OPTIONS, path, handler)
    }

    /// Declares the route added last as a data operation.
    pub fn operation(mut self, operation: DataOperation) -> Self {
        let taken = self
            .infos
            .iter()
            .filter_map(|i| i.operation.as_ref())
            .any(|o| o.data_type == operation.data_type && o.name == operation.name);
        match self.infos.last_mut() {
            _ if taken => self.problems.push(format!(
                "data operation {}.{} is declared twice",
                operation.data_type, operation.name
            )),
            None => self.problems.push(format!(
                "data operation {}.{} is declared before any route",
                operation.data_type, operation.name
            )),
            Some(info) => info.operation = Some(operation),
        }
        self
    }

    /// Gives the handlers their state, like `axum::Router::with_state`.
    pub fn with_state<S2>(self, state: S) -> Routes<S2> {
        Routes {
            router: self.router.with_state(state),
            infos: self.infos,
            problems: self.problems,
        }
    }

    /// The routes added so far.
    pub fn infos(&self) -> &[RouteInfo] {
        &self.infos
    }
}

impl Routes<()> {
    /// Splits into the axum router, the route list and the problems found
    /// while adding routes (a bad path, a route added twice).
    pub fn into_parts(self) -> (Router, Vec<RouteInfo>, Vec<String>) {
        (self.router, self.infos, self.problems)
    }

    pub(crate) fn take_problems(&mut self) -> Vec<String> {
        std::mem::take(&mut self.problems)
    }

    /// Adds all routes of `other`.
    pub fn merge(mut self, other: Routes<()>) -> Self {
        for info in &other.infos {
            if self
                .infos
                .iter()
                .any(|i| i.method == info.method && i.path == info.path)
            {
                self.problems
                    .push(format!("{} {} is registered twice", info.method, info.path));
                return self;
            }
        }
        self.router = self.router.merge(other.router);
        self.infos.extend(other.infos);
        self.problems.extend(other.problems);
        self
    }
}

/// Turns a route path into its display form (`:id`) and axum's form (`{id}`).
fn normalize_path(path: &str) -> Result<(String, String), String> {
    if !path.starts_with('/') {
        return Err(format!("path `{path}` must start with `/`"));
    }
    let mut display = Vec::new();
    let mut axum_form = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let param = segment
            .strip_prefix(':')
            .map(|p| (p, false))
            .or_else(|| segment.strip_prefix('*').map(|p| (p, true)))
            .or_else(|| {
                segment
                    .strip_prefix("{*")
                    .and_then(|s| s.strip_suffix('}'))
                    .map(|p| (p, true))
            })
            .or_else(|| {
                segment
                    .strip_prefix('{')
                    .and_then(|s| s.strip_suffix('}'))
                    .map(|p| (p, false))
            });
        match param {
            Some((name, wildcard)) => {
                let valid =
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(format!(
                        "path `{path}`: parameter `{segment}` needs a name of letters, digits and `_`"
                    ));
                }
                if wildcard && !last {
                    return Err(format!(
                        "path `{path}`: wildcard `{segment}` must be the last segment"
                    ));
                }
                if wildcard {
                    display.push(format!("*{name}"));
                    axum_form.push(format!("{{*{name}}}"));
                } else {
                    display.push(format!(":{name}"));
                    axum_form.push(format!("{{{name}}}"));
                }
            }
            None => {
                if segment.contains(['{', '}', ':', '*']) {
                    return Err(format!(
                        "path `{path}`: segment `{segment}` mixes text and parameter syntax"
                    ));
                }
                display.push((*segment).to_owned());
                axum_form.push((*segment).to_owned());
            }
        }
    }
    Ok((
        format!("/{}", display.join("/")),
        format!("/{}", axum_form.join("/")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parameter_forms_are_accepted() {
        assert_eq!(
            normalize_path("/todo/:_id/hard").unwrap(),
            ("/todo/:_id/hard".to_owned(), "/todo/{_id}/hard".to_owned())
        );
        assert_eq!(
            normalize_path("/todo/{_id}").unwrap(),
            ("/todo/:_id".to_owned(), "/todo/{_id}".to_owned())
        );
        assert_eq!(
            normalize_path("/files/*rest").unwrap(),
            ("/files/*rest".to_owned(), "/files/{*rest}".to_owned())
        );
    }

    #[test]
    fn bad_paths_are_explained() {
        assert!(
            normalize_path("todo")
                .unwrap_err()
                .contains("must start with `/`")
        );
        assert!(
            normalize_path("/a/*x/b")
                .unwrap_err()
                .contains("must be the last segment")
        );
        assert!(normalize_path("/a/:").unwrap_err().contains("needs a name"));
    }

    #[test]
    fn duplicates_are_reported_not_panicked() {
        async fn h() {}
        let routes: Routes = Routes::new().get("/a", h).get("/a", h).post("/a", h);
        let (_, infos, problems) = routes.into_parts();
        assert_eq!(infos.len(), 2);
        assert_eq!(problems, vec!["GET /a is registered twice".to_owned()]);
    }
}
