// The client half of the built-in home plugin: the page at `/`.

import { defineRaclettePluginClient } from '@raclette/client'

export default defineRaclettePluginClient({
  i18n: {
    en: {
      page: { title: 'Home' },
      widgets: { home: { title: 'Home' } },
      home: { pages: 'Pages', plugins: 'Plugins', builtin: 'built in', disabled: 'disabled', loading: 'Loading…' },
    },
    de: {
      page: { title: 'Start' },
      widgets: { home: { title: 'Start' } },
      home: { pages: 'Seiten', plugins: 'Plugins', builtin: 'eingebaut', disabled: 'ausgeschaltet', loading: 'Wird geladen…' },
    },
  },
  routes: [{ path: '/', title: 'Home', titleKey: 'page.title', widget: { id: 'home' } }],
})
