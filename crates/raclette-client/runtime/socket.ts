// `$socket`: the page's one socket.io connection to the realtime plugin,
// shared by every plugin. Messages arrive as socket.io events named by
// their channel (`plugin_pacifico__todo--todoCreated`).

import type { BroadcastMessage } from './contract.ts'

/**
 * What the runtime uses of a socket.io client socket (socket.io-client's
 * `Socket`), declared here so that type checks need no socket.io package.
 */
export interface IoSocket {
  readonly connected: boolean
  on(event: string, listener: (...args: any[]) => void): unknown
  onAny(listener: (event: string, ...args: any[]) => void): unknown
  offAny(): unknown
  removeAllListeners(): unknown
  emit(event: string, ...args: unknown[]): unknown
  connect(): unknown
  disconnect(): unknown
}

/** The socket.io client options the runtime sets. */
export interface IoOptions {
  path: string
  transports: string[]
  withCredentials: boolean
  forceNew: boolean
  reconnectionDelay: number
  reconnectionDelayMax: number
  randomizationFactor: number
}

/** Where the realtime plugin serves socket.io (the client's `path` option). */
export const SOCKET_PATH = '/plugin/raclette/realtime/socket.io'

/** The key of the plugin that serves realtime; without it enabled there is no connection. */
export const REALTIME_PLUGIN = 'plugin_raclette__realtime'

/** Sent by the server when this page missed messages: live reads are fetched again. */
export const RESYNC_EVENT = 'raclette:resync'

/**
 * A message on a channel: the server's `BroadcastMessage` (the generated
 * contract), with its items typed.
 */
export type ChannelMessage<T = Record<string, unknown>> = Omit<BroadcastMessage, 'items'> & { items: T[] }

/** Where the connection stands. */
export type ConnectionState = 'off' | 'connecting' | 'connected' | 'disconnected'

/** Opens a socket.io connection (the vendored `io`, or a fake in tests). */
export type SocketFactory = (url: string, options: IoOptions) => IoSocket | Promise<IoSocket>

/** `$socket`: listen to channels, send events, follow the connection. */
export interface RealtimeSocket {
  /** Where the connection stands. */
  readonly state: ConnectionState
  /** Calls `cb` with every message on `channelKey`; returns the unsubscribe. */
  on<T = Record<string, unknown>>(channelKey: string, cb: (message: ChannelMessage<T>) => void): () => void
  /** Stops `cb` (or every listener of `channelKey` when no `cb` is given). */
  off(channelKey: string, cb?: (message: ChannelMessage<any>) => void): void
  /**
   * Sends `event` with `data` to the server, where it reaches the event bus
   * of the server's plugins as a `SocketMessage` (dropped while not
   * connected; names starting with `raclette:` are reserved).
   */
  emit(event: string, data?: unknown): void
  /** Calls `cb` on every change of `state`; returns the unsubscribe. */
  onState(cb: (state: ConnectionState) => void): () => void
  /** Calls `cb` whenever messages may have been missed (after a reconnect, or when the server says so). */
  onResync(cb: () => void): () => void
}

type Listener = (message: ChannelMessage<any>) => void

/**
 * One plugin's `$socket`: the page's connection, with `off(channelKey)`
 * (without a callback) removing this plugin's listeners only.
 */
export class PluginSocket implements RealtimeSocket {
  readonly #realtime: RealtimeSocket
  readonly #own = new Map<string, Set<Listener>>()

  constructor(realtime: RealtimeSocket) {
    this.#realtime = realtime
  }

  get state(): ConnectionState {
    return this.#realtime.state
  }

  on<T = Record<string, unknown>>(channelKey: string, cb: (message: ChannelMessage<T>) => void): () => void {
    if (!channelKey.includes('--') && !channelKey.startsWith('raclette:')) {
      console.warn(
        `[raclette] $socket.on('${channelKey}'): channels are named in full, like 'plugin_acme__chat--${channelKey}' (the 'channel' of the client config, not its short 'channelKey')`,
      )
    }
    let set = this.#own.get(channelKey)
    if (!set) {
      set = new Set()
      this.#own.set(channelKey, set)
    }
    set.add(cb as Listener)
    this.#realtime.on(channelKey, cb)
    return () => this.off(channelKey, cb as Listener)
  }

  off(channelKey: string, cb?: (message: ChannelMessage<any>) => void): void {
    const set = this.#own.get(channelKey)
    if (!set) return
    for (const listener of cb ? [cb] : [...set]) {
      if (set.delete(listener)) this.#realtime.off(channelKey, listener)
    }
    if (set.size === 0) this.#own.delete(channelKey)
  }

  emit(event: string, data?: unknown): void {
    this.#realtime.emit(event, data)
  }

  onState(cb: (state: ConnectionState) => void): () => void {
    return this.#realtime.onState(cb)
  }

  onResync(cb: () => void): () => void {
    return this.#realtime.onResync(cb)
  }
}

// Beside this module when served; a variable, so that type checks do not
// look for the file.
const VENDORED_CLIENT = './socket.io.esm.min.js'

async function vendoredIo(url: string, options: IoOptions): Promise<IoSocket> {
  const { io } = (await import(VENDORED_CLIENT)) as { io: (url: string, options: IoOptions) => IoSocket }
  return io(url, options)
}

/**
 * The page's realtime connection. It connects on `start()` (the runtime
 * calls it once the realtime plugin is known to be enabled and the page may
 * use it), reconnects with backoff by itself, and is restarted on sign-in
 * and project switches, because the server puts a socket into the project
 * its connection request ran in.
 */
export class Realtime implements RealtimeSocket {
  #socket: IoSocket | null = null
  #opening: Promise<void> | null = null
  #state: ConnectionState = 'off'
  #connectedBefore = false
  #wanted = false
  readonly #listeners = new Map<string, Set<Listener>>()
  readonly #stateListeners = new Set<(state: ConnectionState) => void>()
  readonly #resyncListeners = new Set<() => void>()
  readonly #baseUrl: string
  readonly #factory: SocketFactory

  constructor(baseUrl = '', factory: SocketFactory = vendoredIo) {
    this.#baseUrl = baseUrl
    this.#factory = factory
  }

  get state(): ConnectionState {
    return this.#state
  }

  /** Connects, unless connected or connecting already. */
  start(): Promise<void> {
    this.#wanted = true
    if (this.#socket || this.#opening) return this.#opening ?? Promise.resolve()
    this.#setState('connecting')
    this.#opening = Promise.resolve(
      this.#factory(this.#baseUrl || globalThis.location?.origin || '', {
        path: SOCKET_PATH,
        transports: ['websocket'],
        withCredentials: true,
        // A connection of its own: the server opens one socket per connection.
        forceNew: true,
        reconnectionDelay: 500,
        reconnectionDelayMax: 5000,
        randomizationFactor: 0.5,
      }),
    )
      .then((socket) => {
        this.#opening = null
        if (!this.#wanted) {
          socket.disconnect()
          return
        }
        this.#attach(socket)
      })
      .catch((error) => {
        this.#opening = null
        this.#setState('disconnected')
        console.error('[raclette] realtime is unavailable:', error)
      })
    return this.#opening
  }

  /** Connects again (after sign-in or a project switch): the server sees the new session. */
  async restart(): Promise<void> {
    await this.#opening
    this.#close()
    if (this.#wanted) await this.start()
  }

  /** Disconnects and stays off (sign-out). */
  stop(): void {
    this.#wanted = false
    this.#close()
    this.#setState('off')
  }

  on<T = Record<string, unknown>>(channelKey: string, cb: (message: ChannelMessage<T>) => void): () => void {
    let set = this.#listeners.get(channelKey)
    if (!set) {
      set = new Set()
      this.#listeners.set(channelKey, set)
    }
    set.add(cb as Listener)
    return () => this.off(channelKey, cb as Listener)
  }

  off(channelKey: string, cb?: (message: ChannelMessage<any>) => void): void {
    const set = this.#listeners.get(channelKey)
    if (!set) return
    if (cb) set.delete(cb)
    else set.clear()
    if (set.size === 0) this.#listeners.delete(channelKey)
  }

  emit(event: string, data?: unknown): void {
    if (this.#socket?.connected) this.#socket.emit(event, data ?? null)
  }

  onState(cb: (state: ConnectionState) => void): () => void {
    this.#stateListeners.add(cb)
    return () => this.#stateListeners.delete(cb)
  }

  onResync(cb: () => void): () => void {
    this.#resyncListeners.add(cb)
    return () => this.#resyncListeners.delete(cb)
  }

  /** Hands a message to the listeners of its channel (also used by tests). */
  dispatch(channelKey: string, message: ChannelMessage<any>): void {
    for (const cb of [...(this.#listeners.get(channelKey) ?? [])]) {
      try {
        cb(message)
      } catch (error) {
        console.error(`[raclette] listener of ${channelKey} failed:`, error)
      }
    }
  }

  /** Tells every resync listener that messages may have been missed. */
  resync(): void {
    for (const cb of [...this.#resyncListeners]) {
      try {
        cb()
      } catch (error) {
        console.error('[raclette] resync listener failed:', error)
      }
    }
  }

  #attach(socket: IoSocket): void {
    this.#socket = socket
    socket.on('connect', () => {
      this.#setState('connected')
      // Anything sent while this page was away is fetched again.
      if (this.#connectedBefore) this.resync()
      this.#connectedBefore = true
    })
    socket.on('disconnect', (reason: string) => {
      this.#setState('disconnected')
      // The server ended this socket (the user's access changed, or it is
      // time to authenticate again): a new connection, authenticated anew.
      if (reason === 'io server disconnect' && this.#wanted) void this.restart()
    })
    socket.on('connect_error', () => this.#setState('disconnected'))
    socket.on(RESYNC_EVENT, () => this.resync())
    socket.onAny((event: string, message: ChannelMessage<any>) => {
      if (event !== RESYNC_EVENT) this.dispatch(event, message)
    })
  }

  #close(): void {
    const socket = this.#socket
    this.#socket = null
    if (socket) {
      socket.removeAllListeners()
      socket.offAny()
      socket.disconnect()
    }
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return
    this.#state = state
    for (const cb of [...this.#stateListeners]) cb(state)
  }
}
