import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import openapiTS, { astToString } from 'openapi-typescript'
import t from 'tap'
import { createTesseraClient, type AuthenticationError } from '../openapi/sdk/index.js'
import { projectRoot } from '../src/paths.js'
import { startServer } from './helpers/server.js'
import { isolatedEnv } from './helpers/spawn.js'

const PASSWORD = 'violet-Otter-lantern-42'

t.test('the committed SDK types are what openapi-typescript generates from openapi.json (run `npm run sdk`)', async t => {
  const generated = astToString(await openapiTS(new URL('openapi/openapi.json', `file://${projectRoot}/`)))
  const committed = readFileSync(join(projectRoot, 'openapi/sdk/schema.d.ts'), 'utf8')
  // The CLI adds a banner before the same text.
  t.ok(committed.endsWith(generated), 'openapi/sdk/schema.d.ts is up to date')
})

t.test('the real server, driven only through the generated SDK', async t => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-sdk-')), 'data')
  t.teardown(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }))
  const server = await startServer(isolatedEnv(dataDir))
  t.teardown(async () => {
    server.child.kill('SIGTERM')
    await server.exited
  })
  const client = createTesseraClient(server.url)

  const registered = await client.POST('/register/', { body: { username: 'sdk-user', email: 'sdk@example.com', password: PASSWORD } })
  t.equal(registered.response.status, 201)
  t.same(registered.data, { id: 1, username: 'sdk-user', email: 'sdk@example.com' })

  const obtained = await client.POST('/api/token/', { body: { username: 'sdk-user', password: PASSWORD } })
  t.equal(obtained.response.status, 200)
  const pair = obtained.data!
  const bearer = (access: string) => ({ headers: { Authorization: `Bearer ${access}` } })

  const me = await client.GET('/api/users/me/', bearer(pair.access))
  t.equal(me.data?.username, 'sdk-user')
  t.equal(me.data?.is_staff, false)
  t.equal(me.data?.last_login, null)

  const content = await client.GET('/protected/', bearer(pair.access))
  t.same(content.data, { content: 'This view is protected' })
  const anonymous = await client.GET('/protected/')
  t.equal(anonymous.response.status, 401)
  t.same(anonymous.error, { detail: 'Authentication credentials were not provided.' })

  const refreshed = await client.POST('/api/token/refresh/', { body: { refresh: pair.refresh } })
  t.equal(refreshed.response.status, 200)
  const rotated = refreshed.data!.refresh
  t.type(rotated, 'string', 'rotation gives a new refresh token')
  t.not(rotated, pair.refresh)

  const reused = await client.POST('/api/token/refresh/', { body: { refresh: pair.refresh } })
  t.equal(reused.response.status, 401)
  t.equal(reused.data, undefined)
  // A typed error: the 401's schema (the AuthenticationError component).
  const error: AuthenticationError | undefined = reused.response.status === 401 ? reused.error as AuthenticationError : undefined
  t.equal(error?.code, 'token_not_valid')
  t.equal(error?.detail, 'Token is blacklisted')

  const verified = await client.POST('/api/token/verify/', { body: { token: refreshed.data!.access } })
  t.same(verified.data, {})
  const blacklisted = await client.POST('/api/token/blacklist/', { body: { refresh: rotated! } })
  t.equal(blacklisted.response.status, 200)
  t.same(blacklisted.data, {})
  const afterLogout = await client.POST('/api/token/refresh/', { body: { refresh: rotated! } })
  t.equal(afterLogout.error?.detail, 'Token is blacklisted')
})
