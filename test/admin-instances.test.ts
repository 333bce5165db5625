import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { configWith } from '../src/config.js'
import { registerUser } from '../src/users/accounts.js'
import { FAST_ARGON2, freshDatabaseUrl, PASSWORD, SIGNING_KEY, TEST_DATABASE_URL } from './helpers/app.js'
import { call, startServer, within } from './helpers/server.js'
import { isolatedEnv } from './helpers/spawn.js'

// Admin changes reach every instance at once: two server processes on one
// PostgreSQL (PGlite is one process's database: this needs TEST_DATABASE_URL).

const skip = TEST_DATABASE_URL === undefined ? 'needs PostgreSQL: set TEST_DATABASE_URL' : false
const DENIED = '{"detail":"You do not have permission to perform this action."}'

t.test('admin changes through instance A are refused by instance B within a second', { skip }, async t => {
  const databaseUrl = (await freshDatabaseUrl(t))!
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-admin-instances-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  // The staff accounts, made as createsuperuser makes them (migrating the database first).
  const setup = await buildApp(configWith({ databaseUrl, jwtSigningKey: SIGNING_KEY, logLevel: 'silent', ...FAST_ARGON2 }))
  await registerUser(setup.accounts, { username: 'staff', password: PASSWORD }, {}, { isStaff: true })
  await registerUser(setup.accounts, { username: 'helper', password: PASSWORD }, {}, { isStaff: true })
  const alice = await registerUser(setup.accounts, { username: 'alice', password: PASSWORD })
  await setup.close()

  const env = isolatedEnv(dataDir, { DATABASE_URL: databaseUrl, JWT_SIGNING_KEY: SIGNING_KEY })
  const a = await startServer(env)
  const b = await startServer(env)
  t.teardown(async () => {
    a.child.kill('SIGTERM')
    b.child.kill('SIGTERM')
    await Promise.all([a.exited, b.exited])
  })
  const login = async (username: string) => JSON.parse((await call(a.url, '/api/token/', { body: { username, password: PASSWORD } })).body) as { access: string, refresh: string }
  const staff = await login('staff')
  const helper = await login('helper')
  const pair = await login('alice')
  t.equal((await call(b.url, '/protected/', { access: pair.access })).status, 200)

  const deactivated = await call(a.url, `/api/admin/users/${alice.id}/`, { method: 'PATCH', body: { is_active: false }, access: staff.access })
  t.equal(deactivated.status, 200)
  const took = await within(1000, async () =>
    (await call(b.url, '/protected/', { access: pair.access })).body === '{"detail":"User is inactive","code":"user_inactive"}')
  t.ok(took <= 1000, `B refused the deactivated user after ${took} ms`)
  t.equal((await call(b.url, '/api/token/refresh/', { body: { refresh: pair.refresh } })).body,
    '{"detail":"No active account found for the given token.","code":"no_active_account"}')

  // Staff removal: B's admin API refuses the helper at its next request.
  t.equal((await call(b.url, '/api/admin/users/', { access: helper.access })).status, 200)
  t.equal((await call(a.url, '/api/admin/users/2/', { method: 'PATCH', body: { is_staff: false }, access: staff.access })).status, 200)
  t.equal((await call(b.url, '/api/admin/users/', { access: helper.access })).body, DENIED)

  // The event log, read through B, holds what A recorded (A writes its batch within a second).
  await within(3000, async () => /user_deactivated/.test((await call(b.url, `/api/admin/events/?user=${alice.id}`, { access: staff.access })).body))
})
