// Deliberately wrong: each line below must be a type error.

import type { PluginApi, PluginInfo } from '@raclette/client'
import type { PluginData } from '@raclette/types/plugin_pacifico__todo'

export function wrongTodoField(api: PluginApi): boolean[] {
  const $data = api.$data as PluginData
  // The Rust `Todo` has `isCompleted`, not `isDone`.
  return $data.todo.getAll().dataArr.map((todo) => todo.isDone)
}

export function dependenciesAreNoArray(info: PluginInfo): string[] {
  // `dependencies` maps folder names to version requirements: no `string[]`.
  const names: string[] = info.dependencies
  return names
}
