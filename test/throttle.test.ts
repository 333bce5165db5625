import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import tap from 'tap'
import { securityEvents } from '../src/db/schema.js'
import { memoryCounterStore, redisCounterStore } from '../src/throttle/counters.js'
import { addressKey, usernameKey } from '../src/throttle/keys.js'
import { buildTestApp, PASSWORD, post, registerUser, type Response } from './helpers/app.js'

// Credential guessing is throttled by client address and by username (OWASP),
// in memory, or in Redis for every instance at once. Redis runs on this
// machine (.ci/run starts it); each test uses keys of its own.

const REDIS_URL = 'redis://127.0.0.1:6379'
const THROTTLED = /^\{"detail":"Request was throttled\. Expected available in (\d+) seconds?\."\}$/
const t = tap
const uniquePrefix = () => `tessera-test:${process.pid}:${randomBytes(4).toString('hex')}:`

function assertThrottled (t: Pick<typeof tap, 'equal' | 'ok'>, response: Response, windowSeconds: number, name: string): void {
  t.equal(response.statusCode, 429, `${name}: 429`)
  const match = THROTTLED.exec(response.body)
  t.ok(match, `${name}: DRF's body (${response.body})`)
  const seconds = Number(match?.[1])
  t.ok(seconds >= 1 && seconds <= windowSeconds, `${name}: expected within the window (${seconds} s)`)
  t.equal(response.headers['retry-after'], String(seconds), `${name}: Retry-After says the same`)
}

const login = (app: Awaited<ReturnType<typeof buildTestApp>>, username: string, password = 'wrong-password', headers = {}) =>
  post(app, '/api/token/', { username, password }, headers)

t.test('by username: the limit holds across addresses and spellings of one name', async t => {
  const app = await buildTestApp(t, { throttleUsernameLimit: 3, throttleUsernameWindow: 120, throttleAddressLimit: 100, trustProxy: 'true' })
  await registerUser(app, 'victim')
  // Three attempts from three addresses, the name spelled three ways (case, full-width letters: NFKC).
  for (const [i, username] of ['victim', 'VICTIM', 'ｖｉｃｔｉｍ'].entries()) {
    t.equal((await login(app, username, 'wrong', { 'x-forwarded-for': `203.0.113.${i}` })).statusCode, 401, `attempt ${i + 1} is checked`)
  }
  assertThrottled(t, await login(app, 'victim', PASSWORD, { 'x-forwarded-for': '203.0.113.9' }), 120, 'the fourth, from a fourth address, with the right password')
  assertThrottled(t, await post(app, '/login/', { username: 'Victim', password: PASSWORD }), 120, '/login/ shares the counter')
  t.equal((await login(app, 'someone-else')).statusCode, 401, 'another username is not throttled')
  // A number is a username as its string form (COMPAT.md), and counts as one.
  for (let i = 0; i < 3; i++) t.equal((await post(app, '/api/token/', '{"username": 12345, "password": "x"}', { 'content-type': 'application/json' })).statusCode, 401)
  assertThrottled(t, await login(app, '12345'), 120, 'the number\'s string form')
  // A body that is not an object has no username: only the address counts.
  t.equal((await post(app, '/api/token/', '"victim"', { 'content-type': 'application/json' })).statusCode, 400)
  t.equal((await post(app, '/api/token/', '{"username": null}', { 'content-type': 'application/json' })).statusCode, 400)
})

t.test('by address: many usernames from one address', async t => {
  const app = await buildTestApp(t, { throttleAddressLimit: 5, throttleAddressWindow: 60, throttleUsernameLimit: 100 })
  for (let i = 0; i < 5; i++) t.equal((await login(app, `user${i}`)).statusCode, 401)
  assertThrottled(t, await login(app, 'user5'), 60, 'the sixth username from one address')
  // Without TRUST_PROXY (the default) X-Forwarded-For is not believed: a spoofed one gains nothing.
  assertThrottled(t, await login(app, 'user6', 'x', { 'x-forwarded-for': '198.51.100.7' }), 60, 'a spoofed X-Forwarded-For')
  t.equal((await login(app, 'user7', 'x', {})).statusCode, 429)
  // Each credential route counts on its own: registration and refresh are not locked out by logins.
  t.equal((await post(app, '/register/', { username: 'newcomer', password: PASSWORD })).statusCode, 201)
  t.equal((await post(app, '/api/token/refresh/', { refresh: 'x' })).statusCode, 401)
  // A malformed body counts as an attempt too (the throttle runs before validation).
  assertThrottled(t, await post(app, '/api/token/', '{"username": [1, 2]}', { 'content-type': 'application/json' }), 60, 'a body of the wrong shape')
})

t.test('a refusal is a security event: the route and the counter, never the username', async t => {
  const app = await buildTestApp(t, { throttleAddressLimit: 100, throttleUsernameLimit: 1 })
  t.equal((await login(app, 'guessed-name')).statusCode, 401)
  t.equal((await login(app, 'guessed-name')).statusCode, 429)
  await app.securityEvents.flush()
  const rows = await app.database.db.select({ type: securityEvents.type, userId: securityEvents.userId, detail: securityEvents.detail })
    .from(securityEvents)
  t.same(rows.filter(row => row.type === 'throttled'), [{ type: 'throttled', userId: null, detail: { route: 'login', by: 'username' } }])
  t.notOk(JSON.stringify(rows.filter(row => row.type === 'throttled')).includes('guessed-name'), 'the username is not in the throttled event')
})

t.test('with TRUST_PROXY, the address is the one the proxy forwarded', async t => {
  const app = await buildTestApp(t, { throttleAddressLimit: 2, throttleUsernameLimit: 100, trustProxy: '127.0.0.1' })
  const from = (ip: string) => ({ 'x-forwarded-for': ip })
  t.equal((await login(app, 'a', 'x', from('198.51.100.1'))).statusCode, 401)
  t.equal((await login(app, 'b', 'x', from('198.51.100.1'))).statusCode, 401)
  t.equal((await login(app, 'c', 'x', from('198.51.100.1'))).statusCode, 429)
  t.equal((await login(app, 'd', 'x', from('198.51.100.2'))).statusCode, 401, 'another client behind the proxy')
  // IPv6 clients count by their /64.
  t.equal((await login(app, 'e', 'x', from('2001:db8:1:2::1'))).statusCode, 401)
  t.equal((await login(app, 'f', 'x', from('2001:db8:1:2:ffff::9'))).statusCode, 401)
  t.equal((await login(app, 'g', 'x', from('2001:db8:1:2::abcd'))).statusCode, 429, 'a third address of one /64')
})

t.test('registration and refresh are throttled too', async t => {
  const app = await buildTestApp(t, { throttleAddressLimit: 2, throttleUsernameLimit: 1 })
  t.equal((await post(app, '/register/', { username: 'taken', password: PASSWORD })).statusCode, 201)
  assertThrottled(t, await post(app, '/register/', { username: 'Taken', password: PASSWORD }), 300, 'a second registration of one username')
  assertThrottled(t, await post(app, '/register/', { username: 'other', password: PASSWORD }), 60, 'a third registration from one address')
  for (let i = 0; i < 2; i++) t.equal((await post(app, '/api/token/refresh/', { refresh: 'x' })).statusCode, 401)
  assertThrottled(t, await post(app, '/api/token/refresh/', { refresh: 'x' }), 60, 'a third refresh')
})

t.test('1 second is said in the singular, and the window closes', async t => {
  let now = 1_000_000
  const store = memoryCounterStore(() => now, 60_000, 2)
  t.teardown(() => store.close())
  t.same(await store.hit('k', 1000), { count: 1, resetMs: 1000 })
  now += 400
  t.same(await store.hit('k', 1000), { count: 2, resetMs: 600 })
  await store.hit('other', 1000)
  now += 1000
  t.same(await store.hit('k', 1000), { count: 1, resetMs: 1000 }, 'a new window')
  t.equal(store.size(), 1, 'the closed windows were swept when the store was full')
  const app = await buildTestApp(t, { throttleAddressLimit: 1, throttleAddressWindow: 1 })
  await login(app, 'x')
  const response = await login(app, 'x')
  t.equal(response.body, '{"detail":"Request was throttled. Expected available in 1 second."}')
})

t.test('keys: no username in clear, addresses by client', async t => {
  t.equal(usernameKey('Alice'), usernameKey('alice'))
  t.equal(usernameKey('ａｌｉｃｅ'), usernameKey('alice'))
  t.notMatch(usernameKey('alice'), /alice/)
  t.equal(usernameKey('x'.repeat(10_000)).length, 22, 'bounded')
  t.equal(addressKey('192.0.2.1'), '192.0.2.1')
  t.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1', 'an IPv4-mapped address is the IPv4 client')
  t.equal(addressKey('2001:DB8:0001:0002:3:4:5:6'), '2001:db8:1:2::/64')
  t.equal(addressKey('::1'), '0:0:0:0::/64')
  t.equal(addressKey('fe80::'), 'fe80:0:0:0::/64')
})

t.test('two instances sharing Redis share the counters', async t => {
  const prefix = uniquePrefix()
  const settings = { redisUrl: REDIS_URL, redisKeyPrefix: prefix, throttleUsernameLimit: 4, throttleAddressLimit: 100 }
  const a = await buildTestApp(t, settings)
  const b = await buildTestApp(t, settings)
  const redis = new Redis(REDIS_URL)
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
  for (const app of [a, b, a, b]) t.equal((await login(app, 'shared')).statusCode, 401)
  assertThrottled(t, await login(a, 'shared'), 300, 'the fifth attempt on A')
  assertThrottled(t, await login(b, 'shared'), 300, 'and on B')
  const keys = await redis.keys(`${prefix}*`)
  t.equal(keys.length, 2, 'one counter per address and one per username, under the prefix')
  t.notMatch(keys.join(' '), /shared/, 'no username in a key')
  const ttl = await redis.pttl(keys.find(key => key.includes(':user:'))!)
  t.ok(ttl > 0 && ttl <= 300_000, 'every counter expires with its window')
})

t.test('Redis unreachable: requests go through, and the log says they were not counted', async t => {
  let output = ''
  const stream = new Writable({ write (chunk, _encoding, done) { output += chunk; done() } })
  // Port 9 (discard) has no Redis on this machine: connecting is refused.
  const app = await buildTestApp(t, { redisUrl: 'redis://127.0.0.1:9', throttleUsernameLimit: 1, throttleAddressLimit: 1, logLevel: 'warn' }, { logger: { stream } })
  for (let i = 0; i < 3; i++) t.equal((await login(app, 'unthrottled')).statusCode, 401)
  t.match(output, /throttle counters unreachable: request not counted/)
})

t.test('the Redis store counts atomically under concurrency', async t => {
  const prefix = uniquePrefix()
  const store = await redisCounterStore(REDIS_URL, prefix)
  await store.ready()
  await store.ready()
  const redis = new Redis(REDIS_URL)
  t.teardown(async () => { await store.close(); await redis.del(`${prefix}burst`); redis.disconnect() })
  const hits = await Promise.all(Array.from({ length: 50 }, async () => await store.hit('burst', 10_000)))
  t.same(hits.map(hit => hit.count).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i + 1), 'each hit got its own count')
})
