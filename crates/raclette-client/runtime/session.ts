// Who is signed in, as the built-in core plugin reports it, and what the
// runtime does with it: the session's CSRF token on every write, and the
// sign-in page when the server answers 401.

import type { Api } from './api.ts'
import type { ProjectSummary, SessionInfo, SessionUser } from './contract.ts'

/** Where the core plugin answers about the session. */
export const SESSION_PATH = '/plugin/raclette/core/session'

/** The shell's sign-in page. */
export const SIGN_IN_PATH = '/signin'

type Listener = (state: SessionInfo | null) => void

/**
 * The browser's session: `state` is null until loaded, and stays null when
 * the app has no core plugin (nobody signs in).
 */
export class Session {
  #state: SessionInfo | null = null
  #available = false
  readonly #listeners = new Set<Listener>()
  readonly #api: () => Api

  constructor(api: () => Api) {
    this.#api = api
  }

  /** The last known session, or null. */
  get state(): SessionInfo | null {
    return this.#state
  }

  /** Whether the app signs users in (the core plugin is enabled). */
  get available(): boolean {
    return this.#available
  }

  /** The signed-in user, or null. */
  get user(): SessionUser | null {
    return this.#state?.user ?? null
  }

  /** The request's project. */
  get project(): string | null {
    return this.#state?.project ?? null
  }

  /** The projects the user may switch to. */
  get projects(): ProjectSummary[] {
    return this.#state?.projects ?? []
  }

  /** The token writes send in `X-CSRF-Token`. */
  get csrfToken(): string | null {
    return this.#state?.csrfToken ?? null
  }

  /** Calls `listener` on every change; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #set(state: SessionInfo | null): SessionInfo | null {
    this.#state = state
    for (const listener of this.#listeners) listener(state)
    return state
  }

  /** Asks the server who is signed in (null without a core plugin). */
  async refresh(): Promise<SessionInfo | null> {
    const response = await this.#api().fetch(SESSION_PATH, { headers: { accept: 'application/json' } })
    if (response.status === 404) {
      this.#available = false
      return this.#set(null)
    }
    this.#available = true
    if (!response.ok) return this.#set(null)
    return this.#set((await response.json()) as SessionInfo)
  }

  /** Signs in; rejects with the server's `ApiError` (401, 429) on failure. */
  async signIn(email: string, password: string): Promise<SessionInfo> {
    const state = await this.#api().post<SessionInfo>(SESSION_PATH, { email, password })
    this.#available = true
    this.#set(state)
    return state
  }

  /** Signs out: the server deletes the session. */
  async signOut(): Promise<void> {
    try {
      await this.#api().delete(SESSION_PATH)
    } finally {
      this.#set({ user: null, project: 'default', projects: [], csrfToken: null })
    }
  }

  /** Makes `project` the request's project, remembered in the session. */
  async switchProject(project: string): Promise<SessionInfo> {
    return this.#set(await this.#api().put<SessionInfo>(`${SESSION_PATH}/project`, { project }))!
  }
}

/** The sign-in page's address that comes back to `path` afterwards. */
export function signInUrl(path: string): string {
  return `${SIGN_IN_PATH}?next=${encodeURIComponent(path)}`
}

/** Where to go after signing in: `next` when it is a path of this app, else `/`. */
export function afterSignIn(search: string): string {
  const next = new URLSearchParams(search).get('next') ?? '/'
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith(SIGN_IN_PATH) ? next : '/'
}
