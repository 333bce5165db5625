import t from 'tap'
import { buildTestApp, get, obtainPair, post, registerUser, SIGNING_KEY } from './helpers/app.js'
import {
  decodeHeader, decodePayload, encodeJwt, hasValidSignature, nowSeconds, rawHeader, rawPayload, simplejwtClaims, without
} from './helpers/jwt.js'
import { assertReply } from './helpers/wire.js'

// COMPAT.md "Tokens": the bytes of the tokens Tessera mints, the checks it
// makes of the tokens it is given, and interoperation with simplejwt's tokens
// (made here by an encoder of our own, as PyJWT makes them).

const HEADER = '{"alg":"HS256","typ":"JWT"}'
// Access tokens carry their session's id after user_id (COMPAT.md: extra claims only after it).
const SID = (type: string) => type === 'access' ? ',"sid":"[0-9a-f]{32}"' : ''
const CLAIMS = (type: string) => new RegExp(`^\\{"token_type":"${type}","exp":\\d+,"iat":\\d+,"jti":"[0-9a-f]{32}","user_id":\\d+${SID(type)}\\}$`)
const CLAIM_ORDER = (type: string) => ['token_type', 'exp', 'iat', 'jti', 'user_id', ...(type === 'access' ? ['sid'] : [])]
const PROTECTED = '{"content":"This view is protected"}'
const invalidAccess = (message: string) =>
  '{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":' +
  `[{"token_class":"AccessToken","token_type":"access","message":"${message}"}]}`
const INVALID = invalidAccess('Token is invalid or expired')

const app = await buildTestApp(t)
const userId = await registerUser(app, 'minted')
// Every token Tessera mints in these tests: the pair of a login and the pair of a refresh.
const login = await obtainPair(app, 'minted')
const rotated = (await post(app, '/api/token/refresh/', { refresh: login.refresh })).json() as { access: string, refresh: string }
const minted = [
  ['login access', login.access, 'access'],
  ['login refresh', login.refresh, 'refresh'],
  ['refreshed access', rotated.access, 'access'],
  ['rotated refresh', rotated.refresh, 'refresh']
] as const

t.test('Header {"alg":"HS256","typ":"JWT"}', async t => {
  for (const [name, token] of minted) {
    t.equal(rawHeader(token), HEADER, `${name}: header bytes`)
  }
})

t.test('Claims in order token_type, exp, iat, jti (32 lowercase hex), user_id (an integer), then sid in access tokens', async t => {
  for (const [name, token, type] of minted) {
    t.match(rawPayload(token), CLAIMS(type), `${name}: payload bytes`)
    const claims = decodePayload(token)
    t.same(Object.keys(claims), CLAIM_ORDER(type), `${name}: claim order`)
    t.equal(claims.token_type, type, `${name}: token_type`)
    t.match(claims.jti, /^[0-9a-f]{32}$/, `${name}: jti is uuid4().hex`)
    t.equal(claims.user_id, userId, `${name}: user_id is the user's integer id`)
    t.ok(Number.isInteger(claims.iat) && Math.abs((claims.iat as number) - nowSeconds()) < 600, `${name}: iat is now, in seconds`)
  }
  const jtis = new Set(minted.map(([, token]) => decodePayload(token).jti))
  t.equal(jtis.size, minted.length, 'every token has its own jti')
  // uuid4: version nibble 4, variant 8-b.
  for (const jti of jtis) t.match(jti, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/, 'jti is a version 4 uuid')
})

t.test('Access exp = iat + 300, refresh exp = iat + 86400 by default', async t => {
  for (const [name, token, type] of minted) {
    const { exp, iat } = decodePayload(token) as { exp: number, iat: number }
    t.equal(exp - iat, type === 'access' ? 300 : 86400, `${name}: lifetime`)
  }
})

t.test('Lifetimes follow ACCESS_TOKEN_LIFETIME and REFRESH_TOKEN_LIFETIME', async t => {
  const custom = await buildTestApp(t, { accessTokenLifetime: 60, refreshTokenLifetime: 3600 })
  await registerUser(custom, 'lifetimes')
  const { access, refresh } = await obtainPair(custom, 'lifetimes')
  const lifetime = (token: string) => (decodePayload(token).exp as number) - (decodePayload(token).iat as number)
  t.equal(lifetime(access), 60)
  t.equal(lifetime(refresh), 3600)
})

t.test('A token Tessera minted verifies with an independent HMAC-SHA256 check of the same key', async t => {
  for (const [name, token] of minted) {
    t.ok(hasValidSignature(token, SIGNING_KEY, 'HS256'), `${name}: HMAC-SHA256 under the signing key`)
    t.notOk(hasValidSignature(token, `${SIGNING_KEY}-other`, 'HS256'), `${name}: not under another key`)
  }
})

t.test('A token minted as simplejwt mints it, with the same key, verifies in Tessera', async t => {
  const access = encodeJwt(simplejwtClaims('access', userId))
  assertReply(t, await get(app, '/protected/', access), 200, PROTECTED, 'access token on /protected/')
  assertReply(t, await post(app, '/api/token/verify/', { token: access }), 200, '{}', 'access token on /api/token/verify/')

  const refresh = encodeJwt(simplejwtClaims('refresh', userId))
  assertReply(t, await post(app, '/api/token/verify/', { token: refresh }), 200, '{}', 'refresh token on /api/token/verify/')
  const response = await post(app, '/api/token/refresh/', { refresh })
  t.equal(response.statusCode, 200, 'refresh token on /api/token/refresh/')
  assertReply(t, await get(app, '/protected/', response.json().access), 200, PROTECTED, 'the access token it gave')
  assertReply(t, await post(app, '/api/token/refresh/', { refresh }), 401, '{"detail":"Token is blacklisted","code":"token_not_valid"}',
    'and it is now blacklisted')

  const other = encodeJwt(simplejwtClaims('refresh', userId))
  assertReply(t, await post(app, '/api/token/blacklist/', { refresh: other }), 200, '{}', 'refresh token on /api/token/blacklist/')
})

t.test('Verification accepts only the configured algorithm: none and every other algorithm fail', async t => {
  const claims = simplejwtClaims('access', userId)
  assertReply(t, await get(app, '/protected/', encodeJwt(claims, { algorithm: 'HS256' })), 200, PROTECTED, 'HS256')
  for (const algorithm of ['HS384', 'HS512'] as const) {
    assertReply(t, await get(app, '/protected/', encodeJwt(claims, { algorithm })), 401, INVALID, algorithm)
  }
  assertReply(t, await get(app, '/protected/', encodeJwt(claims, { algorithm: 'none' })), 401, INVALID, 'alg none, no signature')
  const noneWithSignature = encodeJwt(claims, { header: { alg: 'none', typ: 'JWT' } })
  assertReply(t, await get(app, '/protected/', noneWithSignature), 401, INVALID, 'alg none over an HS256 signature')
  const lying = encodeJwt(claims, { algorithm: 'HS512', header: { alg: 'HS256', typ: 'JWT' } })
  assertReply(t, await get(app, '/protected/', lying), 401, INVALID, 'HS512 signature under an HS256 header')
})

t.test('With JWT_ALGORITHM=HS512, Tessera signs HS512 and refuses HS256', async t => {
  const hs512 = await buildTestApp(t, { jwtAlgorithm: 'HS512' })
  const id = await registerUser(hs512, 'hs512')
  const { access, refresh } = await obtainPair(hs512, 'hs512')
  for (const token of [access, refresh]) {
    t.equal(rawHeader(token), '{"alg":"HS512","typ":"JWT"}', 'header bytes')
    t.ok(hasValidSignature(token, SIGNING_KEY, 'HS512'), 'HMAC-SHA512 under the signing key')
  }
  const claims = simplejwtClaims('access', id)
  assertReply(t, await get(hs512, '/protected/', encodeJwt(claims, { algorithm: 'HS512' })), 200, PROTECTED, 'HS512')
  assertReply(t, await get(hs512, '/protected/', encodeJwt(claims, { algorithm: 'HS256' })), 401, INVALID, 'HS256')
  assertReply(t, await get(hs512, '/protected/', encodeJwt(claims, { algorithm: 'none' })), 401, INVALID, 'none')
})

t.test('No leeway: a token whose exp has passed fails, and so does an iat in the future', async t => {
  const now = nowSeconds()
  const expired = encodeJwt(simplejwtClaims('access', userId, { iat: now - 301 }))
  t.ok((decodePayload(expired).exp as number) < now, 'exp is in the past')
  assertReply(t, await get(app, '/protected/', expired), 401, INVALID, 'exp one second ago')
  const future = encodeJwt(simplejwtClaims('access', userId, { iat: now + 60 }))
  assertReply(t, await get(app, '/protected/', future), 401, INVALID, 'iat a minute ahead')
  assertReply(t, await post(app, '/api/token/verify/', { token: future }), 401, '{"detail":"Token is invalid or expired","code":"token_not_valid"}',
    'verify: iat a minute ahead')
  const past = encodeJwt(simplejwtClaims('access', userId, { iat: now - 60 }))
  assertReply(t, await get(app, '/protected/', past), 200, PROTECTED, 'iat a minute ago, not yet expired')
})

t.test('After the signature: exp, then jti, then token_type must be present', async t => {
  const claims = simplejwtClaims('access', userId)
  const missing = async (names: string[], message: string) => {
    const token = encodeJwt(without(claims, ...names))
    assertReply(t, await get(app, '/protected/', token), 401, invalidAccess(message), `without ${names.join(', ')}`)
  }
  await missing(['exp'], "Token has no 'exp' claim")
  await missing(['jti'], 'Token has no id')
  await missing(['token_type'], 'Token has no type')
  await missing(['exp', 'jti', 'token_type'], "Token has no 'exp' claim")
  await missing(['jti', 'token_type'], 'Token has no id')

  const verify = async (names: string[], detail: string) => {
    const response = await post(app, '/api/token/verify/', { token: encodeJwt(without(claims, ...names)) })
    assertReply(t, response, 401, `{"detail":"${detail}","code":"token_not_valid"}`, `verify without ${names.join(', ')}`)
  }
  await verify(['exp'], "Token has no 'exp' claim")
  await verify(['jti'], 'Token has no id')
  // UntypedToken: verify takes a token of any type, or none.
  assertReply(t, await post(app, '/api/token/verify/', { token: encodeJwt(without(claims, 'token_type')) }), 200, '{}',
    'verify without token_type')
})

t.test('A string user_id is accepted', async t => {
  const token = encodeJwt(simplejwtClaims('access', String(userId)))
  t.equal(decodePayload(token).user_id, String(userId))
  assertReply(t, await get(app, '/protected/', token), 200, PROTECTED)
  const refresh = encodeJwt(simplejwtClaims('refresh', String(userId)))
  const response = await post(app, '/api/token/refresh/', { refresh })
  t.equal(response.statusCode, 200, 'on /api/token/refresh/ too')
  t.equal(decodePayload(response.json().access).user_id, userId, 'and the new access token has the integer id')
})

t.test('The header of a crafted token is read as JSON: key order and typ do not matter', async t => {
  const claims = simplejwtClaims('access', userId)
  const reordered = encodeJwt(claims, { header: '{"typ":"JWT","alg":"HS256"}' })
  t.same(decodeHeader(reordered), { typ: 'JWT', alg: 'HS256' })
  assertReply(t, await get(app, '/protected/', reordered), 200, PROTECTED, 'typ before alg')
  assertReply(t, await get(app, '/protected/', encodeJwt(claims, { header: '{"alg":"HS256"}' })), 200, PROTECTED, 'no typ')
})
