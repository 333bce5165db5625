import { and, eq, lt, sql } from 'drizzle-orm'
import type { Db } from '../db/index.js'
import { refreshTokens, users } from '../db/schema.js'

// The refresh-token repository. A token is known by its jti; the raw token is
// never stored.

export interface RefreshTokenRecord {
  jti: string
  userId: number
  issuedAt: Date
  expiresAt: Date
}

export async function recordRefreshToken (db: Db, token: RefreshTokenRecord): Promise<void> {
  await db.insert(refreshTokens).values(token)
}

export async function isBlacklisted (db: Db, jti: string): Promise<boolean> {
  const [row] = await db.select({ jti: refreshTokens.jti }).from(refreshTokens)
    .where(and(eq(refreshTokens.jti, jti), sql`${refreshTokens.blacklistedAt} is not null`)).limit(1)
  return row !== undefined
}

export type RotationOutcome = 'rotated' | 'blacklisted' | 'no_active_account'

export interface Rotation {
  /** The presented token, as its claims describe it (it may predate our table: minted by simplejwt with the same key). */
  old: RefreshTokenRecord
  /** The token that replaces it, or null when rotation is off. */
  next: RefreshTokenRecord | null
  blacklistOld: boolean
  now: Date
}

/**
 * Rotates a refresh token atomically: the presented token's row is locked, so
 * of concurrent rotations of one token exactly one finds it unused; the others
 * wait for it and then find it blacklisted. The user is locked against deletion
 * while the new token is recorded.
 */
export async function rotateRefreshToken (db: Db, rotation: Rotation): Promise<RotationOutcome> {
  const { old, next, blacklistOld, now } = rotation
  return await db.transaction(async tx => {
    const [row] = await tx.select({ blacklistedAt: refreshTokens.blacklistedAt }).from(refreshTokens)
      .where(eq(refreshTokens.jti, old.jti)).for('update')
    if (row?.blacklistedAt != null) return 'blacklisted'

    const [user] = await tx.select({ isActive: users.isActive }).from(users)
      .where(eq(users.id, old.userId)).for('share')
    if (user === undefined || !user.isActive) return 'no_active_account'

    const successor = { replacedBy: next?.jti ?? null, ...(blacklistOld ? { blacklistedAt: now } : {}) }
    if (row !== undefined) {
      if (next !== null || blacklistOld) await tx.update(refreshTokens).set(successor).where(eq(refreshTokens.jti, old.jti))
    } else {
      // A token we never recorded: only one of concurrent inserts of it wins.
      const inserted = await tx.insert(refreshTokens).values({ ...old, ...successor })
        .onConflictDoNothing().returning({ jti: refreshTokens.jti })
      if (inserted.length === 0) return 'blacklisted'
    }
    if (next !== null) await tx.insert(refreshTokens).values(next)
    return 'rotated'
  })
}

/**
 * Blacklists a refresh token. Answers false when it already was. A token whose
 * user is gone has nothing left to end and counts as blacklisted now.
 */
export async function blacklistRefreshToken (db: Db, token: RefreshTokenRecord, now: Date): Promise<boolean> {
  return await db.transaction(async tx => {
    const [row] = await tx.select({ blacklistedAt: refreshTokens.blacklistedAt }).from(refreshTokens)
      .where(eq(refreshTokens.jti, token.jti)).for('update')
    if (row?.blacklistedAt != null) return false
    if (row !== undefined) {
      await tx.update(refreshTokens).set({ blacklistedAt: now }).where(eq(refreshTokens.jti, token.jti))
      return true
    }
    const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.id, token.userId)).for('share')
    if (user === undefined) return true
    const inserted = await tx.insert(refreshTokens).values({ ...token, blacklistedAt: now })
      .onConflictDoNothing().returning({ jti: refreshTokens.jti })
    return inserted.length > 0
  })
}

/**
 * Deletes the rows of refresh tokens that have expired (they can no longer be
 * presented), a batch at a time so that no lock is held for long.
 */
export async function deleteExpiredRefreshTokens (db: Db, now: Date, batchSize = 5000): Promise<number> {
  let total = 0
  for (;;) {
    const batch = db.select({ jti: refreshTokens.jti }).from(refreshTokens)
      .where(lt(refreshTokens.expiresAt, now)).limit(batchSize)
    const deleted = await db.delete(refreshTokens)
      .where(sql`${refreshTokens.jti} in (${batch})`).returning({ jti: refreshTokens.jti })
    total += deleted.length
    if (deleted.length < batchSize) return total
  }
}
