import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot } from '../src/paths.js'
import { buildTestApp, PASSWORD } from './helpers/app.js'
import { decodeHeader } from './helpers/jwt.js'
import { writeTestKeySet } from './helpers/keys.js'
import { isolatedEnv, runNode } from './helpers/spawn.js'

// The README's resource server (test/fixtures/resource-server/server.js), as
// a process of its own that knows only Tessera's JWKS URL, across a rotation
// done with the npm scripts' commands while Tessera keeps running: it reloads
// the key-set file when it changes.

const { path } = writeTestKeySet(t, ['EdDSA'])
const app = await buildTestApp(t, { jwtKeys: path, jwtSigningKey: undefined })
const tessera = await app.listen({ port: 0, host: '127.0.0.1' })

const resourceServer = spawn(process.execPath, [join(projectRoot, 'test/fixtures/resource-server/server.js')], {
  env: { ...process.env, TESSERA_JWKS_URL: `${tessera}/.well-known/jwks.json`, JWKS_CACHE_MAX_AGE_MS: '500', JWKS_COOLDOWN_MS: '100', PORT: '0' },
  stdio: ['ignore', 'pipe', 'inherit']
})
t.teardown(() => resourceServer.kill())
const resource = await new Promise<string>((resolve, reject) => {
  resourceServer.stdout.once('data', chunk => resolve(JSON.parse(String(chunk)).listening))
  resourceServer.once('exit', code => reject(new Error(`the resource server exited with ${code}`)))
})

const keysCommand = async (...args: string[]) => {
  const run = await runNode('src/cli/main.ts', args, isolatedEnv('memory://', { JWT_KEYS: path }))
  t.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`)
  return run.stdout
}
const login = async () => {
  const response = await fetch(`${tessera}/api/token/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: PASSWORD }) })
  return (await response.json() as { access: string }).access
}
const whoami = async (access: string) => (await fetch(`${resource}/whoami`, { headers: { authorization: `Bearer ${access}` } })).status
/** Polls until the condition holds (a reload is a poll of the file away), up to 10 seconds. */
async function eventually (condition: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await condition()) return true
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return false
}

await fetch(`${tessera}/register/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', email: 'alice@example.com', password: PASSWORD }) })

t.test('the resource server verifies through the JWKS, across a rotation, and refuses a retired key', async t => {
  const first = await login()
  const firstKid = decodeHeader(first).kid as string
  t.equal(await whoami(first), 200, 'a token of the first key')
  t.equal(await whoami('not-a-token'), 401)

  t.match(await keysCommand('keys:generate', '--alg', 'ES256'), /Added key [\w-]+ \(ES256\); it verifies only/)
  t.match(await keysCommand('keys:rotate'), /signs now/)
  const next = JSON.parse(readFileSync(path, 'utf8')).signing as string
  let second = ''
  t.ok(await eventually(async () => { second = await login(); return decodeHeader(second).kid === next }), 'Tessera signs with the new key without a restart')
  t.equal(decodeHeader(second).alg, 'ES256')
  t.equal(await whoami(second), 200, 'the resource server fetches the new key by its kid')
  t.equal(await whoami(first), 200, 'and tokens of the previous key still pass')

  t.match(await keysCommand('keys:retire', firstKid), /Retired key/)
  t.ok(await eventually(async () => (await fetch(`${tessera}/protected/`, { headers: { authorization: `Bearer ${first}` } })).status === 401), 'Tessera refuses the retired key')
  t.ok(await eventually(async () => await whoami(first) === 401), 'so does the resource server, once its JWKS cache expires')
  t.equal(await whoami(second), 200, 'while the current key still passes')
})
