//! `GET /raclette/openapi.json` and the reference page `/raclette/docs/`,
//! on the todo example with authentication required.

use std::path::PathBuf;

use raclette_tests::{TempApp, call, repo_root, start};
use serde_json::{Value, json};

/// The OpenAPI path of a listed route path: `:id` → `{id}`.
fn openapi_path(path: &str) -> String {
    path.split('/')
        .map(|s| match s.strip_prefix([':', '*']) {
            Some(name) => format!("{{{name}}}"),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The command that checks a document against the OpenAPI 3.1 schema
/// (`scripts/setup` installs it into `.venv`).
fn validator() -> PathBuf {
    let path = repo_root().join(".venv/bin/openapi-spec-validator");
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup, which installs tests/requirements.txt",
        path.display()
    );
    path
}

/// Follows a `$ref` into `components.schemas`.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling reference {reference}"))
        }
        None => schema,
    }
}

#[tokio::test]
async fn the_document_describes_every_route_and_validates_as_openapi_3_1() {
    let app = TempApp::new();
    app.config("name = \"docs\"\n[auth]\nrequire_authentication = true\n")
        .with_todo_plugin();
    let server = start(
        app.app()
            .plugin("pacifico__todo", pacifico_todo_server::plugin),
    )
    .await;
    let reply = call(&server, "GET", "/raclette/openapi.json", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.headers["content-type"], "application/json");
    let document = reply.json;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "docs");

    // Every route of every enabled plugin, with its access.
    let plugins = call(&server, "GET", "/raclette/plugins", None).await.json;
    let mut count = 0;
    for plugin in plugins.as_array().expect("listing").iter() {
        for route in plugin["routes"].as_array().expect("routes") {
            let path = openapi_path(route["path"].as_str().expect("path"));
            let method = route["method"]
                .as_str()
                .expect("method")
                .to_ascii_lowercase();
            let operation = &document["paths"][&path][&method];
            assert!(operation.is_object(), "{method} {path} is missing");
            match route["access"]["kind"].as_str() {
                Some("public") => assert_eq!(operation["security"], json!([]), "{path}"),
                Some("permission") => {
                    assert_eq!(
                        operation["x-raclette-permission"], route["access"]["permission"],
                        "{path}"
                    );
                    assert!(operation["responses"]["403"].is_object(), "{path}");
                    assert!(operation["responses"]["401"].is_object(), "{path}");
                }
                _ => assert!(operation["responses"]["401"].is_object(), "{path}"),
            }
            count += 1;
        }
    }
    assert!(count >= 20, "only {count} routes");
    assert_eq!(
        document["security"],
        json!([{ "session": [] }, { "bearer": [] }])
    );
    assert_eq!(
        document["components"]["securitySchemes"]["session"]["name"],
        "raclette_session"
    );

    // The todo routes, from the Rust types.
    let todo = "/plugin/pacifico/todo/todo";
    let get_one = &document["paths"][format!("{todo}/{{_id}}")]["get"];
    assert_eq!(get_one["operationId"], "pacifico__todo.todo.get");
    assert_eq!(get_one["x-raclette-permission"], "pacifico__todo.read");
    assert_eq!(get_one["parameters"][0]["name"], "_id");
    assert_eq!(get_one["parameters"][0]["in"], "path");
    let item = resolve(
        &document,
        &get_one["responses"]["200"]["content"]["application/json"]["schema"],
    );
    assert_eq!(
        get_one["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/TodoItem"
    );
    for field in ["_id", "project", "owner", "version", "name", "isCompleted"] {
        assert!(item["properties"][field].is_object(), "{field}: {item}");
    }
    let error = resolve(
        &document,
        &get_one["responses"]["404"]["content"]["application/json"]["schema"],
    );
    assert!(error["properties"]["statusCode"].is_object(), "{error}");

    let create = &document["paths"][todo]["post"];
    assert!(create["responses"]["201"].is_object(), "{create}");
    let body = resolve(
        &document,
        &create["requestBody"]["content"]["application/json"]["schema"],
    );
    assert_eq!(body["required"], json!(["name"]), "{body}");
    assert_eq!(body["properties"]["name"]["type"], "string");
    assert_eq!(
        create["x-raclette-data-operation"]["channels"],
        json!(["plugin_pacifico__todo--todoCreated"])
    );
    let update = &document["paths"][format!("{todo}/{{_id}}")]["patch"];
    let patch = &update["requestBody"]["content"]["application/json"]["schema"];
    assert!(
        patch["required"].is_null(),
        "a patch needs no field: {patch}"
    );
    assert!(
        patch["properties"]["isCompleted"]["default"].is_null(),
        "a field left out of a patch keeps its value: {patch}"
    );
    assert!(update["responses"]["409"].is_object());

    let list = &document["paths"][format!("{todo}/all")]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in ["limit", "offset", "sort", "count"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["type"],
        "array"
    );
    let limit = list["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit");
    assert_eq!(limit["schema"]["minimum"], 1, "{limit}");
    assert_eq!(limit["schema"]["maximum"], 1000, "{limit}");

    // The core plugin's sign-in: public, its body from the Rust type.
    let sign_in = &document["paths"]["/plugin/raclette/core/session"]["post"];
    assert_eq!(sign_in["security"], json!([]));
    let body = resolve(
        &document,
        &sign_in["requestBody"]["content"]["application/json"]["schema"],
    );
    assert_eq!(body["required"], json!(["email", "password"]), "{body}");
    // Errors a route declares with `fails`.
    assert!(sign_in["responses"]["401"].is_object(), "{sign_in}");
    assert!(sign_in["responses"]["429"].is_object(), "{sign_in}");

    // The document is valid OpenAPI 3.1.
    let file = app.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&document).expect("json")).expect("write");
    let output = std::process::Command::new(validator())
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        output.status.success(),
        "openapi-spec-validator refused the document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_reference_page_is_served_from_the_binary() {
    let app = TempApp::new();
    app.config("name = \"docs\"\n");
    let server = start(app.app()).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let redirect = client
        .get(format!("{}/raclette/docs", server.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/raclette/docs/");

    let page = call(&server, "GET", "/raclette/docs/", None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    let init = call(
        &server,
        "GET",
        "/raclette/docs/swagger-initializer.js",
        None,
    )
    .await;
    assert_eq!(init.status, 200);
    assert!(
        init.text.contains("/raclette/openapi.json"),
        "{}",
        init.text
    );
    let bundle = call(&server, "GET", "/raclette/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status, 200);
    assert!(bundle.text.len() > 100_000);
    // Without required sign-in, anonymous calls are documented as allowed.
    let document = call(&server, "GET", "/raclette/openapi.json", None)
        .await
        .json;
    assert_eq!(
        document["security"],
        json!([{}, { "session": [] }, { "bearer": [] }])
    );
    let missing = call(&server, "GET", "/raclette/docs/nothing.js", None).await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nothing.js")
    );
    server.shutdown().await.expect("clean shutdown");
}
