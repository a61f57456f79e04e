// Loads the browser runtime as compiled by the server (written by
// `cargo run -p raclette-tests --bin emit-runtime -- DIR`), and a fake
// fetch that answers from a table of routes and records every request.

import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const dir = process.env.RACLETTE_RUNTIME_JS ?? path.resolve(import.meta.dirname, '../../../target/client-runtime')

if (!fs.existsSync(path.join(dir, 'client.js'))) {
  throw new Error(
    `${dir}/client.js is missing: run \`cargo run -p raclette-tests --bin emit-runtime -- ${dir}\` (scripts/test does)`,
  )
}

/** Where the example todo plugin's todo routes are. */
export const todoBase = '/plugin/pacifico/todo/todo'

/** The channels of a todo operation broadcasting `event`, as its client config lists them. */
export const todoChannels = (event) => [
  { channel: `plugin_pacifico__todo--${event}`, channelKey: event, prefix: 'plugin_pacifico__todo' },
]

/** The `@raclette/client` module. */
export const client = await import(pathToFileURL(path.join(dir, 'client.js')).href)

/**
 * A fetch answering `routes[`${METHOD} ${url}`]`: a value (sent as JSON
 * with status 200), or a function of the parsed body returning
 * `{ status, body }`. Unknown routes answer 404.
 */
export function fakeFetch(routes) {
  const calls = []
  const fetch = async (url, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase()
    const body = init.body ? JSON.parse(init.body) : undefined
    calls.push({ method, url, body, credentials: init.credentials })
    const route = routes[`${method} ${url}`]
    let status = 200
    let payload = route
    if (route === undefined) {
      status = 404
      payload = { statusCode: 404, error: 'Not Found', message: `no route ${method} ${url}` }
    } else if (typeof route === 'function') {
      ;({ status, body: payload } = await route(body))
    }
    return new Response(payload === undefined ? '' : JSON.stringify(payload), {
      status,
      headers: { 'content-type': 'application/json' },
    })
  }
  return { fetch, calls }
}

/** A storage like localStorage, in memory. */
export function memoryStorage(initial = {}) {
  const items = new Map(Object.entries(initial))
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => items.set(key, String(value)),
    items,
  }
}
