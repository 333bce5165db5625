import { createPasswordHasher } from '../auth/passwords.js'
import type { Config } from '../config.js'
import { createDb, type Database } from '../db/index.js'
import { inProcessChannel, postgresNotifier } from '../sessions/channel.js'
import { RevocationState } from '../sessions/revocation.js'
import { epochSeconds } from '../sessions/service.js'
import type { AccountDeps } from '../users/accounts.js'
import { UserStatusCache } from '../users/status-cache.js'

/** Opens the configured database, migrated, for a command; closes it after. */
export async function withDatabase<T> (config: Config, run: (database: Database) => Promise<T>): Promise<T> {
  const database = createDb(config)
  try {
    await database.migrate()
    return await run(database)
  } finally {
    await database.close()
  }
}

export function accountsOf (config: Config, database: Database): AccountDeps {
  return {
    db: database.db,
    hasher: createPasswordHasher({
      memoryKib: config.argon2MemoryKib,
      iterations: config.argon2Iterations,
      parallelism: config.argon2Parallelism
    }, { allowMd5: config.allowMd5PasswordHashes }),
    // A command's own process: the server's cache is not reachable from here.
    cache: new UserStatusCache(1, 1),
    // Changes a command makes reach the servers through NOTIFY (PGlite: no server can have the database open).
    sessions: {
      db: database.db,
      /* c8 ignore next: the PostgreSQL lane */
      channel: database.kind === 'postgres' ? postgresNotifier() : inProcessChannel(),
      state: new RevocationState(epochSeconds),
      accessTokenLifetime: config.accessTokenLifetime,
      now: epochSeconds
    }
  }
}
