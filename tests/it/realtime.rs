//! The built-in `raclette__realtime` plugin: socket.io connections
//! authenticated like HTTP, every data operation's writes delivered to the
//! sockets of the same project and no other.

use std::time::Duration;

use raclette_runtime::RunningApp;
use raclette_tests::{PgDatabase, RedisServer, TempApp, socketio::SocketClient, start};
use serde_json::{Value, json};

use crate::auth::{Agent, Db, PASSWORD, Portal, on_both_databases};

const TODO_CREATED: &str = "plugin_pacifico__todo--todoCreated";
const QUIET: Duration = Duration::from_millis(400);
const SOON: Duration = Duration::from_secs(5);

/// Opens a socket with the agent's credentials (cookie or bearer token).
async fn socket_of(portal: &Portal, agent: &Agent) -> SocketClient {
    let mut headers = Vec::new();
    if let Some(cookie) = &agent.cookie {
        headers.push(("cookie", cookie.clone()));
    }
    if let Some(token) = &agent.bearer {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    SocketClient::connect(&portal.server.url(), &headers)
        .await
        .unwrap_or_else(|refused| panic!("socket refused: {refused:?}"))
}

/// The next event named `name`, skipping others.
async fn next_named(socket: &mut SocketClient, name: &str) -> Value {
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match socket.event(left).await {
            Some((event, data)) if event == name => return data,
            Some(_) => continue,
            None => panic!("no `{name}` event within {SOON:?}"),
        }
    }
}

async fn writes_reach_their_project_only(db: Db) {
    let portal = Portal::start(db, "").await;
    let (mut ada, _) = portal.signed_in("ada@example.com").await;
    let (mut bob, _) = portal.signed_in("bob@example.com").await;
    // Bob moves to a project of his own, where Ada is not a member.
    let bobs_project = bob.enter_new_project("Bob's").await;

    let mut ada_socket = socket_of(&portal, &ada).await;
    let mut ada_second_tab = socket_of(&portal, &ada).await;
    let mut bob_socket = socket_of(&portal, &bob).await;

    let id = ada.create_todo("milk").await;
    for socket in [&mut ada_socket, &mut ada_second_tab] {
        let message = next_named(socket, TODO_CREATED).await;
        assert_eq!(message["channelKey"], TODO_CREATED);
        assert_eq!(message["pluginKey"], "plugin_pacifico__todo");
        assert_eq!(message["event"], "todoCreated");
        assert_eq!(message["project"], "default");
        assert_eq!(message["items"][0]["_id"], id.as_str(), "{message}");
        assert_eq!(message["items"][0]["name"], "milk");
    }
    // An update broadcasts on both of its channels.
    let updated = ada
        .send(
            "PATCH",
            &format!("/plugin/pacifico/todo/todo/{id}"),
            Some(json!({ "name": "oat milk" })),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    let names: Vec<String> = ada_socket
        .events_within(QUIET)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert!(
        names.contains(&"plugin_pacifico__todo--todoUpdated".to_owned())
            && names.contains(&"plugin_pacifico__todo--broadcastDataUpdated".to_owned()),
        "{names:?}"
    );

    // Bob's own write reaches him, and nothing of Ada's project ever did.
    let bobs = bob.create_todo("bob's").await;
    let first = bob_socket.event(SOON).await.expect("bob's own write");
    assert_eq!(first.0, TODO_CREATED);
    assert_eq!(first.1["items"][0]["_id"], bobs.as_str(), "{:?}", first.1);
    assert_eq!(first.1["project"], bobs_project.as_str());
    assert!(
        ada_socket.events_within(QUIET).await.is_empty(),
        "a write of another project reached Ada"
    );

    // A bearer token's socket is authenticated like its requests.
    let token = ada
        .send(
            "POST",
            "/plugin/raclette/core/token",
            Some(json!({ "name": "script" })),
        )
        .await;
    assert_eq!(token.status, 201, "{}", token.text);
    let mut script = portal.agent();
    script.bearer = token.json["secret"].as_str().map(str::to_owned);
    let mut script_socket = socket_of(&portal, &script).await;
    let deleted = ada
        .send("DELETE", &format!("/plugin/pacifico/todo/todo/{id}"), None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    let message = next_named(&mut script_socket, "plugin_pacifico__todo--todoDeleted").await;
    assert_eq!(message["items"][0]["_id"], id.as_str());

    for socket in [ada_socket, ada_second_tab, bob_socket, script_socket] {
        socket.close().await;
    }
    portal.stop().await;
}

async fn strangers_are_refused(db: Db) {
    let portal = Portal::start(db, "").await;
    let base = portal.server.url();
    let anonymous = SocketClient::connect(&base, &[])
        .await
        .err()
        .expect("refused");
    assert_eq!(anonymous.status, Some(401), "{anonymous:?}");
    assert!(anonymous.text.contains("sign"), "{anonymous:?}");
    let forged = SocketClient::connect(&base, &[("authorization", "Bearer rct_forged")])
        .await
        .err()
        .expect("refused");
    assert_eq!(forged.status, Some(401), "{forged:?}");

    // Another site's page cannot use the user's cookie.
    let (ada, _) = portal.signed_in("ada@example.com").await;
    let cookie = ada.cookie.clone().expect("cookie");
    let hijack = SocketClient::connect(
        &base,
        &[("cookie", &cookie), ("origin", "https://evil.example")],
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(hijack.status, Some(403), "{hijack:?}");
    assert!(hijack.text.contains("Origin"), "{hijack:?}");
    let own_page = SocketClient::connect(&base, &[("cookie", &cookie), ("origin", &base)]).await;
    assert!(own_page.is_ok(), "{:?}", own_page.as_ref().err());

    // Signed out, the open socket is closed and the cookie opens nothing.
    let mut open = own_page.expect("connected");
    let mut ada = ada;
    let out = ada
        .send("DELETE", "/plugin/raclette/core/session", None)
        .await;
    assert_eq!(out.status, 204, "{}", out.text);
    assert!(
        open.closed_within(SOON).await,
        "signing out closes the user's sockets"
    );
    assert!(
        open.connection_closed_within(SOON).await,
        "a signed-out socket's connection stays open"
    );
    let after = SocketClient::connect(&base, &[("cookie", &cookie)])
        .await
        .err()
        .expect("refused");
    assert_eq!(after.status, Some(401), "{after:?}");
    portal.stop().await;
}

/// A new user of the instances' shared database, signed in through the
/// instance at `base`.
async fn signed_in_through(db: &raclette::Database, base: String, email: &str) -> Agent {
    raclette_core_server::admin::add_user(db, email, None, PASSWORD, false)
        .await
        .expect("user");
    let mut agent = Agent::new(base);
    let signed = agent.sign_in(email, PASSWORD).await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    agent
}

/// One instance of the portal on a shared PostgreSQL database, fanning
/// out through `redis`; `with_todo` says whether it has the todo plugin.
async fn instance(
    pg: &PgDatabase,
    redis: &RedisServer,
    channel: &str,
    with_todo: bool,
) -> (RunningApp, TempApp) {
    let app = TempApp::new();
    app.config(&format!(
        "name = \"fanout\"\n[auth]\nrequire_authentication = true\n\
         [plugins.raclette__core.options]\nsign_ins_per_minute_per_address = 1000\n\
         sign_ins_per_minute_per_account = 1000\n\
         [realtime]\nadapter = \"redis\"\nurl = \"{}\"\nchannel = \"{channel}\"\n",
        redis.url()
    ));
    let mut running = if with_todo {
        app.with_todo_plugin();
        app.app()
            .plugin("pacifico__todo", pacifico_todo_server::plugin)
    } else {
        app.app()
    };
    running = running.database_url(pg.url());
    (start(running).await, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_fan_out_through_redis_and_recover_from_its_loss() {
    let mut redis = RedisServer::start().await;
    let pg = PgDatabase::create().await;
    let channel = format!("raclette:test:{}", uuid::Uuid::new_v4().simple());
    let (a, _a_dir) = instance(&pg, &redis, &channel, true).await;
    let (b, _b_dir) = instance(&pg, &redis, &channel, true).await;
    // An instance without the todo plugin delivers none of its channels.
    let (c, _c_dir) = instance(&pg, &redis, &channel, false).await;

    let db = raclette_runtime::database::connect(&pg.url(), false)
        .await
        .expect("database");
    let mut ada = signed_in_through(&db, a.url(), "ada@example.com").await;
    let cookie = ada.cookie.clone().expect("cookie");
    let connect = |base: String| {
        let cookie = cookie.clone();
        async move {
            SocketClient::connect(&base, &[("cookie", &cookie)])
                .await
                .unwrap_or_else(|refused| panic!("socket refused: {refused:?}"))
        }
    };
    let mut on_a = connect(a.url()).await;
    let mut on_b = connect(b.url()).await;
    let mut on_c = connect(c.url()).await;
    // Bob's socket is on B; he will sign out through A while Redis is away.
    let mut bob = signed_in_through(&db, a.url(), "bob@example.com").await;
    let mut bob_on_b = SocketClient::connect(&b.url(), &[("cookie", &bob.cookie.clone().unwrap())])
        .await
        .expect("bob's socket");

    // A write through A reaches a socket of B.
    let id = ada.create_todo("written through A").await;
    let message = next_named(&mut on_b, TODO_CREATED).await;
    assert_eq!(message["items"][0]["_id"], id.as_str(), "{message}");
    let message = next_named(&mut on_a, TODO_CREATED).await;
    assert_eq!(message["items"][0]["_id"], id.as_str(), "{message}");
    // C hears the core plugin's tag channel, never the todo plugin's.
    let tag = ada
        .send(
            "POST",
            "/plugin/raclette/core/tag",
            Some(json!({ "name": "urgent", "color": "red" })),
        )
        .await;
    assert_eq!(tag.status, 201, "{}", tag.text);
    let first = on_c.event(SOON).await.expect("the tag reaches C");
    assert_eq!(first.0, "plugin_raclette__core--tagCreated", "{first:?}");
    assert_eq!(first.1["items"][0]["name"], "urgent");

    // Redis goes away: HTTP goes on, A's own sockets still hear A's writes.
    redis.kill();
    let during = ada.create_todo("written while Redis is down").await;
    let message = next_named(&mut on_a, TODO_CREATED).await;
    assert_eq!(message["items"][0]["_id"], during.as_str(), "{message}");
    let listed = ada
        .send("GET", "/plugin/pacifico/todo/todo/all", None)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert!(
        !on_b
            .events_within(QUIET)
            .await
            .iter()
            .any(|(name, _)| name == TODO_CREATED),
        "nothing could reach B without Redis"
    );

    let out = bob
        .send("DELETE", "/plugin/raclette/core/session", None)
        .await;
    assert_eq!(out.status, 204, "{}", out.text);

    // Redis is back: B's sockets are told to resync (the browser then
    // refetches what it missed), and fan-out works again.
    redis.resume().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match on_b.event(left).await {
            Some((name, _)) if name == "raclette:resync" => break,
            Some(_) => continue,
            None => panic!("B's socket was not told to resync after Redis came back"),
        }
    }
    let mut delivered = false;
    for attempt in 0..20 {
        let after = ada
            .create_todo(&format!("written after Redis is back {attempt}"))
            .await;
        let events = on_b.events_within(Duration::from_millis(500)).await;
        if events
            .iter()
            .any(|(name, m)| name == TODO_CREATED && m["items"][0]["_id"] == after.as_str())
        {
            delivered = true;
            break;
        }
    }
    assert!(delivered, "fan-out did not recover after Redis came back");
    // The end of Bob's access, which could not reach B, reaches it now.
    assert!(
        bob_on_b.closed_within(Duration::from_secs(30)).await,
        "B kept the socket of a user who signed out while Redis was away"
    );

    for socket in [on_a, on_b, on_c, bob_on_b] {
        socket.close().await;
    }
    for server in [a, b, c] {
        server.shutdown().await.expect("clean shutdown");
    }
    db.close().await;
    pg.drop().await;
}

/// An end of access on one instance holds at once on every instance: the
/// others forget what they cached of the user before they close the
/// user's sockets, so the browser's new connection there is refused
/// rather than authenticated from a cache for a few more seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_ended_on_one_instance_ends_on_every_instance() {
    let redis = RedisServer::start().await;
    let pg = PgDatabase::create().await;
    let channel = format!("raclette:test:{}", uuid::Uuid::new_v4().simple());
    let (a, _a_dir) = instance(&pg, &redis, &channel, false).await;
    let (b, _b_dir) = instance(&pg, &redis, &channel, false).await;
    let db = raclette_runtime::database::connect(&pg.url(), false)
        .await
        .expect("database");
    let mut ada = signed_in_through(&db, a.url(), "ada@example.com").await;
    let cookie = ada.cookie.clone().expect("cookie");
    let (token_id, secret) = ada.create_token("script").await;
    let bearer = format!("Bearer {secret}");
    let by_cookie = [("cookie", cookie.as_str())];
    let by_token = [("authorization", bearer.as_str())];

    // B authenticates both sockets, and caches the session and the token.
    let mut cookie_socket = SocketClient::connect(&b.url(), &by_cookie)
        .await
        .expect("socket with the cookie");
    let mut token_socket = SocketClient::connect(&b.url(), &by_token)
        .await
        .expect("socket with the token");

    // The token is revoked on A: B closes its socket and refuses it again.
    let revoked = ada
        .send(
            "DELETE",
            &format!("/plugin/raclette/core/token/{token_id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    assert!(
        token_socket.closed_within(SOON).await,
        "B closes the revoked token's socket"
    );
    let again = SocketClient::connect(&b.url(), &by_token).await;
    assert!(
        again.is_err(),
        "B authenticated a revoked token from its cache"
    );

    // The session ends on A: the same for the cookie.
    let out = ada
        .send("DELETE", "/plugin/raclette/core/session", None)
        .await;
    assert_eq!(out.status, 204, "{}", out.text);
    assert!(
        cookie_socket.closed_within(SOON).await,
        "B closes the ended session's socket"
    );
    let again = SocketClient::connect(&b.url(), &by_cookie).await;
    assert!(
        again.is_err(),
        "B authenticated an ended session from its cache"
    );

    for socket in [cookie_socket, token_socket] {
        socket.close().await;
    }
    for server in [a, b] {
        server.shutdown().await.expect("clean shutdown");
    }
    db.close().await;
    pg.drop().await;
}

on_both_databases!(
    writes_reach_their_project_only,
    strangers_are_refused,
    access_is_checked_per_message_and_ends_with_the_access,
    a_user_has_a_bounded_number_of_sockets,
    a_project_switch_moves_the_session_s_sockets
);

/// A plugin that broadcasts `n` messages of 60 KB on `POST /loud/:n`.
fn loud(app: &mut raclette::Registrar) -> raclette::Result<()> {
    async fn shout(
        broadcast: raclette::Broadcast,
        project: raclette::Project,
        raclette::extract::Path(n): raclette::extract::Path<usize>,
    ) -> raclette::Json<usize> {
        let big = "x".repeat(60_000);
        for i in 0..n {
            broadcast.send(&project, "loud", vec![json!({ "i": i, "big": big })]);
        }
        raclette::Json(n)
    }
    app.routes(raclette::Routes::new().post("/loud/:n", shout))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_holds_up_nobody_and_is_told_to_resync() {
    let app = TempApp::new();
    app.config("name = \"slow\"\n[realtime]\nqueue = 64\n");
    app.plugin("acme__loud", "1.0.0", &[], "");
    let server = start(app.app().plugin("acme__loud", loud)).await;
    let base = server.url();
    // Anonymous sockets are let in: authentication is off in this app.
    let mut stalled = SocketClient::connect(&base, &[])
        .await
        .expect("stalled socket");
    let mut reader = SocketClient::connect(&base, &[])
        .await
        .expect("reading socket");
    const ROUND: usize = 40;
    for round in 0..6 {
        let sent = raclette_tests::call(
            &server,
            "POST",
            &format!("/plugin/acme/loud/loud/{ROUND}"),
            None,
        )
        .await;
        assert_eq!(sent.status, 200, "{}", sent.text);
        // The reading socket gets every message of the round, in order,
        // however far behind the stalled one is (it may also be told to
        // resync, as every socket of a project is when one queue was full).
        for i in 0..ROUND {
            let message = next_named(&mut reader, "plugin_acme__loud--loud").await;
            assert_eq!(message["items"][0]["i"], i, "round {round}");
        }
    }
    // The stalled socket reads at last: what its queue held, then a resync
    // (6 × 40 messages of 60 KB could not all be kept for it).
    let mut heard = 0;
    let mut resync = false;
    while let Some((name, _)) = stalled.event(SOON).await {
        if name == "raclette:resync" {
            resync = true;
            break;
        }
        heard += 1;
    }
    assert!(
        resync,
        "the stalled socket was not told to resync (it heard {heard} messages)"
    );
    assert!(
        heard < 6 * ROUND,
        "it heard {heard} messages: nothing was dropped"
    );
    reader.close().await;
    stalled.close().await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_browser_sends_reaches_the_event_bus_with_its_sender() {
    use raclette::events::SocketMessage;
    use std::sync::{Arc, Mutex};

    let portal_dir = TempApp::new();
    portal_dir.config("name = \"chat\"\n");
    portal_dir.plugin("acme__chat", "1.0.0", &[], "");
    let heard: Arc<Mutex<Vec<SocketMessage>>> = Arc::default();
    let recorded = heard.clone();
    let server = start(portal_dir.app().plugin(
        "acme__chat",
        move |app: &mut raclette::Registrar| {
            let recorded = recorded.clone();
            app.listen(move |message: SocketMessage| {
                let recorded = recorded.clone();
                async move { recorded.lock().unwrap().push(message) }
            });
            Ok(())
        },
    ))
    .await;
    let mut socket = SocketClient::connect(&server.url(), &[])
        .await
        .expect("socket");
    socket.emit("typing", &json!({ "text": "hello" })).await;
    socket.emit("raclette:resync", &json!({})).await;
    socket.emit("bare", &Value::Null).await;
    let deadline = tokio::time::Instant::now() + SOON;
    while heard.lock().unwrap().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut heard = heard.lock().unwrap().clone();
    // Listeners run in tasks of their own: their order is not kept.
    heard.sort_by(|a, b| b.event.cmp(&a.event));
    assert_eq!(
        heard.len(),
        2,
        "reserved names are not passed on: {heard:?}"
    );
    assert_eq!(heard[0].event, "typing");
    assert_eq!(heard[0].data, json!({ "text": "hello" }));
    assert_eq!(heard[0].project.id(), "default");
    assert!(heard[0].user.get().is_none(), "an anonymous socket");
    assert_eq!(heard[1].event, "bare");
    assert_eq!(heard[1].data, Value::Null);

    // A message past `max_payload` (64 KiB by default) closes its socket,
    // and nothing else.
    let mut flooder = SocketClient::connect(&server.url(), &[])
        .await
        .expect("socket");
    flooder
        .emit("huge", &json!({ "text": "x".repeat(200_000) }))
        .await;
    assert!(
        flooder.closed_within(SOON).await,
        "the huge message was read"
    );
    let health = raclette_tests::call(&server, "GET", "/raclette/health", None).await;
    assert_eq!(health.status, 200);
    socket.emit("after", &json!(1)).await;
    socket.close().await;
    server.shutdown().await.expect("clean shutdown");
}

/// Core options with a role that may read tags only.
const TAGGER_ROLE: &str = "sign_ins_per_minute_per_account = 1000\n\
    [plugins.raclette__core.options.roles]\ntagger = [\"raclette__core.tag.read\"]\n";

async fn access_is_checked_per_message_and_ends_with_the_access(db: Db) {
    let portal = Portal::start(db, TAGGER_ROLE).await;
    let (mut ada, _) = portal.signed_in("ada@example.com").await;
    let (carol, carol_id) = portal.signed_in("carol@example.com").await;
    // A role change closes the sockets opened under the old role.
    let mut before = socket_of(&portal, &carol).await;
    let role = ada
        .send(
            "PUT",
            "/plugin/raclette/core/member",
            Some(json!({ "email": "carol@example.com", "role": "tagger" })),
        )
        .await;
    assert_eq!(role.status, 204, "{}", role.text);
    assert!(
        before.closed_within(SOON).await,
        "a role change closes the user's sockets"
    );
    // The connection closes with its socket: a new one is authenticated
    // anew.
    assert!(
        before.connection_closed_within(SOON).await,
        "the connection outlived its socket"
    );

    // Carol may read tags but not todos: she hears the one, not the other.
    let mut carol_socket = socket_of(&portal, &carol).await;
    let mut ada_socket = socket_of(&portal, &ada).await;
    ada.create_todo("not for taggers").await;
    next_named(&mut ada_socket, TODO_CREATED).await;
    let tag = ada
        .send(
            "POST",
            "/plugin/raclette/core/tag",
            Some(json!({ "name": "urgent", "color": "red" })),
        )
        .await;
    assert_eq!(tag.status, 201, "{}", tag.text);
    let first = carol_socket
        .event(SOON)
        .await
        .expect("the tag reaches carol");
    assert_eq!(first.0, "plugin_raclette__core--tagCreated", "{first:?}");

    // A connection made before the user's access ended cannot open its
    // socket afterwards.
    let cookie = carol.cookie.clone().expect("cookie");
    let mut waiting = SocketClient::open(&portal.server.url(), &[("cookie", &cookie)])
        .await
        .expect("connection");
    let removed = ada
        .send(
            "DELETE",
            &format!("/plugin/raclette/core/member/{carol_id}"),
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    assert!(
        carol_socket.closed_within(SOON).await,
        "removal closes her sockets"
    );
    let answer = waiting.open_socket().await;
    assert!(
        answer.starts_with("44"),
        "a socket opened after the removal: {answer}"
    );
    for socket in [ada_socket, carol_socket, waiting, before] {
        socket.close().await;
    }
    portal.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_authenticate_again_after_their_lifetime() {
    let app = TempApp::new();
    app.config("name = \"short\"\n[realtime]\nreauthenticate_seconds = 1\n");
    let server = start(app.app()).await;
    let mut socket = SocketClient::connect(&server.url(), &[])
        .await
        .expect("socket");
    assert!(
        socket.closed_within(Duration::from_secs(10)).await,
        "the socket outlived its lifetime"
    );
    let again = SocketClient::connect(&server.url(), &[]).await;
    assert!(again.is_ok(), "a new connection is let in");
    server.shutdown().await.expect("clean shutdown");
}

async fn a_user_has_a_bounded_number_of_sockets(db: Db) {
    let portal = Portal::start(
        db,
        "sign_ins_per_minute_per_account = 1000\n[realtime]\nmax_sockets_per_user = 2\n",
    )
    .await;
    let (ada, _) = portal.signed_in("ada@example.com").await;
    let (bob, _) = portal.signed_in("bob@example.com").await;
    let first = socket_of(&portal, &ada).await;
    let second = socket_of(&portal, &ada).await;
    let cookie = ada.cookie.clone().expect("cookie");
    let mut third = SocketClient::open(&portal.server.url(), &[("cookie", &cookie)])
        .await
        .expect("connection");
    let answer = third.open_socket().await;
    assert!(answer.starts_with("44"), "a third socket opened: {answer}");
    assert!(answer.contains("too many"), "{answer}");
    // Others are not affected, and a closed socket makes room.
    let bobs = socket_of(&portal, &bob).await;
    first.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = socket_of(&portal, &ada).await;
    // A socket that leaves takes its connection with it: leaving cannot
    // pile up connections outside the cap.
    again.leave().await;
    assert!(
        again.connection_closed_within(SOON).await,
        "the connection outlived the socket that left"
    );
    for socket in [second, again, bobs, third] {
        socket.close().await;
    }
    portal.stop().await;
}

/// Binary attachments count against `max_payload` like text: a message
/// whose attachments add up past it closes the connection instead of
/// being buffered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_past_the_payload_limit_close_the_connection() {
    let portal = Portal::start(
        Db::Sqlite,
        "sign_ins_per_minute_per_account = 1000\n[realtime]\nmax_payload = 65536\n",
    )
    .await;
    let (ada, _) = portal.signed_in("ada@example.com").await;
    let mut socket = socket_of(&portal, &ada).await;
    let placeholders: Vec<Value> = (0..4)
        .map(|num| json!({ "_placeholder": true, "num": num }))
        .collect();
    socket
        .send_text(&format!("454-{}", json!(["big", placeholders])))
        .await;
    for _ in 0..4 {
        socket.send_binary(vec![7; 60_000]).await;
    }
    assert!(
        socket.connection_closed_within(SOON).await,
        "240 KB of attachments were taken under a 64 KiB limit"
    );

    // Too many attachments, however small, close it too.
    let mut socket = socket_of(&portal, &ada).await;
    let placeholders: Vec<Value> = (0..100)
        .map(|num| json!({ "_placeholder": true, "num": num }))
        .collect();
    socket
        .send_text(&format!("4100-{}", json!(["many", placeholders])))
        .await;
    for _ in 0..100 {
        socket.send_binary(vec![1]).await;
    }
    assert!(
        socket.connection_closed_within(SOON).await,
        "a message with 100 attachments was taken"
    );
    portal.stop().await;
}

#[tokio::test]
async fn a_bad_realtime_option_names_the_section_the_user_wrote() {
    let app = TempApp::new();
    app.config("name = \"bad\"\n[realtime]\nadapter = \"bogus\"\n");
    let failure = raclette_tests::start_error(app.app()).await;
    let Some((
        "raclette__realtime",
        raclette_runtime::MountFailure::Setup(raclette::Error::Options {
            field, overrides, ..
        }),
    )) = failure.mount_failure()
    else {
        panic!("expected an options error, got {failure:?}");
    };
    assert_eq!(field, "options.adapter");
    assert_eq!(overrides, "[realtime]");
    let error = failure.to_string();
    assert!(error.contains("expected `memory` or `redis`"), "{error}");
    assert!(error.contains("raclette.toml [realtime]"), "{error}");

    // `raclette verify` points at the line the user wrote.
    let problems = raclette_runtime::host::start_up_problems(app.app()).await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["kind"], "options", "{problems:?}");
    assert_eq!(problems[0]["file"], "raclette.toml", "{problems:?}");
    assert_eq!(problems[0]["field"], "[realtime] adapter", "{problems:?}");

    // A number that must be positive says so in words.
    app.config("name = \"bad\"\n[realtime]\nqueue = 0\n");
    let problems = raclette_runtime::host::start_up_problems(app.app()).await;
    assert_eq!(problems[0]["field"], "[realtime] queue", "{problems:?}");
    let message = problems[0]["message"].as_str().unwrap();
    assert!(
        message.contains("a whole number of at least 1"),
        "{message}"
    );

    app.config("name = \"bad\"\n[realtime]\nurl = \"http://127.0.0.1:6379\"\n");
    let problems = raclette_runtime::host::start_up_problems(app.app()).await;
    assert_eq!(problems[0]["field"], "[realtime] url", "{problems:?}");
    let message = problems[0]["message"].as_str().unwrap();
    assert!(message.contains("is not a Redis URL"), "{message}");
}

async fn a_project_switch_moves_the_session_s_sockets(db: Db) {
    let portal = Portal::start(db, "").await;
    let (mut ada, _) = portal.signed_in("ada@example.com").await;
    let mut old = socket_of(&portal, &ada).await;
    let second = ada.enter_new_project("Second").await;
    assert!(
        old.closed_within(SOON).await,
        "the socket of the old project stays open"
    );
    // Connected again, the session's socket is in the new project.
    let mut new = socket_of(&portal, &ada).await;
    let id = ada.create_todo("in the second project").await;
    let message = next_named(&mut new, TODO_CREATED).await;
    assert_eq!(message["project"], second.as_str());
    assert_eq!(message["items"][0]["_id"], id.as_str());
    for socket in [old, new] {
        socket.close().await;
    }
    portal.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_closes_the_sockets() {
    let app = TempApp::new();
    app.config("name = \"closing\"\n");
    let server = start(app.app()).await;
    let mut socket = SocketClient::connect(&server.url(), &[])
        .await
        .expect("socket");
    server.shutdown().await.expect("clean shutdown");
    assert!(
        socket.closed_within(SOON).await,
        "the socket outlived the server"
    );
}
