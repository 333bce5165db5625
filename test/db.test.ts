import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { createDb } from '../src/db/index.js'
import { acquireDirectoryLock } from '../src/db/directory-lock.js'
import { sqlState } from '../src/db/errors.js'
import { users } from '../src/db/schema.js'
import { freshDatabaseUrl } from './helpers/app.js'

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
  const applied: unknown = await instances[0]!.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)
  // PGlite answers { rows }, postgres.js an array.
  const rows = Array.isArray(applied) ? applied : (applied as { rows: unknown[] }).rows
  const migrations = readFileSync(join(import.meta.dirname, '..', 'drizzle', 'meta', '_journal.json'), 'utf8')
  t.equal((rows as Array<{ n: number }>)[0]!.n, JSON.parse(migrations).entries.length)
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
