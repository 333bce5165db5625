import type { FastifyInstance, InjectOptions } from 'fastify'
import t from 'tap'
import { registerUser as createAccount } from '../src/users/accounts.js'
import { buildTestApp, get, obtainPair, PASSWORD, post, registerUser } from './helpers/app.js'

// The admin API: who may call it (the permission matrix), what each route
// does, and that access-affecting changes end sessions at once.

const DENIED = '{"detail":"You do not have permission to perform this action."}'
const NOT_PROVIDED = '{"detail":"Authentication credentials were not provided."}'
const NEW_PASSWORD = 'violet-Otter-lantern-42'

async function account (app: FastifyInstance, username: string, flags: { isStaff?: boolean, isSuperuser?: boolean } = {}): Promise<{ id: number, access: string, refresh: string }> {
  const user = await createAccount(app.accounts, { username, email: `${username}@example.com`, password: PASSWORD }, {}, flags)
  return { id: user.id, ...await obtainPair(app, username) }
}

const call = (app: FastifyInstance, method: InjectOptions['method'], url: string, access: string | null, payload?: unknown) =>
  app.inject({
    method,
    url,
    headers: access === null ? {} : { authorization: `Bearer ${access}` },
    ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] })
  })

t.test('permission matrix: anonymous 401, user 403 with DRF\'s body, staff and superuser allowed, on every admin route', async t => {
  const app = await buildTestApp(t)
  const user = await account(app, 'plain')
  const staff = await account(app, 'staff', { isStaff: true })
  const superuser = await account(app, 'root', { isStaff: true, isSuperuser: true })
  let n = 0
  const target = async () => (await account(app, `target${++n}`)).id
  const routes: Array<{ name: string, request: (access: string | null) => Promise<{ statusCode: number, body: string }>, ok: number }> = [
    { name: 'GET /api/admin/users/', request: async access => await call(app, 'GET', '/api/admin/users/', access), ok: 200 },
    { name: 'POST /api/admin/users/', request: async access => await call(app, 'POST', '/api/admin/users/', access, { username: `made${++n}`, password: NEW_PASSWORD }), ok: 201 },
    { name: 'GET /api/admin/users/{id}/', request: async access => await call(app, 'GET', `/api/admin/users/${await target()}/`, access), ok: 200 },
    { name: 'PATCH /api/admin/users/{id}/', request: async access => await call(app, 'PATCH', `/api/admin/users/${await target()}/`, access, { first_name: 'Ada' }), ok: 200 },
    { name: 'DELETE /api/admin/users/{id}/', request: async access => await call(app, 'DELETE', `/api/admin/users/${await target()}/`, access), ok: 204 },
    { name: 'POST /api/admin/users/{id}/password/', request: async access => await call(app, 'POST', `/api/admin/users/${await target()}/password/`, access, { password: NEW_PASSWORD }), ok: 204 },
    { name: 'DELETE /api/admin/users/{id}/sessions/', request: async access => await call(app, 'DELETE', `/api/admin/users/${await target()}/sessions/`, access), ok: 204 },
    { name: 'GET /api/admin/events/', request: async access => await call(app, 'GET', '/api/admin/events/', access), ok: 200 }
  ]
  for (const route of routes) {
    const anonymous = await route.request(null)
    t.equal(anonymous.statusCode, 401, `${route.name}: anonymous 401`)
    t.equal(anonymous.body, NOT_PROVIDED)
    const denied = await route.request(user.access)
    t.equal(denied.statusCode, 403, `${route.name}: user 403`)
    t.equal(denied.body, DENIED)
    t.equal((await route.request(staff.access)).statusCode, route.ok, `${route.name}: staff ${route.ok}`)
    t.equal((await route.request(superuser.access)).statusCode, route.ok, `${route.name}: superuser ${route.ok}`)
  }
})

t.test('users: list with filters and cursor pages, read, create, update, delete', async t => {
  const app = await buildTestApp(t, { updateLastLogin: true })
  const staff = await account(app, 'staff', { isStaff: true })
  for (const name of ['alpha', 'beta', 'gamma', 'delta']) await registerUser(app, name)
  await call(app, 'PATCH', '/api/admin/users/3/', staff.access, { is_active: false })

  const list = async (query: string) => (await call(app, 'GET', `/api/admin/users/${query}`, staff.access)).json()
  t.same((await list('')).results.map((u: { username: string }) => u.username), ['staff', 'alpha', 'beta', 'gamma', 'delta'])
  t.same((await list('?username=AL')).results.map((u: { username: string }) => u.username), ['alpha'], 'part of the username, any case')
  t.same((await list('?email=ta%40EXAMPLE')).results.map((u: { username: string }) => u.username), ['beta', 'delta'])
  t.same((await list('?username=%25')).results, [], 'LIKE wildcards match only themselves')
  t.same((await list('?is_active=false')).results.map((u: { id: number }) => u.id), [3])
  t.same((await list('?is_staff=true')).results.map((u: { username: string }) => u.username), ['staff'])

  const first = await list('?limit=2')
  t.same(first.results.map((u: { id: number }) => u.id), [1, 2])
  t.type(first.next, 'string')
  const second = await list(`?limit=2&cursor=${first.next}`)
  t.same(second.results.map((u: { id: number }) => u.id), [3, 4])
  const last = await list(`?limit=2&cursor=${second.next}`)
  t.same(last.results.map((u: { id: number }) => u.id), [5])
  t.equal(last.next, null)

  t.match((await list('?limit=1')).results[0], { username: 'staff', last_login: /^\d{4}-\d\d-\d\dT/ })
  for (const bad of ['garbage', Buffer.from('u0').toString('base64url'), Buffer.from('u9999999999').toString('base64url'), Buffer.from('u99999999999').toString('base64url'), Buffer.from('e1.1').toString('base64url')]) {
    const response = await call(app, 'GET', `/api/admin/users/?cursor=${bad}`, staff.access)
    t.equal(response.statusCode, 400, `cursor ${bad}`)
    t.equal(response.body, '{"detail":"Invalid cursor"}')
  }
  for (const query of ['limit=0', 'limit=201', 'limit=x', 'is_active=maybe', 'is_staff=1', 'limit=1&limit=2']) {
    const response = await call(app, 'GET', `/api/admin/users/?${query}`, staff.access)
    t.equal(response.statusCode, 400, query)
    t.match(response.json().detail, /^Invalid value for the query parameter "(limit|is_active|is_staff)"\.$/)
  }

  const read = await call(app, 'GET', '/api/admin/users/2/', staff.access)
  t.same(read.json(), { ...read.json(), id: 2, username: 'alpha', email: 'alpha@example.com', is_active: true, is_staff: false, is_superuser: false, last_login: null })
  t.notMatch(read.body, /argon2|password/)
  for (const id of ['99', '0', 'abc', '99999999999', '2147483648']) {
    const missing = await call(app, 'GET', `/api/admin/users/${id}/`, staff.access)
    t.equal(missing.statusCode, 404, `user ${id}`)
    t.equal(missing.body, '{"detail":"Not found."}')
  }

  const created = await call(app, 'POST', '/api/admin/users/', staff.access, { username: 'eve', email: 'eve@example.com', password: NEW_PASSWORD, first_name: 'Eve', is_staff: true, is_active: 'false' })
  t.equal(created.statusCode, 201)
  t.match(created.json(), { username: 'eve', first_name: 'Eve', last_name: '', is_staff: true, is_active: false, is_superuser: false })
  const taken = await call(app, 'POST', '/api/admin/users/', staff.access, { username: 'ALPHA', password: NEW_PASSWORD })
  t.equal(taken.body, '{"username":["A user with that username already exists."]}')
  const weak = await call(app, 'POST', '/api/admin/users/', staff.access, { username: 'frank', password: '123' })
  t.equal(weak.statusCode, 400)
  t.match(weak.json().password, ['This password is too short. It must contain at least 8 characters.'])
  const badFlag = await call(app, 'POST', '/api/admin/users/', staff.access, { username: 'gus', password: NEW_PASSWORD, is_staff: 'perhaps', is_active: null })
  t.equal(badFlag.body, '{"is_active":["This field may not be null."],"is_staff":["Must be a valid boolean."]}')
  const numbers = await call(app, 'POST', '/api/admin/users/', staff.access, { username: 'hal', password: NEW_PASSWORD, is_staff: 1, is_active: 2 })
  t.equal(numbers.body, '{"is_active":["Must be a valid boolean."]}', 'JSON 1 and 0 are booleans, 2 is not')
  t.equal((await call(app, 'POST', '/api/admin/users/', staff.access, { username: 'hal', password: NEW_PASSWORD, is_staff: 1, is_active: 0 })).json().is_staff, true)

  const updated = await call(app, 'PATCH', '/api/admin/users/2/', staff.access, { first_name: 'Al', last_name: 'Pha', email: 'al@example.com', is_staff: 'yes' })
  t.match(updated.json(), { first_name: 'Al', last_name: 'Pha', email: 'al@example.com', is_staff: true })
  t.equal((await call(app, 'PATCH', '/api/admin/users/2/', staff.access, {})).json().first_name, 'Al', 'nothing to change')
  t.equal((await call(app, 'PATCH', '/api/admin/users/99/', staff.access, { first_name: 'x' })).statusCode, 404)

  t.equal((await call(app, 'DELETE', '/api/admin/users/4/', staff.access)).statusCode, 204)
  t.equal((await call(app, 'GET', '/api/admin/users/4/', staff.access)).statusCode, 404)
  t.equal((await call(app, 'DELETE', '/api/admin/users/4/', staff.access)).statusCode, 404)
  t.equal((await call(app, 'PUT', '/api/admin/users/2/', staff.access)).statusCode, 405)
})

t.test('only a superuser may set is_superuser or touch a superuser\'s account', async t => {
  const app = await buildTestApp(t)
  const staff = await account(app, 'staff', { isStaff: true })
  const root = await account(app, 'root', { isStaff: true, isSuperuser: true })
  const other = await account(app, 'other', { isStaff: true, isSuperuser: true })
  const user = await account(app, 'plain')
  const attempts: Array<[InjectOptions['method'], string, unknown?]> = [
    ['POST', '/api/admin/users/', { username: 'sneaky', password: NEW_PASSWORD, is_superuser: true }],
    ['PATCH', `/api/admin/users/${user.id}/`, { is_superuser: true }],
    ['PATCH', `/api/admin/users/${other.id}/`, { first_name: 'x' }],
    ['POST', `/api/admin/users/${other.id}/password/`, { password: NEW_PASSWORD }],
    ['DELETE', `/api/admin/users/${other.id}/sessions/`],
    ['DELETE', `/api/admin/users/${other.id}/`]
  ]
  for (const [method, url, payload] of attempts) {
    const response = await call(app, method, url, staff.access, payload)
    t.equal(response.statusCode, 403, `staff: ${method} ${url}`)
    t.equal(response.body, DENIED)
  }
  t.equal((await call(app, 'GET', `/api/admin/users/${other.id}/`, staff.access)).statusCode, 200, 'staff may read a superuser')
  const promoted = await call(app, 'PATCH', `/api/admin/users/${user.id}/`, root.access, { is_superuser: true, is_staff: true })
  t.match(promoted.json(), { is_superuser: true, is_staff: true })
  t.equal((await call(app, 'POST', '/api/admin/users/', root.access, { username: 'made', password: NEW_PASSWORD, is_superuser: true })).json().is_superuser, true)
})

t.test('access-affecting changes end sessions at once', async t => {
  const app = await buildTestApp(t)
  const staff = await account(app, 'staff', { isStaff: true })
  const bob = await account(app, 'bob')
  const carol = await account(app, 'carol')
  const dave = await account(app, 'dave')
  const erin = await account(app, 'erin')

  t.equal((await call(app, 'PATCH', `/api/admin/users/${bob.id}/`, staff.access, { is_active: false })).statusCode, 200)
  t.equal((await get(app, '/protected/', bob.access)).body, '{"detail":"User is inactive","code":"user_inactive"}')
  t.equal((await post(app, '/api/token/refresh/', { refresh: bob.refresh })).body, '{"detail":"No active account found for the given token.","code":"no_active_account"}')
  t.equal((await call(app, 'PATCH', `/api/admin/users/${bob.id}/`, staff.access, { is_active: true })).statusCode, 200)
  t.equal((await obtainPair(app, 'bob')).access.length > 0, true, 'reactivated: can log in again')
  t.equal((await get(app, '/protected/', bob.access)).statusCode, 401, 'the old session stays ended')

  t.equal((await call(app, 'POST', `/api/admin/users/${carol.id}/password/`, staff.access, { password: NEW_PASSWORD })).statusCode, 204)
  t.match((await get(app, '/protected/', carol.access)).body, /Token is blacklisted/)
  t.equal((await post(app, '/api/token/', { username: 'carol', password: PASSWORD })).statusCode, 401, 'the old password is refused')
  t.equal((await post(app, '/api/token/', { username: 'carol', password: NEW_PASSWORD })).statusCode, 200)
  const weak = await call(app, 'POST', `/api/admin/users/${carol.id}/password/`, staff.access, { password: 'carol' })
  t.equal(weak.statusCode, 400)
  t.ok(weak.json().password.length > 0)

  t.equal((await call(app, 'DELETE', `/api/admin/users/${dave.id}/sessions/`, staff.access)).statusCode, 204)
  t.match((await get(app, '/protected/', dave.access)).body, /Token is blacklisted/)

  t.equal((await call(app, 'DELETE', `/api/admin/users/${erin.id}/`, staff.access)).statusCode, 204)
  t.equal((await get(app, '/protected/', erin.access)).statusCode, 401)

  // Staff removed: the admin API is refused at the next request.
  const demote = await account(app, 'demoted', { isStaff: true })
  t.equal((await call(app, 'GET', '/api/admin/users/', demote.access)).statusCode, 200)
  t.equal((await call(app, 'PATCH', `/api/admin/users/${demote.id}/`, staff.access, { is_staff: false })).statusCode, 200)
  t.equal((await call(app, 'GET', '/api/admin/users/', demote.access)).body, DENIED)
  t.equal((await get(app, '/protected/', demote.access)).statusCode, 200, 'the user keeps their own access')
})

t.test('a staff caller deleted between the token check and the staff check gets user_not_found', async t => {
  const app = await buildTestApp(t)
  const staff = await account(app, 'staff', { isStaff: true })
  // The authenticate hook reads the users' cache: delete the row behind its back.
  await app.userStatus(staff.id)
  await app.database.db.execute('delete from users where id = ' + String(staff.id))
  const response = await call(app, 'GET', '/api/admin/users/', staff.access)
  t.equal(response.body, '{"detail":"User not found","code":"user_not_found"}')
})
