//! End-to-end tests of the real `raclette` binary on temporary apps.
//!
//! The apps are built by real nested cargo runs. They share one target
//! folder (`target/e2e-apps`), separate from the outer build's, so the
//! framework's dependencies compile once for all of them and the outer
//! cargo's lock is never waited on.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

fn raclette() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_raclette"));
    // Nested builds keep their intermediate files in their own target
    // folder too, whatever build folder the outer cargo was given.
    command
        .env("CARGO_TARGET_DIR", e2e_target())
        .env_remove("CARGO_BUILD_BUILD_DIR");
    command
}

/// Nested builds share one target folder below the outer one.
fn e2e_target() -> PathBuf {
    let outer = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    outer.join("e2e-apps")
}

/// Shows a command and what it printed in the test's output.
fn echo(args: &[&str], output: &Output) {
    eprintln!(
        "$ raclette {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let output = raclette()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("raclette runs");
    echo(args, &output);
    output
}

/// Runs `raclette` with `input` on its standard input (not a terminal).
fn run_with_input(dir: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = raclette()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("raclette runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input written");
    let output = child.wait_with_output().expect("raclette ends");
    echo(args, &output);
    output
}

fn get_text(url: &str) -> (u16, String) {
    let response = reqwest::blocking::get(url).expect("request");
    let status = response.status().as_u16();
    (status, response.text().unwrap_or_default())
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn get(url: &str) -> (u16, serde_json::Value) {
    let response = reqwest::blocking::get(url).expect("request");
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(serde_json::Value::Null))
}

/// A running `raclette dev` whose output lines arrive on a channel.
struct Dev {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Dev {
    fn start(dir: &Path) -> Dev {
        let mut child = raclette()
            .args(["dev", "--port", "0"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("raclette dev starts");
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    eprintln!("[dev] {line}");
                    let _ = tx.send(line);
                }
            });
        }
        Dev {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most `limit`) for a line containing `needle`; returns it.
    fn wait_for(&mut self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line containing `{needle}` within {limit:?}; output so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The base URL of the server that listened last, of every line seen.
    fn latest_url(&self) -> String {
        self.seen
            .iter()
            .rev()
            .find_map(|line| line.split("listening on ").nth(1))
            .expect("a server listened")
            .trim()
            .to_owned()
    }

    /// Waits for a line holding `problem` (as the problem list shows it:
    /// file, then message), then for the word that the running server was
    /// kept; returns the URL of that server.
    fn wait_kept(&mut self, problem: &str) -> String {
        self.wait_for(&format!("  - {problem}"), BUILD_LIMIT);
        self.wait_for("raclette: the previous server keeps running", BUILD_LIMIT);
        self.latest_url()
    }

    /// Waits for the server to listen; returns its base URL.
    fn wait_listening(&mut self, limit: Duration) -> String {
        let line = self.wait_for("listening on http://", limit);
        line.split("listening on ")
            .nth(1)
            .expect("url")
            .trim()
            .to_owned()
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

const BUILD_LIMIT: Duration = Duration::from_secs(900);

#[test]
fn new_app_lifecycle_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("lifecycle");

    // new
    let out = run(tmp.path(), &["new", "lifecycle"]);
    assert!(out.status.success());
    assert!(app.join("raclette.toml").is_file());
    assert!(app.join("plugins").is_dir());
    let gitignore = std::fs::read_to_string(app.join(".gitignore")).unwrap();
    assert!(
        gitignore.lines().any(|l| l.trim() == ".raclette/"),
        "{gitignore}"
    );
    let again = run(tmp.path(), &["new", "lifecycle"]);
    assert!(
        !again.status.success(),
        "an existing app is not overwritten"
    );

    // plugin new
    let out = run(&app, &["plugin", "new", "acme__hello"]);
    assert!(out.status.success());
    for file in [
        "raclette.plugin.toml",
        "client/index.ts",
        "server/Cargo.toml",
        "server/src/lib.rs",
    ] {
        assert!(
            app.join("plugins/acme__hello").join(file).is_file(),
            "{file}"
        );
    }
    let bad = run(&app, &["plugin", "new", "Bad Name"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not valid"));
    let reserved = run(&app, &["plugin", "new", "raclette__x"]);
    assert!(!reserved.status.success());
    assert!(
        String::from_utf8_lossy(&reserved.stderr).contains("reserved for the framework"),
        "{}",
        String::from_utf8_lossy(&reserved.stderr)
    );
    assert!(!app.join("plugins/raclette__x").exists());

    // check
    let out = run(&app, &["check"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("plugin_acme__hello"), "{text}");
    assert!(text.contains("0.1.0") && text.contains("enabled"), "{text}");

    // routes
    let out = run(&app, &["routes"]);
    assert!(out.status.success());
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("/plugin/acme/hello/hello"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.starts_with("GET") && line.trim_end().ends_with("acme__hello"),
        "{line}"
    );

    // dev: serve, then add a plugin while it runs, then break and fix it.
    {
        let mut dev = Dev::start(&app);
        let url = dev.wait_listening(BUILD_LIMIT);
        let (status, body) = get(&format!("{url}/plugin/acme/hello/hello"));
        assert_eq!(status, 200);
        assert_eq!(body["plugin"], "acme__hello");
        let declarations = app.join(".raclette/types/plugin_acme__hello.d.ts");
        let text = std::fs::read_to_string(&declarations)
            .unwrap_or_else(|e| panic!("{}: {e}", declarations.display()));
        assert!(text.contains("plugin_acme__hello"), "{text}");
        let (status, _) = get_text(&format!(
            "{url}/raclette/client/plugin_acme__hello/index.js"
        ));
        assert_eq!(status, 200, "dev serves the client half from disk");

        let out = run(&app, &["plugin", "new", "second"]);
        assert!(out.status.success());
        let url = dev.wait_listening(BUILD_LIMIT);
        let (status, body) = get(&format!("{url}/plugin/second/hello"));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["plugin"], "second");

        let lib = app.join("plugins/second/server/src/lib.rs");
        let good = std::fs::read_to_string(&lib).unwrap();
        std::fs::write(&lib, format!("{good}\nfn broken( {{\n")).unwrap();
        dev.wait_for("the previous server keeps running", BUILD_LIMIT);
        let (status, _) = get(&format!("{url}/plugin/second/hello"));
        assert_eq!(
            status, 200,
            "the previous server still answers after a failed build"
        );

        std::fs::write(&lib, good).unwrap();
        let url = dev.wait_listening(BUILD_LIMIT);
        let (status, _) = get(&format!("{url}/plugin/second/hello"));
        assert_eq!(status, 200);
    }

    // users: `raclette dev` created the development account on the empty
    // database; `user add` reads the password from standard input.
    let out = run(&app, &["user", "list"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("dev@example.com") && l.contains("admin")),
        "{text}"
    );
    let out = run_with_input(
        &app,
        &["user", "add", "Ada@Example.com", "--name", "Ada"],
        "a long enough password\n",
    );
    assert!(out.status.success());
    let short = run_with_input(&app, &["user", "add", "bob@example.com"], "short\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let taken = run_with_input(
        &app,
        &["user", "add", "ada@example.com"],
        "a long enough password\n",
    );
    assert!(String::from_utf8_lossy(&taken.stderr).contains("taken"));
    let out = run_with_input(
        &app,
        &["user", "passwd", "ada@example.com"],
        "another long password\n",
    );
    assert!(out.status.success());
    let text = stdout(&run(&app, &["user", "list"]));
    let ada = text
        .lines()
        .find(|l| l.starts_with("ada@example.com"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(ada.contains("Ada") && !ada.contains("admin"), "{ada}");
    assert!(!text.contains("bob@example.com"), "{text}");

    // build, then run the release binary on its own from another folder.
    // Its client files are embedded: text and binary ones alike, hidden
    // ones not at all.
    let png: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00,
    ];
    let client = app.join("plugins/acme__hello/client");
    std::fs::create_dir_all(client.join("images")).unwrap();
    std::fs::write(client.join("images/icon.png"), png).unwrap();
    std::fs::write(client.join(".env.production"), "SECRET=1\n").unwrap();
    let out = run(&app, &["build"]);
    assert!(out.status.success());
    let binary = app.join("dist/lifecycle");
    assert!(binary.is_file(), "{}", stdout(&out));
    let elsewhere = tempfile::tempdir().unwrap();
    let mut server = Command::new(&binary)
        .args(["--port", "0"])
        .current_dir(elsewhere.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("built binary runs");
    let mut first = String::new();
    let mut server_out = BufReader::new(server.stdout.take().unwrap());
    server_out.read_line(&mut first).unwrap();
    let url = first
        .split("listening on ")
        .nth(1)
        .unwrap_or_else(|| panic!("{first}"))
        .trim()
        .to_owned();
    let (status, body) = get(&format!("{url}/plugin/acme/hello/hello"));
    let (health, _) = get(&format!("{url}/raclette/health"));
    // The client half is compiled into the binary: no source tree here.
    let (entry_status, entry) = get_text(&format!(
        "{url}/raclette/client/plugin_acme__hello/index.js"
    ));
    let (runtime_status, runtime) = get_text(&format!("{url}/raclette/runtime/client.js"));
    let (shell_status, shell) = get_text(&format!("{url}/raclette/runtime/shell.js"));
    let image = reqwest::blocking::get(format!(
        "{url}/raclette/client/plugin_acme__hello/images/icon.png"
    ))
    .expect("request");
    let image = (
        image.status().as_u16(),
        image.headers()["content-type"].to_str().unwrap().to_owned(),
        image.bytes().unwrap().to_vec(),
    );
    let (hidden, _) = get_text(&format!(
        "{url}/raclette/client/plugin_acme__hello/.env.production"
    ));
    // A server on a loopback address answers loopback names only.
    let rebound = reqwest::blocking::Client::new()
        .get(format!("{url}/raclette/health"))
        .header("host", "evil.example")
        .send()
        .expect("request")
        .status()
        .as_u16();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let exit = server.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut server_out, &mut rest).unwrap();
    assert!(rest.contains("raclette: stopped"), "{rest}");
    assert_eq!(status, 200, "{body}");
    assert_eq!(health, 200);
    assert_eq!(entry_status, 200, "{entry}");
    assert!(entry.contains("defineRaclettePluginClient"), "{entry}");
    assert_eq!(runtime_status, 200, "{runtime}");
    assert!(
        runtime.contains("export function usePluginApi"),
        "{runtime}"
    );
    assert_eq!(shell_status, 200, "{shell}");
    assert_eq!(image, (200, "image/png".to_owned(), png.to_vec()));
    assert_eq!(hidden, 404, "hidden client files are not embedded");
    assert_eq!(
        rebound, 421,
        "a host that is not a loopback name is refused"
    );
    assert!(
        exit.success(),
        "graceful shutdown on SIGTERM exits 0: {exit}"
    );
    assert!(elsewhere.path().join("data/raclette.sqlite").is_file());
}

/// The app's `tsconfig.json` maps `@raclette/client` to the runtime's own
/// sources, which the CLI writes under `.raclette/types/`.
#[test]
fn editors_resolve_the_runtime_through_tsconfig() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("typed");
    assert!(run(tmp.path(), &["new", "typed"]).status.success());
    let tsconfig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(app.join("tsconfig.json")).unwrap()).unwrap();
    let options = &tsconfig["compilerOptions"];
    assert_eq!(
        options["paths"]["@raclette/client"],
        serde_json::json!(["./.raclette/types/raclette-client/client.ts"])
    );
    // The runtime imports its parts as `./x.ts`.
    assert_eq!(options["allowImportingTsExtensions"], true);
    assert_eq!(options["noEmit"], true);
    assert_eq!(
        tsconfig["include"],
        serde_json::json!(["plugins/*/client", "plugins/*/frontend"])
    );

    let runtime_dir = app.join(".raclette/types/raclette-client");
    let written = |app: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(app.join(".raclette/types/raclette-client"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let mut expected: Vec<String> = raclette_client::runtime_files()
        .into_iter()
        .filter(|n| n.ends_with(".ts"))
        .collect();
    expected.sort();
    assert!(expected.contains(&"client.ts".to_owned()), "{expected:?}");
    assert_eq!(written(&app), expected, "written by `raclette new`");
    for name in &expected {
        assert_eq!(
            std::fs::read_to_string(runtime_dir.join(name)).unwrap(),
            raclette_client::runtime_file(name).unwrap(),
            "{name} is the runtime's own source"
        );
    }

    // `.raclette/` is not committed: `check` writes the sources again, and
    // drops files the runtime does not have.
    std::fs::remove_dir_all(app.join(".raclette")).unwrap();
    assert!(
        run(&app, &["plugin", "new", "acme__notes"])
            .status
            .success()
    );
    std::fs::write(runtime_dir.join("gone.ts"), "").unwrap();
    std::fs::remove_file(runtime_dir.join("client.ts")).unwrap();
    assert!(run(&app, &["check"]).status.success());
    assert_eq!(written(&app), expected, "rewritten by `raclette check`");

    // An app made before `raclette new` wrote a tsconfig.json gets one with
    // its first plugin; an app's own is left alone.
    let old = tmp.path().join("old");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("raclette.toml"), "name = \"old\"\n").unwrap();
    assert!(run(&old, &["plugin", "new", "acme__a"]).status.success());
    assert!(old.join("tsconfig.json").is_file());
    std::fs::write(old.join("tsconfig.json"), "{}").unwrap();
    assert!(run(&old, &["plugin", "new", "acme__b"]).status.success());
    assert_eq!(
        std::fs::read_to_string(old.join("tsconfig.json")).unwrap(),
        "{}"
    );
    assert_eq!(written(&old), expected);
}

#[test]
fn check_reports_every_problem_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("broken");
    assert!(run(tmp.path(), &["new", "broken"]).status.success());
    let plugin = |folder: &str, text: &str| {
        std::fs::create_dir_all(app.join("plugins").join(folder)).unwrap();
        std::fs::write(
            app.join("plugins")
                .join(folder)
                .join("raclette.plugin.toml"),
            text,
        )
        .unwrap();
    };
    plugin(
        "acme__a",
        "name = \"a\"\nauthor = \"acme\"\nversion = \"one\"\n",
    );
    plugin(
        "acme__b",
        "name = \"b\"\nauthor = \"acme\"\nversion = \"1.0.0\"\n[dependencies]\nacme__ghost = \"^1\"\n",
    );
    plugin(
        "acme__c",
        "name = \"c\"\nauthor = \"acme\"\nversion = \"1.0.0\"\n",
    );
    let client = app.join("plugins/acme__c/client");
    std::fs::create_dir_all(client.join("widgets/chart")).unwrap();
    std::fs::write(client.join("index.ts"), "export const ok = 1\nconst = ;\n").unwrap();
    std::fs::write(
        client.join("widgets/chart/setup.ts"),
        "export const details = { color: 'red' }\nexport const config = { size: { type: 'number', editor: { inputType: 'slider' } } }\n",
    )
    .unwrap();
    std::fs::write(
        client.join("widgets/chart/ChartWidget.ts"),
        "export default function mount() {}\n",
    )
    .unwrap();
    // A client half in `frontend/` is checked like one in `client/`.
    plugin(
        "acme__d",
        "name = \"d\"\nauthor = \"acme\"\nversion = \"1.0.0\"\n",
    );
    let frontend = app.join("plugins/acme__d/frontend");
    std::fs::create_dir_all(frontend.join("widgets/list")).unwrap();
    std::fs::write(
        frontend.join("widgets/list/setup.ts"),
        "export const details = { color: 'red' }\nexport const config = {}\n",
    )
    .unwrap();
    std::fs::write(
        frontend.join("widgets/list/ListWidget.ts"),
        "export default function mount() {}\n",
    )
    .unwrap();
    let out = run(&app, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "plugins/acme__d/frontend/widgets/list/setup.ts: field `details.title`: missing"
        ),
        "{err}"
    );
    assert!(
        err.contains("plugins/acme__c/client/index.ts: line 2, column 7"),
        "{err}"
    );
    assert!(
        err.contains(
            "plugins/acme__c/client/widgets/chart/setup.ts: field `details.title`: missing"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "plugins/acme__c/client/widgets/chart/setup.ts: field `config.size.editor.inputType`"
        ),
        "{err}"
    );
    assert!(
        err.contains("plugins/acme__a/raclette.plugin.toml: field `version`"),
        "{err}"
    );
    assert!(
        err.contains("plugins/acme__b/raclette.plugin.toml: field `dependencies.acme__ghost`"),
        "{err}"
    );

    let routes = run(&app, &["routes"]);
    assert_eq!(
        routes.status.code(),
        Some(1),
        "routes refuses an invalid app before building"
    );
}

#[test]
fn commands_outside_an_app_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("raclette.toml"));
    let out = run(tmp.path(), &["plugin", "new", "acme__x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a raclette app"));
}

#[test]
fn a_wrong_framework_path_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(run(tmp.path(), &["new", "elsewhere"]).status.success());
    let app = tmp.path().join("elsewhere");
    let config = std::fs::read_to_string(app.join("raclette.toml")).unwrap();
    std::fs::write(
        app.join("raclette.toml"),
        format!("{config}\n[framework]\npath = \"../no-such-checkout\"\n"),
    )
    .unwrap();
    let out = run(&app, &["routes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no-such-checkout") && err.contains("[framework] path"),
        "{err}"
    );
}

/// Writes `text` to `path` (creating folders).
fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Replaces `from` with `to` in the file at `path`, which must hold it.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{}: {text}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The lines of an output's stderr that list problems (`  - …`).
fn problem_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("  - "))
        .map(str::to_owned)
        .collect()
}

/// The notes/stats pair of the plugin guide: `acme__stats` uses the typed
/// service of `acme__notes` through its crate, named like a crates.io
/// dependency, so both folders can be copied between apps as they are.
#[test]
fn a_plugin_uses_another_plugins_service_through_its_crate_name() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("shared");
    assert!(run(tmp.path(), &["new", "shared"]).status.success());
    for plugin in ["acme__notes", "acme__stats"] {
        assert!(run(&app, &["plugin", "new", plugin]).status.success());
    }
    let notes = app.join("plugins/acme__notes");
    let stats = app.join("plugins/acme__stats");
    write(
        &notes.join("server/src/lib.rs"),
        "//! Notes.\n\n/// What notes offers to the plugins that depend on it.\npub struct NotesService {\n    /// How many notes there are.\n    pub count: u32,\n}\n\n/// Entry point.\npub fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {\n    app.provide(NotesService { count: 3 })?;\n    Ok(())\n}\n",
    );
    write(
        &stats.join("server/src/lib.rs"),
        "//! Stats over notes.\n\nuse std::sync::Arc;\n\nuse acme_notes_server::NotesService;\nuse raclette::{Json, Registrar, Routes, extract::State};\n\n/// Entry point.\npub fn plugin(app: &mut Registrar) -> raclette::Result<()> {\n    let notes: Arc<NotesService> = app.service()?;\n    app.routes(Routes::new().get(\"/count\", count).public().with_state(notes))?;\n    Ok(())\n}\n\nasync fn count(State(notes): State<Arc<NotesService>>) -> Json<serde_json::Value> {\n    Json(serde_json::json!({ \"notes\": notes.count }))\n}\n",
    );
    edit(
        &stats.join("server/Cargo.toml"),
        "[dependencies]\n",
        "[dependencies]\nacme-notes-server = \"0.1\"\n",
    );

    // Without the dependency in the metadata, `check` names both files.
    let out = run(&app, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        problem_lines(&out),
        vec![
            "plugins/acme__stats/server/Cargo.toml: field `dependencies.acme-notes-server`: `acme-notes-server` is the server crate of plugin acme__notes, which is not a dependency in plugins/acme__stats/raclette.plugin.toml: add `acme__notes = \"^0.1\"` to its [dependencies]"
        ]
    );

    edit(
        &stats.join("raclette.plugin.toml"),
        "# other_plugin = \"^1.0\"",
        "acme__notes = \"^0.1\"",
    );
    let out = run(&app, &["check"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("`raclette check --build` also checks"),
        "check says what it does not know without a build: {}",
        stdout(&out)
    );
    let out = run(&app, &["check", "--build"]);
    assert!(out.status.success(), "the host resolves the crate by name");
    assert_eq!(stdout(&out).lines().last(), Some("ok"));
    assert!(
        app.join(".raclette/types/plugin_acme__notes.d.ts")
            .is_file(),
        "check --build writes the editor declarations"
    );

    let out = run(&app, &["routes"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("building the app to list them"),
        "routes says why it builds"
    );
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["GET", "/plugin/acme/stats/count", "acme__stats"]),
        "{}",
        stdout(&out)
    );

    let mut dev = Dev::start(&app);
    let url = dev.wait_listening(BUILD_LIMIT);
    let (status, body) = get(&format!("{url}/plugin/acme/stats/count"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!({ "notes": 3 }));
}

/// Whatever would stop the new build from starting leaves the running server
/// alone, and `check --build` reports the same problems.
#[test]
fn dev_keeps_the_running_server_when_a_new_build_would_not_start() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("steady");
    assert!(run(tmp.path(), &["new", "steady"]).status.success());
    assert!(
        run(&app, &["plugin", "new", "acme__hello"])
            .status
            .success()
    );
    let hello = app.join("plugins/acme__hello");
    let migration = hello.join("server/migrations/0001_create.sql");
    write(
        &migration,
        "CREATE TABLE hello_visits (id INTEGER PRIMARY KEY);\n",
    );
    let lib = hello.join("server/src/lib.rs");
    let config = app.join("raclette.toml");
    let good_lib = std::fs::read_to_string(&lib).unwrap();
    let good_config = std::fs::read_to_string(&config).unwrap();

    let mut dev = Dev::start(&app);
    dev.wait_listening(BUILD_LIMIT);
    let answers = |url: &str| get(&format!("{url}/plugin/acme/hello/hello")).0 == 200;

    // An option of the wrong type in raclette.toml.
    std::fs::write(
        &config,
        format!("{good_config}\n[plugins.acme__hello.options]\ngreeting = 5\n"),
    )
    .unwrap();
    // The problem names the file and section the user wrote.
    let options_problem = "raclette.toml: field `[plugins.acme__hello.options] greeting`: plugin acme__hello failed to mount: options of plugin acme__hello: field `options.greeting`: invalid type: integer `5`, expected a string";
    let url = dev.wait_kept(options_problem);
    assert!(answers(&url));
    let out = run(&app, &["check", "--build"]);
    assert_eq!(out.status.code(), Some(1));
    let lines = problem_lines(&out);
    assert!(
        lines.len() == 1 && lines[0].starts_with(options_problem),
        "{lines:?}"
    );

    // A migration edited after it was applied.
    std::fs::write(&config, &good_config).unwrap();
    write(
        &migration,
        "CREATE TABLE hello_visits (id INTEGER PRIMARY KEY, at TEXT);\n",
    );
    let migration_problem = "plugins/acme__hello/server/migrations/0001_create.sql: migration 1_create was changed after it was applied; add a new migration instead";
    let url = dev.wait_kept(migration_problem);
    assert!(answers(&url));
    let out = run(&app, &["check", "--build"]);
    assert_eq!(problem_lines(&out), vec![migration_problem]);

    // A route registered twice.
    write(
        &migration,
        "CREATE TABLE hello_visits (id INTEGER PRIMARY KEY);\n",
    );
    edit(
        &lib,
        ".get(\"/hello\", hello)",
        ".get(\"/hello\", hello).get(\"/hello\", hello)",
    );
    let url = dev.wait_kept("plugins/acme__hello: plugin acme__hello failed to mount: route of plugin acme__hello: GET /hello is registered twice");
    assert!(answers(&url));

    // Two plugins claiming one path: the plugin `acme` (prefix
    // /plugin/acme) and `acme__hello` (prefix /plugin/acme/hello).
    std::fs::write(&lib, &good_lib).unwrap();
    let staging = tmp.path().join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::copy(&config, staging.join("raclette.toml")).unwrap();
    assert!(run(&staging, &["plugin", "new", "acme"]).status.success());
    edit(
        &staging.join("plugins/acme/server/src/lib.rs"),
        ".get(\"/hello\", hello)",
        ".get(\"/hello/hello\", hello)",
    );
    let acme = app.join("plugins/acme");
    std::fs::rename(staging.join("plugins/acme"), &acme).unwrap();
    let url = dev.wait_kept("plugins/acme__hello: route clash: /plugin/acme/hello/hello is claimed by plugin acme and by plugin acme__hello");
    assert!(answers(&url));

    // A service of a plugin that is not a dependency.
    edit(
        &acme.join("server/src/lib.rs"),
        ".get(\"/hello/hello\", hello)",
        ".get(\"/other\", hello)",
    );
    edit(
        &acme.join("server/src/lib.rs"),
        "    let options: Options = app.options()?;",
        "    let options: Options = app.options()?;\n    app.provide(String::from(\"shared\"))?;",
    );
    edit(
        &lib,
        "    let options: Options = app.options()?;",
        "    let options: Options = app.options()?;\n    let _shared = app.service::<String>()?;",
    );
    let url = dev.wait_kept("plugins/acme__hello: plugin acme__hello failed to mount: plugin acme__hello asked for service `alloc::string::String` of plugin acme, but does not depend on it: add `acme` to [dependencies] in its raclette.plugin.toml");
    assert!(answers(&url));

    // A failure only start-up itself finds (the SQL of a new migration):
    // the previous server is started again.
    std::fs::write(&lib, &good_lib).unwrap();
    std::fs::rename(&acme, staging.join("acme")).unwrap();
    write(
        &hello.join("server/migrations/0002_broken.sql"),
        "THIS IS NOT SQL;\n",
    );
    dev.wait_for("raclette: the new server did not start", BUILD_LIMIT);
    dev.wait_for("raclette: starting the previous server again", BUILD_LIMIT);
    let url = dev.wait_listening(BUILD_LIMIT);
    assert!(answers(&url), "the previous server answers again");

    // A configuration only start-up finds wrong (a Redis nobody runs): the
    // previous server starts again with the configuration it ran with.
    std::fs::remove_file(hello.join("server/migrations/0002_broken.sql")).unwrap();
    let url = dev.wait_listening(BUILD_LIMIT);
    assert!(answers(&url));
    std::fs::write(
        &config,
        format!("{good_config}\n[realtime]\nadapter = \"redis\"\nurl = \"redis://127.0.0.1:1\"\n"),
    )
    .unwrap();
    dev.wait_for("cannot reach Redis at redis://127.0.0.1:1", BUILD_LIMIT);
    dev.wait_for("raclette: starting the previous server again", BUILD_LIMIT);
    let url = dev.wait_listening(BUILD_LIMIT);
    assert!(
        answers(&url),
        "the previous server runs with its own configuration"
    );
}
