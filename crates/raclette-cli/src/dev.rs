//! `raclette dev`: build, serve, and rebuild and restart on every change.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command},
    sync::mpsc,
    time::{Duration, Instant},
};

use nix::{sys::signal, unistd::Pid};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use crate::{
    CliError,
    cargo::{self, Profile},
    check, client, host,
};

enum Event {
    Changed(Vec<PathBuf>),
    Stop,
}

/// Runs the app and keeps it up to date with `plugins/` and `raclette.toml`.
///
/// A change rebuilds the host; when the build succeeds the server is
/// restarted (gracefully: SIGTERM, in-flight requests finish). When it fails
/// the error is shown and the previous server keeps running.
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

    let mut server: Option<Child> = None;
    let mut rebuild = true;
    loop {
        if rebuild {
            rebuild = false;
            match build_once(&app) {
                Ok(binary) => {
                    stop(server.take());
                    server = Some(spawn(&binary, &app, port)?);
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
        }
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(Event::Changed(paths)) => {
                let shown: Vec<String> = paths
                    .iter()
                    .take(3)
                    .map(|p| p.strip_prefix(&app).unwrap_or(p).display().to_string())
                    .collect();
                eprintln!("raclette: changed: {}; rebuilding", shown.join(", "));
                rebuild = true;
            }
            Ok(Event::Stop) => {
                stop(server.take());
                return Ok(());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(child) = &mut server
                    && let Ok(Some(status)) = child.try_wait()
                {
                    eprintln!("raclette: the server stopped ({status}); waiting for changes");
                    server = None;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

fn build_once(app: &Path) -> Result<PathBuf, CliError> {
    let model = check::discover(app)?;
    let host = host::generate(&model, false)?;
    let binary = cargo::build(app, &host, Profile::Debug)?;
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

fn spawn(binary: &Path, app: &Path, port: Option<u16>) -> Result<Child, CliError> {
    let mut command = Command::new(binary);
    command.arg("serve").arg("--app").arg(app);
    if let Some(port) = port {
        command.arg("--port").arg(port.to_string());
    }
    command
        .spawn()
        .map_err(|err| CliError::Message(format!("cannot start {}: {err}", binary.display())))
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
