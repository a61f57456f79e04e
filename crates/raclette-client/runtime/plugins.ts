// The plugin registry: loads every enabled plugin's client half in
// dependency order, runs `install`, and builds each plugin's API.

import { createApi, type Api, type FetchFn } from './api.ts'
import type { ClientConfig, PluginListing, WidgetConfigField, WidgetDetails } from './contract.ts'
import { createDataApi, mergeDataConfig, type DataApi, type DataTypeDeclaration } from './data.ts'
import { createEventBus, type EventBus } from './eventbus.ts'
import { Session, SESSION_PATH } from './session.ts'
import { I18nHub, type I18n, type LocaleStorage, type Translations } from './i18n.ts'
import { PluginSocket, Realtime, REALTIME_PLUGIN, type RealtimeSocket, type SocketFactory } from './socket.ts'
import { DataStore, GlobalStore, type StateStore } from './store.ts'

/** What a widget's mount function receives. */
export interface WidgetContext {
  pluginKey: string
  widgetId: string
  config: Record<string, unknown>
  api: PluginApi
}

/** Mounts a widget into `el`; returns how to unmount it. */
export type MountFn = (el: HTMLElement, ctx: WidgetContext) => void | (() => void) | Promise<void | (() => void)>

/** A widget declared in `index.ts`. */
export interface WidgetDeclaration {
  details: WidgetDetails
  config?: Record<string, WidgetConfigField>
  mount?: MountFn
  module?: () => Promise<{ default: MountFn }>
}

/** A widget shown on a page: `{ id }` of this plugin, or `{ plugin, id }`. */
export interface WidgetRef {
  plugin?: string
  id: string
  config?: Record<string, unknown>
}

/** A frontend page of a plugin. */
export interface PageDeclaration {
  path: string
  title: string
  titleKey?: string
  widget?: WidgetRef
  composition?: { columns?: number; items: Array<{ widget: WidgetRef; config?: Record<string, unknown> }> }
}

/** What `client/index.ts` default-exports. */
export interface PluginClientDefinition {
  install?: (installApi: PluginApi, coreApi: CoreApi) => unknown
  i18n?: Translations
  data?: Record<string, DataTypeDeclaration>
  widgets?: Record<string, WidgetDeclaration>
  routes?: PageDeclaration[]
  exportComponents?: Record<string, unknown>
}

/** Log functions prefixed with the plugin key. */
export interface Log {
  debug(...args: unknown[]): void
  info(...args: unknown[]): void
  warn(...args: unknown[]): void
  error(...args: unknown[]): void
}

/** What frontend code gets from a plugin: `usePluginApi(pluginKey)`. */
export interface PluginApi {
  pluginKey: string
  $data: DataApi
  $eventbus: EventBus
  $store: StateStore
  $log: Log
  $api: Api
  $i18n: I18n
  /** Who is signed in, in which project (the built-in core plugin's session). */
  $session: Session
  /** Realtime channels (the built-in realtime plugin's socket.io connection, shared by all plugins). */
  $socket: RealtimeSocket
  $components(pluginKey: string, name: string): unknown
  [extra: string]: unknown
}

/** What `install` gets besides its own API: the runtime's shared parts. */
export interface CoreApi {
  store: GlobalStore
  dataStore: DataStore
  eventbus: EventBus
  i18n: I18nHub
  api: Api
  session: Session
  realtime: Realtime
  plugins(): LoadedPlugin[]
  usePluginApi(pluginKey: string): PluginApi
}

/** A widget the runtime can mount. */
export interface WidgetDefinition {
  id: string
  pluginKey: string
  details: WidgetDetails
  config: Record<string, WidgetConfigField>
  load(): Promise<MountFn>
}

/** A page with the plugin it belongs to. */
export interface Page extends PageDeclaration {
  pluginKey: string
}

/** An entry of `GET /raclette/plugins` (the generated `PluginListing`). */
export type PluginInfo = PluginListing

/** A plugin whose client half is loaded. */
export interface LoadedPlugin {
  key: string
  info: PluginInfo
  definition: PluginClientDefinition
  api: PluginApi
  widgets: Map<string, WidgetDefinition>
  pages: Page[]
}

/** How the runtime reaches the server. */
export interface RuntimeOptions {
  /** Prefix of every request ('' = this page's origin). */
  baseUrl?: string
  fetch?: FetchFn
  /** Imports a module by URL (default: dynamic `import()`). */
  importModule?: (url: string) => Promise<Record<string, unknown>>
  /** Where the chosen locale is remembered (default: localStorage when present). */
  storage?: LocaleStorage
  /** Called when the server answers 401 (the shell shows its sign-in page). */
  onUnauthorized?: (path: string) => void
  /** Opens the realtime connection (default: the vendored socket.io client). */
  socketFactory?: SocketFactory
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

function defaultStorage(): LocaleStorage | undefined {
  try {
    return (globalThis as { localStorage?: LocaleStorage }).localStorage
  } catch {
    return undefined
  }
}

/** The state of one running client: stores, bus, i18n and loaded plugins. */
export class Runtime {
  readonly store = new GlobalStore()
  readonly dataStore = new DataStore()
  readonly eventbus = createEventBus()
  readonly i18n: I18nHub
  readonly api: Api
  readonly session: Session
  /** The page's realtime connection (`$socket`). */
  readonly realtime: Realtime
  /** Called when the server answers 401 to a request other than the session's own. */
  onUnauthorized: ((path: string) => void) | undefined
  readonly cache = new Map<string, unknown>()
  /** Plugins whose client half failed to load, with the error. */
  readonly failures = new Map<string, Error>()
  readonly #plugins = new Map<string, LoadedPlugin>()
  readonly #options: RuntimeOptions

  constructor(options: RuntimeOptions = {}) {
    this.#options = options
    this.i18n = new I18nHub(options.storage ?? defaultStorage())
    this.onUnauthorized = options.onUnauthorized
    this.session = new Session(() => this.api)
    this.realtime = new Realtime(options.baseUrl ?? '', options.socketFactory)
    this.api = createApi(options.baseUrl ?? '', () => options.fetch ?? globalThis.fetch.bind(globalThis), {
      headers: (method): Record<string, string> => {
        const token = this.session.csrfToken
        return token && !SAFE_METHODS.has(method) ? { 'x-csrf-token': token } : {}
      },
      onUnauthorized: (path) => {
        if (!path.startsWith(SESSION_PATH)) this.onUnauthorized?.(path)
      },
    })
  }

  /** Loaded plugins in dependency order. */
  plugins(): LoadedPlugin[] {
    return [...this.#plugins.values()]
  }

  /** Every page of every loaded plugin. */
  pages(): Page[] {
    return this.plugins().flatMap((p) => p.pages)
  }

  /** A widget by plugin key and id. */
  widget(pluginKey: string, id: string): WidgetDefinition | undefined {
    return this.#plugins.get(pluginKey)?.widgets.get(id)
  }

  /** The API of a loaded plugin. */
  usePluginApi(pluginKey: string): PluginApi {
    const plugin = this.#plugins.get(pluginKey)
    if (!plugin) {
      const known = [...this.#plugins.keys()].join(', ') || 'none'
      throw new Error(`usePluginApi: no loaded plugin "${pluginKey}" (loaded: ${known})`)
    }
    return plugin.api
  }

  async #import(url: string): Promise<Record<string, unknown>> {
    const importer = this.#options.importModule ?? ((u: string) => import(u))
    return importer(this.api.baseUrl + url)
  }

  /**
   * Loads the plugins listed by the server: enabled ones with a client half,
   * fetched in parallel, installed one after another in the listed
   * (dependency) order.
   */
  async load(): Promise<LoadedPlugin[]> {
    const session = this.session.refresh().catch((error) => {
      console.warn('[raclette] cannot tell who is signed in:', error)
      return null
    })
    const listed = await this.api.get<PluginInfo[]>('/raclette/plugins')
    const infos = listed.filter((p) => p.enabled && p.client)
    await session
    if (listed.some((p) => p.key === REALTIME_PLUGIN && p.enabled)) this.#followSession()
    const fetched = infos.map(async (info) => {
      const client = info.client!
      const [config, entry] = await Promise.all([
        this.api.get<ClientConfig>(client.configUrl),
        client.entry ? this.#import(client.entry) : Promise.resolve({} as Record<string, unknown>),
      ])
      return { info, config, definition: (entry.default ?? {}) as PluginClientDefinition }
    })
    for (const [index, pending] of fetched.entries()) {
      try {
        const { info, config, definition } = await pending
        await this.register(info, config, definition)
      } catch (error) {
        const key = infos[index].key
        this.failures.set(key, error instanceof Error ? error : new Error(String(error)))
        console.error(`[raclette] the client half of ${key} failed to load:`, error)
      }
    }
    return this.plugins()
  }

  /**
   * Keeps the realtime connection in step with the session: on while someone
   * is signed in (or the app signs no one in), connected again after a
   * sign-in or a project switch, off after signing out.
   */
  #followSession(): void {
    let current: string | null = null
    const follow = () => {
      const session = this.session
      const wanted = session.user !== null || !session.available
      const key = wanted ? `${session.user?._id ?? ''}/${session.project ?? ''}` : null
      if (key === current) return
      const before = current
      current = key
      if (key === null) this.realtime.stop()
      else if (before === null) void this.realtime.start()
      else void this.realtime.restart()
    }
    this.session.subscribe(follow)
    follow()
  }

  /** Registers one plugin's client half and runs its `install`. */
  async register(info: PluginInfo, config: ClientConfig, definition: PluginClientDefinition): Promise<LoadedPlugin> {
    const key = info.key
    this.i18n.register(key, definition.i18n)
    const types = mergeDataConfig(config.data ?? {}, definition.data)
    const prefix = `[${key}]`
    const api: PluginApi = {
      pluginKey: key,
      $data: createDataApi(
        { api: this.api, store: this.dataStore, bus: this.eventbus, cache: this.cache, realtime: this.realtime },
        key,
        types,
      ),
      $eventbus: this.eventbus,
      $store: this.store.namespace(key),
      $log: {
        debug: (...args) => console.debug(prefix, ...args),
        info: (...args) => console.info(prefix, ...args),
        warn: (...args) => console.warn(prefix, ...args),
        error: (...args) => console.error(prefix, ...args),
      },
      $api: this.api,
      $i18n: this.i18n.forPlugin(key),
      $session: this.session,
      $socket: new PluginSocket(this.realtime),
      $components: (pluginKey, name) => {
        const components = this.#plugins.get(pluginKey)?.definition.exportComponents ?? {}
        if (!(name in components)) throw new Error(`$components: plugin "${pluginKey}" exports no component "${name}"`)
        return components[name]
      },
    }
    const widgets = new Map<string, WidgetDefinition>()
    for (const w of info.client?.widgets ?? []) {
      widgets.set(w.id, {
        id: w.id,
        pluginKey: key,
        details: w.details,
        config: w.config ?? {},
        load: async () => {
          const module = await this.#import(w.module)
          if (typeof module.default !== 'function') throw new Error(`${w.module} has no default-exported mount function`)
          return module.default as MountFn
        },
      })
    }
    for (const [id, w] of Object.entries(definition.widgets ?? {})) {
      widgets.set(id, {
        id,
        pluginKey: key,
        details: w.details,
        config: w.config ?? {},
        load: async () => {
          if (w.mount) return w.mount
          if (w.module) return (await w.module()).default
          throw new Error(`widget "${id}" of ${key} declares neither mount nor module`)
        },
      })
    }
    const loaded: LoadedPlugin = {
      key,
      info,
      definition,
      api,
      widgets,
      pages: (definition.routes ?? []).map((page) => ({ ...page, pluginKey: key })),
    }
    this.#plugins.set(key, loaded)
    if (definition.install) {
      const core: CoreApi = {
        store: this.store,
        dataStore: this.dataStore,
        eventbus: this.eventbus,
        i18n: this.i18n,
        api: this.api,
        session: this.session,
        realtime: this.realtime,
        plugins: () => this.plugins(),
        usePluginApi: (k) => this.usePluginApi(k),
      }
      const extra = await definition.install(api, core)
      if (extra && typeof extra === 'object') Object.assign(api, extra)
    }
    return loaded
  }
}
