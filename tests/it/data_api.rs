//! The data API over HTTP, through the todo plugin's standard routes, on
//! SQLite and PostgreSQL: versions and `If-Match`, paging, filters, limits,
//! ids, and concurrent writers.

use raclette_runtime::RunningApp;
use raclette_tests::{PgDatabase, TempApp, call, start};
use serde_json::{Value, json};

const BASE: &str = "/plugin/pacifico/todo/todo";

/// Runs `check` against the todo app on SQLite, then on PostgreSQL.
async fn on_both<F, Fut>(check: F)
where
    F: Fn(RunningApp) -> Fut,
    Fut: std::future::Future<Output = RunningApp>,
{
    let dir = TempApp::new();
    dir.with_todo_plugin();
    let server = start(
        dir.app()
            .plugin("pacifico__todo", pacifico_todo_server::plugin),
    )
    .await;
    check(server).await.shutdown().await.unwrap();
    let pg = PgDatabase::create().await;
    let dir = TempApp::new();
    dir.with_todo_plugin();
    let server = start(
        dir.app()
            .plugin("pacifico__todo", pacifico_todo_server::plugin)
            .database_url(pg.url()),
    )
    .await;
    check(server).await.shutdown().await.unwrap();
    pg.drop().await;
}

async fn create(server: &RunningApp, body: Value) -> Value {
    let reply = call(server, "POST", BASE, Some(body)).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json
}

async fn send(
    server: &RunningApp,
    method: &str,
    path: &str,
    if_match: &str,
    body: Value,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method.parse().unwrap(), format!("{}{path}", server.url()))
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_stale_if_match_is_a_409_with_the_current_item() {
    on_both(|server| async move {
        let todo = create(&server, json!({"name": "v"})).await;
        let id = todo["_id"].as_str().unwrap().to_owned();
        assert_eq!(todo["version"], 1);
        let one = call(&server, "GET", &format!("{BASE}/{id}"), None).await;
        assert_eq!(one.headers["etag"], "\"1\"");
        let (status, updated) = send(
            &server,
            "PATCH",
            &format!("{BASE}/{id}"),
            "\"1\"",
            json!({"name": "w"}),
        )
        .await;
        assert_eq!((status, &updated["version"]), (200, &json!(2)));
        let (status, stale) = send(
            &server,
            "PATCH",
            &format!("{BASE}/{id}"),
            "\"1\"",
            json!({"name": "x"}),
        )
        .await;
        assert_eq!(status, 409, "{stale}");
        assert_eq!(stale["current"]["version"], 2);
        assert_eq!(stale["current"]["name"], "w");
        let (status, bad) = send(
            &server,
            "PATCH",
            &format!("{BASE}/{id}"),
            "soon",
            json!({"name": "x"}),
        )
        .await;
        assert_eq!((status, &bad["field"]), (400, &json!("If-Match")));
        let (status, _) = send(
            &server,
            "DELETE",
            &format!("{BASE}/{id}"),
            "\"1\"",
            Value::Null,
        )
        .await;
        assert_eq!(status, 409, "a stale delete is refused too");
        for odd in ["W/\"2\"", "\"2", "+2", "\"1\", \"2\""] {
            let (status, _) =
                send(&server, "DELETE", &format!("{BASE}/{id}"), odd, Value::Null).await;
            assert_eq!(status, 400, "If-Match: {odd}");
        }
        let (status, disagree) = send(
            &server,
            "PATCH",
            &format!("{BASE}/{id}"),
            "\"2\"",
            json!({"name": "x", "version": 1}),
        )
        .await;
        assert_eq!(
            (status, &disagree["field"]),
            (400, &json!("version")),
            "{disagree}"
        );
        let (status, deleted) = send(
            &server,
            "DELETE",
            &format!("{BASE}/{id}"),
            "\"2\"",
            Value::Null,
        )
        .await;
        assert_eq!((status, &deleted["isDeleted"]), (200, &json!(true)));
        let revive = call(
            &server,
            "PATCH",
            &format!("{BASE}/{id}"),
            Some(json!({"isDeleted": false, "name": "back"})),
        )
        .await;
        assert_eq!(
            revive.status, 409,
            "an update does not undo a delete: {}",
            revive.text
        );
        server
    })
    .await;
}

#[tokio::test]
async fn lists_are_paged_and_filtered_and_bad_queries_name_the_parameter() {
    on_both(|server| async move {
        for i in 0..120 {
            create(&server, json!({"name": format!("t{i:03}"), "tags": [if i % 3 == 0 { "three" } else { "other" }]})).await;
        }
        let first = call(&server, "GET", &format!("{BASE}/all"), None).await;
        assert_eq!(first.json.as_array().unwrap().len(), 100);
        assert_eq!(first.headers["x-next-offset"], "100");
        let rest = call(&server, "GET", &format!("{BASE}/all?offset=100"), None).await;
        assert_eq!(rest.json.as_array().unwrap().len(), 20);
        assert!(rest.headers.get("x-next-offset").is_none());
        let counted = call(&server, "GET", &format!("{BASE}/all?limit=5&count=true&sort=-name"), None).await;
        assert_eq!(counted.headers["x-total-count"], "120");
        assert_eq!(counted.json[0]["name"], "t119");
        let tagged = call(&server, "GET", &format!("{BASE}/all?tags=%5B%22three%22%5D&limit=1000"), None).await;
        assert_eq!(tagged.json.as_array().unwrap().len(), 40, "{}", tagged.text);
        let named = call(&server, "GET", &format!("{BASE}/all?name[gte]=t110"), None).await;
        assert_eq!(named.json.as_array().unwrap().len(), 10);
        for (query, field) in [
            ("limit=1001", "limit"),
            ("limit=x", "limit"),
            ("offset=-1", "offset"),
            ("colour=red", "colour"),
            ("sort=colour", "sort"),
            ("name[like]=t", "name[like]"),
            ("createdAt[gt]=yesterday", "createdAt"),
            ("project=default", "project"),
            ("createdAt[lt]=9999-12-31T23:59:59-23:59", "createdAt"),
            ("createdAt[gt]=0000-01-01T00:00:00Z", "createdAt"),
            ("owner=%00", "owner"),
            ("name=a%00b", "name"),
            ("[eq]=1", "query"),
        ] {
            let reply = call(&server, "GET", &format!("{BASE}/all?{query}"), None).await;
            assert_eq!(reply.status, 400, "{query}: {}", reply.text);
            assert_eq!(reply.json["field"], field, "{query}: {}", reply.text);
        }
        let many = vec!["name[ne]=z"; 999].join("&");
        let reply = call(&server, "GET", &format!("{BASE}/all?{many}"), None).await;
        assert_eq!((reply.status, &reply.json["field"]), (400, &json!("query")), "{}", reply.text);
        server
    })
    .await;
}

#[tokio::test]
async fn filters_compare_only_values_of_their_json_type_on_both_databases() {
    on_both(|server| async move {
        create(&server, json!({"name": "123", "isCompleted": true})).await;
        create(&server, json!({"name": "abc", "isCompleted": false})).await;
        create(
            &server,
            json!({"name": "true", "isCompleted": false, "tags": ["a"]}),
        )
        .await;
        let names = |reply: &raclette_tests::Reply| {
            let mut names: Vec<String> = reply
                .json
                .as_array()
                .unwrap_or_else(|| panic!("a list: {}", reply.text))
                .iter()
                .map(|todo| todo["name"].as_str().unwrap().to_owned())
                .collect();
            names.sort();
            names
        };
        for (query, expected) in [
            // A number or text where the field holds a boolean matches nothing.
            ("isCompleted=1", vec![]),
            ("isCompleted=0", vec![]),
            ("isCompleted[gt]=%22abc%22", vec![]),
            ("isCompleted=true", vec!["123"]),
            // Text compares with text only.
            ("name[gt]=5", vec![]),
            ("name[lt]=5", vec![]),
            ("name[gt]=true", vec![]),
            ("name=123", vec![]),
            ("name=%22123%22", vec!["123"]),
            ("name=%22true%22", vec!["true"]),
            ("name[gt]=%22a%22", vec!["abc", "true"]),
            ("tags[gt]=%22a%22", vec![]),
            // A value of another type is never equal to the filter's.
            ("name[ne]=5", vec!["123", "abc", "true"]),
            ("name[ne]=%22abc%22", vec!["123", "true"]),
            ("isCompleted[ne]=1", vec!["123", "abc", "true"]),
        ] {
            let reply = call(&server, "GET", &format!("{BASE}/all?{query}"), None).await;
            assert_eq!(reply.status, 200, "{query}: {}", reply.text);
            assert_eq!(names(&reply), expected, "{query}");
        }
        server
    })
    .await;
}

#[tokio::test]
async fn bad_ids_and_oversized_fields_are_refused_and_nothing_is_stored() {
    on_both(|server| async move {
        for id in ["%00", "not-a-uuid", "1%27%20OR%20%271%27=%271"] {
            for method in ["GET", "PATCH", "DELETE"] {
                let reply = call(&server, method, &format!("{BASE}/{id}"), Some(json!({}))).await;
                assert_eq!(reply.status, 400, "{method} {id}: {}", reply.text);
                assert_eq!(reply.json["field"], "_id");
            }
        }
        let missing = uuid::Uuid::new_v4();
        let reply = call(&server, "GET", &format!("{BASE}/{missing}"), None).await;
        assert_eq!((reply.status, &reply.json["field"]), (404, &json!("_id")));
        for (body, field) in [
            (
                json!({"name": "x", "content": "y".repeat(17 * 1024)}),
                "content",
            ),
            (json!({"name": "n".repeat(201)}), "name"),
            (json!({"name": "   "}), "name"),
            (json!({"name": "x", "colour": "red"}), "colour"),
            (json!({"name": "nul \u{0} byte"}), "name"),
            (json!({"name": "x", "tags": ["a", 1]}), "tags[1]"),
        ] {
            let reply = call(&server, "POST", BASE, Some(body.clone())).await;
            assert_eq!(reply.status, 400, "{body}: {}", reply.text);
            if !field.is_empty() {
                assert_eq!(reply.json["field"], field, "{}", reply.text);
            }
        }
        let all = call(&server, "GET", &format!("{BASE}/all?count=true"), None).await;
        assert_eq!(all.headers["x-total-count"], "0", "nothing was stored");
        server
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_of_different_fields_and_deletes_lose_nothing() {
    on_both(|server| async move {
        let server = std::sync::Arc::new(server);
        let mut ids = Vec::new();
        for i in 0..30 {
            let todo = create(&server, json!({"name": format!("c{i}")})).await;
            ids.push(todo["_id"].as_str().unwrap().to_owned());
        }
        let mut tasks = tokio::task::JoinSet::new();
        for id in &ids {
            for patch in [
                json!({"name": format!("name {id}")}),
                json!({"content": format!("content {id}")}),
                json!({"tags": [id]}),
                json!({"isCompleted": true}),
            ] {
                let (server, id) = (server.clone(), id.clone());
                tasks.spawn(async move {
                    let reply = call(&server, "PATCH", &format!("{BASE}/{id}"), Some(patch)).await;
                    assert_eq!(reply.status, 200, "{}", reply.text);
                });
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        for id in &ids {
            let todo = call(&server, "GET", &format!("{BASE}/{id}"), None)
                .await
                .json;
            assert_eq!(todo["name"], format!("name {id}"));
            assert_eq!(todo["content"], format!("content {id}"));
            assert_eq!(todo["tags"], json!([id]));
            assert_eq!(todo["isCompleted"], true);
            assert_eq!(todo["version"], 5);
        }
        // A soft delete racing updates stays deleted.
        let mut tasks = tokio::task::JoinSet::new();
        for id in &ids {
            let (s, i) = (server.clone(), id.clone());
            tasks.spawn(async move {
                call(&s, "DELETE", &format!("{BASE}/{i}"), None)
                    .await
                    .status
            });
            let (s, i) = (server.clone(), id.clone());
            tasks.spawn(async move {
                call(
                    &s,
                    "PATCH",
                    &format!("{BASE}/{i}"),
                    Some(json!({"content": "late"})),
                )
                .await
                .status
            });
        }
        while let Some(done) = tasks.join_next().await {
            assert!(matches!(done.unwrap(), 200 | 409));
        }
        let live = call(&server, "GET", &format!("{BASE}/all"), None).await;
        assert_eq!(live.json, json!([]), "every deleted todo stays deleted");
        std::sync::Arc::try_unwrap(server)
            .ok()
            .expect("no task holds the server")
    })
    .await;
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_refused_not_ignored() {
    let dir = TempApp::new();
    dir.with_todo_plugin();
    let server = start(
        dir.app()
            .plugin("pacifico__todo", pacifico_todo_server::plugin),
    )
    .await;
    let todo = create(&server, json!({"name": "check me"})).await;
    let id = todo["_id"].as_str().unwrap();
    let response = reqwest::Client::new()
        .patch(format!("{}{BASE}/checkTask/{id}", server.url()))
        .body(r#"{"isCompleted":false,"name":"renamed"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let unchanged = call(&server, "GET", &format!("{BASE}/{id}"), None).await;
    assert_eq!(
        (&unchanged.json["isCompleted"], &unchanged.json["version"]),
        (&json!(false), &json!(1))
    );
    let checked = call(&server, "PATCH", &format!("{BASE}/checkTask/{id}"), None).await;
    assert_eq!(
        checked.json["isCompleted"], true,
        "no body at all checks the task off"
    );
    server.shutdown().await.unwrap();
}
