// Translations: one message tree per plugin and locale, a shared current
// locale, fallback to `en` and then to the key itself.

/** Messages of one locale: nested objects of strings. */
export type Messages = { [key: string]: string | Messages }

/** `{ en: {...}, de: {...} }` */
export type Translations = Record<string, Messages>

/** The i18n API a plugin gets. */
export interface I18n {
  t(key: string, vars?: Record<string, unknown>): string
  readonly locale: string
  readonly locales: string[]
  setLocale(locale: string): void
  subscribe(fn: (locale: string) => void): () => void
}

/** Where the chosen locale is kept between visits. */
export interface LocaleStorage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
}

const STORAGE_KEY = 'raclette.locale'
const FALLBACK = 'en'

function lookup(messages: Messages | undefined, key: string): string | undefined {
  let node: string | Messages | undefined = messages
  for (const part of key.split('.')) {
    if (node === undefined || typeof node === 'string') return undefined
    node = node[part]
  }
  return typeof node === 'string' ? node : undefined
}

function interpolate(text: string, vars?: Record<string, unknown>): string {
  if (!vars) return text
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  )
}

/** All plugins' translations and the current locale. */
export class I18nHub {
  #plugins = new Map<string, Translations>()
  #subscribers = new Set<(locale: string) => void>()
  #locale: string
  #storage: LocaleStorage | undefined

  constructor(storage?: LocaleStorage) {
    this.#storage = storage
    let saved: string | null = null
    try {
      saved = storage?.getItem(STORAGE_KEY) ?? null
    } catch {
      saved = null
    }
    this.#locale = saved ?? FALLBACK
  }

  get locale(): string {
    return this.#locale
  }

  /** Every locale some plugin has strings for, `en` first. */
  get locales(): string[] {
    const all = new Set<string>([FALLBACK])
    for (const translations of this.#plugins.values()) for (const locale of Object.keys(translations)) all.add(locale)
    return [...all]
  }

  /** Adds (or extends) a plugin's translations. */
  register(pluginKey: string, translations: Translations | undefined): void {
    if (!translations) return
    const current = this.#plugins.get(pluginKey) ?? {}
    for (const [locale, messages] of Object.entries(translations)) {
      current[locale] = { ...(current[locale] ?? {}), ...messages }
    }
    this.#plugins.set(pluginKey, current)
  }

  /** Translates `key` for a plugin: its strings in the locale, then in `en`, then the key. */
  translate(pluginKey: string, key: string, vars?: Record<string, unknown>): string {
    return interpolate(this.translateOr(pluginKey, key, key), vars)
  }

  /** The plugin's string for `key` in the locale, then in `en`; else `fallback`. */
  translateOr(pluginKey: string, key: string, fallback: string): string {
    const own = this.#plugins.get(pluginKey)
    return lookup(own?.[this.#locale], key) ?? lookup(own?.[FALLBACK], key) ?? fallback
  }

  setLocale(locale: string): void {
    if (locale === this.#locale) return
    this.#locale = locale
    try {
      this.#storage?.setItem(STORAGE_KEY, locale)
    } catch {
      // Storage may be unavailable (private mode); the switch still applies.
    }
    for (const fn of [...this.#subscribers]) {
      try {
        fn(locale)
      } catch (error) {
        console.error('[raclette] locale subscriber failed:', error)
      }
    }
  }

  subscribe(fn: (locale: string) => void): () => void {
    this.#subscribers.add(fn)
    return () => this.#subscribers.delete(fn)
  }

  /** The API of one plugin. */
  forPlugin(pluginKey: string): I18n {
    const hub = this
    return {
      t: (key, vars) => hub.translate(pluginKey, key, vars),
      get locale() {
        return hub.locale
      },
      get locales() {
        return hub.locales
      },
      setLocale: (locale) => hub.setLocale(locale),
      subscribe: (fn) => hub.subscribe(fn),
    }
  }
}
