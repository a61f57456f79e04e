//! Who may call a route: public routes, routes for signed-in users (the
//! default) and routes that need a permission, under `[auth]` of
//! `raclette.toml`; permissions declared in plugin metadata.

use raclette::{
    CurrentUser, Json, Registrar, Routes, User, http::Request, middleware::map_request,
};
use raclette_runtime::{MountFailure, StartError};
use raclette_tests::{TempApp, listed_plugin, start, start_error};
use serde_json::{Value, json};

/// Signs requests in from test headers: `x-test-user` and the user's
/// permissions in `x-test-permissions` (comma-separated).
fn signer(app: &mut Registrar) -> raclette::Result<()> {
    app.app_layer(map_request(|mut req: Request<raclette::Body>| async move {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Some(user) = header("x-test-user") {
            let permissions = header("x-test-permissions").unwrap_or_default();
            let user = User::new(user, "ada@example.com")
                .with_permissions(permissions.split(',').filter(|p| !p.is_empty()));
            req.extensions_mut().insert(CurrentUser::signed_in(user));
        }
        req
    }));
    Ok(())
}

async fn ok() -> Json<Value> {
    Json(json!({ "ok": true }))
}

fn notes(app: &mut Registrar) -> raclette::Result<()> {
    app.routes(
        Routes::new()
            .get("/health", ok)
            .public()
            .get("/mine", ok)
            .get("/notes", ok)
            .require("acme__notes.read")
            .post("/notes", ok)
            .require("acme__notes.write"),
    )?;
    Ok(())
}

const NOTES_METADATA: &str = "[permissions]\nread = \"See notes\"\nwrite = \"Write notes\"\n";

fn fixture(auth: &str) -> TempApp {
    let app = TempApp::new();
    app.config(&format!("name = \"access\"\n[auth]\n{auth}"));
    app.plugin("acme__signer", "1.0.0", &[], "");
    app.plugin("acme__notes", "1.0.0", &[], NOTES_METADATA);
    app
}

/// Starts the fixture app with the signer and the notes plugin.
async fn start_notes(app: &TempApp) -> raclette_runtime::RunningApp {
    start(
        app.app()
            .plugin("acme__signer", signer)
            .plugin("acme__notes", notes),
    )
    .await
}

async fn status(
    server: &raclette_runtime::RunningApp,
    method: &str,
    path: &str,
    user: Option<(&str, &str)>,
) -> u16 {
    let client = reqwest::Client::new();
    let mut request = client.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{}{path}", server.url()),
    );
    if let Some((id, permissions)) = user {
        request = request
            .header("x-test-user", id)
            .header("x-test-permissions", permissions);
    }
    request.send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn by_default_anonymous_requests_reach_public_routes_only() {
    let app = fixture("");
    let server = start_notes(&app).await;

    assert_eq!(
        status(&server, "GET", "/plugin/acme/notes/health", None).await,
        200
    );
    for (method, path) in [("GET", "/mine"), ("GET", "/notes"), ("POST", "/notes")] {
        let path = format!("/plugin/acme/notes{path}");
        assert_eq!(
            status(&server, method, &path, None).await,
            401,
            "{method} {path}"
        );
    }
    let reply = reqwest::get(format!("{}/plugin/acme/notes/mine", server.url()))
        .await
        .unwrap();
    assert!(reply.headers().contains_key("www-authenticate"));
    let body: Value = reply.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("sign in"),
        "{body}"
    );
}

#[tokio::test]
async fn a_signed_in_user_needs_the_routes_permission() {
    let app = fixture("");
    let server = start_notes(&app).await;
    let reader = Some(("u1", "acme__notes.read"));
    let nobody = Some(("u2", ""));
    let writer = Some(("u3", "acme__notes.read,acme__notes.write"));
    let cases = [
        ("GET", "/mine", nobody, 200),
        ("GET", "/notes", nobody, 403),
        ("GET", "/notes", reader, 200),
        ("POST", "/notes", reader, 403),
        ("POST", "/notes", writer, 200),
    ];
    for (method, path, user, expected) in cases {
        let path = format!("/plugin/acme/notes{path}");
        let got = status(&server, method, &path, user).await;
        assert_eq!(got, expected, "{method} {path} as {user:?}");
    }

    let refused = reqwest::Client::new()
        .post(format!("{}/plugin/acme/notes/notes", server.url()))
        .header("x-test-user", "u1")
        .header("x-test-permissions", "acme__notes.read")
        .send()
        .await
        .unwrap();
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("`acme__notes.write`"),
        "{body}"
    );
}

#[tokio::test]
async fn without_required_authentication_anonymous_requests_get_the_configured_permissions() {
    let app =
        fixture("require_authentication = false\nanonymous_permissions = [\"acme__notes.r*\"]\n");
    let server = start_notes(&app).await;

    assert_eq!(
        status(&server, "GET", "/plugin/acme/notes/mine", None).await,
        200
    );
    assert_eq!(
        status(&server, "GET", "/plugin/acme/notes/notes", None).await,
        200
    );
    assert_eq!(
        status(&server, "POST", "/plugin/acme/notes/notes", None).await,
        401
    );
    // Signed-in users are still held to their own permissions.
    assert_eq!(
        status(&server, "GET", "/plugin/acme/notes/notes", Some(("u1", ""))).await,
        403
    );
}

#[tokio::test]
async fn routes_and_permissions_are_listed() {
    let app = fixture("");
    let server = start_notes(&app).await;
    let listed = listed_plugin(&server, "plugin_acme__notes").await;
    assert_eq!(
        listed["permissions"],
        json!({ "acme__notes.read": "See notes", "acme__notes.write": "Write notes" })
    );
    let access: Vec<Value> = listed["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["access"].clone())
        .collect();
    assert_eq!(
        access,
        vec![
            json!({ "kind": "public" }),
            json!({ "kind": "signedIn" }),
            json!({ "kind": "permission", "permission": "acme__notes.read" }),
            json!({ "kind": "permission", "permission": "acme__notes.write" }),
        ]
    );
}

#[tokio::test]
async fn a_route_requiring_an_undeclared_permission_stops_start_up() {
    let app = TempApp::new();
    app.plugin("acme__notes", "1.0.0", &[], "");
    let error = start_error(app.app().plugin("acme__notes", notes)).await;
    match &error {
        StartError::Mount { plugin, cause } => {
            assert_eq!(plugin, "acme__notes");
            assert!(
                matches!(&**cause, MountFailure::UnknownPermission { permission, path, .. } if permission == "acme__notes.read" && path == "/notes"),
                "{error}"
            );
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(error.to_string().contains("[permissions]"), "{error}");
}

#[tokio::test]
async fn a_bad_permission_name_in_metadata_is_reported_with_its_field() {
    let app = TempApp::new();
    app.plugin(
        "acme__notes",
        "1.0.0",
        &[],
        "[permissions]\n\"Read-All\" = \"x\"\nwrite = 3\n",
    );
    let report = raclette_runtime::App::discover(app.path())
        .err()
        .expect("a report")
        .to_string();
    assert!(report.contains("permissions.Read-All"), "{report}");
    assert!(report.contains("permissions.write"), "{report}");
    assert!(report.contains("expected a string"), "{report}");
}

#[tokio::test]
async fn the_todo_plugin_requires_its_permissions() {
    let app = TempApp::new();
    app.config("name = \"todo\"\n[auth]\n");
    app.plugin("acme__signer", "1.0.0", &[], "");
    app.with_todo_plugin();
    let server = start(
        app.app()
            .plugin("acme__signer", signer)
            .plugin("pacifico__todo", pacifico_todo_server::plugin),
    )
    .await;
    let routes = [
        ("GET", "/todo/all"),
        ("GET", "/todo/00000000-0000-4000-8000-000000000000"),
        ("POST", "/todo"),
        ("PATCH", "/todo/00000000-0000-4000-8000-000000000000"),
        (
            "PATCH",
            "/todo/checkTask/00000000-0000-4000-8000-000000000000",
        ),
        ("DELETE", "/todo/00000000-0000-4000-8000-000000000000"),
        (
            "PATCH",
            "/todo/00000000-0000-4000-8000-000000000000/restore",
        ),
        ("DELETE", "/todo/00000000-0000-4000-8000-000000000000/hard"),
    ];
    for (method, path) in routes {
        let path = format!("/plugin/pacifico/todo{path}");
        assert_eq!(
            status(&server, method, &path, None).await,
            401,
            "{method} {path}"
        );
        let reads = method == "GET";
        let expected_for_reader = if reads { [200, 404] } else { [403, 403] };
        let got = status(&server, method, &path, Some(("u1", "pacifico__todo.read"))).await;
        assert!(expected_for_reader.contains(&got), "{method} {path}: {got}");
    }
}
