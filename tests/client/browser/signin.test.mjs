// Signing in to the example portal as it ships (authentication required)
// in headless Chromium: a deep link leads to the sign-in page and back,
// todos stay in their project, signing out locks the pages again.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import { after, before, test } from 'node:test'

import { launchBrowser, signInApp, startServer } from './harness.mjs'

const todoWidget = 'div.raclette-widget[data-widget="plugin_pacifico__todo/todoList"]'
// The development account the core plugin creates on an empty database
// when the server runs under `raclette dev` (see the README).
const DEV = { email: 'dev@example.com', password: 'raclette-dev' }
let dir
let server
let browser

before(async () => {
  dir = signInApp()
  server = await startServer(dir, { RACLETTE_DEV_ACCOUNT: '1' })
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await server?.stop()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

test('anonymous requests are refused by the server itself', async () => {
  const response = await fetch(`${server.url}/plugin/pacifico/todo/todo/all`)
  assert.equal(response.status, 401)
  assert.match(response.headers.get('www-authenticate') ?? '', /Bearer/)
})

test('deep link, sign in, add todos, switch project, sign out', async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  const pageErrors = []
  page.on('pageerror', (error) => pageErrors.push(error.message))

  // A deep link while signed out: the page's 401 leads to the sign-in page.
  await page.goto(`${server.url}/todo`)
  await page.waitForURL(`${server.url}/signin?next=%2Ftodo`)
  const form = page.locator('form[data-raclette-sign-in-form]')
  await form.waitFor()

  await form.locator('input[name=email]').fill(DEV.email)
  await form.locator('input[name=password]').fill('not the password')
  await form.locator('button[type=submit]').click()
  await form.locator('[role=alert]').filter({ hasText: 'wrong email or password' }).waitFor()

  await form.locator('input[name=password]').fill(DEV.password)
  await form.locator('button[type=submit]').click()
  // …and back to the page asked for.
  await page.waitForURL(`${server.url}/todo`)
  assert.equal(await page.locator('[data-raclette-user]').textContent(), 'Developer')

  const widget = page.locator(todoWidget)
  await widget.locator('.todo-status').waitFor()
  await widget.locator('input[data-todo-input]').fill('Only in the default project')
  await widget.locator('button[data-todo-add]').click()
  await widget.locator('li[data-todo-item]', { hasText: 'Only in the default project' }).waitFor()

  // A second project, made through the core plugin's data API from the page.
  const created = await page.evaluate(async () => {
    const { usePluginApi } = await import('@raclette/client')
    const api = usePluginApi('plugin_pacifico__todo')
    const project = await api.$api.post('/plugin/raclette/core/project', { name: 'Second' })
    await api.$session.refresh()
    return project
  })
  assert.equal(created.name, 'Second')
  const projects = page.locator('select[data-raclette-project]')
  await projects.locator('option', { hasText: 'Second' }).waitFor({ state: 'attached' })

  await projects.selectOption({ label: 'Second' })
  await widget.locator('.todo-status').filter({ hasText: 'Nothing to do' }).waitFor()
  assert.equal(await widget.locator('li[data-todo-item]').count(), 0, 'no todo of the first project shows')
  await widget.locator('input[data-todo-input]').fill('Only in the second project')
  await widget.locator('button[data-todo-add]').click()
  await widget.locator('li[data-todo-item]', { hasText: 'Only in the second project' }).waitFor()

  await projects.selectOption({ label: 'Default' })
  await widget.locator('li[data-todo-item]', { hasText: 'Only in the default project' }).waitFor()
  assert.equal(await widget.locator('li[data-todo-item]', { hasText: 'second project' }).count(), 0)

  // The project survives a reload: it is remembered in the session.
  await projects.selectOption({ label: 'Second' })
  await widget.locator('li[data-todo-item]', { hasText: 'Only in the second project' }).waitFor()
  await page.reload()
  await page.waitForSelector('html[data-raclette-ready="true"]')
  await page.locator(todoWidget).locator('li[data-todo-item]', { hasText: 'Only in the second project' }).waitFor()

  await page.locator('button[data-raclette-sign-out]').click()
  await page.waitForURL(`${server.url}/signin`)
  await page.goto(`${server.url}/todo`)
  await page.waitForURL(`${server.url}/signin?next=%2Ftodo`)
  assert.deepEqual(pageErrors, [])
  await context.close()
})

test('the API reference page lists the todo routes from the binary', async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  const pageErrors = []
  page.on('pageerror', (error) => pageErrors.push(error.message))
  const outside = []
  page.on('request', (request) => {
    if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) outside.push(request.url())
  })

  await page.goto(`${server.url}/raclette/docs`)
  await page.waitForURL(`${server.url}/raclette/docs/`)
  // Swagger UI renders one block per operation, grouped by plugin.
  const getAll = page.locator('.opblock-get', { hasText: '/plugin/pacifico/todo/todo/all' })
  await getAll.waitFor()
  await getAll.locator('.opblock-summary').first().click()
  await getAll.locator('.parameters').getByText('limit', { exact: true }).waitFor()
  await page.locator('.opblock-post', { hasText: '/plugin/raclette/core/session' }).first().waitFor()
  assert.deepEqual(outside, [], 'nothing is fetched from outside the app')
  assert.deepEqual(pageErrors, [])
  await context.close()
})
