//! The interfaces of the plugin API crate, provided by one plugin and used
//! by others without depending on its crate: the broadcaster (and data
//! operations that broadcast after writes), the request's user and project,
//! services as extractors, request identifiers.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};

use raclette::{
    Broadcast, BroadcastMessage, Broadcaster, CurrentUser, DataOperation, HttpError, Identified,
    IdentifyRequests, Json, Plugin, Project, Registrar, Routes, Service, User,
    events::Events,
    extract::{ClientAddr, Path},
    http::{Method, Request, StatusCode},
    middleware::map_request,
    response::IntoResponse,
};
use raclette_runtime::RunningApp;
use raclette_tests::{TempApp, call, start};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A broadcaster that keeps what it is given.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<BroadcastMessage>>>);

impl Broadcaster for Recorder {
    fn broadcast(&self, message: BroadcastMessage) {
        self.0.lock().unwrap().push(message);
    }
}

impl Recorder {
    fn take(&self) -> Vec<BroadcastMessage> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A service of the providing plugin.
struct Counter(AtomicU64);

/// The plugin that provides the interfaces: a broadcaster, the request's
/// user and project (from test headers), a counter service.
fn provider(recorder: Recorder) -> impl Fn(&mut Registrar) -> raclette::Result<()> {
    move |app: &mut Registrar| {
        app.provide_broadcaster(recorder.clone())?;
        app.provide(Counter(AtomicU64::new(0)))?;
        app.app_layer(map_request(|mut req: Request<raclette::Body>| async move {
            let header = |req: &Request<raclette::Body>, name: &str| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let project = header(&req, "x-test-project");
            let user = header(&req, "x-test-user");
            if let Some(project) = project {
                req.extensions_mut().insert(Project::new(project));
            }
            if let Some(user) = user {
                let user = User::new(user, "ada@example.com").with_permissions([
                    "notes.write",
                    "pacifico__todo.read",
                    "pacifico__todo.write",
                ]);
                req.extensions_mut().insert(CurrentUser::signed_in(user));
            }
            req
        }));
        Ok(())
    }
}

async fn create(Json(body): Json<Value>) -> Result<(StatusCode, Json<Value>), HttpError> {
    if body["name"].as_str().unwrap_or("").is_empty() {
        return Err(HttpError::bad_request("name must not be empty").with_field("name"));
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "_id": "n1", "name": body["name"] })),
    ))
}

async fn bulk() -> Json<Value> {
    Json(json!([{ "_id": "a" }, { "_id": "b" }]))
}

async fn list() -> Json<Value> {
    Json(json!([{ "_id": "a" }]))
}

async fn remove(Path(id): Path<String>) -> Result<Json<Value>, HttpError> {
    if id == "missing" {
        return Err(HttpError::not_found("no such note"));
    }
    Ok(Json(json!({ "_id": id })))
}

async fn whoami(user: CurrentUser, project: Project) -> Json<Value> {
    Json(json!({
        "user": user.id(),
        "mayWrite": user.get().is_some_and(|u| u.has_permission("notes.write")),
        "project": project.id(),
    }))
}

async fn count(Service(counter): Service<Counter>) -> Json<u64> {
    Json(counter.0.fetch_add(1, Ordering::SeqCst) + 1)
}

async fn shout(broadcast: Broadcast, project: Project) -> Json<bool> {
    broadcast.send(&project, "shouted", vec![json!("hey")]);
    Json(broadcast.is_active())
}

fn notes(app: &mut Registrar) -> raclette::Result<()> {
    app.routes(
        Routes::new()
            .data(
                Method::GET,
                "/notes",
                DataOperation::read("note", "getAll").broadcast("noteRead"),
                list,
            )
            .data(
                Method::POST,
                "/note",
                DataOperation::create("note", "create").broadcast("noteCreated"),
                create,
            )
            .data(
                Method::POST,
                "/notes",
                DataOperation::create("note", "createMany")
                    .broadcast("noteCreated")
                    .broadcast("notesChanged"),
                bulk,
            )
            .data(
                Method::DELETE,
                "/note/:_id",
                DataOperation::delete("note", "delete").broadcast("noteDeleted"),
                remove,
            )
            .get("/whoami", whoami)
            .get("/count", count)
            .post("/shout", shout),
    )?;
    Ok(())
}

fn stranger(app: &mut Registrar) -> raclette::Result<()> {
    app.routes(Routes::new().get("/count", count))?;
    Ok(())
}

/// An app whose own plugin provides the broadcaster, so the built-in
/// realtime plugin (which would provide one too) is off.
fn without_realtime() -> TempApp {
    let app = TempApp::new();
    app.config("name = \"fixture\"\n[plugins.raclette__realtime]\nenabled = false\n");
    app
}

fn fixture() -> TempApp {
    let app = without_realtime();
    app.plugin("acme__live", "1.0.0", &[], "");
    app.plugin("acme__notes", "1.0.0", &[("acme__live", "^1")], "");
    app.plugin("acme__stranger", "1.0.0", &[], "");
    app
}

/// Starts the fixture app with `live` as the providing plugin.
async fn start_fixture(app: &TempApp, live: impl Plugin) -> RunningApp {
    start(
        app.app()
            .plugin("acme__live", live)
            .plugin("acme__notes", notes)
            .plugin("acme__stranger", stranger),
    )
    .await
}

#[tokio::test]
async fn a_write_broadcasts_exactly_the_items_it_returned_and_a_failed_one_nothing() {
    let app = fixture();
    let recorder = Recorder::default();
    let server = start_fixture(&app, provider(recorder.clone())).await;

    let created = call(
        &server,
        "POST",
        "/plugin/acme/notes/note",
        Some(json!({ "name": "milk" })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        created.json,
        json!({ "_id": "n1", "name": "milk" }),
        "the answer is unchanged"
    );
    assert_eq!(
        recorder.take(),
        vec![BroadcastMessage {
            channel_key: "plugin_acme__notes--noteCreated".to_owned(),
            plugin_key: "plugin_acme__notes".to_owned(),
            event: "noteCreated".to_owned(),
            project: "default".to_owned(),
            items: vec![created.json.clone()],
            permission: None,
        }]
    );

    let failed = call(
        &server,
        "POST",
        "/plugin/acme/notes/note",
        Some(json!({ "name": "" })),
    )
    .await;
    assert_eq!(failed.status, 400);
    let missing = call(&server, "DELETE", "/plugin/acme/notes/note/missing", None).await;
    assert_eq!(missing.status, 404);
    let read = call(&server, "GET", "/plugin/acme/notes/notes", None).await;
    assert_eq!(read.status, 200);
    assert_eq!(
        recorder.take(),
        vec![],
        "failed writes and reads broadcast nothing"
    );

    let many = call(&server, "POST", "/plugin/acme/notes/notes", Some(json!({}))).await;
    assert_eq!(many.status, 200);
    let sent: Vec<(String, Vec<Value>)> = recorder
        .take()
        .into_iter()
        .map(|m| (m.event, m.items))
        .collect();
    let items = vec![json!({ "_id": "a" }), json!({ "_id": "b" })];
    assert_eq!(
        sent,
        vec![
            ("noteCreated".to_owned(), items.clone()),
            ("notesChanged".to_owned(), items)
        ]
    );

    // The project of the request travels with the message.
    let client = reqwest::Client::new();
    let deleted = client
        .delete(format!("{}/plugin/acme/notes/note/n7", server.url()))
        .header("x-test-project", "acme")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let sent = recorder.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (
            sent[0].project.as_str(),
            sent[0].channel_key.as_str(),
            &sent[0].items
        ),
        (
            "acme",
            "plugin_acme__notes--noteDeleted",
            &vec![json!({ "_id": "n7" })]
        )
    );

    // By hand, through the extractor.
    let shout = call(&server, "POST", "/plugin/acme/notes/shout", None).await;
    assert_eq!(shout.json, json!(true));
    assert_eq!(
        recorder.take()[0].channel_key,
        "plugin_acme__notes--shouted"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_a_broadcaster_writes_work_and_requests_are_anonymous_in_the_default_project() {
    let app = fixture();
    let server = start_fixture(&app, |_: &mut Registrar| Ok(())).await;
    let created = call(
        &server,
        "POST",
        "/plugin/acme/notes/note",
        Some(json!({ "name": "milk" })),
    )
    .await;
    assert_eq!(created.status, 201);
    let shout = call(&server, "POST", "/plugin/acme/notes/shout", None).await;
    assert_eq!(shout.json, json!(false));
    let who = call(&server, "GET", "/plugin/acme/notes/whoami", None).await;
    assert_eq!(
        who.json,
        json!({ "user": null, "mayWrite": false, "project": "default" })
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn user_project_and_services_reach_handlers_through_extractors() {
    let app = fixture();
    let server = start_fixture(&app, provider(Recorder::default())).await;
    let client = reqwest::Client::new();
    let who: Value = client
        .get(format!("{}/plugin/acme/notes/whoami", server.url()))
        .header("x-test-user", "u42")
        .header("x-test-project", "acme")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        who,
        json!({ "user": "u42", "mayWrite": true, "project": "acme" })
    );

    // A dependant gets the service per request; a plugin that does not
    // depend on its provider gets a JSON 500, and the server goes on.
    assert_eq!(
        call(&server, "GET", "/plugin/acme/notes/count", None)
            .await
            .json,
        json!(1)
    );
    assert_eq!(
        call(&server, "GET", "/plugin/acme/notes/count", None)
            .await
            .json,
        json!(2)
    );
    let refused = call(&server, "GET", "/plugin/acme/stranger/count", None).await;
    assert_eq!(refused.status, 500);
    assert_eq!(refused.json["statusCode"], 500);
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap()
            .contains("acme__stranger"),
        "{}",
        refused.text
    );
    assert_eq!(
        call(&server, "GET", "/plugin/acme/notes/count", None)
            .await
            .json,
        json!(3)
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_second_broadcaster_is_refused_naming_both_plugins() {
    let app = without_realtime();
    app.plugin("acme__one", "1.0.0", &[], "");
    app.plugin("acme__two", "1.0.0", &[], "");
    let failure = raclette_tests::start_error(
        app.app()
            .plugin("acme__one", provider(Recorder::default()))
            .plugin("acme__two", |app: &mut Registrar| {
                app.provide_broadcaster(Recorder::default())?;
                Ok(())
            }),
    )
    .await;
    assert!(
        matches!(
            failure.mount_failure(),
            Some(("acme__two", raclette_runtime::MountFailure::Setup(raclette::Error::BroadcasterTwice { provider, .. })))  if provider == "acme__one"
        ),
        "{failure:?}"
    );
}

/// A request to the todo plugin as `user` in `project` (the provider
/// plugin reads the test headers).
async fn todo_as(
    server: &RunningApp,
    method: &str,
    path: &str,
    project: &str,
    user: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(
            method.parse().unwrap(),
            format!("{}/plugin/pacifico/todo/todo{path}", server.url()),
        )
        .header("x-test-project", project)
        .header("x-test-user", user);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn collections_stamp_the_request_context_keep_projects_apart_and_broadcast_their_channels() {
    let app = without_realtime();
    app.plugin("acme__live", "1.0.0", &[], "");
    app.with_todo_plugin();
    let recorder = Recorder::default();
    let server = start(
        app.app()
            .plugin("acme__live", provider(recorder.clone()))
            .plugin("pacifico__todo", pacifico_todo_server::plugin),
    )
    .await;
    let (status, todo) = todo_as(
        &server,
        "POST",
        "",
        "alpha",
        "ada",
        Some(json!({"name": "ours"})),
    )
    .await;
    assert_eq!(status, 201, "{todo}");
    assert_eq!(
        (todo["project"].as_str(), todo["owner"].as_str()),
        (Some("alpha"), Some("ada"))
    );
    let id = todo["_id"].as_str().unwrap().to_owned();
    let created = recorder.take();
    assert_eq!(created.len(), 1);
    assert_eq!(
        (created[0].event.as_str(), created[0].project.as_str()),
        ("todoCreated", "alpha")
    );
    assert_eq!(created[0].items, vec![todo.clone()]);

    // Another project sees nothing and changes nothing, whatever the id.
    for (method, path, body) in [
        ("GET", format!("/{id}"), None),
        ("PATCH", format!("/{id}"), Some(json!({"name": "theirs"}))),
        ("PATCH", format!("/checkTask/{id}"), None),
        ("DELETE", format!("/{id}"), None),
        ("PATCH", format!("/{id}/restore"), None),
        ("DELETE", format!("/{id}/hard"), None),
    ] {
        let (status, reply) = todo_as(&server, method, &path, "beta", "eve", body).await;
        assert_eq!(status, 404, "{method} {path} from another project: {reply}");
    }
    let (_, listed) = todo_as(
        &server,
        "GET",
        &format!("/all?_id={id}"),
        "beta",
        "eve",
        None,
    )
    .await;
    assert_eq!(listed, json!([]));
    assert!(
        recorder.take().is_empty(),
        "failed writes broadcast nothing"
    );

    let (status, updated) = todo_as(
        &server,
        "PATCH",
        &format!("/{id}"),
        "alpha",
        "bob",
        Some(json!({"content": "x"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (updated["owner"].as_str(), updated["lastEditor"].as_str()),
        (Some("ada"), Some("bob"))
    );
    let sent = recorder.take();
    let events: Vec<&str> = sent.iter().map(|m| m.event.as_str()).collect();
    assert_eq!(events, ["todoUpdated", "broadcastDataUpdated"]);
    // Listeners get what they could read: the permission of the type's reads.
    assert!(
        sent.iter()
            .all(|m| m.permission.as_deref() == Some("pacifico__todo.read")),
        "{sent:?}"
    );
    let (status, removed) = todo_as(
        &server,
        "DELETE",
        &format!("/{id}/hard"),
        "alpha",
        "bob",
        None,
    )
    .await;
    assert_eq!(
        (status, removed),
        (200, json!({"_id": id, "deleted": true}))
    );
    let hard = recorder.take();
    assert_eq!(hard.len(), 1);
    assert_eq!(
        hard[0].channel_key,
        "plugin_pacifico__todo--todoHardDeleted"
    );
    server.shutdown().await.unwrap();
}

/// An event of one plugin that others listen to.
#[derive(Clone, Debug, PartialEq)]
struct Pinged(u64);

#[tokio::test]
async fn events_reach_every_listener_of_their_type_and_a_failing_listener_is_isolated() {
    let app = TempApp::new();
    app.plugin("acme__sender", "1.0.0", &[], "");
    app.plugin("acme__listener", "1.0.0", &[("acme__sender", "^1")], "");
    let heard = Arc::new(Mutex::new(Vec::new()));
    let recorded = heard.clone();
    let server = start(
        app.app()
            .plugin("acme__sender", |app: &mut Registrar| {
                async fn ping(events: Events, Path(n): Path<u64>) -> Json<usize> {
                    Json(events.emit(Pinged(n)).await)
                }
                app.routes(Routes::new().post("/ping/:n", ping))?;
                Ok(())
            })
            .plugin("acme__listener", move |app: &mut Registrar| {
                let recorded = recorded.clone();
                app.listen(move |Pinged(n): Pinged| {
                    let recorded = recorded.clone();
                    async move { recorded.lock().unwrap().push(n) }
                });
                app.listen(|Pinged(n): Pinged| async move {
                    if n > 0 {
                        panic!("listener bug");
                    }
                });
                app.listen(|_: Pinged| async move { Err::<(), _>("cannot reach the mail server") });
                // One that panics before it even returns its future.
                #[allow(unreachable_code)]
                app.listen(|Pinged(n): Pinged| {
                    if n > 0 {
                        panic!("listener bug before its future");
                    }
                    async move {}
                });
                // Another type: never called.
                app.listen(|text: String| async move { assert!(text.is_empty(), "wrong type") });
                assert_eq!(app.events().listeners::<Pinged>(), 4);
                Ok(())
            }),
    )
    .await;
    let reply = call(&server, "POST", "/plugin/acme/sender/ping/7", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!(3),
        "the two panicking and the failing listener"
    );
    assert_eq!(*heard.lock().unwrap(), vec![7], "the others still ran");
    let reply = call(&server, "POST", "/plugin/acme/sender/ping/0", None).await;
    assert_eq!(reply.json, json!(1));
    assert_eq!(*heard.lock().unwrap(), vec![7, 0]);
    // The server goes on.
    let reply = call(&server, "POST", "/plugin/acme/sender/ping/8", None).await;
    assert_eq!(reply.json, json!(3));
    server.shutdown().await.expect("clean shutdown");
}

/// Who saw a request before routing, in order.
#[derive(Clone, Default)]
struct SeenBy(Vec<&'static str>);

/// The first plugin's request identifier: signs in `x-test-user` at once,
/// `x-test-later` after waiting, refuses `x-test-refuse`, panics on
/// `x-test-panic`.
struct HeaderIdentifier;

impl IdentifyRequests for HeaderIdentifier {
    fn identify(&self, mut request: Request<raclette::Body>) -> Identified {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if header("x-test-panic").is_some() {
            panic!("identifier exploded");
        }
        if let Some(reason) = header("x-test-refuse") {
            return Identified::Answered(
                HttpError::new(StatusCode::UNAUTHORIZED, reason).into_response(),
            );
        }
        let later = header("x-test-later");
        if let Some(user) = header("x-test-user") {
            request
                .extensions_mut()
                .insert(CurrentUser::signed_in(User::new(user, "ada@example.com")));
        }
        request
            .extensions_mut()
            .get_or_insert_default::<SeenBy>()
            .0
            .push("live");
        match later {
            None => Identified::Ready(request),
            Some(user) => Identified::later(async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                if user == "panic" {
                    panic!("identifier exploded later");
                }
                request
                    .extensions_mut()
                    .insert(CurrentUser::signed_in(User::new(user, "bo@example.com")));
                request.extensions_mut().insert(Project::new("later"));
                Ok(request)
            }),
        }
    }
}

/// The dependant's identifier: notes that it ran.
struct Follower;

impl IdentifyRequests for Follower {
    fn identify(&self, mut request: Request<raclette::Body>) -> Identified {
        request
            .extensions_mut()
            .get_or_insert_default::<SeenBy>()
            .0
            .push("notes");
        Identified::Ready(request)
    }
}

async fn seen(
    user: CurrentUser,
    project: Project,
    raclette::extract::Extension(seen): raclette::extract::Extension<SeenBy>,
    Service(counter): Service<Counter>,
) -> Json<Value> {
    counter.0.fetch_add(1, Ordering::SeqCst);
    Json(json!({ "user": user.id(), "project": project.id(), "seenBy": seen.0 }))
}

async fn served(Service(counter): Service<Counter>) -> Json<u64> {
    Json(counter.0.load(Ordering::SeqCst))
}

#[tokio::test]
async fn request_identifiers_run_before_routing_in_dependency_order_and_may_answer_wait_or_fail() {
    let app = fixture();
    let server = start(
        app.app()
            .plugin("acme__live", |app: &mut Registrar| {
                app.provide(Counter(AtomicU64::new(0)))?;
                app.identify_requests(HeaderIdentifier);
                Ok(())
            })
            .plugin("acme__notes", |app: &mut Registrar| {
                app.identify_requests(Follower);
                app.routes(Routes::new().get("/seen", seen).get("/served", served))?;
                Ok(())
            })
            .plugin("acme__stranger", stranger),
    )
    .await;
    let client = reqwest::Client::new();
    let get = |path: &str, header: Option<(&str, &str)>| {
        let mut request = client.get(format!("{}{path}", server.url()));
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let json: Value = response.json().await.unwrap_or(Value::Null);
            (status, json)
        }
    };

    // Anonymous, then identified at once: the dependency's identifier first.
    assert_eq!(
        get("/plugin/acme/notes/seen", None).await,
        (
            200,
            json!({ "user": null, "project": "default", "seenBy": ["live", "notes"] })
        )
    );
    assert_eq!(
        get("/plugin/acme/notes/seen", Some(("x-test-user", "u1"))).await,
        (
            200,
            json!({ "user": "u1", "project": "default", "seenBy": ["live", "notes"] })
        )
    );
    // Identified after waiting.
    assert_eq!(
        get("/plugin/acme/notes/seen", Some(("x-test-later", "u2"))).await,
        (
            200,
            json!({ "user": "u2", "project": "later", "seenBy": ["live", "notes"] })
        )
    );
    // Answered by the identifier: no route runs, for known and unknown
    // paths alike.
    let (status, body) = get(
        "/plugin/acme/notes/seen",
        Some(("x-test-refuse", "no entry")),
    )
    .await;
    assert_eq!((status, &body["message"]), (401, &json!("no entry")));
    let (status, _) = get("/no/such/path", Some(("x-test-refuse", "no entry"))).await;
    assert_eq!(status, 401);
    // A panic, at once or later, answers a JSON 500 and the server goes on.
    let (status, body) = get("/plugin/acme/notes/seen", Some(("x-test-panic", "1"))).await;
    assert_eq!((status, body["statusCode"].clone()), (500, json!(500)));
    let (status, body) = get("/plugin/acme/notes/seen", Some(("x-test-later", "panic"))).await;
    assert_eq!((status, body["statusCode"].clone()), (500, json!(500)));
    // Only the three requests that were let through reached the route.
    assert_eq!(
        get("/plugin/acme/notes/served", None).await,
        (200, json!(3))
    );
    server.shutdown().await.unwrap();
}

async fn client_ip(ClientAddr(addr): ClientAddr) -> Json<String> {
    Json(addr.ip().to_string())
}

async fn client_addr(ClientAddr(addr): ClientAddr) -> Json<String> {
    Json(addr.to_string())
}

/// One keep-alive request on `stream`; the answer's body.
async fn get_on(stream: &mut tokio::net::TcpStream, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        answer.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .expect("a content-length")
                .trim()
                .parse()
                .unwrap();
            if body.len() >= length {
                return body[..length].to_owned();
            }
        }
    }
}

async fn maybe_client_ip(addr: Option<ClientAddr>) -> Json<Option<String>> {
    Json(addr.map(|ClientAddr(addr)| addr.ip().to_string()))
}

#[tokio::test]
async fn routes_the_server_serves_know_the_client_address_and_others_say_so() {
    let app = fixture();
    let plugins = || {
        app.app()
            .plugin("acme__live", |_: &mut Registrar| Ok(()))
            .plugin("acme__notes", |app: &mut Registrar| {
                app.routes(
                    Routes::new()
                        .get("/ip", client_ip)
                        .get("/addr", client_addr)
                        .get("/maybe-ip", maybe_client_ip),
                )?;
                Ok(())
            })
            .plugin("acme__stranger", stranger)
    };
    let server = start(plugins()).await;
    for path in ["/plugin/acme/notes/ip", "/plugin/acme/notes/maybe-ip"] {
        let answer = call(&server, "GET", path, None).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        assert_eq!(answer.json, json!("127.0.0.1"), "{path}");
    }
    // Each connection's requests see that connection's client (its port),
    // however their requests interleave on the server's threads.
    let addr = server.url().trim_start_matches("http://").to_owned();
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let mut rounds = Vec::new();
    for mut client in clients {
        rounds.push(tokio::spawn(async move {
            let mine = json!(client.local_addr().unwrap().to_string()).to_string();
            for _ in 0..20 {
                assert_eq!(get_on(&mut client, "/plugin/acme/notes/addr").await, mine);
            }
        }));
    }
    for round in rounds {
        round.await.unwrap();
    }
    server.shutdown().await.unwrap();

    // The app's router called without the server: no client.
    let router = plugins().build().await.unwrap().router();
    let get = |path: &str| {
        Request::get(path)
            .header("host", "localhost")
            .body(raclette::Body::empty())
            .unwrap()
    };
    let maybe = router
        .clone()
        .oneshot(get("/plugin/acme/notes/maybe-ip"))
        .await
        .unwrap();
    assert_eq!(maybe.status(), StatusCode::OK);
    let body = axum::body::to_bytes(maybe.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"null");
    let missing = router.oneshot(get("/plugin/acme/notes/ip")).await.unwrap();
    assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(missing.into_body(), 1024)
        .await
        .unwrap();
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("client's address")),
        "{error}"
    );
}

#[tokio::test]
async fn an_answer_leaves_with_the_length_of_its_body() {
    let app = fixture();
    let server = start(
        app.app()
            .plugin("acme__live", |_: &mut Registrar| Ok(()))
            .plugin("acme__notes", |app: &mut Registrar| {
                app.routes(Routes::new().get("/stale", || async {
                    // A length that a layer rewriting the body would leave.
                    (
                        [(raclette::http::header::CONTENT_LENGTH, "3")],
                        "hello world",
                    )
                }))?;
                Ok(())
            })
            .plugin("acme__stranger", stranger),
    )
    .await;
    let answer = call(&server, "GET", "/plugin/acme/notes/stale", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "hello world");
    server.shutdown().await.unwrap();
}
