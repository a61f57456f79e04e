// `@raclette/client`: the browser runtime that plugins import.
//
// One runtime instance per page: the shell starts it, plugins and widgets
// reach it through `usePluginApi(pluginKey)`.

import { Runtime, type PluginApi, type PluginClientDefinition, type RuntimeOptions } from './plugins.ts'

export { ApiError, createApi, isErrorBody } from './api.ts'
export type { Api, ApiHooks, FetchFn } from './api.ts'
export type * from './contract.ts'
export { buildRequest, createDataApi, mergeDataConfig } from './data.ts'
export type {
  DataApi,
  DataTypeDeclaration,
  DataTypeSpec,
  Operation,
  OperationDeclaration,
  OperationOptions,
  OperationState,
} from './data.ts'
export { createEventBus } from './eventbus.ts'
export type { EventBus, EventHandler } from './eventbus.ts'
export { I18nHub } from './i18n.ts'
export type { I18n, Messages, Translations } from './i18n.ts'
export { Runtime } from './plugins.ts'
export type {
  CoreApi,
  LoadedPlugin,
  Log,
  MountFn,
  Page,
  PageDeclaration,
  PluginApi,
  PluginClientDefinition,
  PluginInfo,
  RuntimeOptions,
  WidgetContext,
  WidgetDeclaration,
  WidgetDefinition,
  WidgetRef,
} from './plugins.ts'
export { afterSignIn, Session, SESSION_PATH, SIGN_IN_PATH, signInUrl } from './session.ts'
export { PluginSocket, Realtime, REALTIME_PLUGIN, RESYNC_EVENT, SOCKET_PATH } from './socket.ts'
export type { ChannelMessage, ConnectionState, IoOptions, IoSocket, RealtimeSocket, SocketFactory } from './socket.ts'
export { DataStore, GlobalStore } from './store.ts'
export type { Item, StateStore } from './store.ts'
export { mountWidget } from './widgets.ts'
export type { MountedWidget } from './widgets.ts'

/** Declares a plugin's client half (typed identity: returns its argument). */
export function defineRaclettePluginClient(definition: PluginClientDefinition): PluginClientDefinition {
  return definition
}

let current: Runtime = new Runtime()

/** The page's runtime. */
export function runtime(): Runtime {
  return current
}

/** Replaces the page's runtime with a fresh one (the shell and tests call this). */
export function configureRuntime(options: RuntimeOptions = {}): Runtime {
  current = new Runtime(options)
  return current
}

/** The API of a loaded plugin, by plugin key (`plugin_pacifico__todo`). */
export function usePluginApi(pluginKey: string): PluginApi {
  return current.usePluginApi(pluginKey)
}
