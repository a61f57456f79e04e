//! The runtime with fixture plugins: a real server on a free port, real
//! HTTP requests.

use std::sync::{Arc, Mutex};

use axum::{
    extract::{Path, Request},
    http::{HeaderMap, Method},
    middleware::{Next, from_fn},
    response::Response,
};
use raclette::{Json, Registrar, Routes};
use raclette_runtime::{MigrationError, MountFailure, StartError};
use raclette_tests::{TempApp, call, listed_plugin, start, start_error};
use serde_json::{Value, json};

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[tokio::test]
async fn routes_live_under_the_prefix_with_every_method_and_parameters() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    app.plugin("blog", "0.1.0", &[], "");
    async fn echo(method: Method, Path((kind, id)): Path<(String, String)>) -> Json<Value> {
        Json(json!({ "method": method.as_str(), "kind": kind, "id": id }))
    }
    async fn create(Json(body): Json<Value>) -> Json<Value> {
        Json(json!({ "received": body }))
    }
    async fn post() -> &'static str {
        "a blog post"
    }
    let server = start(
        app.app()
            .plugin("acme__shop", |app: &mut Registrar| {
                app.routes(
                    Routes::new()
                        .get("/items/:kind/:id", echo)
                        .put("/items/:kind/:id", echo)
                        .patch("/items/{kind}/{id}", echo)
                        .delete("/items/:kind/:id", echo)
                        .options("/items/:kind/:id", echo)
                        .post("/items", create),
                )?;
                Ok(())
            })
            .plugin("blog", |app: &mut Registrar| {
                app.routes(Routes::new().get("/post", post))?;
                Ok(())
            }),
    )
    .await;

    for method in ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let reply = call(&server, method, "/plugin/acme/shop/items/cheese/42", None).await;
        assert_eq!(reply.status, 200, "{method}: {}", reply.text);
        assert_eq!(
            reply.json,
            json!({ "method": method, "kind": "cheese", "id": "42" })
        );
    }
    let head = call(&server, "HEAD", "/plugin/acme/shop/items/cheese/42", None).await;
    assert_eq!(head.status, 200, "HEAD is answered by the GET route");
    let created = call(
        &server,
        "POST",
        "/plugin/acme/shop/items",
        Some(json!({ "name": "Gruyère", "tags": ["hard"] })),
    )
    .await;
    assert_eq!(
        created.json,
        json!({ "received": { "name": "Gruyère", "tags": ["hard"] } })
    );
    let blog = call(&server, "GET", "/plugin/blog/post", None).await;
    assert_eq!((blog.status, blog.text.as_str()), (200, "a blog post"));
    let unprefixed = call(&server, "GET", "/post", None).await;
    assert_eq!(unprefixed.status, 404, "routes only exist under the prefix");

    let shop = listed_plugin(&server, "plugin_acme__shop").await;
    assert_eq!(shop["routePrefix"], "/plugin/acme/shop");
    assert_eq!(shop["name"], "shop");
    assert_eq!(shop["author"], "acme");
    assert_eq!(shop["version"], "1.0.0");
    assert_eq!(shop["enabled"], true);
    assert_eq!(shop["builtin"], false);
    assert!(
        shop["dependencies"].is_object(),
        "dependencies are a map of folder to version requirement: {}",
        shop["dependencies"]
    );
    let routes: Vec<(String, String)> = shop["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_owned(),
                r["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        routes.contains(&("PATCH".into(), "/plugin/acme/shop/items/:kind/:id".into())),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("POST".into(), "/plugin/acme/shop/items".into())),
        "{routes:?}"
    );
    let health = call(&server, "GET", "/raclette/health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json["status"], "ok");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_bodies_unknown_routes_and_methods_answer_json() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        price: u32,
    }
    async fn create(Json(item): Json<Item>) -> String {
        item.name
    }
    let server = start(app.app().plugin("acme__shop", |app: &mut Registrar| {
        app.routes(Routes::new().post("/items", create))?;
        Ok(())
    }))
    .await;
    let wrong = call(
        &server,
        "POST",
        "/plugin/acme/shop/items",
        Some(json!({ "name": "x", "price": "cheap" })),
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json["field"], "price");
    assert_eq!(wrong.json["error"], "Bad Request");
    assert!(
        wrong.json["message"]
            .as_str()
            .unwrap()
            .starts_with("body.price: invalid type"),
        "{}",
        wrong.text
    );
    let missing = call(
        &server,
        "POST",
        "/plugin/acme/shop/items",
        Some(json!({ "price": 1 })),
    )
    .await;
    assert_eq!(missing.json["field"], "name");

    let unknown = call(&server, "GET", "/plugin/acme/shop/nothing", None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json,
        json!({ "statusCode": 404, "error": "Not Found", "message": "Route GET:/plugin/acme/shop/nothing not found" })
    );
    let method = call(&server, "DELETE", "/plugin/acme/shop/items", None).await;
    assert_eq!(method.status, 405);
    assert_eq!(method.json["statusCode"], 405);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    async fn boom() -> &'static str {
        panic!("the cheese melted")
    }
    async fn fine() -> &'static str {
        "fine"
    }
    let server = start(app.app().plugin("acme__shop", |app: &mut Registrar| {
        app.routes(Routes::new().get("/boom", boom).get("/fine", fine))?;
        Ok(())
    }))
    .await;
    for _ in 0..3 {
        let reply = call(&server, "GET", "/plugin/acme/shop/boom", None).await;
        assert_eq!(reply.status, 500);
        assert_eq!(reply.json["statusCode"], 500);
        assert_eq!(reply.json["error"], "Internal Server Error");
        let fine = call(&server, "GET", "/plugin/acme/shop/fine", None).await;
        assert_eq!((fine.status, fine.text.as_str()), (200, "fine"));
    }
    server.shutdown().await.unwrap();
}

async fn mark(name: &'static str, mut request: Request, next: Next) -> Response {
    let before = request
        .headers()
        .get("x-order")
        .and_then(|v| v.to_str().ok())
        .map(|v| format!("{v},"))
        .unwrap_or_default();
    request
        .headers_mut()
        .insert("x-order", format!("{before}{name}").parse().unwrap());
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .append("x-seen", name.parse().unwrap());
    response
}

macro_rules! marker {
    ($name:literal) => {
        from_fn(|request: Request, next: Next| mark($name, request, next))
    };
}

#[tokio::test]
async fn plugin_middleware_wraps_its_own_routes_and_app_middleware_wraps_everything() {
    let app = TempApp::new();
    app.plugin("acme__base", "1.0.0", &[], "");
    app.plugin("acme__shop", "1.0.0", &[("acme__base", "^1")], "");
    async fn order(headers: HeaderMap) -> String {
        headers["x-order"].to_str().unwrap().to_owned()
    }
    let server = start(
        app.app()
            .plugin("acme__shop", |app: &mut Registrar| {
                app.routes(Routes::new().get("/order", order))?;
                app.layer(marker!("shop-1"));
                app.layer(marker!("shop-2"));
                app.app_layer(marker!("shop-app"));
                Ok(())
            })
            .plugin("acme__base", |app: &mut Registrar| {
                app.routes(Routes::new().get("/order", order))?;
                app.layer(marker!("base"));
                app.app_layer(marker!("base-app"));
                Ok(())
            }),
    )
    .await;
    let shop = call(&server, "GET", "/plugin/acme/shop/order", None).await;
    assert_eq!(shop.text, "base-app,shop-app,shop-1,shop-2");
    let base = call(&server, "GET", "/plugin/acme/base/order", None).await;
    assert_eq!(base.text, "base-app,shop-app,base");
    let unknown = call(&server, "GET", "/nowhere", None).await;
    assert_eq!(unknown.status, 404);
    let seen: Vec<&str> = unknown
        .headers
        .get_all("x-seen")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        seen,
        ["shop-app", "base-app"],
        "app-wide layers see unknown paths too; plugin layers do not"
    );
    let health = call(&server, "GET", "/raclette/health", None).await;
    assert_eq!(health.headers.get_all("x-seen").iter().count(), 2);
    server.shutdown().await.unwrap();
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct ShopOptions {
    greeting: String,
    limit: u32,
    db: DbOptions,
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct DbOptions {
    pool: u32,
    name: String,
}

fn options_plugin(app: &mut Registrar) -> raclette::Result<()> {
    let options: ShopOptions = app.options()?;
    let options = serde_json::to_value(options).map_err(raclette::Error::other)?;
    app.routes(Routes::new().get("/options", move || async move { Json(options.clone()) }))?;
    Ok(())
}

const SHOP_DEFAULTS: &str =
    "[options]\ngreeting = \"hi\"\nlimit = 5\n[options.db]\npool = 2\nname = \"shop\"\n";

#[tokio::test]
async fn options_come_from_metadata_defaults_overridden_by_the_app() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], SHOP_DEFAULTS);
    app.config(
        "name = \"fixture\"\n[plugins.acme__shop.options]\nlimit = 9\n[plugins.acme__shop.options.db]\npool = 4\n",
    );
    let server = start(app.app().plugin("acme__shop", options_plugin)).await;
    let reply = call(&server, "GET", "/plugin/acme/shop/options", None).await;
    assert_eq!(
        reply.json,
        json!({ "greeting": "hi", "limit": 9, "db": { "pool": 4, "name": "shop" } })
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn options_of_the_wrong_type_stop_start_up_naming_plugin_and_field() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], SHOP_DEFAULTS);
    app.config("name = \"fixture\"\n[plugins.acme__shop.options.db]\npool = \"many\"\n");
    let failure = start_error(app.app().plugin("acme__shop", options_plugin)).await;
    let Some((plugin, MountFailure::Setup(raclette::Error::Options { field, .. }))) =
        failure.mount_failure()
    else {
        panic!("expected an options error, got {failure:?}");
    };
    assert_eq!((plugin, field.as_str()), ("acme__shop", "options.db.pool"));
    // The message alone is enough to fix it.
    let error = failure.to_string();
    assert!(error.contains("field `options.db.pool`"), "{error}");
    assert!(
        error.contains("invalid type: string \"many\", expected a whole number of at least 0"),
        "{error}"
    );
    assert!(
        error.contains("plugins/acme__shop/raclette.plugin.toml"),
        "{error}"
    );
}

/// A service the `acme__prices` plugin provides to its dependants.
struct PriceList {
    cheese: u32,
}

#[tokio::test]
async fn services_are_shared_with_dependants_only() {
    let app = TempApp::new();
    app.plugin("acme__prices", "1.2.0", &[], "");
    app.plugin("acme__shop", "1.0.0", &[("acme__prices", "^1.2")], "");
    app.plugin("acme__stranger", "1.0.0", &[], "");
    let build = |with_stranger: bool| {
        let mut app = app
            .app()
            .plugin("acme__prices", |app: &mut Registrar| {
                app.provide(PriceList { cheese: 12 })?;
                Ok(())
            })
            .plugin("acme__shop", |app: &mut Registrar| {
                let prices = app.service::<PriceList>()?;
                app.routes(Routes::new().get("/cheese", move || async move {
                    format!("cheese costs {}", prices.cheese)
                }))?;
                Ok(())
            });
        if with_stranger {
            app = app.plugin("acme__stranger", |app: &mut Registrar| {
                app.service::<PriceList>()?;
                Ok(())
            });
        }
        app
    };
    let server = start(build(false)).await;
    let reply = call(&server, "GET", "/plugin/acme/shop/cheese", None).await;
    assert_eq!(reply.text, "cheese costs 12");
    server.shutdown().await.unwrap();

    let failure = start_error(build(true)).await;
    assert!(
        matches!(
            failure.mount_failure(),
            Some(("acme__stranger", MountFailure::Setup(raclette::Error::ServiceNotDependency { provider, .. })))  if provider == "acme__prices"
        ),
        "{failure:?}"
    );
    let error = failure.to_string();
    assert!(
        error.contains("add `acme__prices` to [dependencies] in its raclette.plugin.toml"),
        "{error}"
    );
}

#[tokio::test]
async fn hooks_run_in_dependency_order_and_unmount_in_reverse_after_in_flight_requests() {
    let app = TempApp::new();
    app.plugin("acme__a", "1.0.0", &[], "");
    app.plugin("acme__b", "1.0.0", &[("acme__a", "*")], "");
    app.plugin("acme__c", "1.0.0", &[("acme__b", "*")], "");
    let log = log();
    let started = Arc::new(tokio::sync::Notify::new());
    let hooked = |name: &'static str, log: Log, started: Arc<tokio::sync::Notify>| {
        move |app: &mut Registrar| {
            let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
            app.on_before_mount(move || async move {
                l1.lock().unwrap().push(format!("before_mount {name}"));
                Ok(())
            });
            app.on_mounted(move || async move {
                l2.lock().unwrap().push(format!("mounted {name}"));
                Ok(())
            });
            app.on_before_unmount(move || async move {
                l3.lock().unwrap().push(format!("before_unmount {name}"));
                Ok(())
            });
            if name == "c" {
                let (log, started) = (log.clone(), started.clone());
                app.routes(Routes::new().get("/slow", move || async move {
                    started.notify_one();
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    log.lock().unwrap().push("slow request finished".to_owned());
                    "done"
                }))?;
            }
            Ok(())
        }
    };
    // Registered out of order on purpose: the runtime orders by dependencies.
    let server = start(
        app.app()
            .plugin("acme__c", hooked("c", log.clone(), started.clone()))
            .plugin("acme__a", hooked("a", log.clone(), started.clone()))
            .plugin("acme__b", hooked("b", log.clone(), started.clone())),
    )
    .await;
    let url = format!("{}/plugin/acme/c/slow", server.url());
    let request = tokio::spawn(async move { reqwest::get(url).await.unwrap().text().await });
    started.notified().await;
    server.shutdown().await.unwrap();
    assert_eq!(request.await.unwrap().unwrap(), "done");
    assert_eq!(
        entries(&log),
        [
            "before_mount a",
            "before_mount b",
            "before_mount c",
            "mounted a",
            "mounted b",
            "mounted c",
            "slow request finished",
            "before_unmount c",
            "before_unmount b",
            "before_unmount a",
        ]
    );
}

#[tokio::test]
async fn a_failing_mount_names_the_plugin_and_the_cause() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    let failure = start_error(app.app().plugin("acme__shop", |app: &mut Registrar| {
        app.on_before_mount(|| async { Err(raclette::Error::msg("the vault is locked")) });
        Ok(())
    }))
    .await;
    assert!(
        matches!(
            failure.mount_failure(),
            Some((
                "acme__shop",
                MountFailure::Hook {
                    stage: "before_mount",
                    source: raclette::Error::Other(_)
                }
            ))
        ),
        "{failure:?}"
    );
    assert!(
        failure.to_string().contains("the vault is locked"),
        "{failure}"
    );

    let failure = start_error(app.app().plugin("acme__shop", |_: &mut Registrar| {
        Err(raclette::Error::msg("no licence key"))
    }))
    .await;
    assert!(
        matches!(
            failure.mount_failure(),
            Some(("acme__shop", MountFailure::Setup(raclette::Error::Other(_))))
        ),
        "{failure:?}"
    );
    assert_eq!(
        std::error::Error::source(&failure)
            .map(ToString::to_string)
            .as_deref(),
        Some("no licence key")
    );
}

#[tokio::test]
async fn a_disabled_plugin_is_not_mounted_answers_404_and_is_listed_disabled() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    app.config("name = \"fixture\"\n[plugins.acme__shop]\nenabled = false\n");
    let mounted = log();
    let seen = mounted.clone();
    let server = start(app.app().plugin("acme__shop", move |app: &mut Registrar| {
        seen.lock().unwrap().push("built".to_owned());
        app.routes(Routes::new().get("/hello", || async { "hello" }))?;
        Ok(())
    }))
    .await;
    assert!(
        entries(&mounted).is_empty(),
        "a disabled plugin is not built"
    );
    let reply = call(&server, "GET", "/plugin/acme/shop/hello", None).await;
    assert_eq!(reply.status, 404);
    let plugins = call(&server, "GET", "/raclette/plugins", None).await;
    let shop = &plugins.json[0];
    assert_eq!(shop["key"], "plugin_acme__shop");
    assert_eq!(shop["enabled"], false);
    assert_eq!(shop["routes"], json!([]));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn two_plugins_claiming_the_same_route_stop_start_up() {
    let app = TempApp::new();
    app.plugin("acme", "1.0.0", &[], "");
    app.plugin("acme__x", "1.0.0", &[], "");
    let error = start_error(
        app.app()
            .plugin("acme", |app: &mut Registrar| {
                app.routes(Routes::new().get("/x/y", || async { "a" }))?;
                Ok(())
            })
            .plugin("acme__x", |app: &mut Registrar| {
                app.routes(Routes::new().get("/y", || async { "b" }))?;
                Ok(())
            }),
    )
    .await;
    let StartError::RouteClash {
        path,
        first,
        second,
    } = error
    else {
        panic!("expected a route clash, got {error:?}");
    };
    assert_eq!(path, "/plugin/acme/x/y");
    let mut claimants = [first, second];
    claimants.sort();
    assert_eq!(claimants, ["acme".to_owned(), "acme__x".to_owned()]);
}

fn counter_plugin(app: &mut Registrar) -> raclette::Result<()> {
    let db = app.database();
    app.routes(Routes::new().get("/count", move || {
        let db = db.clone();
        async move {
            let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM visits")
                .fetch_one(&db)
                .await
                .unwrap();
            count.to_string()
        }
    }))?;
    Ok(())
}

#[tokio::test]
async fn migrations_are_applied_once_in_dependency_order_and_recorded() {
    let app = TempApp::new();
    app.plugin("acme__base", "1.0.0", &[], "");
    app.plugin("acme__stats", "1.0.0", &[("acme__base", "^1")], "");
    app.server_crate("acme__base");
    app.server_crate("acme__stats");
    app.write(
        "plugins/acme__base/server/migrations/0001_visitors.sql",
        "CREATE TABLE visitors (id INTEGER PRIMARY KEY);\n",
    );
    // Needs the dependency's table: only works when acme__base ran first.
    app.write(
        "plugins/acme__stats/server/migrations/0001_visits.sql",
        "CREATE TABLE visits (visitor INTEGER REFERENCES visitors(id));\nINSERT INTO visitors (id) VALUES (1);\nINSERT INTO visits (visitor) VALUES (1);\n",
    );
    let noop = |_: &mut Registrar| Ok(());
    for _ in 0..2 {
        let server = start(
            app.app()
                .plugin("acme__stats", counter_plugin)
                .plugin("acme__base", noop),
        )
        .await;
        let reply = call(&server, "GET", "/plugin/acme/stats/count", None).await;
        assert_eq!(reply.text, "1", "the insert ran once, not at every start");
        server.shutdown().await.unwrap();
    }
    assert!(app.path().join("data/raclette.sqlite").is_file());

    app.write(
        "plugins/acme__stats/server/migrations/0002_more.sql",
        "INSERT INTO visits (visitor) VALUES (1);\n",
    );
    let server = start(
        app.app()
            .plugin("acme__stats", counter_plugin)
            .plugin("acme__base", noop),
    )
    .await;
    assert_eq!(
        call(&server, "GET", "/plugin/acme/stats/count", None)
            .await
            .text,
        "2",
        "a new migration is applied"
    );
    server.shutdown().await.unwrap();

    app.write(
        "plugins/acme__stats/server/migrations/0001_visits.sql",
        "CREATE TABLE visits (visitor TEXT);\n",
    );
    let error = start_error(
        app.app()
            .plugin("acme__stats", counter_plugin)
            .plugin("acme__base", noop),
    )
    .await;
    assert!(
        matches!(
            error.mount_failure(),
            Some(("acme__stats", MountFailure::Migration(MigrationError::Changed { version: 1, name })))  if name == "visits"
        ),
        "{error:?}"
    );
}

/// A subscriber that records nothing and keeps every callsite's interest
/// open ("sometimes"), so that thread-local subscribers decide.
struct Undecided;

impl tracing::Subscriber for Undecided {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn plugin_logs_carry_a_span_naming_the_plugin() {
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Other tests of this binary log on other threads without a
    // subscriber: a callsite first reached there may be cached as of no
    // interest to anyone, racing this thread's subscriber, and its events
    // are then skipped here too. A global subscriber that keeps every
    // callsite undecided makes each event ask the thread's subscriber.
    tracing::subscriber::set_global_default(Undecided).ok();
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    let server = start(app.app().plugin("acme__shop", |app: &mut Registrar| {
        app.on_before_mount(|| async {
            tracing::info!("warming the oven");
            Ok(())
        });
        app.routes(Routes::new().get("/log", || async {
            tracing::info!("serving a slice");
            "logged"
        }))?;
        Ok(())
    }))
    .await;
    assert_eq!(
        call(&server, "GET", "/plugin/acme/shop/log", None)
            .await
            .text,
        "logged"
    );
    server.shutdown().await.unwrap();
    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{text}"))
            .to_owned()
    };
    assert!(
        line("warming the oven").contains("plugin{plugin=acme__shop}"),
        "{text}"
    );
    assert!(
        line("serving a slice").contains("plugin{plugin=acme__shop}"),
        "{text}"
    );
}
