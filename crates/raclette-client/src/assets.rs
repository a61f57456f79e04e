//! The browser runtime (`@raclette/client`) and the shell, embedded in the
//! binary (read from the source tree in debug builds).

use std::borrow::Cow;

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "runtime/"]
#[include = "*.ts"]
#[include = "*.css"]
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
  <script type="importmap">{{"imports":{{"@raclette/client":"/raclette/runtime/client.js"}}}}</script>
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
