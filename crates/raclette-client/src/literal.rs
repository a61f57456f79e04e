//! Reading exported object literals (`export const details = { … }`) out of
//! a module without running it.

use std::collections::BTreeMap;

use oxc::{
    allocator::Allocator,
    ast::ast::{
        ArrayExpressionElement, BindingPattern, Declaration, Expression, ObjectPropertyKind,
        Statement,
    },
    parser::Parser,
    span::{GetSpan, SourceType},
};
use serde_json::{Map, Number, Value};

use crate::compile::{CompileError, line_column};

/// The exported `const` literals of a module, by name, as JSON. Exports that
/// are not plain literals are reported with their line and column.
pub fn exported_literals(
    source: &str,
    file: &str,
) -> Result<BTreeMap<String, Value>, CompileError> {
    let allocator = Allocator::default();
    let source_type = SourceType::from_path(file)
        .unwrap_or_else(|_| SourceType::ts())
        .with_module(true);
    let parsed = Parser::new(&allocator, source, source_type).parse();
    let error = |offset: u32, message: String| {
        let (line, column) = line_column(source, offset as usize);
        CompileError {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    };
    if let Some(first) = parsed.diagnostics.errors().next() {
        let offset = first.labels.first().map_or(0, |l| l.offset());
        return Err(error(offset, first.message.to_string()));
    }
    let mut found = BTreeMap::new();
    for statement in &parsed.program.body {
        let Statement::ExportDeclaration(export) = statement else {
            continue;
        };
        let Declaration::VariableDeclaration(variables) = &export.declaration else {
            continue;
        };
        for declarator in &variables.declarations {
            let BindingPattern::BindingIdentifier(id) = &declarator.id else {
                continue;
            };
            let Some(init) = &declarator.init else {
                continue;
            };
            let name = id.name.as_str().to_owned();
            let value = to_json(init).map_err(|(offset, what)| {
                error(offset, format!("`{name}` must be a plain literal (strings, numbers, booleans, null, arrays, objects); found {what}"))
            })?;
            found.insert(name, value);
        }
    }
    Ok(found)
}

fn to_json(expression: &Expression<'_>) -> Result<Value, (u32, &'static str)> {
    let at = expression.span().start;
    match expression {
        Expression::StringLiteral(s) => Ok(Value::String(s.value.as_str().to_owned())),
        Expression::NumericLiteral(n) => Ok(Number::from_f64(n.value).map_or(Value::Null, |n| {
            if n.as_f64()
                .is_some_and(|f| f.fract() == 0.0 && f.abs() < 9e15)
            {
                Value::from(n.as_f64().unwrap_or_default() as i64)
            } else {
                Value::Number(n)
            }
        })),
        Expression::BooleanLiteral(b) => Ok(Value::Bool(b.value)),
        Expression::NullLiteral(_) => Ok(Value::Null),
        Expression::TemplateLiteral(t) if t.expressions.is_empty() => Ok(Value::String(
            t.quasis
                .iter()
                .map(|q| {
                    q.value
                        .cooked
                        .as_ref()
                        .map_or(q.value.raw.as_str(), |c| c.as_str())
                })
                .collect(),
        )),
        Expression::UnaryExpression(u) if u.operator.as_str() == "-" => match to_json(&u.argument)?
        {
            Value::Number(n) => Ok(n
                .as_i64()
                .map(|i| Value::from(-i))
                .or_else(|| {
                    n.as_f64()
                        .and_then(|f| Number::from_f64(-f))
                        .map(Value::Number)
                })
                .unwrap_or(Value::Null)),
            _ => Err((at, "a negated non-number")),
        },
        Expression::ParenthesizedExpression(p) => to_json(&p.expression),
        Expression::TSAsExpression(e) => to_json(&e.expression),
        Expression::TSSatisfiesExpression(e) => to_json(&e.expression),
        Expression::ArrayExpression(array) => array
            .elements
            .iter()
            .map(|element| match element {
                ArrayExpressionElement::SpreadElement(s) => Err((s.span.start, "a spread")),
                ArrayExpressionElement::Elision(e) => Err((e.span.start, "an array hole")),
                other => to_json(other.to_expression()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Expression::ObjectExpression(object) => {
            let mut map = Map::new();
            for property in &object.properties {
                match property {
                    ObjectPropertyKind::ObjectProperty(p) => {
                        if p.computed {
                            return Err((p.span.start, "a computed key"));
                        }
                        let key = p
                            .key
                            .static_name()
                            .ok_or((p.span.start, "a key that is not a name"))?;
                        map.insert(key.into_owned(), to_json(&p.value)?);
                    }
                    ObjectPropertyKind::SpreadProperty(s) => {
                        return Err((s.span.start, "a spread"));
                    }
                }
            }
            Ok(Value::Object(map))
        }
        Expression::Identifier(_) => Err((at, "a variable")),
        Expression::CallExpression(_) => Err((at, "a function call")),
        Expression::ArrowFunctionExpression(_) | Expression::FunctionExpression(_) => {
            Err((at, "a function"))
        }
        _ => Err((at, "an expression")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_plain_literals() {
        let source = r##"
            import x from './x.ts'
            export const details = { title: 'Todos', 'color': "#fff", images: [], n: -2, f: 1.5, t: `ok` } as const
            export const config = { size: { type: 'number', default: 3, editor: { inputType: 'number', min: 1 } } } satisfies object
            const hidden = 1
        "##;
        let found = exported_literals(source, "setup.ts").unwrap();
        assert_eq!(
            found["details"],
            json!({"title": "Todos", "color": "#fff", "images": [], "n": -2, "f": 1.5, "t": "ok"})
        );
        assert_eq!(found["config"]["size"]["editor"]["min"], json!(1));
        assert!(!found.contains_key("hidden"));
    }

    #[test]
    fn non_literals_are_reported_with_position() {
        let err = exported_literals(
            "export const details = {\n  title: makeTitle(),\n}\n",
            "w/setup.ts",
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (2, 10));
        assert!(
            err.message.contains("`details` must be a plain literal"),
            "{}",
            err.message
        );
        assert!(err.message.contains("a function call"));
    }
}
