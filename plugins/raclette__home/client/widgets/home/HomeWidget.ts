// The home widget: links to every page of the app, and the plugins the app
// is made of (from the plugin's server route `/overview`).

import { runtime, type Page, type PluginSummary, type WidgetContext } from '@raclette/client'

/** The answer of the plugin's `GET /overview` (its Rust `Overview`). */
interface Overview {
  plugins: PluginSummary[]
}

function pageTitle(page: Page): string {
  return page.titleKey ? runtime().i18n.translateOr(page.pluginKey, page.titleKey, page.title) : page.title
}

export default function mount(el: HTMLElement, ctx: WidgetContext): () => void {
  const { $api, $i18n } = ctx.api
  const doc = el.ownerDocument
  const showPlugins = ctx.config.showPlugins !== false
  let overview: Overview | null = null
  let failure: string | null = null

  function render(): void {
    const pagesHeading = doc.createElement('h2')
    pagesHeading.textContent = $i18n.t('home.pages')
    const pages = doc.createElement('ul')
    pages.className = 'raclette-home-pages'
    for (const page of runtime().pages()) {
      if (page.path === '/') continue
      const item = doc.createElement('li')
      const link = doc.createElement('a')
      link.href = page.path
      link.dataset.racletteNav = ''
      link.textContent = pageTitle(page)
      item.append(link)
      pages.append(item)
    }
    const parts: HTMLElement[] = [pagesHeading, pages]
    if (showPlugins) {
      const pluginsHeading = doc.createElement('h2')
      pluginsHeading.textContent = $i18n.t('home.plugins')
      const plugins = doc.createElement('ul')
      plugins.className = 'raclette-home-plugins'
      if (failure) {
        const item = doc.createElement('li')
        item.textContent = failure
        plugins.append(item)
      } else if (!overview) {
        const item = doc.createElement('li')
        item.textContent = $i18n.t('home.loading')
        plugins.append(item)
      } else {
        for (const plugin of overview.plugins) {
          const item = doc.createElement('li')
          item.dataset.homePlugin = plugin.key
          const name = doc.createElement('strong')
          name.textContent = `${plugin.folder} ${plugin.version}`
          item.append(name, doc.createTextNode(plugin.description ? ` · ${plugin.description}` : ''))
          const badges = [
            ...(plugin.builtin ? [$i18n.t('home.builtin')] : []),
            ...(plugin.enabled ? [] : [$i18n.t('home.disabled')]),
          ]
          if (badges.length > 0) {
            const badge = doc.createElement('small')
            badge.className = 'raclette-muted'
            badge.textContent = ` (${badges.join(', ')})`
            item.append(badge)
          }
          plugins.append(item)
        }
      }
      parts.push(pluginsHeading, plugins)
    }
    el.replaceChildren(...parts)
  }

  const offLocale = $i18n.subscribe(render)
  render()
  if (showPlugins) {
    $api
      .get<Overview>('/plugin/raclette/home/overview')
      .then((result) => {
        overview = result
        render()
      })
      .catch((error: Error) => {
        failure = error.message
        render()
      })
  }
  return offLocale
}
