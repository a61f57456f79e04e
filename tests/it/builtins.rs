//! Built-in plugins: shipped in the framework's `plugins/`, discovered
//! beside the app's own, listed, disable-able, and their names reserved.

use raclette_runtime::{App, StartError};
use raclette_tests::{TempApp, call, listed_plugin, start};

fn problems(app: &TempApp) -> Vec<(String, Option<String>, String)> {
    match App::discover(app.path()) {
        Ok(_) => panic!("discovery was expected to fail"),
        Err(StartError::Invalid(report)) => report
            .problems
            .into_iter()
            .map(|p| (p.file, p.field, p.message))
            .collect(),
        Err(other) => panic!("expected a discovery report, got {other:?}"),
    }
}

#[tokio::test]
async fn a_builtin_is_discovered_listed_and_serves_its_halves() {
    let app = TempApp::new();
    app.plugin("acme__notes", "1.0.0", &[], "");
    let server = start(app.app()).await;

    let home = listed_plugin(&server, "plugin_raclette__home").await;
    assert_eq!(home["builtin"], true);
    assert_eq!(home["enabled"], true);
    assert_eq!(home["routePrefix"], "/plugin/raclette/home");
    let notes = listed_plugin(&server, "plugin_acme__notes").await;
    assert_eq!(notes["builtin"], false);

    // Its server half is linked by the runtime and sees the app's plugins.
    let overview = call(&server, "GET", "/plugin/raclette/home/overview", None).await;
    assert_eq!(overview.status, 200, "{}", overview.text);
    let listed: Vec<(String, bool)> = overview.json["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| {
            assert_eq!(p["enabled"], true, "{p}");
            (
                p["folder"].as_str().unwrap().to_owned(),
                p["builtin"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        listed.contains(&("raclette__home".to_owned(), true)),
        "{listed:?}"
    );
    assert!(
        listed.contains(&("acme__notes".to_owned(), false)),
        "{listed:?}"
    );

    // Its client half is served and declares the page at `/`.
    assert_eq!(
        home["client"]["entry"],
        "/raclette/client/plugin_raclette__home/index.js"
    );
    let entry = call(
        &server,
        "GET",
        "/raclette/client/plugin_raclette__home/index.js",
        None,
    )
    .await;
    assert_eq!(entry.status, 200);
    assert!(entry.text.contains("path: \"/\""), "{}", entry.text);
    let widgets = home["client"]["widgets"].as_array().expect("widgets");
    assert_eq!(widgets.len(), 1);
    assert_eq!(widgets[0]["id"], "home");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_builtin_can_be_disabled_in_the_app_configuration() {
    let app = TempApp::new();
    app.config("name = \"fixture\"\n[plugins.raclette__home]\nenabled = false\n");
    let server = start(app.app()).await;
    let home = listed_plugin(&server, "plugin_raclette__home").await;
    assert_eq!(home["enabled"], false);
    assert_eq!(home["builtin"], true);
    let overview = call(&server, "GET", "/plugin/raclette/home/overview", None).await;
    assert_eq!(overview.status, 404);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_builtin_an_enabled_plugin_needs_cannot_be_disabled() {
    let app = TempApp::new();
    app.plugin("acme__dash", "1.0.0", &[("raclette__home", "^0.1")], "");
    app.config("name = \"fixture\"\n[plugins.raclette__home]\nenabled = false\n");
    let found = problems(&app);
    assert_eq!(found.len(), 1, "{found:?}");
    let (file, field, message) = &found[0];
    assert_eq!(file, "raclette.toml");
    assert_eq!(field.as_deref(), Some("plugins.raclette__home.enabled"));
    assert!(message.contains("acme__dash depends on it"), "{message}");
}

#[tokio::test]
async fn an_app_plugin_may_depend_on_a_builtin() {
    let app = TempApp::new();
    app.plugin("acme__dash", "1.0.0", &[("raclette__home", "^0.1")], "");
    let server = start(app.app()).await;
    let dash = listed_plugin(&server, "plugin_acme__dash").await;
    assert_eq!(dash["dependencies"]["raclette__home"], "^0.1");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_app_plugin_cannot_take_a_builtins_name_or_author() {
    let app = TempApp::new();
    app.plugin("raclette__home", "9.9.9", &[], "");
    app.plugin("raclette__mine", "1.0.0", &[], "");
    let found = problems(&app);
    let files: Vec<&str> = found.iter().map(|(f, _, _)| f.as_str()).collect();
    assert_eq!(
        files,
        ["plugins/raclette__home", "plugins/raclette__mine"],
        "{found:?}"
    );
    assert!(
        found[0].2.contains("belongs to a built-in plugin"),
        "{}",
        found[0].2
    );
    assert!(
        found[1]
            .2
            .contains("reserved for the framework's built-in plugins"),
        "{}",
        found[1].2
    );
}

#[tokio::test]
async fn the_overview_marks_disabled_plugins() {
    let app = TempApp::new();
    app.plugin("acme__hidden", "1.0.0", &[], "");
    app.config("name = \"fixture\"\n[plugins.acme__hidden]\nenabled = false\n");
    let server = start(app.app()).await;
    let overview = call(&server, "GET", "/plugin/raclette/home/overview", None).await;
    let hidden = overview.json["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .find(|p| p["folder"] == "acme__hidden")
        .cloned()
        .expect("listed");
    assert_eq!(hidden["enabled"], false);
    server.shutdown().await.unwrap();
}
