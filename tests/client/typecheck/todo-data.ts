// Type-checked with the runtime (tsconfig.json at the repository root): the
// generated declarations of the todo plugin's data API carry the fields of
// the server's Rust `Todo`, and the runtime's JSON types are the contract's.

import type { PluginApi, PluginInfo, Widget } from '@raclette/client'
import type { Item, PluginData, Removed, Todo } from '@raclette/types/plugin_pacifico__todo'

/** Every field of a todo, its own and the framework's, typed as the server sends it. */
export function describe(api: PluginApi): string[] {
  const $data = api.$data as PluginData
  const all = $data.todo.getAll()
  return all.dataArr.map((todo: Item<Todo>) => {
    const id: string = todo._id
    const done: boolean = todo.isCompleted || todo.isDeleted
    const tags: string[] = todo.tags
    const version: number = todo.version
    const owner: string | null = todo.owner
    return `${id} ${todo.name} ${todo.content} ${tags.join(',')} ${done} ${todo.createdAt} ${todo.updatedAt} ${version} ${owner}`
  })
}

/** A hard delete answers with the id of the removed todo. */
export async function removeForGood(api: PluginApi, _id: string): Promise<boolean> {
  const $data = api.$data as PluginData
  const { result } = await $data.todo.deleteHard().execute({ _id })
  const removed: Removed = result
  return removed.deleted && removed._id === _id
}

/** `dependencies` is a map of folder name to version requirement. */
export function dependencyNames(info: PluginInfo): string[] {
  const requirements: Record<string, string> = info.dependencies
  return Object.keys(requirements).filter(() => !info.builtin)
}

/** A widget field can hold an object. */
export function objectFields(widget: Widget): string[] {
  return Object.entries(widget.config)
    .filter(([, field]) => field.type === 'object')
    .map(([name]) => name)
}
