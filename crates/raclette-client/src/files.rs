//! The files of a plugin's `client/` folder, from disk (development) or
//! embedded in the binary (release), and how a request path resolves to one.
//!
//! Files are bytes: TypeScript and JavaScript are text, but a widget's
//! images or fonts are not. Hidden files and folders (a name starting with
//! `.`, such as `.env.production`) and `node_modules` are never listed nor
//! served, on disk or embedded.

use std::{
    borrow::Cow,
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// Where a plugin's client files come from.
#[derive(Debug, Clone)]
pub enum ClientFiles {
    /// The `client/` folder on disk.
    Disk(PathBuf),
    /// Files embedded in the binary: relative path to content. TypeScript
    /// was compiled to `.js` at build time.
    Embedded(BTreeMap<String, &'static [u8]>),
}

impl ClientFiles {
    /// Reads one file by its path relative to `client/`, refusing anything
    /// outside the folder (`..`, absolute paths, symlinks that leave it) and
    /// hidden or `node_modules` paths (also when a symlink leads there).
    pub fn read_bytes(&self, relative: &str) -> Option<Cow<'static, [u8]>> {
        if !is_servable(relative) {
            return None;
        }
        match self {
            ClientFiles::Embedded(files) => files.get(relative).map(|s| Cow::Borrowed(*s)),
            ClientFiles::Disk(root) => {
                let root = root.canonicalize().ok()?;
                let path = root.join(relative).canonicalize().ok()?;
                let inside = path.strip_prefix(&root).ok()?;
                let hidden = inside
                    .components()
                    .any(|part| is_hidden(&part.as_os_str().to_string_lossy()));
                if hidden || !path.is_file() {
                    return None;
                }
                std::fs::read(path).ok().map(Cow::Owned)
            }
        }
    }

    /// Reads one text file (see [`ClientFiles::read_bytes`]); `None` also
    /// when it is not UTF-8.
    pub fn read(&self, relative: &str) -> Option<Cow<'static, str>> {
        match self.read_bytes(relative)? {
            Cow::Borrowed(bytes) => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            Cow::Owned(bytes) => String::from_utf8(bytes).ok().map(Cow::Owned),
        }
    }

    /// The name of the folder on disk (`client` or `frontend`), as shown in
    /// messages; `client` for embedded files.
    pub fn folder_name(&self) -> std::borrow::Cow<'_, str> {
        match self {
            ClientFiles::Disk(root) => root
                .file_name()
                .map_or(Cow::Borrowed("client"), |n| n.to_string_lossy()),
            ClientFiles::Embedded(_) => Cow::Borrowed("client"),
        }
    }

    /// Every file, as paths relative to `client/` with `/` separators.
    pub fn list(&self) -> Vec<String> {
        match self {
            ClientFiles::Embedded(files) => files.keys().cloned().collect(),
            ClientFiles::Disk(root) => {
                let mut out = Vec::new();
                walk(root, root, &mut out);
                out.sort();
                out
            }
        }
    }

    /// Resolves a requested module path the way the browser asks for it:
    /// `a/b.js` is `a/b.ts` or `a/b.js`; `a/b` is `a/b.ts`, `a/b.js` or
    /// `a/b/index.ts`. Returns the file's relative path and content.
    pub fn resolve(&self, requested: &str) -> Option<(String, Cow<'static, [u8]>)> {
        let requested = requested.trim_start_matches('/');
        let mut candidates = Vec::new();
        if let Some(stem) = requested.strip_suffix(".js") {
            candidates.push(format!("{stem}.ts"));
            candidates.push(requested.to_owned());
        } else if Path::new(requested).extension().is_some() {
            candidates.push(requested.to_owned());
        } else {
            candidates.push(format!("{requested}.ts"));
            candidates.push(format!("{requested}.js"));
            candidates.push(format!("{requested}/index.ts"));
            candidates.push(format!("{requested}/index.js"));
        }
        candidates
            .into_iter()
            .find_map(|c| self.read_bytes(&c).map(|content| (c, content)))
    }
}

/// Whether a file or folder name is skipped: hidden (`.env`, `.git`) or
/// `node_modules`.
fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name == "node_modules"
}

/// Whether a relative path stays inside its folder and names no hidden or
/// `node_modules` part.
fn is_servable(relative: &str) -> bool {
    !relative.is_empty()
        && !relative.starts_with('/')
        && !relative.contains('\\')
        && !relative.contains('\0')
        && relative
            .split('/')
            .all(|part| !part.is_empty() && !is_hidden(part))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_hidden(&name) {
            continue;
        }
        // Symlinks are followed only when they stay inside the folder and
        // lead to no hidden file.
        let inside = path
            .canonicalize()
            .ok()
            .zip(root.canonicalize().ok())
            .is_some_and(|(p, r)| {
                p.strip_prefix(&r).is_ok_and(|rest| {
                    !rest
                        .components()
                        .any(|part| is_hidden(&part.as_os_str().to_string_lossy()))
                })
            });
        if !inside {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out);
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_prefers_typescript() {
        let files = ClientFiles::Embedded(BTreeMap::from([
            ("index.ts".to_owned(), &b"ts"[..]),
            ("lib/util.js".to_owned(), b"js"),
            ("widgets/a/index.ts".to_owned(), b"w"),
        ]));
        assert_eq!(files.resolve("index.js").unwrap().0, "index.ts");
        assert_eq!(files.resolve("index").unwrap().0, "index.ts");
        assert_eq!(files.resolve("lib/util.js").unwrap().0, "lib/util.js");
        assert_eq!(files.resolve("widgets/a").unwrap().0, "widgets/a/index.ts");
        assert!(files.resolve("missing.js").is_none());
    }

    #[test]
    fn traversal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let client = dir.path().join("client");
        std::fs::create_dir_all(&client).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        std::fs::write(client.join("ok.txt"), "ok").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), client.join("link.txt")).unwrap();
        let files = ClientFiles::Disk(client);
        assert_eq!(files.read("ok.txt").as_deref(), Some("ok"));
        for bad in [
            "../secret.txt",
            "./../secret.txt",
            "/etc/passwd",
            "a/../../secret.txt",
            "link.txt",
        ] {
            assert!(files.read(bad).is_none(), "{bad}");
        }
        assert_eq!(files.list(), vec!["ok.txt".to_owned()]);
    }

    #[test]
    fn hidden_and_node_modules_files_are_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let client = dir.path().join("client");
        for file in [
            ".env.production",
            ".git/config",
            "node_modules/pkg/index.js",
            "widgets/.cache/x.js",
            "index.ts",
        ] {
            let path = client.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "SECRET=1").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(client.join(".env.production"), client.join("env.js")).unwrap();
        let files = ClientFiles::Disk(client);
        for bad in [
            ".env.production",
            ".git/config",
            "node_modules/pkg/index.js",
            "widgets/.cache/x.js",
            "env.js",
        ] {
            assert!(files.read_bytes(bad).is_none(), "{bad}");
        }
        assert!(files.resolve("node_modules/pkg/index").is_none());
        assert_eq!(files.list(), vec!["index.ts".to_owned()]);
        let embedded = ClientFiles::Embedded(BTreeMap::from([(".env".to_owned(), &b"x"[..])]));
        assert!(embedded.read_bytes(".env").is_none());
    }

    #[test]
    fn binary_files_are_read_as_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00];
        std::fs::write(dir.path().join("icon.png"), png).unwrap();
        let files = ClientFiles::Disk(dir.path().to_owned());
        assert_eq!(files.read_bytes("icon.png").as_deref(), Some(&png[..]));
        assert!(files.read("icon.png").is_none(), "not text");
        assert_eq!(files.resolve("icon.png").unwrap().1.as_ref(), &png[..]);
    }
}
