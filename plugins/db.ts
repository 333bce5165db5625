import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import { isDatabaseUnavailable } from '../src/db/errors.js'
import { createDb, type Database } from '../src/db/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: Database
  }
}

const FIRST_RETRY_MS = 250
const LONGEST_RETRY_MS = 10_000

/**
 * Applies the migrations, retrying with back-off (250 ms doubling to 10 s)
 * while the database is unreachable, for up to `timeoutSeconds` (0: for ever).
 * Any other failure (a wrong password, a missing database) stops start-up at once.
 */
export async function migrateWhenReachable (database: Database, timeoutSeconds: number, log: FastifyBaseLogger): Promise<void> {
  const giveUpAt = Date.now() + timeoutSeconds * 1000
  let attempt = 1
  for (let delay = FIRST_RETRY_MS; ; attempt++, delay = Math.min(delay * 2, LONGEST_RETRY_MS)) {
    const failure = await database.migrate().then(() => null, (err: unknown) => err as Error)
    if (failure === null) break
    if (!isDatabaseUnavailable(failure) || (timeoutSeconds > 0 && Date.now() + delay > giveUpAt)) throw failure
    log.warn({ attempt, retryInMs: delay, reason: failure.message }, `database unreachable at start-up: retrying in ${delay} ms`)
    await sleep(delay)
  }
  if (attempt > 1) log.info({ attempt }, 'database reachable: starting')
}

// Opens the database of the configuration (PGlite or PostgreSQL), applies the
// migrations, and closes it when the app closes.
export default fp(async app => {
  const database = createDb(app.config)
  app.addHook('onClose', async () => await database.close())
  await migrateWhenReachable(database, app.config.databaseStartupTimeout, app.log)
  app.log.debug({ kind: database.kind }, 'database ready')
  app.decorate('database', database)
}, { name: 'tessera-db', dependencies: ['tessera-config'] })
