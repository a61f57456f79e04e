// The two stores of the runtime: the global state store (plugin-namespaced,
// addressed by dotted paths) and the data store (items normalized by data
// type and id).

import type { OperationKind } from './contract.ts'

/** How a result is merged into the data store (generated from the server's type). */
export type { OperationKind }

/** Called with the new value at the subscribed path. */
export type Subscriber = (value: unknown) => void

/** A state store addressed by dotted paths (`todo.filter`). */
export interface StateStore {
  get(path?: string): unknown
  set(path: string, value: unknown): void
  subscribe(path: string, fn: Subscriber): () => void
}

type Tree = Record<string, unknown>

function segments(path: string | undefined): string[] {
  return path ? path.split('.').filter((s) => s !== '') : []
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The global store; `namespace(key)` gives a view rooted at `key`. */
export class GlobalStore implements StateStore {
  #root: Tree = {}
  #subscribers = new Map<string, Set<Subscriber>>()

  get(path?: string): unknown {
    let node: unknown = this.#root
    for (const part of segments(path)) {
      if (!isTree(node)) return undefined
      node = node[part]
    }
    return node
  }

  set(path: string, value: unknown): void {
    const parts = segments(path)
    if (parts.length === 0) throw new Error('store.set needs a path')
    let node = this.#root
    for (const part of parts.slice(0, -1)) {
      const next = node[part]
      if (!isTree(next)) node[part] = {}
      node = node[part] as Tree
    }
    node[parts[parts.length - 1]] = value
    this.#notify(parts)
  }

  subscribe(path: string, fn: Subscriber): () => void {
    const key = segments(path).join('.')
    let set = this.#subscribers.get(key)
    if (!set) {
      set = new Set()
      this.#subscribers.set(key, set)
    }
    set.add(fn)
    return () => set.delete(fn)
  }

  /** A view of this store whose paths start below `key`. */
  namespace(key: string): StateStore {
    const full = (path?: string) => [key, ...segments(path)].join('.')
    return {
      get: (path) => this.get(full(path)),
      set: (path, value) => this.set(full(path), value),
      subscribe: (path, fn) => this.subscribe(full(path), fn),
    }
  }

  // Subscribers of the changed path, of every parent and of every child hear.
  #notify(parts: string[]): void {
    const changed = parts.join('.')
    for (const [key, set] of this.#subscribers) {
      const related = key === '' || key === changed || changed.startsWith(key + '.') || key.startsWith(changed + '.')
      if (!related) continue
      const value = this.get(key)
      for (const fn of [...set]) {
        try {
          fn(value)
        } catch (error) {
          console.error(`[raclette] store subscriber of "${key}" failed:`, error)
        }
      }
    }
  }
}


/** An item of a data type. */
export type Item = Record<string, unknown>

/**
 * Items normalized by data type and id; subscribers hear per type.
 *
 * Answers and realtime messages arrive in any order, so the store keeps what
 * it needs to refuse a late one: an item whose numeric `version` is lower than
 * the stored one's does not replace it, and a read started before an item was
 * deleted (see `position`) does not bring it back.
 */
export class DataStore {
  #types = new Map<string, Map<string, Item>>()
  #subscribers = new Map<string, Set<() => void>>()
  #created = new Map<string, string[]>()
  /** Deleted ids by type: when (a position) and at which version. */
  #deleted = new Map<string, Map<string, { at: number; version: number | undefined }>>()
  #position = 0

  /** The items of `type`, in the order they arrived. */
  list(type: string): Item[] {
    return [...(this.#types.get(type)?.values() ?? [])]
  }

  /** One item by id. */
  get(type: string, id: string): Item | undefined {
    return this.#types.get(type)?.get(id)
  }

  /** Where the store's history stands: pass it to `merge` for a read started now. */
  position(): number {
    return this.#position
  }

  /**
   * Merges a result by the operation's kind; `idKey` names the id field. For
   * a read, `readFrom` is the `position()` when it was sent: items deleted
   * since then stay deleted.
   */
  merge(type: string, kind: OperationKind, idKey: string, result: unknown, params: Item = {}, readFrom?: number): void {
    const items = Array.isArray(result) ? result : [result]
    const table = this.#table(this.#types, type)
    const deleted = this.#table(this.#deleted, type)
    const at = ++this.#position
    let changed = false
    for (const raw of items) {
      const item: Item | undefined = isTree(raw) ? raw : undefined
      const id = String(item?.[idKey] ?? params[idKey] ?? '')
      if (id === '') continue
      if (kind === 'delete' || kind === 'deleteHard') {
        const version = versionOf(item) ?? versionOf(table.get(id))
        table.delete(id)
        deleted.set(id, { at, version })
        changed = true
        continue
      }
      if (!item || isOlder(item, table.get(id))) continue
      const gone = deleted.get(id)
      if (kind === 'read') {
        // Deleted since the read was sent: only a later version (a restore) comes back.
        if (gone && gone.at > (readFrom ?? at) && !isNewer(item, gone.version)) continue
        table.set(id, item)
      } else {
        // A late answer or message of before the deletion does not undo it.
        if (gone && writtenBefore(item, gone.version)) continue
        deleted.delete(id)
        table.set(id, kind === 'update' ? { ...(table.get(id) ?? {}), ...item } : item)
        if (kind === 'create') this.#createdLog(type).push(id)
      }
      changed = true
    }
    if (changed) this.#notify(type)
  }

  #table<V>(tables: Map<string, Map<string, V>>, type: string): Map<string, V> {
    let table = tables.get(type)
    if (!table) {
      table = new Map()
      tables.set(type, table)
    }
    return table
  }

  /** How many items of `type` were created so far (a position in the creation log). */
  createdCount(type: string): number {
    return this.#createdLog(type).length
  }

  /** Ids of items of `type` created since position `from` of the creation log. */
  createdSince(type: string, from: number): string[] {
    return this.#createdLog(type).slice(from)
  }

  #createdLog(type: string): string[] {
    let log = this.#created.get(type)
    if (!log) {
      log = []
      this.#created.set(type, log)
    }
    return log
  }

  /** Calls `fn` after every change of `type`. */
  subscribe(type: string, fn: () => void): () => void {
    let set = this.#subscribers.get(type)
    if (!set) {
      set = new Set()
      this.#subscribers.set(type, set)
    }
    set.add(fn)
    return () => set.delete(fn)
  }

  /** Forgets everything (used between tests and on logout). */
  clear(): void {
    const types = [...this.#types.keys()]
    this.#types.clear()
    this.#created.clear()
    this.#deleted.clear()
    for (const type of types) this.#notify(type)
  }

  #notify(type: string): void {
    for (const fn of [...(this.#subscribers.get(type) ?? [])]) {
      try {
        fn()
      } catch (error) {
        console.error(`[raclette] data subscriber of "${type}" failed:`, error)
      }
    }
  }
}

/** An item's numeric `version`, when it has one. */
function versionOf(item: Item | undefined): number | undefined {
  const version = item?.version
  return typeof version === 'number' && Number.isFinite(version) ? version : undefined
}

/** Whether `item` is an older version than `stored`. */
function isOlder(item: Item, stored: Item | undefined): boolean {
  const [mine, theirs] = [versionOf(item), versionOf(stored)]
  return mine !== undefined && theirs !== undefined && mine < theirs
}

/** Whether `item` was written at or before `version` (both known). */
function writtenBefore(item: Item, version: number | undefined): boolean {
  const mine = versionOf(item)
  return mine !== undefined && version !== undefined && mine <= version
}

/** Whether `item` has a higher version than `version` (both known). */
function isNewer(item: Item, version: number | undefined): boolean {
  const mine = versionOf(item)
  return mine !== undefined && version !== undefined && mine > version
}
