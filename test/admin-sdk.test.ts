import t from 'tap'
import { createTesseraClient, type AdminUser, type SecurityEventPage } from '../openapi/sdk/index.js'
import { buildApp } from '../src/app.js'
import { registerUser } from '../src/users/accounts.js'
import { PASSWORD, testConfig } from './helpers/app.js'

// The admin API and the event log over HTTP, driven only through the
// generated SDK (openapi/sdk/): its types come from the OpenAPI document.

t.test('admin routes and the event log through the generated SDK', async t => {
  const app = await buildApp(await testConfig(t))
  t.teardown(() => app.close())
  await registerUser(app.accounts, { username: 'staff', password: PASSWORD }, {}, { isStaff: true })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const client = createTesseraClient(url)

  const { data: pair } = await client.POST('/api/token/', { body: { username: 'staff', password: PASSWORD } })
  const headers = { Authorization: `Bearer ${pair!.access}` }

  const created = await client.POST('/api/admin/users/', { headers, body: { username: 'bob', password: 'violet-Otter-lantern-42', first_name: 'Bob' } })
  t.equal(created.response.status, 201)
  const bob: AdminUser = created.data!
  t.match(bob, { username: 'bob', first_name: 'Bob', is_active: true, is_staff: false })

  const listed = await client.GET('/api/admin/users/', { headers, params: { query: { username: 'bo', limit: '1' } } })
  t.same(listed.data?.results.map(user => user.id), [bob.id])
  t.equal(listed.data?.next, null)

  const updated = await client.PATCH('/api/admin/users/{id}/', { headers, params: { path: { id: String(bob.id) } }, body: { is_active: false } })
  t.equal(updated.data?.is_active, false)

  const refused = await client.GET('/api/admin/users/{id}/', { headers: { Authorization: 'Bearer nope' }, params: { path: { id: String(bob.id) } } })
  t.equal(refused.response.status, 401)

  const events = await client.GET('/api/admin/events/', { headers, params: { query: { user: String(bob.id) } } })
  const page: SecurityEventPage = events.data!
  t.same(page.results.map(event => event.type), ['user_deactivated', 'user_created'])
  const badCursor = await client.GET('/api/admin/events/', { headers, params: { query: { cursor: 'nope' } } })
  t.equal(badCursor.response.status, 400)
  t.same(badCursor.error, { detail: 'Invalid cursor' })

  const own = await client.GET('/api/users/me/events/', { headers })
  t.same(own.data?.results.map(event => event.type), ['login_succeeded'])
})
