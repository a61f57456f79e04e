use std::sync::Arc;

use axum::{
    Router,
    handler::Handler,
    http::{Method, StatusCode},
    routing::{MethodFilter, MethodRouter, on},
};

use crate::{
    DataOperation, JsonSchema, OperationKind, RouteAccess, RouteDocs, RouteInfo, RouteProblem,
    TypeSchema,
    data_operation::DataOperationLayer,
    guard::{PluginRouting, RouteGuard},
};

/// Builds one route's method router once its guard is known.
type BuildRoute<S> = Box<dyn FnOnce(RouteGuard) -> MethodRouter<S> + Send>;

/// A set of routes with their handlers, built like an axum `Router`, that
/// also remembers which method and path each route has, so that the framework
/// can list them.
///
/// Paths take parameters as `:name` (the original framework's form) or
/// `{name}` (axum's form); a trailing `*name` or `{*name}` takes the rest of
/// the path.
///
/// ```
/// use raclette::{Json, Routes, extract::{Path, State}};
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
    /// Each route's path in axum's form with its handler; they become a
    /// router only once the plugin's prefix and guard are known, so that the
    /// app routes every request with one lookup instead of nesting plugin
    /// routers, and the guard wraps the handler itself.
    entries: Vec<(String, BuildRoute<S>)>,
    infos: Vec<RouteInfo>,
    problems: Vec<RouteProblem>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// No routes yet.
    ///
    /// ```
    /// let routes: raclette::Routes = raclette::Routes::new();
    /// assert!(routes.infos().is_empty());
    /// ```
    pub fn new() -> Self {
        Routes {
            entries: Vec::new(),
            infos: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Adds a route for `method` at `path`.
    ///
    /// ```
    /// use raclette::{Routes, http::Method};
    ///
    /// async fn replace_cache() {}
    /// let routes: Routes = Routes::new().route(Method::PUT, "/cache", replace_cache);
    /// # let _ = routes;
    /// ```
    pub fn route<H, T>(self, method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(method, path, None, handler)
    }

    /// Adds a route that is a data operation, in one call with its handler,
    /// so that the framework generates the plugin's client data API
    /// (`$data.<type>.<name>(…)` in the browser) and wraps the handler:
    /// after a successful write (a 2xx answer with a JSON body) it hands the
    /// returned items to the app's [`crate::Broadcaster`] on each of the
    /// operation's channels; a failed write broadcasts nothing.
    ///
    /// ```
    /// use raclette::{DataOperation, Json, Routes, http::Method};
    /// use serde_json::{Value, json};
    ///
    /// async fn all() -> Json<Vec<Value>> { Json(vec![]) }
    /// async fn create() -> Json<Value> { Json(json!({ "_id": "1" })) }
    ///
    /// let routes: Routes = Routes::new()
    ///     .data(Method::GET, "/todo/all", DataOperation::read("todo", "getAll"), all)
    ///     .data(
    ///         Method::POST,
    ///         "/todo",
    ///         DataOperation::create("todo", "create").broadcast("todoCreated"),
    ///         create,
    ///     );
    /// assert_eq!(routes.infos()[1].operation.as_ref().unwrap().name, "create");
    /// ```
    pub fn data<H, T>(
        self,
        method: Method,
        path: &str,
        operation: DataOperation,
        handler: H,
    ) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.add(method, path, Some(operation), handler)
    }

    fn add<H, T>(
        mut self,
        method: Method,
        path: &str,
        operation: Option<DataOperation>,
        handler: H,
    ) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let (display, axum_path) = match normalize_path(path) {
            Ok(paths) => paths,
            Err(reason) => {
                self.problems.push(RouteProblem::BadPath {
                    path: path.to_owned(),
                    reason,
                });
                return self;
            }
        };
        if self
            .infos
            .iter()
            .any(|i| i.method == method.as_str() && i.path == display)
        {
            self.problems.push(RouteProblem::Duplicate {
                method: method.as_str().to_owned(),
                path: display,
            });
            return self;
        }
        if let Some(op) = &operation {
            let taken = self
                .infos
                .iter()
                .filter_map(|i| i.operation.as_ref())
                .any(|o| o.data_type == op.data_type && o.name == op.name);
            if taken {
                self.problems.push(RouteProblem::OperationTwice {
                    data_type: op.data_type.clone(),
                    name: op.name.clone(),
                });
                return self;
            }
        }
        let Ok(filter) = MethodFilter::try_from(method.clone()) else {
            self.problems.push(RouteProblem::UnsupportedMethod {
                method: method.as_str().to_owned(),
                path: display,
            });
            return self;
        };
        let broadcast = operation
            .as_ref()
            .filter(|op| op.kind != OperationKind::Read && !op.events.is_empty())
            .map(|op| DataOperationLayer::new(op.clone()));
        let build: BuildRoute<S> = Box::new(move |guard| match broadcast {
            Some(broadcast) => on(filter, guard.guard(handler.layer(broadcast))),
            None => on(filter, guard.guard(handler)),
        });
        self.entries.push((axum_path, build));
        self.infos.push(RouteInfo {
            method: method.as_str().to_owned(),
            path: display,
            operation,
            access: RouteAccess::default(),
            docs: RouteDocs::default(),
        });
        self
    }

    /// Opens the route added last to everyone, signed in or not (routes
    /// need a signed-in user unless declared otherwise).
    ///
    /// ```
    /// use raclette::{RouteAccess, Routes};
    ///
    /// async fn health() -> &'static str { "ok" }
    /// let routes: Routes = Routes::new().get("/health", health).public();
    /// assert_eq!(routes.infos()[0].access, RouteAccess::Public);
    /// ```
    pub fn public(self) -> Self {
        self.with_access(RouteAccess::Public)
    }

    /// Requires `permission` for the route added last: a signed-in user
    /// without it in the request's project gets 403, an anonymous request
    /// 401. Permissions are declared in plugin metadata (`[permissions]`)
    /// and written `<plugin folder>.<name>`, such as `pacifico__todo.write`.
    ///
    /// ```
    /// use raclette::{RouteAccess, Routes};
    ///
    /// async fn add() {}
    /// let routes: Routes = Routes::new().post("/todo", add).require("pacifico__todo.write");
    /// assert_eq!(routes.infos()[0].access, RouteAccess::Permission("pacifico__todo.write".into()));
    /// ```
    pub fn require(self, permission: &str) -> Self {
        self.with_access(RouteAccess::Permission(permission.to_owned()))
    }

    /// Requires `permission` for every route added so far whose access was
    /// not declared otherwise; see [`Routes::require`].
    ///
    /// ```
    /// use raclette::{RouteAccess, Routes};
    ///
    /// async fn a() {}
    /// let routes: Routes = Routes::new().get("/a", a).get("/b", a).public().require_all("acme__x.read");
    /// assert_eq!(routes.infos()[0].access, RouteAccess::Permission("acme__x.read".into()));
    /// assert_eq!(routes.infos()[1].access, RouteAccess::Public);
    /// ```
    pub fn require_all(self, permission: &str) -> Self {
        self.require_where(permission, |_| true)
    }

    /// Requires `permission` for every route added so far that only reads
    /// (`GET`, `HEAD`, `OPTIONS`) and has no access of its own; see
    /// [`Routes::require`].
    ///
    /// ```
    /// use raclette::{RouteAccess, Routes};
    ///
    /// async fn a() {}
    /// let routes: Routes = Routes::new().get("/a", a).post("/a", a)
    ///     .require_reads("acme__x.read")
    ///     .require_writes("acme__x.write");
    /// assert_eq!(routes.infos()[0].access, RouteAccess::Permission("acme__x.read".into()));
    /// assert_eq!(routes.infos()[1].access, RouteAccess::Permission("acme__x.write".into()));
    /// ```
    pub fn require_reads(self, permission: &str) -> Self {
        self.require_where(permission, RouteInfo::only_reads)
    }

    /// Requires `permission` for every route added so far that may write
    /// (any method but `GET`, `HEAD` and `OPTIONS`) and has no access of its
    /// own; see [`Routes::require_reads`].
    pub fn require_writes(self, permission: &str) -> Self {
        self.require_where(permission, |info| !info.only_reads())
    }

    /// Requires `permission` for the routes `applies` picks among those
    /// with the default access.
    fn require_where(mut self, permission: &str, applies: impl Fn(&RouteInfo) -> bool) -> Self {
        for info in &mut self.infos {
            if info.access == RouteAccess::SignedIn && applies(info) {
                info.access = RouteAccess::Permission(permission.to_owned());
            }
        }
        self
    }

    fn with_access(mut self, access: RouteAccess) -> Self {
        match self.infos.last_mut() {
            Some(info) => info.access = access,
            None => self.problems.push(RouteProblem::AccessWithoutRoute),
        }
        self
    }

    /// Describes the route added last in one line, for the OpenAPI
    /// document (`GET /raclette/openapi.json`).
    ///
    /// ```
    /// async fn health() -> &'static str { "ok" }
    /// let routes: raclette::Routes = raclette::Routes::new().get("/health", health).summary("Says the plugin is up");
    /// assert_eq!(routes.infos()[0].docs.summary.as_deref(), Some("Says the plugin is up"));
    /// ```
    pub fn summary(self, text: &str) -> Self {
        self.with_docs("summary", |docs| docs.summary = Some(text.to_owned()))
    }

    /// Names the Rust type of the JSON body the route added last takes, so
    /// that the OpenAPI document describes it. The type derives
    /// [`JsonSchema`] (with `#[schemars(crate = "raclette::schemars")]`).
    ///
    /// ```
    /// use raclette::{Json, JsonSchema, Routes};
    ///
    /// /// What `POST /note` takes.
    /// #[derive(serde::Deserialize, JsonSchema)]
    /// #[schemars(crate = "raclette::schemars")]
    /// struct NewNote { text: String }
    ///
    /// async fn add(Json(note): Json<NewNote>) -> Json<String> { Json(note.text) }
    /// let routes: Routes = Routes::new().post("/note", add).accepts::<NewNote>().answers::<String>();
    /// assert_eq!(routes.infos()[0].docs.body.unwrap().type_name(), std::any::type_name::<NewNote>());
    /// ```
    pub fn accepts<B: JsonSchema + ?Sized>(self) -> Self {
        self.with_docs("accepts", |docs| docs.body = Some(TypeSchema::of::<B>()))
    }

    /// Names the Rust type of the JSON answer of the route added last (on
    /// success), for the OpenAPI document; see [`Routes::accepts`]. A data
    /// operation whose items are named ([`DataOperation::items`]) is
    /// described from them without it.
    pub fn answers<R: JsonSchema + ?Sized>(self) -> Self {
        self.with_docs("answers", |docs| docs.answer = Some(TypeSchema::of::<R>()))
    }

    /// Declares the status of the success answer of the route added last,
    /// for the OpenAPI document (otherwise 201 for a create operation, 200
    /// for a route with a declared answer, any 2xx else).
    ///
    /// ```
    /// use raclette::{Routes, http::StatusCode};
    ///
    /// async fn forget() -> StatusCode { StatusCode::NO_CONTENT }
    /// let routes: Routes = Routes::new().delete("/cache", forget).status(StatusCode::NO_CONTENT);
    /// assert_eq!(routes.infos()[0].docs.status, Some(204));
    /// ```
    pub fn status(self, status: StatusCode) -> Self {
        self.with_docs("status", |docs| docs.status = Some(status.as_u16()))
    }

    /// Declares an error answer of the route added last, for the OpenAPI
    /// document, beside those the framework knows of (401 and 403 from its
    /// access, 400 and 404 from its parameters and body, 409 for updates,
    /// 413, 500).
    ///
    /// ```
    /// use raclette::{Routes, http::StatusCode};
    ///
    /// async fn sign_in() {}
    /// let routes: Routes = Routes::new()
    ///     .post("/session", sign_in)
    ///     .public()
    ///     .fails(StatusCode::TOO_MANY_REQUESTS, "Too many attempts; see Retry-After");
    /// assert_eq!(routes.infos()[0].docs.errors[0].0, 429);
    /// ```
    pub fn fails(self, status: StatusCode, when: &str) -> Self {
        self.with_docs("fails", |docs| {
            docs.errors.push((status.as_u16(), when.to_owned()))
        })
    }

    /// Names a Rust type whose fields are the query parameters of the
    /// route added last, for the OpenAPI document; see [`Routes::accepts`].
    ///
    /// ```
    /// use raclette::{JsonSchema, Routes, extract::Query};
    ///
    /// /// Paging.
    /// #[derive(serde::Deserialize, JsonSchema)]
    /// #[schemars(crate = "raclette::schemars")]
    /// struct Page { limit: Option<u32> }
    ///
    /// async fn list(Query(_): Query<Page>) {}
    /// let routes: Routes = Routes::new().get("/notes", list).query::<Page>();
    /// assert!(routes.infos()[0].docs.query.is_some());
    /// ```
    pub fn query<Q: JsonSchema + ?Sized>(self) -> Self {
        self.with_docs("query", |docs| docs.query = Some(TypeSchema::of::<Q>()))
    }

    /// Changes the docs of the route added last.
    pub(crate) fn with_docs(
        mut self,
        call: &'static str,
        change: impl FnOnce(&mut RouteDocs),
    ) -> Self {
        match self.infos.last_mut() {
            Some(info) => change(&mut info.docs),
            None => self.problems.push(RouteProblem::DocsWithoutRoute { call }),
        }
        self
    }

    /// Adds a `GET` route.
    ///
    /// ```
    /// async fn list() -> &'static str { "[]" }
    /// let routes: raclette::Routes = raclette::Routes::new().get("/items", list);
    /// # let _ = routes;
    /// ```
    pub fn get<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::GET, path, handler)
    }

    /// Adds a `POST` route.
    ///
    /// ```
    /// async fn create() {}
    /// let routes: raclette::Routes = raclette::Routes::new().post("/items", create);
    /// # let _ = routes;
    /// ```
    pub fn post<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::POST, path, handler)
    }

    /// Adds a `PUT` route.
    ///
    /// ```
    /// async fn replace() {}
    /// let routes: raclette::Routes = raclette::Routes::new().put("/items/:id", replace);
    /// # let _ = routes;
    /// ```
    pub fn put<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::PUT, path, handler)
    }

    /// Adds a `PATCH` route.
    ///
    /// ```
    /// async fn change() {}
    /// let routes: raclette::Routes = raclette::Routes::new().patch("/items/:id", change);
    /// # let _ = routes;
    /// ```
    pub fn patch<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::PATCH, path, handler)
    }

    /// Adds a `DELETE` route.
    ///
    /// ```
    /// async fn remove() {}
    /// let routes: raclette::Routes = raclette::Routes::new().delete("/items/:id", remove);
    /// # let _ = routes;
    /// ```
    pub fn delete<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::DELETE, path, handler)
    }

    /// Adds a `HEAD` route.
    ///
    /// ```
    /// async fn exists() {}
    /// let routes: raclette::Routes = raclette::Routes::new().head("/items/:id", exists);
    /// # let _ = routes;
    /// ```
    pub fn head<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::HEAD, path, handler)
    }

    /// Adds an `OPTIONS` route.
    ///
    /// ```
    /// async fn allowed() {}
    /// let routes: raclette::Routes = raclette::Routes::new().options("/items", allowed);
    /// # let _ = routes;
    /// ```
    pub fn options<H: Handler<T, S>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.route(Method::OPTIONS, path, handler)
    }

    /// Gives the handlers their state, like `axum::Router::with_state`.
    ///
    /// ```
    /// use raclette::{Routes, extract::State};
    ///
    /// async fn name(State(name): State<String>) -> String { name }
    /// let routes: Routes = Routes::new().get("/name", name).with_state("todo".to_owned());
    /// # let _ = routes;
    /// ```
    pub fn with_state<S2: Send + Sync + 'static>(self, state: S) -> Routes<S2> {
        Routes {
            entries: self
                .entries
                .into_iter()
                .map(|(path, build)| {
                    let state = state.clone();
                    let build: BuildRoute<S2> =
                        Box::new(move |guard| build(guard).with_state(state));
                    (path, build)
                })
                .collect(),
            infos: self.infos,
            problems: self.problems,
        }
    }

    /// The routes added so far.
    ///
    /// ```
    /// async fn a() {}
    /// let routes: raclette::Routes = raclette::Routes::new().get("/a/:id", a);
    /// assert_eq!((routes.infos()[0].method.as_str(), routes.infos()[0].path.as_str()), ("GET", "/a/:id"));
    /// ```
    pub fn infos(&self) -> &[RouteInfo] {
        &self.infos
    }
}

impl Routes<()> {
    /// Splits into the axum router with every path under `prefix` (such as
    /// `/plugin/acme/notes`; `/` becomes the prefix itself), the route list
    /// and the problems found while adding routes (a bad path, a route added
    /// twice).
    pub(crate) fn into_parts(
        self,
        prefix: &str,
        plugin: &Arc<PluginRouting>,
    ) -> (Router, Vec<RouteInfo>, Vec<RouteProblem>) {
        let mut router = Router::new();
        for ((path, build), info) in self.entries.into_iter().zip(&self.infos) {
            let method = build(RouteGuard::new(plugin.clone(), info.access.clone()));
            router = router.route(&raclette_contract::full_path(prefix, &path), method);
        }
        (router, self.infos, self.problems)
    }

    pub(crate) fn take_problems(&mut self) -> Vec<RouteProblem> {
        std::mem::take(&mut self.problems)
    }

    /// Adds all routes of `other`.
    ///
    /// ```
    /// async fn a() {}
    /// async fn b() {}
    /// let routes: raclette::Routes = raclette::Routes::new()
    ///     .get("/a", a)
    ///     .merge(raclette::Routes::new().get("/b", b));
    /// assert_eq!(routes.infos().len(), 2);
    /// ```
    pub fn merge(mut self, other: Routes<()>) -> Self {
        for info in &other.infos {
            if self
                .infos
                .iter()
                .any(|i| i.method == info.method && i.path == info.path)
            {
                self.problems.push(RouteProblem::Duplicate {
                    method: info.method.clone(),
                    path: info.path.clone(),
                });
                return self;
            }
        }
        self.entries.extend(other.entries);
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
    fn access_before_any_route_is_a_problem() {
        let routes: Routes = Routes::new().public();
        let (_, _, problems) = routes.into_parts("", &PluginRouting::detached());
        assert_eq!(problems, vec![RouteProblem::AccessWithoutRoute]);
    }

    #[test]
    fn docs_before_any_route_are_a_problem() {
        let routes: Routes = Routes::new().summary("nothing").accepts::<String>();
        let (_, _, problems) = routes.into_parts("", &PluginRouting::detached());
        assert_eq!(
            problems,
            vec![
                RouteProblem::DocsWithoutRoute { call: "summary" },
                RouteProblem::DocsWithoutRoute { call: "accepts" }
            ]
        );
    }

    #[test]
    fn duplicates_are_reported_not_panicked() {
        async fn h() {}
        let routes: Routes = Routes::new().get("/a", h).get("/a", h).post("/a", h);
        let (_, infos, problems) = routes.into_parts("", &PluginRouting::detached());
        assert_eq!(infos.len(), 2);
        assert_eq!(
            problems,
            vec![RouteProblem::Duplicate {
                method: "GET".to_owned(),
                path: "/a".to_owned()
            }]
        );
    }
}
