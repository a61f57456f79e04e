// `$socket` and live data: messages on a type's channels merge into the
// store, live reads are fetched again after a reconnect or a resync, the
// connection follows the session, and the vendored socket.io client is the
// npm package's file.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import test from 'node:test'

import { client, fakeFetch, todoBase as base, todoChannels as channel } from './runtime.mjs'

const todoTypes = {
  todo: {
    type: 'todo',
    idKey: '_id',
    operations: {
      getAll: { target: `${base}/all`, method: 'get', kind: 'read', channels: [] },
      create: { target: base, method: 'post', kind: 'create', channels: channel('todoCreated') },
      update: { target: `${base}/:_id`, method: 'patch', kind: 'update', channels: channel('todoUpdated') },
      delete: { target: `${base}/:_id`, method: 'delete', kind: 'delete', channels: channel('todoDeleted') },
    },
  },
}

/** A socket.io client socket that the test drives by hand. */
function fakeSocket() {
  const handlers = new Map()
  const any = new Set()
  const socket = {
    connected: false,
    emitted: [],
    disconnects: 0,
    connects: 0,
    options: null,
    on(event, fn) {
      if (!handlers.has(event)) handlers.set(event, new Set())
      handlers.get(event).add(fn)
      return socket
    },
    onAny(fn) {
      any.add(fn)
    },
    offAny() {
      any.clear()
    },
    removeAllListeners() {
      handlers.clear()
    },
    emit(event, ...args) {
      socket.emitted.push([event, ...args])
    },
    connect() {
      socket.connects += 1
    },
    disconnect() {
      socket.disconnects += 1
      socket.connected = false
    },
    /** The server side: a connection event, or an event from the server. */
    fire(event, ...args) {
      if (event === 'connect') socket.connected = true
      if (event === 'disconnect') socket.connected = false
      for (const fn of handlers.get(event) ?? []) fn(...args)
      if (!['connect', 'disconnect', 'connect_error'].includes(event)) for (const fn of any) fn(event, ...args)
    },
  }
  return socket
}

function setup(routes) {
  const { fetch, calls } = fakeFetch(routes)
  const sockets = []
  const realtime = new client.Realtime('http://portal.test', (url, options) => {
    const socket = fakeSocket()
    socket.url = url
    socket.options = options
    sockets.push(socket)
    return socket
  })
  const api = client.createApi('http://portal.test', () => fetch)
  const store = new client.DataStore()
  const $data = client.createDataApi(
    { api, store, bus: client.createEventBus(), cache: new Map(), realtime },
    'plugin_pacifico__todo',
    todoTypes,
  )
  return { $data, calls, realtime, sockets }
}

test('writes of other pages arrive on the channels and update live reads', async () => {
  const { $data, realtime, sockets } = setup({
    [`GET http://portal.test${base}/all`]: [{ _id: 'a', name: 'Milk', isCompleted: false }],
  })
  await realtime.start()
  const [socket] = sockets
  assert.equal(socket.url, 'http://portal.test')
  assert.equal(socket.options.path, client.SOCKET_PATH)
  assert.deepEqual(socket.options.transports, ['websocket'])
  const states = []
  realtime.onState((state) => states.push(state))
  socket.fire('connect')
  assert.equal(realtime.state, 'connected')

  const list = $data.todo.getAll()
  let renders = 0
  list.subscribe(() => renders++)
  await list.execute()
  const message = (event, items) => ({
    channelKey: `plugin_pacifico__todo--${event}`,
    pluginKey: 'plugin_pacifico__todo',
    event,
    project: 'default',
    items,
  })
  socket.fire('plugin_pacifico__todo--todoCreated', message('todoCreated', [{ _id: 'b', name: 'Bread', isCompleted: false }]))
  assert.deepEqual(list.dataArr.map((t) => t.name), ['Milk', 'Bread'])
  socket.fire('plugin_pacifico__todo--todoUpdated', message('todoUpdated', [{ _id: 'a', isCompleted: true }]))
  assert.equal(list.dataArr[0].isCompleted, true)
  assert.equal(list.dataArr[0].name, 'Milk', 'an update merges into the item')
  socket.fire('plugin_pacifico__todo--todoDeleted', message('todoDeleted', [{ _id: 'b', isDeleted: true }]))
  assert.deepEqual(list.dataArr.map((t) => t._id), ['a'])
  assert.ok(renders >= 5, 'subscribers heard every message')

  // $socket: channel listeners, unsubscribe, emit.
  const heard = []
  const off = realtime.on('plugin_pacifico__todo--todoCreated', (m) => heard.push(m.items[0]._id))
  socket.fire('plugin_pacifico__todo--todoCreated', message('todoCreated', [{ _id: 'c', name: 'Cheese' }]))
  off()
  socket.fire('plugin_pacifico__todo--todoCreated', message('todoCreated', [{ _id: 'd', name: 'Dates' }]))
  assert.deepEqual(heard, ['c'])
  realtime.on('x--y', () => {
    throw new Error('a failing listener')
  })
  const after = []
  realtime.on('x--y', () => after.push(1))
  const errors = console.error
  console.error = () => {}
  socket.fire('x--y', message('y', []))
  console.error = errors
  assert.deepEqual(after, [1], 'a failing listener does not stop the others')
  realtime.emit('hello', { a: 1 })
  assert.deepEqual(socket.emitted, [['hello', { a: 1 }]])
  realtime.emit('bare')
  assert.deepEqual(socket.emitted.at(-1), ['bare', null])
  assert.deepEqual(states, ['connected'])
})

test('a reconnect or a resync fetches live reads again', async () => {
  let served = [{ _id: 'a', name: 'Milk' }]
  const { $data, calls, realtime, sockets } = setup({
    [`GET http://portal.test${base}/all`]: () => ({ status: 200, body: served }),
  })
  await realtime.start()
  const [socket] = sockets
  socket.fire('connect')
  const list = $data.todo.getAll()
  const off = list.subscribe(() => {})
  const unwatched = $data.todo.getAll()
  await list.execute()
  await unwatched.execute()
  assert.equal(calls.length, 2)

  // Written while this page was away:
  served = [{ _id: 'a', name: 'Milk' }, { _id: 'b', name: 'Missed bread' }]
  socket.fire('disconnect', 'transport close')
  assert.equal(realtime.state, 'disconnected')
  socket.fire('connect')
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(calls.length, 3, 'only the read with subscribers is fetched again')
  assert.deepEqual(list.dataArr.map((t) => t.name), ['Milk', 'Missed bread'])

  socket.fire(client.RESYNC_EVENT)
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(calls.length, 4, 'the server asked for a resync')

  off()
  socket.fire(client.RESYNC_EVENT)
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(calls.length, 4, 'a read nobody watches is left alone')

  // The server ending the socket: a new connection, authenticated anew,
  // and live reads fetched again once it is up.
  socket.fire('disconnect', 'io server disconnect')
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(sockets.length, 2, 'a new connection')
  assert.equal(socket.disconnects, 1, 'the old one is closed')
  assert.equal(sockets[1].options.forceNew, true)
  const watched = list.subscribe(() => {})
  sockets[1].fire('connect')
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(calls.length, 5, 'fetched again after the new connection')
  watched()
})

test('a plugin\'s $socket.off(channel) removes its own listeners only', async () => {
  const { $data, realtime, sockets } = setup({
    [`GET http://portal.test${base}/all`]: [],
  })
  await realtime.start()
  sockets[0].fire('connect')
  const list = $data.todo.getAll()
  list.subscribe(() => {})
  await list.execute()
  const mine = new client.PluginSocket(realtime)
  const theirs = new client.PluginSocket(realtime)
  const heard = { mine: 0, theirs: 0 }
  mine.on('plugin_pacifico__todo--todoCreated', () => heard.mine++)
  theirs.on('plugin_pacifico__todo--todoCreated', () => heard.theirs++)
  mine.off('plugin_pacifico__todo--todoCreated')
  sockets[0].fire('plugin_pacifico__todo--todoCreated', {
    channelKey: 'plugin_pacifico__todo--todoCreated',
    pluginKey: 'plugin_pacifico__todo',
    event: 'todoCreated',
    project: 'default',
    items: [{ _id: 'x', name: 'Still live' }],
  })
  assert.deepEqual(heard, { mine: 0, theirs: 1 })
  assert.deepEqual(list.dataArr.map((t) => t.name), ['Still live'], 'the live read still follows the channel')

  // A short name can never match a channel: the console says so.
  const warned = []
  const warn = console.warn
  console.warn = (...args) => warned.push(args.join(' '))
  try {
    mine.on('todoCreated', () => {})
  } finally {
    console.warn = warn
  }
  assert.equal(warned.length, 1)
  assert.match(warned[0], /plugin_acme__chat--todoCreated/)
})

test('the connection follows the session and needs the realtime plugin', async () => {
  const session = { user: null, project: 'default', projects: [], csrfToken: null }
  const listing = (enabled) => [
    { key: 'plugin_raclette__realtime', enabled, client: null },
    { key: 'plugin_raclette__core', enabled: true, client: null },
  ]
  for (const enabled of [true, false]) {
    const { fetch } = fakeFetch({
      'GET http://portal.test/raclette/plugins': listing(enabled),
      'GET http://portal.test/plugin/raclette/core/session': () => ({ status: 200, body: session }),
      'PUT http://portal.test/plugin/raclette/core/session/project': (body) => ({
        status: 200,
        body: { ...session, user: { _id: 'u1' }, project: body.project },
      }),
      'DELETE http://portal.test/plugin/raclette/core/session': {},
    })
    const sockets = []
    const runtime = new client.Runtime({
      baseUrl: 'http://portal.test',
      fetch,
      socketFactory: () => {
        const socket = fakeSocket()
        sockets.push(socket)
        return socket
      },
    })
    await runtime.load()
    assert.equal(sockets.length, 0, 'nobody is signed in: no connection')
    await runtime.session.switchProject('beta')
    await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(sockets.length, enabled ? 1 : 0, `signed in, realtime ${enabled ? 'on' : 'off'}`)
    if (!enabled) continue
    await runtime.session.switchProject('gamma')
    await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(sockets.length, 2, 'a project switch connects again')
    assert.equal(sockets[0].disconnects, 1)
    await runtime.session.signOut()
    assert.equal(sockets[1].disconnects, 1, 'signing out disconnects')
    assert.equal(runtime.realtime.state, 'off')
  }
})

test('the vendored socket.io client is the browser build of the pinned npm package', () => {
  const repo = path.resolve(import.meta.dirname, '../../..')
  const vendored = fs.readFileSync(path.join(repo, 'crates/raclette-client/runtime/socket.io.esm.min.js'), 'utf8')
  const npm = fs
    .readFileSync(path.join(repo, 'node_modules/socket.io-client/dist/socket.io.esm.min.js'), 'utf8')
    .replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n')
  const pinned = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).devDependencies['socket.io-client']
  assert.ok(vendored.includes(`Socket.IO v${pinned}`), `the vendored file is socket.io-client ${pinned}`)
  assert.equal(vendored, npm)
})
