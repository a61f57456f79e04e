//! The example portal's todo plugin over real HTTP.

use raclette_tests::{PgDatabase, TempApp, call, start};
use serde_json::json;

fn todo_app(app: &TempApp) -> raclette_runtime::App {
    app.app()
        .plugin("pacifico__todo", pacifico_todo_server::plugin)
}

const BASE: &str = "/plugin/pacifico/todo";

#[tokio::test]
async fn create_read_update_delete() {
    let dir = TempApp::new();
    dir.with_todo_plugin();
    let server = start(todo_app(&dir)).await;

    let created = call(
        &server,
        "POST",
        &format!("{BASE}/todo"),
        Some(json!({"name": "Buy milk", "tags": ["home"]})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json["_id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    for field in [
        "name",
        "content",
        "tags",
        "isDeleted",
        "createdAt",
        "updatedAt",
        "version",
        "owner",
        "lastEditor",
        "project",
    ] {
        assert!(
            created.json.get(field).is_some(),
            "missing {field}: {}",
            created.json
        );
    }
    assert_eq!(created.json["content"], "");
    assert_eq!(created.json["isDeleted"], false);
    assert_eq!(created.json["project"], "default");
    assert_eq!(created.json["owner"], serde_json::Value::Null, "anonymous");

    let one = call(&server, "GET", &format!("{BASE}/todo/{id}"), None).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json["name"], "Buy milk");

    let patched = call(
        &server,
        "PATCH",
        &format!("{BASE}/todo/{id}"),
        Some(json!({"content": "2 litres"})),
    )
    .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.json["content"], "2 litres");
    assert_eq!(patched.json["name"], "Buy milk");
    assert_eq!(patched.json["version"], 2);

    // A patch that changes nothing keeps the version (and the time).
    for body in [json!({}), json!({"content": "2 litres"})] {
        let same = call(
            &server,
            "PATCH",
            &format!("{BASE}/todo/{id}"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(same.status, 200, "{}", same.text);
        assert_eq!(same.json["version"], 2, "{body}: {}", same.text);
        assert_eq!(same.json["updatedAt"], patched.json["updatedAt"]);
    }
    let stale = call(
        &server,
        "PATCH",
        &format!("{BASE}/todo/{id}"),
        Some(json!({"version": 1})),
    )
    .await;
    assert_eq!(stale.status, 409, "{}", stale.text);

    let checked = call(
        &server,
        "PATCH",
        &format!("{BASE}/todo/checkTask/{id}"),
        None,
    )
    .await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    assert_eq!(checked.json["isCompleted"], true);

    let all = call(&server, "GET", &format!("{BASE}/todo/all"), None).await;
    assert_eq!(all.json.as_array().unwrap().len(), 1);

    let deleted = call(&server, "DELETE", &format!("{BASE}/todo/{id}"), None).await;
    assert_eq!(deleted.json["isDeleted"], true);
    let all = call(&server, "GET", &format!("{BASE}/todo/all"), None).await;
    assert_eq!(all.json, json!([]));
    let still = call(&server, "GET", &format!("{BASE}/todo/{id}"), None).await;
    assert_eq!(still.json["isDeleted"], true);

    let restored = call(&server, "PATCH", &format!("{BASE}/todo/{id}/restore"), None).await;
    assert_eq!(restored.status, 200, "{}", restored.text);
    assert_eq!(restored.json["isDeleted"], false);
    let all = call(&server, "GET", &format!("{BASE}/todo/all"), None).await;
    assert_eq!(all.json.as_array().unwrap().len(), 1);

    let hard = call(&server, "DELETE", &format!("{BASE}/todo/{id}/hard"), None).await;
    assert_eq!(hard.status, 200);
    assert_eq!(hard.json, json!({"_id": id, "deleted": true}));
    let gone = call(&server, "GET", &format!("{BASE}/todo/{id}"), None).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json["statusCode"], 404);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_bodies_name_the_field() {
    let dir = TempApp::new();
    dir.with_todo_plugin();
    let server = start(todo_app(&dir)).await;
    let url = format!("{BASE}/todo");

    let missing = call(&server, "POST", &url, Some(json!({"content": "x"}))).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json["field"], "name", "{}", missing.text);

    let wrong_type = call(
        &server,
        "POST",
        &url,
        Some(json!({"name": "x", "tags": ["a", 1]})),
    )
    .await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.json["field"], "tags[1]");

    let not_v4 = call(
        &server,
        "POST",
        &url,
        Some(json!({"name": "x", "_id": "not-a-uuid"})),
    )
    .await;
    assert_eq!(not_v4.status, 400);
    assert_eq!(not_v4.json["field"], "_id");
    let id = uuid::Uuid::new_v4().to_string();
    let first = call(&server, "POST", &url, Some(json!({"name": "x", "_id": id}))).await;
    assert_eq!(first.status, 201);
    assert_eq!(first.json["_id"], id.as_str());
    let again = call(&server, "POST", &url, Some(json!({"name": "y", "_id": id}))).await;
    assert_eq!(again.status, 409);

    let bad_patch = call(
        &server,
        "PATCH",
        &format!("{BASE}/todo/{id}"),
        Some(json!({"isCompleted": "yes"})),
    )
    .await;
    assert_eq!(bad_patch.status, 400);
    assert_eq!(bad_patch.json["field"], "isCompleted");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = TempApp::new();
    dir.with_todo_plugin();
    let server = start(todo_app(&dir)).await;
    let created = call(
        &server,
        "POST",
        &format!("{BASE}/todo"),
        Some(json!({"name": "Persist me"})),
    )
    .await;
    assert_eq!(created.status, 201);
    server.shutdown().await.unwrap();

    let server = start(todo_app(&dir)).await;
    let all = call(&server, "GET", &format!("{BASE}/todo/all"), None).await;
    assert_eq!(all.json[0]["name"], "Persist me");
    assert!(dir.path().join("data/raclette.sqlite").is_file());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn runs_on_postgresql_too() {
    let pg = PgDatabase::create().await;
    let dir = TempApp::new();
    dir.with_todo_plugin();
    let server = start(todo_app(&dir).database_url(pg.url())).await;
    let created = call(
        &server,
        "POST",
        &format!("{BASE}/todo"),
        Some(json!({"name": "On Postgres", "tags": ["pg"]})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json["_id"].as_str().unwrap().to_owned();
    let again = call(
        &server,
        "POST",
        &format!("{BASE}/todo"),
        Some(json!({"name": "dup", "_id": id})),
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.text);
    let checked = call(
        &server,
        "PATCH",
        &format!("{BASE}/todo/checkTask/{id}"),
        None,
    )
    .await;
    assert_eq!(checked.json["isCompleted"], true);
    server.shutdown().await.unwrap();

    // Restart: data kept, migrations not applied twice.
    let server = start(todo_app(&dir).database_url(pg.url())).await;
    let all = call(&server, "GET", &format!("{BASE}/todo/all"), None).await;
    assert_eq!(all.json[0]["name"], "On Postgres");
    server.shutdown().await.unwrap();
    assert!(
        !dir.path().join("data/raclette.sqlite").exists(),
        "nothing was written to SQLite"
    );
    pg.drop().await;
}
