// The generated data API: requests built from the client config, results
// merged into the shared store, live lists, cache, errors and events.

import assert from 'node:assert/strict'
import test from 'node:test'

import { client, fakeFetch, todoBase as base, todoChannels as channel } from './runtime.mjs'

const todoTypes = {
  todo: {
    type: 'todo',
    idKey: '_id',
    operations: {
      getAll: { target: `${base}/all`, method: 'get', kind: 'read', channels: [] },
      get: { target: `${base}/:_id`, method: 'get', kind: 'read', channels: [] },
      create: { target: base, method: 'post', kind: 'create', channels: channel('todoCreated') },
      updateCheckTask: { target: `${base}/checkTask/:_id`, method: 'patch', kind: 'update', channels: channel('todoUpdated') },
      delete: { target: `${base}/:_id`, method: 'delete', kind: 'delete', channels: channel('todoDeleted') },
    },
  },
}

function setup(routes) {
  const { fetch, calls } = fakeFetch(routes)
  const api = client.createApi('http://portal.test', () => fetch)
  const store = new client.DataStore()
  const bus = client.createEventBus()
  const $data = client.createDataApi({ api, store, bus, cache: new Map() }, 'plugin_pacifico__todo', todoTypes)
  return { $data, calls, store, bus }
}

test('buildRequest fills placeholders, puts the rest in the query or the body', () => {
  const get = todoTypes.todo.operations.get
  assert.deepEqual(client.buildRequest(get, { _id: 'a b', full: true }), {
    method: 'get',
    url: `${base}/a%20b?full=true`,
    body: undefined,
  })
  assert.deepEqual(client.buildRequest(todoTypes.todo.operations.updateCheckTask, { _id: 'x', isCompleted: true }), {
    method: 'patch',
    url: `${base}/checkTask/x`,
    body: { isCompleted: true },
  })
  assert.throws(() => client.buildRequest(get, {}), /missing param "_id" for GET \/plugin\/pacifico\/todo\/todo\/:_id/)
})

test('reads and writes share the store: a live list follows every write', async () => {
  const todos = [
    { _id: 'a', name: 'Milk', isCompleted: false },
    { _id: 'b', name: 'Bread', isCompleted: false },
  ]
  const { $data, calls, bus } = setup({
    [`GET http://portal.test${base}/all`]: todos,
    [`POST http://portal.test${base}`]: (body) => ({ status: 201, body: { _id: 'c', isCompleted: false, ...body } }),
    [`PATCH http://portal.test${base}/checkTask/a`]: (body) => ({ status: 200, body: { ...todos[0], ...body } }),
    [`DELETE http://portal.test${base}/b`]: { ...todos[1], isDeleted: true },
  })
  const events = []
  bus.on('plugin_pacifico__todo--todoCreated', (todo) => events.push(['created', todo._id]))
  bus.on('plugin_pacifico__todo--todoDeleted', (todo) => events.push(['deleted', todo._id]))

  const list = $data.todo.getAll()
  const other = $data.todo.getAll({ options: { useCache: true } })
  const states = []
  list.subscribe((s) => states.push(s.isLoading))
  assert.equal(list.isLoading, false)
  assert.deepEqual(list.dataArr, [])
  const { result, response } = await list.execute()
  assert.equal(response.status, 200)
  assert.deepEqual(result, todos)
  assert.deepEqual(states.slice(0, 2), [true, false])
  assert.deepEqual(list.dataArr.map((t) => t.name), ['Milk', 'Bread'])
  await other.execute()
  assert.equal(calls.length, 1, 'the second reader was answered from the cache')

  const create = $data.todo.create()
  const created = await create.execute({ name: 'Eggs' })
  assert.equal(created.response.status, 201)
  assert.equal(create.data.name, 'Eggs')
  assert.deepEqual(calls.at(-1), { method: 'POST', url: `http://portal.test${base}`, body: { name: 'Eggs' }, credentials: 'include' })
  assert.deepEqual(list.dataArr.map((t) => t.name), ['Milk', 'Bread', 'Eggs'], 'the list shows the created todo')
  assert.deepEqual(other.dataArr.map((t) => t.name), ['Milk', 'Bread', 'Eggs'], 'so does every other reader')

  await $data.todo.updateCheckTask().execute({ _id: 'a', isCompleted: true })
  assert.equal(list.dataArr[0].isCompleted, true, 'updates merge into the shared item')

  await $data.todo.delete({ params: { _id: 'b' } }).execute()
  assert.deepEqual(list.dataArr.map((t) => t._id), ['a', 'c'], 'a soft-deleted todo leaves the list')
  assert.deepEqual(events, [
    ['created', 'c'],
    ['deleted', 'b'],
  ])
  assert.ok(states.length >= 5, 'subscribers heard the writes of other operations')
})

test('each list read follows its own items, plus items created after it', async () => {
  const milk = { _id: 'a', name: 'Milk', tags: ['shop'] }
  const bread = { _id: 'b', name: 'Bread', tags: [] }
  const { $data } = setup({
    [`GET http://portal.test${base}/all`]: [milk, bread],
    [`GET http://portal.test${base}/all?tag=shop`]: [milk],
    [`POST http://portal.test${base}`]: (body) => ({ status: 201, body: { _id: 'c', ...body } }),
    [`DELETE http://portal.test${base}/a`]: { ...milk, isDeleted: true },
  })
  const everything = $data.todo.getAll()
  const shopping = $data.todo.getAll({ params: { tag: 'shop' } })
  await everything.execute()
  await shopping.execute()
  assert.deepEqual(shopping.dataArr.map((t) => t._id), ['a'], 'a filtered read shows only what it returned')
  assert.deepEqual(everything.dataArr.map((t) => t._id), ['a', 'b'])
  await $data.todo.create().execute({ name: 'Cheese' })
  assert.deepEqual(everything.dataArr.map((t) => t._id), ['a', 'b', 'c'])
  assert.deepEqual(shopping.dataArr.map((t) => t._id), ['a', 'c'], 'created items join every list until it is read again')
  await $data.todo.delete().execute({ _id: 'a' })
  assert.deepEqual(shopping.dataArr.map((t) => t._id), ['c'])
  await shopping.execute()
  assert.deepEqual(shopping.dataArr.map((t) => t._id), ['a'], 'a new read starts from its own result')
})

test('a read answered after writes does not undo them, and the latest read wins', async () => {
  const milk = { _id: 'a', name: 'Milk', isCompleted: false, version: 1 }
  const bread = { _id: 'b', name: 'Bread', isCompleted: false, version: 1 }
  const answers = []
  const { $data } = setup({
    [`GET http://portal.test${base}/all`]: () => new Promise((resolve) => answers.push(resolve)),
    [`POST http://portal.test${base}`]: (body) => ({ status: 201, body: { _id: 'c', isCompleted: false, version: 1, ...body } }),
    [`PATCH http://portal.test${base}/checkTask/a`]: { ...milk, isCompleted: true, version: 2 },
    [`DELETE http://portal.test${base}/b`]: { ...bread, isDeleted: true, version: 2 },
  })
  const answered = async (count) => {
    while (answers.length < count) await new Promise((resolve) => setTimeout(resolve, 1))
  }
  const list = $data.todo.getAll()
  const reading = list.execute()
  await answered(1)
  // While the list is on its way: a todo is created, one checked off, one deleted.
  await $data.todo.create().execute({ name: 'Eggs' })
  await $data.todo.updateCheckTask().execute({ _id: 'a', isCompleted: true })
  await $data.todo.delete().execute({ _id: 'b' })
  answers[0]({ status: 200, body: [milk, bread] })
  await reading
  assert.deepEqual(list.dataArr.map((t) => t._id), ['a', 'c'], 'the created todo stays, the deleted one stays away')
  assert.equal(list.dataArr[0].isCompleted, true, 'an older version does not replace a newer one')

  // Two reads in flight, answered out of order: the later one is shown.
  const first = list.execute()
  const second = list.execute()
  await answered(3)
  answers[2]({ status: 200, body: [{ ...milk, isCompleted: true, version: 2 }] })
  await second
  answers[1]({ status: 200, body: [{ ...milk, isCompleted: true, version: 2 }, { ...bread, version: 1 }] })
  await first
  assert.deepEqual(list.dataArr.map((t) => t._id), ['a'], 'the answer of the earlier read is not shown')
  assert.equal(list.isLoading, false)
})

test('immediate runs at once and calls cb; useCache answers repeated reads locally', async () => {
  const { $data, calls } = setup({ [`GET http://portal.test${base}/all`]: [{ _id: 'a', name: 'Milk' }] })
  let resolve
  const promise = new Promise((r) => (resolve = r))
  const first = $data.todo.getAll({ options: { immediate: true, cb: (result) => resolve(result) } })
  assert.equal(first.isLoading, true)
  assert.deepEqual(await promise, [{ _id: 'a', name: 'Milk' }])
  const cached = $data.todo.getAll({ options: { useCache: true } })
  const { response, result } = await cached.execute()
  assert.equal(response, null, 'answered from the cache')
  assert.deepEqual(result, [{ _id: 'a', name: 'Milk' }])
  assert.equal(calls.length, 1)
  await $data.todo.getAll().execute()
  assert.equal(calls.length, 2, 'without useCache the network is asked')
})

test('useStore: false keeps results out of the shared store', async () => {
  const { $data, store } = setup({ [`GET http://portal.test${base}/all`]: [{ _id: 'a', name: 'Milk' }] })
  const op = $data.todo.getAll({ options: { useStore: false } })
  await op.execute()
  assert.deepEqual(op.dataArr, [{ _id: 'a', name: 'Milk' }])
  assert.deepEqual(store.list('todo'), [])
})

test('a failing request sets error with the server message and rejects execute', async () => {
  const { $data } = setup({
    [`POST http://portal.test${base}`]: () => ({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', message: 'body.name: must not be empty', field: 'name' },
    }),
  })
  const create = $data.todo.create()
  await assert.rejects(create.execute({ name: '' }), (error) => {
    assert.equal(error.name, 'ApiError')
    assert.equal(error.status, 400)
    assert.equal(error.body.field, 'name')
    return true
  })
  assert.equal(create.error.message, 'body.name: must not be empty')
  assert.equal(create.isLoading, false)
})

test('data declared in index.ts adds to and overrides the generated config', () => {
  const merged = client.mergeDataConfig(todoTypes, {
    todo: { operations: { getAll: { target: '/custom/all', method: 'get', kind: 'read' } } },
    note: { operations: { list: { target: '/notes', method: 'get', kind: 'read' } } },
  })
  assert.equal(merged.todo.operations.getAll.target, '/custom/all')
  assert.equal(merged.todo.operations.create.target, base, 'the rest stays')
  assert.equal(merged.note.idKey, '_id')
  assert.equal(merged.note.operations.list.target, '/notes')
  assert.equal(todoTypes.todo.operations.getAll.target, `${base}/all`, 'the generated config is not changed')
})
