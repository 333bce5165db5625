import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { configWith } from '../src/config.js'
import { buildTestApp, get, post, registerUser, SIGNING_KEY } from './helpers/app.js'
import { encodeJwt, hmacSignature } from './helpers/jwt.js'

// Tokens minted by SimpleJWT 5.2.2 itself (test/fixtures/django/make-fixtures.py),
// with the Django project's key, for user 1 and expiring in a hundred years.
const legacy = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'django', 'tokens.json'), 'utf8')) as
  { signing_key: string, user_id: number, access: string, refresh: string }
const FUTURE = '2999-01-01'
const PAST = '2020-01-01T00:00:00Z'
const cutOver = (until: string) => ({ legacySimplejwtSigningKey: legacy.signing_key, legacySimplejwtUntil: until })
const NOT_VALID = {
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'AccessToken', token_type: 'access', message: 'Token is invalid or expired' }]
}

t.test('a SimpleJWT access token works on protected routes until the end of the cut-over', async t => {
  const during = await buildTestApp(t, cutOver(FUTURE))
  t.equal(await registerUser(during, 'alice'), legacy.user_id)
  const me = await get(during, '/api/users/me/', legacy.access)
  t.equal(me.statusCode, 200, me.body)
  t.equal(me.json().username, 'alice')

  const expired = encodeJwt({ token_type: 'access', exp: 1_600_000_000, iat: 1_599_999_700, jti: 'a'.repeat(32), user_id: 1 }, { key: legacy.signing_key })
  const refused = await get(during, '/protected/', expired)
  t.equal(refused.statusCode, 401)
  t.same(refused.json(), NOT_VALID, 'an expired one (rightly signed) is refused, with SimpleJWT\'s message')
  const otherKey = encodeJwt({ token_type: 'access', exp: 4_000_000_000, iat: 1_700_000_000, jti: 'b'.repeat(32), user_id: 1 }, { key: 'some-other-key' })
  t.same((await get(during, '/protected/', otherKey)).json(), NOT_VALID, 'a third key is still refused')
  t.equal((await get(during, '/protected/', (await post(during, '/api/token/', { username: 'alice', password: 'correct-horse-battery-staple' })).json().access)).statusCode, 200, 'Tessera\'s own tokens work as before')

  const after = await buildTestApp(t, cutOver(PAST))
  await registerUser(after, 'alice')
  const late = await get(after, '/api/users/me/', legacy.access)
  t.equal(late.statusCode, 401)
  t.same(late.json(), NOT_VALID, 'after the end date: refused as any bad token')

  const without = await buildTestApp(t)
  await registerUser(without, 'alice')
  t.same((await get(without, '/api/users/me/', legacy.access)).json(), NOT_VALID, 'and without the setting')
})

t.test('a SimpleJWT refresh token is exchanged for a Tessera pair, once', async t => {
  const app = await buildTestApp(t, cutOver(FUTURE))
  await registerUser(app, 'alice')
  const first = await post(app, '/api/token/refresh/', { refresh: legacy.refresh })
  t.equal(first.statusCode, 200, first.body)
  const pair = first.json()
  t.same(Object.keys(pair).sort(), ['access', 'refresh'])
  for (const token of [pair.access, pair.refresh] as string[]) {
    const [header, payload, signature] = token.split('.')
    t.equal(signature, hmacSignature(`${header}.${payload}`, SIGNING_KEY), 'signed with Tessera\'s key')
  }
  t.equal((await get(app, '/api/users/me/', pair.access)).statusCode, 200)
  const sessions = await get(app, '/api/sessions/', pair.access)
  t.equal(sessions.json().length, 1, 'the exchange started a Tessera session')
  t.equal(sessions.json()[0].current, true)
  t.equal((await post(app, '/api/token/refresh/', { refresh: pair.refresh })).statusCode, 200, 'the Tessera refresh token refreshes')

  const second = await post(app, '/api/token/refresh/', { refresh: legacy.refresh })
  t.equal(second.statusCode, 401)
  t.same(second.json(), { detail: 'Token is blacklisted', code: 'token_not_valid' }, 'the SimpleJWT refresh token is spent')
})

t.test('the cut-over settings go together and name a real date', async t => {
  // Checked with the other settings, before a database is opened.
  t.throws(() => configWith({ legacySimplejwtSigningKey: legacy.signing_key }), { name: 'ConfigError' })
  t.throws(() => configWith({ legacySimplejwtUntil: FUTURE }), /LEGACY_SIMPLEJWT_SIGNING_KEY and LEGACY_SIMPLEJWT_UNTIL go together/)
  t.throws(() => configWith(cutOver('2026-13-45')), /LEGACY_SIMPLEJWT_UNTIL="2026-13-45" is not a date/)
})
