//! `raclette dev`: build, serve, and rebuild and restart on every change.
//!
//! A change is rebuilt, and the new build is asked whether it would start
//! (`<binary> verify`: plugins set up, routes, migrations) before it replaces
//! the running server. A build error or a start-up problem is shown and the
//! previous server keeps running. Should the new server still fail while
//! starting (a `before_mount` hook, a migration's SQL), the previous one is
//! started again. For that, each started build is run from a copy of its
//! binary that later builds do not overwrite.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use nix::{sys::signal, unistd::Pid};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use crate::{
    CliError,
    cargo::{self, Profile},
    check, client, host, verify,
};

enum Event {
    Changed(Vec<PathBuf>),
    Stop,
}

/// A running server and the copy of the binary it runs from.
struct Server {
    child: Child,
    binary: PathBuf,
}

/// How starting a server ended.
enum Started {
    /// It listens.
    Listening(Server),
    /// It exited before listening.
    Failed(ExitStatus),
    /// `raclette dev` was asked to stop meanwhile.
    Stopped,
}

/// Runs the app and keeps it up to date with `plugins/` and `raclette.toml`.
///
/// A change rebuilds the host; when the build succeeds and the new build
/// would start, the server is restarted (gracefully: SIGTERM, in-flight
/// requests finish). Otherwise the error is shown and the previous server
/// keeps running.
pub(crate) fn dev(app: &Path, port: Option<u16>) -> Result<(), CliError> {
    let app = app.canonicalize().map_err(CliError::io(app))?;
    let plugins = app.join(raclette_discovery::PLUGINS_DIR);
    std::fs::create_dir_all(&plugins).map_err(CliError::io(&plugins))?;
    let (tx, rx) = mpsc::channel::<Event>();
    let stop_tx = tx.clone();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(Event::Stop);
    })
    .map_err(|err| CliError::Message(format!("cannot handle Ctrl-C: {err}")))?;

    let watched_app = app.clone();
    let mut debouncer = new_debouncer(
        Duration::from_millis(300),
        None,
        move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            let paths: Vec<PathBuf> = events
                .iter()
                .filter(|e| !matches!(e.kind, EventKind::Access(_)))
                .flat_map(|e| e.paths.iter())
                .filter(|p| relevant(&watched_app, p))
                .cloned()
                .collect();
            if !paths.is_empty() {
                let _ = tx.send(Event::Changed(paths));
            }
        },
    )
    .map_err(|err| CliError::Message(format!("cannot watch files: {err}")))?;
    debouncer
        .watch(&plugins, RecursiveMode::Recursive)
        .map_err(|err| CliError::Message(format!("cannot watch {}: {err}", plugins.display())))?;
    debouncer
        .watch(&app, RecursiveMode::NonRecursive)
        .map_err(|err| CliError::Message(format!("cannot watch {}: {err}", app.display())))?;

    let mut server: Option<Server> = None;
    let mut generation = 0u32;
    let mut rebuild = true;
    let result = loop {
        if rebuild {
            rebuild = false;
            match build_once(&app) {
                Ok(binary) => {
                    generation += 1;
                    match replace(
                        &mut server,
                        &binary,
                        generation,
                        &app,
                        port,
                        &rx,
                        &mut rebuild,
                    ) {
                        Ok(Flow::Go) => {}
                        Ok(Flow::Stop) => break Ok(()),
                        Err(err) => eprintln!("raclette: {err}; waiting for changes"),
                    }
                }
                Err(err) => {
                    eprintln!("raclette: {err}");
                    if server.is_some() {
                        eprintln!(
                            "raclette: the previous server keeps running; fix the problem and save again"
                        );
                    } else {
                        eprintln!("raclette: waiting for changes");
                    }
                }
            }
            continue;
        }
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(Event::Changed(paths)) => {
                let mut shown: Vec<String> = paths
                    .iter()
                    .map(|p| p.strip_prefix(&app).unwrap_or(p).display().to_string())
                    .collect();
                shown.sort();
                shown.dedup();
                shown.truncate(3);
                eprintln!("raclette: changed: {}; rebuilding", shown.join(", "));
                rebuild = true;
            }
            Ok(Event::Stop) => break Ok(()),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(running) = &mut server
                    && let Ok(Some(status)) = running.child.try_wait()
                {
                    eprintln!("raclette: the server stopped ({status}); waiting for changes");
                    if let Some(stopped) = server.take() {
                        remove_copy(&stopped.binary);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break Ok(()),
        }
    };
    if let Some(running) = server.take() {
        stop(Some(running.child));
        remove_copy(&running.binary);
    }
    result
}

/// Whether `raclette dev` goes on.
enum Flow {
    Go,
    Stop,
}

/// Replaces the running server (if any) by one running `binary`, or starts
/// the previous one again when the new one does not start.
fn replace(
    server: &mut Option<Server>,
    binary: &Path,
    generation: u32,
    app: &Path,
    port: Option<u16>,
    events: &mpsc::Receiver<Event>,
    rebuild: &mut bool,
) -> Result<Flow, CliError> {
    let copy = snapshot(binary, generation, app)?;
    let previous = server.take();
    let previous_binary = previous.as_ref().map(|s| s.binary.clone());
    stop(previous.map(|s| s.child));
    let status = match start(&copy, app, port, events, rebuild)? {
        Started::Listening(new) => {
            if let Some(old) = previous_binary {
                remove_copy(&old);
            }
            *server = Some(new);
            return Ok(Flow::Go);
        }
        Started::Stopped => return Ok(Flow::Stop),
        Started::Failed(status) => status,
    };
    remove_copy(&copy);
    eprintln!("raclette: the new server did not start ({status})");
    let Some(old) = previous_binary else {
        eprintln!("raclette: waiting for changes");
        return Ok(Flow::Go);
    };
    eprintln!("raclette: starting the previous server again; fix the problem and save again");
    match start(&old, app, port, events, rebuild)? {
        Started::Listening(old) => *server = Some(old),
        Started::Failed(status) => {
            remove_copy(&old);
            eprintln!(
                "raclette: the previous server did not start either ({status}); waiting for changes"
            );
        }
        Started::Stopped => return Ok(Flow::Stop),
    }
    Ok(Flow::Go)
}

/// Builds the host and checks that the new build would start; returns the
/// binary.
fn build_once(app: &Path) -> Result<PathBuf, CliError> {
    let model = check::discover(app)?;
    let host = host::generate(&model, false)?;
    let binary = cargo::build(app, &host, Profile::Debug)?;
    verify::verify(app, &binary).map_err(|err| match err {
        CliError::Invalid(report) => {
            CliError::Message(format!("the new build would not start: {report}"))
        }
        other => other,
    })?;
    if let Err(err) = client::write_declarations(app, &binary) {
        eprintln!("raclette: {err}");
    }
    Ok(binary)
}

/// Whether a changed path should trigger a rebuild.
fn relevant(app: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(app) else {
        return false;
    };
    let mut parts = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    match parts.next().as_deref() {
        Some("raclette.toml") => true,
        Some("plugins") => {
            parts.all(|part| part != "target" && part != "node_modules" && !part.starts_with('.'))
        }
        _ => false,
    }
}

/// A copy of `binary` that the next build does not overwrite (a hard link
/// where possible: cargo replaces the file rather than rewriting it), in
/// `raclette-dev/` beside it.
fn snapshot(binary: &Path, generation: u32, app: &Path) -> Result<PathBuf, CliError> {
    let dir = binary
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("raclette-dev");
    std::fs::create_dir_all(&dir).map_err(CliError::io(&dir))?;
    let name = binary
        .file_name()
        .map_or_else(|| "app".into(), |n| n.to_string_lossy());
    if generation == 1 {
        remove_orphans(&dir, &name);
    }
    let copy = dir.join(format!("{name}-{}-{generation}", std::process::id()));
    let _ = std::fs::remove_file(&copy);
    if std::fs::hard_link(binary, &copy).is_err() {
        std::fs::copy(binary, &copy).map_err(CliError::io(&copy))?;
    }
    // The configuration it is started with: started again later (when a
    // newer build fails to start), it runs as it ran before.
    let config = app.join(raclette_discovery::APP_CONFIG_FILE);
    let config_copy = config_of(&copy);
    let _ = std::fs::remove_file(&config_copy);
    if config.is_file() {
        std::fs::copy(&config, &config_copy).map_err(CliError::io(&config_copy))?;
    }
    Ok(copy)
}

/// Where the copy of the configuration of the build copy `binary` is.
fn config_of(binary: &Path) -> PathBuf {
    let mut name = binary.as_os_str().to_owned();
    name.push(".toml");
    PathBuf::from(name)
}

/// Removes a build copy and its configuration.
fn remove_copy(binary: &Path) {
    let _ = std::fs::remove_file(binary);
    let _ = std::fs::remove_file(config_of(binary));
}

/// Removes the copies `<name>-<pid>-<generation>` in `dir` left by
/// `raclette dev` processes that no longer run.
fn remove_orphans(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let file = entry.file_name().to_string_lossy().into_owned();
        let pid = file
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok());
        if let Some(pid) = pid
            && signal::kill(Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Starts the server and waits until it listens (it prints its address) or
/// exits. Its output goes on to the terminal. A change seen meanwhile sets
/// `rebuild`.
fn start(
    binary: &Path,
    app: &Path,
    port: Option<u16>,
    events: &mpsc::Receiver<Event>,
    rebuild: &mut bool,
) -> Result<Started, CliError> {
    let mut command = Command::new(binary);
    command.arg("serve").arg("--app").arg(app);
    let config = config_of(binary);
    if config.is_file() {
        command.arg("--config").arg(config);
    }
    command
        // The core plugin creates the development account (see the
        // README) when the database has no user yet.
        .env("RACLETTE_DEV_ACCOUNT", "1")
        .stdout(Stdio::piped());
    if let Some(port) = port {
        command.arg("--port").arg(port.to_string());
    }
    let mut child = command
        .spawn()
        .map_err(|err| CliError::Message(format!("cannot start {}: {err}", binary.display())))?;
    let (ready_tx, ready) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                if line.contains("listening on http://") {
                    let _ = ready_tx.send(());
                }
            }
        });
    }
    loop {
        match ready.recv_timeout(Duration::from_millis(100)) {
            Ok(()) => {
                return Ok(Started::Listening(Server {
                    child,
                    binary: binary.to_owned(),
                }));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Output closed without an address: the server is exiting.
                let status = child.wait().map_err(|err| {
                    CliError::Message(format!("cannot wait for {}: {err}", binary.display()))
                })?;
                return Ok(Started::Failed(status));
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Ok(Started::Failed(status));
        }
        match events.try_recv() {
            Ok(Event::Stop) => {
                stop(Some(child));
                return Ok(Started::Stopped);
            }
            Ok(Event::Changed(_)) => *rebuild = true,
            Err(_) => {}
        }
    }
}

/// Stops the server gracefully (SIGTERM), killing it after 10 seconds.
fn stop(child: Option<Child>) {
    let Some(mut child) = child else { return };
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let _ = signal::kill(pid, signal::Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("raclette: the server did not stop within 10 s; killing it");
    let _ = child.kill();
    let _ = child.wait();
}
