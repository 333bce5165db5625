import fp from 'fastify-plugin'
import { createPasswordHasher } from '../src/auth/passwords.js'
import type { AccountDeps } from '../src/users/accounts.js'
import { UserStatusCache } from '../src/users/status-cache.js'
import { cachedUserStatus, type UserStatusLookup } from '../src/users/status.js'

declare module 'fastify' {
  interface FastifyInstance {
    accounts: AccountDeps
    userStatus: UserStatusLookup
  }
}

// The Drizzle-backed user store: password hashing, and the in-memory cache of
// users' states that protected routes read.
export default fp(async app => {
  const { config } = app
  const cache = new UserStatusCache(config.userCacheSize, config.userCacheTtl * 1000)
  const accounts: AccountDeps = {
    db: app.database.db,
    hasher: createPasswordHasher({
      memoryKib: config.argon2MemoryKib,
      iterations: config.argon2Iterations,
      parallelism: config.argon2Parallelism
    }, { allowMd5: config.allowMd5PasswordHashes }),
    cache,
    sessions: app.sessions
  }
  // Another instance changed a user: drop what this one cached of them.
  app.sessions.state.watchUsers(id => { if (id === 'all') cache.clear(); else cache.delete(id) })
  app.decorate('accounts', accounts)
  app.decorate('userStatus', cachedUserStatus(app.database.db, cache))
}, { name: 'tessera-users', dependencies: ['tessera-config', 'tessera-db', 'tessera-sessions'] })
