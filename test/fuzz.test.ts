import { createHmac, randomInt } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { buildTestApp, obtainPair, PASSWORD, registerUser, SIGNING_KEY } from './helpers/app.js'

// At least 20,000 malformed or hostile requests over every route: zero 5xx,
// every answer a JSON body the OpenAPI document allows (buildTestApp checks
// each), the process alive, and the tables unchanged where nothing should
// have changed them. Seeded: FUZZ_SEED=<n> replays a run (the seed is printed).

const REQUESTS = 20_000
const SEED = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31))

/** mulberry32: a small seeded generator, so that a failure replays exactly. */
function generator (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = Math.imul(state ^ (state >>> 15), 1 | state)
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x)
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32
  }
}

const random = generator(SEED)
const int = (n: number) => Math.floor(random() * n)
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!

const PATHS = [
  '/api/token/', '/login/', '/api/token/refresh/', '/api/token/verify/', '/api/token/blacklist/', '/register/',
  '/.well-known/jwks.json', '/health/live/', '/health/ready/', '/protected/', '/private/', '/api/users/me/',
  '/api/token/logout/', '/api/sessions/', '/api/sessions/0123456789abcdef0123456789abcdef/', '/api/users/me/password/'
]
const HOSTILE_PATHS = [
  '/api/token', '/api/sessions/%27%20or%201=1--/', '/api/sessions/../../etc/passwd', '/api/sessions/%00/', '/%2e%2e/%2e%2e/',
  '/api/token/?username=admin&password[$ne]=x', `/${'a'.repeat(4000)}/`, '/protected/;jsessionid=x', '/api/sessions/💥/',
  '/register/?__proto__[admin]=1', '/api//token/', '/api/token/%ff/', '/api/sessions/%E0%A4%A/'
]
const METHODS = ['GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const
const STRINGS = [
  '', ' ', 'admin', "' OR '1'='1", "'; DROP TABLE users; --", '" OR ""="', 'admin\'--', '1; SELECT pg_sleep(10)',
  '\u0000', 'a\u0000b', '\ud800', '\udfff', '\u202e\u0644\u0627', 'Ａｄｍｉｎ', 'ﬁ', 'e\u0301', '🙂'.repeat(60),
  'x'.repeat(151), 'y'.repeat(129), 'z'.repeat(5000), '<script>alert(1)</script>', '$' + '{jndi:ldap://x}', '%s%s%n',
  '../../../../etc/passwd', 'null', 'undefined', 'true', '-0', '1e400', '\r\nSet-Cookie: a=b', '\\', '"', '{}', '[]',
  'fuzzed', 'steady', 'Steady', 'STEADY ', PASSWORD
]
const VALUES: Array<() => unknown> = [
  () => pick(STRINGS), () => int(2 ** 31), () => -int(1000), () => 1.5, () => true, () => null, () => [],
  () => [pick(STRINGS)], () => ({}), () => ({ $ne: null }), () => ({ __proto__: { admin: true } }), () => Number.MAX_SAFE_INTEGER
]
const FIELDS = ['username', 'password', 'email', 'refresh', 'token', 'old_password', 'new_password', 'scope', 'id', '__proto__', 'constructor']

function base64url (value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** Tokens that look right and are not: bad signatures, alg none, wrong claims, huge, truncated. */
function brokenToken (): string {
  const header = base64url(JSON.stringify(pick([{ alg: 'HS256', typ: 'JWT' }, { alg: 'none', typ: 'JWT' }, { alg: 'RS256' }, { alg: 'HS256', jku: 'http://x' }])))
  const payload = base64url(JSON.stringify(pick([
    { token_type: 'access', exp: 9_999_999_999, iat: 1, jti: 'a'.repeat(32), user_id: pick([1, '1', 'abc', null, -1, 2 ** 53]) },
    { token_type: 'refresh', exp: 1, jti: 'x', user_id: 1 },
    { user_id: 1 }, {}, [], 'x'
  ])))
  const signature = pick([
    base64url(createHmac('sha256', 'not-' + SIGNING_KEY).update(`${header}.${payload}`).digest()),
    base64url(createHmac('sha256', SIGNING_KEY).update(`${header}.${payload}`).digest()), ''
  ])
  return pick([`${header}.${payload}.${signature}`, `${header}.${payload}`, `${header}..${signature}`, 'a'.repeat(5000), `${header}.${payload}.${signature}`.slice(0, int(60)), '...', pick(STRINGS)])
}

function hostileBody (): { payload: InjectOptions['payload'], contentType: string | undefined } {
  const contentType = pick(['application/json', 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/xml', undefined, '*/*', 'application/json, text/plain'])
  const kind = int(9)
  if (kind === 0) return { payload: Buffer.from(Array.from({ length: int(300) }, () => int(256))), contentType }
  if (kind === 1) return { payload: `${'['.repeat(int(20_000))}`, contentType }
  if (kind === 2) return { payload: `{"username": ${'{"a":'.repeat(40)}1${'}'.repeat(40)}, "password": "x"}`, contentType }
  if (kind === 3) return { payload: JSON.stringify({ username: 'x', password: 'p'.repeat(17_000 + int(50_000)) }), contentType }
  if (kind === 4) return { payload: pick(['{', '{"username":', 'null', '[]', '"x"', '1', 'true', '{"a":1,}', '{\'a\':1}', '\ufeff{}', '{"username":"\\ud800"}']), contentType }
  if (kind === 5) {
    // A lone surrogate cannot be percent-encoded: it goes in raw.
    const encode = (value: string) => { try { return encodeURIComponent(value) } catch { return value } }
    const fields = Array.from({ length: int(5) }, () => `${encode(pick(FIELDS))}=${encode(String(pick(VALUES)()))}`)
    return { payload: fields.join(pick(['&', ';', '&&'])), contentType }
  }
  const body: Record<string, unknown> = {}
  for (let i = int(6); i > 0; i--) body[pick(FIELDS)] = pick(VALUES)()
  if (kind === 6) body.refresh = body.token = brokenToken()
  return { payload: JSON.stringify(body), contentType }
}

t.test(`${REQUESTS} hostile requests over every route (seed ${SEED})`, async t => {
  t.comment(`FUZZ_SEED=${SEED}`)
  const app = await buildTestApp(t)
  await registerUser(app, 'steady')
  const valid = await obtainPair(app, 'steady')
  // postgres.js answers an array, PGlite an object with rows.
  const tables = async () => {
    const read = async (table: string) => {
      const result = await app.database.db.execute(sql.raw(`select * from ${table} order by 1`)) as unknown
      return Array.isArray(result) ? result : (result as { rows: unknown[] }).rows
    }
    return JSON.stringify(await Promise.all(['users', 'sessions', 'refresh_tokens'].map(read)))
  }
  const before = await tables()

  const statuses = new Map<number, number>()
  let sent = 0
  for (; sent < REQUESTS; sent++) {
    const path = random() < 0.85 ? pick(PATHS) : pick(HOSTILE_PATHS)
    const method = pick(METHODS)
    const headers: Record<string, string> = {}
    const auth = int(6)
    // A valid token only where reading cannot change anything: the tables must stay as they are.
    if (auth === 0 && method === 'GET') headers.authorization = `Bearer ${valid.access}`
    else if (auth === 1) headers.authorization = `Bearer ${brokenToken()}`
    else if (auth === 2) headers.authorization = pick(['Bearer', 'bearer x', 'Token x', 'Bearer a b', 'Basic YWRtaW46YWRtaW4=', `Bearer ${'a'.repeat(20_000)}`])
    if (random() < 0.2) headers.accept = pick(['text/html', 'application/xml', '*/*', 'application/json;q=0', '', 'garbage'])
    if (random() < 0.1) headers['x-forwarded-for'] = pick(['127.0.0.1', "1.1.1.1' OR 1=1", '::1, 10.0.0.1', 'x'.repeat(1000)])
    const options: InjectOptions = { method, url: path, headers }
    if (method !== 'GET' && method !== 'HEAD' && random() < 0.9) {
      const { payload, contentType } = hostileBody()
      options.payload = payload
      if (contentType !== undefined) headers['content-type'] = contentType
    }
    const response = await app.inject(options)
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
    if (response.statusCode >= 500) {
      t.fail(`${method} ${path} → ${response.statusCode} ${response.body} (FUZZ_SEED=${SEED}, request ${sent})`)
      break
    }
  }

  t.equal(sent, REQUESTS, `${sent} requests, none answered 5xx`)
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`)
  t.ok([...statuses.keys()].every(status => status < 500))
  t.equal(await tables(), before, 'users, sessions and refresh tokens unchanged')
  t.equal((await app.inject({ method: 'GET', url: '/protected/', headers: { authorization: `Bearer ${valid.access}` } })).statusCode, 200, 'still serving')
  t.equal((await app.inject({ method: 'POST', url: '/api/token/', payload: { username: 'steady', password: PASSWORD } })).statusCode, 200, 'and logging in')
})
