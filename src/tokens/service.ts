import type { Config } from '../config.js'
import type { Db } from '../db/index.js'
import type { RequestLike, SecurityEvent } from '../events/types.js'
import { accessTokenNotValid, noActiveAccountForToken, noUserIdentification, nonFieldErrors, tokenNotValid, userInactive, userNotFound } from '../errors.js'
import { endSessions, isSessionEnded, type SessionDeps } from '../sessions/service.js'
import { createSession } from '../sessions/store.js'
import type { UserStatusLookup } from '../users/status.js'
import type { UserStatus } from '../users/store.js'
import { checkClaims, jtiOf, mintClaims, newJti, TOKEN_BLACKLISTED, TOKEN_INVALID, userIdOf, type TokenType } from './claims.js'
import { blacklistRefreshToken, isBlacklisted, recordRefreshToken, rotateRefreshToken, type RefreshTokenRecord } from './refresh-token-store.js'

// Minting, checking, rotating and blacklisting tokens: SimpleJWT's token
// views as plain functions. Signing and signature checks are given (the jwt
// plugin passes @fastify/jwt's); everything after the signature is here.

export type TokenSettings = Pick<Config, 'accessTokenLifetime' | 'refreshTokenLifetime' | 'rotateRefreshTokens' | 'blacklistAfterRotation' |
'refreshTokenAbsoluteLifetime' | 'refreshTokenReuseInterval'> &
  Partial<Pick<Config, 'jwtLeeway' | 'jwtIssuer' | 'jwtAudience'>>

export interface TokenDeps {
  db: Db
  settings: TokenSettings
  /** Signs claims as they are, keeping their order. */
  sign: (claims: object) => string
  /** Returns the payload of a token whose signature and algorithm are good; throws otherwise. */
  verifySignature: (token: string) => Record<string, unknown>
  /** Seconds since the epoch. */
  now: () => number
  /** Sessions and their revocation on every instance. */
  sessions: SessionDeps
  /** The security event log (refreshes, replays, logouts by token); none: nothing is recorded. */
  events?: { record: (event: SecurityEvent) => void }
}

export interface TokenPair { refresh: string, access: string }

/** A login's pair, with the session it started (for the event log; never sent). */
export interface IssuedPair extends TokenPair { sessionId: string }

const toDate = (seconds: number) => new Date(seconds * 1000)

function recordOf (payload: Record<string, unknown>, userId: number, now: number): RefreshTokenRecord {
  return {
    jti: jtiOf(payload)!,
    userId,
    issuedAt: toDate(typeof payload.iat === 'number' ? payload.iat : now),
    expiresAt: toDate(payload.exp as number)
  }
}

/** Decodes a token and applies SimpleJWT's checks: the payload, or the message of the first problem. */
export function decodeToken (deps: TokenDeps, token: string, expected: TokenType | null): { payload: Record<string, unknown> } | { problem: string } {
  let payload: Record<string, unknown>
  try {
    payload = deps.verifySignature(token)
  } catch {
    return { problem: TOKEN_INVALID }
  }
  const { jwtLeeway = 0, jwtIssuer, jwtAudience } = deps.settings
  const problem = checkClaims(payload, expected, deps.now(), { leeway: jwtLeeway, issuer: jwtIssuer, audience: jwtAudience })
  return problem === null ? { payload } : { problem }
}

function decodeOrThrow (deps: TokenDeps, token: string, expected: TokenType | null): Record<string, unknown> {
  const decoded = decodeToken(deps, token, expected)
  if ('problem' in decoded) throw tokenNotValid(decoded.problem)
  return decoded.payload
}

/** The session id of an access token: the `sid` claim Tessera adds after `user_id` (none in simplejwt's tokens). */
export function sessionIdOf (payload: Record<string, unknown>): string | null {
  return typeof payload.sid === 'string' ? payload.sid : null
}

/** An access token of a session, `sid` after SimpleJWT's claims. */
function accessClaims (deps: TokenDeps, userId: number, now: number, sessionId: string) {
  return { ...mintClaims('access', userId, now, deps.settings.accessTokenLifetime), sid: sessionId }
}

/** Refuses the access token of an ended session (checked after the user's state, as simplejwt checks the user). */
export async function assertSessionLive (deps: TokenDeps, payload: Record<string, unknown>): Promise<void> {
  const sessionId = sessionIdOf(payload)
  if (sessionId !== null && await isSessionEnded(deps.sessions, sessionId)) throw accessTokenNotValid(TOKEN_BLACKLISTED)
}

/**
 * assertSessionLive from memory alone: throws for a session known to have
 * ended, and answers false when only the database can tell (a session this
 * instance has not heard of while its revocation state is not trusted).
 */
export function sessionKnownLive (deps: TokenDeps, payload: Record<string, unknown>): boolean {
  const sessionId = sessionIdOf(payload)
  if (sessionId === null) return true
  const ended = deps.sessions.state.isEnded(sessionId)
  if (ended === true) throw accessTokenNotValid(TOKEN_BLACKLISTED)
  return ended === false
}

/** The access token's claims for a protected route (the user's state is checked by the caller). */
export function authenticateAccessToken (deps: TokenDeps, token: string): { userId: number, payload: Record<string, unknown> } {
  const decoded = decodeToken(deps, token, 'access')
  if ('problem' in decoded) throw accessTokenNotValid(decoded.problem)
  const userId = userIdOf(decoded.payload)
  if (userId === undefined) throw noUserIdentification()
  if (userId === null) throw userNotFound()
  return { userId, payload: decoded.payload }
}

/** Throws user_not_found / user_inactive as simplejwt's JWTAuthentication.get_user does. */
export async function assertUserCanAuthenticate (lookup: UserStatusLookup, userId: number): Promise<void> {
  assertStatusCanAuthenticate(await lookup(userId))
}

/** assertUserCanAuthenticate for a user's state already at hand (undefined: no such user). */
export function assertStatusCanAuthenticate (status: UserStatus | undefined): void {
  if (status === undefined) throw userNotFound()
  if (!status.isActive) throw userInactive()
}

/** Where a login came from, kept with its session for the sessions list. */
export interface ClientInfo { userAgent?: string, ip?: string }

/** A new pair for a user who has just proven who they are: a login, which starts a session. */
export async function issueTokenPair (deps: TokenDeps, userId: number, client: ClientInfo = {}): Promise<IssuedPair> {
  const now = deps.now()
  const { settings } = deps
  const sessionId = newJti()
  const refreshClaims = mintClaims('refresh', userId, now, Math.min(settings.refreshTokenLifetime, settings.refreshTokenAbsoluteLifetime))
  await deps.db.transaction(async tx => {
    await createSession(tx, { id: sessionId, userId, now: toDate(now), absoluteExpiresAt: toDate(now + settings.refreshTokenAbsoluteLifetime), ...client })
    await recordRefreshToken(tx, { ...recordOf(refreshClaims, userId, now), sessionId })
  })
  return { refresh: deps.sign(refreshClaims), access: deps.sign(accessClaims(deps, userId, now, sessionId)), sessionId }
}

/**
 * POST /api/token/refresh/: a new access token, and with rotation a new
 * refresh token of the same session. A token rotated away and presented again
 * after REFRESH_TOKEN_REUSE_INTERVAL is a replay: its whole session ends.
 */
export async function refreshAccessToken (deps: TokenDeps, token: string, request?: RequestLike): Promise<{ access: string, refresh?: string }> {
  const payload = decodeOrThrow(deps, token, 'refresh')
  const userId = userIdOf(payload)
  if (userId == null) throw noActiveAccountForToken()
  const { settings } = deps
  const now = deps.now()
  const nextJti = newJti()
  const rotation = await rotateRefreshToken(deps.db, {
    old: recordOf(payload, userId, now),
    next: settings.rotateRefreshTokens ? { jti: nextJti, lifetime: settings.refreshTokenLifetime } : null,
    blacklistOld: settings.rotateRefreshTokens && settings.blacklistAfterRotation,
    now: toDate(now),
    newSession: { id: newJti(), absoluteLifetime: settings.refreshTokenAbsoluteLifetime }
  })
  if (rotation.outcome === 'blacklisted') {
    const { rotatedAt, sessionId } = rotation
    if (rotatedAt !== null && sessionId !== null && now - rotatedAt.getTime() / 1000 > settings.refreshTokenReuseInterval) {
      await endSessions(deps.sessions, { sessionId })
      deps.events?.record({ type: 'refresh_reuse_detected', userId, sessionId, request, detail: { session_revoked: true } })
    }
    throw tokenNotValid(TOKEN_BLACKLISTED)
  }
  if (rotation.outcome === 'no_active_account') throw noActiveAccountForToken()
  const access = deps.sign(accessClaims(deps, userId, now, rotation.sessionId))
  deps.events?.record({ type: 'token_refreshed', userId, sessionId: rotation.sessionId, request })
  if (rotation.nextExpiresAt === null) return { access }
  const next = { ...mintClaims('refresh', userId, now, settings.refreshTokenLifetime), exp: Math.floor(rotation.nextExpiresAt.getTime() / 1000), jti: nextJti }
  return { access, refresh: deps.sign(next) }
}

/**
 * POST /api/token/verify/: any token type; a blacklisted refresh token is a
 * 400, as in simplejwt, and so is an access token of an ended session.
 */
export async function verifyAnyToken (deps: TokenDeps, token: string): Promise<void> {
  const payload = decodeOrThrow(deps, token, null)
  // Only refresh tokens are ever recorded (simplejwt's OutstandingToken too): an access token's jti
  // is in no row, so its check would be a query per request that always says no.
  if (deps.settings.blacklistAfterRotation && payload.token_type !== 'access' && await isBlacklisted(deps.db, jtiOf(payload)!)) {
    throw nonFieldErrors(TOKEN_BLACKLISTED)
  }
  const sessionId = payload.token_type === 'access' ? sessionIdOf(payload) : null
  if (sessionId !== null && await isSessionEnded(deps.sessions, sessionId)) throw nonFieldErrors(TOKEN_BLACKLISTED)
}

/** POST /api/token/blacklist/: a logout. The token's session ends, its access tokens included. */
export async function blacklistToken (deps: TokenDeps, token: string, request?: RequestLike): Promise<void> {
  const payload = decodeOrThrow(deps, token, 'refresh')
  const now = deps.now()
  const userId = userIdOf(payload)
  // A refresh token naming no user opens nothing: blacklisting it is a no-op.
  if (userId == null) return
  const blacklisted = await blacklistRefreshToken(deps.db, recordOf(payload, userId, now), toDate(now))
  if (blacklisted === false) throw tokenNotValid(TOKEN_BLACKLISTED)
  if (blacklisted.sessionId !== null) await endSessions(deps.sessions, { sessionId: blacklisted.sessionId })
  deps.events?.record({ type: 'logout', userId, sessionId: blacklisted.sessionId, request, detail: { scope: 'local', via: 'blacklist' } })
}
