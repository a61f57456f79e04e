// Starts the example portal (copied to a temporary folder, with fixture
// plugins added) on a free port, and Debian's Chromium through Playwright.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { chromium } from 'playwright-core'

const repo = path.resolve(import.meta.dirname, '../../..')
const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(repo, process.env.CARGO_TARGET_DIR) : path.join(repo, 'target')

/** Chromium from Debian's package (override with RACLETTE_CHROMIUM). */
export const chromiumPath = process.env.RACLETTE_CHROMIUM ?? '/usr/bin/chromium'

function write(dir, relative, text) {
  const file = path.join(dir, relative)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
}

/** The example portal plus fixture plugins, in a new temporary folder. */
export function fixtureApp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raclette-browser-'))
  fs.cpSync(path.join(repo, 'examples/portal'), dir, {
    recursive: true,
    filter: (src) => !/[\\/](data|\.raclette|target)$/.test(src),
  })
  // A disabled plugin with a page: must contribute nothing.
  write(dir, 'plugins/acme__hidden/raclette.plugin.toml', 'name = "hidden"\nauthor = "acme"\nversion = "1.0.0"\n')
  write(
    dir,
    'plugins/acme__hidden/client/index.ts',
    "export default { routes: [{ path: '/hidden', title: 'Hidden page', widget: { id: 'nothing' } }] }\n",
  )
  // A plugin with a widget that throws and a page composing it with others.
  write(dir, 'plugins/acme__mixed/raclette.plugin.toml', 'name = "mixed"\nauthor = "acme"\nversion = "1.0.0"\n')
  write(
    dir,
    'plugins/acme__mixed/client/index.ts',
    `import { defineRaclettePluginClient } from '@raclette/client'
export default defineRaclettePluginClient({
  routes: [{
    path: '/mixed', title: 'Mixed',
    composition: { columns: 2, items: [
      { widget: { id: 'boom' } },
      { widget: { plugin: 'plugin_pacifico__todo', id: 'todoList' }, config: { showCompleted: true } },
      { widget: { id: 'fine' }, config: { text: 'configured text' } },
      { widget: { plugin: 'plugin_pacifico__todo', id: 'todoList' }, config: { showCompleted: false } },
    ] },
  }],
})
`,
  )
  write(dir, 'plugins/acme__mixed/client/widgets/boom/setup.ts', "export const details = { title: 'Boom' }\nexport const config = {}\n")
  write(
    dir,
    'plugins/acme__mixed/client/widgets/boom/BoomWidget.ts',
    "export default function mount(el: HTMLElement): never { throw new Error('boom while mounting') }\n",
  )
  write(
    dir,
    'plugins/acme__mixed/client/widgets/fine/setup.ts',
    "export const details = { title: 'Fine' }\nexport const config = { text: { type: 'string', default: 'default text' } }\n",
  )
  write(
    dir,
    'plugins/acme__mixed/client/widgets/fine/FineWidget.ts',
    `import type { WidgetContext } from '@raclette/client'
export default function mount(el: HTMLElement, ctx: WidgetContext) {
  const p = document.createElement('p')
  p.className = 'fine-text'
  p.textContent = String(ctx.config.text)
  el.append(p)
  return () => p.remove()
}
`,
  )
  // A plugin whose entry does not compile: the console names file, line, column.
  write(dir, 'plugins/acme__typo/raclette.plugin.toml', 'name = "typo"\nauthor = "acme"\nversion = "1.0.0"\n')
  write(dir, 'plugins/acme__typo/client/index.ts', 'export const ok = 1\nconst = ;\n')
  fs.appendFileSync(path.join(dir, 'raclette.toml'), '\n[plugins.acme__hidden]\nenabled = false\n')
  // These tests are about pages and widgets: anonymous visitors may do everything.
  setAuth(dir, '[auth]\nrequire_authentication = false\nanonymous_permissions = ["*"]\n')
  return dir
}

/** The example portal as it ships, signing users in, in a new temporary folder. */
export function signInApp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raclette-sign-in-'))
  fs.cpSync(path.join(repo, 'examples/portal'), dir, {
    recursive: true,
    filter: (src) => !/[\\/](data|\.raclette|target)$/.test(src),
  })
  setAuth(dir, '[auth]\nrequire_authentication = true\n')
  return dir
}

/** Replaces the `[auth]` section of the app's `raclette.toml` with `auth`. */
function setAuth(dir, auth) {
  const file = path.join(dir, 'raclette.toml')
  const config = fs.readFileSync(file, 'utf8')
  const section = /^\[auth\]$[^[]*/m
  fs.writeFileSync(file, section.test(config) ? config.replace(section, auth) : `${config}\n${auth}`)
}

/**
 * Starts the fixture server on `dir` (with `env` added to its environment,
 * on the database at `database` when given); resolves to `{ url, stop }`.
 */
export function startServer(dir, env = {}, database = undefined) {
  const binary = path.join(targetDir, 'debug', 'fixture-server')
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} is missing: build it with \`cargo build -p raclette-tests --bin fixture-server\``)
  }
  const args = ['--app', dir, ...(database ? ['--database', database] : [])]
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn', ...env } })
  let output = ''
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk
      const match = output.match(/listening on (http:\/\/\S+)/)
      if (match) {
        child.stdout.off('data', onData)
        resolve({
          url: match[1],
          output: () => output,
          stop: () =>
            new Promise((done) => {
              child.once('exit', done)
              child.kill('SIGTERM')
            }),
        })
      }
    }
    child.stdout.setEncoding('utf8').on('data', onData)
    child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk))
    child.once('exit', (code) => reject(new Error(`the fixture server exited with ${code}:\n${output}`)))
  })
}

/** Launches headless Chromium. */
export function launchBrowser() {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: run scripts/setup (installs Debian's chromium package)`)
  }
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] })
}
