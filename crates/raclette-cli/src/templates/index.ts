import { defineRaclettePluginClient } from '@raclette/client'

export default defineRaclettePluginClient({
  i18n: {
    en: { greeting: 'Hello from {{folder}}' },
    de: { greeting: 'Hallo von {{folder}}' },
  },
})
