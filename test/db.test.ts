import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lt, sql } from 'drizzle-orm'
import t from 'tap'
import { createDb } from '../src/db/index.js'
import { deleteInBatches, rowsOf } from '../src/db/batches.js'
import { acquireDirectoryLock } from '../src/db/directory-lock.js'
import { DEADLOCK_DETECTED, retryOnDeadlock, sqlState } from '../src/db/errors.js'
import { securityEvents, users } from '../src/db/schema.js'
import { freshDatabaseUrl, TEST_DATABASE_URL } from './helpers/app.js'

function tempDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-db-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('the embedded database keeps its data in DATA_DIR across restarts', async t => {
  const dataDir = tempDir(t)
  const first = createDb({ dataDir, databaseUrl: undefined })
  await first.migrate()
  await first.db.execute(sql`insert into users (username, password) values ('kept', 'x')`)
  await first.close()
  await first.close()
  t.equal(first.kind, 'pglite')
  const second = createDb({ dataDir, databaseUrl: undefined })
  await second.migrate()
  const rows = await second.db.select({ username: users.username }).from(users)
  t.same(rows, [{ username: 'kept' }])
  await second.close()
})

t.test('migrations run once when instances start together (advisory lock)', async t => {
  const databaseUrl = await freshDatabaseUrl(t)
  const dataDir = tempDir(t)
  const instances = databaseUrl === undefined
    ? [createDb({ dataDir, databaseUrl })]
    : [1, 2, 3].map(() => createDb({ dataDir, databaseUrl }))
  t.teardown(() => Promise.all(instances.map(i => i.close())))
  await Promise.all(instances.map(i => i.migrate()))
  await Promise.all(instances.map(i => i.migrate()))
  const rows = rowsOf(await instances[0]!.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`))
  const migrations = readFileSync(join(import.meta.dirname, '..', 'drizzle', 'meta', '_journal.json'), 'utf8')
  t.equal((rows as Array<{ n: number }>)[0]!.n, JSON.parse(migrations).entries.length)
})

t.test('refresh_tokens and sessions leave room on each page for HOT updates (fillfactor 80)', async t => {
  const databaseUrl = await freshDatabaseUrl(t)
  const database = createDb({ dataDir: tempDir(t), databaseUrl })
  t.teardown(() => database.close())
  await database.migrate()
  const rows = rowsOf(await database.db.execute(sql`select relname, array_to_string(reloptions, ',') as options
    from pg_class where relname in ('refresh_tokens', 'sessions', 'users') and relkind = 'r' order by relname`))
  t.same(rows, [
    { relname: 'refresh_tokens', options: 'fillfactor=80' },
    { relname: 'sessions', options: 'fillfactor=80' },
    // Updated rarely (last_login only with UPDATE_LAST_LOGIN, off by default): packed, PostgreSQL's default.
    { relname: 'users', options: null }
  ])
})

t.test('deleteInBatches: every matching row and no other, a batch per statement, a pause as long as each batch took between them', async t => {
  const database = createDb({ dataDir: tempDir(t), databaseUrl: await freshDatabaseUrl(t) })
  t.teardown(() => database.close())
  await database.migrate()
  const at = (day: number) => new Date(Date.UTC(2026, 0, day))
  await database.db.insert(securityEvents).values(Array.from({ length: 9 }, (_, i) => ({ at: at(i + 1), type: 'logout' as const })))
  const pauses: number[] = []
  const pause = async (ms: number) => { pauses.push(ms) }
  t.equal(await deleteInBatches(database.db, securityEvents, lt(securityEvents.at, at(8)), { batchSize: 3, pause }), 7)
  // 3, 3, then 1 (fewer than a batch: the last): a pause after each full batch.
  t.equal(pauses.length, 2)
  t.ok(pauses.every(ms => ms > 0), 'each pause is the time its batch took')
  const left = await database.db.select({ at: securityEvents.at }).from(securityEvents).orderBy(securityEvents.at)
  t.same(left.map(row => row.at.toISOString()), [at(8).toISOString(), at(9).toISOString()])
  pauses.length = 0
  t.equal(await deleteInBatches(database.db, securityEvents, lt(securityEvents.at, at(8)), { batchSize: 3, pause }), 0)
  t.same(pauses, [], 'nothing to delete: one statement, no pause')
  // The default pause sleeps: a full batch, then an empty one.
  t.equal(await deleteInBatches(database.db, securityEvents, lt(securityEvents.at, at(10)), { batchSize: 2 }), 2)
  t.same(await database.db.select().from(securityEvents), [])
})

t.test('the PGlite folder lock', async t => {
  const dataDir = tempDir(t)
  const release = acquireDirectoryLock(dataDir)
  t.equal(readFileSync(join(dataDir, 'pglite.pid'), 'utf8'), String(process.pid))
  t.doesNotThrow(() => acquireDirectoryLock(dataDir), 'the same process may open it again')
  release()

  // A live process holds it (pid 1 always runs).
  writeFileSync(join(dataDir, 'pglite.pid'), '1')
  t.throws(() => acquireDirectoryLock(dataDir), { name: 'DirectoryLockedError', message: /in use by process 1/ })

  // A lock left by a process that died is taken over.
  writeFileSync(join(dataDir, 'pglite.pid'), '2147483646')
  const again = acquireDirectoryLock(dataDir)
  t.equal(readFileSync(join(dataDir, 'pglite.pid'), 'utf8'), String(process.pid))
  again()

  // Garbage in the file is not a live process either.
  writeFileSync(join(dataDir, 'pglite.pid'), 'nonsense')
  acquireDirectoryLock(dataDir)()

  t.throws(() => acquireDirectoryLock(join(dataDir, 'missing', 'folder')), { code: 'ENOENT' })
})

t.test('sqlState finds the SQLSTATE through wrapped errors', async t => {
  t.equal(sqlState({ cause: { code: '23505' } }), '23505')
  t.equal(sqlState({ code: '40001' }), '40001')
  t.equal(sqlState(new Error('plain')), undefined)
  t.equal(sqlState(undefined), undefined)
})

t.test('retryOnDeadlock: runs the work again after a deadlock, up to its attempts; other errors at once', async t => {
  let calls = 0
  const deadlock = { code: DEADLOCK_DETECTED }
  t.equal(await retryOnDeadlock(async () => { if (++calls < 3) throw deadlock; return 'done' }), 'done')
  t.equal(calls, 3)
  calls = 0
  await t.rejects(retryOnDeadlock(async () => { calls++; throw deadlock }, 2), deadlock, 'gives up after its attempts')
  t.equal(calls, 2)
  calls = 0
  await t.rejects(retryOnDeadlock(async () => { calls++; throw new Error('other') }), { message: 'other' })
  t.equal(calls, 1, 'no retry for other errors')
})

// PGlite has one connection: no two transactions wait for each other there.
const onlyPostgres = TEST_DATABASE_URL === undefined ? 'needs PostgreSQL: set TEST_DATABASE_URL' : false
t.test('a real deadlock on PostgreSQL: the cancelled transaction goes through when run again', { skip: onlyPostgres }, async t => {
  const databaseUrl = (await freshDatabaseUrl(t))!
  const database = createDb({ dataDir: tempDir(t), databaseUrl })
  t.teardown(() => database.close())
  const { db } = database
  await db.execute(sql`create table pair (id int primary key, n int not null)`)
  await db.execute(sql`insert into pair values (1, 0), (2, 0)`)
  // Each transaction locks one row, waits until the other has locked the other row, then wants that one too.
  const locked = { count: 0 }
  const bothLocked = async () => {
    locked.count++
    // The other transaction's lock is taken on another connection: wait for it.
    for (let waited = 0; locked.count < 2 && waited < 1000; waited++) await new Promise(resolve => setTimeout(resolve, 5))
  }
  let attempts = 0
  const crossing = (first: number, second: number) => retryOnDeadlock(async () => await db.transaction(async tx => {
    attempts++
    await tx.execute(sql`update pair set n = n + 1 where id = ${first}`)
    await bothLocked()
    await tx.execute(sql`update pair set n = n + 1 where id = ${second}`)
  }))
  await Promise.all([crossing(1, 2), crossing(2, 1)])
  t.equal(attempts, 3, 'one of the two was cancelled once and ran again')
  const rows: unknown = await db.execute(sql`select n from pair order by id`)
  t.same((rows as Array<{ n: number }>).map(row => row.n), [2, 2], 'both transactions wrote, once each')
})
