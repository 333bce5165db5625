import { isDatabaseUnavailable, retryOnDeadlock } from '../db/errors.js'
import type { Db, Tx } from '../db/index.js'
import type { RevocationChannel } from './channel.js'
import type { RevocationMessage, RevocationState } from './revocation.js'
import { endSessionsWhere, sessionEndedAt, sessionsEndedSince, type SessionSelection } from './store.js'

// Ending sessions and telling every instance: the database change and its
// NOTIFY in one transaction, then this instance's state at once (its own
// notification, arriving later, changes nothing more).

export interface SessionDeps {
  db: Db
  channel: Pick<RevocationChannel, 'publish'>
  state: RevocationState
  /** ACCESS_TOKEN_LIFETIME: how long after its end a session's access tokens may still be presented. */
  accessTokenLifetime: number
  /** Seconds since the epoch. */
  now: () => number
}

/** Seconds since the epoch, as tokens count time. */
export const epochSeconds = (): number => Math.floor(Date.now() / 1000)

// NOTIFY payloads are limited to 8,000 bytes: 32-character ids, 100 at a time.
const IDS_PER_MESSAGE = 100

async function publish (deps: SessionDeps, tx: Db | Tx, message: RevocationMessage): Promise<void> {
  await deps.channel.publish(tx, JSON.stringify(message))
}

/** Ends the selected live sessions everywhere. Answers the ids it ended (none when all had ended). */
export async function endSessions (deps: SessionDeps, selection: SessionSelection, userChanged: number | null = null): Promise<string[]> {
  const now = deps.now()
  const until = now + deps.accessTokenLifetime
  let messages: RevocationMessage[] = []
  const ids = await retryOnDeadlock(async () => await deps.db.transaction(async tx => {
    messages = []
    const ended = await endSessionsWhere(tx, selection, new Date(now * 1000))
    for (let i = 0; i < ended.length; i += IDS_PER_MESSAGE) {
      messages.push({ ended: ended.slice(i, i + IDS_PER_MESSAGE).map(id => [id, until]) })
    }
    if (userChanged !== null) messages.push({ users: [userChanged] })
    for (const message of messages) await publish(deps, tx, message)
    return ended
  }))
  for (const message of messages) deps.state.apply(message)
  return ids
}

/** Whether a session has ended; from memory, or from the database while the memory is not trusted. */
export async function isSessionEnded (deps: SessionDeps, id: string): Promise<boolean> {
  const known = deps.state.isEnded(id)
  if (known !== undefined) return known
  let endedAt: Date | null
  try {
    endedAt = await sessionEndedAt(deps.db, id)
  } catch (error) {
    // The database is unreachable: no session can end while it is (every ending is a change to it), so
    // memory, which holds every ending heard before the connection was lost, answers.
    if (isDatabaseUnavailable(error)) return false
    /* c8 ignore next 2: any other failure of a one-row select (a bug) goes to the error handler's 500 */
    throw error
  }
  return endedAt !== null && endedAt.getTime() / 1000 + deps.accessTokenLifetime > deps.now()
}

/** Reads the sessions whose access tokens may still be live into memory, and trusts the state again. */
export async function reloadRevocationState (deps: SessionDeps): Promise<number> {
  const now = deps.now()
  const rows = await sessionsEndedSince(deps.db, new Date((now - deps.accessTokenLifetime) * 1000))
  deps.state.reload(rows.map(row => [row.id, Math.floor(row.endedAt.getTime() / 1000) + deps.accessTokenLifetime]))
  return rows.length
}

/** Parses a message from the channel; anything else is ignored (it cannot come from Tessera). */
export function parseRevocationMessage (payload: string): RevocationMessage | null {
  try {
    const parsed = JSON.parse(payload) as unknown
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as RevocationMessage : null
  } catch {
    return null
  }
}

/** Tells every instance that a user's state (exists, active) changed, so that none trusts its cached one. */
export async function publishUserChanged (deps: SessionDeps, userId: number): Promise<void> {
  const message: RevocationMessage = { users: [userId] }
  await publish(deps, deps.db, message)
  deps.state.apply(message)
}

export type LogoutScope = 'local' | 'others' | 'global'

/**
 * POST /api/token/logout/: ends the caller's session (`local`), their other
 * sessions (`others`) or all of them (`global`). An access token without a
 * session (minted by simplejwt) has no `local` session to end.
 */
export async function logout (deps: SessionDeps, userId: number, sessionId: string | null, scope: LogoutScope): Promise<void> {
  if (scope === 'global') await endSessions(deps, { userId })
  else if (scope === 'others') await endSessions(deps, { userId, except: sessionId })
  else if (sessionId !== null) await endSessions(deps, { sessionId, userId })
}

/** DELETE /api/sessions/{id}/: false when the user has no live session of that id (someone else's included). */
export async function endOwnSession (deps: SessionDeps, userId: number, sessionId: string): Promise<boolean> {
  return (await endSessions(deps, { sessionId, userId })).length > 0
}
