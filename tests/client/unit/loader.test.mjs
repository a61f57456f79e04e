// Loading plugins: dependency order, install, API merging, widgets,
// disabled and failing plugins.

import assert from 'node:assert/strict'
import test from 'node:test'

import { client, fakeFetch, memoryStorage } from './runtime.mjs'

/** A `PluginListing` (crates/raclette-client/runtime/contract.ts) as the server sends it. */
function info(key, { enabled = true, entry = true, widgets = [] } = {}) {
  return {
    key,
    name: key,
    author: null,
    version: '1.0.0',
    description: '',
    enabled,
    builtin: false,
    dependencies: {},
    routePrefix: `/plugin/${key}`,
    routes: [],
    client: {
      entry: entry ? `/raclette/client/${key}/index.js` : null,
      configUrl: `/raclette/plugins/${key}/client-config`,
      widgets,
    },
  }
}

const config = (key) => ({ pluginKey: key, pluginName: key, author: null, routePrefix: `/plugin/${key}`, data: {} })

function runtimeWith(plugins, modules) {
  const routes = { 'GET /raclette/plugins': plugins }
  for (const p of plugins) routes[`GET /raclette/plugins/${p.key}/client-config`] = config(p.key)
  const { fetch } = fakeFetch(routes)
  const imported = []
  const importModule = async (url) => {
    imported.push(url)
    // Later plugins resolve first: install order must still follow the list.
    await new Promise((r) => setTimeout(r, modules[url]?.delay ?? 0))
    if (!(url in modules)) throw new Error(`no module ${url}`)
    if (modules[url].fails) throw new SyntaxError(modules[url].fails)
    return modules[url].module
  }
  return { rt: new client.Runtime({ fetch, importModule, storage: memoryStorage() }), imported }
}

test('install runs once per plugin in dependency order and its result joins the API', async () => {
  const order = []
  const def = (name, extra) =>
    client.defineRaclettePluginClient({
      install(api, core) {
        order.push(name)
        assert.equal(api.pluginKey, `plugin_${name}`)
        assert.equal(typeof core.usePluginApi, 'function')
        return extra?.(core)
      },
    })
  const { rt } = runtimeWith([info('plugin_base'), info('plugin_mid'), info('plugin_top')], {
    '/raclette/client/plugin_base/index.js': { delay: 30, module: { default: def('base', () => ({ greet: () => 'hi' })) } },
    '/raclette/client/plugin_mid/index.js': { delay: 10, module: { default: def('mid', (core) => ({ fromBase: core.usePluginApi('plugin_base').greet() })) } },
    '/raclette/client/plugin_top/index.js': { delay: 0, module: { default: def('top') } },
  })
  const loaded = await rt.load()
  assert.deepEqual(order, ['base', 'mid', 'top'])
  assert.deepEqual(loaded.map((p) => p.key), ['plugin_base', 'plugin_mid', 'plugin_top'])
  assert.equal(rt.usePluginApi('plugin_base').greet(), 'hi')
  assert.equal(rt.usePluginApi('plugin_mid').fromBase, 'hi', 'a dependant sees what its dependency installed')
})

test('disabled plugins are skipped and a failing plugin does not stop the others', async () => {
  const { rt, imported } = runtimeWith(
    [info('plugin_off', { enabled: false }), info('plugin_bad'), info('plugin_plain', { entry: false }), info('plugin_ok')],
    {
      '/raclette/client/plugin_bad/index.js': { fails: 'plugins/bad/client/index.ts:3:1: Unexpected token' },
      '/raclette/client/plugin_ok/index.js': {
        module: { default: { i18n: { en: { hello: 'Hello' } }, exportComponents: { Badge: 'badge-component' } } },
      },
    },
  )
  await rt.load()
  assert.deepEqual(rt.plugins().map((p) => p.key), ['plugin_plain', 'plugin_ok'])
  assert.ok(!imported.some((url) => url.includes('plugin_off')), 'nothing of a disabled plugin is fetched')
  assert.match(rt.failures.get('plugin_bad').message, /index\.ts:3:1/)
  assert.equal(rt.usePluginApi('plugin_ok').$i18n.t('hello'), 'Hello')
  assert.equal(rt.usePluginApi('plugin_plain').$components('plugin_ok', 'Badge'), 'badge-component')
  assert.throws(() => rt.usePluginApi('plugin_plain').$components('plugin_ok', 'Nope'), /exports no component "Nope"/)
  assert.throws(() => rt.usePluginApi('plugin_off'), /no loaded plugin "plugin_off" \(loaded: plugin_plain, plugin_ok\)/)
})

test('widgets come from the catalogue and from index.ts; pages carry their plugin', async () => {
  const mount = () => () => {}
  const { rt } = runtimeWith(
    [info('plugin_w', { widgets: [{ id: 'found', pluginKey: 'plugin_w', details: { title: 'Found' }, config: {}, module: '/raclette/client/plugin_w/widgets/found/FoundWidget.js' }] })],
    {
      '/raclette/client/plugin_w/index.js': {
        module: {
          default: {
            widgets: { declared: { details: { title: 'Declared' }, config: { n: { type: 'number', default: 2 } }, mount } },
            routes: [{ path: '/w', title: 'W', widget: { id: 'declared' } }],
          },
        },
      },
      '/raclette/client/plugin_w/widgets/found/FoundWidget.js': { module: { default: mount } },
    },
  )
  await rt.load()
  assert.equal(await rt.widget('plugin_w', 'declared').load(), mount)
  assert.equal(await rt.widget('plugin_w', 'found').load(), mount)
  assert.deepEqual(rt.widget('plugin_w', 'declared').config, { n: { type: 'number', default: 2 } })
  assert.deepEqual(rt.pages(), [{ path: '/w', title: 'W', widget: { id: 'declared' }, pluginKey: 'plugin_w' }])
})

test('$api sends credentials and the base URL; usePluginApi reaches the configured runtime', async () => {
  const { fetch, calls } = fakeFetch({
    'GET /raclette/plugins': [info('plugin_a', { entry: false })],
    'GET /raclette/plugins/plugin_a/client-config': config('plugin_a'),
    'POST /x': (body) => ({ status: 201, body: { echoed: body } }),
  })
  const rt = client.configureRuntime({ fetch, storage: memoryStorage() })
  await rt.load()
  const api = client.usePluginApi('plugin_a')
  assert.deepEqual(await api.$api.post('/x', { a: 1 }), { echoed: { a: 1 } })
  assert.equal(calls.at(-1).credentials, 'include')
  api.$store.set('count', 2)
  assert.equal(rt.store.get('plugin_a.count'), 2, 'a plugin store lives in its namespace')
})
