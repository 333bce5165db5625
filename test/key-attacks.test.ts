import { createPublicKey } from 'node:crypto'
import t from 'tap'
import { ALGORITHMS, generateStoredKey, writeKeySetFile, type StoredKey } from '../src/auth/key-set.js'
import { MAX_TOKEN_LENGTH } from '../src/auth/jws.js'
import { buildTestApp, obtainPair, post, registerUser, SIGNING_KEY } from './helpers/app.js'
import { base64url, decodeHeader, nowSeconds, simplejwtJti } from './helpers/jwt.js'
import { signToken, writeTestKeySet } from './helpers/keys.js'
import { assertReply, bearer, JWT } from './helpers/wire.js'

// RFC 8725 and the OWASP JWT cheat sheet, case by case, for every algorithm
// of the key set and for the JWT_SIGNING_KEY shortcut: each attack token is
// refused with COMPAT.md's 401 on a protected route and on refresh, verify
// and blacklist, while a token made the right way with the same key passes.

const INVALID_ACCESS = '{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":' +
  '[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]}'
const INVALID = '{"detail":"Token is invalid or expired","code":"token_not_valid"}'

const { path, file } = writeTestKeySet(t, [...ALGORITHMS])
// The shortcut key stays for tokens without kid, as when moving from JWT_SIGNING_KEY to a key set.
const app = await buildTestApp(t, { jwtKeys: path })
const userId = await registerUser(app)
const shortcut: StoredKey = { kty: 'oct', k: base64url(SIGNING_KEY), alg: 'HS256', kid: '', created: '' }

const claims = (tokenType: 'access' | 'refresh', extra: Record<string, unknown> = {}) => {
  const now = nowSeconds()
  return { token_type: tokenType, exp: now + 300, iat: now, jti: simplejwtJti(), user_id: userId, ...extra }
}
const unsigned = (header: unknown, payload: unknown) => `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.`

/** The attack tokens against one key: [name, token] pairs. */
function attacks (key: StoredKey, tokenType: 'access' | 'refresh'): Array<[string, string]> {
  const kid = key.kid === '' ? {} : { kid: key.kid }
  const header = (extra: Record<string, unknown> = {}) => ({ alg: key.alg, typ: 'JWT', ...kid, ...extra })
  const payload = claims(tokenType)
  const signed = (h: Record<string, unknown> | string, p: Record<string, unknown> | string = payload) => signToken(key, h, p)
  const good = signed(header())
  const [goodHeader, goodPayload] = good.split('.') as [string, string, string]
  const cases: Array<[string, string]> = []
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    cases.push([`alg ${alg}, no signature`, unsigned(header({ alg }), payload)])
    cases.push([`alg ${alg}, with the real signature`, `${base64url(JSON.stringify(header({ alg })))}.${goodPayload}.${good.split('.')[2]}`])
  }
  cases.push(['no alg', signed({ typ: 'JWT', ...kid })])
  cases.push(['an unknown algorithm', signed(header({ alg: 'ES512' }))])
  if (key.alg.startsWith('HS')) {
    cases.push(['the secret used with another HMAC algorithm', signToken({ ...key, alg: key.alg === 'HS256' ? 'HS512' : 'HS256' }, header({ alg: key.alg === 'HS256' ? 'HS512' : 'HS256' }), payload)])
    cases.push(['an HMAC key claimed as RS256', signed(header({ alg: 'RS256' }))])
  } else {
    // Algorithm confusion: the public key (as published) used as an HMAC secret.
    const publicPem = createPublicKey({ key: key as never, format: 'jwk' }).export({ format: 'pem', type: 'spki' }) as string
    for (const secret of [publicPem, JSON.stringify(app.keySet.jwks().keys.find(k => k.kid === key.kid))]) {
      cases.push(['HS256 signed with the public key as secret', signToken({ kty: 'oct', k: base64url(secret), alg: 'HS256', kid: key.kid, created: '' }, header({ alg: 'HS256' }), payload)])
    }
  }
  for (const bad of ['../../../../etc/passwd', '/dev/null', "' OR '1'='1", 'x'.repeat(1000), 'unknown-kid', '', 7, null, ['a']]) {
    cases.push([`kid ${JSON.stringify(bad).slice(0, 40)}`, signed({ ...header(), kid: bad })])
  }
  const attacker = generateStoredKey(key.alg)
  const attackerJwk = key.alg.startsWith('HS')
    ? { kty: 'oct', k: attacker.k }
    : createPublicKey({ key: attacker as never, format: 'jwk' }).export({ format: 'jwk' })
  cases.push(['jku naming an attacker\'s JWKS', signToken(attacker, header({ jku: 'https://attacker.example/jwks.json' }), payload)])
  cases.push(['x5u naming an attacker\'s certificate', signToken(attacker, header({ x5u: 'https://attacker.example/cert.pem' }), payload)])
  cases.push(['jwk embedding an attacker\'s key', signToken(attacker, header({ jwk: attackerJwk }), payload)])
  cases.push(['jku on a token the real key signed', signed(header({ jku: 'https://attacker.example/jwks.json' }))])
  cases.push(['x5c on a token the real key signed', signed(header({ x5c: ['MIIB'] }))])
  cases.push(['crit naming an unknown extension', signed(header({ crit: ['b64'], b64: false }))])
  cases.push(['crit naming a registered claim', signed(header({ crit: ['exp'] }))])
  cases.push(['a key of our kid that is not ours (retired, or never ours)', signToken(attacker, header(), payload)])
  cases.push(['a key of another kid that is not ours', signToken(attacker, header({ kid: attacker.kid }), payload)])
  cases.push(['typ of an encrypted token', signed(header({ typ: 'JWE' }))])
  cases.push(['nbf in the future', signed(header(), claims(tokenType, { nbf: nowSeconds() + 3600 }))])
  cases.push(['exp passed', signed(header(), claims(tokenType, { exp: nowSeconds() - 1 }))])
  cases.push(['user_id twice', signed(header(), JSON.stringify(payload).replace(/}$/, ',"user_id":999999}'))])
  cases.push(['token_type twice', signed(header(), JSON.stringify(payload).replace(/}$/, `,"token_type":"${tokenType === 'access' ? 'refresh' : 'access'}"}`))])
  cases.push(['alg twice in the header', signed(JSON.stringify(header()).replace(/}$/, ',"alg":"none"}'))])
  cases.push(['a tampered payload', `${goodHeader}.${base64url(JSON.stringify({ ...payload, user_id: userId + 1 }))}.${good.split('.')[2]}`])
  cases.push(['a header that is not base64url', `${goodHeader}*.${goodPayload}.${good.split('.')[2]}`])
  cases.push(['a signature that is not base64url', `${goodHeader}.${goodPayload}.${good.split('.')[2]}=`])
  cases.push(['a header that is not JSON', signed('{"alg":')])
  cases.push(['a header that is a JSON array', signed(JSON.stringify([header()]))])
  cases.push(['a payload that is not JSON', signed(header(), 'user_id=1')])
  cases.push(['a payload that is a JSON string', signed(header(), '"claims"')])
  cases.push(['a payload that is null', signed(header(), 'null')])
  cases.push(['two segments', `${goodHeader}.${goodPayload}`])
  cases.push(['four segments', `${good}.${goodPayload}`])
  cases.push(['an empty signature', `${goodHeader}.${goodPayload}.`])
  return cases
}

const keys: Array<[string, StoredKey]> = [['HS256 shortcut (no kid)', shortcut], ...file.keys.map(key => [key.alg, key] as [string, StoredKey])]

for (const [name, key] of keys) {
  t.test(`${name}: every attack gets COMPAT.md's 401`, async t => {
    const control = signToken(key, { alg: key.alg, typ: 'JWT', ...(key.kid === '' ? {} : { kid: key.kid }) }, claims('access'))
    const ok = await app.inject({ method: 'GET', url: '/protected/', headers: bearer(control) })
    t.equal(ok.statusCode, 200, 'the control token, made the right way with this key, passes')
    const refreshControl = signToken(key, { alg: key.alg, ...(key.kid === '' ? {} : { kid: key.kid }) }, claims('refresh'))
    t.equal((await post(app, '/api/token/verify/', { token: refreshControl })).statusCode, 200, 'and so does a refresh token')

    for (const [attack, token] of attacks(key, 'access')) {
      assertReply(t, await app.inject({ method: 'GET', url: '/protected/', headers: bearer(token) }), 401, INVALID_ACCESS, `${attack} on /protected/`)
    }
    for (const [attack, token] of attacks(key, 'refresh')) {
      for (const [url, field] of [['/api/token/refresh/', 'refresh'], ['/api/token/verify/', 'token'], ['/api/token/blacklist/', 'refresh']] as const) {
        assertReply(t, await post(app, url, { [field]: token }), 401, INVALID, `${attack} on ${url}`)
      }
    }
  })
}

t.test('Tessera signs with each algorithm of the set, with its kid in the header', async t => {
  for (const key of file.keys) {
    writeKeySetFile(path, { ...file, signing: key.kid })
    app.keySet.reload()
    const pair = await obtainPair(app)
    t.same(decodeHeader(pair.access), { alg: key.alg, typ: 'JWT', kid: key.kid }, `${key.alg} header`)
    t.match(pair.access, new RegExp(`^${JWT}$`))
    t.equal((await app.inject({ method: 'GET', url: '/protected/', headers: bearer(pair.access) })).statusCode, 200, `${key.alg} access token works`)
    t.equal((await post(app, '/api/token/refresh/', { refresh: pair.refresh })).statusCode, 200, `${key.alg} refresh token works`)
  }
})

t.test('a huge token is refused before it is decoded', async t => {
  const key = file.keys[0]!
  const huge = signToken(key, { alg: key.alg, kid: key.kid, pad: 'x'.repeat(64 * 1024) }, claims('access'))
  const started = process.hrtime.bigint()
  const response = await app.inject({ method: 'GET', url: '/protected/', headers: bearer(huge) })
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6
  assertReply(t, response, 401, INVALID_ACCESS, '64 KiB header on /protected/')
  t.ok(elapsedMs < 1000, `answered in ${elapsedMs.toFixed(1)} ms`)
  const justOver = signToken(key, { alg: key.alg, kid: key.kid }, claims('access', { pad: 'x'.repeat(MAX_TOKEN_LENGTH) }))
  assertReply(t, await app.inject({ method: 'GET', url: '/protected/', headers: bearer(justOver) }), 401, INVALID_ACCESS, 'a token just over the limit')
  // In a body the token is capped by the request schema and the body limit first (COMPAT.md: 400 and 413).
  t.equal((await post(app, '/api/token/verify/', { token: huge })).statusCode, 413, 'a 64 KiB body is refused by the body limit')
})
