import t from 'tap'
import type { InjectOptions } from 'fastify'
import { registerUser as createAccount } from '../src/users/accounts.js'
import { buildTestApp } from './helpers/app.js'
import { decodePayload } from './helpers/jwt.js'
import { assertReply, assertReplyMatches, JWT } from './helpers/wire.js'

// The session the SimpleJWT tutorials walk through with curl, request by
// request, as their readers type it: `curl -d` sends a form with Accept */*,
// `curl -H "Content-Type: application/json"` a JSON body. Each step depends
// on the one before; they run in order on one app.

const CURL = { 'user-agent': 'curl/8.5.0', accept: '*/*' }
const app = await buildTestApp(t)

const curl = (method: 'GET' | 'POST', url: string, options: { form?: string, json?: string, authorization?: string } = {}) => {
  const headers: InjectOptions['headers'] = { ...CURL }
  if (options.authorization !== undefined) headers.authorization = options.authorization
  if (options.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
  if (options.json !== undefined) headers['content-type'] = 'application/json'
  return app.inject({ method, url, headers, payload: options.form ?? options.json })
}

// `python manage.py createsuperuser`, as the tutorials start.
await createAccount(app.accounts, { username: 'admin', email: 'admin@example.com', password: 'tutorial-admin-pass' }, {},
  { isStaff: true, isSuperuser: true })

let access = ''
let refresh = ''

t.test('curl -d "username=admin&password=…" /api/token/ → 200 {"refresh","access"}', async t => {
  const response = await curl('POST', '/api/token/', { form: 'username=admin&password=tutorial-admin-pass' })
  assertReplyMatches(t, response, 200, new RegExp(`^\\{"refresh":"${JWT}","access":"${JWT}"\\}$`))
  ;({ access, refresh } = response.json())
})

t.test('curl /protected/ without a token → 401 credentials not provided', async t => {
  assertReply(t, await curl('GET', '/protected/'), 401, '{"detail":"Authentication credentials were not provided."}')
})

t.test('curl -H "Authorization: Bearer <access>" /protected/ → 200', async t => {
  assertReply(t, await curl('GET', '/protected/', { authorization: `Bearer ${access}` }), 200, '{"content":"This view is protected"}')
})

t.test('curl -d "refresh=<refresh>" /api/token/refresh/ → 200 {"access","refresh"}, rotated', async t => {
  const response = await curl('POST', '/api/token/refresh/', { form: `refresh=${refresh}` })
  assertReplyMatches(t, response, 200, new RegExp(`^\\{"access":"${JWT}","refresh":"${JWT}"\\}$`))
  const rotated = response.json()
  t.not(rotated.refresh, refresh, 'a new refresh token')
  t.equal(decodePayload(rotated.access).user_id, decodePayload(access).user_id, 'for the same user')
  assertReply(t, await curl('GET', '/protected/', { authorization: `Bearer ${rotated.access}` }), 200,
    '{"content":"This view is protected"}', 'the new access token works')
})

t.test('curl -d "refresh=<the old refresh>" /api/token/refresh/ again → 401 blacklisted', async t => {
  assertReply(t, await curl('POST', '/api/token/refresh/', { form: `refresh=${refresh}` }), 401,
    '{"detail":"Token is blacklisted","code":"token_not_valid"}')
})

t.test('curl -H "Content-Type: application/json" -d \'{"username","email","password"}\' /register/ → 201', async t => {
  const response = await curl('POST', '/register/', {
    json: '{"username": "testuser", "email": "test@example.com", "password": "strong-pass-123"}'
  })
  assertReplyMatches(t, response, 201, /^\{"id":\d+,"username":"testuser","email":"test@example.com"\}$/)
})

t.test('curl -H "Content-Type: application/json" -d … /login/ as the new user → 200 {"refresh","access"}', async t => {
  const response = await curl('POST', '/login/', { json: '{"username": "testuser", "password": "strong-pass-123"}' })
  assertReplyMatches(t, response, 200, new RegExp(`^\\{"refresh":"${JWT}","access":"${JWT}"\\}$`))
  access = response.json().access
})

t.test('curl -H "Authorization: Bearer <access>" /private/ → 200 {"message":"Access Granted!"}', async t => {
  assertReply(t, await curl('GET', '/private/', { authorization: `Bearer ${access}` }), 200, '{"message":"Access Granted!"}')
})
