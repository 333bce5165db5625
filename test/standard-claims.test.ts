import t from 'tap'
import { loadConfig } from '../src/config.js'
import { buildTestApp, obtainPair, post, registerUser } from './helpers/app.js'
import { decodeHeader, decodePayload, encodeJwt, nowSeconds, rawPayload, simplejwtClaims } from './helpers/jwt.js'
import { assertReply, bearer } from './helpers/wire.js'

// RFC 7519's registered claims where configured: iss and aud minted and
// required, sub alongside user_id, clock skew, nbf, and access tokens typed
// at+jwt (RFC 9068). The defaults keep SimpleJWT's bytes (compat-tokens.test.ts).

const INVALID_ACCESS = '{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":' +
  '[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]}'
const INVALID = '{"detail":"Token is invalid or expired","code":"token_not_valid"}'
const ISSUER = 'https://tessera.example'
const AUDIENCE = 'https://api.example'

t.test('JWT_ISSUER, JWT_AUDIENCE, JWT_SUB_CLAIM and JWT_ACCESS_TOKEN_TYPE are read from the environment', async t => {
  const config = loadConfig({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_SUB_CLAIM: 'yes', JWT_LEEWAY: '30s', JWT_ACCESS_TOKEN_TYPE: 'at+jwt' })
  t.match(config, { jwtIssuer: ISSUER, jwtAudience: AUDIENCE, jwtSubClaim: true, jwtLeeway: 30, jwtAccessTokenType: 'at+jwt' })
  t.throws(() => loadConfig({ JWT_LEEWAY: '1h' }), { message: /JWT_LEEWAY="3600" is not valid: expected the clock skew allowed/ })
  t.throws(() => loadConfig({ JWT_ACCESS_TOKEN_TYPE: 'jwt' }), { message: /JWT_ACCESS_TOKEN_TYPE="jwt" is not valid/ })
})

t.test('configured, tokens carry iss, aud and sub after user_id, and must carry the right ones', async t => {
  const app = await buildTestApp(t, { jwtIssuer: ISSUER, jwtAudience: AUDIENCE, jwtSubClaim: true, jwtAccessTokenType: 'at+jwt' })
  const userId = await registerUser(app)
  const pair = await obtainPair(app)
  t.same(Object.keys(decodePayload(pair.access)), ['token_type', 'exp', 'iat', 'jti', 'user_id', 'sid', 'iss', 'aud', 'sub'], 'sid (sessions) right after user_id, then the standard claims')
  t.match(rawPayload(pair.refresh), new RegExp(`"user_id":${userId},"iss":"https://tessera.example","aud":"https://api.example","sub":"${userId}"}$`))
  t.same(decodeHeader(pair.access), { alg: 'HS256', typ: 'at+jwt' }, 'access tokens are typed at+jwt')
  t.same(decodeHeader(pair.refresh), { alg: 'HS256', typ: 'JWT' }, 'refresh tokens are not access tokens')
  t.equal((await app.inject({ method: 'GET', url: '/protected/', headers: bearer(pair.access) })).statusCode, 200)
  const refreshed = await post(app, '/api/token/refresh/', { refresh: pair.refresh })
  t.equal(refreshed.statusCode, 200)
  t.equal(decodePayload(refreshed.json().access).iss, ISSUER, 'a refreshed access token too')

  const access = (extra: Record<string, unknown>) => encodeJwt({ ...simplejwtClaims('access', userId), ...extra })
  t.equal((await app.inject({ method: 'GET', url: '/protected/', headers: bearer(access({ iss: ISSUER, aud: ['other', AUDIENCE] })) })).statusCode, 200, 'aud may be a list that names us')
  for (const [name, extra] of [
    ['no iss', { aud: AUDIENCE }],
    ['another iss', { iss: 'https://evil.example', aud: AUDIENCE }],
    ['no aud', { iss: ISSUER }],
    ['another aud', { iss: ISSUER, aud: 'https://other.example' }],
    ['an aud list without us', { iss: ISSUER, aud: ['https://other.example'] }]
  ] as const) {
    assertReply(t, await app.inject({ method: 'GET', url: '/protected/', headers: bearer(access(extra)) }), 401, INVALID_ACCESS, `${name} on /protected/`)
    const refresh = encodeJwt({ ...simplejwtClaims('refresh', userId), ...extra })
    assertReply(t, await post(app, '/api/token/refresh/', { refresh }), 401, INVALID, `${name} on refresh`)
    assertReply(t, await post(app, '/api/token/verify/', { token: refresh }), 401, INVALID, `${name} on verify`)
  }
})

t.test('JWT_LEEWAY allows that much clock skew on exp, iat and nbf, and no more', async t => {
  const app = await buildTestApp(t, { jwtLeeway: 30 })
  const userId = await registerUser(app)
  const now = nowSeconds()
  const status = async (extra: Record<string, unknown>) =>
    (await app.inject({ method: 'GET', url: '/protected/', headers: bearer(encodeJwt({ ...simplejwtClaims('access', userId), ...extra })) })).statusCode
  t.equal(await status({ exp: now - 10 }), 200, 'expired 10 s ago')
  t.equal(await status({ exp: now - 60 }), 401, 'expired a minute ago')
  t.equal(await status({ iat: now + 10 }), 200, 'issued 10 s ahead')
  t.equal(await status({ iat: now + 60 }), 401, 'issued a minute ahead')
  t.equal(await status({ nbf: now + 10 }), 200, 'valid in 10 s')
  t.equal(await status({ nbf: now + 60 }), 401, 'valid in a minute')
  const strict = await buildTestApp(t)
  const strictUser = await registerUser(strict)
  const future = encodeJwt({ ...simplejwtClaims('access', strictUser), nbf: nowSeconds() + 5 })
  t.equal((await strict.inject({ method: 'GET', url: '/protected/', headers: bearer(future) })).statusCode, 401, 'without leeway, nbf in the future is refused')
})
