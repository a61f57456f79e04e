// The example portal in headless Chromium: navigation, the todo widget
// against the real server, reload, locale switch, deep links, a disabled
// plugin, a throwing widget and a TypeScript error.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import { after, before, test } from 'node:test'

import { fixtureApp, launchBrowser, startServer } from './harness.mjs'

const todoWidget = 'div.raclette-widget[data-widget="plugin_pacifico__todo/todoList"]'
let dir
let server
let browser

before(async () => {
  dir = fixtureApp()
  server = await startServer(dir)
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await server?.stop()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

/** A new page in a fresh context (own localStorage), failing on page errors. */
async function open(path) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const consoleErrors = []
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text())
  })
  await page.goto(server.url + path)
  await page.waitForSelector('html[data-raclette-ready="true"]')
  return { page, context, consoleErrors }
}

async function todosOnServer() {
  const response = await fetch(`${server.url}/plugin/pacifico/todo/todo/all`)
  assert.equal(response.status, 200)
  return response.json()
}

test('navigate from / to the todo page, add, check off, reload, delete', async () => {
  const { page, context, consoleErrors } = await open('/')
  const nav = page.locator('nav a[data-raclette-nav]')
  assert.deepEqual((await nav.allTextContents()).sort(), ['Home', 'Mixed', 'Todos'])
  await nav.filter({ hasText: 'Todos' }).click()
  await page.waitForURL(`${server.url}/todo`)
  assert.equal(await page.locator('main h1').textContent(), 'Todos')
  const widget = page.locator(todoWidget)
  await widget.locator('.todo-status').filter({ hasText: /Nothing to do|open/ }).waitFor()

  await widget.locator('input[data-todo-input]').fill('Buy raclette cheese')
  await widget.locator('button[data-todo-add]').click()
  const item = widget.locator('li[data-todo-item]', { hasText: 'Buy raclette cheese' })
  await item.waitFor()
  const [saved] = (await todosOnServer()).filter((t) => t.name === 'Buy raclette cheese')
  assert.ok(saved, 'the todo reached the server')
  assert.equal(await item.getAttribute('data-todo-item'), saved._id)

  await item.locator('input[data-todo-check]').check()
  await page.waitForSelector(`li[data-todo-item="${saved._id}"].todo-done`)
  assert.equal((await todosOnServer()).find((t) => t._id === saved._id).isCompleted, true)

  await page.reload()
  await page.waitForSelector('html[data-raclette-ready="true"]')
  const again = page.locator(`${todoWidget} li[data-todo-item="${saved._id}"]`)
  await again.waitFor()
  assert.equal(await again.locator('input[data-todo-check]').isChecked(), true, 'still checked after reload')

  await again.locator('button[data-todo-delete]').click()
  await again.waitFor({ state: 'detached' })
  assert.ok(!(await todosOnServer()).some((t) => t._id === saved._id), 'soft-deleted todos leave /todo/all')
  // The shell, the runtime and the todo widget run under the server's
  // Content-Security-Policy without tripping it.
  const violations = consoleErrors.filter((line) => line.includes('Content Security Policy'))
  assert.deepEqual(violations, [], 'no Content-Security-Policy violation')
  await context.close()
})

test('switching to de shows German strings and survives a reload', async () => {
  const { page, context } = await open('/todo')
  const widget = page.locator(todoWidget)
  await widget.locator('button[data-todo-add]', { hasText: 'Add' }).waitFor()
  await page.selectOption('select[data-raclette-locale]', 'de')
  await widget.locator('button[data-todo-add]', { hasText: 'Hinzufügen' }).waitFor()
  assert.equal(await page.locator('main h1').textContent(), 'Aufgaben')
  assert.equal(await widget.locator('header.raclette-widget-title').textContent(), 'Aufgabenliste')
  assert.equal(await page.locator(`${todoWidget} input[data-todo-input]`).getAttribute('placeholder'), 'Was ist zu tun?')
  assert.ok((await page.locator('nav a[data-raclette-nav]').allTextContents()).includes('Aufgaben'))
  await page.reload()
  await page.locator(`${todoWidget} button[data-todo-add]`, { hasText: 'Hinzufügen' }).waitFor()
  assert.equal(await page.locator('select[data-raclette-locale]').inputValue(), 'de')
  await context.close()
})

test('a deep link loads its page directly, and back/forward routing works', async () => {
  const { page, context } = await open('/todo')
  await page.locator(todoWidget).waitFor()
  assert.equal(await page.title(), 'Todos · portal')
  await page.locator('a.raclette-brand').click()
  await page.waitForURL(`${server.url}/`)
  await page.locator('main h1', { hasText: 'Home' }).waitFor()
  await page.goBack()
  await page.locator(todoWidget).waitFor()
  assert.equal(new URL(page.url()).pathname, '/todo')
  await context.close()
})

test('the home page at / comes from the built-in raclette__home plugin', async () => {
  const { page, context } = await open('/')
  const home = page.locator('div[data-widget="plugin_raclette__home/home"]')
  assert.equal(await page.locator('main h1').textContent(), 'Home')
  // Its pages list links every other page; its plugin list comes from its
  // server half and marks the built-ins.
  const links = home.locator('ul.raclette-home-pages a')
  await links.first().waitFor()
  assert.deepEqual((await links.allTextContents()).sort(), ['Mixed', 'Todos'])
  const builtin = home.locator('li[data-home-plugin="plugin_raclette__home"]')
  await builtin.waitFor()
  assert.match(await builtin.textContent(), /raclette__home 0\.1\.0.*\(built in\)/)
  const todo = home.locator('li[data-home-plugin="plugin_pacifico__todo"]')
  assert.ok(!(await todo.textContent()).includes('built in'))
  await page.selectOption('select[data-raclette-locale]', 'de')
  await home.locator('h2', { hasText: 'Seiten' }).waitFor()
  await page.selectOption('select[data-raclette-locale]', 'en')
  await links.filter({ hasText: 'Todos' }).click()
  await page.waitForURL(`${server.url}/todo`)
  await page.locator(todoWidget).waitFor()
  await context.close()
})

test('a plugin disabled in raclette.toml has no page', async () => {
  const { page, context } = await open('/hidden')
  await page.locator('main h1', { hasText: 'Page not found' }).waitFor()
  const links = await page.locator('nav a[data-raclette-nav]').allTextContents()
  assert.ok(!links.includes('Hidden page'), `${links}`)
  await context.close()
})

test('a widget that throws shows an error box and its neighbours keep working', async () => {
  const { page, context } = await open('/mixed')
  const error = page.locator('div[data-widget="plugin_acme__mixed/boom"] div.raclette-widget-error[role=alert]')
  await error.waitFor()
  assert.match(await error.textContent(), /boom while mounting/)
  assert.equal(await page.locator('div[data-widget="plugin_acme__mixed/fine"] .fine-text').textContent(), 'configured text')

  const [first, second] = await page.locator(todoWidget).all()
  await first.locator('input[data-todo-input]').fill('Shared between widgets')
  await first.locator('button[data-todo-add]').click()
  await first.locator('li[data-todo-item]', { hasText: 'Shared between widgets' }).waitFor()
  const mirrored = second.locator('li[data-todo-item]', { hasText: 'Shared between widgets' })
  await mirrored.waitFor()
  // The second instance hides completed todos (its own config).
  await first.locator('li[data-todo-item]', { hasText: 'Shared between widgets' }).locator('input[data-todo-check]').check()
  await mirrored.waitFor({ state: 'detached' })
  await context.close()
})

test('a TypeScript error in a plugin is reported with file, line and column', async () => {
  const { page, context, consoleErrors } = await open('/')
  const box = page.locator('div.raclette-plugin-error[role=alert]', { hasText: 'plugin_acme__typo' })
  await box.waitFor()
  assert.match(await box.textContent(), /plugins\/acme__typo\/client\/index\.ts:2:7/)
  assert.ok(
    consoleErrors.some((line) => line.includes('plugins/acme__typo/client/index.ts:2:7')),
    `console errors: ${consoleErrors.join('\n')}`,
  )
  assert.match(server.output(), /plugins\/acme__typo\/client\/index\.ts:2:7/, 'and in the terminal')
  await context.close()
})
