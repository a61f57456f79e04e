//! Discovery and validation: every problem reported at once, each naming
//! the file, the field and what was expected.

use raclette_discovery::{Report, discover};
use raclette_tests::TempApp;

fn problems(app: &TempApp) -> Report {
    match discover(app.path()) {
        Ok(model) => panic!(
            "expected problems, found a valid app with {:?}",
            model.plugins.iter().map(|p| p.folder()).collect::<Vec<_>>()
        ),
        Err(report) => report,
    }
}

/// Asserts that the report has a problem in `file` about `field` whose
/// message contains `expected`.
fn assert_problem(report: &Report, file: &str, field: Option<&str>, expected: &str) {
    let found = report
        .problems
        .iter()
        .any(|p| p.file == file && p.field.as_deref() == field && p.message.contains(expected));
    assert!(
        found,
        "no problem in {file} about {field:?} saying `{expected}`; the report:\n{report}"
    );
}

const MANIFEST: &str = "raclette.plugin.toml";

#[test]
fn every_metadata_problem_is_reported_at_once_with_file_and_field() {
    let app = TempApp::new();
    app.write(
        "plugins/acme__shop/raclette.plugin.toml",
        "name = \"shop\"\nauthor = \"acme\"\nversion = \"one\"\n",
    );
    app.write(
        "plugins/acme__cart/raclette.plugin.toml",
        "name = \"basket\"\nauthor = \"other\"\nversion = \"1.0.0\"\ncolour = \"red\"\n",
    );
    app.write(
        "plugins/acme__nameless/raclette.plugin.toml",
        "version = \"1.0.0\"\n",
    );
    app.write("plugins/acme__empty/README.md", "no metadata here\n");
    app.write(
        "plugins/acme__deps/raclette.plugin.toml",
        "name = \"deps\"\nauthor = \"acme\"\nversion = \"1.0.0\"\n[dependencies]\nacme__ghost = \"^1\"\nacme__old = \"^2\"\nacme__bad = \"not a req\"\n",
    );
    app.plugin("acme__old", "1.4.0", &[], "");
    app.plugin("acme__bad", "1.0.0", &[], "");
    app.write(
        "plugins/Bad-Folder/raclette.plugin.toml",
        "name = \"x\"\nversion = \"1.0.0\"\n",
    );
    let report = problems(&app);
    let file = |folder: &str| format!("plugins/{folder}/{MANIFEST}");
    assert_problem(
        &report,
        &file("acme__shop"),
        Some("version"),
        "`one` is not a semver version",
    );
    assert_problem(
        &report,
        &file("acme__shop"),
        Some("version"),
        "expected something like 1.2.3",
    );
    assert_problem(
        &report,
        &file("acme__cart"),
        Some("name"),
        "`basket` clashes with the folder name `acme__cart`: expected `cart`",
    );
    assert_problem(
        &report,
        &file("acme__cart"),
        Some("author"),
        "expected `acme`",
    );
    assert_problem(
        &report,
        &file("acme__cart"),
        Some("colour"),
        "unknown field; expected one of",
    );
    assert_problem(
        &report,
        &file("acme__nameless"),
        Some("name"),
        "missing; this field is required",
    );
    assert_problem(
        &report,
        &file("acme__empty"),
        None,
        "missing; every plugin folder needs one",
    );
    assert_problem(
        &report,
        &file("acme__deps"),
        Some("dependencies.acme__ghost"),
        "unknown plugin `acme__ghost`: there is no folder plugins/acme__ghost",
    );
    assert_problem(
        &report,
        &file("acme__deps"),
        Some("dependencies.acme__old"),
        "requires acme__old ^2, but acme__old is version 1.4.0",
    );
    assert_problem(
        &report,
        &file("acme__deps"),
        Some("dependencies.acme__bad"),
        "`not a req` is not a semver requirement",
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.file == "plugins/Bad-Folder"),
        "a bad folder name is reported:\n{report}"
    );
    assert!(report.problems.len() >= 11, "{report}");
    assert!(
        report
            .to_string()
            .starts_with(&format!("{} problems found:", report.problems.len()))
    );
}

#[test]
fn a_dependency_cycle_is_named() {
    let app = TempApp::new();
    app.plugin("acme__a", "1.0.0", &[("acme__b", "*")], "");
    app.plugin("acme__b", "1.0.0", &[("acme__c", "*")], "");
    app.plugin("acme__c", "1.0.0", &[("acme__a", "*")], "");
    app.plugin("acme__free", "1.0.0", &[], "");
    let report = problems(&app);
    let cycle = report
        .problems
        .iter()
        .find(|p| p.message.starts_with("dependency cycle: "))
        .unwrap_or_else(|| panic!("no cycle reported:\n{report}"));
    assert!(cycle.file.ends_with(MANIFEST), "{cycle}");
    assert!(
        cycle
            .field
            .as_deref()
            .unwrap()
            .starts_with("dependencies.acme__"),
        "{cycle}"
    );
    let names: Vec<&str> = cycle.message["dependency cycle: ".len()..]
        .split(" -> ")
        .collect();
    assert_eq!(names.len(), 4, "{cycle}");
    assert_eq!(names[0], names[3], "the cycle closes: {cycle}");
    let mut members = names[..3].to_vec();
    members.sort();
    assert_eq!(members, ["acme__a", "acme__b", "acme__c"]);
}

#[test]
fn plugins_start_in_dependency_order_and_hidden_folders_are_ignored() {
    let app = TempApp::new();
    app.plugin("zeta", "1.0.0", &[], "");
    app.plugin(
        "acme__top",
        "1.0.0",
        &[("acme__mid", "^1"), ("zeta", "^1")],
        "",
    );
    app.plugin("acme__mid", "1.0.0", &[("zeta", "^1")], "");
    app.plugin("alpha", "1.0.0", &[], "");
    app.write("plugins/.cache/junk.txt", "ignored\n");
    app.write(
        "plugins/_drafts/raclette.plugin.toml",
        "this is not toml = =\n",
    );
    app.write("plugins/notes.txt", "a file, not a plugin\n");
    let model = discover(app.path()).unwrap_or_else(|report| panic!("{report}"));
    let order: Vec<&str> = model.plugins.iter().map(|p| p.folder()).collect();
    let position = |name: &str| order.iter().position(|f| *f == name).unwrap();
    assert_eq!(order.len(), 4, "{order:?}");
    assert!(position("zeta") < position("acme__mid"), "{order:?}");
    assert!(position("acme__mid") < position("acme__top"), "{order:?}");
}

#[test]
fn disabling_a_plugin_others_need_names_them() {
    let app = TempApp::new();
    app.plugin("acme__base", "1.0.0", &[], "");
    app.plugin("acme__shop", "1.0.0", &[("acme__base", "^1")], "");
    app.plugin("acme__blog", "1.0.0", &[("acme__base", "^1")], "");
    app.config("name = \"fixture\"\n[plugins.acme__base]\nenabled = false\n");
    let report = problems(&app);
    assert_problem(
        &report,
        "raclette.toml",
        Some("plugins.acme__base.enabled"),
        "acme__base cannot be disabled alone: acme__blog, acme__shop depend on it; disable them too",
    );
    app.config("name = \"fixture\"\n[plugins.acme__base]\nenabled = false\n[plugins.acme__shop]\nenabled = false\n[plugins.acme__blog]\nenabled = false\n");
    let model = discover(app.path()).unwrap_or_else(|report| panic!("{report}"));
    assert_eq!(model.enabled().count(), 0);
}

#[test]
fn the_app_configuration_is_checked_too() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    app.config("name = \"fixture\"\n[plugins.acme__ghost]\nenabled = false\n");
    assert_problem(
        &problems(&app),
        "raclette.toml",
        Some("plugins.acme__ghost"),
        "unknown plugin `acme__ghost`: there is no folder plugins/acme__ghost",
    );
    // A misspelled option would otherwise leave the default silently.
    app.write(
        "plugins/acme__shop/raclette.plugin.toml",
        "name = \"shop\"\nauthor = \"acme\"\nversion = \"1.0.0\"\n[options]\ngreeting = \"hi\"\nlimit = 5\n",
    );
    app.config("name = \"fixture\"\n[plugins.acme__shop.options]\ngreetng = \"hello\"\n");
    assert_problem(
        &problems(&app),
        "raclette.toml",
        Some("plugins.acme__shop.options.greetng"),
        "unknown option `greetng` in [plugins.acme__shop.options] of plugin `acme__shop`: it declares `greeting`, `limit` ([options] of plugins/acme__shop/raclette.plugin.toml)",
    );
    // A built-in's options are named as written, in their own section.
    app.config("name = \"fixture\"\n[realtime]\nadaptor = \"redis\"\n");
    let framework = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (builtins, unreadable) = raclette_discovery::read_builtin_sources(&framework);
    assert!(unreadable.is_empty(), "{unreadable:?}");
    let report = raclette_discovery::discover_with(app.path(), builtins).expect_err("problems");
    assert_problem(
        &report,
        "raclette.toml",
        Some("realtime.adaptor"),
        "unknown option `adaptor` in [realtime] of plugin `raclette__realtime`: it declares `adapter`",
    );
    assert!(
        !report.to_string().contains("plugins/raclette__realtime"),
        "a built-in's metadata is not in the app: {report}"
    );
    // Permissions are declared by their short name.
    app.write(
        "plugins/acme__shop/raclette.plugin.toml",
        "name = \"shop\"\nauthor = \"acme\"\nversion = \"1.0.0\"\n[permissions]\n\"acme__shop.read\" = \"See the shop\"\n",
    );
    app.config("name = \"fixture\"\n");
    assert_problem(
        &problems(&app),
        "plugins/acme__shop/raclette.plugin.toml",
        Some("permissions.acme__shop.read"),
        "declared by their short name (`read`)",
    );
    app.plugin("acme__shop", "1.0.0", &[], "");
    app.config("name = \"fixture\"\n[server]\nport = \"eighty\"\n");
    let report = problems(&app);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.file == "raclette.toml" && p.to_string().contains("port")),
        "{report}"
    );
}

#[test]
fn a_server_folder_must_be_a_library_crate() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    app.write(
        "plugins/acme__shop/server/Cargo.toml",
        "[package]\nversion = \"0.1.0\"\n",
    );
    app.plugin("acme__blog", "1.0.0", &[], "");
    app.write("plugins/acme__blog/server/README.md", "no crate\n");
    app.plugin("acme__cart", "1.0.0", &[], "");
    app.write(
        "plugins/acme__cart/server/Cargo.toml",
        "[package\nname = \n",
    );
    let report = problems(&app);
    assert_problem(
        &report,
        "plugins/acme__shop/server/Cargo.toml",
        Some("package.name"),
        "missing; expected the crate's package name",
    );
    assert_problem(
        &report,
        "plugins/acme__shop/server/src/lib.rs",
        None,
        "missing; a plugin's server half is a library crate",
    );
    assert_problem(
        &report,
        "plugins/acme__blog/server/Cargo.toml",
        None,
        "a server/ folder must be a Rust library crate",
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.file == "plugins/acme__cart/server/Cargo.toml"
                && p.message.contains("invalid TOML at line")),
        "{report}"
    );
}

#[test]
fn migration_files_must_be_numbered() {
    let app = TempApp::new();
    app.plugin("acme__shop", "1.0.0", &[], "");
    app.server_crate("acme__shop");
    app.write(
        "plugins/acme__shop/server/migrations/create.sql",
        "SELECT 1;\n",
    );
    app.write(
        "plugins/acme__shop/server/migrations/0001_a.sql",
        "SELECT 1;\n",
    );
    app.write(
        "plugins/acme__shop/server/migrations/0001_b.sql",
        "SELECT 1;\n",
    );
    let report = problems(&app);
    assert_problem(
        &report,
        "plugins/acme__shop/server/migrations/create.sql",
        None,
        "must be `<number>_<name>.sql`",
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("migration version 1 is used twice")),
        "{report}"
    );
}
