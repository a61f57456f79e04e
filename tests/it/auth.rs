//! Users, sign-in, API tokens, roles and projects of the built-in
//! `raclette__core` plugin, against the todo example with authentication
//! required: every case on SQLite and on PostgreSQL.

use std::time::Duration;

use raclette::Database;
use raclette_core_server::{Accounts, DatabaseStore, Roles, admin};
use raclette_runtime::RunningApp;
use raclette_tests::{PgDatabase, TempApp, start};
use serde_json::{Value, json};
use tower_sessions::{SessionStore, session::Id};

/// Which database a fixture runs on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Db {
    Sqlite,
    Postgres,
}

pub(crate) const PASSWORD: &str = "correct horse battery";

/// The todo example with authentication required, users added straight
/// to its database.
pub(crate) struct Portal {
    pub(crate) server: RunningApp,
    db: Database,
    pg: Option<PgDatabase>,
    _app: TempApp,
}

impl Portal {
    pub(crate) async fn start(db: Db, core_options: &str) -> Portal {
        let app = TempApp::new();
        app.config(&format!(
            "name = \"auth\"\n[auth]\nrequire_authentication = true\n\
             [plugins.raclette__core.options]\nsign_ins_per_minute_per_address = 1000\n{core_options}{}",
            if core_options.contains("per_account") { "" } else { "sign_ins_per_minute_per_account = 1000\n" }
        ))
        .with_todo_plugin();
        let mut running = app
            .app()
            .plugin("pacifico__todo", pacifico_todo_server::plugin);
        let pg = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(PgDatabase::create().await),
        };
        let url = match &pg {
            Some(pg) => pg.url(),
            None => format!(
                "sqlite://{}",
                app.path().join("data/raclette.sqlite").display()
            ),
        };
        running = running.database_url(url.clone());
        let server = start(running).await;
        let db = raclette_runtime::database::connect(&url, false)
            .await
            .expect("database");
        Portal {
            server,
            db,
            pg,
            _app: app,
        }
    }

    pub(crate) async fn stop(self) {
        self.server.shutdown().await.expect("clean shutdown");
        self.db.close().await;
        if let Some(pg) = self.pg {
            pg.drop().await;
        }
    }

    fn accounts(&self) -> Accounts {
        Accounts::new(self.db.clone(), Roles::default(), Duration::ZERO)
    }

    /// Adds a user (owner of the default project) and returns their id.
    pub(crate) async fn user(&self, email: &str, admin: bool) -> String {
        admin::add_user(&self.db, email, None, PASSWORD, admin)
            .await
            .expect("user added")
            .id
    }

    pub(crate) fn agent(&self) -> Agent {
        Agent::new(self.server.url())
    }

    /// A signed-in agent of a new user, with that user's id.
    pub(crate) async fn signed_in(&self, email: &str) -> (Agent, String) {
        let id = self.user(email, false).await;
        let mut agent = self.agent();
        let reply = agent.sign_in(email, PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        (agent, id)
    }
}

/// A client that keeps the session cookie and CSRF token like a browser
/// page, or sends a bearer token like a script.
pub(crate) struct Agent {
    base: String,
    client: reqwest::Client,
    pub(crate) cookie: Option<String>,
    csrf: Option<String>,
    pub(crate) bearer: Option<String>,
    pub(crate) project: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) json: Value,
    pub(crate) text: String,
    headers: reqwest::header::HeaderMap,
}

impl Agent {
    /// A client of the server at `base`, signed out.
    pub(crate) fn new(base: String) -> Agent {
        Agent {
            base,
            client: reqwest::Client::new(),
            cookie: None,
            csrf: None,
            bearer: None,
            project: None,
        }
    }

    pub(crate) async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(
            method,
            format!("{}/{}", self.base, path.trim_start_matches('/')),
        );
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        if let Some(project) = &self.project {
            request = request.header("x-raclette-project", project);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(set) = headers.get("set-cookie").and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            self.cookie = (!set.contains("Max-Age=0") && !pair.ends_with('=')).then_some(pair);
        }
        let text = response.text().await.expect("body");
        for secret in [
            "$argon2",
            "password_hash",
            "passwordHash",
            "secretHash",
            "secret_hash",
            "idHash",
        ] {
            assert!(!text.contains(secret), "an answer shows `{secret}`: {text}");
        }
        Reply {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
            headers,
        }
    }

    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        let reply = self
            .send(
                "POST",
                "/plugin/raclette/core/session",
                Some(json!({ "email": email, "password": password })),
            )
            .await;
        if reply.status == 200 {
            self.csrf = reply.json["csrfToken"].as_str().map(str::to_owned);
        }
        reply
    }

    /// Creates a project (the agent owns it); returns its id.
    pub(crate) async fn create_project(&mut self, name: &str) -> String {
        let reply = self
            .send(
                "POST",
                "/plugin/raclette/core/project",
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json["_id"].as_str().expect("id").to_owned()
    }

    /// Creates a project and makes it the session's project; returns its id.
    pub(crate) async fn enter_new_project(&mut self, name: &str) -> String {
        let project = self.create_project(name).await;
        let switched = self
            .send(
                "PUT",
                "/plugin/raclette/core/session/project",
                Some(json!({ "project": project })),
            )
            .await;
        assert_eq!(switched.status, 200, "{}", switched.text);
        project
    }

    /// Creates an API token named `name`; returns its id and secret.
    pub(crate) async fn create_token(&mut self, name: &str) -> (String, String) {
        let reply = self
            .send(
                "POST",
                "/plugin/raclette/core/token",
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let field = |name: &str| reply.json[name].as_str().expect(name).to_owned();
        (field("_id"), field("secret"))
    }

    pub(crate) async fn create_todo(&mut self, name: &str) -> String {
        let reply = self
            .send(
                "POST",
                "/plugin/pacifico/todo/todo",
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json["_id"].as_str().expect("id").to_owned()
    }

    /// The status of every todo route on the todo `id`.
    async fn every_todo_route(&mut self, id: &str) -> Vec<(String, u16)> {
        let routes: [(&str, String, Option<Value>); 8] = [
            ("GET", "/plugin/pacifico/todo/todo/all".into(), None),
            ("GET", format!("/plugin/pacifico/todo/todo/{id}"), None),
            (
                "POST",
                "/plugin/pacifico/todo/todo".into(),
                Some(json!({ "name": "intruder" })),
            ),
            (
                "PATCH",
                format!("/plugin/pacifico/todo/todo/{id}"),
                Some(json!({ "name": "changed" })),
            ),
            (
                "PATCH",
                format!("/plugin/pacifico/todo/todo/checkTask/{id}"),
                Some(json!({})),
            ),
            ("DELETE", format!("/plugin/pacifico/todo/todo/{id}"), None),
            (
                "PATCH",
                format!("/plugin/pacifico/todo/todo/{id}/restore"),
                Some(json!({})),
            ),
            (
                "DELETE",
                format!("/plugin/pacifico/todo/todo/{id}/hard"),
                None,
            ),
        ];
        let mut statuses = Vec::new();
        for (method, path, body) in routes {
            let reply = self.send(method, &path, body).await;
            assert!(
                reply.json["error"].is_string() || reply.status < 400,
                "JSON error: {}",
                reply.text
            );
            statuses.push((format!("{method} {path}"), reply.status));
        }
        statuses
    }
}

/// Asserts that every route answered `status`.
fn all_answer(statuses: &[(String, u16)], status: u16, case: &str) {
    for (route, got) in statuses {
        assert_eq!(
            *got, status,
            "{case}: {route} answered {got}, expected {status}"
        );
    }
}

/// The todo `id`, read straight from the database, is unchanged.
async fn todo_is_untouched(portal: &Portal, owner: &mut Agent, id: &str, name: &str) {
    let reply = owner
        .send("GET", &format!("/plugin/pacifico/todo/todo/{id}"), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["name"], name);
    assert_eq!(reply.json["isDeleted"], false);
    let _ = portal;
}

async fn sign_in_out(db: Db) {
    let portal = Portal::start(db, "").await;
    let ada = portal.user("Ada@Example.com", false).await;
    let mut agent = portal.agent();

    let anonymous = agent
        .send("GET", "/plugin/pacifico/todo/todo/all", None)
        .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    assert!(anonymous.headers.contains_key("www-authenticate"));
    let session = agent
        .send("GET", "/plugin/raclette/core/session", None)
        .await;
    assert_eq!(session.json["user"], Value::Null, "{}", session.text);

    let wrong = agent.sign_in("ada@example.com", "not the password!").await;
    let unknown = agent.sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(
        wrong.json["message"], unknown.json["message"],
        "a failed sign-in must not tell which part was wrong"
    );
    assert!(agent.cookie.is_none(), "no session after failed sign-ins");

    let reply = agent.sign_in(" ADA@example.com ", PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let cookie = reply.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("raclette_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(reply.json["user"]["_id"], ada.as_str());
    assert_eq!(reply.json["project"], "default");
    assert!(
        reply.json["user"]["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("pacifico__todo.write"))
    );

    let csrf = agent.csrf.take();
    let forged = agent
        .send(
            "POST",
            "/plugin/pacifico/todo/todo",
            Some(json!({ "name": "forged" })),
        )
        .await;
    assert_eq!(
        forged.status, 403,
        "a cookie write without the CSRF token: {}",
        forged.text
    );
    agent.csrf = Some("wrong".into());
    let forged = agent
        .send(
            "POST",
            "/plugin/pacifico/todo/todo",
            Some(json!({ "name": "forged" })),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    agent.csrf = csrf;

    let id = agent.create_todo("write the tests").await;
    let todo = agent
        .send("GET", &format!("/plugin/pacifico/todo/todo/{id}"), None)
        .await;
    assert_eq!(todo.json["owner"], ada.as_str());
    assert_eq!(todo.json["lastEditor"], ada.as_str());
    assert_eq!(todo.json["project"], "default");
    let session = agent
        .send("GET", "/plugin/raclette/core/session", None)
        .await;
    assert_eq!(session.json["user"]["email"], "ada@example.com");
    assert_eq!(session.json["csrfToken"].as_str(), agent.csrf.as_deref());

    let old_cookie = agent.cookie.clone();
    // Two session cookies: every route reads the last, as the session
    // layer of the core plugin's own routes does.
    agent.cookie = old_cookie
        .as_ref()
        .map(|c| format!("raclette_session=stale; {c}"));
    let both = agent
        .send("GET", "/plugin/pacifico/todo/todo/all", None)
        .await;
    assert_eq!(both.status, 200, "{}", both.text);
    agent.cookie = old_cookie.clone();
    // A request that read the session before the sign-out (a project
    // switch, say) saves it after: the ended session must stay ended.
    let store = DatabaseStore::new(portal.db.clone(), Duration::ZERO);
    let id: Id = old_cookie
        .as_deref()
        .and_then(|c| c.strip_prefix("raclette_session="))
        .expect("the session cookie")
        .parse()
        .expect("a session id");
    let held = store.load(&id).await.unwrap().expect("the live session");
    let out = agent
        .send("DELETE", "/plugin/raclette/core/session", None)
        .await;
    assert_eq!(out.status, 204, "{}", out.text);
    store.save(&held).await.unwrap();
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "a save after the sign-out brought the session back"
    );
    agent.cookie = old_cookie;
    let after = agent
        .send("GET", "/plugin/pacifico/todo/todo/all", None)
        .await;
    assert_eq!(
        after.status, 401,
        "the signed-out session must not work: {}",
        after.text
    );
    portal.stop().await;
}

async fn roles_and_projects(db: Db) {
    let portal = Portal::start(db, "").await;
    let accounts = portal.accounts();
    let (mut owner, _) = portal.signed_in("owner@example.com").await;
    let id = owner.create_todo("the owner's").await;

    // A viewer reads, and may not write.
    let viewer_id = portal.user("viewer@example.com", false).await;
    accounts
        .set_member("default", &viewer_id, "viewer")
        .await
        .unwrap();
    let mut viewer = portal.agent();
    assert_eq!(
        viewer.sign_in("viewer@example.com", PASSWORD).await.status,
        200
    );
    let statuses = viewer.every_todo_route(&id).await;
    all_answer(&statuses[..2], 200, "viewer reads");
    all_answer(&statuses[2..], 403, "viewer writes");
    assert!(statuses.iter().all(|(_, s)| *s != 500));

    // A user of no project may do nothing with todos.
    let loner = portal.user("loner@example.com", false).await;
    accounts.remove_member("default", &loner).await.unwrap();
    let mut agent = portal.agent();
    assert_eq!(
        agent.sign_in("loner@example.com", PASSWORD).await.status,
        200
    );
    all_answer(&agent.every_todo_route(&id).await, 403, "no permission");

    // A member of another project never sees or changes this project's todos.
    let (mut other, other_id) = portal.signed_in("other@example.com").await;
    let project_b = other.create_project("Other").await;
    let removed = owner
        .send(
            "DELETE",
            &format!("/plugin/raclette/core/member/{other_id}"),
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let switched = other
        .send(
            "PUT",
            "/plugin/raclette/core/session/project",
            Some(json!({ "project": project_b })),
        )
        .await;
    assert_eq!(switched.status, 200, "{}", switched.text);
    assert_eq!(switched.json["project"], project_b.as_str());
    let theirs = other.create_todo("the other project's").await;
    let statuses = other.every_todo_route(&id).await;
    assert_eq!(statuses[0].1, 200, "their own list");
    for (route, status) in &statuses[1..] {
        if route == "POST /plugin/pacifico/todo/todo" {
            continue;
        }
        assert_eq!(
            *status, 404,
            "another project's todo: {route} answered {status}"
        );
    }
    let list = other
        .send("GET", "/plugin/pacifico/todo/todo/all", None)
        .await;
    assert!(
        !list.text.contains(&id),
        "another project's todo listed: {}",
        list.text
    );
    let list = owner
        .send("GET", "/plugin/pacifico/todo/todo/all", None)
        .await;
    assert!(
        !list.text.contains(&theirs),
        "another project's todo listed: {}",
        list.text
    );
    todo_is_untouched(&portal, &mut owner, &id, "the owner's").await;

    // Naming a project one is not a member of is refused.
    other.project = Some("default".into());
    let refused = other
        .send("GET", "/plugin/pacifico/todo/todo/all", None)
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    other.project = None;
    let refused = other
        .send(
            "PUT",
            "/plugin/raclette/core/session/project",
            Some(json!({ "project": "default" })),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    owner.project = Some(project_b.clone());
    assert_eq!(
        owner
            .send("GET", &format!("/plugin/pacifico/todo/todo/{theirs}"), None)
            .await
            .status,
        403
    );
    portal.stop().await;
}

async fn tokens_and_disabling(db: Db) {
    let portal = Portal::start(db, "").await;
    let (mut ada, ada_id) = portal.signed_in("ada@example.com").await;
    let id = ada.create_todo("ada's").await;
    let created = ada
        .send(
            "POST",
            "/plugin/raclette/core/token",
            Some(json!({ "name": "ci", "expiresInDays": 30 })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("rct_"));
    let listed = ada
        .send("GET", "/plugin/raclette/core/token/all", None)
        .await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1, "{}", listed.text);
    assert!(
        !listed.text.contains(&secret),
        "the secret is shown once only"
    );

    let mut script = portal.agent();
    script.bearer = Some(secret.clone());
    assert_eq!(
        script
            .send("GET", "/plugin/pacifico/todo/todo/all", None)
            .await
            .status,
        200
    );
    // Bearer requests need no CSRF token.
    let made = script.create_todo("from a script").await;
    assert!(!made.is_empty());
    let mut forged = portal.agent();
    forged.bearer = Some(format!("{secret}x"));
    all_answer(&forged.every_todo_route(&id).await, 401, "unknown token");

    let token_id = created.json["_id"].as_str().unwrap();
    let revoked = ada
        .send(
            "DELETE",
            &format!("/plugin/raclette/core/token/{token_id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    all_answer(&script.every_todo_route(&id).await, 401, "revoked token");

    // Disabling a user ends their sessions and tokens at once.
    let created = ada
        .send(
            "POST",
            "/plugin/raclette/core/token",
            Some(json!({ "name": "second" })),
        )
        .await;
    let mut script = portal.agent();
    script.bearer = created.json["secret"].as_str().map(str::to_owned);
    assert_eq!(
        script
            .send("GET", "/plugin/pacifico/todo/todo/all", None)
            .await
            .status,
        200
    );
    portal.user("root@example.com", true).await;
    let mut root = portal.agent();
    assert_eq!(root.sign_in("root@example.com", PASSWORD).await.status, 200);
    let disabled = root
        .send(
            "PATCH",
            &format!("/plugin/raclette/core/user/{ada_id}"),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    assert_eq!(disabled.json["disabled"], true);
    all_answer(
        &ada.every_todo_route(&id).await,
        401,
        "disabled user's session",
    );
    all_answer(
        &script.every_todo_route(&id).await,
        401,
        "disabled user's token",
    );
    let again = portal.agent().sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(
        again.status, 401,
        "a disabled user cannot sign in: {}",
        again.text
    );
    todo_is_untouched(&portal, &mut root, &id, "ada's").await;
    // Enabled again, the user signs in anew; the old token stays revoked.
    let enabled = root
        .send(
            "PATCH",
            &format!("/plugin/raclette/core/user/{ada_id}"),
            Some(json!({ "disabled": false })),
        )
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.text);
    all_answer(
        &script.every_todo_route(&id).await,
        401,
        "a token of before the disabling",
    );
    let mut ada = portal.agent();
    assert_eq!(ada.sign_in("ada@example.com", PASSWORD).await.status, 200);
    let tokens = ada
        .send("GET", "/plugin/raclette/core/token/all", None)
        .await;
    assert_eq!(tokens.json, json!([]), "{}", tokens.text);

    // Only administrators change other users.
    let (mut bob, _) = portal.signed_in("bob@example.com").await;
    let refused = bob
        .send(
            "PATCH",
            &format!("/plugin/raclette/core/user/{ada_id}"),
            Some(json!({ "disabled": false })),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    portal.stop().await;
}

async fn password_change_and_expiry(db: Db) {
    let portal = Portal::start(db, "cache_seconds = 0\n").await;
    let (mut first, _) = portal.signed_in("ada@example.com").await;
    let mut second = portal.agent();
    assert_eq!(
        second.sign_in("ada@example.com", PASSWORD).await.status,
        200
    );
    let id = first.create_todo("kept").await;

    let short = first
        .send(
            "POST",
            "/plugin/raclette/core/password",
            Some(json!({ "currentPassword": PASSWORD, "newPassword": "short" })),
        )
        .await;
    assert_eq!(short.status, 400, "{}", short.text);
    assert_eq!(short.json["field"], "newPassword");
    let wrong = first
        .send(
            "POST",
            "/plugin/raclette/core/password",
            Some(json!({ "currentPassword": "not my password", "newPassword": "a much better password" })),
        )
        .await;
    assert_eq!(wrong.status, 403, "{}", wrong.text);
    let changed = first
        .send(
            "POST",
            "/plugin/raclette/core/password",
            Some(json!({ "currentPassword": PASSWORD, "newPassword": "a much better password" })),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.text);
    assert_eq!(
        first
            .send("GET", "/plugin/pacifico/todo/todo/all", None)
            .await
            .status,
        200,
        "the changing session stays"
    );
    all_answer(
        &second.every_todo_route(&id).await,
        401,
        "other session after a password change",
    );
    assert_eq!(
        portal
            .agent()
            .sign_in("ada@example.com", PASSWORD)
            .await
            .status,
        401
    );
    assert_eq!(
        portal
            .agent()
            .sign_in("ada@example.com", "a much better password")
            .await
            .status,
        200
    );

    // An expired session signs nobody in.
    raclette::db::query("UPDATE raclette__core_sessions SET expires_at = 0")
        .execute(&portal.db)
        .await
        .unwrap();
    all_answer(&first.every_todo_route(&id).await, 401, "expired session");
    portal.stop().await;
}

async fn sign_ins_are_rate_limited(db: Db) {
    let portal = Portal::start(db, "sign_ins_per_minute_per_account = 3\n").await;
    portal.user("ada@example.com", false).await;
    let mut agent = portal.agent();
    for _ in 0..3 {
        assert_eq!(
            agent
                .sign_in("ada@example.com", "wrong password!!")
                .await
                .status,
            401
        );
    }
    let limited = agent.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert!(limited.headers.contains_key("retry-after"));
    // Unknown accounts are limited alike, so the limit tells nothing.
    for _ in 0..3 {
        agent.sign_in("ghost@example.com", "wrong password!!").await;
    }
    assert_eq!(
        agent.sign_in("ghost@example.com", PASSWORD).await.status,
        429
    );
    portal.user("bob@example.com", false).await;
    assert_eq!(agent.sign_in("bob@example.com", PASSWORD).await.status, 200);
    // Guessing the current password counts against the same limit.
    for _ in 0..2 {
        let wrong = agent
            .send(
                "POST",
                "/plugin/raclette/core/password",
                Some(json!({ "currentPassword": "a guess at it", "newPassword": "a much better password" })),
            )
            .await;
        assert_eq!(wrong.status, 403, "{}", wrong.text);
    }
    let limited = agent
        .send(
            "POST",
            "/plugin/raclette/core/password",
            Some(json!({ "currentPassword": PASSWORD, "newPassword": "a much better password" })),
        )
        .await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert!(limited.headers.contains_key("retry-after"));
    portal.stop().await;
}

/// Being added to someone else's project never moves where a user's
/// requests land; a project keeps an owner; tokens do not mint tokens; an
/// admin cannot enter a project that does not exist.
async fn project_safety(db: Db) {
    let portal = Portal::start(db, "").await;
    let accounts = portal.accounts();
    portal.user("keeper@example.com", false).await;
    let (mut victim, victim_id) = portal.signed_in("victim@example.com").await;
    let own = victim
        .send(
            "POST",
            "/plugin/raclette/core/project",
            Some(json!({ "name": "Acme" })),
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.text);
    let own_id = own.json["_id"].as_str().unwrap().to_owned();
    // The default project's first account owns it; later ones are members.
    let session = victim
        .send("GET", "/plugin/raclette/core/session", None)
        .await;
    let default = session.json["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["_id"] == "default")
        .cloned()
        .unwrap_or_default();
    assert_eq!(default["role"], "member", "{}", session.text);
    accounts.remove_member("default", &victim_id).await.unwrap();

    // Someone else makes a look-alike project and adds the victim to it.
    let (mut other, other_id) = portal.signed_in("other@example.com").await;
    let bait = other
        .send(
            "POST",
            "/plugin/raclette/core/project",
            Some(json!({ "name": "Acme" })),
        )
        .await;
    let bait_id = bait.json["_id"].as_str().unwrap().to_owned();
    other.project = Some(bait_id.clone());
    let added = other
        .send(
            "PUT",
            "/plugin/raclette/core/member",
            Some(json!({ "email": "victim@example.com", "role": "owner" })),
        )
        .await;
    assert_eq!(added.status, 204, "{}", added.text);
    let mut again = portal.agent();
    let signed = again.sign_in("victim@example.com", PASSWORD).await;
    assert_eq!(
        signed.json["project"],
        own_id.as_str(),
        "the victim lands in the project they joined first: {}",
        signed.text
    );

    // The last owner can neither leave nor step down.
    let (mut loner, loner_id) = portal.signed_in("loner@example.com").await;
    let solo = loner
        .send(
            "POST",
            "/plugin/raclette/core/project",
            Some(json!({ "name": "Solo" })),
        )
        .await;
    loner.project = solo.json["_id"].as_str().map(str::to_owned);
    let step_down = loner
        .send(
            "PUT",
            "/plugin/raclette/core/member",
            Some(json!({ "email": "loner@example.com", "role": "viewer" })),
        )
        .await;
    assert_eq!(step_down.status, 409, "{}", step_down.text);
    assert_eq!(step_down.json["field"], "role");
    let leave = loner
        .send(
            "DELETE",
            &format!("/plugin/raclette/core/member/{loner_id}"),
            None,
        )
        .await;
    assert_eq!(leave.status, 409, "{}", leave.text);
    // With a second owner, the first may go.
    let in_bait = other
        .send(
            "DELETE",
            &format!("/plugin/raclette/core/member/{other_id}"),
            None,
        )
        .await;
    assert_eq!(in_bait.status, 204, "{}", in_bait.text);

    // A token cannot create tokens.
    let (_, secret) = loner.create_token("ci").await;
    let mut script = portal.agent();
    script.bearer = Some(secret);
    let minted = script
        .send(
            "POST",
            "/plugin/raclette/core/token",
            Some(json!({ "name": "forever" })),
        )
        .await;
    assert_eq!(minted.status, 403, "{}", minted.text);

    // An admin may enter any project that exists, and no other.
    portal.user("root@example.com", true).await;
    let mut root = portal.agent();
    assert_eq!(root.sign_in("root@example.com", PASSWORD).await.status, 200);
    root.project = Some(own_id.clone());
    assert_eq!(
        root.send("GET", "/plugin/pacifico/todo/todo/all", None)
            .await
            .status,
        200
    );
    root.project = Some("no-such-project".into());
    let phantom = root
        .send(
            "POST",
            "/plugin/pacifico/todo/todo",
            Some(json!({ "name": "lost" })),
        )
        .await;
    assert_eq!(phantom.status, 404, "{}", phantom.text);
    assert_eq!(phantom.json["field"], "X-Raclette-Project");
    root.project = None;
    let switched = root
        .send(
            "PUT",
            "/plugin/raclette/core/session/project",
            Some(json!({ "project": "no-such-project" })),
        )
        .await;
    assert_eq!(switched.status, 404, "{}", switched.text);
    portal.stop().await;
}

/// Text with a NUL character, which PostgreSQL cannot store or compare,
/// is a 400 naming the field on both databases, in bodies and path ids.
async fn nul_characters_are_refused(db: Db) {
    let portal = Portal::start(db, "").await;
    let mut anonymous = portal.agent();
    let refused = anonymous
        .send(
            "POST",
            "/plugin/raclette/core/session",
            Some(json!({ "email": "ada@example.com\u{0}", "password": "whatever-pass" })),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(refused.json["field"], "email", "{}", refused.text);
    let (mut ada, ada_id) = portal.signed_in("ada@example.com").await;
    for (method, path, body, field) in [
        (
            "POST",
            "/plugin/raclette/core/project".to_owned(),
            Some(json!({ "name": "a\u{0}b" })),
            "name",
        ),
        (
            "POST",
            "/plugin/raclette/core/token".to_owned(),
            Some(json!({ "name": "a\u{0}b" })),
            "name",
        ),
        (
            "PUT",
            "/plugin/raclette/core/session/project".to_owned(),
            Some(json!({ "project": "a\u{0}b" })),
            "project",
        ),
        (
            "PATCH",
            format!("/plugin/raclette/core/user/{ada_id}"),
            Some(json!({ "displayName": "a\u{0}b" })),
            "displayName",
        ),
        (
            "PATCH",
            "/plugin/raclette/core/user/a%00b".to_owned(),
            Some(json!({ "displayName": "Ada" })),
            "id",
        ),
        (
            "DELETE",
            "/plugin/raclette/core/token/a%00b".to_owned(),
            None,
            "id",
        ),
        (
            "DELETE",
            "/plugin/raclette/core/member/a%00b".to_owned(),
            None,
            "id",
        ),
    ] {
        let reply = ada.send(method, &path, body).await;
        assert_eq!(reply.status, 400, "{method} {path}: {}", reply.text);
        assert!(
            reply.text.contains("NUL"),
            "{method} {path}: {}",
            reply.text
        );
        if field != "id" {
            assert_eq!(
                reply.json["field"], field,
                "{method} {path}: {}",
                reply.text
            );
        }
    }
    let tokens = ada
        .send("GET", "/plugin/raclette/core/token/all", None)
        .await;
    assert_eq!(
        tokens.json,
        json!([]),
        "nothing was stored: {}",
        tokens.text
    );
    portal.stop().await;
}

/// Runs each `async fn name(db: Db)` of the calling module as a test on
/// SQLite and one on PostgreSQL.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Db::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Db::Postgres).await })*
        }
    };
}
pub(crate) use on_both_databases;

on_both_databases!(
    sign_in_out,
    roles_and_projects,
    tokens_and_disabling,
    password_change_and_expiry,
    sign_ins_are_rate_limited,
    project_safety,
    nul_characters_are_refused,
);
