//! What a route documents about itself for the OpenAPI document: a summary
//! and the JSON Schemas of its body, answer and query parameters.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};

/// The JSON Schema of a Rust type (derived with `JsonSchema`), made when the
/// OpenAPI document is: named types become shared components.
///
/// ```
/// use raclette_contract::{TypeSchema, openapi_schema_generator};
///
/// /// One note.
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Note { text: String, #[serde(default)] pinned: bool }
///
/// let mut generator = openapi_schema_generator();
/// let schema = TypeSchema::of::<Note>().generate(&mut generator);
/// assert_eq!(schema.get("$ref").unwrap(), "#/components/schemas/Note");
/// let definitions = generator.take_definitions(true);
/// assert_eq!(definitions["Note"]["required"], serde_json::json!(["text"]));
///
/// let partial = TypeSchema::partial_of::<Note>().generate(&mut generator);
/// assert!(partial.get("required").is_none());
/// assert!(partial.as_value()["properties"]["pinned"].get("default").is_none());
/// ```
#[derive(Clone, Copy)]
pub struct TypeSchema {
    name: &'static str,
    partial: bool,
    make: fn(&mut SchemaGenerator) -> Schema,
}

impl TypeSchema {
    /// The schema of `T`.
    pub fn of<T: JsonSchema + ?Sized>() -> Self {
        TypeSchema {
            name: std::any::type_name::<T>(),
            partial: false,
            make: subschema::<T>,
        }
    }

    /// The schema of `T` with every field optional: the body of a partial
    /// update.
    pub fn partial_of<T: JsonSchema + ?Sized>() -> Self {
        TypeSchema {
            name: std::any::type_name::<T>(),
            partial: true,
            make: inline_schema::<T>,
        }
    }

    /// The Rust name of the type.
    pub fn type_name(&self) -> &'static str {
        self.name
    }

    /// The schema, with the definitions it references added to
    /// `generator`.
    pub fn generate(&self, generator: &mut SchemaGenerator) -> Schema {
        let mut schema = (self.make)(generator);
        if self.partial {
            // Every field may be left out, and one left out keeps its value:
            // no field is required and none has a default.
            schema.remove("required");
            if let Some(properties) = schema
                .get_mut("properties")
                .and_then(serde_json::Value::as_object_mut)
            {
                for property in properties.values_mut() {
                    if let Some(property) = property.as_object_mut() {
                        property.remove("default");
                    }
                }
            }
        }
        schema
    }
}

fn subschema<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn inline_schema<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = T::json_schema(generator);
    schema.remove("$schema");
    schema.remove("title");
    schema
}

impl PartialEq for TypeSchema {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.partial == other.partial
    }
}

impl Eq for TypeSchema {}

impl fmt::Debug for TypeSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.partial {
            write!(f, "TypeSchema(partial {})", self.name)
        } else {
            write!(f, "TypeSchema({})", self.name)
        }
    }
}

/// A schema generator for OpenAPI 3.1: JSON Schema 2020-12, named types
/// referenced as `#/components/schemas/<name>`.
pub fn openapi_schema_generator() -> SchemaGenerator {
    schemars::generate::SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        })
        .into_generator()
}

/// What a route says about itself beyond its method, path and access, for
/// the OpenAPI document (`GET /raclette/openapi.json`). Not part of the
/// route's JSON in `GET /raclette/plugins`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteDocs {
    /// One line on what the route does.
    pub summary: Option<String>,
    /// The JSON body it takes.
    pub body: Option<TypeSchema>,
    /// The JSON body of its success answer.
    pub answer: Option<TypeSchema>,
    /// The status of its success answer, when declared.
    pub status: Option<u16>,
    /// Its query parameters: the fields of an object schema.
    pub query: Option<TypeSchema>,
    /// Error answers it may give beyond those the framework knows of, as
    /// status and when.
    pub errors: Vec<(u16, String)>,
}
