import { Writable } from 'node:stream'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { configWith, type Config } from '../src/config.js'
import { isDatabaseUnavailable } from '../src/db/errors.js'
import { CHANNEL } from '../src/sessions/channel.js'
import { buildTestApp, FAST_ARGON2, get, HARDENING_OFF, PASSWORD, post, registerUser, SIGNING_KEY } from './helpers/app.js'
import { checkResponses } from './helpers/contract.js'
import { ownPostgres } from './helpers/postgres.js'
import { until } from './helpers/wait.js'

// PostgreSQL going away and coming back, on a server this test starts and
// stops itself (initdb, pg_ctl): it runs on both lanes.

const UNAVAILABLE = '{"detail":"Service temporarily unavailable.","code":"service_unavailable"}'

function capturedLog (): { stream: Writable, lines: () => Array<Record<string, unknown>> } {
  let output = ''
  const stream = new Writable({ write (chunk, _encoding, done) { output += chunk; done() } })
  return { stream, lines: () => output.split('\n').filter(line => line !== '').map(line => JSON.parse(line) as Record<string, unknown>) }
}

const logged = (lines: () => Array<Record<string, unknown>>, prefix: string) =>
  lines().some(line => String(line.msg).startsWith(prefix))

function configFor (databaseUrl: string, overrides: Partial<Config> = {}): Config {
  return configWith({ databaseUrl, jwtSigningKey: SIGNING_KEY, logLevel: 'info', databaseTimeout: 2, ...FAST_ARGON2, ...HARDENING_OFF, ...overrides })
}

t.test('down at start-up, down while serving, back again: no restart', async t => {
  const server = await ownPostgres(t)
  const log = capturedLog()

  // Start-up retries with back-off, logging why, until the server is there.
  // USER_CACHE_TTL=1s: the cached state of a user has expired by the time it is needed during the outage.
  const starting = buildApp(configFor(server.url, { userCacheTtl: 1 }), { logger: { stream: log.stream } })
  await until(() => logged(log.lines, 'database unreachable at start-up: retrying'), 'a retry logged')
  await server.start()
  const app = checkResponses(await starting)
  t.teardown(() => app.close())
  t.ok(logged(log.lines, 'database reachable: starting'), 'the recovery is logged')
  const retry = log.lines().find(line => String(line.msg).startsWith('database unreachable'))!
  t.match(retry, { level: 40, attempt: 1, retryInMs: 250 })

  await registerUser(app, 'steady')
  await registerUser(app, 'uncached')
  const steady = (await post(app, '/api/token/', { username: 'steady', password: PASSWORD })).json()
  const uncached = (await post(app, '/api/token/', { username: 'uncached', password: PASSWORD })).json()
  t.equal((await get(app, '/protected/', steady.access)).statusCode, 200, 'steady\'s state is now cached')
  t.equal((await get(app, '/health/ready/')).body, '{"status":"ok"}')

  await server.stop()

  await t.test('while it is down', async t => {
    for (const [name, response] of [
      ['login', await post(app, '/api/token/', { username: 'steady', password: PASSWORD })],
      ['/login/', await post(app, '/login/', { username: 'steady', password: PASSWORD })],
      ['refresh', await post(app, '/api/token/refresh/', { refresh: steady.refresh })],
      ['blacklist', await post(app, '/api/token/blacklist/', { refresh: steady.refresh })],
      ['register', await post(app, '/register/', { username: 'newcomer', password: PASSWORD })],
      ['sessions', await get(app, '/api/sessions/', steady.access)],
      ['readiness', await get(app, '/health/ready/')],
      ['a protected route for a user whose state is not in memory', await get(app, '/protected/', uncached.access)]
    ] as const) {
      t.equal(response.statusCode, 503, `${name}: 503`)
      t.equal(response.body, UNAVAILABLE, `${name}: the body says so and nothing else`)
      t.equal(response.headers['retry-after'], '5', `${name}: Retry-After`)
    }
    t.equal((await get(app, '/health/live/')).body, '{"status":"ok"}', 'liveness does not depend on the database')
    await until(() => logged(log.lines, 'revocation channel lost'), 'the channel loss noticed')
    await new Promise(resolve => setTimeout(resolve, 1100))
    // The user's expired state and the session check fall back to memory: nothing can change either while
    // the database is down.
    for (const path of ['/protected/', '/private/']) {
      t.equal((await get(app, path, steady.access)).statusCode, 200, `${path} answers from memory`)
    }
    t.equal((await get(app, '/api/users/me/', steady.access)).body, UNAVAILABLE, 'the current user\'s profile is read from the database')
    t.equal((await get(app, '/protected/', 'garbage')).statusCode, 401, 'and still refuses bad tokens')
    t.ok(log.lines().some(line => line.msg === 'service unavailable: answered 503' && line.level === 40), 'logged as a warning, not an error')
    t.same(log.lines().filter(line => Number(line.level) >= 50), [], 'no error-level line: nothing broke')
  })

  await server.start()

  await t.test('when it is back', async t => {
    await until(async () => (await get(app, '/health/ready/')).statusCode === 200, 'readiness back')
    const pair = await post(app, '/api/token/', { username: 'steady', password: PASSWORD })
    t.equal(pair.statusCode, 200, 'logins work again')
    t.equal((await post(app, '/register/', { username: 'newcomer', password: PASSWORD })).statusCode, 201)
    await until(() => logged(log.lines, 'revocation channel back'), 'the channel listening again')
    // Listening again: an ending published by another process reaches this one.
    const { sid } = JSON.parse(Buffer.from(pair.json().access.split('.')[1], 'base64url').toString()) as { sid: string }
    const admin = postgres(server.url, { max: 1, onnotice: () => {} })
    t.teardown(() => admin.end())
    const until_ = Math.floor(Date.now() / 1000) + 300
    await admin`select pg_notify(${CHANNEL}, ${JSON.stringify({ ended: [[sid, until_]] })})`
    await until(async () => (await get(app, '/protected/', pair.json().access)).statusCode === 401, 'the ended session refused')
    t.pass('a NOTIFY after the outage ended the session here')
  })
})

t.test('start-up gives up after DATABASE_STARTUP_TIMEOUT, and at once on anything but unreachability', async t => {
  const server = await ownPostgres(t)
  const log = capturedLog()
  await t.rejects(buildApp(configFor(server.url, { databaseStartupTimeout: 1 }), { logger: { stream: log.stream } }), { code: 'ECONNREFUSED' })
  t.ok(logged(log.lines, 'database unreachable at start-up: retrying'), 'it retried first')
  await server.start()
  const missing = new URL(server.url)
  missing.pathname = '/no_such_database'
  const quick = capturedLog()
  await t.rejects(buildApp(configFor(missing.toString()), { logger: { stream: quick.stream } }), { code: '3D000' })
  t.notOk(logged(quick.lines, 'database unreachable'), 'a missing database is not retried')
})

t.test('only unreachability is a 503: other database failures stay 500s', async t => {
  t.ok(isDatabaseUnavailable(new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })])),
    'a host name with several addresses, all refused')
  t.notOk(isDatabaseUnavailable(new AggregateError([new Error('other')])))
  t.ok(isDatabaseUnavailable({ cause: { code: '08006' } }), 'SQLSTATE class 08, wrapped')
  t.notOk(isDatabaseUnavailable({ code: '42P01' }), 'an undefined table is a bug, not an outage')

  // A user's cached state has expired, and the database fails otherwise than by being unreachable.
  const app = await buildTestApp(t, { userCacheTtl: 1 })
  await registerUser(app, 'stale')
  const { access } = (await post(app, '/api/token/', { username: 'stale', password: PASSWORD })).json()
  t.equal((await get(app, '/protected/', access)).statusCode, 200)
  await app.database.db.execute(sql`drop table refresh_tokens, sessions, users`)
  await new Promise(resolve => setTimeout(resolve, 1100))
  t.equal((await get(app, '/protected/', access)).body, '{"detail":"A server error occurred."}', 'the stale state does not hide a bug')
})
