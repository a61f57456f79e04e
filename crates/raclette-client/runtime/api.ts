// HTTP for plugins: fetch with the app's base URL and credentials, JSON in
// and out, errors as `ApiError` carrying the server's JSON error.

import type { ErrorBody } from './contract.ts'

/** The fetch function the runtime uses (replaceable in tests). */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>

/** Whether `body` is the server's JSON error (`{ statusCode, error, message, field? }`). */
export function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null) return false
  const b = body as Record<string, unknown>
  return (
    typeof b.statusCode === 'number' &&
    typeof b.error === 'string' &&
    typeof b.message === 'string' &&
    (b.field === undefined || typeof b.field === 'string')
  )
}

/** A non-2xx answer. `body` is what the server sent; `error` the server's JSON error when it is one. */
export class ApiError extends Error {
  readonly status: number
  readonly body: unknown
  readonly error: ErrorBody | null
  readonly response: Response

  constructor(response: Response, body: unknown) {
    const error = isErrorBody(body) ? body : null
    const message =
      error?.message ??
      (typeof body === 'object' && body !== null && 'message' in body
        ? String((body as { message: unknown }).message)
        : `${response.status} ${response.statusText}`)
    super(message)
    this.name = 'ApiError'
    this.status = response.status
    this.body = body
    this.error = error
    this.response = response
  }
}

/** `$api`: requests relative to the app's base URL. */
export interface Api {
  readonly baseUrl: string
  fetch(path: string, init?: RequestInit): Promise<Response>
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ response: Response; result: T }>
  get<T = unknown>(path: string): Promise<T>
  post<T = unknown>(path: string, body?: unknown): Promise<T>
  put<T = unknown>(path: string, body?: unknown): Promise<T>
  patch<T = unknown>(path: string, body?: unknown): Promise<T>
  delete<T = unknown>(path: string): Promise<T>
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text()
  if (text === '') return null
  const type = response.headers.get('content-type') ?? ''
  if (type.includes('json')) {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return text
}

/** What the runtime adds to every request of `$api` and `$data`. */
export interface ApiHooks {
  /** Extra headers for a request with `method` (the session's CSRF token on writes). */
  headers?: (method: string) => Record<string, string>
  /** Called when the server answers 401 to `path`. */
  onUnauthorized?: (path: string) => void
}

/** An `$api` over `fetchFn` with `baseUrl` ('' means the page's origin). */
export function createApi(baseUrl: string, fetchFn: () => FetchFn, hooks: ApiHooks = {}): Api {
  const base = baseUrl.replace(/\/$/, '')
  const api: Api = {
    baseUrl: base,
    async fetch(path, init) {
      const url = /^https?:\/\//.test(path) ? path : base + path
      const extra = hooks.headers?.((init?.method ?? 'GET').toUpperCase()) ?? {}
      let headers: RequestInit['headers'] = init?.headers
      if (Object.keys(extra).length > 0) {
        const merged = new Headers(init?.headers)
        for (const [name, value] of Object.entries(extra)) if (!merged.has(name)) merged.set(name, value)
        headers = merged
      }
      const response = await fetchFn()(url, { credentials: 'include', ...init, ...(headers ? { headers } : {}) })
      if (response.status === 401) hooks.onUnauthorized?.(path)
      return response
    },
    async request(method, path, body) {
      const init: RequestInit = { method: method.toUpperCase(), headers: { accept: 'application/json' } }
      if (body !== undefined) {
        init.body = JSON.stringify(body)
        init.headers = { accept: 'application/json', 'content-type': 'application/json' }
      }
      const response = await api.fetch(path, init)
      const result = await readBody(response)
      if (!response.ok) throw new ApiError(response, result)
      return { response, result: result as never }
    },
    get: async (path) => (await api.request('get', path)).result as never,
    post: async (path, body) => (await api.request('post', path, body ?? {})).result as never,
    put: async (path, body) => (await api.request('put', path, body ?? {})).result as never,
    patch: async (path, body) => (await api.request('patch', path, body ?? {})).result as never,
    delete: async (path) => (await api.request('delete', path)).result as never,
  }
  return api
}
