use std::path::PathBuf;

use raclette_discovery::Report;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The app has problems.
    #[error("{0}")]
    Invalid(#[from] Report),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
    /// Cargo failed to build the app.
    #[error("the build failed (cargo's messages are above)")]
    Build,
    /// Anything else, with a message that says what to do.
    #[error("{0}")]
    Message(String),
}

impl CliError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CliError {
        let path = path.into();
        move |source| CliError::Io { path, source }
    }
}
