import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import postgres from 'postgres'
import t from 'tap'
import { compileValidator } from '../plugins/content.js'
import { loggerFor } from '../src/app.js'
import { createPasswordHasher } from '../src/auth/passwords.js'
import { loadOrCreateSigningKey } from '../src/auth/signing-key.js'
import { createDb, MEMORY_DATA_DIR } from '../src/db/index.js'
import { refreshTokens, sessions, users } from '../src/db/schema.js'
import { getTableConfig } from 'drizzle-orm/pg-core'
import { deleteUser } from '../src/users/accounts.js'
import { blacklistRefreshToken, rotateRefreshToken } from '../src/tokens/refresh-token-store.js'
import { insertUser } from '../src/users/store.js'
import { buildTestApp, FAST_ARGON2, get, obtainPair, PASSWORD, post, registerUser, SIGNING_KEY } from './helpers/app.js'
import { encodeJwt } from './helpers/jwt.js'

t.test('loggerFor: pretty on a terminal, JSON otherwise', async t => {
  t.same(loggerFor(true), { transport: { target: 'pino-pretty', options: { colorize: true } } })
  t.equal(loggerFor(false), true)
})

t.test('compileValidator refuses to leave a non-body part unchecked', async t => {
  t.throws(() => compileValidator({ schema: {}, httpPart: 'headers' }), /no validator for headers/)
})

t.test('argon2id hashing', async t => {
  const hasher = createPasswordHasher({ memoryKib: 1024, iterations: 1, parallelism: 1 })
  const hash = await hasher.hash('secret-words')
  t.equal(await hasher.verify(hash, 'secret-words'), true)
  t.equal(await hasher.verify(hash, 'other'), false)
  t.equal(await hasher.verify('$argon2id$garbage', 'x'), false, 'a malformed hash matches nothing')
  t.equal(await hasher.verify('!unusable', 'x'), false, 'nor does an unusable password')
  t.equal(hasher.needsRehash(hash), false)
  t.equal(createPasswordHasher({ memoryKib: 2048, iterations: 1, parallelism: 1 }).needsRehash(hash), true)
  await hasher.spendVerification('anything')
  await hasher.spendVerification('the dummy hash is made once')
})

t.test('a login rehashes a password made with weaker parameters', async t => {
  const app = await buildTestApp(t, { argon2MemoryKib: 2048 })
  const weak = await createPasswordHasher({ memoryKib: 1024, iterations: 1, parallelism: 1 }).hash(PASSWORD)
  const user = (await insertUser(app.database.db, { username: 'old', password: weak }))!
  t.equal((await post(app, '/api/token/', { username: 'old', password: PASSWORD })).statusCode, 200)
  const [row] = await app.database.db.select().from(users).where(eq(users.id, user.id))
  t.match(row?.password, /m=2048/)
  t.equal((await post(app, '/api/token/', { username: 'old', password: PASSWORD })).statusCode, 200, 'and it still works')
})

t.test('the generated signing key', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-key-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const made = loadOrCreateSigningKey(join(dir, 'new'))
  t.equal(made.created, true)
  const read = loadOrCreateSigningKey(join(dir, 'new'))
  t.same(read, { key: made.key, path: join(dir, 'new', 'signing-key'), created: false })
  t.equal(loadOrCreateSigningKey(null).path, null)
  mkdirSync(join(dir, 'short'))
  writeFileSync(join(dir, 'short', 'signing-key'), 'tiny\n')
  t.throws(() => loadOrCreateSigningKey(join(dir, 'short')), /holds a key shorter than 32 bytes; delete it to make a new one/)
  mkdirSync(join(dir, 'folder', 'signing-key'), { recursive: true })
  t.throws(() => loadOrCreateSigningKey(join(dir, 'folder')), { code: 'EISDIR' })
})

t.test('with no JWT_SIGNING_KEY and an in-memory database, a key lives as long as the process', async t => {
  const app = await buildTestApp(t, { jwtSigningKey: undefined, dataDir: MEMORY_DATA_DIR })
  await registerUser(app)
  const { access } = await obtainPair(app)
  t.equal((await get(app, '/protected/', access)).statusCode, 200)
  const foreign = encodeJwt({ token_type: 'access', exp: Math.floor(Date.now() / 1000) + 60, iat: Math.floor(Date.now() / 1000), jti: 'a'.repeat(32), user_id: 1 }, { key: SIGNING_KEY })
  t.equal((await get(app, '/protected/', foreign)).statusCode, 401, 'not the test key')
})

t.test('UPDATE_LAST_LOGIN sets last_login, shown by /api/users/me/', async t => {
  const app = await buildTestApp(t, { updateLastLogin: true })
  await registerUser(app)
  const before = Date.now()
  const { access } = await obtainPair(app)
  const me = (await get(app, '/api/users/me/', access)).json()
  t.ok(Date.parse(me.last_login) >= before - 1000)
})

t.test('/api/users/me/ of a user deleted behind the cache\'s back: user_not_found', async t => {
  const app = await buildTestApp(t)
  const id = await registerUser(app)
  const { access } = await obtainPair(app)
  t.equal((await get(app, '/protected/', access)).statusCode, 200)
  await app.database.db.delete(users).where(eq(users.id, id))
  const me = await get(app, '/api/users/me/', access)
  t.equal(me.statusCode, 401)
  t.equal(me.body, '{"detail":"User not found","code":"user_not_found"}')
})

t.test('tokens with unusual claims', async t => {
  const app = await buildTestApp(t)
  const id = await registerUser(app)
  const now = Math.floor(Date.now() / 1000)
  const noIat = encodeJwt({ token_type: 'refresh', exp: now + 60, jti: 'b'.repeat(32), user_id: id }, { key: SIGNING_KEY })
  t.equal((await post(app, '/api/token/refresh/', { refresh: noIat })).statusCode, 200, 'a refresh token without iat refreshes')
  const badUser = encodeJwt({ token_type: 'access', exp: now + 60, iat: now, jti: 'c'.repeat(32), user_id: 'abc' }, { key: SIGNING_KEY })
  t.equal((await get(app, '/protected/', badUser)).body, '{"detail":"User not found","code":"user_not_found"}')
  const badRefresh = encodeJwt({ token_type: 'refresh', exp: now + 60, iat: now, jti: 'd'.repeat(32), user_id: 'abc' }, { key: SIGNING_KEY })
  const blacklisted = await post(app, '/api/token/blacklist/', { refresh: badRefresh })
  t.equal(blacklisted.statusCode, 200, 'a refresh token naming no user: nothing to end')
  t.equal(blacklisted.body, '{}')
})

t.test('concurrent registrations of one username: one wins, the others are told it is taken', async t => {
  const app = await buildTestApp(t)
  const responses = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    post(app, '/register/', { username: i % 2 === 0 ? 'racer' : 'RACER', password: PASSWORD })))
  t.equal(responses.filter(r => r.statusCode === 201).length, 1)
  for (const r of responses.filter(r => r.statusCode !== 201)) {
    t.equal(r.body, '{"username":["A user with that username already exists."]}')
  }
})

t.test('a username taken between the check and the insert: the unique index decides', async t => {
  const app = await buildTestApp(t)
  if (app.config.databaseUrl === undefined) {
    // PGlite runs one query at a time; the concurrent registrations above
    // interleave their checks and inserts. Here the insert itself is raced.
    t.equal(await insertUser(app.database.db, { username: 'Twice', password: 'x' }) === null, false)
    t.equal(await insertUser(app.database.db, { username: 'twice', password: 'x' }), null)
    return
  }
  // On PostgreSQL: another connection inserts the name and holds its
  // transaction open; registration passes its check, then waits on the
  // unique index, and loses when the other commits.
  // Two connections: one holds the transaction, the other watches for the wait.
  const other = postgres(app.config.databaseUrl, { max: 2 })
  t.teardown(() => other.end())
  let registration: Promise<Awaited<ReturnType<typeof post>>> | undefined
  await other.begin(async tx => {
    await tx`insert into users (username, password) values ('blocked', 'x')`
    registration = post(app, '/register/', { username: 'BLOCKED', password: PASSWORD })
    for (let waiting = 0; waiting === 0;) {
      const [row] = await other`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`
      waiting = row!.n
    }
  })
  const response = await registration!
  t.equal(response.statusCode, 400)
  t.equal(response.body, '{"username":["A user with that username already exists."]}')
})

t.test('repositories pass on database failures they do not expect', async t => {
  const database = createDb({ dataDir: MEMORY_DATA_DIR, databaseUrl: undefined })
  await database.migrate()
  await database.close()
  const record = { jti: 'x', userId: 1, issuedAt: new Date(), expiresAt: new Date() }
  await t.rejects(insertUser(database.db, { username: 'u', password: 'p' }))
  await t.rejects(blacklistRefreshToken(database.db, record, new Date()))
  await t.rejects(rotateRefreshToken(database.db, { old: record, next: null, blacklistOld: true, now: new Date(), newSession: { id: 's', absoluteLifetime: 60 } }))
  t.ok(FAST_ARGON2)
})

t.test('Fastify\'s own 4xx errors get DRF-style bodies', async t => {
  const app = await buildTestApp(t)
  const large = await post(app, '/api/token/', { username: 'x'.repeat(20_000), password: 'y' })
  t.equal(large.statusCode, 413)
  t.equal(large.body, '{"detail":"Request body is too large."}')
  const badLength = await app.inject({ method: 'POST', url: '/api/token/', headers: { 'content-type': 'application/json', 'content-length': '5' }, payload: '{"username":"a","password":"b"}' })
  t.equal(badLength.statusCode, 400)
  t.equal(badLength.body, '{"detail":"Malformed request."}')
})

t.test('blacklisting the refresh token of a deleted user: nothing left to end, 200', async t => {
  const app = await buildTestApp(t)
  const id = await registerUser(app)
  const { refresh } = await obtainPair(app)
  await deleteUser(app.accounts, id)
  const response = await post(app, '/api/token/blacklist/', { refresh })
  t.equal(response.statusCode, 200)
  t.equal(response.body, '{}')
})

t.test('the schema: Django-like users, refresh tokens tied to them', async t => {
  const tokens = getTableConfig(refreshTokens)
  t.equal(tokens.foreignKeys.length, 2)
  t.same(tokens.foreignKeys.map(key => key.onDelete), ['cascade', 'cascade'])
  t.same(tokens.foreignKeys.map(key => key.reference().foreignTable), [users, sessions])
  t.same(tokens.indexes.map(i => i.config.name).sort(), ['refresh_tokens_expires_at_idx', 'refresh_tokens_session_id_idx', 'refresh_tokens_user_id_idx'])
  const sessionTable = getTableConfig(sessions)
  t.same(sessionTable.foreignKeys.map(key => [key.onDelete, key.reference().foreignTable]), [['cascade', users]])
  t.same(sessionTable.indexes.map(i => i.config.name).sort(), ['sessions_absolute_expires_at_idx', 'sessions_ended_at_idx', 'sessions_user_id_idx'])
  const userTable = getTableConfig(users)
  t.same(userTable.indexes.map(i => [i.config.name, i.config.unique]), [['users_username_lower_key', true]])
})
