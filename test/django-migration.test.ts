import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { asc, eq } from 'drizzle-orm'
import t from 'tap'
import { djangoAlgorithm, verifyDjangoHash } from '../src/auth/django-hashes.js'
import { createPasswordHasher } from '../src/auth/passwords.js'
import { importUsers } from '../src/cli/import-users.js'
import type { Config } from '../src/config.js'
import { createDb } from '../src/db/index.js'
import { users } from '../src/db/schema.js'
import { buildTestApp, post, registerUser, testConfig } from './helpers/app.js'
import { isolatedEnv, runNode } from './helpers/spawn.js'

// Fixtures made by Django itself: test/fixtures/django/make-fixtures.py.
const FIXTURES = join(import.meta.dirname, 'fixtures', 'django')
const JSON_EXPORT = join(FIXTURES, 'users.json')
const JSONL_EXPORT = join(FIXTURES, 'users.jsonl')
const passwords = JSON.parse(readFileSync(join(FIXTURES, 'passwords.json'), 'utf8')) as Record<string, string>
const exported = JSON.parse(readFileSync(JSON_EXPORT, 'utf8')) as Array<{ pk: number, fields: { username: string, password: string } }>
const hashOf = (username: string) => exported.find(u => u.fields.username === username)!.fields.password

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-import-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function fakeIo (tty = false) {
  const out = { stdout: '', stderr: '' }
  const sink = (name: 'stdout' | 'stderr') => Object.assign(new Writable({
    write (chunk, _encoding, done) { out[name] += String(chunk); done() }
  }), { isTTY: tty })
  return { io: { stdin: new PassThrough(), stdout: sink('stdout'), stderr: sink('stderr') }, out }
}

async function importFile (config: Config, file: string, tty = false) {
  const { io, out } = fakeIo(tty)
  await importUsers([file], io, config)
  return out
}

async function readUsers (config: Config) {
  const database = createDb(config)
  try {
    await database.migrate()
    return await database.db.select().from(users).orderBy(asc(users.id))
  } finally {
    await database.close()
  }
}

t.test('Django\'s hashes verify with the password Django hashed, and only with it', async t => {
  const hasher = createPasswordHasher({ memoryKib: 1024, iterations: 1, parallelism: 1 }, { allowMd5: true })
  const strict = createPasswordHasher({ memoryKib: 1024, iterations: 1, parallelism: 1 })
  const expected: Record<string, string> = { alice: 'pbkdf2_sha256', bob: 'argon2', carol: 'bcrypt_sha256', dave: 'md5', erin: 'unsalted_md5' }
  for (const [username, algorithm] of Object.entries(expected)) {
    const hash = hashOf(username)
    t.equal(djangoAlgorithm(hash), algorithm, username)
    t.equal(await hasher.verify(hash, passwords[username]!), true, `${algorithm} verifies`)
    t.equal(await hasher.verify(hash, `${passwords[username]!}x`), false, `${algorithm} refuses a wrong password`)
    t.equal(hasher.needsRehash(hash), true, `${algorithm} is rehashed to argon2id`)
  }
  t.equal(await strict.verify(hashOf('dave'), passwords.dave!), false, 'md5 only when allowed')
  t.equal(await strict.verify(hashOf('erin'), passwords.erin!), false, 'unsalted md5 only when allowed')
  t.equal(await hasher.verify(`md5$$${hashOf('erin')}`, passwords.erin!), true, 'unsalted md5 in its md5$$ form')
  t.equal(djangoAlgorithm(hashOf('Frank')), null, 'an unusable password is no hash')
  t.equal(await hasher.verify(hashOf('Frank'), ''), false)

  const malformed = ['pbkdf2_sha256$0$salt$aGFzaA==', 'pbkdf2_sha256$many$salt$aGFzaA==', 'pbkdf2_sha256$1000$salt',
    'pbkdf2_sha256$1000$salt$c2hvcnQ=', 'argon2$argon2id$garbage', 'bcrypt_sha256$$2b$garbage', 'md5$salt', 'argon2x',
    `bcrypt_sha256$${'x'.repeat(60)}`]
  for (const hash of malformed) t.equal(await verifyDjangoHash(hash, 'x', { allowMd5: true }), false, hash)
})

t.test('import, then log in with each hash type: the hash becomes argon2id', async t => {
  const dataDir = tempDir(t)
  const config = await testConfig(t, { dataDir })
  const first = await importFile(config, JSONL_EXPORT)
  t.equal(first.stdout, '7 users read: 7 imported, 0 already present, 0 not imported (conflicts).\n')
  t.equal(first.stderr, '')

  const rows = await readUsers(config)
  t.same(rows.map(u => u.id), [1, 2, 3, 5, 6, 8, 12], 'ids kept')
  const alice = rows[0]!
  t.match(alice, {
    username: 'alice',
    email: 'alice@example.com',
    firstName: 'Alice',
    lastName: 'Liddell',
    isActive: true,
    isStaff: false,
    password: hashOf('alice')
  })
  t.equal(alice.lastLogin?.toISOString(), '2024-01-02T03:04:05.678Z')
  t.equal(alice.dateJoined.toISOString(), '2021-03-04T05:06:07.123Z')
  t.match(rows.find(u => u.id === 12), { username: 'grace', isActive: false, isStaff: true, isSuperuser: true })

  const again = await importFile(config, JSON_EXPORT)
  t.equal(again.stdout, '7 users read: 0 imported, 7 already present, 0 not imported (conflicts).\n', 'a second import (of the JSON array) is a no-op')
  t.same(await readUsers(config), rows, 'and changes nothing')

  const app = await buildTestApp(t, { dataDir, databaseUrl: config.databaseUrl, allowMd5PasswordHashes: true })
  for (const username of ['alice', 'bob', 'carol', 'dave', 'erin']) {
    t.equal((await post(app, '/api/token/', { username, password: 'wrong password' })).statusCode, 401, `${username}: a wrong password`)
    const [before] = await app.database.db.select().from(users).where(eq(users.username, username))
    t.equal(before?.password, hashOf(username), `${username}: a wrong password leaves the hash`)
    t.equal((await post(app, '/api/token/', { username, password: passwords[username] })).statusCode, 200, `${username} logs in`)
    const [after] = await app.database.db.select().from(users).where(eq(users.username, username))
    t.match(after?.password, /^\$argon2id\$v=19\$m=1024,/, `${username}: rehashed to argon2id`)
    t.equal((await post(app, '/api/token/', { username, password: passwords[username] })).statusCode, 200, `${username} logs in again`)
  }
  t.equal((await post(app, '/api/token/', { username: 'grace', password: passwords.grace })).statusCode, 401, 'an inactive user stays out')
  t.equal((await post(app, '/api/token/', { username: 'frank', password: '' })).statusCode, 400)

  const id = await registerUser(app, 'newcomer')
  t.equal(id, 13, 'registration continues above the highest imported id')
})

t.test('a conflicting username or id is reported, not overwritten; progress on a terminal', async t => {
  const dataDir = tempDir(t)
  const config = await testConfig(t, { dataDir })
  const seeded = join(dataDir, 'seed.jsonl')
  const lines = readFileSync(JSONL_EXPORT, 'utf8').split('\n').filter(Boolean)
  // The same id under another name, and alice under another id.
  writeFileSync(seeded, [lines[1]!.replace('"bob"', '"robert"'), lines[0]!.replace('"pk": 1,', '"pk": 40,').replace('"alice"', '"ALICE"')].join('\n'))
  t.equal((await importFile(config, seeded)).stdout, '2 users read: 2 imported, 0 already present, 0 not imported (conflicts).\n')

  const out = await importFile(config, JSONL_EXPORT, true)
  t.equal(out.stdout, '7 users read: 5 imported, 0 already present, 2 not imported (conflicts).\n')
  t.equal(out.stderr,
    '\r\x1b[Kline 1: not imported: username "alice" (id 1) is taken here by id 40\n' +
    '\r\x1b[Kline 2: not imported: id 2 ("bob") belongs to "robert" here\n')
  const third = await importFile(config, JSONL_EXPORT)
  t.equal(third.stdout, '7 users read: 0 imported, 5 already present, 2 not imported (conflicts).\n')
  t.equal(third.stderr, 'line 1: not imported: username "alice" (id 1) is taken here by id 40\nline 2: not imported: id 2 ("bob") belongs to "robert" here\n')
  const rows = await readUsers(config)
  t.equal(rows.find(u => u.id === 2)?.username, 'robert')
  t.equal(rows.find(u => u.id === 40)?.username, 'ALICE')

  const many = join(dataDir, 'many.jsonl')
  const template = lines[0]!
  writeFileSync(many, Array.from({ length: 100 }, (_, i) => template.replace('"pk": 1,', `"pk": ${100 + i},`).replace('"alice"', `"user${i}"`)).join('\n') + '\n')
  const progress = await importFile(config, many, true)
  t.equal(progress.stderr, '\rimporting: 100 of 100\r\x1b[K')
  t.equal(progress.stdout, '100 users read: 100 imported, 0 already present, 0 not imported (conflicts).\n')
})

t.test('a malformed file is refused with its line, and nothing is imported', async t => {
  const dataDir = tempDir(t)
  const config = await testConfig(t, { dataDir })
  const good = readFileSync(JSONL_EXPORT, 'utf8').split('\n')[0]!
  const cases: Array<[string, RegExp]> = [
    [`${good}\n\n{"model": "auth.user", "pk": 2}\n`, /^line 3: malformed record: fields: Expected required property/],
    [`${good}\n${good.replace('"pk": 1', '"pk": "one"')}\n`, /^line 2: malformed record: pk: Expected integer/],
    [`${good}\n${good.replace('auth.user', 'auth.group')}\n`, /^line 2: malformed record: model: Expected 'auth.user'/],
    [`${good}\n${good.replace('2021-03-04T05:06:07.123Z', 'yesterday')}\n`, /^line 2: malformed record: fields.date_joined is not a date and time: "yesterday"/],
    [`${good}\n${good.replace('2024-01-02T03:04:05.678Z', '2024-13-45T03:04:05')}\n`, /^line 2: malformed record: fields.last_login is not a date and time/],
    [`${good}\n{"model": "auth.user", "pk": 2, oops}\n`, /^line 2: malformed record: not JSON/],
    [`${good}\n"text"\n`, /^line 2: malformed record: unexpected "\\""/],
    [`${good}\n{"model": {"nested": [1, "}\\"{"]}`, /^line 2: malformed record: the file ends inside it/],
    [`[\n${good},\n${good}\n`, /^line 4: malformed file: the JSON array is not closed/],
    [`[\n${good}\n]\n]`, /^line 4: malformed record: unexpected "]"/],
    [`${good}\n[`, /^line 2: malformed record: unexpected "\["/]
  ]
  for (const [text, message] of cases) {
    const file = join(dataDir, 'bad.json')
    writeFileSync(file, text)
    await t.rejects(importFile(config, file), message, String(message))
  }
  t.same(await readUsers(config), [], 'nothing was imported')
  await t.rejects(importFile(config, join(dataDir, 'missing.json')), /^cannot read .*missing\.json: ENOENT/)
  await t.rejects(importUsers([], fakeIo().io, config), /^usage: users:import <file>/)
  await t.rejects(importUsers(['--file'], fakeIo().io, config), /^usage: users:import <file>/)

  // Naive times (Django with USE_TZ off) are taken as UTC.
  const naive = join(dataDir, 'naive.jsonl')
  writeFileSync(naive, good.replace('"2024-01-02T03:04:05.678Z"', 'null').replace('2021-03-04T05:06:07.123Z', '2021-03-04T05:06'))
  await importFile(config, naive)
  const [row] = await readUsers(config)
  t.equal(row?.dateJoined.toISOString(), '2021-03-04T05:06:00.000Z')
  t.equal(row?.lastLogin, null)
})

t.test('npm run users:import: the real entry point', async t => {
  const dataDir = tempDir(t)
  const run = await runNode('src/cli/main.ts', ['users:import', JSON_EXPORT], isolatedEnv(dataDir))
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, '7 users read: 7 imported, 0 already present, 0 not imported (conflicts).\n')
  const bad = join(dataDir, 'bad.jsonl')
  writeFileSync(bad, '{"model": "auth.user"}\n')
  const refused = await runNode('src/cli/main.ts', ['users:import', bad], isolatedEnv(dataDir))
  t.equal(refused.code, 1)
  t.match(refused.stderr, /^line 1: malformed record: /)
})
