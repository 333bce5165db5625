import t from 'tap'
import { registerUser as registerAccount } from '../src/users/accounts.js'
import { buildTestApp, get, obtainPair, PASSWORD, post, registerUser } from './helpers/app.js'
import { decodePayload } from './helpers/jwt.js'
import { assertReply, assertReplyMatches, bearer, JWT, postForm, postRaw } from './helpers/wire.js'

// COMPAT.md "Routes": every route's success row, byte for byte.

const PAIR = new RegExp(`^\\{"refresh":"${JWT}","access":"${JWT}"\\}$`)
const ROTATED = new RegExp(`^\\{"access":"${JWT}","refresh":"${JWT}"\\}$`)
const ACCESS_ONLY = new RegExp(`^\\{"access":"${JWT}"\\}$`)
const REGISTERED = /^\{"id":\d+,"username":"[^"]*","email":"[^"]*"\}$/

const app = await buildTestApp(t)

t.test('POST /api/token/ {"username","password"} → 200 {"refresh","access"}', async t => {
  const id = await registerUser(app, 'obtain')
  const response = await post(app, '/api/token/', { username: 'obtain', password: PASSWORD })
  assertReplyMatches(t, response, 200, PAIR)
  const { refresh, access } = response.json()
  t.same([decodePayload(refresh).token_type, decodePayload(refresh).user_id], ['refresh', id], 'refresh token of the user')
  t.same([decodePayload(access).token_type, decodePayload(access).user_id], ['access', id], 'access token of the user')

  const form = await postForm(app, '/api/token/', { username: 'obtain', password: PASSWORD })
  assertReplyMatches(t, form, 200, PAIR, 'form-encoded')
})

t.test('POST /login/ is an alias of /api/token/', async t => {
  const id = await registerUser(app, 'loginalias')
  const response = await post(app, '/login/', { username: 'loginalias', password: PASSWORD })
  assertReplyMatches(t, response, 200, PAIR)
  const { access } = response.json()
  t.equal(decodePayload(access).user_id, id)
  assertReply(t, await get(app, '/protected/', access), 200, '{"content":"This view is protected"}', 'its access token')

  const form = await postForm(app, '/login/', { username: 'loginalias', password: PASSWORD })
  assertReplyMatches(t, form, 200, PAIR, 'form-encoded')
})

t.test('POST /api/token/refresh/ {"refresh"} → 200 {"access","refresh"}, new access first, while rotation is on', async t => {
  await registerUser(app, 'refresher')
  const pair = await obtainPair(app, 'refresher')
  const response = await post(app, '/api/token/refresh/', { refresh: pair.refresh })
  assertReplyMatches(t, response, 200, ROTATED)
  const { access, refresh } = response.json()
  t.equal(decodePayload(access).token_type, 'access')
  t.equal(decodePayload(refresh).token_type, 'refresh')
  t.not(refresh, pair.refresh, 'a new refresh token')
  assertReply(t, await get(app, '/protected/', access), 200, '{"content":"This view is protected"}', 'the new access token')

  const form = await postForm(app, '/api/token/refresh/', { refresh })
  assertReplyMatches(t, form, 200, ROTATED, 'form-encoded')
})

t.test('POST /api/token/refresh/ → 200 {"access"} only, when rotation is off', async t => {
  const noRotation = await buildTestApp(t, { rotateRefreshTokens: false })
  await registerUser(noRotation, 'norotate')
  const { refresh } = await obtainPair(noRotation, 'norotate')
  assertReplyMatches(t, await post(noRotation, '/api/token/refresh/', { refresh }), 200, ACCESS_ONLY)
  assertReplyMatches(t, await post(noRotation, '/api/token/refresh/', { refresh }), 200, ACCESS_ONLY,
    'the same refresh token again')
  assertReply(t, await post(noRotation, '/api/token/blacklist/', { refresh }), 200, '{}')
  const blacklisted = await post(noRotation, '/api/token/refresh/', { refresh })
  t.equal(blacklisted.statusCode, 401, 'blacklisted: refused')
  t.match(blacklisted.body, /"detail":"Token is blacklisted","code":"token_not_valid"/)
})

t.test('POST /api/token/verify/ {"token"} (any token type) → 200 {}', async t => {
  await registerUser(app, 'verifier')
  const { access, refresh } = await obtainPair(app, 'verifier')
  assertReply(t, await post(app, '/api/token/verify/', { token: access }), 200, '{}', 'access token')
  assertReply(t, await post(app, '/api/token/verify/', { token: refresh }), 200, '{}', 'refresh token')
  assertReply(t, await postForm(app, '/api/token/verify/', { token: access }), 200, '{}', 'form-encoded')
})

t.test('POST /api/token/blacklist/ {"refresh"} → 200 {}', async t => {
  await registerUser(app, 'blacklister')
  const first = await obtainPair(app, 'blacklister')
  assertReply(t, await post(app, '/api/token/blacklist/', { refresh: first.refresh }), 200, '{}')
  const second = await obtainPair(app, 'blacklister')
  assertReply(t, await postForm(app, '/api/token/blacklist/', { refresh: second.refresh }), 200, '{}', 'form-encoded')
})

t.test('POST /register/ {"username","email","password"} → 201 {"id","username","email"}, never the password', async t => {
  const response = await post(app, '/register/', { username: 'newcomer', email: 'newcomer@example.com', password: PASSWORD })
  assertReplyMatches(t, response, 201, REGISTERED)
  const { id } = response.json()
  t.ok(Number.isInteger(id) && id > 0, 'id is a positive integer')
  t.equal(response.body, `{"id":${id},"username":"newcomer","email":"newcomer@example.com"}`)
  t.notMatch(response.body, /password|argon2/, 'no password, no hash')

  const form = await postForm(app, '/register/', { username: 'formcomer', email: 'formcomer@example.com', password: PASSWORD })
  assertReplyMatches(t, form, 201, REGISTERED, 'form-encoded')
  t.equal(form.json().username, 'formcomer')
  assertReplyMatches(t, await post(app, '/api/token/', { username: 'formcomer', password: PASSWORD }), 200, PAIR,
    'the form-registered user can log in')
})

t.test('POST /register/: email is "" when omitted', async t => {
  const response = await post(app, '/register/', { username: 'noemail', password: PASSWORD })
  assertReplyMatches(t, response, 201, REGISTERED)
  t.equal(response.body, `{"id":${response.json().id},"username":"noemail","email":""}`)
})

t.test('POST /register/: unknown fields and id are ignored', async t => {
  const response = await post(app, '/register/', {
    id: 987654,
    username: 'ignorer',
    email: 'ignorer@example.com',
    password: PASSWORD,
    is_staff: true,
    is_superuser: true,
    first_name: 'Mallory',
    nickname: 'x'
  })
  assertReplyMatches(t, response, 201, REGISTERED)
  const { id } = response.json()
  t.not(id, 987654, 'the id is not the one sent')
  const { access } = await obtainPair(app, 'ignorer')
  const me = (await get(app, '/api/users/me/', access)).json()
  t.same([me.id, me.is_staff, me.is_superuser, me.first_name], [id, false, false, ''], 'no privilege, no name taken from the body')
})

t.test('GET /protected/ with a Bearer access token → 200 {"content":"This view is protected"}', async t => {
  await registerUser(app, 'protectee')
  const { access } = await obtainPair(app, 'protectee')
  assertReply(t, await get(app, '/protected/', access), 200, '{"content":"This view is protected"}')
})

t.test('GET /private/ with a Bearer access token → 200 {"message":"Access Granted!"}', async t => {
  await registerUser(app, 'privatee')
  const { access } = await obtainPair(app, 'privatee')
  assertReply(t, await get(app, '/private/', access), 200, '{"message":"Access Granted!"}')
})

t.test('GET /api/users/me/: the user\'s fields in order, never the password', async t => {
  const id = await registerUser(app, 'itsme', PASSWORD, 'itsme@example.com')
  const { access } = await obtainPair(app, 'itsme')
  const response = await get(app, '/api/users/me/', access)
  assertReplyMatches(t, response, 200, /^\{"id":\d+,"username":"itsme",.*\}$/)
  const me = response.json()
  t.same(Object.keys(me), ['id', 'username', 'email', 'first_name', 'last_name', 'is_staff', 'is_superuser', 'date_joined', 'last_login'])
  t.same(me, {
    id,
    username: 'itsme',
    email: 'itsme@example.com',
    first_name: '',
    last_name: '',
    is_staff: false,
    is_superuser: false,
    date_joined: me.date_joined,
    last_login: null
  })
  t.match(me.date_joined, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'date_joined is an ISO 8601 UTC instant')
  t.ok(Math.abs(Date.parse(me.date_joined) - Date.now()) < 10 * 60 * 1000, 'date_joined is about now')
  t.notMatch(response.body, /password|argon2/, 'no password, no hash')
})

t.test('A JSON number where a string is expected is taken as its string form ("password": 12345 is "12345")', async t => {
  // Django's validators refuse "12345" at registration; an admin can still set it.
  await registerAccount(app.accounts, { username: 'numeric', password: '12345' }, {}, { skipPasswordValidation: true })
  assertReplyMatches(t, await post(app, '/api/token/', { username: 'numeric', password: 12345 }), 200, PAIR, 'password 12345')
  assertReplyMatches(t, await post(app, '/api/token/', { username: 'numeric', password: '12345' }), 200, PAIR, 'password "12345"')

  const registered = await post(app, '/register/', { username: 20240101, password: PASSWORD })
  assertReply(t, registered, 201, `{"id":${registered.json().id},"username":"20240101","email":""}`, 'username 20240101')
  assertReplyMatches(t, await post(app, '/api/token/', { username: 20240101, password: PASSWORD }), 200, PAIR,
    'log in with username 20240101')
})

t.test('A JSON number is taken as Python\'s string form of it: 1.0 is "1.0", big integers keep every digit', async t => {
  const floatPassword = await postRaw(app, '/register/', '{"username":"floatpw","password":1234567.0}')
  t.equal(floatPassword.statusCode, 201, 'registered with password 1234567.0')
  assertReplyMatches(t, await post(app, '/api/token/', { username: 'floatpw', password: '1234567.0' }), 200, PAIR, 'password "1234567.0"')
  t.equal((await post(app, '/api/token/', { username: 'floatpw', password: '1234567' })).statusCode, 401, 'not "1234567"')
  t.equal((await postRaw(app, '/api/token/', '{"username":"floatpw","password":1234567.00}')).statusCode, 200, 'password 1234567.00')

  for (const [json, username] of [
    ['12345678901234567890', '12345678901234567890'],
    ['1e3', '1000.0'],
    ['1E-7', '1e-07'],
    ['2.5e16', '2.5e+16'],
    ['-0.0', '-0.0'],
    ['0.0001', '0.0001'],
    ['-2.5', '-2.5'],
    ['0.0', '0.0'],
    ['1e999', 'inf'],
    ['-1e999', '-inf']
  ]) {
    const response = await postRaw(app, '/register/', `{"username":${json},"password":"${PASSWORD}"}`)
    assertReply(t, response, 201, `{"id":${response.json().id},"username":"${username}","email":""}`, `username ${json}`)
  }

  // Among other members, nested values and repeated keys (the last one counts, in Python's json too).
  for (const [body, username] of [
    [`{"nested":{"a":[1,"x]\\"",{"b":2}]},"flag":true,"none":null,"username":9007199254740993,"password":"${PASSWORD}"}`, '9007199254740993'],
    [`{ "username" : 1.5e300 , "password" : "${PASSWORD}" }`, '1.5e+300'],
    [`{"username":1,"username":"repeated-text","password":"${PASSWORD}"}`, 'repeated-text'],
    [`{"username":"x","username":9007199254740995,"password":"${PASSWORD}"}`, '9007199254740995']
  ] as const) {
    const response = await postRaw(app, '/register/', body)
    assertReply(t, response, 201, `{"id":${response.json().id},"username":"${username}","email":""}`, body)
  }
})

t.test('Tessera: a path without its trailing slash is served directly (no 301)', async t => {
  await registerUser(app, 'noslash')
  const obtained = await post(app, '/api/token', { username: 'noslash', password: PASSWORD })
  assertReplyMatches(t, obtained, 200, PAIR, 'POST /api/token')
  assertReplyMatches(t, await post(app, '/login', { username: 'noslash', password: PASSWORD }), 200, PAIR, 'POST /login')
  const { access, refresh } = obtained.json()
  assertReply(t, await post(app, '/api/token/verify', { token: access }), 200, '{}', 'POST /api/token/verify')
  const rotated = await post(app, '/api/token/refresh', { refresh })
  assertReplyMatches(t, rotated, 200, ROTATED, 'POST /api/token/refresh')
  const registered = await post(app, '/register', { username: 'noslash2', password: PASSWORD })
  assertReplyMatches(t, registered, 201, REGISTERED, 'POST /register')
  assertReply(t, await get(app, '/protected', access), 200, '{"content":"This view is protected"}', 'GET /protected')
  assertReply(t, await get(app, '/private', access), 200, '{"message":"Access Granted!"}', 'GET /private')
  assertReplyMatches(t, await get(app, '/api/users/me', access), 200, /^\{"id":\d+,"username":"noslash",/, 'GET /api/users/me')
  // Last: the logout ends the session, access token included.
  assertReply(t, await post(app, '/api/token/blacklist', { refresh: rotated.json().refresh }), 200, '{}', 'POST /api/token/blacklist')
})

t.test('Tessera: HEAD works wherever GET does', async t => {
  await registerUser(app, 'header')
  const { access } = await obtainPair(app, 'header')
  for (const url of ['/protected/', '/private/', '/api/users/me/', '/protected']) {
    const getResponse = await get(app, url, access)
    const head = await app.inject({ method: 'HEAD', url, headers: bearer(access) })
    t.equal(head.statusCode, 200, `HEAD ${url} → 200`)
    t.equal(head.body, '', `HEAD ${url} has no body`)
    t.equal(head.headers['content-type'], 'application/json', `HEAD ${url} content-type`)
    t.equal(head.headers['content-length'], getResponse.headers['content-length'], `HEAD ${url} content-length is GET's`)
  }
  const anonymous = await app.inject({ method: 'HEAD', url: '/protected/' })
  t.equal(anonymous.statusCode, 401, 'HEAD without a token → 401, as GET')
  t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="api"')
})
