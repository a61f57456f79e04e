// The runtime's session: the CSRF token on writes only, 401 answers lead to
// the sign-in page except for the session's own requests, and where a
// sign-in may lead back to.

import assert from 'node:assert/strict'
import test from 'node:test'

import { client } from './runtime.mjs'

/** A fetch that records requests and answers from `answer(url, init)`. */
function recordingFetch(answer) {
  const requests = []
  const fetch = async (url, init = {}) => {
    const headers = new Headers(init.headers)
    requests.push({ url, method: init.method ?? 'GET', csrf: headers.get('x-csrf-token') })
    const [status, body] = answer(url, init)
    return new Response(body === undefined ? '' : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    })
  }
  return { fetch, requests }
}

const signedIn = {
  user: { _id: 'u1', email: 'ada@example.com', displayName: 'Ada', isAdmin: false, roles: ['owner'], permissions: [] },
  project: 'default',
  projects: [{ _id: 'default', name: 'Default', role: 'owner' }],
  csrfToken: 'token-1',
}

test('writes carry the session CSRF token, reads do not', async () => {
  const { fetch, requests } = recordingFetch((url) => (url.endsWith('/session') ? [200, signedIn] : [200, {}]))
  const rt = new client.Runtime({ fetch })
  await rt.session.refresh()
  assert.equal(rt.session.user.displayName, 'Ada')
  await rt.api.get('/plugin/pacifico/todo/todo/all')
  await rt.api.post('/plugin/pacifico/todo/todo', { name: 'x' })
  await rt.api.delete('/plugin/pacifico/todo/todo/1')
  assert.deepEqual(
    requests.slice(1).map((r) => [r.method, r.csrf]),
    [
      ['GET', null],
      ['POST', 'token-1'],
      ['DELETE', 'token-1'],
    ],
  )
})

test('a 401 leads to sign-in, except for the session requests themselves', async () => {
  const { fetch } = recordingFetch(() => [401, { statusCode: 401, error: 'Unauthorized', message: 'sign in first' }])
  const seen = []
  const rt = new client.Runtime({ fetch, onUnauthorized: (path) => seen.push(path) })
  await assert.rejects(rt.api.get('/plugin/pacifico/todo/todo/all'), (e) => e.status === 401)
  await assert.rejects(rt.session.signIn('ada@example.com', 'wrong'), (e) => e.message === 'sign in first')
  assert.deepEqual(seen, ['/plugin/pacifico/todo/todo/all'])
})

test('an app without the core plugin has no session', async () => {
  const { fetch } = recordingFetch(() => [404, { statusCode: 404, error: 'Not Found', message: 'no route' }])
  const rt = new client.Runtime({ fetch })
  assert.equal(await rt.session.refresh(), null)
  assert.equal(rt.session.available, false)
})

test('after signing in, only paths of this app are followed', () => {
  assert.equal(client.signInUrl('/todo?x=1'), '/signin?next=%2Ftodo%3Fx%3D1')
  assert.equal(client.afterSignIn('?next=%2Ftodo%3Fx%3D1'), '/todo?x=1')
  assert.equal(client.afterSignIn('?next=https%3A%2F%2Fevil.example'), '/')
  assert.equal(client.afterSignIn('?next=%2F%2Fevil.example'), '/')
  assert.equal(client.afterSignIn('?next=%2Fsignin'), '/')
  assert.equal(client.afterSignIn(''), '/')
})
