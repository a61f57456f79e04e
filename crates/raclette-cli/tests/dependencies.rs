//! The CLI compiles, checks and packages apps but serves nothing itself: it
//! must not build the HTTP server or the database drivers (the generated
//! host binary does). A dependency that pulls them in fails this test.

use std::{path::Path, process::Command};

/// Crates of the HTTP server and the database drivers, by name or prefix.
fn is_server_crate(name: &str) -> bool {
    ["axum", "hyper", "tower-http", "sqlx"]
        .iter()
        .any(|banned| name == *banned || name.starts_with(&format!("{banned}-")))
}

#[test]
fn the_cli_builds_no_http_server_and_no_database_driver() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "raclette-cli",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("run cargo tree");
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"raclette-client") && names.contains(&"raclette-contract"),
        "the tree lists the CLI's dependencies:\n{tree}"
    );
    let server: Vec<&&str> = names.iter().filter(|n| is_server_crate(n)).collect();
    assert!(
        server.is_empty(),
        "the CLI depends on server crates {server:?} (is raclette-client's `server` feature on, or `raclette` a dependency?):\n{tree}"
    );
}
