//! Writes the TypeScript declarations of an app's data APIs, as `raclette
//! dev` does, for an app folder with the example todo plugin's server half
//! linked in: `DIR/.raclette/types/<plugin key>.d.ts` for every enabled
//! plugin. The type check of the client code (`tsc`) reads them.
//!
//! ```text
//! emit-types --app DIR
//! ```

use std::{path::PathBuf, process::ExitCode};

use raclette_runtime::App;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let app_dir = match (args.next().as_deref(), args.next()) {
        (Some("--app"), Some(dir)) => PathBuf::from(dir),
        _ => {
            eprintln!("usage: emit-types --app DIR");
            return ExitCode::from(2);
        }
    };
    let listing = match App::discover(&app_dir) {
        Ok(app) => {
            app.plugin("pacifico__todo", pacifico_todo_server::plugin)
                .inspect()
                .await
        }
        Err(error) => Err(error),
    };
    let listing = match listing {
        Ok(listing) => listing,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let dir = app_dir.join(".raclette").join("types");
    if let Err(error) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {error}", dir.display());
        return ExitCode::FAILURE;
    }
    let descriptions = raclette_runtime::host::data_api_descriptions(&listing);
    for (key, description) in &descriptions {
        let path = dir.join(format!("{key}.d.ts"));
        if let Err(error) = std::fs::write(&path, raclette_client::declaration_file(description)) {
            eprintln!("cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    println!(
        "emit-types: {} declaration files in {}",
        descriptions.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}
