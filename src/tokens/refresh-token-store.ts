import { and, eq, isNull, lt, sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/index.js'
import { sqlState } from '../db/errors.js'
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

const FOREIGN_KEY_VIOLATION = '23503'

class InactiveUser extends Error {}

/**
 * Marks a refresh token used, in one statement whatever we knew of it: its row
 * is inserted (a token simplejwt minted with the same key) or updated, only
 * while it is not blacklisted. PostgreSQL locks the row for the statement, so
 * of concurrent calls for one token exactly one gets its jti back.
 */
function claimToken (tx: Db | Tx, token: RefreshTokenRecord, set: { blacklistedAt: Date | null, replacedBy: string | null }) {
  return tx.insert(refreshTokens).values({ ...token, ...set })
    .onConflictDoUpdate({
      target: refreshTokens.jti,
      set: {
        blacklistedAt: sql`excluded.blacklisted_at`,
        replacedBy: sql`coalesce(excluded.replaced_by, ${refreshTokens.replacedBy})`
      },
      setWhere: isNull(refreshTokens.blacklistedAt)
    })
    .returning({ jti: refreshTokens.jti })
}

/**
 * Rotates a refresh token atomically: of concurrent rotations of one token
 * exactly one claims it; the others find it blacklisted. The user is checked
 * (and locked against deletion) after the claim, as simplejwt checks the
 * blacklist before the user; an inactive or missing user rolls it all back.
 */
export async function rotateRefreshToken (db: Db, rotation: Rotation): Promise<RotationOutcome> {
  const { old, next, blacklistOld, now } = rotation
  try {
    return await db.transaction(async tx => {
      const claimed = await claimToken(tx, old, { blacklistedAt: blacklistOld ? now : null, replacedBy: next?.jti ?? null })
      if (claimed.length === 0) return 'blacklisted'
      const [user] = await tx.select({ isActive: users.isActive }).from(users)
        .where(eq(users.id, old.userId)).for('share')
      if (user?.isActive !== true) throw new InactiveUser()
      if (next !== null) await tx.insert(refreshTokens).values(next)
      return 'rotated'
    })
  } catch (error) {
    // A deleted user: no row of theirs can be inserted (the foreign key).
    if (error instanceof InactiveUser || sqlState(error) === FOREIGN_KEY_VIOLATION) return 'no_active_account'
    throw error
  }
}

/**
 * Blacklists a refresh token. Answers false when it already was. A token whose
 * user is gone has nothing left to end and counts as blacklisted now.
 */
export async function blacklistRefreshToken (db: Db, token: RefreshTokenRecord, now: Date): Promise<boolean> {
  try {
    return (await claimToken(db, token, { blacklistedAt: now, replacedBy: null })).length > 0
  } catch (error) {
    if (sqlState(error) === FOREIGN_KEY_VIOLATION) return true
    throw error
  }
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
