//! Writes the browser runtime, compiled exactly as the server serves it, to
//! a folder, so the client unit tests run the same JavaScript under Node.
//!
//! ```text
//! emit-runtime OUT_DIR
//! ```

use std::{path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: emit-runtime OUT_DIR");
        return ExitCode::from(2);
    };
    if let Err(error) = std::fs::create_dir_all(&out) {
        eprintln!("cannot create {}: {error}", out.display());
        return ExitCode::FAILURE;
    }
    let mut written = Vec::new();
    for name in raclette_client::runtime_files() {
        if name.ends_with(".min.js") {
            // A vendored module, served as it is.
            let code = raclette_client::runtime_file(&name).expect("listed runtime file");
            let target = out.join(&name);
            if let Err(error) = std::fs::write(&target, code.as_bytes()) {
                eprintln!("cannot write {}: {error}", target.display());
                return ExitCode::FAILURE;
            }
            written.push(target);
            continue;
        }
        let Some(stem) = name.strip_suffix(".ts") else {
            continue;
        };
        let source = raclette_client::runtime_file(&name).expect("listed runtime file");
        let js = match raclette_client::compile(&source, &format!("raclette/runtime/{name}")) {
            Ok(js) => js,
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        };
        let target = out.join(format!("{stem}.js"));
        if let Err(error) = std::fs::write(&target, js) {
            eprintln!("cannot write {}: {error}", target.display());
            return ExitCode::FAILURE;
        }
        written.push(target);
    }
    let manifest = out.join("package.json");
    if let Err(error) = std::fs::write(&manifest, "{ \"type\": \"module\" }\n") {
        eprintln!("cannot write {}: {error}", manifest.display());
        return ExitCode::FAILURE;
    }
    println!(
        "emit-runtime: {} modules in {}",
        written.len(),
        out.display()
    );
    ExitCode::SUCCESS
}
