import { and, eq, isNull, lt, sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/index.js'
import { sqlState } from '../db/errors.js'
import { refreshTokens, users } from '../db/schema.js'
import { createSession, findSession, touchSession } from '../sessions/store.js'

// The refresh-token repository. A token is known by its jti; the raw token is
// never stored.

export interface RefreshTokenRecord {
  jti: string
  userId: number
  issuedAt: Date
  expiresAt: Date
  /** The session it belongs to; absent for a token minted by simplejwt. */
  sessionId?: string | null
}

export async function recordRefreshToken (db: Db | Tx, token: RefreshTokenRecord): Promise<void> {
  await db.insert(refreshTokens).values(token)
}

export async function isBlacklisted (db: Db, jti: string): Promise<boolean> {
  const [row] = await db.select({ jti: refreshTokens.jti }).from(refreshTokens)
    .where(and(eq(refreshTokens.jti, jti), sql`${refreshTokens.blacklistedAt} is not null`)).limit(1)
  return row !== undefined
}

export type RotationOutcome =
  | { outcome: 'rotated', sessionId: string, nextExpiresAt: Date | null }
  /** `rotatedAt` is set when the token had been rotated away (not logged out): a replay. */
  | { outcome: 'blacklisted', rotatedAt: Date | null, sessionId: string | null }
  | { outcome: 'no_active_account' }

export interface Rotation {
  /** The presented token, as its claims describe it (it may predate our table: minted by simplejwt with the same key). */
  old: RefreshTokenRecord
  /** The jti and lifetime (seconds) of the token that replaces it, or null when rotation is off. */
  next: { jti: string, lifetime: number } | null
  blacklistOld: boolean
  now: Date
  /** The session a token without one starts (a token minted by simplejwt): its id and absolute lifetime in seconds. */
  newSession: { id: string, absoluteLifetime: number }
}

const FOREIGN_KEY_VIOLATION = '23503'

class InactiveUser extends Error {}
class SessionOver extends Error {}

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
    .returning({ jti: refreshTokens.jti, sessionId: refreshTokens.sessionId })
}

async function assertActive (tx: Tx, userId: number): Promise<void> {
  const [user] = await tx.select({ isActive: users.isActive }).from(users).where(eq(users.id, userId)).for('share')
  if (user?.isActive !== true) throw new InactiveUser()
}

const addSeconds = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000)

/**
 * Rotates a refresh token atomically: of concurrent rotations of one token
 * exactly one claims it; the others find it blacklisted. The user is checked
 * (and locked against deletion) after the claim, as simplejwt checks the
 * blacklist before the user; an inactive or missing user rolls it all back.
 * The successor belongs to the same session and never outlives its absolute
 * end; a token without a session starts one.
 */
export async function rotateRefreshToken (db: Db, rotation: Rotation): Promise<RotationOutcome> {
  const { old, next, blacklistOld, now } = rotation
  try {
    return await db.transaction(async tx => {
      const [claimed] = await claimToken(tx, { ...old, sessionId: null }, { blacklistedAt: blacklistOld ? now : null, replacedBy: next?.jti ?? null })
      if (claimed === undefined) {
        // A deactivation ended the user's sessions (and so blacklisted their tokens): it says no_active_account.
        await assertActive(tx, old.userId)
        const [row] = await tx.select().from(refreshTokens).where(eq(refreshTokens.jti, old.jti))
        return { outcome: 'blacklisted', rotatedAt: row!.replacedBy === null ? null : row!.blacklistedAt, sessionId: row!.sessionId }
      }
      await assertActive(tx, old.userId)
      let sessionId = claimed.sessionId
      let absoluteEnd: Date
      if (sessionId === null) {
        sessionId = rotation.newSession.id
        absoluteEnd = addSeconds(now, rotation.newSession.absoluteLifetime)
        await createSession(tx, { id: sessionId, userId: old.userId, now, absoluteExpiresAt: absoluteEnd })
        await tx.update(refreshTokens).set({ sessionId }).where(eq(refreshTokens.jti, old.jti))
      } else {
        // Ended while this rotation ran (its tokens were blacklisted after our claim), or past its end.
        const session = (await findSession(tx, sessionId))!
        if (session.endedAt !== null || session.absoluteExpiresAt <= now) throw new SessionOver()
        absoluteEnd = session.absoluteExpiresAt
        await touchSession(tx, sessionId, now)
      }
      let nextExpiresAt: Date | null = null
      if (next !== null) {
        const lifetimeEnd = addSeconds(now, next.lifetime)
        nextExpiresAt = lifetimeEnd < absoluteEnd ? lifetimeEnd : absoluteEnd
        await tx.insert(refreshTokens).values({ jti: next.jti, userId: old.userId, issuedAt: now, expiresAt: nextExpiresAt, sessionId })
      }
      return { outcome: 'rotated', sessionId, nextExpiresAt }
    })
  } catch (error) {
    if (error instanceof SessionOver) return { outcome: 'blacklisted', rotatedAt: null, sessionId: null }
    // A deleted user: no row of theirs can be inserted (the foreign key).
    if (error instanceof InactiveUser || sqlState(error) === FOREIGN_KEY_VIOLATION) return { outcome: 'no_active_account' }
    throw error
  }
}

/**
 * Blacklists a refresh token. Answers false when it already was, else its session. A token whose
 * user is gone has nothing left to end and counts as blacklisted now.
 */
export async function blacklistRefreshToken (db: Db, token: RefreshTokenRecord, now: Date): Promise<{ sessionId: string | null } | false> {
  try {
    const [claimed] = await claimToken(db, { ...token, sessionId: null }, { blacklistedAt: now, replacedBy: null })
    return claimed === undefined ? false : { sessionId: claimed.sessionId }
  } catch (error) {
    if (sqlState(error) === FOREIGN_KEY_VIOLATION) return { sessionId: null }
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
