import { Writable } from 'node:stream'
import t from 'tap'
import { buildTestApp, get, PASSWORD, post, registerUser } from './helpers/app.js'

t.test('with logging at trace, no password, token or Authorization header reaches the log', async t => {
  let output = ''
  const stream = new Writable({ write (chunk, _encoding, done) { output += chunk; done() } })
  const app = await buildTestApp(t, { logLevel: 'trace' }, { logger: { stream } })

  await registerUser(app, 'logged', PASSWORD)
  const form = await app.inject({
    method: 'POST',
    url: '/api/token/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `username=logged&password=${PASSWORD}`
  })
  const { access, refresh } = form.json()
  const rotated = (await post(app, '/api/token/refresh/', { refresh })).json()
  await post(app, '/api/token/refresh/', { refresh })
  await post(app, '/api/token/verify/', { token: access })
  await get(app, '/protected/', access)
  await get(app, '/protected/', 'garbage.' + access)
  await post(app, '/api/token/blacklist/', { refresh: rotated.refresh })
  await post(app, '/api/token/', { username: 'logged', password: 'wrong-' + PASSWORD })
  // A log line that carries the secrets must have them redacted.
  app.log.info({ password: PASSWORD, refresh, access, token: access, headers: { authorization: `Bearer ${access}` } }, 'secrets')

  t.ok(output.split('\n').length > 20, 'requests were logged')
  t.match(output, /"msg":"incoming request"/)
  t.match(output, /"password":"\[Redacted\]"/)
  t.match(output, /"authorization":"\[Redacted\]"/)
  for (const secret of [PASSWORD, access, refresh, rotated.access, rotated.refresh]) {
    t.notOk(output.includes(secret), 'a secret is absent from the log')
  }
  // Nor any piece of a token: its signature is the part that must not leak.
  t.notOk(output.includes(access.split('.')[2]))
})

t.test('an unexpected error is logged with its detail, and the client learns nothing', async t => {
  let output = ''
  const stream = new Writable({ write (chunk, _encoding, done) { output += chunk; done() } })
  const app = await buildTestApp(t, {}, { logger: { stream, level: 'error' } })
  await registerUser(app)
  // Closing the database under the app makes the next query fail.
  await app.database.close()
  const response = await post(app, '/api/token/', { username: 'alice', password: PASSWORD })
  t.equal(response.statusCode, 500)
  t.equal(response.body, '{"detail":"A server error occurred."}')
  t.equal(response.headers['content-type'], 'application/json')
  t.match(output, /"msg":"request failed"/)
  t.notOk(output.includes(PASSWORD))
})
