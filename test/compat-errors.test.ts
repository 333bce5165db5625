import t from 'tap'
import { sql } from 'drizzle-orm'
import { buildTestApp, get, obtainPair, PASSWORD, post, registerUser } from './helpers/app.js'
import { base64url, decodePayload, encodeJwt, nowSeconds, simplejwtClaims, withPayload, without } from './helpers/jwt.js'
import {
  assertReply, assertReplyMatches, bearer, deactivateInDatabase, deleteInDatabase, getWithAuthorization, postForm, postRaw
} from './helpers/wire.js'

// COMPAT.md "Errors": every row of the tables "Protected routes", "Token
// endpoints", "Registration" and "Any route", byte for byte.

const NOT_PROVIDED = '{"detail":"Authentication credentials were not provided."}'
const BAD_HEADER = '{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}'
const invalidAccess = (message: string) =>
  '{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":' +
  `[{"token_class":"AccessToken","token_type":"access","message":"${message}"}]}`
const INVALID_ACCESS = invalidAccess('Token is invalid or expired')
const tokenNotValid = (detail: string) => `{"detail":"${detail}","code":"token_not_valid"}`
const INVALID = tokenNotValid('Token is invalid or expired')
const BLACKLISTED = tokenNotValid('Token is blacklisted')
const WRONG_TYPE = tokenNotValid('Token has wrong type')
const NO_ACTIVE_ACCOUNT = '{"detail":"No active account found with the given credentials"}'
const NO_ACTIVE_ACCOUNT_FOR_TOKEN = '{"detail":"No active account found for the given token.","code":"no_active_account"}'
const PROTECTED_ROUTES = ['/protected/', '/private/', '/api/users/me/']
const TOKEN_ROUTES = ['/api/token/', '/login/']
const REFRESH_ROUTES = ['/api/token/refresh/', '/api/token/blacklist/']
const PUBLIC_ROUTES = [...TOKEN_ROUTES, ...REFRESH_ROUTES, '/api/token/verify/', '/register/']
const USERNAME_INVALID = 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.'

const app = await buildTestApp(t)
const userId = await registerUser(app, 'errors')

/** Tokens a client could have in hand that are not valid access tokens, by COMPAT's words. */
async function invalidTokens (): Promise<Array<[string, string]>> {
  const { access } = await obtainPair(app, 'errors')
  const claims = simplejwtClaims('access', userId)
  const [header, payload, signature] = access.split('.') as [string, string, string]
  const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1)!
  return [
    ['bad signature', `${header}.${payload}.${flipped}`],
    ['signature of another token', `${header}.${payload}.${encodeJwt(claims).split('.')[2]!}`],
    ['tampered payload', withPayload(access, { ...decodePayload(access), user_id: userId + 1 })],
    ['tampered exp', withPayload(access, { ...decodePayload(access), exp: nowSeconds() + 86400 })],
    ['garbage', 'garbage'],
    ['garbage in three segments', 'a.b.c'],
    ['two segments', `${header}.${payload}`],
    ['four segments', `${access}.${signature}`],
    ['header not JSON', `${base64url('{"alg":')}.${payload}.${signature}`],
    ['payload not JSON', encodeJwt('{"token_type":')],
    ['payload a JSON array', encodeJwt('[1,2]')],
    ['payload a JSON string', encodeJwt('"exp"')],
    ['payload a JSON number', encodeJwt('12')],
    ['expired', encodeJwt(simplejwtClaims('access', userId, { iat: nowSeconds() - 400 }))],
    ['future iat', encodeJwt(simplejwtClaims('access', userId, { iat: nowSeconds() + 60 }))],
    ['wrong key', encodeJwt(claims, { key: 'another-signing-key-that-is-long-enough-012345' })],
    ['wrong algorithm HS384', encodeJwt(claims, { algorithm: 'HS384' })],
    ['wrong algorithm HS512', encodeJwt(claims, { algorithm: 'HS512' })],
    ['alg none', encodeJwt(claims, { algorithm: 'none' })]
  ]
}

// Protected routes

t.test('Protected: no Authorization, another scheme (Token x), or lower-case bearer → 401 not provided', async t => {
  const { access } = await obtainPair(app, 'errors')
  for (const url of PROTECTED_ROUTES) {
    assertReply(t, await getWithAuthorization(app, url), 401, NOT_PROVIDED, `${url} without Authorization`)
    assertReply(t, await getWithAuthorization(app, url, ''), 401, NOT_PROVIDED, `${url} with an empty Authorization`)
    assertReply(t, await getWithAuthorization(app, url, 'Token x'), 401, NOT_PROVIDED, `${url} Token x`)
    assertReply(t, await getWithAuthorization(app, url, `Basic ${base64url('errors:pw')}`), 401, NOT_PROVIDED, `${url} Basic`)
    assertReply(t, await getWithAuthorization(app, url, `bearer ${access}`), 401, NOT_PROVIDED, `${url} bearer <valid access>`)
    assertReply(t, await getWithAuthorization(app, url, `JWT ${access}`), 401, NOT_PROVIDED, `${url} JWT <valid access>`)
  }
})

t.test('Protected: Bearer alone, or three parts → 401 bad_authorization_header', async t => {
  const { access } = await obtainPair(app, 'errors')
  for (const url of PROTECTED_ROUTES) {
    assertReply(t, await getWithAuthorization(app, url, 'Bearer'), 401, BAD_HEADER, `${url} Bearer`)
    assertReply(t, await getWithAuthorization(app, url, `Bearer ${access} extra`), 401, BAD_HEADER, `${url} three parts`)
    assertReply(t, await getWithAuthorization(app, url, 'Bearer a b c'), 401, BAD_HEADER, `${url} four parts`)
  }
})

t.test('Protected: bad signature, tampered payload, garbage, expired, future iat, wrong key, wrong algorithm, alg none → 401 token_not_valid', async t => {
  for (const [name, token] of await invalidTokens()) {
    for (const url of PROTECTED_ROUTES) {
      assertReply(t, await get(app, url, token), 401, INVALID_ACCESS, `${url} ${name}`)
    }
  }
})

t.test('Protected: refresh token used as access → 401 "Token has wrong type"', async t => {
  const { refresh } = await obtainPair(app, 'errors')
  for (const url of PROTECTED_ROUTES) {
    assertReply(t, await get(app, url, refresh), 401, invalidAccess('Token has wrong type'), url)
  }
  const crafted = encodeJwt({ ...simplejwtClaims('access', userId), token_type: 'id' })
  assertReply(t, await get(app, '/protected/', crafted), 401, invalidAccess('Token has wrong type'), 'token_type "id"')
})

t.test('Protected: signed token without token_type / jti / exp → 401 "Token has no type" / "Token has no id" / "Token has no \'exp\' claim"', async t => {
  const claims = simplejwtClaims('access', userId)
  for (const url of PROTECTED_ROUTES) {
    assertReply(t, await get(app, url, encodeJwt(without(claims, 'token_type'))), 401, invalidAccess('Token has no type'), `${url} no token_type`)
    assertReply(t, await get(app, url, encodeJwt(without(claims, 'jti'))), 401, invalidAccess('Token has no id'), `${url} no jti`)
    assertReply(t, await get(app, url, encodeJwt(without(claims, 'exp'))), 401, invalidAccess("Token has no 'exp' claim"), `${url} no exp`)
  }
})

t.test('Protected: signed token without user_id → 401 no recognizable user identification', async t => {
  const token = encodeJwt(without(simplejwtClaims('access', userId), 'user_id'))
  for (const url of PROTECTED_ROUTES) {
    assertReply(t, await get(app, url, token), 401,
      '{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}', url)
  }
})

t.test('Protected: user_id of a user that does not exist → 401 user_not_found', async t => {
  const NOT_FOUND = '{"detail":"User not found","code":"user_not_found"}'
  for (const url of PROTECTED_ROUTES) {
    assertReply(t, await get(app, url, encodeJwt(simplejwtClaims('access', 2_000_000_000))), 401, NOT_FOUND, `${url} unknown id`)
  }
  // A user deleted after logging in, before any protected route saw them.
  const id = await registerUser(app, 'deleted-then-protected')
  const { access } = await obtainPair(app, 'deleted-then-protected')
  await deleteInDatabase(app, id)
  for (const url of PROTECTED_ROUTES) {
    assertReply(t, await get(app, url, access), 401, NOT_FOUND, `${url} deleted user`)
  }
})

t.test('Protected: user deactivated → 401 user_inactive', async t => {
  const id = await registerUser(app, 'deactivated-then-protected')
  const { access } = await obtainPair(app, 'deactivated-then-protected')
  await deactivateInDatabase(app, id)
  for (const url of PROTECTED_ROUTES) {
    assertReply(t, await get(app, url, access), 401, '{"detail":"User is inactive","code":"user_inactive"}', url)
  }
})

t.test('Protected: wrong method with a valid token → 405; without a token → 401 (auth is checked first)', async t => {
  const { access } = await obtainPair(app, 'errors')
  for (const url of PROTECTED_ROUTES) {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const withToken = await app.inject({ method, url, headers: bearer(access) })
      assertReply(t, withToken, 405, `{"detail":"Method \\"${method}\\" not allowed."}`, `${method} ${url} with a token`)
      assertReply(t, await app.inject({ method, url }), 401, NOT_PROVIDED, `${method} ${url} without a token`)
    }
    const badToken = await app.inject({ method: 'POST', url, headers: bearer('garbage') })
    assertReply(t, badToken, 401, INVALID_ACCESS, `POST ${url} with a bad token`)
    // DRF never reads the body of a method the view does not handle.
    const METHOD_POST = '{"detail":"Method \\"POST\\" not allowed."}'
    assertReply(t, await postRaw(app, url, '{bad json', 'application/json', bearer(access)), 405, METHOD_POST, `POST ${url} with malformed JSON`)
    assertReply(t, await postRaw(app, url, 'hello', 'text/plain', bearer(access)), 405, METHOD_POST, `POST ${url} with text/plain`)
    assertReply(t, await postRaw(app, url, '{bad json', 'application/json'), 401, NOT_PROVIDED, `POST ${url} with malformed JSON, no token`)
  }
})

// Token endpoints

t.test('Token endpoints: wrong password, unknown user, inactive user → 401 no active account (no period)', async t => {
  const inactive = await registerUser(app, 'inactive-login')
  await deactivateInDatabase(app, inactive)
  for (const url of TOKEN_ROUTES) {
    assertReply(t, await post(app, url, { username: 'errors', password: `${PASSWORD}!` }), 401, NO_ACTIVE_ACCOUNT, `${url} wrong password`)
    assertReply(t, await post(app, url, { username: 'nobody-here', password: PASSWORD }), 401, NO_ACTIVE_ACCOUNT, `${url} unknown user`)
    assertReply(t, await post(app, url, { username: 'inactive-login', password: PASSWORD }), 401, NO_ACTIVE_ACCOUNT, `${url} inactive user`)
    assertReply(t, await postForm(app, url, { username: 'errors', password: 'nope' }), 401, NO_ACTIVE_ACCOUNT, `${url} form-encoded wrong password`)
  }
})

t.test('Token endpoints: missing fields → 400 "This field is required.", only the missing ones, username first', async t => {
  const BOTH = '{"username":["This field is required."],"password":["This field is required."]}'
  for (const url of TOKEN_ROUTES) {
    assertReply(t, await post(app, url, {}), 400, BOTH, `${url} {}`)
    assertReply(t, await post(app, url, { password: PASSWORD }), 400, '{"username":["This field is required."]}', `${url} no username`)
    assertReply(t, await post(app, url, { username: 'errors' }), 400, '{"password":["This field is required."]}', `${url} no password`)
    assertReply(t, await post(app, url, { password: 'x', nickname: 'errors' }), 400, '{"username":["This field is required."]}', `${url} other fields`)
    assertReply(t, await postRaw(app, url, ''), 400, BOTH, `${url} empty JSON body`)
    assertReply(t, await app.inject({ method: 'POST', url }), 400, BOTH, `${url} no body at all`)
    // DRF reads no body without a Content-Type.
    const untyped = await app.inject({ method: 'POST', url, payload: Buffer.from(`username=errors&password=${PASSWORD}`) })
    assertReply(t, untyped, 400, BOTH, `${url} a body without Content-Type`)
    assertReply(t, await postForm(app, url, {}), 400, BOTH, `${url} empty form`)
    assertReply(t, await postForm(app, url, { username: 'errors' }), 400, '{"password":["This field is required."]}', `${url} form without password`)
  }
  for (const url of REFRESH_ROUTES) {
    assertReply(t, await post(app, url, {}), 400, '{"refresh":["This field is required."]}', `${url} {}`)
  }
})

t.test('Token endpoints: blank fields → 400 "This field may not be blank."', async t => {
  const BOTH = '{"username":["This field may not be blank."],"password":["This field may not be blank."]}'
  for (const url of TOKEN_ROUTES) {
    assertReply(t, await post(app, url, { username: '', password: '' }), 400, BOTH, `${url} both empty`)
    assertReply(t, await post(app, url, { username: '  ', password: ' \t ' }), 400, BOTH, `${url} both whitespace (trimmed, as DRF does)`)
    assertReply(t, await post(app, url, { username: '', password: PASSWORD }), 400, '{"username":["This field may not be blank."]}', `${url} blank username`)
    assertReply(t, await post(app, url, { username: 'errors', password: '' }), 400, '{"password":["This field may not be blank."]}', `${url} blank password`)
    assertReply(t, await post(app, url, { password: '' }), 400,
      '{"username":["This field is required."],"password":["This field may not be blank."]}', `${url} missing and blank`)
    assertReply(t, await postForm(app, url, { username: '', password: '' }), 400, BOTH, `${url} form-encoded`)
  }
  for (const url of [...REFRESH_ROUTES]) {
    assertReply(t, await post(app, url, { refresh: '' }), 400, '{"refresh":["This field may not be blank."]}', `${url} blank refresh`)
  }
})

t.test('Token endpoints: refresh/blacklist with a bad, expired or tampered token → 401 "Token is invalid or expired"', async t => {
  const { refresh } = await obtainPair(app, 'errors')
  const now = nowSeconds()
  const bad: Array<[string, string]> = [
    ['garbage', 'garbage'],
    ['garbage in three segments', 'a.b.c'],
    ['tampered', withPayload(refresh, { ...decodePayload(refresh), user_id: userId + 1 })],
    ['expired', encodeJwt(simplejwtClaims('refresh', userId, { iat: now - 86401 }))],
    ['future iat', encodeJwt(simplejwtClaims('refresh', userId, { iat: now + 60 }))],
    ['wrong key', encodeJwt(simplejwtClaims('refresh', userId), { key: 'another-signing-key-that-is-long-enough-012345' })],
    ['wrong algorithm', encodeJwt(simplejwtClaims('refresh', userId), { algorithm: 'HS512' })],
    ['alg none', encodeJwt(simplejwtClaims('refresh', userId), { algorithm: 'none' })]
  ]
  for (const url of REFRESH_ROUTES) {
    for (const [name, token] of bad) {
      assertReply(t, await post(app, url, { refresh: token }), 401, INVALID, `${url} ${name}`)
    }
  }
  t.equal((await post(app, '/api/token/refresh/', { refresh })).statusCode, 200, 'the untampered token still refreshes')
})

t.test('Token endpoints: refresh/blacklist given an access token → 401 "Token has wrong type"', async t => {
  const { access } = await obtainPair(app, 'errors')
  for (const url of REFRESH_ROUTES) {
    assertReply(t, await post(app, url, { refresh: access }), 401, WRONG_TYPE, url)
  }
})

t.test('Token endpoints: refresh/blacklist with a token already rotated or blacklisted → 401 "Token is blacklisted"', async t => {
  const rotated = await obtainPair(app, 'errors')
  t.equal((await post(app, '/api/token/refresh/', { refresh: rotated.refresh })).statusCode, 200, 'rotated once')
  const loggedOut = await obtainPair(app, 'errors')
  assertReply(t, await post(app, '/api/token/blacklist/', { refresh: loggedOut.refresh }), 200, '{}', 'blacklisted once')
  for (const url of REFRESH_ROUTES) {
    assertReply(t, await post(app, url, { refresh: rotated.refresh }), 401, BLACKLISTED, `${url} rotated token`)
    assertReply(t, await post(app, url, { refresh: loggedOut.refresh }), 401, BLACKLISTED, `${url} blacklisted token`)
  }
})

t.test('Token endpoints: verify a blacklisted refresh token → 400 non_field_errors', async t => {
  const rotated = await obtainPair(app, 'errors')
  await post(app, '/api/token/refresh/', { refresh: rotated.refresh })
  const loggedOut = await obtainPair(app, 'errors')
  await post(app, '/api/token/blacklist/', { refresh: loggedOut.refresh })
  const BODY = '{"non_field_errors":["Token is blacklisted"]}'
  assertReply(t, await post(app, '/api/token/verify/', { token: rotated.refresh }), 400, BODY, 'rotated')
  assertReply(t, await post(app, '/api/token/verify/', { token: loggedOut.refresh }), 400, BODY, 'blacklisted')
})

t.test('Token endpoints: verify a bad or expired token → 401 "Token is invalid or expired"', async t => {
  const { access, refresh } = await obtainPair(app, 'errors')
  const now = nowSeconds()
  const bad: Array<[string, string]> = [
    ['garbage', 'garbage'],
    ['tampered access', withPayload(access, { ...decodePayload(access), user_id: userId + 1 })],
    ['tampered refresh', withPayload(refresh, { ...decodePayload(refresh), exp: now + 999999 })],
    ['expired access', encodeJwt(simplejwtClaims('access', userId, { iat: now - 301 }))],
    ['expired refresh', encodeJwt(simplejwtClaims('refresh', userId, { iat: now - 86401 }))],
    ['wrong key', encodeJwt(simplejwtClaims('access', userId), { key: 'another-signing-key-that-is-long-enough-012345' })],
    ['alg none', encodeJwt(simplejwtClaims('access', userId), { algorithm: 'none' })]
  ]
  for (const [name, token] of bad) {
    assertReply(t, await post(app, '/api/token/verify/', { token }), 401, INVALID, name)
  }
})

t.test('Token endpoints: verify with no token field → 400 {"token":["This field is required."]}', async t => {
  assertReply(t, await post(app, '/api/token/verify/', {}), 400, '{"token":["This field is required."]}', 'JSON')
  assertReply(t, await post(app, '/api/token/verify/', { refresh: 'x' }), 400, '{"token":["This field is required."]}', 'another field')
  assertReply(t, await postForm(app, '/api/token/verify/', {}), 400, '{"token":["This field is required."]}', 'form-encoded')
})

t.test('Token endpoints: refresh for a user deleted or inactive → 401 no_active_account', async t => {
  const deleted = await registerUser(app, 'deleted-then-refresh')
  const deletedPair = await obtainPair(app, 'deleted-then-refresh')
  await deleteInDatabase(app, deleted)
  assertReply(t, await post(app, '/api/token/refresh/', { refresh: deletedPair.refresh }), 401, NO_ACTIVE_ACCOUNT_FOR_TOKEN, 'deleted')

  const inactive = await registerUser(app, 'inactive-then-refresh')
  const inactivePair = await obtainPair(app, 'inactive-then-refresh')
  await deactivateInDatabase(app, inactive)
  assertReply(t, await post(app, '/api/token/refresh/', { refresh: inactivePair.refresh }), 401, NO_ACTIVE_ACCOUNT_FOR_TOKEN, 'inactive')

  const neverExisted = encodeJwt(simplejwtClaims('refresh', 2_000_000_000))
  assertReply(t, await post(app, '/api/token/refresh/', { refresh: neverExisted }), 401, NO_ACTIVE_ACCOUNT_FOR_TOKEN, 'never existed')
  const noUser = encodeJwt(without(simplejwtClaims('refresh', userId), 'user_id'))
  assertReply(t, await post(app, '/api/token/refresh/', { refresh: noUser }), 401, NO_ACTIVE_ACCOUNT_FOR_TOKEN, 'no user_id')
})

t.test('Token endpoints: refresh token without jti → 401 "Token has no id"', async t => {
  const token = encodeJwt(without(simplejwtClaims('refresh', userId), 'jti'))
  for (const url of REFRESH_ROUTES) {
    assertReply(t, await post(app, url, { refresh: token }), 401, tokenNotValid('Token has no id'), url)
  }
})

// Registration

t.test('Registration: username taken → 400, also when it differs only in case', async t => {
  const TAKEN = '{"username":["A user with that username already exists."]}'
  await registerUser(app, 'taken')
  assertReply(t, await post(app, '/register/', { username: 'taken', password: PASSWORD }), 400, TAKEN, 'same')
  assertReply(t, await post(app, '/register/', { username: 'TaKeN', password: PASSWORD }), 400, TAKEN, 'other case')
  assertReply(t, await post(app, '/register/', { username: ' taken ', password: PASSWORD }), 400, TAKEN, 'surrounded by spaces')
  assertReply(t, await postForm(app, '/register/', { username: 'TAKEN', password: PASSWORD }), 400, TAKEN, 'form-encoded')
})

t.test('Registration: bad username characters and bad email → 400 with both, username first', async t => {
  const EMAIL_INVALID = 'Enter a valid email address.'
  assertReply(t, await post(app, '/register/', { username: 'bad name!', email: 'not-an-email', password: PASSWORD }), 400,
    `{"username":["${USERNAME_INVALID}"],"email":["${EMAIL_INVALID}"]}`, 'both')
  assertReply(t, await post(app, '/register/', { email: 'not-an-email', password: PASSWORD, username: 'bad/name' }), 400,
    `{"username":["${USERNAME_INVALID}"],"email":["${EMAIL_INVALID}"]}`, 'both, sent in another order')
  assertReply(t, await post(app, '/register/', { username: 'bad name!', password: PASSWORD }), 400,
    `{"username":["${USERNAME_INVALID}"]}`, 'username alone')
  assertReply(t, await post(app, '/register/', { username: 'goodname', email: 'a@b', password: PASSWORD }), 400,
    `{"email":["${EMAIL_INVALID}"]}`, 'email alone')
})

t.test('Registration: weak password → 400 with Django\'s validators\' messages (Tessera)', async t => {
  const weak = async (username: string, password: string, messages: string[], email?: string) => {
    const response = await post(app, '/register/', { username, password, ...(email === undefined ? {} : { email }) })
    assertReply(t, response, 400, JSON.stringify({ password: messages }), `${username}: ${password}`)
  }
  await weak('shorty', 'xK9#pQ', ['This password is too short. It must contain at least 8 characters.'])
  await weak('commoner', 'password123', ['This password is too common.'])
  await weak('numberer', '73920584613', ['This password is entirely numeric.'])
  await weak('margaretha', 'margaretha1', ['The password is too similar to the username.'])
  await weak('mailer', 'zebrafish@x.org', ['The password is too similar to the email address.'], 'zebrafish@x.org')
  await weak('several', '12345', [
    'This password is too short. It must contain at least 8 characters.',
    'This password is too common.',
    'This password is entirely numeric.'
  ])
  const nobody = await post(app, '/api/token/', { username: 'shorty', password: 'xK9#pQ' })
  assertReply(t, nobody, 401, NO_ACTIVE_ACCOUNT, 'no user was created')
})

// Any route

t.test('Any route: malformed JSON → 400 {"detail":"JSON parse error - <reason>"}', async t => {
  for (const url of PUBLIC_ROUTES) {
    for (const body of ['{"username": "a",', '{bad json}', 'nul', '{"a":1}x']) {
      const response = await postRaw(app, url, body)
      assertReplyMatches(t, response, 400, /^\{"detail":"JSON parse error - .+"\}$/, `${url} ${body}`)
      t.same(Object.keys(response.json()), ['detail'], `${url} ${body}: only detail`)
    }
  }
})

t.test('Any route: a JSON array or scalar instead of an object → 400 "Expected a dictionary, but got <type>."', async t => {
  const cases: Array<[string, string]> = [
    ['[]', 'list'],
    ['[{"username":"errors","password":"x"}]', 'list'],
    ['"username"', 'str'],
    ['42', 'int'],
    ['-7', 'int'],
    ['4.2', 'float'],
    ['1.0', 'float'],
    ['1e3', 'float'],
    ['true', 'bool'],
    ['false', 'bool']
  ]
  for (const url of PUBLIC_ROUTES) {
    for (const [body, type] of cases) {
      assertReply(t, await postRaw(app, url, body), 400,
        `{"non_field_errors":["Invalid data. Expected a dictionary, but got ${type}."]}`, `${url} ${body}`)
    }
    // DRF's serializer answers a null body with its own words.
    assertReply(t, await postRaw(app, url, 'null'), 400, '{"non_field_errors":["No data provided"]}', `${url} null`)
  }
})

t.test('Any route: unsupported content type → 415 Unsupported media type', async t => {
  for (const url of PUBLIC_ROUTES) {
    assertReply(t, await postRaw(app, url, 'username=errors', 'text/plain'), 415,
      '{"detail":"Unsupported media type \\"text/plain\\" in request."}', `${url} text/plain`)
    assertReply(t, await postRaw(app, url, '<a/>', 'application/xml; charset=utf-8'), 415,
      '{"detail":"Unsupported media type \\"application/xml; charset=utf-8\\" in request."}', `${url} application/xml`)
  }
})

t.test('Any route: method not allowed → 405 Method "<METHOD>" not allowed.', async t => {
  for (const url of PUBLIC_ROUTES) {
    assertReply(t, await app.inject({ method: 'GET', url }), 405, '{"detail":"Method \\"GET\\" not allowed."}', `GET ${url}`)
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      assertReply(t, await app.inject({ method, url }), 405, `{"detail":"Method \\"${method}\\" not allowed."}`, `${method} ${url}`)
    }
  }
  assertReply(t, await app.inject({ method: 'GET', url: '/api/token' }), 405, '{"detail":"Method \\"GET\\" not allowed."}',
    'GET /api/token (no trailing slash)')
  // DRF never reads the body of a method the view does not handle.
  for (const [body, contentType] of [['{bad json', 'application/json'], ['[]', 'application/json'], ['x', 'text/plain']]) {
    const response = await app.inject({ method: 'PUT', url: '/register/', payload: body, headers: { 'content-type': contentType } })
    assertReply(t, response, 405, '{"detail":"Method \\"PUT\\" not allowed."}', `PUT /register/ with ${contentType} ${body}`)
  }
})

t.test('Any route: an Accept that JSON cannot satisfy → 406', async t => {
  const NOT_ACCEPTABLE = '{"detail":"Could not satisfy the request Accept header."}'
  const xml = { accept: 'application/xml' }
  assertReply(t, await post(app, '/api/token/', { username: 'errors', password: PASSWORD }, xml), 406, NOT_ACCEPTABLE, '/api/token/')
  assertReply(t, await post(app, '/register/', { username: 'accept-xml', password: PASSWORD }, xml), 406, NOT_ACCEPTABLE, '/register/')
  assertReply(t, await post(app, '/api/token/refresh/', { refresh: 'x' }, xml), 406, NOT_ACCEPTABLE, '/api/token/refresh/')
  // DRF negotiates the response before it authenticates.
  assertReply(t, await app.inject({ method: 'GET', url: '/protected/', headers: xml }), 406, NOT_ACCEPTABLE, '/protected/ without a token')
  const { access } = await obtainPair(app, 'errors')
  assertReply(t, await app.inject({ method: 'GET', url: '/protected/', headers: { ...xml, ...bearer(access) } }), 406, NOT_ACCEPTABLE,
    '/protected/ with a token')
  for (const accept of ['text/html', 'application/xml;q=1, text/*', 'application/jsonp', 'json']) {
    const response = await app.inject({ method: 'GET', url: '/protected/', headers: { accept, ...bearer(access) } })
    assertReply(t, response, 406, NOT_ACCEPTABLE, `Accept: ${accept}`)
  }
  // DRF's negotiation ignores q values, q=0 included: its documentation says so.
  for (const accept of ['application/json;q=0', 'text/html, application/json; q=0.0', 'Application/JSON; indent=4']) {
    const response = await app.inject({ method: 'GET', url: '/protected/', headers: { accept, ...bearer(access) } })
    assertReply(t, response, 200, '{"content":"This view is protected"}', `Accept: ${accept}`)
  }
  for (const accept of ['application/json', '*/*', 'application/*', 'text/html, application/json;q=0.5', 'application/xml, */*;q=0.1']) {
    const response = await app.inject({ method: 'GET', url: '/protected/', headers: { accept, ...bearer(access) } })
    assertReply(t, response, 200, '{"content":"This view is protected"}', `Accept: ${accept}`)
  }
})

t.test('Any route: unknown path → 404 {"detail":"Not found."} (Tessera)', async t => {
  for (const [method, url] of [['GET', '/nope/'], ['POST', '/api/token/extra/'], ['GET', '/'], ['DELETE', '/api/']] as const) {
    assertReply(t, await app.inject({ method, url }), 404, '{"detail":"Not found."}', `${method} ${url}`)
  }
  assertReply(t, await postRaw(app, '/nope/', '{bad json'), 404, '{"detail":"Not found."}', 'POST /nope/ with malformed JSON')
  assertReply(t, await postRaw(app, '/nope/', 'x', 'text/plain'), 404, '{"detail":"Not found."}', 'POST /nope/ with text/plain')
})

t.test('Any route: anything unexpected → 500 {"detail":"A server error occurred."}, no internals (Tessera)', async t => {
  const broken = await buildTestApp(t)
  await registerUser(broken, 'broken')
  // The database loses its tables: every query fails from now on.
  await broken.database.db.execute(sql`drop table refresh_tokens, sessions, users`)
  const SERVER_ERROR = '{"detail":"A server error occurred."}'
  assertReply(t, await post(broken, '/api/token/', { username: 'broken', password: PASSWORD }), 500, SERVER_ERROR, '/api/token/')
  assertReply(t, await post(broken, '/register/', { username: 'broken2', password: PASSWORD }), 500, SERVER_ERROR, '/register/')
})

t.test('Public routes ignore the Authorization header (Tessera: also a bad bearer token on /register/)', async t => {
  for (const [index, authorization] of ['Bearer garbage', 'Bearer', 'Bearer a b', 'Token x'].entries()) {
    const headers = { authorization }
    const registered = await post(app, '/register/', { username: `public${index}`, password: PASSWORD }, headers)
    assertReplyMatches(t, registered, 201, /^\{"id":\d+,"username":"public\d+","email":""\}$/, `/register/ with ${authorization}`)
    for (const url of TOKEN_ROUTES) {
      const obtained = await post(app, url, { username: 'errors', password: PASSWORD }, headers)
      t.equal(obtained.statusCode, 200, `${url} with ${authorization}`)
    }
    const { access, refresh } = await obtainPair(app, 'errors')
    assertReply(t, await post(app, '/api/token/verify/', { token: access }, headers), 200, '{}', `/api/token/verify/ with ${authorization}`)
    t.equal((await post(app, '/api/token/refresh/', { refresh }, headers)).statusCode, 200, `/api/token/refresh/ with ${authorization}`)
    const other = await obtainPair(app, 'errors')
    assertReply(t, await post(app, '/api/token/blacklist/', { refresh: other.refresh }, headers), 200, '{}',
      `/api/token/blacklist/ with ${authorization}`)
  }
})
