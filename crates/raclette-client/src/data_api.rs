//! The generated data API of a plugin: `GET /raclette/plugins/<key>/client-config`,
//! and its TypeScript declarations for `.raclette/types/<plugin key>.d.ts`.

use std::collections::{BTreeMap, BTreeSet};

use raclette_contract::{
    Channel, ClientConfig, DataApiDescription, DataTypeConfig, OperationConfig, RouteInfo,
};

/// The client config of one plugin, from its routes (full paths) and the
/// data operations declared on them.
///
/// ```
/// use raclette_contract::{DataOperation, RouteInfo};
///
/// let routes = vec![RouteInfo {
///     method: "POST".into(),
///     path: "/plugin/pacifico/todo/todo".into(),
///     operation: Some(DataOperation::create("todo", "create").broadcast("todoCreated")),
///     access: Default::default(),
///     docs: Default::default(),
/// }];
/// let config = raclette_client::client_config("pacifico__todo", &routes);
/// assert_eq!(config.route_prefix, "/plugin/pacifico/todo");
/// let op = &config.data["todo"].operations["create"];
/// assert_eq!(op.method, "post");
/// assert_eq!(op.channels[0].channel, "plugin_pacifico__todo--todoCreated");
/// ```
pub fn client_config(folder: &str, routes: &[RouteInfo]) -> ClientConfig {
    let key = raclette_contract::plugin_key(folder);
    let (author, name) = raclette_contract::author_and_name(folder);
    let mut data: BTreeMap<String, DataTypeConfig> = BTreeMap::new();
    for route in routes {
        let Some(op) = &route.operation else { continue };
        let entry = data
            .entry(op.data_type.clone())
            .or_insert_with(|| DataTypeConfig {
                data_type: op.data_type.clone(),
                id_key: "_id".to_owned(),
                operations: BTreeMap::new(),
            });
        let channels = op
            .events
            .iter()
            .map(|event| Channel {
                channel: raclette_contract::channel(&key, event),
                channel_key: event.clone(),
                prefix: key.clone(),
            })
            .collect();
        entry.operations.insert(
            op.name.clone(),
            OperationConfig {
                target: route.path.clone(),
                method: route.method.to_ascii_lowercase(),
                kind: op.kind,
                channels,
            },
        );
    }
    ClientConfig {
        plugin_key: key.clone(),
        plugin_name: name.to_owned(),
        author: author.map(str::to_owned),
        route_prefix: raclette_contract::route_prefix(folder),
        data,
    }
}

/// The client config of one plugin together with the item types its data
/// operations name ([`raclette_contract::DataOperation::items`]): what
/// [`declaration_file`] needs.
pub fn data_api_description(folder: &str, routes: &[RouteInfo]) -> DataApiDescription {
    let mut items: BTreeMap<String, BTreeMap<String, _>> = BTreeMap::new();
    for op in routes.iter().filter_map(|r| r.operation.as_ref()) {
        if let Some(item) = &op.items {
            items
                .entry(op.data_type.clone())
                .or_default()
                .insert(op.name.clone(), item.clone());
        }
    }
    DataApiDescription {
        config: client_config(folder, routes),
        items,
    }
}

/// Names the declaration file defines itself.
const OWN_NAMES: [&str; 3] = ["DataRequest", "DataState", "PluginData"];

/// A TypeScript declaration file for a plugin's generated data API, so that
/// `$data.todo.create(…)` is typed in the editor. The CLI writes one per
/// plugin to `.raclette/types/<plugin key>.d.ts`.
///
/// Operations that name their item type ([`raclette_contract::DataOperation::items`])
/// are typed with its declaration (and the declarations of the types it
/// references); the other operations of the same data type share it. A data
/// type whose operations name none gets `Record<string, unknown>` items.
///
/// ```
/// use raclette_contract::{DataOperation, RouteInfo};
///
/// let route = |path: &str, op| RouteInfo { method: "GET".into(), path: path.into(), operation: Some(op), access: Default::default(), docs: Default::default() };
/// let routes = vec![
///     route("/plugin/acme/x/todo/all", DataOperation::read("todo", "getAll").items::<String>()),
///     route("/plugin/acme/x/note/all", DataOperation::read("note", "getAll")),
/// ];
/// let dts = raclette_client::declaration_file(&raclette_client::data_api_description("acme__x", &routes));
/// assert!(dts.contains("getAll(request?: DataRequest): DataState<string>;"));
/// assert!(dts.contains("export type Note = Record<string, unknown>"));
/// assert!(dts.contains("getAll(request?: DataRequest): DataState<Note>;"));
/// // A type alias (not an interface) so that `api.$data as PluginData`
/// // type-checks: `$data` is a record of data types.
/// assert!(dts.contains("export type PluginData = {"));
/// ```
pub fn declaration_file(description: &DataApiDescription) -> String {
    let config = &description.config;
    let key = &config.plugin_key;
    let mut out = format!(
        "// Generated by raclette from the server routes of {key}; do not edit.\n\
         // Use in the plugin's client code (the app's tsconfig.json maps `@raclette/types/*`):\n\
         //   import type {{ PluginData }} from '@raclette/types/{key}'\n\
         //   const $data = api.$data as PluginData\n\n\
         /** What a data operation is called with. */\n\
         export interface DataRequest {{\n  params?: Record<string, unknown>\n  options?: {{ immediate?: boolean; cb?: (result: unknown, response: Response | null) => void; useCache?: boolean; useStore?: boolean }}\n}}\n\n\
         /** The state of a data operation; subscribe to hear of changes. */\n\
         export interface DataState<T> {{\n  readonly data: T | null\n  readonly dataArr: T[]\n  readonly isLoading: boolean\n  readonly error: Error | null\n  readonly response: Response | null\n  execute(params?: Record<string, unknown>): Promise<{{ response: Response | null; result: T }}>\n  subscribe(listener: (state: DataState<T>) => void): () => void\n}}\n\n"
    );
    // The declarations of the named item types, each once.
    let mut declarations: BTreeMap<&str, &str> = BTreeMap::new();
    for item in description.items.values().flat_map(BTreeMap::values) {
        for (name, text) in &item.declarations {
            declarations.entry(name).or_insert(text);
        }
    }
    let mut taken: BTreeSet<String> = declarations.keys().map(|n| (*n).to_owned()).collect();
    taken.extend(OWN_NAMES.iter().map(|n| (*n).to_owned()));
    for text in declarations.values() {
        out.push_str(text);
        out.push_str("\n\n");
    }
    // The item type of each data type: the first one its operations name,
    // else a `Record<string, unknown>` alias.
    let mut item_of_type: BTreeMap<&str, String> = BTreeMap::new();
    for data_type in config.data.keys() {
        let named = description
            .items
            .get(data_type)
            .and_then(|ops| {
                config.data[data_type]
                    .operations
                    .keys()
                    .find_map(|op| ops.get(op))
            })
            .map(|item| item.name.clone());
        let name = named.unwrap_or_else(|| {
            let mut name = pascal_case(data_type);
            while taken.contains(&name) {
                name.push_str("Item");
            }
            taken.insert(name.clone());
            out.push_str(&format!(
                "/** An item of type `{data_type}` (its fields are the server's; name its Rust type with `DataOperation::items` to type them). */\nexport type {name} = Record<string, unknown>\n\n"
            ));
            name
        });
        item_of_type.insert(data_type, name);
    }
    out.push_str(&format!(
        "/** The data API of {key}. (A type, not an interface, so that `$data` casts to it.) */\nexport type PluginData = {{\n"
    ));
    for (data_type, entry) in &config.data {
        out.push_str(&format!(
            "  {}: {{\n",
            serde_json::to_string(data_type).unwrap_or_default()
        ));
        for (op, spec) in &entry.operations {
            let item = description
                .items
                .get(data_type)
                .and_then(|ops| ops.get(op))
                .map_or(item_of_type[data_type.as_str()].as_str(), |item| {
                    item.name.as_str()
                });
            let kind = serde_json::to_value(spec.kind).unwrap_or_default();
            out.push_str(&format!(
                "    /** {} {} ({}) */\n    {op}(request?: DataRequest): DataState<{item}>;\n",
                spec.method.to_ascii_uppercase(),
                spec.target,
                kind.as_str().unwrap_or_default(),
            ));
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// `todo` → `Todo`, `todo-item` → `Todoitem`; `Item` when nothing is left.
fn pascal_case(data_type: &str) -> String {
    let mut chars = data_type
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_');
    match chars.next() {
        Some(c) if c.is_ascii_digit() => format!("Item{c}{}", chars.collect::<String>()),
        Some(c) => c.to_ascii_uppercase().to_string() + &chars.collect::<String>(),
        None => "Item".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use raclette_contract::{DataOperation, JsonSchema, RouteInfo, TS};

    use super::*;

    /// A tag.
    #[derive(serde::Serialize, TS, JsonSchema)]
    #[ts(crate = "raclette_contract::ts_rs")]
    #[schemars(crate = "raclette_contract::schemars")]
    struct Tag {
        label: String,
    }

    /// A thing.
    #[derive(serde::Serialize, TS, JsonSchema)]
    #[ts(crate = "raclette_contract::ts_rs")]
    #[schemars(crate = "raclette_contract::schemars")]
    #[serde(rename_all = "camelCase")]
    struct Thing {
        #[serde(rename = "_id")]
        id: String,
        is_done: bool,
        tags: Vec<Tag>,
    }

    fn route(method: &str, path: &str, op: DataOperation) -> RouteInfo {
        RouteInfo {
            method: method.into(),
            path: path.into(),
            operation: Some(op),
            access: Default::default(),
            docs: Default::default(),
        }
    }

    #[test]
    fn named_items_are_declared_and_shared_by_their_data_type() {
        let routes = vec![
            route(
                "GET",
                "/plugin/x/thing/all",
                DataOperation::read("thing", "getAll").items::<Thing>(),
            ),
            route(
                "DELETE",
                "/plugin/x/thing/:_id",
                DataOperation::delete("thing", "remove"),
            ),
            route(
                "GET",
                "/plugin/x/tag/all",
                DataOperation::read("tag", "all").items::<Tag>(),
            ),
            route(
                "GET",
                "/plugin/x/plain",
                DataOperation::read("dataState", "get"),
            ),
        ];
        let dts = declaration_file(&data_api_description("x", &routes));
        assert!(dts.contains("export type Thing = {"), "{dts}");
        assert!(
            dts.contains("{ _id: string, isDone: boolean, tags: Array<Tag>, }"),
            "{dts}"
        );
        assert_eq!(dts.matches("export type Tag = ").count(), 1, "{dts}");
        assert!(
            dts.contains("getAll(request?: DataRequest): DataState<Thing>;"),
            "{dts}"
        );
        assert!(
            dts.contains("remove(request?: DataRequest): DataState<Thing>;"),
            "{dts}"
        );
        assert!(
            dts.contains("all(request?: DataRequest): DataState<Tag>;"),
            "{dts}"
        );
        // A fallback name never clashes with the file's own names.
        assert!(
            dts.contains("export type DataStateItem = Record<string, unknown>"),
            "{dts}"
        );
        assert!(!dts.contains("export type Thing = Record"), "{dts}");
    }

    #[test]
    fn the_json_of_the_config_is_unchanged_by_item_types() {
        let routes = vec![route(
            "GET",
            "/plugin/x/thing/all",
            DataOperation::read("thing", "getAll").items::<Thing>(),
        )];
        let config = serde_json::to_value(client_config("x", &routes)).unwrap();
        assert_eq!(
            config,
            serde_json::json!({
                "pluginKey": "plugin_x", "pluginName": "x", "author": null, "routePrefix": "/plugin/x",
                "data": { "thing": { "type": "thing", "idKey": "_id", "operations": {
                    "getAll": { "target": "/plugin/x/thing/all", "method": "get", "kind": "read", "channels": [] }
                } } }
            })
        );
    }
}
