// Type-checked with the runtime: `$socket` as a plugin author uses it, with
// channel messages typed by the generated item type of the todo plugin.

import type { ChannelMessage, ConnectionState, PluginApi } from '@raclette/client'
import type { Item, Todo } from '@raclette/types/plugin_pacifico__todo'

/** Follows created todos and the connection; returns how to stop. */
export function follow(api: PluginApi, show: (names: string[], state: ConnectionState) => void): () => void {
  const offCreated = api.$socket.on<Item<Todo>>('plugin_pacifico__todo--todoCreated', (message: ChannelMessage<Item<Todo>>) => {
    const names: string[] = message.items.map((todo) => todo.name)
    const project: string = message.project
    show(names.concat(project), api.$socket.state)
  })
  const offState = api.$socket.onState((state) => show([], state))
  const offResync = api.$socket.onResync(() => show([], api.$socket.state))
  api.$socket.emit('typing', { text: 'hello' })
  return () => {
    offCreated()
    offState()
    offResync()
  }
}
