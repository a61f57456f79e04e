//! TypeScript to JavaScript with oxc: types stripped, `./x.ts` imports
//! rewritten to `./x.js`, nothing else changed (modern browsers run the rest).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use oxc::{
    allocator::Allocator,
    codegen::{Codegen, CodegenOptions},
    parser::Parser,
    semantic::SemanticBuilder,
    span::SourceType,
    transformer::{RewriteExtensionsMode, TransformOptions, Transformer},
};
use sha2::{Digest, Sha256};

/// A compile error at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// The file, as shown to people.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for CompileError {}

/// Line and column (1-based, in characters) of a byte offset.
pub(crate) fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Compiles a TypeScript (or JavaScript) module. `file` names it in errors;
/// its extension picks the dialect.
///
/// ```
/// let js = raclette_client::compile("const n: number = 1;\nexport default n;\n", "a.ts").unwrap();
/// assert!(js.contains("const n = 1"));
///
/// let err = raclette_client::compile("const = ;", "plugins/x/client/b.ts").unwrap_err();
/// assert_eq!((err.line, err.column), (1, 7));
/// ```
pub fn compile(source: &str, file: &str) -> Result<String, CompileError> {
    generate(source, file, false).map(|(code, _)| code)
}

/// A module compiled with its source map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledModule {
    /// The JavaScript, ending with a `//# sourceMappingURL=` comment that
    /// points at [`CompiledModule::map`].
    pub code: String,
    /// The source map (JSON, version 3). Its `sources` names the original
    /// file by its file name, which resolves beside the map's URL, and
    /// `sourcesContent` holds the original text, so browsers show the
    /// TypeScript without fetching it.
    pub map: String,
}

/// Compiles a module like [`compile`], with a source map that browser
/// developer tools use to show errors and breakpoints at the lines of the
/// TypeScript. `map_url` is where the map is served (written into the
/// module's `//# sourceMappingURL=` comment); the map should sit beside the
/// module, as `<module>.js.map`.
///
/// ```
/// let module = raclette_client::compile_with_source_map(
///     "const n: number = 1;\nexport default n;\n",
///     "plugins/acme__x/client/index.ts",
///     "/raclette/client/plugin_acme__x/index.js.map",
/// )
/// .unwrap();
/// assert!(module.code.ends_with("//# sourceMappingURL=/raclette/client/plugin_acme__x/index.js.map\n"));
/// let map: serde_json::Value = serde_json::from_str(&module.map).unwrap();
/// assert_eq!(map["sources"], serde_json::json!(["index.ts"]));
/// ```
pub fn compile_with_source_map(
    source: &str,
    file: &str,
    map_url: &str,
) -> Result<CompiledModule, CompileError> {
    let (mut code, map) = generate(source, file, true)?;
    if !code.ends_with('\n') {
        code.push('\n');
    }
    code.push_str("//# sourceMappingURL=");
    code.push_str(map_url);
    code.push('\n');
    Ok(CompiledModule {
        code,
        map: map.unwrap_or_default(),
    })
}

/// Parses, strips types and prints; with `source_map`, also the map (JSON).
fn generate(
    source: &str,
    file: &str,
    source_map: bool,
) -> Result<(String, Option<String>), CompileError> {
    let allocator = Allocator::default();
    let path = Path::new(file);
    let source_type = SourceType::from_path(path)
        .unwrap_or_else(|_| SourceType::ts())
        .with_module(true);
    let parsed = Parser::new(&allocator, source, source_type).parse();
    let error_at = |diagnostic: &oxc::diagnostics::OxcDiagnostic| {
        let offset = diagnostic
            .labels
            .first()
            .map_or(0, |label| label.offset() as usize);
        let (line, column) = line_column(source, offset);
        CompileError {
            file: file.to_owned(),
            line,
            column,
            message: diagnostic.message.to_string(),
        }
    };
    if let Some(first) = parsed.diagnostics.errors().next() {
        return Err(error_at(first));
    }
    if parsed.panicked {
        return Err(CompileError {
            file: file.to_owned(),
            line: 1,
            column: 1,
            message: "could not be parsed".into(),
        });
    }
    let mut program = parsed.program;
    let semantic = SemanticBuilder::new().build(&program);
    let scoping = semantic.semantic.into_scoping();
    let mut options = TransformOptions::default();
    options.typescript.rewrite_import_extensions = Some(RewriteExtensionsMode::Rewrite);
    let transformed =
        Transformer::new(&allocator, path, &options).build_with_scoping(scoping, &mut program);
    if let Some(first) = transformed.diagnostics.errors().next() {
        return Err(error_at(first));
    }
    let name = path.file_name().map_or_else(
        || file.to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    let codegen_options = CodegenOptions {
        source_map_path: source_map.then(|| PathBuf::from(&name)),
        ..CodegenOptions::default()
    };
    let generated = Codegen::new().with_options(codegen_options).build(&program);
    let map = generated.map.map(|mut map| {
        let js_name = match name.rsplit_once('.') {
            Some((stem, _)) => format!("{stem}.js"),
            None => format!("{name}.js"),
        };
        map.set_file(&js_name);
        map.to_json_string()
    });
    Ok((generated.code, map))
}

/// A compiled module, or why it could not be compiled.
type Cached = Result<Arc<CompiledModule>, CompileError>;

/// Compiled modules by content hash, so each version of a file is compiled
/// once.
#[derive(Debug, Default, Clone)]
pub struct CompileCache {
    entries: Arc<Mutex<HashMap<[u8; 32], Cached>>>,
}

impl CompileCache {
    /// The compiled form of `source` with its source map (see
    /// [`compile_with_source_map`]), from the cache when seen before.
    pub fn compile(
        &self,
        source: &str,
        file: &str,
        map_url: &str,
    ) -> Result<Arc<CompiledModule>, CompileError> {
        let mut hasher = Sha256::new();
        for part in [file, map_url, source] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let key: [u8; 32] = hasher.finalize().into();
        if let Some(hit) = self.entries.lock().expect("cache lock").get(&key) {
            return hit.clone();
        }
        let result = compile_with_source_map(source, file, map_url).map(Arc::new);
        self.entries
            .lock()
            .expect("cache lock")
            .insert(key, result.clone());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_types_and_rewrites_imports() {
        let source = "import type { A } from './types.ts';\nimport { b } from './b.ts';\ninterface X { a: A }\nexport const c = (x: X): number => b(x) as number;\n";
        let js = compile(source, "index.ts").unwrap();
        assert!(js.contains("from \"./b.js\""), "{js}");
        assert!(!js.contains("types"), "{js}");
        assert!(!js.contains("interface"), "{js}");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let err = compile(
            "export const a = 1;\nconst b = ;\n",
            "plugins/p/client/index.ts",
        )
        .unwrap_err();
        assert_eq!(err.file, "plugins/p/client/index.ts");
        assert_eq!(err.line, 2);
        assert_eq!(err.column, 11);
        assert!(
            err.to_string()
                .starts_with("plugins/p/client/index.ts:2:11: "),
            "{err}"
        );
    }

    #[test]
    fn cache_returns_the_same_module() {
        let cache = CompileCache::default();
        let a = cache
            .compile("export const a: number = 1;", "a.ts", "a.js.map")
            .unwrap();
        let b = cache
            .compile("export const a: number = 1;", "a.ts", "a.js.map")
            .unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    /// Decodes the `mappings` of a source map: per generated line, the
    /// segments as (generated column, source, original line, original
    /// column), all 0-based.
    fn decode(mappings: &str) -> Vec<Vec<[i64; 4]>> {
        const DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state = [0i64; 4];
        let mut lines = Vec::new();
        for line in mappings.split(';') {
            state[0] = 0;
            let mut segments = Vec::new();
            for segment in line.split(',').filter(|s| !s.is_empty()) {
                let (mut values, mut value, mut shift) = (Vec::new(), 0i64, 0);
                for c in segment.chars() {
                    let digit = DIGITS.find(c).expect("base64 digit") as i64;
                    value += (digit & 31) << shift;
                    shift += 5;
                    if digit & 32 == 0 {
                        values.push(if value & 1 == 1 {
                            -(value >> 1)
                        } else {
                            value >> 1
                        });
                        (value, shift) = (0, 0);
                    }
                }
                for (slot, delta) in state.iter_mut().zip(&values) {
                    *slot += delta;
                }
                if values.len() >= 4 {
                    segments.push(state);
                }
            }
            lines.push(segments);
        }
        lines
    }

    #[test]
    fn source_maps_point_generated_lines_at_the_typescript() {
        let source = "import type { A } from './a.ts'\n\ninterface Cart {\n  items: number\n}\n\nexport function total(cart: Cart): number {\n  return cart.items\n}\n";
        let module = compile_with_source_map(
            source,
            "plugins/acme__shop/client/widgets/cart/index.ts",
            "/raclette/client/plugin_acme__shop/widgets/cart/index.js.map",
        )
        .unwrap();
        assert!(
            module.code.ends_with(
                "\n//# sourceMappingURL=/raclette/client/plugin_acme__shop/widgets/cart/index.js.map\n"
            ),
            "{}",
            module.code
        );
        let map: serde_json::Value = serde_json::from_str(&module.map).unwrap();
        assert_eq!(map["version"], 3);
        assert_eq!(map["file"], "index.js");
        assert_eq!(map["sources"], serde_json::json!(["index.ts"]));
        assert_eq!(map["sourcesContent"], serde_json::json!([source]));
        // `return cart.items` is on line 2 of the JavaScript (types and the
        // type-only import are gone) and on line 8 of the TypeScript.
        let generated_line = module
            .code
            .lines()
            .position(|l| l.contains("return cart.items"))
            .unwrap();
        assert_eq!(generated_line, 1, "{}", module.code);
        let lines = decode(map["mappings"].as_str().unwrap());
        let original_lines: Vec<i64> = lines[generated_line].iter().map(|s| s[2]).collect();
        assert!(original_lines.contains(&7), "{original_lines:?}");
        assert!(lines[generated_line].iter().all(|s| s[1] == 0));
    }
}
