import { chmodSync, writeFileSync } from 'node:fs'
import { generateKeyPairSync } from 'node:crypto'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { hasDuplicateKeys } from '../src/auth/jws.js'
import {
  generateStoredKey, KeySetError, keyFromJwk, keySetOf, parseKeySetFile, publicJwks, readKeySetFile, shortcutKey, type StoredKey
} from '../src/auth/key-set.js'
import { generateKey, retireKey, rotateKeys } from '../src/cli/keys.js'
import { configWith } from '../src/config.js'
import { buildTestApp, obtainPair, registerUser, SIGNING_KEY } from './helpers/app.js'
import { writeTestKeySet } from './helpers/keys.js'
import { isolatedEnv, runNode } from './helpers/spawn.js'
import { bearer } from './helpers/wire.js'

const created = '2026-01-01T00:00:00.000Z'
const jwkOf = (pair: { privateKey: { export: (options: { format: 'jwk' }) => object } }) => pair.privateKey.export({ format: 'jwk' })

t.test('a stored key must be usable, and fit its algorithm', async t => {
  const ed = generateStoredKey('EdDSA')
  for (const [stored, message] of [
    [{ ...ed, kid: '../x' }, /no valid kid/],
    [{ ...ed, kid: undefined }, /no valid kid/],
    [{ ...ed, alg: 'none' }, /alg must be one of/],
    [{ ...ed, alg: 'RS256' }, /RS256 needs a key of type RSA/],
    [{ kty: 'oct', k: 'c2hvcnQ', kid: 'short', alg: 'HS256', created }, /at least 32 bytes/],
    [{ kty: 'oct', kid: 'nok', alg: 'HS256', created }, /at least 32 bytes/],
    [{ ...jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-384' })), kid: 'p384', alg: 'ES256', created }, /P-256 curve/],
    [{ ...jwkOf(generateKeyPairSync('ed448')), kid: 'ed448', alg: 'EdDSA', created }, /Ed25519/],
    [{ kty: 'RSA', n: 'AQAB', e: 'AQAB', kid: 'broken', alg: 'RS256', created }, /not a usable RS256 private key/]
  ] as Array<[StoredKey, RegExp]>) {
    t.throws(() => keyFromJwk(stored), { name: 'KeySetError', message }, String(message))
  }
})

t.test('the key-set file: shape, duplicates, the signer', async t => {
  t.throws(() => parseKeySetFile('{'), { message: 'the key set is not JSON' })
  for (const text of ['null', '[]', '{"signing":"a"}', '{"keys":[]}']) t.throws(() => parseKeySetFile(text), { message: /must be \{"signing"/ }, text)
  const key = generateStoredKey('HS256')
  t.throws(() => keySetOf({ signing: key.kid, keys: [key, key] }, null), { message: `kid ${key.kid} appears twice` })
  t.throws(() => keySetOf({ signing: 'other', keys: [key] }, null), { message: 'the signing key "other" is not in the set' })
  t.throws(() => keySetOf({ signing: '', keys: [key] }, shortcutKey(SIGNING_KEY, 'HS256')), { message: /not in the set/ }, 'the shortcut key never signs for a key set')
})

t.test('the key-set file is read only when its owner alone can read it', async t => {
  const { path } = writeTestKeySet(t, ['EdDSA'])
  t.ok(readKeySetFile(path).keys.length === 1)
  chmodSync(path, 0o644)
  t.throws(() => readKeySetFile(path), { message: /readable by others than its owner: chmod 600 it/ })
  t.throws(() => readKeySetFile(`${path}.missing`), { message: /cannot read the key set .*: ENOENT/ })
})

t.test('the JWKS holds public keys only', async t => {
  const { file } = writeTestKeySet(t, ['HS512', 'RS256', 'PS256', 'ES256', 'EdDSA'])
  const set = keySetOf(file, shortcutKey(SIGNING_KEY, 'HS256'))
  const jwks = publicJwks(set)
  t.same(jwks.keys.map(key => key.alg), ['RS256', 'PS256', 'ES256', 'EdDSA'], 'no HMAC secret, not even the shortcut')
  t.same(jwks.keys.map(key => Object.keys(key).sort().join(',')), ['alg,e,kid,kty,n,use', 'alg,e,kid,kty,n,use', 'alg,crv,kid,kty,use,x,y', 'alg,crv,kid,kty,use,x'])
})

t.test('duplicate members are found at any depth, escapes included', async t => {
  t.equal(hasDuplicateKeys('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":1}]}'), false)
  t.equal(hasDuplicateKeys('{"a":"x\\"y","b":[1,"a"],"c":{"d":1,"d":2}}'), true)
  t.equal(hasDuplicateKeys('{"a":1,"\\u0061":2}'), true)
  t.equal(hasDuplicateKeys('{"k":"a","a":1}'), false, 'a value is not a member name')
})

t.test('GET /.well-known/jwks.json, with cache headers', async t => {
  const { path, file } = writeTestKeySet(t, ['EdDSA', 'HS256'])
  const app = await buildTestApp(t, { jwtKeys: path })
  const response = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'public, max-age=300')
  t.equal(response.headers['content-type'], 'application/json')
  t.same(response.json(), { keys: [{ kty: 'OKP', kid: file.keys[0]!.kid, alg: 'EdDSA', use: 'sig', crv: 'Ed25519', x: file.keys[0]!.x }] })
  t.notMatch(response.body, /"d"|"k"/, 'no private member')
  t.equal((await app.inject({ method: 'POST', url: '/.well-known/jwks.json' })).statusCode, 405)
  const hmacOnly = await buildTestApp(t)
  t.equal((await hmacOnly.inject({ method: 'GET', url: '/.well-known/jwks.json' })).body, '{"keys":[]}', 'the HS shortcut publishes nothing')
})

t.test('a broken key-set file on reload keeps the keys in use', async t => {
  const { path } = writeTestKeySet(t, ['EdDSA'])
  const lines: string[] = []
  const stream = new PassThrough()
  stream.on('data', chunk => lines.push(String(chunk)))
  const app = await buildTestApp(t, { jwtKeys: path, jwtSigningKey: undefined, logLevel: 'info' }, { logger: { stream } })
  await registerUser(app)
  const { access } = await obtainPair(app)
  writeFileSync(path, '{"signing":')
  app.keySet.reload()
  t.match(lines.join(''), /key set not reloaded: keeping the previous keys/)
  t.equal((await app.inject({ method: 'GET', url: '/protected/', headers: bearer(access) })).statusCode, 200)
  t.notMatch(lines.join(''), /"d":/, 'no key material in the log')
})

const capture = () => {
  let text = ''
  const stdout = new PassThrough()
  stdout.on('data', chunk => { text += chunk })
  return { io: { stdin: new PassThrough(), stdout, stderr: new PassThrough() }, output: () => text }
}

t.test('keys commands refuse what they cannot do', async t => {
  const { path, file } = writeTestKeySet(t, ['HS384', 'EdDSA'])
  const config = configWith({ jwtKeys: path })
  const { io, output } = capture()
  await t.rejects(generateKey([], io, configWith()), { message: 'JWT_KEYS is not set: set it to the path of the key-set file' })
  await t.rejects(generateKey(['--alg', 'RS512'], io, config), { message: /usage: keys:generate \[--alg HS256\|/ })
  await t.rejects(generateKey(['--size', '4096'], io, config), { message: /usage: keys:generate/ })
  await t.rejects(rotateKeys(['now'], io, config), { message: 'usage: keys:rotate' })
  await t.rejects(retireKey([], io, config), { message: 'usage: keys:retire <kid>' })
  await t.rejects(retireKey(['--all'], io, config), { message: 'usage: keys:retire <kid>' })
  await t.rejects(retireKey(['nope'], io, config), { message: `no key nope in ${path}` })
  await t.rejects(retireKey([file.signing], io, config), { message: /signs: run keys:rotate to another key before retiring it/ })

  await rotateKeys([], io, config)
  t.match(output(), new RegExp(`Key ${file.keys[1]!.kid} signs now; ${file.keys[0]!.kid} only verifies`))
  await rotateKeys([], io, config)
  t.match(output(), /already signs: run keys:generate first/)
  await generateKey([], io, config)
  t.match(output(), /\(EdDSA\); it verifies only/, 'EdDSA by default')

  const empty = writeTestKeySet(t, ['EdDSA'])
  writeFileSync(empty.path, '{"signing":"x","keys":[]}', { mode: 0o600 })
  await t.rejects(rotateKeys([], io, configWith({ jwtKeys: empty.path })), { message: 'the key set has no keys: run keys:generate' })
  const [older, newer] = [generateStoredKey('ES256', new Date(Date.UTC(2026, 0, 1))), generateStoredKey('PS256', new Date(Date.UTC(2026, 0, 2)))]
  writeFileSync(empty.path, JSON.stringify({ signing: older.kid, keys: [newer, older] }), { mode: 0o600 })
  await rotateKeys([], io, configWith({ jwtKeys: empty.path }))
  t.equal(readKeySetFile(empty.path).signing, newer.kid, 'the newest by its created time, wherever it is listed')
  t.type(new KeySetError('x'), Error)
})

t.test('keys:generate makes a new file for its owner only; a key-set error is reported plainly', async t => {
  const { path } = writeTestKeySet(t, ['EdDSA'])
  const fresh = `${path}.new`
  const made = await runNode('src/cli/main.ts', ['keys:generate', '--alg', 'HS256'], isolatedEnv('memory://', { JWT_KEYS: fresh }))
  t.equal(made.code, 0, made.stderr)
  t.match(made.stdout, /^Created .* with key [\w-]+ \(HS256\), which signs\.\n$/)
  chmodSync(fresh, 0o640)
  const refused = await runNode('src/cli/main.ts', ['keys:rotate'], isolatedEnv('memory://', { JWT_KEYS: fresh }))
  t.equal(refused.code, 1)
  t.match(refused.stderr, /^\S+ is readable by others than its owner: chmod 600 it\n$/)
})
