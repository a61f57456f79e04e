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

fn e2e_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-apps")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let output = raclette()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("raclette runs");
    eprintln!(
        "$ raclette {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
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

    // build, then run the release binary on its own from another folder.
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
