// Event bus, global store, data store and i18n of the client runtime.

import assert from 'node:assert/strict'
import test from 'node:test'

import { client, memoryStorage } from './runtime.mjs'

test('the event bus delivers, unsubscribes and isolates failing handlers', () => {
  const bus = client.createEventBus()
  const heard = []
  const off = bus.on('saved', (payload) => heard.push(['a', payload]))
  bus.on('saved', () => {
    throw new Error('handler bug')
  })
  const b = (payload) => heard.push(['b', payload])
  bus.on('saved', b)
  bus.emit('saved', 1)
  off()
  bus.off('saved', b)
  bus.emit('saved', 2)
  bus.emit('other', 3)
  assert.deepEqual(heard, [
    ['a', 1],
    ['b', 1],
  ])
})

test('the global store sets nested paths and notifies parents and children', () => {
  const store = new client.GlobalStore()
  const todo = store.namespace('plugin_pacifico__todo')
  const seen = []
  store.subscribe('plugin_pacifico__todo', (v) => seen.push(['plugin', structuredClone(v)]))
  todo.subscribe('filter.text', (v) => seen.push(['text', v]))
  todo.set('filter.text', 'milk')
  todo.set('filter', { text: 'bread' })
  store.set('other.x', 1)
  assert.equal(store.get('plugin_pacifico__todo.filter.text'), 'bread')
  assert.equal(todo.get('filter.text'), 'bread')
  assert.equal(store.get('missing.path'), undefined)
  assert.deepEqual(seen, [
    ['plugin', { filter: { text: 'milk' } }],
    ['text', 'milk'],
    ['plugin', { filter: { text: 'bread' } }],
    ['text', 'bread'],
  ])
  assert.throws(() => store.set('', 1), /needs a path/)
})

test('the data store merges by operation kind', () => {
  const store = new client.DataStore()
  let changes = 0
  store.subscribe('todo', () => changes++)
  store.merge('todo', 'read', '_id', [
    { _id: 'a', name: 'A', done: false },
    { _id: 'b', name: 'B', done: false },
  ])
  store.merge('todo', 'create', '_id', { _id: 'c', name: 'C' })
  store.merge('todo', 'update', '_id', { _id: 'a', done: true })
  assert.deepEqual(store.get('todo', 'a'), { _id: 'a', name: 'A', done: true })
  store.merge('todo', 'delete', '_id', { _id: 'b', isDeleted: true })
  store.merge('todo', 'deleteHard', '_id', null, { _id: 'c' })
  assert.deepEqual(
    store.list('todo').map((t) => t._id),
    ['a'],
  )
  assert.equal(changes, 5)
  store.merge('todo', 'read', '_id', [{ name: 'no id' }])
  assert.equal(changes, 5, 'items without an id are not stored')
})

test('i18n looks up nested keys, falls back to en and to the key, and switches locale', () => {
  const storage = memoryStorage()
  const hub = new client.I18nHub(storage)
  hub.register('p', {
    en: { todo: { add: 'Add', open: '{{count}} open' }, only: { en: 'English only' } },
    de: { todo: { add: 'Hinzufügen', open: '{{count}} offen' } },
  })
  hub.register('q', { en: { todo: { add: 'Q add' } } })
  const t = hub.forPlugin('p')
  assert.equal(t.locale, 'en')
  assert.equal(t.t('todo.add'), 'Add')
  assert.equal(t.t('todo.open', { count: 3 }), '3 open')
  const heard = []
  t.subscribe((locale) => heard.push(locale))
  t.setLocale('de')
  assert.deepEqual(heard, ['de'])
  assert.equal(t.t('todo.add'), 'Hinzufügen')
  assert.equal(t.t('todo.open', { count: 2 }), '2 offen')
  assert.equal(t.t('only.en'), 'English only', 'falls back to en')
  assert.equal(t.t('todo.missing'), 'todo.missing', 'falls back to the key')
  assert.equal(hub.translate('q', 'todo.add'), 'Q add', 'plugins keep their own strings')
  assert.equal(hub.translateOr('p', 'page.title', 'Default'), 'Default', 'translateOr falls back to its argument')
  assert.equal(hub.translateOr('p', 'todo.add', 'Default'), 'Hinzufügen')
  assert.deepEqual(hub.locales, ['en', 'de'])
  assert.equal(storage.items.get('raclette.locale'), 'de')
  assert.equal(new client.I18nHub(storage).locale, 'de', 'the choice is remembered')
})
