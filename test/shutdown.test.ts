import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { freshDatabaseUrl, PASSWORD } from './helpers/app.js'
import { startServer } from './helpers/server.js'
import { isolatedEnv } from './helpers/spawn.js'

// SIGTERM in the middle of a burst: the server stops accepting, finishes
// every request it accepted, closes the database and exits 0. On both lanes.

const BURST = 80

t.test('SIGTERM during a burst of logins: none dropped, none failed', async t => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-shutdown-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const databaseUrl = await freshDatabaseUrl(t)
  // argon2 at its default cost, so that logins are still running when the signal comes (80 of them
  // queued: well over a second of hashing, and well under close-with-grace's 10 s on a busy machine);
  // a hash queue longer than the burst, so that each login waits its turn rather than getting the queue's 503.
  const server = await startServer(isolatedEnv(dataDir, {
    ARGON2_MEMORY_KIB: '19456', ARGON2_ITERATIONS: '2', HASH_QUEUE_LIMIT: String(2 * BURST), ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl })
  }))
  let stderr = ''
  server.child.stderr!.on('data', chunk => { stderr += chunk })
  t.teardown(() => { if (server.child.exitCode === null) server.child.kill('SIGKILL') })
  const post = async (path: string, body: object) => await fetch(server.url + path, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
  })
  t.equal((await post('/register/', { username: 'burst', password: PASSWORD })).status, 201)

  let signalled = false
  let finishedAfterSignal = 0
  const burst = Array.from({ length: BURST }, async () => {
    const response = await post('/api/token/', { username: 'burst', password: PASSWORD })
    const body = await response.text()
    if (signalled) finishedAfterSignal++
    return { status: response.status, body }
  })
  const received = () => server.logs().filter(line => line.msg === 'incoming request' && (line.req as { url?: string }).url === '/api/token/').length
  while (received() < BURST) await new Promise(resolve => setTimeout(resolve, 5))
  server.child.kill('SIGTERM')
  signalled = true

  const replies = await Promise.all(burst)
  t.same(replies.filter(reply => reply.status !== 200), [], 'every accepted request succeeded')
  t.equal(replies.filter(reply => /^\{"refresh":"[^"]+","access":"[^"]+"\}$/.test(reply.body)).length, BURST)
  t.ok(finishedAfterSignal > 0, `${finishedAfterSignal} of ${BURST} were still in flight at SIGTERM`)
  await t.rejects(post('/api/token/', { username: 'burst', password: PASSWORD }), 'nothing is accepted after it')
  const code = await server.exited
  t.equal(code, 0, 'exit 0')
  t.equal(stderr, '', 'nothing on stderr')
  const messages = server.logs().map(line => line.msg)
  t.ok(messages.indexOf('shutting down') < messages.indexOf('shut down: requests finished, database closed'), 'the database closed last')
  t.notOk(server.logs().some(line => Number(line.level) >= 50), 'no error logged')
  if (databaseUrl === undefined) t.notOk(existsSync(join(dataDir, 'pglite.pid')), 'PGlite\'s lock released: it was closed')
})
