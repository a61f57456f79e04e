// The client half of the todo plugin: strings, and the `/todo` page. The
// data API (`$data.todo.*`) is generated from the server routes, and the
// `todoList` widget is discovered from `widgets/todoList/`.

import { defineRaclettePluginClient } from '@raclette/client'

export default defineRaclettePluginClient({
  i18n: {
    en: {
      page: { title: 'Todos' },
      widgets: { todoList: { title: 'Todos' } },
      todo: {
        placeholder: 'What needs doing?',
        add: 'Add',
        delete: 'Delete',
        empty: 'Nothing to do.',
        loading: 'Loading…',
        open: '{{count}} open',
      },
    },
    de: {
      page: { title: 'Aufgaben' },
      widgets: { todoList: { title: 'Aufgabenliste' } },
      todo: {
        placeholder: 'Was ist zu tun?',
        add: 'Hinzufügen',
        delete: 'Löschen',
        empty: 'Nichts zu tun.',
        loading: 'Wird geladen…',
        open: '{{count}} offen',
      },
    },
  },
  routes: [{ path: '/todo', title: 'Todos', titleKey: 'page.title', widget: { id: 'todoList' } }],
})
