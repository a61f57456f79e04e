// Realtime in headless Chromium: two browsers signed in to the example
// portal see each other's todo changes without reloading, on one server
// and across two servers sharing PostgreSQL and Redis; when Redis goes
// away and comes back, a browser catches up with what it missed.

import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { launchBrowser, signInApp, startServer } from './harness.mjs'

const todoWidget = 'div.raclette-widget[data-widget="plugin_pacifico__todo/todoList"]'
const DEV = { email: 'dev@example.com', password: 'raclette-dev' }
let browser
const cleanups = []

before(async () => {
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** A new browser context signed in as the development account, on the todo page of `url`. */
async function todoPage(url) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (error) => errors.push(error.message))
  await page.goto(`${url}/signin?next=%2Ftodo`)
  const form = page.locator('form[data-raclette-sign-in-form]')
  await form.locator('input[name=email]').fill(DEV.email)
  await form.locator('input[name=password]').fill(DEV.password)
  await form.locator('button[type=submit]').click()
  await page.waitForURL(`${url}/todo`)
  const widget = page.locator(todoWidget)
  await widget.locator('.todo-status').waitFor()
  await waitConnected(page)
  return { context, page, widget, errors }
}

/** Waits until the page's realtime connection is up. */
async function waitConnected(page) {
  await page.waitForFunction(async () => {
    const { runtime } = await import('@raclette/client')
    return runtime().realtime.state === 'connected'
  })
}

function item(widget, name) {
  return widget.locator('li[data-todo-item]', { hasText: name })
}

/** A create, a check-off and a delete in one page appear in the other. */
async function seeEachOther(a, b, name) {
  await a.widget.locator('input[data-todo-input]').fill(name)
  await a.widget.locator('button[data-todo-add]').click()
  await item(a.widget, name).waitFor()
  await item(b.widget, name).waitFor()

  await item(b.widget, name).locator('input[data-todo-check]').check()
  await a.page.waitForFunction(
    ({ selector, name }) =>
      [...document.querySelectorAll(`${selector} li[data-todo-item]`)].some(
        (li) => li.textContent.includes(name) && li.querySelector('input[data-todo-check]').checked,
      ),
    { selector: todoWidget, name },
  )

  await item(a.widget, name).locator('button[data-todo-delete]').click()
  await item(b.widget, name).waitFor({ state: 'detached' })
}

test('two browsers on one server see each other\'s changes without reloading', async () => {
  const dir = signInApp()
  const server = await startServer(dir, { RACLETTE_DEV_ACCOUNT: '1' })
  cleanups.push(async () => {
    await server.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const a = await todoPage(server.url)
  const b = await todoPage(server.url)
  await seeEachOther(a, b, 'Milk for everyone')
  await seeEachOther(b, a, 'Bread, seen from the other side')

  // A page whose project differs hears nothing of this one.
  const created = await b.page.evaluate(async () => {
    const { usePluginApi } = await import('@raclette/client')
    const api = usePluginApi('plugin_pacifico__todo')
    const project = await api.$api.post('/plugin/raclette/core/project', { name: 'Elsewhere' })
    await api.$session.refresh()
    return project
  })
  await b.page.locator('select[data-raclette-project]').selectOption({ label: created.name })
  await b.widget.locator('.todo-status').filter({ hasText: 'Nothing to do' }).waitFor()
  await waitConnected(b.page)
  const heard = b.page.evaluate(
    () =>
      new Promise((resolve) => {
        import('@raclette/client').then(({ usePluginApi }) => {
          const off = usePluginApi('plugin_pacifico__todo').$socket.on('plugin_pacifico__todo--todoCreated', (m) => {
            off()
            resolve(m.items[0].name)
          })
        })
      }),
  )
  await a.widget.locator('input[data-todo-input]').fill('Only for the default project')
  await a.widget.locator('button[data-todo-add]').click()
  await item(a.widget, 'Only for the default project').waitFor()
  await b.widget.locator('input[data-todo-input]').fill('In Elsewhere')
  await b.widget.locator('button[data-todo-add]').click()
  assert.equal(await heard, 'In Elsewhere', 'the first message the other project hears is its own')
  assert.equal(await item(b.widget, 'Only for the default project').count(), 0)

  assert.deepEqual(a.errors, [])
  assert.deepEqual(b.errors, [])
  await a.context.close()
  await b.context.close()
})

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** A Redis server of this test's own on `port`; resolves once it accepts connections. */
async function startRedis(port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  })
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (up) return child
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server did not start on port ${port}`)
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', resolve)
    child.kill('SIGKILL')
  })
}

/** A new PostgreSQL database on the local server (psql, user postgres); returns its URL and how to drop it. */
function createDatabase() {
  const name = `raclette_browser_${Date.now()}_${process.pid}`
  const psql = (sql) =>
    execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      stdio: 'pipe',
    })
  psql(`CREATE DATABASE ${name}`)
  return { url: `postgres://postgres@127.0.0.1:5432/${name}`, drop: () => psql(`DROP DATABASE ${name} WITH (FORCE)`) }
}

test('two servers sharing PostgreSQL and Redis: changes cross, and a lost Redis is caught up', async () => {
  const port = await freePort()
  let redis = await startRedis(port)
  const database = createDatabase()
  const dir = signInApp()
  fs.appendFileSync(
    path.join(dir, 'raclette.toml'),
    `\n[realtime]\nadapter = "redis"\nurl = "redis://127.0.0.1:${port}"\nchannel = "raclette:browser:${port}"\n`,
  )
  const first = await startServer(dir, { RACLETTE_DEV_ACCOUNT: '1' }, database.url)
  const second = await startServer(dir, {}, database.url)
  cleanups.push(async () => {
    await first.stop()
    await second.stop()
    await stopChild(redis)
    database.drop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const a = await todoPage(first.url)
  const b = await todoPage(second.url)
  await seeEachOther(a, b, 'Written on the first server')
  await seeEachOther(b, a, 'Written on the second server')

  // Redis goes away; the first server still takes writes.
  await stopChild(redis)
  await a.widget.locator('input[data-todo-input]').fill('Written while Redis was down')
  await a.widget.locator('button[data-todo-add]').click()
  await item(a.widget, 'Written while Redis was down').waitFor()
  // Back again: the second page is told to resync and fetches what it missed.
  redis = await startRedis(port)
  await item(b.widget, 'Written while Redis was down').waitFor({ timeout: 30_000 })
  await seeEachOther(a, b, 'Written after Redis came back')

  assert.deepEqual(a.errors, [])
  assert.deepEqual(b.errors, [])
  await a.context.close()
  await b.context.close()
})
