//! TypeScript to JavaScript with oxc: types stripped, `./x.ts` imports
//! rewritten to `./x.js`, nothing else changed (modern browsers run the rest).

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
};

use oxc::{
    allocator::Allocator,
    codegen::Codegen,
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
    Ok(Codegen::new().build(&program).code)
}

/// A compiled module, or why it could not be compiled.
type Compiled = Result<Arc<str>, CompileError>;

/// Compiled modules by content hash, so each version of a file is compiled
/// once.
#[derive(Debug, Default, Clone)]
pub struct CompileCache {
    entries: Arc<Mutex<HashMap<[u8; 32], Compiled>>>,
}

impl CompileCache {
    /// The compiled form of `source`, from the cache when seen before.
    pub fn compile(&self, source: &str, file: &str) -> Result<Arc<str>, CompileError> {
        let mut hasher = Sha256::new();
        hasher.update(file.as_bytes());
        hasher.update([0]);
        hasher.update(source.as_bytes());
        let key: [u8; 32] = hasher.finalize().into();
        if let Some(hit) = self.entries.lock().expect("cache lock").get(&key) {
            return hit.clone();
        }
        let result = compile(source, file).map(Arc::from);
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
            .compile("export const a: number = 1;", "a.ts")
            .unwrap();
        let b = cache
            .compile("export const a: number = 1;", "a.ts")
            .unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }
}
