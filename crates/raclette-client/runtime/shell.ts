// The shell served at `/`: navigation from every enabled plugin's pages,
// History-API routing (deep links and reloads work), a locale switch,
// pages rendered as one widget or a grid of widgets, and, when the app
// signs users in, the current user and project, a project switch, sign-out
// and the sign-in page (`/signin`, where any 401 leads and which leads
// back).

import {
  afterSignIn,
  ApiError,
  configureRuntime,
  mountWidget,
  SIGN_IN_PATH,
  signInUrl,
  type MountedWidget,
  type Page,
  type Runtime,
} from './client.ts'

const LOCALE_NAMES: Record<string, string> = { en: 'English', de: 'Deutsch' }

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value)
  if (text !== undefined) node.textContent = text
  return node
}

/** The running shell. */
class Shell {
  readonly #rt: Runtime
  readonly #root: HTMLElement
  readonly #appName: string
  readonly #nav = el('nav', { class: 'raclette-nav', 'aria-label': 'Pages' })
  readonly #main = el('main', { class: 'raclette-main' })
  readonly #locale = el('select', { 'data-raclette-locale': '', 'aria-label': 'Language' })
  readonly #account = el('div', { class: 'raclette-account', 'data-raclette-account': '' })
  #mounted: MountedWidget[] = []

  constructor(rt: Runtime, root: HTMLElement, appName: string) {
    this.#rt = rt
    this.#root = root
    this.#appName = appName
  }

  start(): void {
    const home = el('a', { href: '/', class: 'raclette-brand', 'data-raclette-nav': '' }, this.#appName)
    const header = el('header', { class: 'raclette-header' })
    header.append(home, this.#nav, this.#account, this.#locale)
    const failures = el('div', { class: 'raclette-failures' })
    for (const [key, error] of this.#rt.failures) {
      failures.append(el('div', { class: 'raclette-plugin-error', role: 'alert' }, `${key}: ${error.message}`))
    }
    this.#root.replaceChildren(header, failures, this.#main)
    this.#locale.addEventListener('change', () => this.#rt.i18n.setLocale(this.#locale.value))
    this.#rt.i18n.subscribe(() => this.render())
    this.#rt.session.subscribe(() => this.#renderAccount())
    this.#rt.onUnauthorized = () => this.#toSignIn()
    document.addEventListener('click', (event) => this.#onClick(event))
    window.addEventListener('popstate', () => this.render())
    this.render()
  }

  #onClick(event: MouseEvent): void {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const link = (event.target as Element | null)?.closest?.('a[data-raclette-nav]') as HTMLAnchorElement | null
    if (!link || link.origin !== location.origin) return
    event.preventDefault()
    this.#go(link.pathname + link.search)
  }

  /** Goes to `path` inside the app. */
  #go(path: string): void {
    if (path !== location.pathname + location.search) history.pushState(null, '', path)
    this.render()
  }

  /** The server said 401: sign in, then come back here. */
  #toSignIn(): void {
    if (location.pathname === SIGN_IN_PATH) return
    void this.#rt.session.refresh().catch(() => null)
    this.#go(signInUrl(location.pathname + location.search))
  }

  /** Data read in one project or by one user must not show in another. */
  #forgetData(): void {
    this.#rt.dataStore.clear()
    this.#rt.cache.clear()
  }

  #renderAccount(): void {
    const session = this.#rt.session
    if (!session.available) {
      this.#account.replaceChildren()
      return
    }
    const user = session.user
    if (!user) {
      const here = location.pathname + location.search
      const link = el('a', { href: signInUrl(here), 'data-raclette-nav': '', 'data-raclette-sign-in': '' }, 'Sign in')
      this.#account.replaceChildren(location.pathname === SIGN_IN_PATH ? '' : link)
      return
    }
    const name = el('span', { class: 'raclette-user', 'data-raclette-user': '' }, user.displayName)
    const projects = el('select', { 'data-raclette-project': '', 'aria-label': 'Project' })
    projects.replaceChildren(...session.projects.map((p) => el('option', { value: p._id }, p.name)))
    projects.value = session.project ?? ''
    projects.addEventListener('change', async () => {
      try {
        await session.switchProject(projects.value)
        this.#forgetData()
        this.render()
      } catch (error) {
        console.error('[raclette] cannot switch project:', error)
        projects.value = session.project ?? ''
      }
    })
    const out = el('button', { type: 'button', 'data-raclette-sign-out': '' }, 'Sign out')
    out.addEventListener('click', async () => {
      await session.signOut().catch((error) => console.error('[raclette] sign-out failed:', error))
      this.#forgetData()
      this.#go(SIGN_IN_PATH)
    })
    this.#account.replaceChildren(name, projects, out)
  }

  #renderSignIn(): void {
    document.title = `Sign in · ${this.#appName}`
    const form = el('form', { class: 'raclette-sign-in', 'data-raclette-sign-in-form': '' })
    const email = el('input', { type: 'email', name: 'email', autocomplete: 'username', required: '', 'aria-label': 'Email' })
    const password = el('input', {
      type: 'password',
      name: 'password',
      autocomplete: 'current-password',
      required: '',
      'aria-label': 'Password',
    })
    const problem = el('p', { class: 'raclette-form-error', role: 'alert' })
    const submit = el('button', { type: 'submit' }, 'Sign in')
    form.append(
      el('label', {}, 'Email'),
      email,
      el('label', {}, 'Password'),
      password,
      submit,
      problem,
    )
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      submit.disabled = true
      problem.textContent = ''
      try {
        await this.#rt.session.signIn(email.value, password.value)
        this.#forgetData()
        this.#go(afterSignIn(location.search))
      } catch (error) {
        problem.textContent = error instanceof ApiError ? error.message : `Sign-in failed: ${error}`
        submit.disabled = false
      }
    })
    this.#main.replaceChildren(el('h1', {}, 'Sign in'), form)
    email.focus()
  }

  #title(page: Page): string {
    return page.titleKey ? this.#rt.i18n.translateOr(page.pluginKey, page.titleKey, page.title) : page.title
  }

  #renderChrome(current: string): void {
    const links = this.#rt.pages().map((page) => {
      const link = el('a', { href: page.path, 'data-raclette-nav': '' }, this.#title(page))
      if (page.path === current) link.setAttribute('aria-current', 'page')
      return link
    })
    this.#nav.replaceChildren(...links)
    this.#locale.replaceChildren(
      ...this.#rt.i18n.locales.map((locale) => el('option', { value: locale }, LOCALE_NAMES[locale] ?? locale)),
    )
    this.#locale.value = this.#rt.i18n.locale
  }

  /** Renders the page of the current location. */
  render(): void {
    const path = location.pathname.replace(/\/+$/, '') || '/'
    this.#renderChrome(path)
    this.#renderAccount()
    for (const widget of this.#mounted) widget.unmount()
    this.#mounted = []
    const page = this.#rt.pages().find((p) => p.path === path)
    if (path === SIGN_IN_PATH) {
      this.#renderSignIn()
    } else if (page) {
      this.#renderPage(page)
    } else if (path === '/') {
      this.#renderHome()
    } else {
      document.title = `Not found · ${this.#appName}`
      this.#main.replaceChildren(
        el('h1', {}, 'Page not found'),
        el('p', { class: 'raclette-muted' }, `No enabled plugin has a page at ${path}.`),
      )
    }
  }

  // The page at `/` comes from a plugin (the built-in raclette__home);
  // without one, the shell says where to go.
  #renderHome(): void {
    document.title = this.#appName
    this.#main.replaceChildren(
      el('h1', {}, this.#appName),
      el('p', { class: 'raclette-muted' }, 'No plugin has a page at /. Choose a page above.'),
    )
  }

  #renderPage(page: Page): void {
    const title = this.#title(page)
    document.title = `${title} · ${this.#appName}`
    const heading = el('h1', {}, title)
    this.#main.replaceChildren(heading)
    if (page.widget) {
      const ref = page.widget
      this.#mounted.push(mountWidget(this.#rt, this.#main, ref.plugin ?? page.pluginKey, ref.id, ref.config ?? {}))
    }
    if (page.composition) {
      const grid = el('div', { class: 'raclette-grid' })
      grid.style.setProperty('--raclette-columns', String(page.composition.columns ?? 2))
      this.#main.append(grid)
      for (const item of page.composition.items) {
        const config = { ...(item.widget.config ?? {}), ...(item.config ?? {}) }
        this.#mounted.push(mountWidget(this.#rt, grid, item.widget.plugin ?? page.pluginKey, item.widget.id, config))
      }
    }
  }
}

async function main(): Promise<void> {
  const root = document.getElementById('raclette-app')
  if (!root) throw new Error('the shell page has no #raclette-app element')
  const appName = document.title || 'raclette'
  root.textContent = 'Loading…'
  const rt = configureRuntime()
  try {
    await rt.load()
  } catch (error) {
    root.replaceChildren(el('div', { class: 'raclette-plugin-error', role: 'alert' }, `Could not load the plugins: ${error}`))
    throw error
  }
  new Shell(rt, root, appName).start()
  document.documentElement.dataset.racletteReady = 'true'
}

main().catch((error) => console.error('[raclette] the shell failed to start:', error))
