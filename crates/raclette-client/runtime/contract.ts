// Generated from the Rust types of crates/raclette-contract; do not edit.
// Regenerate with `RACLETTE_BLESS=1 cargo test -p raclette-contract`.
//
// The JSON shapes the server and the browser runtime share (types only).

/**
 * One message on one channel, as listeners get it.
 */
export type BroadcastMessage = {
  /**
   * The full channel name, `<plugin key>--<event>`.
   */
  channelKey: string,
  /**
   * The key of the plugin that sent it.
   */
  pluginKey: string,
  /**
   * The event, such as `todoCreated`.
   */
  event: string,
  /**
   * The project it belongs to; only that project's listeners may get it.
   */
  project: string,
  /**
   * The items written, as JSON.
   */
  items: Array<unknown>,
};

/**
 * A channel an operation broadcasts on.
 */
export type Channel = {
  /**
   * The full channel name, `<plugin key>--<event>`.
   */
  channel: string,
  /**
   * The event name.
   */
  channelKey: string,
  /**
   * The plugin key.
   */
  prefix: string,
};

/**
 * A plugin's data API, generated from the data operations its routes
 * declare.
 */
export type ClientConfig = {
  /**
   * The plugin key.
   */
  pluginKey: string,
  /**
   * The name part of the plugin's folder.
   */
  pluginName: string,
  /**
   * The author part of the plugin's folder, if any.
   */
  author: string | null,
  /**
   * Where the plugin's routes are mounted.
   */
  routePrefix: string,
  /**
   * The data types, by name.
   */
  data: { [key in string]: DataTypeConfig },
};

/**
 * The client half of a plugin in `GET /raclette/plugins`.
 */
export type ClientListing = {
  /**
   * URL of the compiled `client/index.ts`, if the plugin has one.
   */
  entry: string | null,
  /**
   * URL of the plugin's generated data API.
   */
  configUrl: string,
  /**
   * The widget catalogue.
   */
  widgets: Array<Widget>,
};

/**
 * Declares a route as a data operation, so that the plugin's client API
 * (`$data.<type>.<name>(…)` in the browser) is generated from the server.
 */
export type DataOperation = {
  /**
   * The data type, such as `todo`.
   */
  type: string,
  /**
   * The operation's name, such as `getAll`.
   */
  name: string,
  /**
   * How it changes the client store.
   */
  kind: OperationKind,
  /**
   * Events broadcast after it, each on channel `<plugin key>--<event>`.
   */
  events: Array<string>,
};

/**
 * A data type and its operations.
 */
export type DataTypeConfig = {
  /**
   * The type's name, under which its items are stored.
   */
  type: string,
  /**
   * The field holding an item's id.
   */
  idKey: string,
  /**
   * The operations, by name.
   */
  operations: { [key in string]: OperationConfig },
};

/**
 * The JSON body of an error answer, the shape the original framework's
 * clients know: `{ "statusCode": 400, "error": "Bad Request", "message":
 * "…", "field": "name" }` (`field` only when one field is at fault).
 */
export type ErrorBody = {
  /**
   * The HTTP status code.
   */
  statusCode: number,
  /**
   * The status code's reason phrase, such as `Bad Request`.
   */
  error: string,
  /**
   * What went wrong.
   */
  message: string,
  /**
   * The request field at fault, when one is.
   */
  field?: string,
  /**
   * On a 409 of a data operation: the item as it is now, so that the
   * client can show it or retry on top of it.
   */
  current?: unknown,
};

/**
 * One operation of a data type.
 */
export type OperationConfig = {
  /**
   * The full path, `:name` placeholders filled from the call's params.
   */
  target: string,
  /**
   * The HTTP method, lower-case (`get`).
   */
  method: string,
  /**
   * How it changes the client store.
   */
  kind: OperationKind,
  /**
   * The channels it broadcasts on after it succeeds.
   */
  channels: Array<Channel>,
};

/**
 * How a data operation changes the client store.
 */
export type OperationKind = "read" | "create" | "update" | "delete" | "deleteHard";

/**
 * One plugin as `GET /raclette/plugins` lists it.
 */
export type PluginListing = {
  /**
   * The plugin key, `plugin_<folder>`.
   */
  key: string,
  /**
   * The name part of the folder.
   */
  name: string,
  /**
   * The author part of the folder, if any.
   */
  author: string | null,
  /**
   * The version from the metadata.
   */
  version: string,
  /**
   * The description from the metadata.
   */
  description: string,
  /**
   * Whether it is enabled.
   */
  enabled: boolean,
  /**
   * Whether it ships with the framework rather than the app.
   */
  builtin: boolean,
  /**
   * Its dependencies: folder name to version requirement.
   */
  dependencies: { [key in string]: string },
  /**
   * Where its routes are mounted.
   */
  routePrefix: string,
  /**
   * Its routes with their full paths (empty when disabled).
   */
  routes: Array<RouteInfo>,
  /**
   * The permissions the plugin defines (`[permissions]` of its
   * metadata), by full name such as `pacifico__todo.read`, with what each
   * allows.
   */
  permissions: { [key in string]: string },
  /**
   * Its client half, when it has one and is enabled.
   */
  client: ClientListing | null,
};

/**
 * One plugin of the app, as `Registrar::app_plugins` gives it to plugins
 * (an overview page, an admin area) and as the built-in home plugin serves
 * it at `GET /plugin/raclette/home/overview`.
 */
export type PluginSummary = {
  /**
   * `plugin_<folder>`.
   */
  key: string,
  /**
   * The folder name.
   */
  folder: string,
  /**
   * The version from its metadata.
   */
  version: string,
  /**
   * The description from its metadata.
   */
  description: string,
  /**
   * Whether it ships with the framework.
   */
  builtin: boolean,
  /**
   * Whether `raclette.toml` leaves it on.
   */
  enabled: boolean,
  /**
   * The permissions it defines, by full name, with what each allows.
   */
  permissions: { [key in string]: string },
};

/**
 * A project and the user's role in it.
 */
export type ProjectSummary = {
  /**
   * The project's id (what `X-Raclette-Project` names).
   */
  _id: string,
  /**
   * Its name.
   */
  name: string,
  /**
   * The user's role in it; absent when an administrator is no member.
   */
  role?: string,
};

/**
 * Who may call a route. The default is [`RouteAccess::SignedIn`]: with
 * `[auth] require_authentication = true` (the default) an anonymous
 * request answers 401.
 *
 * ```
 * use raclette_contract::RouteAccess;
 *
 * let json = serde_json::to_value(RouteAccess::Permission("pacifico__todo.read".into())).unwrap();
 * assert_eq!(json, serde_json::json!({ "kind": "permission", "permission": "pacifico__todo.read" }));
 * assert_eq!(serde_json::to_value(RouteAccess::default()).unwrap(), serde_json::json!({ "kind": "signedIn" }));
 * ```
 */
export type RouteAccess = { "kind": "public" } | { "kind": "signedIn" } | { "kind": "permission", "permission": string };

/**
 * One route as the framework lists it.
 */
export type RouteInfo = {
  /**
   * The HTTP method, upper-case (`GET`).
   */
  method: string,
  /**
   * The path, parameters written `:name`: below the plugin's prefix in a
   * plugin's `Routes`, the full path in `GET /raclette/plugins`.
   */
  path: string,
  /**
   * The data operation this route performs, if declared.
   */
  operation?: DataOperation,
  /**
   * Who may call the route.
   */
  access: RouteAccess,
};

/**
 * Who is signed in, in which project.
 */
export type SessionInfo = {
  /**
   * The signed-in user, or null for an anonymous request.
   */
  user: SessionUser | null,
  /**
   * The id of the request's project.
   */
  project: string,
  /**
   * The projects the user may switch to.
   */
  projects: Array<ProjectSummary>,
  /**
   * The token a cookie-authenticated write sends in `X-CSRF-Token`
   * (null for anonymous and bearer-token requests).
   */
  csrfToken: string | null,
};

/**
 * A signed-in user as the shell sees them.
 */
export type SessionUser = {
  /**
   * The user's id.
   */
  _id: string,
  /**
   * The email they sign in with.
   */
  email: string,
  /**
   * The name shown to others.
   */
  displayName: string,
  /**
   * Whether they may do everything in every project.
   */
  isAdmin: boolean,
  /**
   * Their roles in the request's project.
   */
  roles: Array<string>,
  /**
   * What those roles allow, such as `pacifico__todo.write`.
   */
  permissions: Array<string>,
};

/**
 * A widget in the catalogue of `GET /raclette/plugins`.
 */
export type Widget = {
  /**
   * The folder name under `client/widgets/`.
   */
  id: string,
  /**
   * The plugin's key.
   */
  pluginKey: string,
  /**
   * How the widget presents itself (`details` of `setup.ts`).
   */
  details: WidgetDetails,
  /**
   * What can be configured, by field name (`config` of `setup.ts`).
   */
  config: { [key in string]: WidgetConfigField },
  /**
   * URL of the module that mounts it.
   */
  module: string,
};

/**
 * One configurable field of a widget.
 */
export type WidgetConfigField = {
  /**
   * The type of its value.
   */
  type: WidgetFieldType,
  /**
   * The value when a page gives none (`null` is a value).
   */
  default?: unknown,
  /**
   * A label for editors.
   */
  label?: string,
  /**
   * How an editor offers it.
   */
  editor?: WidgetEditor,
};

/**
 * How a widget presents itself in catalogues.
 */
export type WidgetDetails = {
  /**
   * Its title (a plugin may translate it under `widgets.<id>.title`).
   */
  title: string,
  /**
   * A CSS color.
   */
  color?: string,
  /**
   * An icon name.
   */
  icon?: string,
  /**
   * Image URLs.
   */
  images?: Array<string>,
  /**
   * A longer text.
   */
  description?: string,
};

/**
 * How an editor offers a widget config field.
 */
export type WidgetEditor = {
  /**
   * The input to use.
   */
  inputType: WidgetInputType,
  /**
   * The smallest number accepted.
   */
  min?: number,
  /**
   * The largest number accepted.
   */
  max?: number,
  /**
   * The step between numbers.
   */
  step?: number,
  /**
   * The values a `select` or `multiselect` offers.
   */
  selectionValues?: Array<unknown>,
};

/**
 * The type of a widget config field's value.
 */
export type WidgetFieldType = "string" | "number" | "boolean" | "array" | "object";

/**
 * The input an editor shows for a widget config field.
 */
export type WidgetInputType = "text" | "number" | "checkbox" | "switch" | "select" | "multiselect";
