//! The client half on the server: compiled modules, traversal protection,
//! the widget catalogue, the generated data API and the shell.

use raclette_tests::{TempApp, call, listed_plugin, start};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends a request with the path exactly as given (no URL normalisation,
/// which every HTTP client library applies) and returns status and body.
async fn raw_get(server: &raclette_runtime::RunningApp, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn fixture() -> TempApp {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    app.write(
        "plugins/acme__shop/client/index.ts",
        "import { defineRaclettePluginClient } from '@raclette/client'\nimport { label } from './util.ts'\ninterface Cart { items: number }\nconst cart: Cart = { items: 0 }\nexport default defineRaclettePluginClient({ i18n: { en: { label: label(cart.items) } } })\n",
    );
    app.write(
        "plugins/acme__shop/client/util.ts",
        "export function label(n: number): string { return `items: ${n}` }\n",
    );
    app.write(
        "plugins/acme__shop/client/broken.ts",
        "export const ok = 1;\nconst = ;\n",
    );
    app.write(
        "plugins/acme__shop/client/style.css",
        "body { color: red }\n",
    );
    app.write(
        "plugins/acme__shop/client/widgets/cart/setup.ts",
        "export const details = { title: 'Cart', color: '#fa0', icon: 'cart', images: [], description: 'The cart' }\nexport const config = { max: { type: 'number', default: 5, editor: { inputType: 'number', min: 1, max: 9, step: 1 } } }\n",
    );
    app.write("plugins/acme__shop/client/widgets/cart/CartWidget.ts", "export default function mount(el: HTMLElement) { el.textContent = 'cart'; return () => {} }\n");
    app.write(
        "plugins/acme__shop/private/secret.txt",
        "not for browsers\n",
    );
    app.write(
        "plugins/acme__shop/outside.txt",
        "not for browsers either\n",
    );
    app
}

#[tokio::test]
async fn typescript_is_served_as_javascript() {
    let app = fixture();
    let server = start(app.app()).await;
    let reply = call(
        &server,
        "GET",
        "/raclette/client/plugin_acme__shop/index.js",
        None,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.headers["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(reply.text.contains("from \"./util.js\""), "{}", reply.text);
    assert!(!reply.text.contains("interface Cart"), "{}", reply.text);
    assert!(
        reply.text.contains("const cart = { items: 0 }"),
        "{}",
        reply.text
    );

    for path in ["util.js", "util", "util.ts"] {
        let reply = call(
            &server,
            "GET",
            &format!("/raclette/client/plugin_acme__shop/{path}"),
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "{path}");
        assert!(
            reply.text.contains("function label(n)"),
            "{path}: {}",
            reply.text
        );
    }
    let css = call(
        &server,
        "GET",
        "/raclette/client/plugin_acme__shop/style.css",
        None,
    )
    .await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(css.text, "body { color: red }\n");
    let missing = call(
        &server,
        "GET",
        "/raclette/client/plugin_acme__shop/nope.js",
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json["statusCode"], 404);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn modules_point_at_source_maps_that_name_the_typescript() {
    let app = fixture();
    let server = start(app.app()).await;
    let base = "/raclette/client/plugin_acme__shop";
    // Asked for without an extension, the module still names its own map.
    for (module, map_url, source) in [
        ("index.js", format!("{base}/index.js.map"), "index.ts"),
        (
            "widgets/cart/CartWidget",
            format!("{base}/widgets/cart/CartWidget.js.map"),
            "CartWidget.ts",
        ),
        ("util", format!("{base}/util.js.map"), "util.ts"),
    ] {
        let reply = call(&server, "GET", &format!("{base}/{module}"), None).await;
        assert!(
            reply
                .text
                .ends_with(&format!("\n//# sourceMappingURL={map_url}\n")),
            "{module}: {}",
            reply.text
        );
        let map = call(&server, "GET", &map_url, None).await;
        assert_eq!(map.status, 200, "{map_url}");
        assert_eq!(map.headers["content-type"], "application/json");
        assert_eq!(map.json["sources"], json!([source]), "{map_url}");
        assert!(
            map.json["sourcesContent"][0]
                .as_str()
                .is_some_and(|s| s.contains("export")),
            "{}",
            map.json
        );
    }
    let runtime = call(&server, "GET", "/raclette/runtime/client.js", None).await;
    assert!(
        runtime
            .text
            .ends_with("\n//# sourceMappingURL=/raclette/runtime/client.js.map\n")
    );
    let map = call(&server, "GET", "/raclette/runtime/client.js.map", None).await;
    assert_eq!(map.json["sources"], json!(["client.ts"]));
    for missing in ["broken.js.map", "style.css.map", "nope.js.map"] {
        let reply = call(&server, "GET", &format!("{base}/{missing}"), None).await;
        assert_eq!(reply.status, 404, "{missing}");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn embedded_source_maps_are_served_as_files() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    let files = std::collections::BTreeMap::from([
        (
            "index.js".to_owned(),
            b"export default 1\n//# sourceMappingURL=/raclette/client/plugin_acme__shop/index.js.map\n"
                .as_slice(),
        ),
        (
            "index.js.map".to_owned(),
            b"{\"version\":3,\"sources\":[\"index.ts\"],\"mappings\":\"\"}".as_slice(),
        ),
    ]);
    let server = start(
        app.app()
            .client_files("acme__shop", raclette_client::ClientFiles::Embedded(files)),
    )
    .await;
    let map = call(
        &server,
        "GET",
        "/raclette/client/plugin_acme__shop/index.js.map",
        None,
    )
    .await;
    assert_eq!(map.status, 200);
    assert_eq!(map.headers["content-type"], "application/json");
    assert_eq!(map.json["sources"], json!(["index.ts"]));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn compile_errors_name_file_line_and_column() {
    let app = fixture();
    let server = start(app.app()).await;
    let reply = call(
        &server,
        "GET",
        "/raclette/client/plugin_acme__shop/broken.js",
        None,
    )
    .await;
    assert_eq!(
        reply.status, 200,
        "served as a module so the browser console shows the error"
    );
    assert!(
        reply
            .text
            .contains("plugins/acme__shop/client/broken.ts:2:7:"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains("throw new SyntaxError("),
        "{}",
        reply.text
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn only_files_inside_client_are_served() {
    let app = fixture();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        app.path().join("plugins/acme__shop/private/secret.txt"),
        app.path().join("plugins/acme__shop/client/link.txt"),
    )
    .unwrap();
    let server = start(app.app()).await;
    let base = "/raclette/client/plugin_acme__shop";
    for path in [
        format!("{base}/../outside.txt"),
        format!("{base}/../private/secret.txt"),
        format!("{base}/%2e%2e/outside.txt"),
        format!("{base}/%2E%2E/private/secret.txt"),
        format!("{base}/..%2fprivate%2fsecret.txt"),
        format!("{base}/widgets/../../outside.txt"),
        format!("{base}//etc/passwd"),
        format!("{base}/link.txt"),
        format!("{base}/raclette.plugin.toml"),
    ] {
        let (status, text) = raw_get(&server, &path).await;
        assert_ne!(status, 200, "{path} must not be served:\n{text}");
        assert!(!text.contains("not for browsers"), "{path} leaked:\n{text}");
    }
    let (status, _) = raw_get(&server, &format!("{base}/util.js")).await;
    assert_eq!(status, 200, "the raw client itself works");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_catalogue_lists_entry_and_widgets() {
    let app = fixture();
    let server = start(app.app()).await;
    let shop = listed_plugin(&server, "plugin_acme__shop").await;
    assert_eq!(
        shop["client"]["entry"],
        "/raclette/client/plugin_acme__shop/index.js"
    );
    assert_eq!(
        shop["client"]["configUrl"],
        "/raclette/plugins/plugin_acme__shop/client-config"
    );
    assert_eq!(
        shop["client"]["widgets"],
        json!([{
            "id": "cart",
            "pluginKey": "plugin_acme__shop",
            "details": { "title": "Cart", "color": "#fa0", "icon": "cart", "images": [], "description": "The cart" },
            "config": { "max": { "type": "number", "default": 5, "editor": { "inputType": "number", "min": 1, "max": 9, "step": 1 } } },
            "module": "/raclette/client/plugin_acme__shop/widgets/cart/CartWidget.js"
        }])
    );
    let module = call(
        &server,
        "GET",
        "/raclette/client/plugin_acme__shop/widgets/cart/CartWidget.js",
        None,
    )
    .await;
    assert!(
        module.text.contains("export default function mount(el)"),
        "{}",
        module.text
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_frontend_folder_is_a_client_half_too() {
    let app = TempApp::new();
    app.plugin("acme__notes", "1.0.0", &[], "");
    app.write(
        "plugins/acme__notes/frontend/index.ts",
        "const n: number = 1\nexport default n\n",
    );
    app.write(
        "plugins/acme__notes/frontend/widgets/list/setup.ts",
        "export const details = { title: 'Notes' }\nexport const config = {}\n",
    );
    app.write(
        "plugins/acme__notes/frontend/widgets/list/ListWidget.ts",
        "export default function mount(el: HTMLElement) { return () => {} }\n",
    );
    app.write("plugins/acme__notes/frontend/broken.ts", "const = ;\n");
    let server = start(app.app()).await;
    let notes = listed_plugin(&server, "plugin_acme__notes").await;
    assert_eq!(
        notes["client"]["entry"],
        "/raclette/client/plugin_acme__notes/index.js"
    );
    assert_eq!(notes["client"]["widgets"][0]["id"], "list");
    let entry = call(
        &server,
        "GET",
        "/raclette/client/plugin_acme__notes/index.js",
        None,
    )
    .await;
    assert_eq!(entry.status, 200);
    assert!(entry.text.contains("const n = 1"), "{}", entry.text);
    let broken = call(
        &server,
        "GET",
        "/raclette/client/plugin_acme__notes/broken.js",
        None,
    )
    .await;
    assert!(
        broken
            .text
            .contains("plugins/acme__notes/frontend/broken.ts:1:7:"),
        "errors name the folder the file is in: {}",
        broken.text
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn disabled_plugins_serve_no_client() {
    let app = fixture();
    app.config("[plugins.acme__shop]\nenabled = false\n");
    let server = start(app.app()).await;
    let reply = call(
        &server,
        "GET",
        "/raclette/client/plugin_acme__shop/index.js",
        None,
    )
    .await;
    assert_eq!(reply.status, 404);
    let config = call(
        &server,
        "GET",
        "/raclette/plugins/plugin_acme__shop/client-config",
        None,
    )
    .await;
    assert_eq!(config.status, 404);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn todo_client_config_is_generated_from_the_server_routes() {
    let app = TempApp::new();
    app.with_todo_plugin();
    let server = start(
        app.app()
            .plugin("pacifico__todo", pacifico_todo_server::plugin),
    )
    .await;
    let reply = call(
        &server,
        "GET",
        "/raclette/plugins/plugin_pacifico__todo/client-config",
        None,
    )
    .await;
    assert_eq!(reply.status, 200);
    let one = |event: &str| json!({ "channel": format!("plugin_pacifico__todo--{event}"), "channelKey": event, "prefix": "plugin_pacifico__todo" });
    let channel = |event: &str| json!([one(event)]);
    let updated = |event: &str| json!([one(event), one("broadcastDataUpdated")]);
    let base = "/plugin/pacifico/todo/todo";
    let expected = json!({
        "pluginKey": "plugin_pacifico__todo",
        "pluginName": "todo",
        "author": "pacifico",
        "routePrefix": "/plugin/pacifico/todo",
        "data": {
            "todo": {
                "type": "todo",
                "idKey": "_id",
                "operations": {
                    "getAll": { "target": format!("{base}/all"), "method": "get", "kind": "read", "channels": [] },
                    "get": { "target": format!("{base}/:_id"), "method": "get", "kind": "read", "channels": [] },
                    "create": { "target": base, "method": "post", "kind": "create", "channels": channel("todoCreated") },
                    "update": { "target": format!("{base}/:_id"), "method": "patch", "kind": "update", "channels": updated("todoUpdated") },
                    "updateCheckTask": { "target": format!("{base}/checkTask/:_id"), "method": "patch", "kind": "update", "channels": updated("todoUpdated") },
                    "delete": { "target": format!("{base}/:_id"), "method": "delete", "kind": "delete", "channels": channel("todoDeleted") },
                    "restore": { "target": format!("{base}/:_id/restore"), "method": "patch", "kind": "update", "channels": updated("todoRestored") },
                    "deleteHard": { "target": format!("{base}/:_id/hard"), "method": "delete", "kind": "deleteHard", "channels": channel("todoHardDeleted") }
                }
            }
        }
    });
    assert_eq!(reply.json, expected);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_runtime_is_served_with_its_generated_types_erased() {
    let app = fixture();
    let server = start(app.app()).await;
    for name in raclette_client::runtime_files() {
        let Some(stem) = name.strip_suffix(".ts") else {
            continue;
        };
        let (status, text) = raw_get(&server, &format!("/raclette/runtime/{stem}.js")).await;
        assert_eq!(status, 200, "{name}: {text}");
        let imports_contract = ["from \"./contract.js\"", "from './contract.js'"]
            .iter()
            .chain(&["import \"./contract.js\"", "import './contract.js'"])
            .any(|import| text.contains(import));
        assert!(
            !imports_contract && !text.contains("SyntaxError"),
            "{name} imports the type-only contract module at run time, or does not compile:\n{text}"
        );
    }
    assert!(
        raclette_client::runtime_files().contains(&"contract.ts".to_owned()),
        "the generated contract.ts is part of the runtime"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn todo_declarations_carry_the_fields_of_the_rust_todo() {
    let app = TempApp::new();
    app.with_todo_plugin();
    let listing = app
        .app()
        .plugin("pacifico__todo", pacifico_todo_server::plugin)
        .inspect()
        .await
        .unwrap();
    // What the host's `client-config` command prints, and the CLI reads.
    let descriptions = raclette_runtime::host::data_api_descriptions(&listing);
    let description = &descriptions["plugin_pacifico__todo"];
    let through_json: raclette_contract::DataApiDescription =
        serde_json::from_str(&serde_json::to_string(description).unwrap()).unwrap();
    let dts = raclette_client::declaration_file(&through_json);
    assert!(
        dts.contains("getAll(request?: DataRequest): DataState<Item<Todo>>;"),
        "{dts}"
    );
    assert!(
        dts.contains("deleteHard(request?: DataRequest): DataState<Removed>;"),
        "{dts}"
    );
    let declaration = |name: &str| {
        let start = dts.find(&format!("export type {name}")).expect(&dts);
        let text = &dts[start..];
        text[..text.find(";\n").unwrap()].to_owned()
    };
    let todo = declaration("Todo = {");
    for field in [
        "name: string,",
        "content: string,",
        "tags: Array<string>,",
        "isCompleted: boolean,",
    ] {
        assert!(todo.contains(field), "{field} in {todo}");
    }
    let item = declaration("Item<T> = {");
    for field in [
        "_id: string,",
        "version: number,",
        "isDeleted: boolean,",
        "createdAt: string,",
        "updatedAt: string,",
        "owner: string | null,",
    ] {
        assert!(item.contains(field), "{field} in {item}");
    }
    assert!(item.ends_with("& T"), "{item}");
    assert!(
        !dts.contains("= Record<string, unknown>"),
        "every operation names its items: {dts}"
    );
    // The served data API does not change with the item types.
    assert!(
        serde_json::to_value(&description.config)
            .unwrap()
            .to_string()
            .find("Todo")
            .is_none()
    );
}

#[tokio::test]
async fn the_shell_answers_navigations_and_deep_links() {
    let app = fixture();
    let server = start(app.app()).await;
    let client = reqwest::Client::new();
    for path in ["/", "/todo", "/some/deep/link?x=1"] {
        let response = client
            .get(format!("{}{path}", server.url()))
            .header("accept", "text/html,*/*")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains(r#""@raclette/client":"/raclette/runtime/client.js""#),
            "{html}"
        );
        assert!(
            html.contains(r#"src="/raclette/runtime/shell.js""#),
            "{html}"
        );
        assert!(html.contains("<title>fixture</title>"), "{html}");
    }
    // API paths and non-browser requests keep their JSON 404.
    let api = client
        .get(format!("{}/plugin/nope", server.url()))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    let json = call(&server, "GET", "/todo", None).await;
    assert_eq!(json.status, 404);
    server.shutdown().await.unwrap();
}
