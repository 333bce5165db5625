import { availableParallelism } from 'node:os'
import fp from 'fastify-plugin'
import { HashQueue, hashConcurrencyOf, queuedHasher } from '../src/auth/hash-queue.js'
import { createPasswordHasher } from '../src/auth/passwords.js'
import type { AccountDeps } from '../src/users/accounts.js'
import { UserStatusCache } from '../src/users/status-cache.js'
import { cachedUserStatus, type UserStatusLookup } from '../src/users/status.js'

declare module 'fastify' {
  interface FastifyInstance {
    accounts: AccountDeps
    userStatus: UserStatusLookup
    /** The turns of password hashing (HASH_CONCURRENCY, HASH_QUEUE_LIMIT). */
    hashQueue: HashQueue
  }
}

// The Drizzle-backed user store: password hashing (bounded: src/auth/hash-queue.ts), and the in-memory cache of
// users' states that protected routes read.
export default fp(async app => {
  const { config } = app
  const hashQueue = new HashQueue({ concurrency: hashConcurrencyOf(config.hashConcurrency, availableParallelism()), queueLimit: config.hashQueueLimit, refusalDelayMs: config.hashQueueRefusalDelay })
  const cache = new UserStatusCache(config.userCacheSize, config.userCacheTtl * 1000)
  const accounts: AccountDeps = {
    db: app.database.db,
    hasher: queuedHasher(createPasswordHasher({
      memoryKib: config.argon2MemoryKib,
      iterations: config.argon2Iterations,
      parallelism: config.argon2Parallelism
    }, { allowMd5: config.allowMd5PasswordHashes }), hashQueue),
    cache,
    sessions: app.sessions
  }
  // Another instance changed a user: drop what this one cached of them.
  app.sessions.state.watchUsers(id => { if (id === 'all') cache.clear(); else cache.delete(id) })
  app.decorate('accounts', accounts)
  app.decorate('hashQueue', hashQueue)
  app.decorate('userStatus', cachedUserStatus(app.database.db, cache))
}, { name: 'tessera-users', dependencies: ['tessera-config', 'tessera-db', 'tessera-sessions'] })
