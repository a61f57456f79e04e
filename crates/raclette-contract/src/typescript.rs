//! TypeScript declarations from Rust types, through ts-rs.

use std::{any::TypeId, collections::BTreeMap};

use ts_rs::{Config, TS, TypeVisitor};

/// The ts-rs configuration every declaration is made with. 64-bit
/// integers are `number`, as `serde_json` writes them.
pub(crate) fn config() -> Config {
    Config::new().with_large_int("number")
}

/// TypeScript declarations collected from Rust types, by TypeScript name:
/// each type added, and every named type it references.
///
/// ```
/// use raclette_contract::{OperationKind, TypeScriptDeclarations};
///
/// let mut declarations = TypeScriptDeclarations::default();
/// declarations.add::<OperationKind>();
/// let (name, text) = declarations.iter().next().unwrap();
/// assert_eq!(name, "OperationKind");
/// assert!(text.contains(r#"export type OperationKind = "read" | "create""#));
/// ```
#[derive(Debug, Default, Clone)]
pub struct TypeScriptDeclarations {
    seen: Vec<TypeId>,
    declarations: BTreeMap<String, String>,
}

impl TypeScriptDeclarations {
    /// Adds the declaration of `T` (when it is a named type) and of every
    /// named type it references.
    pub fn add<T: TS + 'static + ?Sized>(&mut self) {
        Collector {
            config: config(),
            into: self,
        }
        .visit::<T>();
    }

    /// The declarations by TypeScript name, each `export type …;` with its
    /// doc comment.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.declarations
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
    }

    /// Takes the declarations out, by TypeScript name.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.declarations
    }
}

struct Collector<'a> {
    config: Config,
    into: &'a mut TypeScriptDeclarations,
}

impl TypeVisitor for Collector<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        let id = TypeId::of::<T>();
        if self.into.seen.contains(&id) {
            return;
        }
        self.into.seen.push(id);
        // Types with an output path are the named ones (derived); the rest
        // (primitives, `Vec`, `Option`, maps) are written inline.
        if T::output_path().is_some() {
            let mut text = T::docs().unwrap_or_default();
            text.push_str("export ");
            text.push_str(&tidy(&T::decl(&self.config)));
            self.into.declarations.insert(T::ident(&self.config), text);
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

/// Lays out a declaration as ts-rs writes it (`type X = { ⏎/** doc */⏎a:
/// string, ⏎… };`) one indented field per line, without trailing blanks.
fn tidy(decl: &str) -> String {
    let lines: Vec<&str> = decl.lines().map(str::trim_end).collect();
    let Some((first, rest)) = lines.split_first() else {
        return String::new();
    };
    if rest.is_empty() || !first.ends_with('{') {
        return lines.join("\n");
    }
    let mut out = vec![(*first).to_owned()];
    for line in rest {
        let is_doc = line.starts_with("/**") || line.starts_with(" *");
        match line.strip_suffix("};") {
            Some(fields) if !is_doc => {
                let fields = fields.trim_end();
                if !fields.is_empty() {
                    out.push(format!("  {fields}"));
                }
                out.push("};".to_owned());
            }
            _ => out.push(format!("  {line}")),
        }
    }
    out.join("\n")
}

/// The TypeScript name of `T` (`Todo`, `Array<Todo>`, `string`).
pub(crate) fn name_of<T: TS + 'static + ?Sized>() -> String {
    T::name(&config())
}
