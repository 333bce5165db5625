import { and, eq, isNull, lt, sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/index.js'
import { deleteInBatches, rowsOf } from '../db/batches.js'
import { retryOnDeadlock, sqlState } from '../db/errors.js'
import { refreshTokens } from '../db/schema.js'
import { preparedStatement } from '../db/prepared.js'
import { createSession } from '../sessions/store.js'

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

const addSeconds = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000)

interface RotationRow {
  jti: string | null
  session_id: string | null
  is_active: boolean | null
  ended: boolean | null
  /** Milliseconds since the epoch (the drivers return timestamps in different shapes). */
  absolute_expires_at: number | string | null
  next_expires_at: number | string | null
}

const dateOf = (value: number | string | null): Date | null => value === null ? null : new Date(Number(value))

/**
 * The usual rotation in one statement (one round trip inside the
 * transaction): claim the token (as claimToken), read the user locked
 * against deletion, touch the token's session (UPDATE: it waits for a
 * concurrent ending and sees it), and record the successor only when the
 * user is active and the session live. The caller reads which of these held.
 */
function claimAndRotate (tx: Tx, rotation: Rotation) {
  const { old, next, blacklistOld, now } = rotation
  // Timestamps go as ISO text: drizzle leaves Date parameters to its column mappers, which raw SQL has not.
  const at = now.toISOString()
  const lifetimeEnd = next === null ? null : addSeconds(now, next.lifetime).toISOString()
  return tx.execute(sql`with claimed as (
      insert into refresh_tokens (jti, user_id, issued_at, expires_at, blacklisted_at, replaced_by, session_id)
      values (${old.jti}, ${old.userId}, ${old.issuedAt.toISOString()}::timestamptz, ${old.expiresAt.toISOString()}::timestamptz, ${blacklistOld ? at : null}::timestamptz, ${next?.jti ?? null}::varchar, null)
      on conflict (jti) do update set blacklisted_at = excluded.blacklisted_at,
        replaced_by = coalesce(excluded.replaced_by, refresh_tokens.replaced_by)
      where refresh_tokens.blacklisted_at is null
      returning jti, session_id
    ), account as (
      select is_active from users where id = ${old.userId} for share
    ), session as (
      update sessions set last_used_at = ${at}::timestamptz where id = (select session_id from claimed) returning id, ended_at, absolute_expires_at
    ), successor as (
      insert into refresh_tokens (jti, user_id, issued_at, expires_at, session_id)
      select ${next?.jti ?? null}::varchar, ${old.userId}::int, ${at}::timestamptz, least(${lifetimeEnd}::timestamptz, session.absolute_expires_at), session.id
      from session, account
      where ${next !== null}::boolean and account.is_active and session.ended_at is null and session.absolute_expires_at > ${at}::timestamptz
      returning expires_at
    )
    select (select jti from claimed) as jti, (select session_id from claimed) as session_id,
      (select is_active from account) as is_active, (select ended_at is not null from session) as ended,
      (select extract(epoch from absolute_expires_at) * 1000 from session)::float8 as absolute_expires_at,
      (select extract(epoch from expires_at) * 1000 from successor)::float8 as next_expires_at`)
}

const placeholder = sql.placeholder

/**
 * The usual rotation (a token of Tessera's, its session live, its user
 * active) as one statement outside a transaction: one round trip, committed
 * on its own. It takes the locks of claimAndRotate in the same order (the
 * token, the user, the session) and writes the same rows, but only when all
 * of it holds; otherwise it changes nothing and the transaction below
 * decides, as for any other outcome. The session's UPDATE waits for a
 * concurrent ending and then finds it ended (no row), as in claimAndRotate.
 */
export const USUAL_ROTATION = sql`with token as (
    select jti, session_id from refresh_tokens
    where jti = ${placeholder('jti')} and blacklisted_at is null and session_id is not null
    for no key update
  ), account as (
    select is_active from users where id = ${placeholder('userId')}::int for share
  ), session as (
    update sessions set last_used_at = ${placeholder('now')}::timestamptz
    where id = (select session_id from token) and (select is_active from account)
      and ended_at is null and absolute_expires_at > ${placeholder('now')}::timestamptz
    returning id, absolute_expires_at
  ), claimed as (
    update refresh_tokens set blacklisted_at = ${placeholder('blacklistedAt')}::timestamptz,
      replaced_by = coalesce(${placeholder('next')}::varchar, replaced_by)
    where jti = (select jti from token) and exists (select from session)
    returning jti
  ), successor as (
    insert into refresh_tokens (jti, user_id, issued_at, expires_at, session_id)
    select ${placeholder('next')}::varchar, ${placeholder('userId')}::int, ${placeholder('now')}::timestamptz,
      least(${placeholder('nextEnd')}::timestamptz, session.absolute_expires_at), session.id
    from session where ${placeholder('rotate')}::boolean
    returning expires_at
  )
  select (select jti from token) as jti, (select is_active from account) as is_active, (select id from session) as session_id,
    (select jti from claimed) as claimed, (select extract(epoch from expires_at) * 1000 from successor)::float8 as next_expires_at`

const rotateIfUsual = preparedStatement('rotate_refresh_token', USUAL_ROTATION)

interface UsualRotationRow {
  /** Selected first, then the user: the order the CTEs run in, and so the order of the locks. */
  jti: string | null
  is_active: boolean | null
  session_id: string | null
  claimed: string | null
  next_expires_at: number | string | null
}

/**
 * Rotates a refresh token atomically: of concurrent rotations of one token
 * exactly one claims it; the others find it blacklisted. The user is checked
 * (and locked against deletion) after the claim, as simplejwt checks the
 * blacklist before the user; an inactive or missing user rolls it all back.
 * The successor belongs to the same session and never outlives its absolute
 * end; a token without a session starts one. The usual case is one
 * statement (rotateIfUsual); when it changed nothing, a transaction finds
 * out why (or rotates a token it did not take, as simplejwt's).
 */
export async function rotateRefreshToken (db: Db, rotation: Rotation): Promise<RotationOutcome> {
  // A logout racing this rotation on the same session can deadlock with it (src/db/errors.ts).
  return await retryOnDeadlock(async () => await rotateOnce(db, rotation))
}

async function rotateOnce (db: Db, rotation: Rotation): Promise<RotationOutcome> {
  const { old, next, blacklistOld, now } = rotation
  try {
    const at = now.toISOString()
    const usual = rowsOf<UsualRotationRow>(await rotateIfUsual(db, {
      jti: old.jti,
      userId: old.userId,
      now: at,
      blacklistedAt: blacklistOld ? at : null,
      next: next?.jti ?? null,
      nextEnd: next === null ? null : addSeconds(now, next.lifetime).toISOString(),
      rotate: next !== null
    }))[0]!
    if (usual.claimed !== null) return { outcome: 'rotated', sessionId: usual.session_id!, nextExpiresAt: dateOf(usual.next_expires_at) }
    return await db.transaction(async tx => {
      const row = rowsOf<RotationRow>(await claimAndRotate(tx, rotation))[0]!
      if (row.jti === null) {
        // A deactivation ended the user's sessions (and so blacklisted their tokens): it says no_active_account.
        if (row.is_active !== true) throw new InactiveUser()
        const [token] = await tx.select().from(refreshTokens).where(eq(refreshTokens.jti, old.jti))
        return { outcome: 'blacklisted', rotatedAt: token!.replacedBy === null ? null : token!.blacklistedAt, sessionId: token!.sessionId }
      }
      if (row.is_active !== true) throw new InactiveUser()
      if (row.session_id !== null) {
        // Ended while this rotation ran (its tokens were blacklisted after our claim), or past its end.
        const absoluteEnd = dateOf(row.absolute_expires_at)!
        if (row.ended !== false || absoluteEnd <= now) throw new SessionOver()
        /* c8 ignore next 2: rotateIfUsual would have rotated it; only a change in between (a user reactivated) gets here */
        return { outcome: 'rotated', sessionId: row.session_id, nextExpiresAt: dateOf(row.next_expires_at) }
      }
      // A token minted by simplejwt (no session yet): its rotation starts one.
      const sessionId = rotation.newSession.id
      const absoluteEnd = addSeconds(now, rotation.newSession.absoluteLifetime)
      await createSession(tx, { id: sessionId, userId: old.userId, now, absoluteExpiresAt: absoluteEnd })
      await tx.update(refreshTokens).set({ sessionId }).where(eq(refreshTokens.jti, old.jti))
      let nextExpiresAt: Date | null = null
      if (next !== null) {
        // Never past the new session's absolute end.
        nextExpiresAt = addSeconds(now, Math.min(next.lifetime, rotation.newSession.absoluteLifetime))
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

/** Deletes the rows of refresh tokens that have expired (they can no longer be presented). */
export async function deleteExpiredRefreshTokens (db: Db, now: Date, signal?: AbortSignal): Promise<number> {
  return await deleteInBatches(db, refreshTokens, lt(refreshTokens.expiresAt, now), { signal })
}
