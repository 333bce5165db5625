import { isDatabaseUnavailable } from '../db/errors.js'
import type { Db } from '../db/index.js'
import type { UserStatusCache } from './status-cache.js'
import { findUserStatus, type UserStatus } from './store.js'

export type UserStatusLookup = (id: number) => Promise<UserStatus | undefined>

/**
 * Looks a user's state up in the cache, and in the database on a miss. Users
 * that do not exist are not cached: an id can come to exist later (identity
 * ids are handed out in order), and only a deleted user's token can ask.
 */
export function cachedUserStatus (db: Db, cache: UserStatusCache): UserStatusLookup {
  return async id => {
    const cached = cache.get(id)
    if (cached !== undefined) return cached
    let status: UserStatus | undefined
    try {
      status = await findUserStatus(db, id)
    } catch (error) {
      // The database is unreachable: the last state known answers (nothing can change a user meanwhile).
      const stale = isDatabaseUnavailable(error) ? cache.stale(id) : undefined
      if (stale === undefined) throw error
      return stale
    }
    if (status !== undefined) cache.set(id, status)
    return status
  }
}
