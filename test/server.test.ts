import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startServer } from './helpers/server.js'
import { isolatedEnv, startNode } from './helpers/spawn.js'

async function call (url: string, path: string, init: RequestInit = {}): Promise<{ status: number, body: string }> {
  const response = await fetch(url + path, init)
  return { status: response.status, body: await response.text() }
}

t.test('npm start: a generated key kept in DATA_DIR, the tutorial over HTTP, a clean SIGTERM', async t => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'tessera-server-')), 'data')
  t.teardown(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }))

  const first = await startServer(isolatedEnv(dataDir))
  const warning = first.logs().find(line => String(line.msg).startsWith('JWT_SIGNING_KEY is not set'))
  t.ok(warning, 'a warning says the key was generated')
  t.equal(warning?.level, 40)
  const keyFile = join(dataDir, 'signing-key')
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'the key is readable by its owner only')
  t.ok(Buffer.byteLength(readFileSync(keyFile, 'utf8').trim()) >= 32)
  t.notMatch(JSON.stringify(first.logs()), readFileSync(keyFile, 'utf8').trim(), 'the key is never logged')

  const registered = await call(first.url, '/register/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'tutorial', password: 'violet-Otter-lantern-42' })
  })
  t.equal(registered.status, 201)
  t.equal(registered.body, '{"id":1,"username":"tutorial","email":""}')
  const obtained = await call(first.url, '/api/token/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=tutorial&password=violet-Otter-lantern-42'
  })
  t.equal(obtained.status, 200)
  const { access } = JSON.parse(obtained.body)
  t.equal((await call(first.url, '/protected/', { headers: { authorization: `Bearer ${access}` } })).body,
    '{"content":"This view is protected"}')

  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0, 'SIGTERM closes cleanly')
  t.ok(first.logs().some(line => line.msg === 'shutting down' && line.signal === 'SIGTERM'))

  // A restart keeps the key and the data: the old access token still works.
  const second = await startServer(isolatedEnv(dataDir))
  t.notOk(second.logs().some(line => line.created === true), 'the key was read, not made again')
  t.equal((await call(second.url, '/protected/', { headers: { authorization: `Bearer ${access}` } })).status, 200)
  second.child.kill('SIGINT')
  t.equal(await second.exited, 0)
})

t.test('a bad setting stops start-up with a message naming it', async t => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-server-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const child = startNode('src/server.ts', [], isolatedEnv(dataDir, { JWT_SIGNING_KEY: 'too-short' }))
  let stderr = ''
  child.stderr!.on('data', chunk => { stderr += chunk })
  const code = await new Promise(resolve => child.on('close', resolve))
  t.equal(code, 1)
  t.match(stderr, /Tessera cannot start: bad configuration\nJWT_SIGNING_KEY="too-short" is not valid: expected a secret of at least 32 bytes/)
})
