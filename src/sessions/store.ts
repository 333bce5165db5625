import { and, desc, eq, gt, inArray, isNotNull, isNull, lt, ne, or, sql, type SQL } from 'drizzle-orm'
import type { Db, Tx } from '../db/index.js'
import { deleteInBatches } from '../db/batches.js'
import { refreshTokens, sessions, type Session } from '../db/schema.js'

// The session repository: plain functions over a Db or a transaction.

export interface NewSession {
  id: string
  userId: number
  now: Date
  absoluteExpiresAt: Date
  userAgent?: string
  ip?: string
}

export async function createSession (db: Db | Tx, session: NewSession): Promise<void> {
  await db.insert(sessions).values({
    id: session.id,
    userId: session.userId,
    createdAt: session.now,
    lastUsedAt: session.now,
    absoluteExpiresAt: session.absoluteExpiresAt,
    userAgent: (session.userAgent ?? '').slice(0, 512),
    ip: (session.ip ?? '').slice(0, 45)
  })
}

/** Which sessions to end: one, a user's all, or a user's all but one. */
export type SessionSelection =
  | { sessionId: string, userId?: number }
  | { userId: number, except?: string | null }

function whereOf (selection: SessionSelection): SQL {
  if ('sessionId' in selection) {
    return selection.userId === undefined
      ? eq(sessions.id, selection.sessionId)
      : and(eq(sessions.id, selection.sessionId), eq(sessions.userId, selection.userId))!
  }
  const except = selection.except ?? null
  return except === null ? eq(sessions.userId, selection.userId) : and(eq(sessions.userId, selection.userId), ne(sessions.id, except))!
}

/**
 * Ends the selected live sessions and blacklists every refresh token of
 * theirs. Answers the ids of the sessions it ended.
 */
export async function endSessionsWhere (tx: Db | Tx, selection: SessionSelection, now: Date): Promise<string[]> {
  const ended = await tx.update(sessions).set({ endedAt: now })
    .where(and(whereOf(selection), isNull(sessions.endedAt))).returning({ id: sessions.id })
  const ids = ended.map(row => row.id)
  if (ids.length > 0) {
    await tx.update(refreshTokens).set({ blacklistedAt: now })
      .where(and(inArray(refreshTokens.sessionId, ids), isNull(refreshTokens.blacklistedAt)))
  }
  return ids
}

/** A user's sessions that are neither ended nor past their absolute end, the most recently used first. */
export async function listLiveSessions (db: Db, userId: number, now: Date): Promise<Session[]> {
  return await db.select().from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.endedAt), gt(sessions.absoluteExpiresAt, now)))
    .orderBy(desc(sessions.lastUsedAt), desc(sessions.createdAt))
}

/** Sessions ended after `since`: the ones whose access tokens may still be presented. */
export async function sessionsEndedSince (db: Db, since: Date): Promise<Array<{ id: string, endedAt: Date }>> {
  const rows = await db.select({ id: sessions.id, endedAt: sessions.endedAt }).from(sessions)
    .where(gt(sessions.endedAt, since))
  return rows.map(row => ({ id: row.id, endedAt: row.endedAt! }))
}

/** When the session ended, null while it lives (or when it does not exist). */
export async function sessionEndedAt (db: Db, id: string): Promise<Date | null> {
  const [row] = await db.select({ endedAt: sessions.endedAt }).from(sessions).where(eq(sessions.id, id)).limit(1)
  return row?.endedAt ?? null
}

/**
 * Deletes sessions that can open nothing any more, a batch at a time: past
 * their absolute end (no token of theirs outlives it), or ended with every
 * refresh token expired. A session is kept while one of its tokens could still
 * be presented, so that a replay still finds the token blacklisted.
 */
export async function deleteDeadSessions (db: Db, now: Date, signal?: AbortSignal): Promise<number> {
  const liveToken = db.select({ one: sql`1` }).from(refreshTokens)
    .where(and(eq(refreshTokens.sessionId, sessions.id), gt(refreshTokens.expiresAt, now)))
  return await deleteInBatches(db, sessions, or(lt(sessions.absoluteExpiresAt, now), and(isNotNull(sessions.endedAt), sql`not exists (${liveToken})`))!, { signal })
}
