//! The browser runtime (`@raclette/client`) and the shell, embedded in the
//! binary (read from the source tree in debug builds).
//!
//! Beside the runtime's TypeScript, `socket.io.esm.min.js` is the browser
//! build of `socket.io-client` (the version pinned in the repository's
//! `package.json`, without its source-map comment; a client unit test checks
//! that it is that file), served as it is.

use std::{borrow::Cow, sync::OnceLock};

use base64::{Engine, engine::general_purpose::STANDARD};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "runtime/"]
#[include = "*.ts"]
#[include = "*.css"]
#[include = "*.min.js"]
#[exclude = "*.d.ts"]
struct Runtime;

/// A runtime file by name (`client.ts`, `shell.css`).
pub fn runtime_file(name: &str) -> Option<Cow<'static, str>> {
    let file = Runtime::get(name)?;
    match file.data {
        Cow::Borrowed(bytes) => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
        Cow::Owned(bytes) => String::from_utf8(bytes).ok().map(Cow::Owned),
    }
}

/// Every runtime file name.
pub fn runtime_files() -> Vec<String> {
    Runtime::iter().map(|name| name.into_owned()).collect()
}

/// The shell's only inline script: its import map, which lets plugin
/// modules import `@raclette/client`.
pub const SHELL_IMPORT_MAP: &str =
    r#"{"imports":{"@raclette/client":"/raclette/runtime/client.js"}}"#;

/// The Content-Security-Policy hash source of the shell's inline import map
/// (`'sha256-…'`, quotes included), computed once. A policy whose
/// `script-src` lists it lets the shell run without `'unsafe-inline'`.
pub fn shell_script_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let digest = Sha256::digest(SHELL_IMPORT_MAP.as_bytes());
        format!("'sha256-{}'", STANDARD.encode(digest))
    })
}

/// The shell page. `title` is escaped.
pub fn shell_html(title: &str) -> String {
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="data:,">
  <script type="importmap">{SHELL_IMPORT_MAP}</script>
  <link rel="modulepreload" href="/raclette/runtime/client.js">
  <link rel="stylesheet" href="/raclette/runtime/shell.css">
</head>
<body>
  <div id="raclette-app"></div>
  <script type="module" src="/raclette/runtime/shell.js"></script>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_hash_is_that_of_its_inline_script() {
        let html = shell_html("Portal");
        let start = html.find(r#"<script type="importmap">"#).unwrap() + 25;
        let end = start + html[start..].find("</script>").unwrap();
        assert_eq!(&html[start..end], SHELL_IMPORT_MAP);
        assert_eq!(
            html.matches("<script").count(),
            2,
            "one inline script, one module"
        );
        let hash = shell_script_hash();
        assert!(
            hash.starts_with("'sha256-") && hash.ends_with("='"),
            "{hash}"
        );
    }
}
