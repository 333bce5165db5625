import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import type { Config } from '../config.js'
import { projectRoot } from '../paths.js'
import { acquireDirectoryLock } from './directory-lock.js'
import * as schema from './schema.js'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export interface Database {
  db: Db
  kind: 'pglite' | 'postgres'
  /** Applies the migrations in drizzle/ under an advisory lock, so that instances starting together apply them once. */
  migrate: () => Promise<void>
  close: () => Promise<void>
}

export const MEMORY_DATA_DIR = 'memory://'
const migrationsFolder = join(projectRoot, 'drizzle')
// Any constant works; it only has to be the same for every instance.
const MIGRATION_LOCK_KEY = 7_420_113_001

export function createDb (config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'databaseTimeout'>>): Database {
  /* c8 ignore next: the PostgreSQL lane, as createPostgresDb below */
  if (config.databaseUrl !== undefined) return createPostgresDb(config.databaseUrl, config.databaseTimeout ?? 5)
  return createPgliteDb(config.dataDir)
}

/* c8 ignore start: runs in the PostgreSQL lane (TEST_DATABASE_URL), which .ci/run runs on every
   submission, and in test/database-faults.test.ts; the default lane's other files have no server. */
/**
 * postgres.js, with every wait bounded by DATABASE_TIMEOUT (seconds): a
 * connection attempt (connect_timeout) and a statement (statement_timeout,
 * enforced by the server), so that no request hangs on an unreachable or
 * stuck database (plugins/errors.ts answers those 503). The pool reconnects
 * on its own when the server is back.
 */
function createPostgresDb (url: string, timeoutSeconds: number): Database {
  const client = postgres(url, {
    max: 10,
    connect_timeout: timeoutSeconds,
    connection: { statement_timeout: timeoutSeconds * 1000 },
    // Migrations print NOTICEs ("already exists, skipping"); they are not news.
    onnotice: () => {}
  })
  const db = drizzlePostgres(client, { schema }) as unknown as Db
  return {
    db,
    kind: 'postgres',
    async migrate () {
      const lockConnection = await client.reserve()
      try {
        await lockConnection`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
        await migratePostgres(drizzlePostgres(client, { schema }), { migrationsFolder })
      } finally {
        await lockConnection`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`
        lockConnection.release()
      }
    },
    close: async () => await client.end({ timeout: 5 })
  }
}
/* c8 ignore stop */

function createPgliteDb (dataDir: string): Database {
  let releaseLock = () => {}
  let client: PGlite
  if (dataDir === MEMORY_DATA_DIR) {
    client = new PGlite()
  } else {
    // PGlite is one process's database: a second process opening the same
    // files would corrupt them, so the folder is locked while it is open.
    const path = join(dataDir, 'pglite')
    mkdirSync(path, { recursive: true, mode: 0o700 })
    releaseLock = acquireDirectoryLock(dataDir)
    client = new PGlite(path)
  }
  const pgliteDb = drizzlePglite(client, { schema })
  return {
    db: pgliteDb as unknown as Db,
    kind: 'pglite',
    async migrate () {
      await pgliteDb.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
      try {
        await migratePglite(pgliteDb, { migrationsFolder })
      } finally {
        await pgliteDb.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`)
      }
    },
    async close () {
      if (client.closed) return
      await client.close()
      releaseLock()
    }
  }
}
