// The generated data API: `$data.<type>.<operation>(...)` built from the
// plugin's client config, with results merged into the shared data store.

import type { Api } from './api.ts'
import type { Channel, DataTypeConfig, OperationConfig } from './contract.ts'
import type { EventBus } from './eventbus.ts'
import type { RealtimeSocket } from './socket.ts'
import type { DataStore, Item } from './store.ts'

/** An operation as `data` in `index.ts` declares it: a generated one with `channels` optional. */
export type OperationDeclaration = Omit<OperationConfig, 'channels'> & { channels?: Channel[] }

/** A data type as `data` in `index.ts` declares it, or adds to a generated one. */
export interface DataTypeDeclaration {
  type?: string
  idKey?: string
  operations?: Record<string, OperationDeclaration>
}

/** A data type as the runtime runs it: the generated config with what `index.ts` adds. */
export interface DataTypeSpec {
  type: string
  idKey: string
  operations: Record<string, OperationDeclaration>
}

/** Options of one operation call. */
export interface OperationOptions<T = unknown> {
  /** Run the request right away (default: false). */
  immediate?: boolean
  /** Called with the result after every successful run. */
  cb?: (result: T, response: Response | null) => void
  /** Answer a read from the last identical read instead of the network. */
  useCache?: boolean
  /** Merge results into the shared data store (default: true). */
  useStore?: boolean
}

/** What an operation call returns: its live state and `execute`. */
export interface OperationState<T = unknown> {
  readonly data: T | null
  readonly dataArr: T[]
  readonly isLoading: boolean
  readonly error: Error | null
  readonly response: Response | null
  /** Runs the request (with `params` replacing the call's, when given). */
  execute(params?: Record<string, unknown>): Promise<{ response: Response | null; result: T }>
  /** Calls `fn` after every change of this state; returns the unsubscribe function. */
  subscribe(fn: (state: OperationState<T>) => void): () => void
}

/** An operation function: `$data.todo.create({ params, options })`. */
export type Operation = <T = any>(call?: { params?: Record<string, unknown>; options?: OperationOptions<T> }) => OperationState<T>

/** `$data`: data types by name, operations by name. */
export type DataApi = Record<string, Record<string, Operation>>

/** What the data API needs from the runtime. */
export interface DataContext {
  api: Api
  store: DataStore
  bus: EventBus
  cache: Map<string, unknown>
  /**
   * The realtime connection: writes of other pages arrive on the channels of
   * the types' operations and are merged into the store, and live reads are
   * fetched again when messages may have been missed.
   */
  realtime?: RealtimeSocket
}

const QUERY_METHODS = new Set(['get', 'head', 'delete', 'options'])

/** The URL and body of a call: `:name` placeholders filled from `params`. */
export function buildRequest(
  operation: OperationDeclaration,
  params: Record<string, unknown> = {},
): { method: string; url: string; body: Record<string, unknown> | undefined } {
  const rest: Record<string, unknown> = { ...params }
  const url = operation.target.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    if (params[name] === undefined || params[name] === null) {
      throw new Error(`missing param "${name}" for ${operation.method.toUpperCase()} ${operation.target}`)
    }
    delete rest[name]
    return encodeURIComponent(String(params[name]))
  })
  const method = operation.method.toLowerCase()
  if (QUERY_METHODS.has(method)) {
    const query = new URLSearchParams()
    for (const [key, value] of Object.entries(rest)) {
      if (value === undefined || value === null) continue
      for (const v of Array.isArray(value) ? value : [value]) query.append(key, String(v))
    }
    const qs = query.toString()
    return { method, url: qs ? `${url}?${qs}` : url, body: undefined }
  }
  return { method, url, body: rest }
}

function operationFor(
  ctx: DataContext,
  cacheScope: string,
  type: string,
  name: string,
  config: DataTypeSpec,
  operation: OperationDeclaration,
): Operation {
  const idKey = config.idKey
  return function run<T = any>(call: { params?: Record<string, unknown>; options?: OperationOptions<T> } = {}) {
    const options = call.options ?? {}
    const useStore = options.useStore !== false
    const subscribers = new Set<(state: OperationState<T>) => void>()
    let result: unknown = null
    // For a list read: the ids it returned and where the creation log stood.
    let listIds: string[] | null = null
    let createdFrom = 0
    let lastParams: Record<string, unknown> = call.params ?? {}
    let storeSubscription: (() => void) | null = null
    let resyncSubscription: (() => void) | null = null
    // Requests sent so far: only the latest read's answer is shown.
    let runs = 0

    const notify = () => {
      for (const fn of [...subscribers]) {
        try {
          fn(state)
        } catch (error) {
          console.error(`[raclette] subscriber of ${type}.${name} failed:`, error)
        }
      }
    }
    const live = useStore && operation.kind !== 'delete' && operation.kind !== 'deleteHard'

    const state: OperationState<T> & { isLoading: boolean; error: Error | null; response: Response | null } = {
      isLoading: false,
      error: null,
      response: null,
      get data(): T | null {
        if (live && result !== null && !Array.isArray(result) && typeof result === 'object') {
          const id = (result as Item)[idKey]
          if (id !== undefined) return (ctx.store.get(type, String(id)) as T | undefined) ?? null
        }
        if (live && Array.isArray(result)) return state.dataArr as unknown as T
        return result as T | null
      },
      get dataArr(): T[] {
        if (live && operation.kind === 'read' && listIds) {
          const ids = [...listIds]
          for (const id of ctx.store.createdSince(type, createdFrom)) if (!ids.includes(id)) ids.push(id)
          return ids.map((id) => ctx.store.get(type, id)).filter((item) => item !== undefined) as T[]
        }
        if (Array.isArray(result)) return result as T[]
        const data = state.data
        return data === null || data === undefined ? [] : [data]
      },
      async execute(params) {
        if (params !== undefined) lastParams = params
        const cacheKey = `${cacheScope}/${type}/${name}/${JSON.stringify(lastParams)}`
        if (options.useCache && operation.kind === 'read' && ctx.cache.has(cacheKey)) {
          runs++
          result = ctx.cache.get(cacheKey)
          rememberList(ctx.store.createdCount(type))
          watchStore()
          notify()
          options.cb?.(result as T, null)
          return { response: null, result: result as T }
        }
        state.isLoading = true
        state.error = null
        notify()
        // Where the store stood when the request left: what changes before
        // its answer arrives (a todo created, another deleted) is not undone
        // by it, and a read started later wins over this one.
        const sent = ++runs
        const readFrom = ctx.store.position()
        const createdBefore = ctx.store.createdCount(type)
        try {
          const request = buildRequest(operation, lastParams)
          const { response, result: body } = await ctx.api.request(request.method, request.url, request.body)
          if (operation.kind === 'read' && sent !== runs) return { response, result: body as T }
          result = body
          state.response = response
          // A read that crossed a write is not kept for others to reuse.
          if (operation.kind !== 'read') ctx.cache.clear()
          else if (ctx.store.position() === readFrom) ctx.cache.set(cacheKey, body)
          if (useStore) ctx.store.merge(type, operation.kind, idKey, body, lastParams, readFrom)
          rememberList(createdBefore)
          watchStore()
          state.isLoading = false
          notify()
          for (const channel of operation.channels ?? []) ctx.bus.emit(channel.channel, body)
          options.cb?.(body as T, response)
          return { response, result: body as T }
        } catch (error) {
          if (operation.kind === 'read' && sent !== runs) throw error
          state.error = error instanceof Error ? error : new Error(String(error))
          state.isLoading = false
          notify()
          throw state.error
        }
      },
      subscribe(fn) {
        subscribers.add(fn)
        if (live && operation.kind === 'read' && ctx.realtime && !resyncSubscription) {
          // Refetched after a reconnect, so that nothing missed stays missing.
          resyncSubscription = ctx.realtime.onResync(() => {
            if (result === null) return
            state.execute().catch((error) => console.error(`[raclette] ${type}.${name} failed to refresh:`, error))
          })
        }
        return () => {
          subscribers.delete(fn)
          if (subscribers.size === 0 && storeSubscription) {
            storeSubscription()
            storeSubscription = null
          }
          if (subscribers.size === 0 && resyncSubscription) {
            resyncSubscription()
            resyncSubscription = null
          }
        }
      },
    }

    // A list read follows its own items, and items created since it was
    // sent (`createdBefore`, a position in the store's creation log).
    function rememberList(createdBefore: number) {
      if (!live || operation.kind !== 'read' || !Array.isArray(result)) return
      listIds = result
        .map((item) => (item !== null && typeof item === 'object' ? (item as Item)[idKey] : undefined))
        .filter((id) => id !== undefined && id !== null)
        .map(String)
      createdFrom = createdBefore
    }

    function watchStore() {
      if (live && !storeSubscription) storeSubscription = ctx.store.subscribe(type, notify)
    }

    if (options.immediate) {
      state.execute().catch((error) => {
        console.error(`[raclette] ${type}.${name} failed:`, error)
      })
    }
    return state
  }
}

/** Merges `extra` (from `index.ts`) over the generated config, per type and operation. */
export function mergeDataConfig(
  generated: Record<string, DataTypeConfig>,
  extra: Record<string, DataTypeDeclaration> | undefined,
): Record<string, DataTypeSpec> {
  const merged: Record<string, DataTypeSpec> = {}
  for (const [type, config] of Object.entries(generated)) merged[type] = { ...config, operations: { ...config.operations } }
  for (const [type, config] of Object.entries(extra ?? {})) {
    const base = merged[type] ?? { type, idKey: '_id', operations: {} }
    merged[type] = {
      type,
      idKey: config.idKey ?? base.idKey,
      operations: { ...base.operations, ...(config.operations ?? {}) },
    }
  }
  return merged
}

/** `$data` for a plugin's data types. */
export function createDataApi(ctx: DataContext, cacheScope: string, types: Record<string, DataTypeSpec>): DataApi {
  const api: DataApi = {}
  for (const [type, config] of Object.entries(types)) {
    const name = config.type
    api[type] = {}
    for (const [opName, operation] of Object.entries(config.operations)) {
      api[type][opName] = operationFor(ctx, cacheScope, name, opName, config, operation)
      if (ctx.realtime && operation.kind !== 'read') followChannels(ctx, ctx.realtime, name, config.idKey, operation)
    }
  }
  return api
}

/** Merges the items other pages write, as they arrive on the operation's channels. */
function followChannels(
  ctx: DataContext,
  realtime: RealtimeSocket,
  type: string,
  idKey: string,
  operation: OperationDeclaration,
): void {
  for (const channel of operation.channels ?? []) {
    realtime.on(channel.channel, (message) => {
      if (!Array.isArray(message?.items)) return
      ctx.cache.clear()
      ctx.store.merge(type, operation.kind, idKey, message.items)
    })
  }
}
