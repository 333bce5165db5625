import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { configWith } from '../src/config.js'
import { setUserActive } from '../src/users/accounts.js'
import { FAST_ARGON2, freshDatabaseUrl, PASSWORD, SIGNING_KEY, TEST_DATABASE_URL } from './helpers/app.js'
import { call, startServer, within } from './helpers/server.js'
import { isolatedEnv } from './helpers/spawn.js'

// Several instances on one PostgreSQL: what one ends, the others refuse
// within a second, with no query per request (LISTEN/NOTIFY). PGlite is one
// process's database, so this needs PostgreSQL (TEST_DATABASE_URL).

interface Instance { url: string, logs: Array<Record<string, unknown>>, stop: () => Promise<number | null> }

async function startInstance (env: NodeJS.ProcessEnv): Promise<Instance> {
  const { child, url, logs, exited } = await startServer(env)
  // logs() is the live list of the instance's log lines.
  return { url, logs: logs(), stop: async () => { child.kill('SIGTERM'); return await exited } }
}

const skip = TEST_DATABASE_URL === undefined ? 'needs PostgreSQL: set TEST_DATABASE_URL' : false
const ENDED = /"message":"Token is blacklisted"/

t.test('two server processes on one PostgreSQL', { skip }, async t => {
  const databaseUrl = (await freshDatabaseUrl(t))!
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-instances-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const env = isolatedEnv(dataDir, { DATABASE_URL: databaseUrl, JWT_SIGNING_KEY: SIGNING_KEY })
  const a = await startInstance(env)
  const b = await startInstance(env)
  t.teardown(async () => { await a.stop(); await b.stop() })

  t.equal((await call(a.url, '/register/', { body: { username: 'alice', password: PASSWORD } })).status, 201)
  const login = async (): Promise<{ access: string, refresh: string }> =>
    JSON.parse((await call(a.url, '/api/token/', { body: { username: 'alice', password: PASSWORD } })).body)
  const [first, second, third] = [await login(), await login(), await login()]
  for (const pair of [first, second, third]) t.equal((await call(b.url, '/protected/', { access: pair.access })).status, 200)

  t.test('a logout through A is refused by B within a second', async t => {
    t.equal((await call(a.url, '/api/token/logout/', { body: {}, access: first.access })).status, 204)
    const took = await within(1000, async () => ENDED.test((await call(b.url, '/protected/', { access: first.access })).body))
    t.ok(took <= 1000, `refused after ${took} ms`)
    t.equal((await call(b.url, '/api/token/refresh/', { body: { refresh: first.refresh } })).status, 401)
  })

  t.test('a password change through A ends the other sessions on B within a second', async t => {
    const changed = await call(a.url, '/api/users/me/password/', { body: { old_password: PASSWORD, new_password: 'violet-Otter-lantern-42' }, access: second.access })
    t.equal(changed.status, 204)
    await within(1000, async () => ENDED.test((await call(b.url, '/protected/', { access: third.access })).body))
    t.equal((await call(b.url, '/protected/', { access: second.access })).status, 200, 'the current session lives')
  })

  t.test('50 parallel refreshes of one token spread over A and B: exactly one winner', async t => {
    const { refresh } = second
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      call((i % 2 === 0 ? a : b).url, '/api/token/refresh/', { body: { refresh } })))
    t.equal(replies.filter(r => r.status === 200).length, 1)
    t.equal(replies.filter(r => r.body === '{"detail":"Token is blacklisted","code":"token_not_valid"}').length, 49)
    const winner = JSON.parse(replies.find(r => r.status === 200)!.body)
    t.equal((await call(b.url, '/protected/', { access: winner.access })).status, 200, 'inside the reuse interval the session lives')
    second.access = winner.access
    second.refresh = winner.refresh
  })

  t.test('B resynchronises after losing its LISTEN connection, and says so', async t => {
    const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} })
    t.teardown(() => admin.end())
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tessera-revocation' and datname = current_database()`
    await within(10_000, async () => [a, b].every(i => i.logs.some(line => String(line.msg).startsWith('revocation channel back'))))
    t.ok(b.logs.some(line => String(line.msg).startsWith('revocation channel lost')), 'the loss is logged')
    // Followed again: a logout through A reaches B within a second.
    const pair = JSON.parse((await call(a.url, '/api/token/', { body: { username: 'alice', password: 'violet-Otter-lantern-42' } })).body)
    t.equal((await call(b.url, '/protected/', { access: pair.access })).status, 200)
    t.equal((await call(a.url, '/api/token/logout/', { body: {}, access: pair.access })).status, 204)
    await within(1000, async () => ENDED.test((await call(b.url, '/protected/', { access: pair.access })).body))
  })

  t.test('a deactivation through a third instance is refused by A and B within a second', async t => {
    const c = await buildApp(configWith({ databaseUrl, jwtSigningKey: SIGNING_KEY, logLevel: 'silent', ...FAST_ARGON2 }))
    t.teardown(() => c.close())
    await setUserActive(c.accounts, 1, false)
    await within(1000, async () => {
      const replies = await Promise.all([a, b].map(async i => await call(i.url, '/protected/', { access: second.access })))
      return replies.every(r => r.body === '{"detail":"User is inactive","code":"user_inactive"}')
    })
    t.equal((await call(b.url, '/api/token/refresh/', { body: { refresh: second.refresh } })).body,
      '{"detail":"No active account found for the given token.","code":"no_active_account"}')
  })
})
