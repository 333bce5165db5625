import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { logRecorderProblem } from '../plugins/security-events.js'
import { buildApp } from '../src/app.js'
import { createDb } from '../src/db/index.js'
import t from 'tap'
import { securityEvents } from '../src/db/schema.js'
import { sql } from 'drizzle-orm'
import { SecurityEventRecorder } from '../src/events/recorder.js'
import { authenticateUser, registerUser as createAccount } from '../src/users/accounts.js'
import { buildTestApp, get, obtainPair, PASSWORD, post, registerUser, testConfig } from './helpers/app.js'

// The security event log: what a scripted session leaves in it (exactly, and
// no secret), the two routes that read it, its retention, and the buffered
// recorder on its own.

const bearer = (access: string) => ({ authorization: `Bearer ${access}` })
const sleep = async (ms: number) => await new Promise(resolve => setTimeout(resolve, ms))

async function staffAccess (app: FastifyInstance): Promise<{ id: number, access: string }> {
  const staff = await createAccount(app.accounts, { username: 'auditor', password: PASSWORD }, {}, { isStaff: true })
  return { id: staff.id, access: (await obtainPair(app, 'auditor')).access }
}

interface EventView { id: number, type: string, at: string, user_id: number | null, session_id: string | null, ip: string, user_agent: string, detail: Record<string, unknown> }

async function allEvents (app: FastifyInstance, access: string, query: string): Promise<EventView[]> {
  const events: EventView[] = []
  let cursor: string | null = null
  do {
    const response = await app.inject({ method: 'GET', url: `/api/admin/events/?limit=3${query}${cursor === null ? '' : `&cursor=${cursor}`}`, headers: bearer(access) })
    const page = response.json() as { next: string | null, results: EventView[] }
    events.push(...page.results)
    cursor = page.next
  } while (cursor !== null)
  return events
}

t.test('a scripted session (login, refresh, reuse, logout) holds exactly the expected events, and no secret', async t => {
  const app = await buildTestApp(t, { refreshTokenReuseInterval: 0 })
  const agent = { 'user-agent': 'scripted-session/1.0' }
  const userId = await registerUser(app, 'alice')
  const wrong = 'not-the-password-at-all'
  t.equal((await post(app, '/api/token/', { username: 'alice', password: wrong }, agent)).statusCode, 401)
  t.equal((await post(app, '/api/token/', { username: 'nobody', password: wrong }, agent)).statusCode, 401)
  const first = (await post(app, '/api/token/', { username: 'alice', password: PASSWORD }, agent)).json()
  const refreshed = (await post(app, '/api/token/refresh/', { refresh: first.refresh }, agent)).json()
  // A replay later than REFRESH_TOKEN_REUSE_INTERVAL (0 s; time counts in whole seconds) ends the session.
  await sleep(1100)
  t.equal((await post(app, '/api/token/refresh/', { refresh: first.refresh }, agent)).statusCode, 401)
  const second = (await post(app, '/api/token/', { username: 'alice', password: PASSWORD }, agent)).json()
  t.equal((await post(app, '/api/token/logout/', { scope: 'local' }, { ...agent, ...bearer(second.access) })).statusCode, 204)
  const third = (await post(app, '/api/token/', { username: 'alice', password: PASSWORD }, agent)).json()
  t.equal((await post(app, '/api/token/blacklist/', { refresh: third.refresh }, agent)).statusCode, 200)

  // authenticateUser, for callers that need no reason, tells the same without recording anything.
  t.equal((await authenticateUser(app.accounts, 'ALICE', PASSWORD))?.id, userId)
  t.equal(await authenticateUser(app.accounts, 'alice', wrong), null)
  const staff = await staffAccess(app)
  const events = await allEvents(app, staff.access, `&user=${userId}`)
  const sid = (access: string) => JSON.parse(Buffer.from(access.split('.')[1]!, 'base64url').toString()).sid as string
  t.same(events.map(e => [e.type, e.session_id, e.detail]), [
    ['logout', sid(third.access), { scope: 'local', via: 'blacklist' }],
    ['login_succeeded', sid(third.access), {}],
    ['logout', sid(second.access), { scope: 'local' }],
    ['login_succeeded', sid(second.access), {}],
    ['refresh_reuse_detected', sid(first.access), { session_revoked: true }],
    ['token_refreshed', sid(first.access), {}],
    ['login_succeeded', sid(first.access), {}],
    ['login_failed', null, { reason: 'wrong_password' }],
    ['user_created', null, { via: 'register' }]
  ])
  t.ok(events.every(e => e.user_id === userId && e.ip === '127.0.0.1'), 'each names the user and the client address')
  t.ok(events.slice(0, -1).every(e => e.user_agent === 'scripted-session/1.0'), 'and the User-Agent')
  const unknown = await allEvents(app, staff.access, '&type=login_failed')
  t.same(unknown.map(e => [e.user_id, e.detail]), [[null, { reason: 'unknown_user', username: 'nobody' }], [userId, { reason: 'wrong_password' }]])

  const rows = JSON.stringify(await app.database.db.select().from(securityEvents))
  const secrets = [PASSWORD, wrong, first.access, first.refresh, refreshed.access, refreshed.refresh, second.access, second.refresh, third.access, third.refresh]
  for (const secret of secrets) t.notOk(rows.includes(secret), 'no password or token in the stored rows')
  // Not even a token's signature or payload part.
  for (const token of secrets.slice(2)) for (const part of token.split('.').slice(1)) t.notOk(rows.includes(part))
})

t.test('GET /api/users/me/events/: the caller\'s own events, newest first, a page at a time', async t => {
  const app = await buildTestApp(t)
  await registerUser(app, 'alice')
  await registerUser(app, 'bob')
  const bob = await obtainPair(app, 'bob')
  const alice = await obtainPair(app, 'alice')
  const changed = await post(app, '/api/users/me/password/', { old_password: PASSWORD, new_password: 'violet-Otter-lantern-42' }, bearer(alice.access))
  t.equal(changed.statusCode, 204)
  const other = await obtainPair(app, 'alice', 'violet-Otter-lantern-42')
  const sid = JSON.parse(Buffer.from(other.access.split('.')[1]!, 'base64url').toString()).sid as string
  t.equal((await app.inject({ method: 'DELETE', url: `/api/sessions/${sid}/`, headers: bearer(alice.access) })).statusCode, 204)

  const page1 = (await app.inject({ method: 'GET', url: '/api/users/me/events/?limit=2', headers: bearer(alice.access) })).json()
  t.same(page1.results.map((e: EventView) => e.type), ['session_ended', 'login_succeeded'])
  t.same(page1.results[0].detail, { by: page1.results[0].user_id })
  const page2 = (await app.inject({ method: 'GET', url: `/api/users/me/events/?limit=2&cursor=${page1.next}`, headers: bearer(alice.access) })).json()
  t.same(page2.results.map((e: EventView) => e.type), ['password_changed', 'login_succeeded'])
  const page3 = (await app.inject({ method: 'GET', url: `/api/users/me/events/?cursor=${page2.next}`, headers: bearer(alice.access) })).json()
  t.same(page3.results.map((e: EventView) => e.type), ['user_created'])
  t.equal(page3.next, null)
  const bobs = (await get(app, '/api/users/me/events/', bob.access)).json()
  t.same(bobs.results.map((e: EventView) => e.type), ['login_succeeded', 'user_created'], 'only the caller\'s')

  for (const cursor of ['x', Buffer.from('u1').toString('base64url'), Buffer.from('e1.0').toString('base64url'), `${Buffer.from('e1.1').toString('base64url')}=`]) {
    const bad = await app.inject({ method: 'GET', url: `/api/users/me/events/?cursor=${cursor}`, headers: bearer(bob.access) })
    t.equal(bad.statusCode, 400)
    t.equal(bad.body, '{"detail":"Invalid cursor"}')
  }
  t.equal((await get(app, '/api/users/me/events/')).statusCode, 401)
})

t.test('admin changes are events, with the acting staff member', async t => {
  const app = await buildTestApp(t)
  const staff = await staffAccess(app)
  const admin = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    await app.inject({ method, url, headers: bearer(staff.access), ...(payload === undefined ? {} : { payload }) })
  const id = (await admin('POST', '/api/admin/users/', { username: 'target', password: PASSWORD })).json().id as number
  await admin('PATCH', `/api/admin/users/${id}/`, { first_name: 'T', is_active: false })
  await admin('PATCH', `/api/admin/users/${id}/`, { is_active: true })
  await admin('POST', `/api/admin/users/${id}/password/`, { password: 'violet-Otter-lantern-42' })
  await admin('DELETE', `/api/admin/users/${id}/sessions/`)
  await admin('DELETE', `/api/admin/users/${id}/`)
  const events = await allEvents(app, staff.access, `&user=${id}`)
  t.same(events.map(e => [e.type, e.detail]), [
    ['user_deleted', { by: staff.id }],
    ['session_ended', { by: staff.id, sessions: 0 }],
    ['password_changed', { by: staff.id }],
    ['user_updated', { by: staff.id, fields: ['is_active'] }],
    ['user_deactivated', { by: staff.id }],
    ['user_updated', { by: staff.id, fields: ['first_name'] }],
    ['user_created', { by: staff.id }]
  ])
  const bad = await app.inject({ method: 'GET', url: '/api/admin/events/?type=tea_time', headers: bearer(staff.access) })
  t.equal(bad.body, '{"detail":"Invalid value for the query parameter \\"type\\"."}')
})

t.test('closing the app writes the events still in memory before the database closes', async t => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-events-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const config = await testConfig(t, { dataDir })
  const app = await buildApp(config)
  app.securityEvents.record({ type: 'throttled', detail: { at: 'close' } })
  t.equal(app.securityEvents.pending, 1)
  await app.close()
  const database = createDb(config)
  t.teardown(() => database.close())
  t.same(await database.db.select({ type: securityEvents.type, detail: securityEvents.detail }).from(securityEvents), [{ type: 'throttled', detail: { at: 'close' } }])
})

t.test('SESSION_PRUNE_INTERVAL also drops events older than SECURITY_EVENT_RETENTION', async t => {
  const app = await buildTestApp(t, { sessionPruneInterval: 1, securityEventRetention: 3600 })
  await app.database.db.insert(securityEvents).values([
    { at: new Date(Date.now() - 7200e3), type: 'logout' },
    { at: new Date(Date.now() - 60e3), type: 'login_succeeded' }
  ])
  for (let i = 0; i < 100; i++) {
    await sleep(50)
    const left = await app.database.db.select({ type: securityEvents.type }).from(securityEvents)
    if (left.length === 1) break
  }
  t.same(await app.database.db.select({ type: securityEvents.type }).from(securityEvents), [{ type: 'login_succeeded' }])
})

t.test('the recorder: batches on a timer, bounded, keeps what a failed write did not save, flushes at close', async t => {
  const app = await buildTestApp(t)
  const { db } = app.database
  const count = async () => (await db.select({ id: securityEvents.id }).from(securityEvents)).length
  const problems: string[] = []

  const timed = new SecurityEventRecorder(db, { flushIntervalMs: 20 })
  t.teardown(() => timed.close())
  timed.record({ type: 'throttled', detail: { route: '/api/token/' } })
  t.equal(timed.pending, 1, 'kept in memory, no query')
  for (let i = 0; i < 100 && await count() === 0; i++) await sleep(20)
  t.equal(await count(), 1, 'written by the timer')
  const [row] = await db.select().from(securityEvents)
  t.match(row, { type: 'throttled', userId: null, sessionId: null, ip: '', userAgent: '', detail: { route: '/api/token/' } })

  const bounded = new SecurityEventRecorder(db, { flushIntervalMs: 60_000, maxBuffered: 3, onProblem: message => problems.push(message) })
  for (let i = 0; i < 5; i++) bounded.record({ type: 'login_failed', request: { ip: '10.0.0.1', headers: { 'user-agent': ['not', 'one'] } } })
  await bounded.close()
  t.equal(await count(), 4, 'a full buffer is written at once; what comes while it is full is dropped')
  t.same(problems, ['security event log: 2 events dropped (the buffer was full)'])

  // No onProblem given: a drop is still counted, and reported to no one.
  const quiet = new SecurityEventRecorder(db, { maxBuffered: 0 })
  quiet.record({ type: 'logout' })
  await quiet.close()
  t.equal(quiet.pending, 0)

  // A database that refuses the write (a constraint no row meets, for a while): the events stay for the next attempt.
  await db.execute(sql`alter table security_events add constraint refuse_all check (false) not valid`)
  const errors: unknown[] = []
  const retrying = new SecurityEventRecorder(db, { flushIntervalMs: 60_000, maxBuffered: 2, onProblem: (_message, error) => errors.push(error) })
  retrying.record({ type: 'logout' })
  await retrying.flush()
  t.equal(retrying.pending, 1)
  t.match(errors, [{ cause: { message: /violates check constraint "refuse_all"/ } }])
  retrying.record({ type: 'logout' })
  retrying.record({ type: 'logout' })
  await retrying.flush()
  await db.execute(sql`alter table security_events drop constraint refuse_all`)
  await retrying.close()
  t.equal(await count(), 6, 'kept within the bound, written once the database is back')
})

t.test('the recorder\'s problems in the log: a failed write (kept, retried) is a warning, dropped events an error', async t => {
  let output = ''
  const stream = new Writable({ write (chunk, _encoding, done) { output += chunk; done() } })
  const log = pino({ level: 'warn' }, stream) as unknown as FastifyBaseLogger
  logRecorderProblem(log)('security event log: write failed, will retry', new Error('connection refused'))
  logRecorderProblem(log)('security event log: 3 events dropped (the buffer was full)')
  const lines = output.trim().split('\n').map(line => JSON.parse(line) as { level: number, msg: string, err?: { message: string } })
  t.same(lines.map(line => [line.level, line.msg, line.err?.message]), [
    [40, 'security event log: write failed, will retry', 'connection refused'],
    [50, 'security event log: 3 events dropped (the buffer was full)', undefined]
  ])
})
